//! `/staff/borrowing` and `/staff/lending`: a side's queue. A count per
//! state (each a link), filters in a plain GET form (so they live in the
//! URL and stay set), the oldest waiting work first, paging, and marking
//! several requests at once.

use std::collections::HashSet;

use crate::page_url::use_query_map;
use chrono::NaiveDate;
use leptos::prelude::*;

use super::api::{desk_bulk, desk_queue};
use super::{BulkItem, Queue, QueueQuery, QueueRow};
use crate::components::page::PageTitle;
use crate::domain::date::format_date;
use crate::domain::history::Side;
use crate::i18n::{t, t_args};
use crate::pages::coming::StaffOnly;
use crate::site::{tr, use_i18n};

#[island(lazy)]
pub fn BorrowingQueuePage() -> impl IntoView {
    view! { <StaffOnly title="desk.borrowing.title" path="/staff/borrowing"><QueueView side=Side::Borrowing/></StaffOnly> }
}

#[island(lazy)]
pub fn LendingQueuePage() -> impl IntoView {
    view! { <StaffOnly title="desk.lending.title" path="/staff/lending"><QueueView side=Side::Lending/></StaffOnly> }
}

/// The queue's base path.
pub fn side_path(side: Side) -> &'static str {
    match side {
        Side::Borrowing => "/staff/borrowing",
        Side::Lending => "/staff/lending",
    }
}

/// Translation key of a state's name for staff.
pub fn state_key(state: &str) -> String {
    format!("state.{state}")
}

/// A query string for the queue with these filters.
fn href(side: Side, q: &QueueQuery) -> String {
    let pairs = q.to_pairs();
    if pairs.is_empty() {
        return side_path(side).to_owned();
    }
    let query: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", urlencoding(&v)))
        .collect();
    format!("{}?{}", side_path(side), query.join("&"))
}

