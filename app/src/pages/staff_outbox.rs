//! `/staff/outbox`: submissions the library system has not taken, with
//! their last error, attempts and next try, and a "Retry now" button.

use leptos::prelude::*;

use crate::api::outbox::{outbox_stuck, OutboxRetry};
use crate::components::page::PageTitle;
use crate::components::table::ScrollTable;
use crate::i18n::{t, t_args};
use crate::outbox::{DeliveryState, OutboxEntry};
use crate::pages::coming::StaffOnly;
use crate::site::{tr, use_i18n};

/// The page, for staff only (the server functions answer 403 to patrons).
#[island(lazy)]
pub fn StaffOutboxPage() -> impl IntoView {
    view! { <StaffOnly title="outbox.title" path="/staff/outbox"><OutboxTool/></StaffOnly> }
}

/// "2026-11-29T01:02:03.123456Z" → "2026-11-29 01:02:03 UTC".
fn short_time(ts: &str) -> String {
    match (ts.get(..10), ts.get(11..19)) {
        (Some(d), Some(t)) => format!("{d} {t} UTC"),
        _ => ts.to_owned(),
    }
}

#[component]
fn OutboxTool() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| outbox_stuck());
    let retry = ServerAction::<OutboxRetry>::new();
    let notice = RwSignal::new(None::<(bool, String)>);
    Effect::new(move |_| {
        let Some(result) = retry.value().get() else {
            return;
        };
        let lang = i18n.lang();
        notice.set(Some(match result {
            Ok(()) => (true, t(lang, "outbox.retried")),
            Err(_) => (false, t(lang, "outbox.retry_failed")),
        }));
        data.refetch();
    });
    view! {
        <PageTitle key="outbox.title"/>
        <p class="lead">{tr("outbox.lead")}</p>
        <p><a href="/staff/outbox" rel="external">{tr("outbox.reload")}</a></p>
        <p role="status" class="notice notice--ok" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| n.0))>
            {move || notice.get().filter(|n| n.0).map(|n| n.1)}
        </p>
        <p role="alert" class="notice notice--error" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| !n.0))>
            {move || notice.get().filter(|n| !n.0).map(|n| n.1)}
        </p>
        <Suspense fallback=move || view! { <p role="status">{tr("outbox.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(rows) if rows.is_empty() => view! { <p>{tr("outbox.empty")}</p> }.into_any(),
                    Ok(rows) => view! { <OutboxTable rows retry/> }.into_any(),
                    Err(_) => view! { <p class="notice notice--error" role="alert">{tr("outbox.error")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn OutboxTable(rows: Vec<OutboxEntry>, retry: ServerAction<OutboxRetry>) -> impl IntoView {
    view! {
        <ScrollTable id="outbox-caption" caption="outbox.title" caption_hidden=true class="outbox-table">
            <thead>
                <tr>
                    <th scope="col">{tr("outbox.col.reference")}</th>
                    <th scope="col">{tr("outbox.col.what")}</th>
                    <th scope="col">{tr("outbox.col.state")}</th>
                    <th scope="col">{tr("outbox.col.attempts")}</th>
                    <th scope="col">{tr("outbox.col.error")}</th>
                    <th scope="col">{tr("outbox.col.next")}</th>
                    <th scope="col">{tr("outbox.col.action")}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| view! { <OutboxRow row retry/> }).collect_view()}
            </tbody>
        </ScrollTable>
    }
    .into_any()
}

#[component]
fn OutboxRow(row: OutboxEntry, retry: ServerAction<OutboxRetry>) -> impl IntoView {
    let i18n = use_i18n();
    let state_key = row.state.label_key();
    let kind_key = row.kind.label_key();
    let next = match (row.state, row.in_flight, row.next_attempt_at.as_deref()) {
        (DeliveryState::Pending, true, _) => Some("outbox.in_flight".to_owned()),
        (DeliveryState::Pending, false, Some(at)) => Some(short_time(at)),
        _ => None,
    };
    let next = move || match next.as_deref() {
        Some("outbox.in_flight") => t(i18n.lang(), "outbox.in_flight"),
        Some(at) => at.to_owned(),
        None => "–".to_owned(),
    };
    let error = row
        .last_error
        .clone()
        .map(|e| e.split(" | ").next().unwrap_or_default().to_owned())
        .unwrap_or_else(|| "–".to_owned());
    let id = row.id.clone();
    let title = row.title.clone();
    let label = {
        let reference = row.reference.clone();
        move || {
            t_args(
                i18n.lang(),
                "outbox.retry_label",
                &[("reference", &reference)],
            )
        }
    };
    let pending = retry.pending();
    view! {
        <tr data-outbox-id=row.id.clone()>
            <td><strong>{row.reference.clone()}</strong><br/><span class="row-meta">{short_time(&row.created_at)}</span></td>
            <td>{title}<br/><span class="row-meta">{tr(kind_key)}" – "{row.owner.clone()}</span></td>
            <td>{tr(state_key)}</td>
            <td>{row.attempts}</td>
            <td class="outbox-error">{error}</td>
            <td>{next}</td>
            <td>
                <button type="button" class="button button--secondary" aria-label=label
                    disabled=move || pending.get()
                    on:click=move |_| { retry.dispatch(OutboxRetry { id: id.clone() }); }>
                    {tr("outbox.retry")}
                </button>
            </td>
        </tr>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_shown_short() {
        assert_eq!(
            super::short_time("2026-11-29T01:02:03.123456Z"),
            "2026-11-29 01:02:03 UTC"
        );
        assert_eq!(super::short_time("x"), "x");
    }
}
