//! `/my/<request>`: one request's page for the patron: what was asked, its
//! status, its history in the patron's words (fi/sv/en), what happens next,
//! the notes staff addressed to them, and what they may do (cancel a
//! request staff have not started, ask to renew the loan).

use leptos::prelude::*;

use crate::api::my::{load_my_request, ActionResult, CancelRequest, MyRequest, RenewLoan};
use crate::components::page::PageTitle;
use crate::components::post_button::PostButton;
use crate::domain::date::{format_date, parse_ymd};
use crate::i18n::{t, t_args};
use crate::site::{tr, use_i18n};
use crate::viewer::use_viewer;

#[island]
pub fn MyRequestPage() -> impl IntoView {
    if use_viewer().is_none() {
        return view! { <super::coming::SignInNeeded title="myreq.title" path="/my"/> }.into_any();
    }
    let i18n = use_i18n();
    let tail = StoredValue::new(crate::page_url::path_tail());
    let id = move || tail.get_value();
    let data = Resource::new(id, load_my_request);
    let cancel = ServerAction::<CancelRequest>::new();
    let renew = ServerAction::<RenewLoan>::new();
    // A cancel or renewal sent without JavaScript comes back with its
    // result in the URL.
    let notice = RwSignal::new(
        ActionResult::from_query(&crate::page_url::page_query()).map(|r| {
            let due = r
                .due
                .map(|d| format_date(i18n.lang(), d))
                .unwrap_or_default();
            (r.ok, t_args(i18n.lang(), &r.message_key, &[("due", &due)]))
        }),
    );
    let on_result = move |result: Option<Result<ActionResult, ServerFnError>>| {
        let Some(result) = result else { return };
        let lang = i18n.lang();
        notice.set(Some(match result {
            Ok(r) => {
                let due = r.due.map(|d| format_date(lang, d)).unwrap_or_default();
                (r.ok, t_args(lang, &r.message_key, &[("due", &due)]))
            }
            Err(_) => (false, t(lang, "my.error.action")),
        }));
        data.refetch();
    };
    Effect::new(move |_| on_result(cancel.value().get()));
    Effect::new(move |_| on_result(renew.value().get()));
    view! {
        <PageTitle key="myreq.title"/>
        <p><a href="/my">{tr("myreq.back")}</a></p>
        <div class="notice-area">
            <p role="status" class="notice notice--ok" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| n.0))>
                {move || notice.get().filter(|n| n.0).map(|n| n.1)}
            </p>
            <p role="alert" class="notice notice--error" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| !n.0))>
                {move || notice.get().filter(|n| !n.0).map(|n| n.1)}
            </p>
        </div>
        <Suspense fallback=move || view! { <p role="status">{tr("my.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => view! { <RequestView r cancel renew/> }.into_any(),
                    Err(_) => view! {
                        <p class="notice notice--error" role="alert">{tr("myreq.not_found")}</p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn RequestView(
    r: MyRequest,
    cancel: ServerAction<CancelRequest>,
    renew: ServerAction<RenewLoan>,
) -> impl IntoView {
    let i18n = use_i18n();
    let MyRequest {
        row,
        citation,
        timeline,
        next_key,
        loan,
        letters,
    } = r;
    let status_key = row.status.label_key();
    let status_class = row.status.css_class();
    let id = row.id.clone();
    let cancel_button = row.cancellable.then(|| {
        let id = id.clone();
        view! {
            <PostButton action="/api/me/cancel" id=id.clone() class="button button--danger"
                disabled=cancel.pending()
                on_press=Callback::new(move |_| { cancel.dispatch(CancelRequest { id: id.clone() }); })>
                {tr("my.cancel")}
            </PostButton>
        }
    });
    let loan_view = loan.map(|l| {
        let due = l.due;
        let renew_part = if l.renewable {
            let loan_id = l.id.clone();
            view! {
                <PostButton action="/api/me/renew" id=loan_id.clone() class="button button--secondary"
                    disabled=renew.pending()
                    on_press=Callback::new(move |_| { renew.dispatch(RenewLoan { id: loan_id.clone() }); })>
                    {tr("my.renew")}
                </PostButton>
            }
            .into_any()
        } else {
            let key = l.not_renewable_key.clone().unwrap_or_default();
            view! { <p class="why-not">{move || t(i18n.lang(), &key)}</p> }.into_any()
        };
        view! {
            <section aria-labelledby="myreq-loan">
                <h2 id="myreq-loan">{tr("my.loans.title")}</h2>
                <p>{tr("my.col.due")}": "<strong>{move || format_date(i18n.lang(), due)}</strong></p>
                {renew_part}
            </section>
        }
    });
    let details = [
        ("request.field.container", citation.container_title.clone()),
        (
            "request.field.authors",
            (!citation.authors.is_empty()).then(|| citation.authors.join("; ")),
        ),
        ("request.field.year", citation.year.clone()),
        ("request.field.doi", citation.doi.clone()),
        ("request.field.isbn", citation.isbn.clone()),
    ];
    view! {
        <article class="request-page" data-request-id=id>
            <h2 class="request-page__title">{citation.title.clone()}</h2>
            <dl class="facts">
                {details
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| view! { <dt>{tr(k)}</dt><dd>{v}</dd> }))
                    .collect_view()}
                <dt>{tr("my.col.status")}</dt>
                <dd><span class=status_class>{tr(status_key)}</span></dd>
            </dl>
            <p class="next">{move || t(i18n.lang(), &next_key)}</p>
            {cancel_button}
            {loan_view}
            <section aria-labelledby="myreq-timeline">
                <h2 id="myreq-timeline">{tr("myreq.timeline")}</h2>
                <ol class="timeline">
                    {timeline
                        .into_iter()
                        .map(|step| {
                            let date = parse_ymd(&step.date);
                            let due = step.due.as_deref().and_then(parse_ymd);
                            let key = step.key.clone();
                            view! {
                                <li class="timeline__step">
                                    <span class="timeline__date">
                                        {move || date.map(|d| format_date(i18n.lang(), d)).unwrap_or_default()}
                                    </span>
                                    " "
                                    <span class="timeline__what">{move || t(i18n.lang(), &key)}</span>
                                    {due.map(|d| view! {
                                        " "<span class="timeline__due">
                                            {move || t_args(i18n.lang(), "timeline.due", &[("due", &format_date(i18n.lang(), d))])}
                                        </span>
                                    })}
                                    {step.note.map(|n| view! { <blockquote class="timeline__note">{n}</blockquote> })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </section>
            {(!letters.is_empty()).then(|| view! {
                <section aria-labelledby="myreq-letters">
                    <h2 id="myreq-letters">{tr("myreq.letters")}</h2>
                    <ul class="letters">
                        {letters.into_iter().map(|l| {
                            let date = parse_ymd(l.sent_at.get(..10).unwrap_or(""));
                            view! {
                                <li>
                                    <details>
                                        <summary>
                                            {move || date.map(|d| format_date(i18n.lang(), d)).unwrap_or_default()}
                                            ": "{l.subject}
                                        </summary>
                                        <pre class="letter__text">{l.text}</pre>
                                    </details>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            })}
        </article>
    }
}
