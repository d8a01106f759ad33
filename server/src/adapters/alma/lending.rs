//! Lending requests on Alma, mirrored for the fee ledger: on Alma, staff
//! ship and copy in Alma, so Kauko reads the lending task list and writes
//! each change it sees into the request's history (side `lending`), where
//! the fee worker prices it like any other (`server/src/fees`): Kauko's
//! ledger decides what is billable, not Alma's `reported` flag (never
//! read or set here).
//!
//! A pass, every `alma.lending_sync_seconds` on one instance at a time
//! (claimed in the database), at the sync's share of the call budget:
//! - the task list (`GET /task-lists/rs/lending-requests?library=&status=`)
//!   for each status in `alma.lending_statuses` (by default created,
//!   shipped physically, shipped digitally): Alma answers at most 100 per
//!   filter, so a full answer is logged as possibly cut short;
//! - each mirrored request still open that no list showed is read itself
//!   (`GET /partners/{code}/lending-requests/{id}`): it moved on
//!   (returned, completed, cancelled) or out of the filters.
//!
//! Events, written once in the transaction that updates the mirror row,
//! and only from the status the row was read with (two instances, or a
//! pass run twice, record a change once): the first sight is `created`;
//! a change to `SHIPPED_PHYSICALLY` is `ship` (a loan sent: billable), to
//! `SHIPPED_DIGITALLY` `send_copy` (a copy sent: billable), anything else
//! `alma_status`. A request first seen further on gets both. The events'
//! states are Kauko's lending states ([`meaning`]), so statistics
//! count Alma's requests as Kauko's.

use app::domain::history::{Actor, NewEvent, Side};
use app::domain::CitationType;
use chrono::{DateTime, Utc};

use super::client::Client;
use super::records::db_err;
use super::wire::{code, RsRequest, RsRequestList};
use super::{mapping, AlmaBackend, LENDING_NOT_FOUND, SEEN_IN_ALMA};
use crate::port::PortError;
use crate::storage::{ts, Db};

/// What a lending pass did (for the operator, tests and the benchmark).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LendingPass {
    /// Requests the task lists showed.
    pub listed: usize,
    /// Open requests no list showed, read one by one.
    pub read: usize,
    /// Events written (new requests and changes).
    pub events: usize,
}

/// What an Alma lending status means for Kauko: the state of Kauko's
/// lending model it stands for (what the history records, so the desk's
/// timeline, statistics and fees read Alma's requests as Kauko's; `before`
/// tells a completed copy from a completed loan), the history action of
/// reaching it (`ship` and `send_copy` are billable), and whether the
/// request is closed (not followed any more). An unknown code is kept as
/// Alma's, open.
fn meaning(status: &str, before: Option<&str>) -> (String, &'static str, bool) {
    use app::domain::workflow::LendingState as S;
    let (state, action, closed) = match status {
        "REQUEST_CREATED_LEND" => (S::RequestReceived, SEEN_IN_ALMA, false),
        "SHIPPED_PHYSICALLY" => (S::Loaned, "ship", false),
        "SHIPPED_DIGITALLY" => (S::CopyCompleted, "send_copy", false),
        "RETURNED_BY_PARTNER" => (S::LoanCompleted, SEEN_IN_ALMA, false),
        "REQUEST_COMPLETED" | "REQUEST_COMPLETED_LEND" => match before {
            Some("SHIPPED_DIGITALLY") => (S::CopyCompleted, SEEN_IN_ALMA, true),
            _ => (S::LoanCompleted, SEEN_IN_ALMA, true),
        },
        "CANCELLED" | "CANCELED" => (S::Cancelled, SEEN_IN_ALMA, true),
        "DELETED" => return (status.to_owned(), SEEN_IN_ALMA, true),
        "REJECTED" | "LOCATE_FAILED" | "EXPIRED" => (S::Unfilled, SEEN_IN_ALMA, true),
        other => return (other.to_owned(), SEEN_IN_ALMA, false),
    };
    (state.code().to_owned(), action, closed)
}

/// The lending mirror's rows (`alma_mirror_lending`).
pub struct LendingMirror {
    db: Db,
    /// Before then this instance does not ask the database whether a pass
    /// is due (the sync steps several times a second; the claim is a
    /// write).
    quiet_until: std::sync::Mutex<Option<std::time::Instant>>,
}

