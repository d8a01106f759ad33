//! My requests: the patron's active ILL requests and loans, then the
//! history. Rendered on the server with its data, then hydrated. Rows are a
//! table on a wide screen and cards on a phone (the same markup; CSS
//! decides; explicit ARIA table roles keep the table a table for screen
//! readers when a phone's CSS lays the rows out as cards).

use leptos::prelude::*;

use crate::api::my::{ActionResult, CancelRequest, LoanRow, MyRequests, RenewLoan, RequestRow};
use crate::components::page::PageTitle;
use crate::components::post_button::PostButton;
use crate::domain::date::format_date;
use crate::i18n::{t, t_args};
use crate::site::{tr, use_i18n};
use crate::viewer::use_viewer;

/// A message after an action: what happened, announced politely, or a
/// failure, announced at once.
#[derive(Clone, Debug, PartialEq)]
struct Notice {
    ok: bool,
    text: String,
}

/// What a cancel or renewal says.
fn notice_of(lang: crate::i18n::Lang, r: ActionResult) -> Notice {
    let due = r.due.map(|d| format_date(lang, d)).unwrap_or_default();
    Notice {
        ok: r.ok,
        text: t_args(lang, &r.message_key, &[("due", &due)]),
    }
}

#[island]
pub fn MyRequestsPage() -> impl IntoView {
    if use_viewer().is_none() {
        return view! { <super::coming::SignInNeeded title="page.my.title" path="/my"/> }
            .into_any();
    }
    let i18n = use_i18n();
    // From the library system's copy at once; a stale copy is asked for
    // again once, and the lists update when the answer comes.
    let fresh = RwSignal::new(false);
    let data = Resource::new(move || fresh.get(), crate::api::my::load_my_requests);
    Effect::new(move |_| {
        if !fresh.get_untracked() && data.with(|d| matches!(d, Some(Ok(my)) if my.stale)) {
            fresh.set(true);
        }
    });
    let cancel = ServerAction::<CancelRequest>::new();
    let renew = ServerAction::<RenewLoan>::new();
    // A cancel or renewal sent without JavaScript comes back with its
    // result in the URL (`api::my::ActionResult::query`).
    let from_url = ActionResult::from_query(&crate::page_url::page_query());
    let notice = RwSignal::new(from_url.map(|r| notice_of(i18n.lang(), r)));

    let on_result = move |result: Option<Result<ActionResult, ServerFnError>>| {
        let Some(result) = result else { return };
        let lang = i18n.lang();
        notice.set(Some(match result {
            Ok(r) => notice_of(lang, r),
            Err(_) => Notice {
                ok: false,
                text: t(lang, "my.error.action"),
            },
        }));
        data.refetch();
    };
    Effect::new(move |_| on_result(cancel.value().get()));
    Effect::new(move |_| on_result(renew.value().get()));

    view! {
        <PageTitle key="page.my.title"/>
        <p class="my__actions-top"><a class="button" href="/request">{tr("my.new_request")}</a></p>
        <div class="notice-area">
            <p role="status" class="notice notice--ok" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| n.ok))>
                {move || notice.get().filter(|n| n.ok).map(|n| n.text)}
            </p>
            <p role="alert" class="notice notice--error" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| !n.ok))>
                {move || notice.get().filter(|n| !n.ok).map(|n| n.text)}
            </p>
        </div>
        <Suspense fallback=move || view! { <p role="status">{tr("my.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(my) => view! { <MyLists my cancel renew/> }.into_any(),
                    Err(_) => view! {
                        <div class="notice notice--error" role="alert">
                            <p>{tr("my.error.load")}</p>
                            <p><a href="/my" rel="external">{tr("error.retry")}</a></p>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn MyLists(
    my: MyRequests,
    cancel: ServerAction<CancelRequest>,
    renew: ServerAction<RenewLoan>,
) -> impl IntoView {
    let MyRequests {
        received,
        active,
        history,
        loans,
        age_minutes,
        stale,
        unreachable,
    } = my;
    let i18n = use_i18n();
    let minutes = age_minutes.unwrap_or(0).to_string();
    let freshness = stale.then(|| {
        let lang = i18n.lang();
        let (key, class) = if unreachable {
            ("my.freshness.unreachable", "notice notice--error")
        } else {
            ("my.freshness.updated", "notice")
        };
        view! { <p role="status" class=class>{t_args(lang, key, &[("minutes", &minutes)])}</p> }
    });
    let active_view = match active {
        Ok(rows) if rows.is_empty() && received.is_empty() => {
            view! { <p>{tr("my.active.empty")}</p> }.into_any()
        }
        Ok(rows) => {
            let rows: Vec<RequestRow> = received.into_iter().chain(rows).collect();
            view! { <RequestTable rows cancel caption="my.active.title"/> }.into_any()
        }
        // What Kauko holds is shown even when the library system is down.
        Err(key) if !received.is_empty() => view! {
            <Failure key/>
            <RequestTable rows=received cancel caption="my.active.title"/>
        }
        .into_any(),
        Err(key) => view! { <Failure key/> }.into_any(),
    };
    view! {
        {freshness}
        <section aria-labelledby="active-title" class="my-section">
            <h2 id="active-title">{tr("my.active.title")}</h2>
            {active_view}
        </section>
        <section aria-labelledby="loans-title" class="my-section">
            <h2 id="loans-title">{tr("my.loans.title")}</h2>
            {match loans {
                Ok(rows) if rows.is_empty() => view! { <p>{tr("my.loans.empty")}</p> }.into_any(),
                Ok(rows) => view! { <LoanTable rows renew/> }.into_any(),
                Err(key) => view! { <Failure key/> }.into_any(),
            }}
        </section>
        <section aria-labelledby="history-title" class="my-section">
            <h2 id="history-title">{tr("my.history.title")}</h2>
            {match history {
                Ok(rows) if rows.is_empty() => view! { <p>{tr("my.history.empty")}</p> }.into_any(),
                Ok(rows) => view! { <RequestTable rows cancel caption="my.history.title"/> }.into_any(),
                // The active list already said why.
                Err(_) => ().into_any(),
            }}
        </section>
    }
}

#[component]
fn Failure(key: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="notice notice--error" role="alert">
            <p>{move || t(i18n.lang(), &key)}</p>
            <p><a href="/my" rel="external">{tr("error.retry")}</a></p>
        </div>
    }
}

#[component]
fn RequestTable(
    rows: Vec<RequestRow>,
    cancel: ServerAction<CancelRequest>,
    caption: &'static str,
) -> impl IntoView {
    view! {
        <table class="rows" role="table">
            <caption class="visually-hidden">{tr(caption)}</caption>
            <thead role="rowgroup">
                <tr role="row">
                    <th scope="col" role="columnheader">{tr("my.col.title")}</th>
                    <th scope="col" role="columnheader">{tr("my.col.status")}</th>
                    <th scope="col" role="columnheader">{tr("my.col.requested")}</th>
                    <th scope="col" role="columnheader">{tr("my.col.delivery")}</th>
                    <th scope="col" role="columnheader">{tr("my.col.actions")}</th>
                </tr>
            </thead>
            <tbody role="rowgroup">
                {rows.into_iter().map(|row| view! { <RequestRowView row cancel/> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn RequestRowView(row: RequestRow, cancel: ServerAction<CancelRequest>) -> impl IntoView {
    let i18n = use_i18n();
    // Without JavaScript, "Cancel request" opens `/my?cancel={id}`, which
    // shows the question for that row.
    let asked = crate::page_url::page_query()
        .trim_start_matches('?')
        .split('&')
        .any(|pair| pair == format!("cancel={}", row.id));
    let confirming = RwSignal::new(asked && row.cancellable);
    let status_key = if row.not_forwarded {
        "my.status.not_forwarded"
    } else if row.received {
        "my.status.received"
    } else {
        row.status.label_key()
    };
    let status_class = if row.not_forwarded {
        "status status--not-forwarded"
    } else if row.received {
        "status status--received"
    } else {
        row.status.css_class()
    };
    let kind_key = row.kind.map(|k| k.label_key());
    let requested = row.requested;
    let delivery = {
        let pickup = row.pickup_location.clone();
        move || match &pickup {
            Some(code) => t_args(
                i18n.lang(),
                "my.pickup_at",
                &[("place", &i18n.pickup_name(code))],
            ),
            None => t(i18n.lang(), "my.delivery.digital"),
        }
    };
    let id = row.id.clone();
    let title_id = format!("req-{}", row.id);
    let pending = cancel.pending();
    let action = if row.cancellable {
        let id = id.clone();
        let title_id = title_id.clone();
        view! {
            <Show
                when=move || confirming.get()
                fallback={
                    let id = id.clone();
                    move || view! {
                        <form method="get" action="/my" class="inline-form">
                            <input type="hidden" name="cancel" value=id.clone()/>
                            <button type="submit" class="button button--secondary" aria-describedby=title_id.clone()
                                on:click=move |ev| { ev.prevent_default(); confirming.set(true) }>
                                {tr("my.cancel")}
                            </button>
                        </form>
                    }
                }
            >
                <p class="confirm-text">{tr("my.cancel.confirm")}</p>
                <PostButton action="/api/me/cancel" id=id.clone() class="button button--danger" disabled=pending
                    on_press={
                        let id = id.clone();
                        Callback::new(move |_| {
                            cancel.dispatch(CancelRequest { id: id.clone() });
                            confirming.set(false);
                        })
                    }>
                    {tr("my.cancel.yes")}
                </PostButton>
                " "
                <form method="get" action="/my" class="inline-form">
                    <button type="submit" class="button button--secondary"
                        on:click=move |ev| { ev.prevent_default(); confirming.set(false) }>
                        {tr("my.cancel.no")}
                    </button>
                </form>
            </Show>
        }
        .into_any()
    } else if let Some(key) = row.not_cancellable_key.clone() {
        view! { <p class="why-not">{move || t(i18n.lang(), &key)}</p> }.into_any()
    } else {
        ().into_any()
    };
    view! {
        <tr role="row" data-request-id=id>
            <td role="cell" data-label=move || t(i18n.lang(), "my.col.title")>
                {if row.received {
                    view! { <span class="row-title" id=title_id>{row.title.clone()}</span> }.into_any()
                } else {
                    view! { <a class="row-title" id=title_id href=format!("/my/{}", row.id)>{row.title.clone()}</a> }.into_any()
                }}
                {kind_key.map(|k| view! { <span class="row-meta">{tr(k)}</span> })}
                {row.authors.clone().map(|a| view! { <span class="row-meta">{a}</span> })}
            </td>
            <td role="cell" data-label=move || t(i18n.lang(), "my.col.status")>
                <span class=status_class>{tr(status_key)}</span>
            </td>
            <td role="cell" data-label=move || t(i18n.lang(), "my.col.requested")>
                {move || format_date(i18n.lang(), requested)}
            </td>
            <td role="cell" data-label=move || t(i18n.lang(), "my.col.delivery")>{delivery}</td>
            <td role="cell" data-label=move || t(i18n.lang(), "my.col.actions")>{action}</td>
        </tr>
    }
}

#[component]
fn LoanTable(rows: Vec<LoanRow>, renew: ServerAction<RenewLoan>) -> impl IntoView {
    let i18n = use_i18n();
    let pending = renew.pending();
    view! {
        <table class="rows" role="table">
            <caption class="visually-hidden">{tr("my.loans.title")}</caption>
            <thead role="rowgroup">
                <tr role="row">
                    <th scope="col" role="columnheader">{tr("my.col.title")}</th>
                    <th scope="col" role="columnheader">{tr("my.col.due")}</th>
                    <th scope="col" role="columnheader">{tr("my.col.loaned")}</th>
                    <th scope="col" role="columnheader">{tr("my.col.actions")}</th>
                </tr>
            </thead>
            <tbody role="rowgroup">
                {rows
                    .into_iter()
                    .map(|row| {
                        let due = row.due;
                        let loaned = row.loaned;
                        let title_id = format!("loan-{}", row.id);
                        let action = if row.renewable {
                            let id = row.id.clone();
                            let title_id = title_id.clone();
                            view! {
                                <PostButton action="/api/me/renew" id=id.clone() class="button button--secondary"
                                    describedby=title_id disabled=pending
                                    on_press=Callback::new(move |_| { renew.dispatch(RenewLoan { id: id.clone() }); })>
                                    {tr("my.renew")}
                                </PostButton>
                            }
                            .into_any()
                        } else {
                            let key = row.not_renewable_key.clone().unwrap_or_default();
                            view! { <p class="why-not">{move || t(i18n.lang(), &key)}</p> }.into_any()
                        };
                        view! {
                            <tr role="row" data-loan-id=row.id.clone()>
                                <td role="cell" data-label=move || t(i18n.lang(), "my.col.title")>
                                    <span class="row-title" id=title_id>{row.title.clone()}</span>
                                    {row.author.clone().map(|a| view! { <span class="row-meta">{a}</span> })}
                                </td>
                                <td role="cell" data-label=move || t(i18n.lang(), "my.col.due")>
                                    <strong>{move || format_date(i18n.lang(), due)}</strong>
                                    {row.overdue.then(|| view! { <span class="status status--overdue">{tr("status.overdue")}</span> })}
                                </td>
                                <td role="cell" data-label=move || t(i18n.lang(), "my.col.loaned")>{move || format_date(i18n.lang(), loaned)}</td>
                                <td role="cell" data-label=move || t(i18n.lang(), "my.col.actions")>{action}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