/// Percent-encodes a query value.
fn urlencoding(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[component]
fn QueueView(side: Side) -> impl IntoView {
    let i18n = use_i18n();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|m| {
            let keys = [
                "state", "needs", "partner", "kind", "from", "to", "q", "page",
            ];
            let values: Vec<(&str, String)> = keys
                .iter()
                .filter_map(|k| m.get(k).map(|v| (*k, v)))
                .collect();
            QueueQuery::from_pairs(values.iter().map(|(k, v)| (*k, v.as_str())))
        })
    });
    let data = Resource::new(move || query.get(), move |q| desk_queue(side, q));
    let title = match side {
        Side::Borrowing => "desk.borrowing.title",
        Side::Lending => "desk.lending.title",
    };
    view! {
        <PageTitle key=title/>
        <p class="lead">{tr(match side { Side::Borrowing => "desk.borrowing.lead", Side::Lending => "desk.lending.lead" })}</p>
        <Filters side query/>
        <Suspense fallback=move || view! { <p role="status">{tr("desk.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(queue) => view! { <QueueBody side queue query=query.get_untracked() refetch=Callback::new(move |_| data.refetch())/> }.into_any(),
                    Err(_) => view! { <p class="notice notice--error" role="alert">{move || t(i18n.lang(), "desk.error.load")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The filters, as a GET form of the queue's own URL.
#[component]
fn Filters(side: Side, query: Memo<QueueQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let date = |d: Option<NaiveDate>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let kinds = ["article", "book", "chapter"];
    view! {
        <form class="filters" method="get" action=side_path(side) role="search" aria-label=move || t(use_i18n().lang(), "desk.filters")>
            <div class="field">
                <label for="f-q">{tr("desk.filter.q")}</label>
                <input id="f-q" name="q" type="search" value=q.q.clone().unwrap_or_default()/>
            </div>
            <div class="field">
                <label for="f-state">{tr("desk.filter.state")}</label>
                <select id="f-state" name="state">
                    <option value="">{tr("desk.filter.all")}</option>
                    {super::queue_states(side)
                        .into_iter()
                        .map(|s| {
                            let selected = q.state.as_deref() == Some(s.as_str());
                            let key = state_key(&s);
                            view! { <option value=s selected=selected>{move || t(use_i18n().lang(), &key)}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-partner">{tr("desk.filter.partner")}</label>
                <input id="f-partner" name="partner" type="text" value=q.partner.clone().unwrap_or_default()/>
            </div>
            <div class="field">
                <label for="f-kind">{tr("desk.filter.kind")}</label>
                <select id="f-kind" name="kind">
                    <option value="">{tr("desk.filter.all")}</option>
                    {kinds
                        .into_iter()
                        .map(|k| {
                            let selected = q.kind.as_deref() == Some(k);
                            let key = format!("citation.type.{k}");
                            view! { <option value=k selected=selected>{move || t(use_i18n().lang(), &key)}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-from">{tr("desk.filter.from")}</label>
                <input id="f-from" name="from" type="date" value=date(q.from)/>
            </div>
            <div class="field">
                <label for="f-to">{tr("desk.filter.to")}</label>
                <input id="f-to" name="to" type="date" value=date(q.to)/>
            </div>
            <div class="field field--check">
                <input id="f-needs" name="needs" type="checkbox" value="1" checked=q.needs_action/>
                <label for="f-needs">{tr("desk.filter.needs")}</label>
            </div>
            <div class="filters__buttons">
                <button type="submit" class="button">{tr("desk.filter.apply")}</button>
                " "
                <a class="button button--secondary" href=side_path(side)>{tr("desk.filter.clear")}</a>
            </div>
        </form>
    }
    .into_any()
}

#[component]
fn QueueBody(side: Side, queue: Queue, query: QueueQuery, refetch: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let selected = RwSignal::new(HashSet::<String>::new());
    let notice = RwSignal::new(None::<(bool, String)>);
    let versions: Vec<(String, i64)> = queue
        .rows
        .iter()
        .map(|r| (r.id.clone(), r.version))
        .collect();
    let bulk = Action::new(move |(action, items): &(String, Vec<BulkItem>)| {
        desk_bulk(side, action.clone(), items.clone())
    });
    Effect::new(move |_| {
        let Some(result) = bulk.value().get() else {
            return;
        };
        let lang = i18n.lang();
        notice.set(Some(match result {
            Ok(o) => (
                o.skipped.is_empty(),
                t_args(
                    lang,
                    "desk.bulk.result",
                    &[
                        ("done", &o.done.len().to_string()),
                        ("skipped", &o.skipped.len().to_string()),
                    ],
                ),
            ),
            Err(_) => (false, t(lang, "desk.error.action")),
        }));
        selected.set(HashSet::new());
        refetch.run(());
    });
    let needs_total: u64 = queue
        .counts
        .iter()
        .filter(|c| c.needs_action)
        .map(|c| c.count)
        .sum();
    let all_total: u64 = queue.counts.iter().map(|c| c.count).sum();
    let pages = queue.total.div_ceil(u64::from(queue.per_page)).max(1);
    let page = u64::from(queue.page);
    let with = |f: &dyn Fn(&mut QueueQuery)| {
        let mut q = query.clone();
        q.page = 0;
        f(&mut q);
        href(side, &q)
    };
    let all_href = with(&|q| {
        q.state = None;
        q.needs_action = false;
    });
    let needs_href = with(&|q| {
        q.state = None;
        q.needs_action = true;
    });
    let current_all = query.state.is_none() && !query.needs_action;
    let current_needs = query.state.is_none() && query.needs_action;
    let state_links = queue
        .counts
        .iter()
        .filter(|c| c.count > 0 || query.state.as_deref() == Some(c.state.as_str()))
        .map(|c| {
            let state = c.state.clone();
            let link = with(&|q| {
                q.state = Some(state.clone());
                q.needs_action = false;
            });
            let current = query.state.as_deref() == Some(c.state.as_str());
            let key = state_key(&c.state);
            let count = c.count;
            view! {
                <li class:needs=c.needs_action>
                    <a href=link aria-current=current.then_some("page")>
                        {move || t(i18n.lang(), &key)}" "<span class="count">{count}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    let prev = (page > 0).then(|| {
        let mut q = query.clone();
        q.page -= 1;
        href(side, &q)
    });
    let next = (page + 1 < pages).then(|| {
        let mut q = query.clone();
        q.page += 1;
        href(side, &q)
    });
    let bulk_actions = queue.bulk_actions.clone();
    let rows = queue.rows.clone();
    let total = queue.total;
    view! {
        <nav class="state-counts" aria-label=move || t(i18n.lang(), "desk.counts")>
            <ul>
                <li><a href=all_href aria-current=current_all.then_some("page")>{tr("desk.filter.all")}" "<span class="count">{all_total}</span></a></li>
                <li class="needs"><a href=needs_href aria-current=current_needs.then_some("page")>{tr("desk.filter.needs")}" "<span class="count">{needs_total}</span></a></li>
                {state_links}
            </ul>
        </nav>
        <p role="status" class="notice notice--ok" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| n.0))>
            {move || notice.get().filter(|n| n.0).map(|n| n.1)}
        </p>
        <p role="alert" class="notice notice--error" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| !n.0))>
            {move || notice.get().filter(|n| !n.0).map(|n| n.1)}
        </p>
        <p class="queue__total">{move || t_args(i18n.lang(), "desk.total", &[("n", &total.to_string())])}</p>
        {(!rows.is_empty()).then(|| view! {
            <div class="bulk" role="group" aria-label=move || t(i18n.lang(), "desk.bulk.label")>
                {bulk_actions
                    .into_iter()
                    .map(|action| {
                        let key = format!("action.{action}");
                        let versions = versions.clone();
                        view! {
                            <button type="button" class="button button--secondary"
                                disabled=move || selected.with(|s| s.is_empty()) || bulk.pending().get()
                                on:click=move |_| {
                                    let chosen = selected.get_untracked();
                                    let items = versions
                                        .iter()
                                        .filter(|(id, _)| chosen.contains(id))
                                        .map(|(id, version)| BulkItem { id: id.clone(), version: *version })
                                        .collect();
                                    bulk.dispatch((action.clone(), items));
                                }>
                                {move || t_args(i18n.lang(), "desk.bulk.apply", &[
                                    ("action", &t(i18n.lang(), &key)),
                                    ("n", &selected.with(|s| s.len()).to_string()),
                                ])}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        })}
        {if rows.is_empty() {
            view! { <p>{tr("desk.empty")}</p> }.into_any()
        } else {
            view! { <QueueTable side rows selected/> }.into_any()
        }}
        <nav class="pager" aria-label=move || t(i18n.lang(), "desk.pages")>
            {prev.map(|h| view! { <a href=h rel="prev">{tr("desk.prev")}</a> })}
            " "<span>{move || t_args(i18n.lang(), "desk.page_of", &[("page", &(page + 1).to_string()), ("pages", &pages.to_string())])}</span>" "
            {next.map(|h| view! { <a href=h rel="next">{tr("desk.next")}</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn QueueTable(
    side: Side,
    rows: Vec<QueueRow>,
    selected: RwSignal<HashSet<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let who_key = match side {
        Side::Borrowing => "desk.col.patron",
        Side::Lending => "desk.col.library",
    };
    view! {
        <table class="rows queue" role="table">
            <caption class="visually-hidden">{tr("desk.queue")}</caption>
            <thead role="rowgroup">
                <tr role="row">
                    <th scope="col" role="columnheader"><span class="visually-hidden">{tr("desk.col.select")}</span></th>
                    <th scope="col" role="columnheader">{tr("my.col.title")}</th>
                    <th scope="col" role="columnheader">{tr(who_key)}</th>
                    <th scope="col" role="columnheader">{tr("desk.col.partner")}</th>
                    <th scope="col" role="columnheader">{tr("desk.col.state")}</th>
                    <th scope="col" role="columnheader">{tr("desk.col.since")}</th>
                </tr>
            </thead>
            <tbody role="rowgroup">
                {rows
                    .into_iter()
                    .map(|row| {
                        let id = row.id.clone();
                        let check_id = format!("sel-{}", row.id);
                        let title_id = format!("t-{}", row.id);
                        let state = state_key(&row.state);
                        let since = NaiveDate::parse_from_str(row.since.get(..10).unwrap_or(""), "%Y-%m-%d").ok();
                        let created = row.created;
                        let kind = row.kind.clone().map(|k| format!("citation.type.{k}"));
                        let toggle_id = id.clone();
                        let checked_id = id.clone();
                        view! {
                            <tr role="row" data-request-id=id.clone()>
                                <td role="cell" data-label=move || t(i18n.lang(), "desk.col.select")>
                                    <input type="checkbox" id=check_id aria-labelledby=title_id.clone()
                                        prop:checked=move || selected.with(|s| s.contains(&checked_id))
                                        on:change=move |_| selected.update(|s| {
                                            if !s.remove(&toggle_id) {
                                                s.insert(toggle_id.clone());
                                            }
                                        })/>
                                </td>
                                <td role="cell" data-label=move || t(i18n.lang(), "my.col.title")>
                                    <a class="row-title" id=title_id href=format!("{}/{}", side_path(side), row.id)>{row.title.clone()}</a>
                                    {kind.map(|k| view! { <span class="row-meta">{move || t(i18n.lang(), &k)}</span> })}
                                    <span class="row-meta">{move || format_date(i18n.lang(), created)}</span>
                                </td>
                                <td role="cell" data-label=move || t(i18n.lang(), who_key)>{row.who.clone()}</td>
                                <td role="cell" data-label=move || t(i18n.lang(), "desk.col.partner")>{row.partner.clone().unwrap_or_default()}</td>
                                <td role="cell" data-label=move || t(i18n.lang(), "desk.col.state")>
                                    <span class="status">{move || t(i18n.lang(), &state)}</span>
                                </td>
                                <td role="cell" data-label=move || t(i18n.lang(), "desk.col.since")>
                                    {move || since.map(|d| format_date(i18n.lang(), d)).unwrap_or_default()}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters() {
        let q = QueueQuery {
            q: Some("a&b c".into()),
            needs_action: true,
            ..QueueQuery::default()
        };
        assert_eq!(
            href(Side::Lending, &q),
            "/staff/lending?needs=1&q=a%26b%20c"
        );
        assert_eq!(
            href(Side::Borrowing, &QueueQuery::default()),
            "/staff/borrowing"
        );
    }
}
