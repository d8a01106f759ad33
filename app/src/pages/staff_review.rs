//! `/staff/lending-review`: lending requests from libraries that are not
//! known partners. Staff accept one as coming from a partner (it is then
//! delivered through the outbox) or reject it with a reason.

use leptos::prelude::*;

use crate::api::lend::{lending_held, LendingAccept, LendingReject};
use crate::components::page::PageTitle;
use crate::i18n::{t, t_args};
use crate::outbox::HeldLendingRequest;
use crate::pages::coming::StaffOnly;
use crate::site::{tr, use_i18n};

/// The page, for staff only (the server functions answer 403 to patrons).
#[island(lazy)]
pub fn StaffReviewPage() -> impl IntoView {
    view! { <StaffOnly title="review.title" path="/staff/lending-review"><ReviewTool/></StaffOnly> }
}

#[component]
fn ReviewTool() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| lending_held());
    let accept = ServerAction::<LendingAccept>::new();
    let reject = ServerAction::<LendingReject>::new();
    let notice = RwSignal::new(None::<(bool, String)>);
    let on_result = move |result: Option<Result<Option<String>, ServerFnError>>,
                          ok_key: &'static str| {
        let Some(result) = result else { return };
        let lang = i18n.lang();
        notice.set(Some(match result {
            Ok(None) => (true, t(lang, ok_key)),
            Ok(Some(key)) => (false, t(lang, &key)),
            Err(_) => (false, t(lang, "review.error.failed")),
        }));
        data.refetch();
    };
    Effect::new(move |_| on_result(accept.value().get(), "review.accepted"));
    Effect::new(move |_| on_result(reject.value().get(), "review.rejected"));
    view! {
        <PageTitle key="review.title"/>
        <p class="lead">{tr("review.lead")}</p>
        <p role="status" class="notice notice--ok" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| n.0))>
            {move || notice.get().filter(|n| n.0).map(|n| n.1)}
        </p>
        <p role="alert" class="notice notice--error" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| !n.0))>
            {move || notice.get().filter(|n| !n.0).map(|n| n.1)}
        </p>
        <Suspense fallback=move || view! { <p role="status">{tr("outbox.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(rows) if rows.is_empty() => view! { <p>{tr("review.empty")}</p> }.into_any(),
                    Ok(rows) => view! {
                        <ul class="review-list">
                            {rows.into_iter().map(|held| view! { <HeldItem held accept reject/> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(_) => view! { <p class="notice notice--error" role="alert">{tr("outbox.error")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn HeldItem(
    held: HeldLendingRequest,
    accept: ServerAction<LendingAccept>,
    reject: ServerAction<LendingReject>,
) -> impl IntoView {
    let i18n = use_i18n();
    let HeldLendingRequest { entry, request } = held;
    let id = entry.id.clone();
    // Prefilled with the partner the request was matched to, if any.
    let code = RwSignal::new(entry.hold_partner.clone().unwrap_or_default());
    let reason_key = entry
        .hold_reason
        .clone()
        .filter(|k| crate::domain::lending_intake::HoldReason::from_key(k).is_some())
        .unwrap_or_else(|| "review.reason.unknown_library".into());
    let matched = entry.hold_partner.clone();
    let reason = RwSignal::new(String::new());
    let code_id = format!("code-{}", entry.reference);
    let reason_id = format!("reason-{}", entry.reference);
    let heading_id = format!("held-{}", entry.reference);
    let service_key = match request.service {
        crate::domain::ServiceType::Loan => "lend.service.loan",
        crate::domain::ServiceType::Copy => "lend.service.copy",
    };
    let given = request.partner_code.clone();
    let accept_id = id.clone();
    let reject_id = id;
    view! {
        <li class="card review-item">
            <h2 id=heading_id>{request.citation.title.clone()}</h2>
            <dl class="review-item__details">
                <dt>{tr("outbox.col.reference")}</dt><dd>{entry.reference.clone()}</dd>
                <dt>{tr("review.held_because")}</dt><dd class="review-item__reason">{move || t(i18n.lang(), &reason_key)}</dd>
                {matched.map(|m| view! { <dt>{tr("review.matched_partner")}</dt><dd>{m}</dd> })}
                <dt>{tr("lend.field.library_name")}</dt><dd>{request.requester.library_name.clone()}</dd>
                <dt>{tr("lend.field.library_id")}</dt><dd>{if given.is_empty() { "–".to_owned() } else { given }}</dd>
                <dt>{tr("lend.field.contact_name")}</dt><dd>{request.requester.contact_name.clone().unwrap_or_else(|| "–".into())}</dd>
                <dt>{tr("lend.field.email")}</dt><dd>{request.requester.email.clone()}</dd>
                <dt>{tr("lend.service.type")}</dt><dd>{tr(service_key)}</dd>
                <dt>{tr("lend.field.delivery_address")}</dt><dd>{request.delivery_address.clone().unwrap_or_default()}</dd>
                <dt>{tr("lend.field.note")}</dt><dd>{request.note.clone().unwrap_or_else(|| "–".into())}</dd>
            </dl>
            <form class="review-item__form" on:submit=move |ev| {
                ev.prevent_default();
                accept.dispatch(LendingAccept { id: accept_id.clone(), partner_code: code.get_untracked() });
            }>
                <label for=code_id.clone()>{tr("review.partner_code")}</label>
                <input id=code_id type="text" autocomplete="off" required
                    prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
                <button type="submit" class="button">{tr("review.accept")}</button>
            </form>
            <form class="review-item__form" on:submit=move |ev| {
                ev.prevent_default();
                reject.dispatch(LendingReject { id: reject_id.clone(), reason: reason.get_untracked() });
            }>
                <label for=reason_id.clone()>{tr("review.reason")}</label>
                <input id=reason_id type="text" autocomplete="off" required
                    prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                <button type="submit" class="button button--secondary">
                    {move || t_args(i18n.lang(), "review.reject", &[])}
                </button>
            </form>
        </li>
    }
    .into_any()
}
