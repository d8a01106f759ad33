//! The mirror: what Kauko last read from Alma of each RS request and of
//! each patron's ILL loans (`alma_mirror_*`, migration
//! `20261208000001_alma_mirror`), so that My requests is served from
//! Kauko's database and the background sync (`sync.rs`) re-reads Alma at
//! its own pace.
//!
//! Every change the mirror sees becomes one event in the request's history
//! (`request_events`), written in the same transaction as the mirror row.
//! The row is updated only from the status it was read with, so when two
//! instances (or a patron's cancel and the sync) see the same change, one
//! writes it and the other finds it written: no change is recorded twice.

use std::time::Duration;

use app::domain::history::{Actor, NewEvent, Side};
use app::domain::{BorrowingRequest, IllLoan, PatronId};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::storage::{json_col, parse_ts, ts, Db};

/// How often the mirror is read again, and when it is stale.
#[derive(Clone, Debug)]
pub struct MirrorSettings {
    /// Active requests (and patrons who have some) are read this often.
    pub active_every: Duration,
    /// Closed requests (and patrons with nothing active) this often...
    pub closed_every: Duration,
    /// ... until they closed this long ago; then never again.
    pub forget_after: Duration,
    /// A patron's picture older than this is stale: My requests says how
    /// old it is and asks Alma again.
    pub stale_after: Duration,
    /// A patron who opened My requests goes first for this long.
    pub viewing_for: Duration,
    /// An instance reading a patron holds them this long at most.
    pub lease: Duration,
    /// After a failed read (Alma down), the next try.
    pub retry_after: Duration,
}

impl Default for MirrorSettings {
    fn default() -> Self {
        Self {
            active_every: Duration::from_secs(300),
            closed_every: Duration::from_secs(86_400),
            forget_after: Duration::from_secs(30 * 86_400),
            stale_after: Duration::from_secs(600),
            viewing_for: Duration::from_secs(120),
            lease: Duration::from_secs(120),
            retry_after: Duration::from_secs(60),
        }
    }
}

fn later(d: Duration) -> String {
    ts(Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(1)))
}

/// What the mirror holds of a patron.
#[derive(Clone, Debug, Default)]
pub struct PatronPicture {
    /// The patron's ILL loans, as last read...
    pub loans: Vec<IllLoan>,
    /// ... then (`None`: never read).
    pub loans_at: Option<DateTime<Utc>>,
    /// When Alma last answered for all of the patron's requests and loans.
    pub listed_at: Option<DateTime<Utc>>,
    /// When the last read failed (Alma down), if it did after `listed_at`.
    pub failed_at: Option<DateTime<Utc>>,
    /// The patron goes first in the sync until then (they opened My
    /// requests).
    pub viewing_until: Option<DateTime<Utc>>,
}

/// What a patron's user-request listing says of their mirrored requests
/// (`Mirror::check_listing`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListingCheck {
    /// Listed with the status noted at the last read: unchanged, confirmed
    /// without reading them.
    pub confirmed: Vec<String>,
    /// Listed with another status, or listed last time and not now (they
    /// closed, most likely), or due for their backstop read: read them.
    pub to_read: Vec<String>,
}

/// What observing a request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// First seen: recorded with a `created` event.
    New,
    /// Its status changed: one event.
    Changed,
    /// As it was (or another instance recorded the change first).
    Same,
}

#[derive(Clone, Debug)]
pub struct Mirror {
    db: Db,
    pub settings: MirrorSettings,
}

fn request_from_row(row: &AnyRow) -> Result<BorrowingRequest, sqlx::Error> {
    json_col(&row.try_get::<String, _>("request")?)
}

impl Mirror {
    pub fn new(db: Db, settings: MirrorSettings) -> Self {
        Self { db, settings }
    }

