//! `/my/<request>`: one request's page for the patron: what was asked, its
//! status, its history in the patron's words (fi/sv/en), what happens next,
//! the notes staff addressed to them, and what they may do (cancel a
//! request staff have not started, ask to renew the loan).

use leptos::prelude::*;

use crate::api::my::{load_my_request, MyRequest};
use crate::components::page::PageTitle;
use crate::components::post_button::PostButton;
use crate::domain::date::{format_date, parse_ymd};
use crate::i18n::{t, t_args};
use crate::site::{tr, use_i18n};
use crate::viewer::use_viewer;

/// Rendered on the server only, like My requests (`super::my`): cancel and
/// renew are forms that come back here with their result.
#[component]
pub fn MyRequestPage() -> impl IntoView {
    if use_viewer().is_none() {
        return view! { <super::coming::SignInNeeded title="myreq.title" path="/my"/> }.into_any();
    }
    let id = crate::page_url::path_tail();
    view! {
        <PageTitle key="myreq.title"/>
        <p><a href="/my">{tr("myreq.back")}</a></p>
        <super::my::ActionNotice/>
        <Suspense fallback=move || view! { <p role="status">{tr("my.loading")}</p> }>
            {move || {
                let id = id.clone();
                Suspend::new(async move {
                    match load_my_request(id).await {
                        Ok(r) => view! { <RequestView r/> }.into_any(),
                        Err(_) => view! {
                            <p class="notice notice--error" role="alert">{tr("myreq.not_found")}</p>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}

#[component]
fn RequestView(r: MyRequest) -> impl IntoView {
    let lang = use_i18n().lang();
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
        view! {
            <PostButton action="/api/me/cancel" id=id.clone() class="button button--danger">
                {tr("my.cancel")}
            </PostButton>
        }
    });
    let loan_view = loan.map(|l| {
        let due = l.due;
        let renew_part = if l.renewable {
            view! {
                <PostButton action="/api/me/renew" id=l.id.clone() class="button button--secondary">
                    {tr("my.renew")}
                </PostButton>
            }
            .into_any()
        } else {
            let key = l.not_renewable_key.clone().unwrap_or_default();
            view! { <p class="why-not">{t(lang, &key)}</p> }.into_any()
        };
        view! {
            <section aria-labelledby="myreq-loan">
                <h2 id="myreq-loan">{tr("my.loans.title")}</h2>
                <p>{tr("my.col.due")}": "<strong>{format_date(lang, due)}</strong></p>
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
            <p class="next">{t(lang, &next_key)}</p>
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
                            view! {
                                <li class="timeline__step">
                                    <span class="timeline__date">
                                        {date.map(|d| format_date(lang, d)).unwrap_or_default()}
                                    </span>
                                    " "
                                    <span class="timeline__what">{t(lang, &step.key)}</span>
                                    {due.map(|d| view! {
                                        " "<span class="timeline__due">
                                            {t_args(lang, "timeline.due", &[("due", &format_date(lang, d))])}
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
                                            {date.map(|d| format_date(lang, d)).unwrap_or_default()}
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