impl LendingMirror {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            quiet_until: std::sync::Mutex::new(None),
        }
    }

    /// Takes the next pass when it is due (one instance at a time): true
    /// when this instance should run it now. The database is asked at most
    /// once a tenth of `every` (at least a second, at most 30 s) per
    /// instance.
    pub async fn claim_pass(&self, every: std::time::Duration) -> Result<bool, sqlx::Error> {
        let local = std::time::Instant::now();
        {
            let mut quiet = self
                .quiet_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if quiet.is_some_and(|until| local < until) {
                return Ok(false);
            }
            let pause = (every / 10).clamp(
                std::time::Duration::from_secs(1),
                std::time::Duration::from_secs(30),
            );
            *quiet = Some(local + pause);
        }
        let now = Utc::now();
        let next = now + chrono::Duration::from_std(every).unwrap_or(chrono::Duration::minutes(5));
        let taken = sqlx::query(
            "UPDATE alma_sync_jobs SET due_at = $1 WHERE name = 'lending' AND due_at <= $2",
        )
        .bind(ts(next))
        .bind(ts(now))
        .execute(&self.db.pool)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// The open requests the mirror follows: (request id, partner code).
    pub async fn open(&self) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT request_id, partner_code FROM alma_mirror_lending WHERE closed = 0 ORDER BY confirmed_at",
        )
        .fetch_all(&self.db.pool)
        .await
    }

    /// Records what Alma answered for a lending request; returns the
    /// events written.
    pub async fn observe(&self, r: &RsRequest, partner: &str) -> Result<usize, sqlx::Error> {
        let Some(id) = r.request_id.clone().filter(|id| !id.trim().is_empty()) else {
            return Ok(0);
        };
        let Some(status) = code(&r.status).map(str::to_owned) else {
            return Ok(0);
        };
        let now = Utc::now();
        let asked = mapping::lending_from_alma(r, partner);
        let created: DateTime<Utc> = mapping::alma_created_at(r).unwrap_or(now);
        let (state, action, closed) = meaning(&status, None);
        let closed = i64::from(closed);
        let mut tx = self.db.begin_write().await?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT status FROM alma_mirror_lending WHERE request_id = $1")
                .bind(id.clone())
                .fetch_optional(&mut *tx)
                .await?;
        let mut events = Vec::new();
        match before {
            None => {
                let inserted = sqlx::query(
                    "INSERT INTO alma_mirror_lending (request_id, partner_code, external_id, title, kind, needed_by, status, closed, created_at, confirmed_at, changed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (request_id) DO NOTHING",
                )
                .bind(id.clone())
                .bind(partner.to_owned())
                .bind(r.external_id.clone())
                .bind(asked.citation.title.clone())
                .bind(asked.citation.kind.map(CitationType::code))
                .bind(asked.needed_by.map(|d| d.format("%Y-%m-%d").to_string()))
                .bind(status.clone())
                .bind(closed)
                .bind(ts(created))
                .bind(ts(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 1 {
                    let (received, _, _) = meaning("REQUEST_CREATED_LEND", None);
                    events.push(("created", None, received.clone()));
                    if state != received {
                        events.push((action, Some(received), state));
                    }
                }
            }
            Some(old) if old == status => {
                sqlx::query(
                    "UPDATE alma_mirror_lending SET confirmed_at = $1 WHERE request_id = $2",
                )
                .bind(ts(now))
                .bind(id.clone())
                .execute(&mut *tx)
                .await?;
            }
            Some(old) => {
                let (state, action, closed) = meaning(&status, Some(&old));
                let closed = i64::from(closed);
                let changed = sqlx::query(
                    "UPDATE alma_mirror_lending SET status = $1, closed = $2, confirmed_at = $3, changed_at = $3 \
                     WHERE request_id = $4 AND status = $5",
                )
                .bind(status.clone())
                .bind(closed)
                .bind(ts(now))
                .bind(id.clone())
                .bind(old.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 1 {
                    events.push((action, Some(meaning(&old, None).0), state));
                }
            }
        }
        for (action, from, to) in &events {
            crate::history::record(
                &mut *tx,
                &NewEvent {
                    side: Side::Lending,
                    request_id: id.clone(),
                    actor: Actor::LibrarySystem,
                    action: (*action).to_owned(),
                    from_state: from.clone(),
                    to_state: to.clone(),
                    partner: Some(partner.to_owned()),
                    note: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(events.len())
    }

    /// Alma no longer has the request: not followed any more.
    pub async fn gone(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE alma_mirror_lending SET closed = 1 WHERE request_id = $1")
            .bind(id.to_owned())
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }
}

impl AlmaBackend {
    /// One lending pass (tests and the sync call it; see the module).
    pub async fn sync_lending(&self) -> Result<LendingPass, PortError> {
        let Some(library) = self.settings.rs_library.clone() else {
            return Ok(LendingPass::default());
        };
        let via = self.client.for_sync();
        let mut pass = LendingPass::default();
        let mut seen = std::collections::HashSet::new();
        for status in &self.settings.lending_statuses {
            let list = self.task_list(&via, &library, status).await?;
            if list.len() >= 100 {
                tracing::warn!(
                    status,
                    "Alma's lending task list answered 100 requests, its most: some may be left out until they move on"
                );
            }
            for r in &list {
                let partner = code(&r.partner).unwrap_or_default().to_owned();
                pass.listed += 1;
                pass.events += self.lending.observe(r, &partner).await.map_err(db_err)?;
                if let Some(id) = &r.request_id {
                    seen.insert(id.clone());
                }
            }
        }
        for (id, partner) in self.lending.open().await.map_err(db_err)? {
            if seen.contains(&id) {
                continue;
            }
            pass.read += 1;
            let answer = via
                .get(&["partners", &partner, "lending-requests", &id], &[])
                .await;
            match answer {
                Ok(a) => {
                    let r: RsRequest = a.json()?;
                    pass.events += self.lending.observe(&r, &partner).await.map_err(db_err)?;
                }
                Err(e) if e.has_code(LENDING_NOT_FOUND) => {
                    tracing::info!(request_id = %id, "a lending request Alma no longer has is not followed");
                    self.lending.gone(&id).await.map_err(db_err)?;
                }
                Err(e) => return Err(e.to_port()),
            }
        }
        Ok(pass)
    }

    async fn task_list(
        &self,
        via: &Client,
        library: &str,
        status: &str,
    ) -> Result<Vec<RsRequest>, PortError> {
        let answer = via
            .get(
                &["task-lists", "rs", "lending-requests"],
                &[("library", library), ("status", status)],
            )
            .await
            .map_err(|e| e.to_port())?;
        let list: RsRequestList = answer.json()?;
        Ok(list.user_resource_sharing_request)
    }

    /// Runs a lending pass when one is due (one instance at a time).
    pub(crate) async fn lending_step(&self) -> Result<Option<LendingPass>, PortError> {
        let Some(every) = self.settings.lending_every else {
            return Ok(None);
        };
        if self.settings.rs_library.is_none() {
            return Ok(None);
        }
        if !self.lending.claim_pass(every).await.map_err(db_err)? {
            return Ok(None);
        }
        self.sync_lending().await.map(Some)
    }
}