    /// When a request is read again: soon while active, daily once
    /// closed, never once it closed long ago.
    fn next_read(&self, r: &BorrowingRequest, changed_at: DateTime<Utc>) -> Option<String> {
        if !r.status.is_final() {
            return Some(later(self.settings.active_every));
        }
        let forget = chrono::Duration::from_std(self.settings.forget_after).unwrap_or_default();
        (Utc::now() - changed_at < forget).then(|| later(self.settings.closed_every))
    }

    /// Records what Alma answered for a request. A request seen for the
    /// first time gets a `created` event by `creator`; a changed status
    /// gets one `action` event by `actor`.
    pub async fn observe(
        &self,
        r: &BorrowingRequest,
        partner: Option<&str>,
        creator: Actor,
        actor: Actor,
        action: &str,
    ) -> Result<Observed, sqlx::Error> {
        let now = Utc::now();
        let body = serde_json::to_string(r).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let status = r.status.code().to_owned();
        let closed = i64::from(r.status.is_final());
        // What statistics count by: the material and the partner asked.
        let kind = r.citation.kind.map(|k| k.code().to_owned());
        let partner = partner.map(str::to_owned);
        let mut tx = self.db.begin_write().await?;
        let before = sqlx::query(
            "SELECT status, changed_at FROM alma_mirror_requests WHERE request_id = $1",
        )
        .bind(r.id.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let observed = match before {
            None => {
                let inserted = sqlx::query(
                    "INSERT INTO alma_mirror_requests (request_id, patron_id, request, status, closed, created_at, confirmed_at, changed_at, read_at, due_at, gone, kind, partner_code) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8, 0, $9, $10) ON CONFLICT (request_id) DO NOTHING",
                )
                .bind(r.id.clone())
                .bind(r.patron_id.0.clone())
                .bind(body)
                .bind(status.clone())
                .bind(closed)
                .bind(ts(r.created_at))
                .bind(ts(now))
                .bind(self.next_read(r, now))
                .bind(kind.clone())
                .bind(partner.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 1 {
                    crate::history::record(
                        &mut *tx,
                        &NewEvent {
                            side: Side::Borrowing,
                            request_id: r.id.clone(),
                            actor: creator,
                            action: "created".into(),
                            from_state: None,
                            to_state: status,
                            partner: None,
                            note: None,
                        },
                    )
                    .await?;
                    Observed::New
                } else {
                    Observed::Same
                }
            }
            Some(row) => {
                let old: String = row.try_get("status")?;
                let changed_at = parse_ts(&row.try_get::<String, _>("changed_at")?)?;
                if old == status {
                    sqlx::query(
                        "UPDATE alma_mirror_requests SET request = $1, confirmed_at = $2, read_at = $2, due_at = $3, gone = 0, \
                         kind = $5, partner_code = COALESCE($6, partner_code) WHERE request_id = $4",
                    )
                    .bind(body)
                    .bind(ts(now))
                    .bind(self.next_read(r, changed_at))
                    .bind(r.id.clone())
                    .bind(kind.clone())
                    .bind(partner.clone())
                    .execute(&mut *tx)
                    .await?;
                    Observed::Same
                } else {
                    let changed = sqlx::query(
                        "UPDATE alma_mirror_requests SET request = $1, status = $2, closed = $3, confirmed_at = $4, changed_at = $4, read_at = $4, due_at = $5, gone = 0, \
                         kind = $8, partner_code = COALESCE($9, partner_code) WHERE request_id = $6 AND status = $7",
                    )
                    .bind(body)
                    .bind(status.clone())
                    .bind(closed)
                    .bind(ts(now))
                    .bind(self.next_read(r, now))
                    .bind(r.id.clone())
                    .bind(old.clone())
                    .bind(kind.clone())
                    .bind(partner.clone())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 1 {
                        crate::history::record(
                            &mut *tx,
                            &NewEvent {
                                side: Side::Borrowing,
                                request_id: r.id.clone(),
                                actor,
                                action: action.to_owned(),
                                from_state: Some(old),
                                to_state: status,
                                partner: None,
                                note: None,
                            },
                        )
                        .await?;
                        Observed::Changed
                    } else {
                        Observed::Same
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(observed)
    }

    /// Compares the patron's active user requests (`listed`: RS request id
    /// → the status the listing shows) with what the mirror noted at the
    /// last read of the patron, and confirms the unchanged ones at once:
    /// one listing call stands for a read of each. A request the listing
    /// keeps confirming is still read itself once per `closed_every`
    /// after its last read (a backstop, should the listing's status ever
    /// miss a change). Requests new to the mirror are the caller's.
    pub async fn check_listing(
        &self,
        patron: &PatronId,
        listed: &std::collections::HashMap<String, String>,
    ) -> Result<ListingCheck, sqlx::Error> {
        let rows: Vec<(String, Option<String>, i64, String)> = sqlx::query_as(
            "SELECT request_id, listed_status, closed, COALESCE(read_at, confirmed_at) \
             FROM alma_mirror_requests WHERE patron_id = $1 AND gone = 0",
        )
        .bind(patron.0.clone())
        .fetch_all(&self.db.pool)
        .await?;
        let now = Utc::now();
        let backstop = chrono::Duration::from_std(self.settings.closed_every)
            .unwrap_or(chrono::Duration::days(1));
        let mut check = ListingCheck::default();
        let mut confirm = Vec::new();
        for (id, noted, closed, read_at) in rows {
            match (listed.get(&id), noted) {
                (Some(now_listed), Some(noted)) if *now_listed == noted && closed == 0 => {
                    let next = parse_ts(&read_at)? + backstop;
                    if next <= now {
                        check.to_read.push(id);
                    } else {
                        confirm.push((id, noted, ts(next)));
                    }
                }
                (Some(_), _) => check.to_read.push(id),
                // Listed last time, not now: it left the active requests.
                (None, Some(_)) => check.to_read.push(id),
                // Not listed then or now: read at its own pace.
                (None, None) => {}
            }
        }
        if !confirm.is_empty() {
            let mut tx = self.db.begin_write().await?;
            for (id, noted, next) in confirm {
                let done = sqlx::query(
                    "UPDATE alma_mirror_requests SET confirmed_at = $1, due_at = $2 \
                     WHERE request_id = $3 AND listed_status = $4 AND closed = 0 AND gone = 0",
                )
                .bind(ts(now))
                .bind(next)
                .bind(id.clone())
                .bind(noted)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 1 {
                    check.confirmed.push(id);
                } else {
                    check.to_read.push(id);
                }
            }
            tx.commit().await?;
        }
        Ok(check)
    }

    /// Notes what the patron's active user requests showed, for the next
    /// `check_listing`: the listed status of each open request, none for
    /// the rest. A listed request just read (`read_now`) is not read on
    /// its own again before its backstop (`closed_every`): the patron's
    /// passes watch it through the listing.
    pub async fn note_listing(
        &self,
        patron: &PatronId,
        listed: &std::collections::HashMap<String, String>,
        read_now: &std::collections::HashSet<String>,
    ) -> Result<(), sqlx::Error> {
        let backstop = later(self.settings.closed_every);
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "UPDATE alma_mirror_requests SET listed_status = NULL \
             WHERE patron_id = $1 AND listed_status IS NOT NULL",
        )
        .bind(patron.0.clone())
        .execute(&mut *tx)
        .await?;
        for (id, status) in listed {
            // Just read: next on its own at the backstop; otherwise its
            // read stays as planned.
            let due = read_now.contains(id).then(|| backstop.clone());
            sqlx::query(
                "UPDATE alma_mirror_requests SET listed_status = $1, due_at = COALESCE($4, due_at) \
                 WHERE request_id = $2 AND patron_id = $3 AND closed = 0",
            )
            .bind(status.clone())
            .bind(id.clone())
            .bind(patron.0.clone())
            .bind(due)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Alma no longer has this request: left out of My requests, not read
    /// again.
    pub async fn gone(&self, request_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE alma_mirror_requests SET gone = 1, due_at = NULL WHERE request_id = $1",
        )
        .bind(request_id.to_owned())
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// The patron's requests as mirrored, newest first.
    pub async fn requests_of(
        &self,
        patron: &PatronId,
    ) -> Result<Vec<BorrowingRequest>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT request FROM alma_mirror_requests WHERE patron_id = $1 AND gone = 0 \
             ORDER BY created_at DESC, request_id DESC",
        )
        .bind(patron.0.clone())
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    /// One of the patron's requests as mirrored, with when Alma confirmed
    /// it.
    pub async fn request(
        &self,
        patron: &PatronId,
        request_id: &str,
    ) -> Result<Option<(BorrowingRequest, DateTime<Utc>)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT request, confirmed_at FROM alma_mirror_requests \
             WHERE request_id = $1 AND patron_id = $2 AND gone = 0",
        )
        .bind(request_id.to_owned())
        .bind(patron.0.clone())
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|row| {
            Ok((
                request_from_row(&row)?,
                parse_ts(&row.try_get::<String, _>("confirmed_at")?)?,
            ))
        })
        .transpose()
    }

    /// The ids of the patron's requests due for a read (all that are
    /// still read at all when `all`), oldest confirmation first.
    pub async fn due_requests_of(
        &self,
        patron: &PatronId,
        all: bool,
    ) -> Result<Vec<String>, sqlx::Error> {
        let due = if all { "" } else { "AND due_at <= $2" };
        let sql = format!(
            "SELECT request_id FROM alma_mirror_requests WHERE patron_id = $1 AND gone = 0 \
             AND due_at IS NOT NULL {due} ORDER BY confirmed_at"
        );
        let query = sqlx::query_scalar(&sql).bind(patron.0.clone());
        let query = if all {
            query
        } else {
            query.bind(ts(Utc::now()))
        };
        query.fetch_all(&self.db.pool).await
    }

    /// The ids of every request of the patron the mirror has (gone ones
    /// too: they are not read again).
    pub async fn ids_of(
        &self,
        patron: &PatronId,
    ) -> Result<std::collections::HashSet<String>, sqlx::Error> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT request_id FROM alma_mirror_requests WHERE patron_id = $1")
                .bind(patron.0.clone())
                .fetch_all(&self.db.pool)
                .await?;
        Ok(ids.into_iter().collect())
    }

    /// What the mirror holds of the patron; `None` before the first read.
    pub async fn patron(&self, patron: &PatronId) -> Result<Option<PatronPicture>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT loans, loans_at, listed_at, failed_at, viewing_until FROM alma_mirror_patrons WHERE patron_id = $1",
        )
        .bind(patron.0.clone())
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|row| {
            let at = |col: &str| -> Result<Option<DateTime<Utc>>, sqlx::Error> {
                row.try_get::<Option<String>, _>(col)?
                    .map(|s| parse_ts(&s))
                    .transpose()
            };
            Ok(PatronPicture {
                loans: json_col(&row.try_get::<String, _>("loans")?)?,
                loans_at: at("loans_at")?,
                listed_at: at("listed_at")?,
                failed_at: at("failed_at")?,
                viewing_until: at("viewing_until")?,
            })
        })
        .transpose()
    }

    /// Keeps a full read of the patron (their requests were observed one
    /// by one; their loans, unless reading them failed) and schedules the
    /// next one.
    pub async fn listed(
        &self,
        patron: &PatronId,
        loans: Option<&[IllLoan]>,
    ) -> Result<(), sqlx::Error> {
        let active = loans.is_some_and(|l| !l.is_empty())
            || sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM alma_mirror_requests WHERE patron_id = $1 AND gone = 0 AND closed = 0",
            )
            .bind(patron.0.clone())
            .fetch_one(&self.db.pool)
            .await?
                > 0;
        let every = if active {
            self.settings.active_every
        } else {
            self.settings.closed_every
        };
        let now = ts(Utc::now());
        let (loans, loans_at) = match loans {
            Some(l) => (
                Some(serde_json::to_string(l).map_err(|e| sqlx::Error::Encode(Box::new(e)))?),
                Some(now.clone()),
            ),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO alma_mirror_patrons (patron_id, loans, loans_at, listed_at, due_at) \
             VALUES ($1, COALESCE($2, '[]'), $3, $4, $5) \
             ON CONFLICT (patron_id) DO UPDATE SET loans = COALESCE($2, alma_mirror_patrons.loans), \
             loans_at = COALESCE($3, alma_mirror_patrons.loans_at), listed_at = $4, due_at = $5, \
             failed_at = NULL, failure = NULL, claimed_until = NULL",
        )
        .bind(patron.0.clone())
        .bind(loans)
        .bind(loans_at)
        .bind(now)
        .bind(later(every))
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Keeps the patron's loans read apart from their requests.
    pub async fn loans_read(
        &self,
        patron: &PatronId,
        loans: &[IllLoan],
    ) -> Result<(), sqlx::Error> {
        let loans = serde_json::to_string(loans).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "UPDATE alma_mirror_patrons SET loans = $1, loans_at = $2 WHERE patron_id = $3",
        )
        .bind(loans)
        .bind(ts(Utc::now()))
        .bind(patron.0.clone())
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Replaces one loan in the patron's mirrored loans after the patron
    /// renewed it, and writes the renewal into the history of the request
    /// the loan came through (when known).
    pub async fn loan_renewed(&self, patron: &PatronId, loan: &IllLoan) -> Result<(), sqlx::Error> {
        let Some(mut picture) = self.patron(patron).await? else {
            return Ok(());
        };
        let mut request_id = loan.request_id.clone();
        for l in picture.loans.iter_mut().filter(|l| l.id == loan.id) {
            request_id = request_id.or(l.request_id.clone());
            *l = IllLoan {
                request_id: request_id.clone(),
                ..loan.clone()
            };
        }
        let loans =
            serde_json::to_string(&picture.loans).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE alma_mirror_patrons SET loans = $1 WHERE patron_id = $2")
            .bind(loans)
            .bind(patron.0.clone())
            .execute(&mut *tx)
            .await?;
        if let Some(request_id) = request_id {
            let status: Option<String> = sqlx::query_scalar(
                "SELECT status FROM alma_mirror_requests WHERE request_id = $1 AND patron_id = $2",
            )
            .bind(request_id.clone())
            .bind(patron.0.clone())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(status) = status {
                crate::history::record(
                    &mut *tx,
                    &NewEvent {
                        side: Side::Borrowing,
                        request_id,
                        actor: Actor::Patron(patron.0.clone()),
                        action: app::stats::milestones::RENEWAL_GRANTED.into(),
                        from_state: Some(status.clone()),
                        to_state: status,
                        partner: None,
                        note: Some((
                            format!("due {}", loan.due_date.date_naive()),
                            app::domain::history::Audience::Patron,
                        )),
                    },
                )
                .await?;
            }
        }
        tx.commit().await
    }

    /// A read of the patron failed: the mirror stays, marked; tried again
    /// after a while.
    pub async fn failed(&self, patron: &PatronId, why: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE alma_mirror_patrons SET failed_at = $1, failure = $2, due_at = $3, claimed_until = NULL \
             WHERE patron_id = $4",
        )
        .bind(ts(Utc::now()))
        .bind(why.chars().take(500).collect::<String>())
        .bind(later(self.settings.retry_after))
        .bind(patron.0.clone())
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// The patron opened My requests: they go first for a while, and a
    /// stale picture is due at once. `picture` is what was just read of
    /// them: the write (at most once a minute per patron) is not even
    /// tried when it would change nothing, so page views do not queue for
    /// SQLite's one writer.
    pub async fn viewing(
        &self,
        patron: &PatronId,
        picture: &PatronPicture,
        stale: bool,
    ) -> Result<(), sqlx::Error> {
        let now = Utc::now();
        let soon = now + chrono::Duration::seconds(60);
        if picture.viewing_until.is_some_and(|until| until >= soon) {
            return Ok(());
        }
        let soon = ts(soon);
        let until = later(self.settings.viewing_for);
        let due = if stale { ts(now) } else { String::new() };
        sqlx::query(
            "UPDATE alma_mirror_patrons SET viewing_until = $1, \
             due_at = CASE WHEN $2 <> '' AND due_at > $2 THEN $2 ELSE due_at END \
             WHERE patron_id = $3 AND (viewing_until IS NULL OR viewing_until < $4)",
        )
        .bind(until)
        .bind(due)
        .bind(patron.0.clone())
        .bind(soon)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Takes the patron most due for a read (those looking at My requests
    /// first), unless another instance holds them.
    pub async fn claim_patron(&self) -> Result<Option<PatronId>, sqlx::Error> {
        let now = ts(Utc::now());
        let candidates: Vec<(String, String)> = sqlx::query_as(
            "SELECT patron_id, due_at FROM alma_mirror_patrons \
             WHERE due_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
             ORDER BY CASE WHEN viewing_until > $1 THEN 0 ELSE 1 END, due_at LIMIT 5",
        )
        .bind(now.clone())
        .fetch_all(&self.db.pool)
        .await?;
        for (patron, due) in candidates {
            let taken = sqlx::query(
                "UPDATE alma_mirror_patrons SET claimed_until = $1 WHERE patron_id = $2 AND due_at = $3 \
                 AND (claimed_until IS NULL OR claimed_until < $4)",
            )
            .bind(later(self.settings.lease))
            .bind(patron.clone())
            .bind(due)
            .bind(now.clone())
            .execute(&self.db.pool)
            .await?
            .rows_affected();
            if taken == 1 {
                return Ok(Some(PatronId(patron)));
            }
        }
        Ok(None)
    }

    /// Takes the request most due for a read, unless another instance
    /// took it (its next read moves a lease ahead meanwhile).
    pub async fn claim_request(&self) -> Result<Option<(PatronId, String)>, sqlx::Error> {
        let now = ts(Utc::now());
        let candidates: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT patron_id, request_id, due_at FROM alma_mirror_requests \
             WHERE due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at LIMIT 5",
        )
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?;
        for (patron, id, due) in candidates {
            let taken = sqlx::query(
                "UPDATE alma_mirror_requests SET due_at = $1 WHERE request_id = $2 AND due_at = $3",
            )
            .bind(later(self.settings.lease))
            .bind(id.clone())
            .bind(due)
            .execute(&self.db.pool)
            .await?
            .rows_affected();
            if taken == 1 {
                return Ok(Some((PatronId(patron), id)));
            }
        }
        Ok(None)
    }

    /// Hands a request back after a failed read: tried again later.
    pub async fn retry_request(&self, request_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE alma_mirror_requests SET due_at = $1 WHERE request_id = $2 AND gone = 0",
        )
        .bind(later(self.settings.retry_after))
        .bind(request_id.to_owned())
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// How many reads are due now (for the operator and the benchmark).
    pub async fn backlog(&self) -> Result<(i64, i64), sqlx::Error> {
        let now = ts(Utc::now());
        let patrons: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM alma_mirror_patrons WHERE due_at <= $1")
                .bind(now.clone())
                .fetch_one(&self.db.pool)
                .await?;
        let requests: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM alma_mirror_requests WHERE due_at IS NOT NULL AND due_at <= $1",
        )
        .bind(now)
        .fetch_one(&self.db.pool)
        .await?;
        Ok((patrons, requests))
    }
}
