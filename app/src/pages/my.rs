//! My requests: the patron's active ILL requests and loans, then the
//! history. Rendered on the server only: the page carries no WebAssembly,
//! so it is quick on a phone. Cancel and renew are small forms posted to
//! their server functions, which answer with this page again and the
//! result in its address (`ActionResult::query`); cancelling asks first,
//! through `/my?cancel=<id>`. Rows are a table on a wide screen and cards
//! on a phone (the same markup; CSS decides; explicit ARIA table roles keep
//! the table a table for screen readers when a phone's CSS lays the rows
//! out as cards).
//!
//! On Alma the lists come from Kauko's mirror at once; when that copy is
//! stale the page says how old it is, and a few lines of script
//! (`my_refresh.js`) load the page again with a fresh copy and put its
//! lists in place of these.

use leptos::prelude::*;

use crate::api::my::{load_my_requests, ActionResult, LoanRow, MyRequests, RequestRow};
use crate::components::page::PageTitle;
use crate::components::post_button::PostButton;
use crate::domain::date::format_date;
use crate::i18n::{t, t_args};
use crate::site::{tr, use_i18n};
use crate::viewer::use_viewer;

#[component]
pub fn MyRequestsPage() -> impl IntoView {
    if use_viewer().is_none() {
        return view! { <super::coming::SignInNeeded title="page.my.title" path="/my"/> }
            .into_any();
    }
    let query = crate::page_url::query_map();
    let fresh = query.get_str("fresh") == Some("1");
    // The row whose cancel button was pressed: it asks to confirm.
    let asking = query.get("cancel");
    view! {
        <PageTitle key="page.my.title"/>
        <p class="my__actions-top"><a class="button" href="/request">{tr("my.new_request")}</a></p>
        <ActionNotice/>
        <Suspense fallback=move || view! { <p role="status">{tr("my.loading")}</p> }>
            {move || {
                let asking = asking.clone();
                Suspend::new(async move {
                    match load_my_requests(fresh).await {
                        Ok(my) => view! { <MyLists my asking/> }.into_any(),
                        Err(_) => view! { <Failure key="my.error.load".to_owned()/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}

/// What a cancel or renewal just did: its result comes back in the page's
/// address. Focused when the page loads, so a screen reader reads it out.
#[component]
pub(crate) fn ActionNotice() -> impl IntoView {
    let lang = use_i18n().lang();
    ActionResult::from_query(&crate::page_url::page_query()).map(|r| {
        let due = r.due.map(|d| format_date(lang, d)).unwrap_or_default();
        let text = t_args(lang, &r.message_key, &[("due", &due)]);
        if r.ok {
            view! { <p role="status" class="notice notice--ok" tabindex="-1" autofocus>{text}</p> }
                .into_any()
        } else {
            view! { <p role="alert" class="notice notice--error" tabindex="-1" autofocus>{text}</p> }
                .into_any()
        }
    })
}

#[component]
fn MyLists(my: MyRequests, asking: Option<String>) -> impl IntoView {
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
    let lang = i18n.lang();
    let minutes = age_minutes.unwrap_or(0).to_string();
    let freshness = stale.then(|| {
        let (key, class) = if unreachable {
            ("my.freshness.unreachable", "notice notice--error")
        } else {
            ("my.freshness.updated", "notice")
        };
        view! { <p role="status" class=class>{t_args(lang, key, &[("minutes", &minutes)])}</p> }
    });
    // A stale copy is asked for again, once, by the script below.
    let refresh = stale.then(|| format!("/my?fresh=1&lang={}", lang.code()));
    let script = stale.then(|| {
        let nonce = leptos::nonce::use_nonce();
        view! {
            <p id="my-refreshed" role="status" class="visually-hidden" data-text=t(lang, "my.freshness.done")></p>
            <script nonce=nonce>{include_str!("my_refresh.js")}</script>
        }
    });
    let asking = asking.as_deref();
    let active_view = match active {
        Ok(rows) if rows.is_empty() && received.is_empty() => {
            view! { <p>{tr("my.active.empty")}</p> }.into_any()
        }
        Ok(rows) => {
            let rows: Vec<RequestRow> = received.into_iter().chain(rows).collect();
            request_table(rows, "my.active.title", asking)
        }
        // What Kauko holds is shown even when the library system is down.
        Err(key) if !received.is_empty() => view! {
            <Failure key/>
            {request_table(received, "my.active.title", asking)}
        }
        .into_any(),
        Err(key) => view! { <Failure key/> }.into_any(),
    };
    let history_view = match history {
        Ok(rows) if rows.is_empty() => view! { <p>{tr("my.history.empty")}</p> }.into_any(),
        Ok(rows) => request_table(rows, "my.history.title", asking),
        // The active list already said why.
        Err(_) => ().into_any(),
    };
    view! {
        <div id="my-lists" data-refresh=refresh>
            {freshness}
            <section aria-labelledby="active-title" class="my-section">
                <h2 id="active-title">{tr("my.active.title")}</h2>
                {active_view}
            </section>
            <section aria-labelledby="loans-title" class="my-section">
                <h2 id="loans-title">{tr("my.loans.title")}</h2>
                {match loans {
                    Ok(rows) if rows.is_empty() => view! { <p>{tr("my.loans.empty")}</p> }.into_any(),
                    Ok(rows) => view! { <LoanTable rows/> }.into_any(),
                    Err(key) => view! { <Failure key/> }.into_any(),
                }}
            </section>
            <section aria-labelledby="history-title" class="my-section">
                <h2 id="history-title">{tr("my.history.title")}</h2>
                {history_view}
            </section>
        </div>
        {script}
    }
}

#[component]
fn Failure(key: String) -> impl IntoView {
    let lang = use_i18n().lang();
    view! {
        <div class="notice notice--error" role="alert">
            <p>{t(lang, &key)}</p>
            <p><a href="/my">{tr("error.retry")}</a></p>
        </div>
    }
}

fn request_table(rows: Vec<RequestRow>, caption: &'static str, asking: Option<&str>) -> AnyView {
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
                {rows
                    .into_iter()
                    .map(|row| {
                        let confirming = row.cancellable && asking == Some(row.id.as_str());
                        view! { <RequestRowView row confirming/> }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RequestRowView(row: RequestRow, confirming: bool) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang();
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
    let delivery = match &row.pickup_location {
        Some(code) => t_args(lang, "my.pickup_at", &[("place", &i18n.pickup_name(code))]),
        None => t(lang, "my.delivery.digital"),
    };
    let id = row.id.clone();
    let title_id = format!("req-{}", row.id);
    let action = if row.cancellable && confirming {
        view! {
            <p class="confirm-text" tabindex="-1" autofocus>{tr("my.cancel.confirm")}</p>
            <PostButton action="/api/me/cancel" id=id.clone() class="button button--danger" describedby=title_id.clone()>
                {tr("my.cancel.yes")}
            </PostButton>
            " "
            <a class="button button--secondary" href="/my">{tr("my.cancel.no")}</a>
        }
        .into_any()
    } else if row.cancellable {
        view! {
            <form method="get" action="/my" class="inline-form">
                <input type="hidden" name="cancel" value=id.clone()/>
                <button type="submit" class="button button--secondary" aria-describedby=title_id.clone()>
                    {tr("my.cancel")}
                </button>
            </form>
        }
        .into_any()
    } else if let Some(key) = row.not_cancellable_key.clone() {
        view! { <p class="why-not">{t(lang, &key)}</p> }.into_any()
    } else {
        ().into_any()
    };
    let label = move |key| t(lang, key);
    view! {
        <tr role="row" data-request-id=id>
            <td role="cell" data-label=label("my.col.title")>
                {if row.received {
                    view! { <span class="row-title" id=title_id>{row.title.clone()}</span> }.into_any()
                } else {
                    view! { <a class="row-title" id=title_id href=format!("/my/{}", row.id)>{row.title.clone()}</a> }.into_any()
                }}
                {row.kind.map(|k| view! { <span class="row-meta">{tr(k.label_key())}</span> })}
                {row.authors.clone().map(|a| view! { <span class="row-meta">{a}</span> })}
            </td>
            <td role="cell" data-label=label("my.col.status")>
                <span class=status_class>{tr(status_key)}</span>
            </td>
            <td role="cell" data-label=label("my.col.requested")>{format_date(lang, row.requested)}</td>
            <td role="cell" data-label=label("my.col.delivery")>{delivery}</td>
            <td role="cell" data-label=label("my.col.actions")>{action}</td>
        </tr>
    }
}

#[component]
fn LoanTable(rows: Vec<LoanRow>) -> impl IntoView {
    let lang = use_i18n().lang();
    let label = move |key| t(lang, key);
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
                        let title_id = format!("loan-{}", row.id);
                        let action = if row.renewable {
                            view! {
                                <PostButton action="/api/me/renew" id=row.id.clone() class="button button--secondary"
                                    describedby=title_id.clone()>
                                    {tr("my.renew")}
                                </PostButton>
                            }
                            .into_any()
                        } else {
                            let key = row.not_renewable_key.clone().unwrap_or_default();
                            view! { <p class="why-not">{t(lang, &key)}</p> }.into_any()
                        };
                        view! {
                            <tr role="row" data-loan-id=row.id.clone()>
                                <td role="cell" data-label=label("my.col.title")>
                                    <span class="row-title" id=title_id>{row.title.clone()}</span>
                                    {row.author.clone().map(|a| view! { <span class="row-meta">{a}</span> })}
                                </td>
                                <td role="cell" data-label=label("my.col.due")>
                                    <strong>{format_date(lang, row.due)}</strong>
                                    {row.overdue.then(|| view! { <span class="status status--overdue">{tr("status.overdue")}</span> })}
                                </td>
                                <td role="cell" data-label=label("my.col.loaned")>{format_date(lang, row.loaned)}</td>
                                <td role="cell" data-label=label("my.col.actions")>{action}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
