//! The durable outbox (see `migrations/*/20261128000005_outbox.sql`):
//! submissions are stored first, then delivered through the port by a
//! background worker, with retries and exactly-once delivery.
//!
//! - **Claiming**: a worker takes a row with one `UPDATE … WHERE` that sets
//!   a random lease token and a lease end, and only matches a pending, due
//!   row with no live lease. Only one instance can win it, on SQLite
//!   (writes are serialised) and on PostgreSQL (the second UPDATE waits for
//!   the first and then re-checks the WHERE against the new row).
//! - **Delivering**: always with the submission's own external id. Before
//!   re-delivering a row that has been tried before (that attempt may have
//!   reached the library system before the process died or the call timed
//!   out), the worker looks it up by external id; a `Duplicate` answer is
//!   looked up too. Found means delivered, never created again.
//! - **Retrying**: transient errors (`PortError::is_transient`, and a call
//!   that outlives its time) schedule the next try after an exponential
//!   backoff with jitter, capped; a permanent error marks the row failed
//!   with the error kept. Staff can make any pending or failed row due now.
//! - **Leases** that run out (the process was killed) make the row
//!   claimable again; every write after delivery checks the lease token, so
//!   a worker that lost its lease cannot overwrite another's outcome.

pub mod backoff;

use std::sync::Arc;
use std::time::Duration;

use app::domain::lending_intake::{self, HoldReason, SenderMatch};
use app::domain::{NewBorrowingRequest, NewLendingRequest, Partner, PatronId};
use app::outbox::{
    DeliveryState, HeldLendingRequest, OutboxEntry, OutboxError, PendingSubmission, SubmissionKind,
    SubmissionOutbox, Submitted,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;
use tokio::sync::Notify;

use crate::config::Config;
use crate::port::{PortError, ResourceSharing};
use crate::storage::{json_col, parse_ts, ts, Db};

/// How the outbox delivers (from the `[outbox]` configuration).
#[derive(Clone, Debug)]
pub struct OutboxSettings {
    /// How often an idle worker looks for due rows.
    pub poll_interval: Duration,
    /// How long a claim holds; a call to the library system is abandoned
    /// (and the row retried) after three quarters of it.
    pub lease: Duration,
    /// The wait before the first retry; it doubles with every attempt.
    pub first_backoff: Duration,
    /// The longest wait between two tries.
    pub max_backoff: Duration,
    /// How long a form submission waits for its delivery before answering
    /// "received, being forwarded".
    pub inline_wait: Duration,
    /// Rows a worker claims per round.
    pub batch: u32,
    /// How closely a lending request's sender must fit the partner record.
    pub sender_match: SenderMatch,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self::from_config(&Config::default())
    }
}

impl OutboxSettings {
    pub fn from_config(config: &Config) -> Self {
        let c = &config.outbox;
        Self {
            poll_interval: Duration::from_millis(c.poll_interval_milliseconds),
            lease: Duration::from_secs(c.lease_seconds),
            first_backoff: Duration::from_millis(c.first_backoff_milliseconds),
            max_backoff: Duration::from_secs(c.max_backoff_seconds),
            inline_wait: Duration::from_millis(c.inline_wait_milliseconds),
            batch: 16,
            sender_match: config.lending.sender_must_match,
        }
    }
}

/// One outbox row.
#[derive(Clone, Debug)]
struct Entry {
    id: String,
    reference: String,
    kind: SubmissionKind,
    owner: String,
    title: String,
    payload: String,
    state: DeliveryState,
    attempts: u32,
    next_attempt_at: String,
    lease_token: Option<String>,
    lease_until: Option<String>,
    last_error: Option<String>,
    delivered_id: Option<String>,
    decision: Option<String>,
    created_at: String,
    hold_reason: Option<String>,
    hold_partner: Option<String>,
}

const COLUMNS: &str = "id, reference, kind, owner, title, payload, state, attempts, next_attempt_at, lease_token, lease_until, last_error, delivered_id, decision, created_at, hold_reason, hold_partner";

fn entry_from_row(row: &AnyRow) -> Result<Entry, sqlx::Error> {
    let decode = |what: &str, v: String| sqlx::Error::Decode(format!("bad {what}: {v}").into());
    let kind: String = row.try_get("kind")?;
    let state: String = row.try_get("state")?;
    Ok(Entry {
        id: row.try_get("id")?,
        reference: row.try_get("reference")?,
        kind: SubmissionKind::from_code(&kind).ok_or_else(|| decode("kind", kind.clone()))?,
        owner: row.try_get("owner")?,
        title: row.try_get("title")?,
        payload: row.try_get("payload")?,
        state: DeliveryState::from_code(&state).ok_or_else(|| decode("state", state.clone()))?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: row.try_get("next_attempt_at")?,
        lease_token: row.try_get("lease_token")?,
        lease_until: row.try_get("lease_until")?,
        last_error: row.try_get("last_error")?,
        delivered_id: row.try_get("delivered_id")?,
        decision: row.try_get("decision")?,
        created_at: row.try_get("created_at")?,
        hold_reason: row.try_get("hold_reason")?,
        hold_partner: row.try_get("hold_partner")?,
    })
}

impl Entry {
    fn public(&self, now: &str) -> OutboxEntry {
        OutboxEntry {
            id: self.id.clone(),
            reference: self.reference.clone(),
            kind: self.kind,
            owner: self.owner.clone(),
            title: self.title.clone(),
            state: self.state,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            next_attempt_at: (self.state == DeliveryState::Pending)
                .then(|| self.next_attempt_at.clone()),
            in_flight: self.lease_until.as_deref().is_some_and(|u| u > now),
            created_at: self.created_at.clone(),
            delivered_id: self.delivered_id.clone(),
            decision: self.decision.clone(),
            hold_reason: self.hold_reason.clone(),
            hold_partner: self.hold_partner.clone(),
        }
    }

    fn submitted(&self) -> Submitted {
        let reference = self.reference.clone();
        match self.state {
            DeliveryState::Delivered => Submitted::Delivered {
                id: self.delivered_id.clone().unwrap_or_default(),
                reference,
            },
            DeliveryState::Pending => Submitted::Pending { reference },
            DeliveryState::Review => Submitted::Held { reference },
            DeliveryState::Rejected => Submitted::Rejected {
                reference,
                reason: self.decision.clone(),
            },
            DeliveryState::Failed => Submitted::Failed {
                reference,
                error: self
                    .last_failure()
                    .unwrap_or_else(|| PortError::Other("failed".into())),
            },
        }
    }

    /// The port error the last attempt failed with, when it was kept whole.
    fn last_failure(&self) -> Option<PortError> {
        let text = self.last_error.as_deref()?;
        let json = text.split_once(" | ").map(|(_, j)| j)?;
        let errors: Vec<app::domain::FieldError> = serde_json::from_str(json).ok()?;
        Some(PortError::Invalid(errors))
    }
}

/// The error as kept in `last_error`: its text, and for invalid input the
/// field errors as JSON, so the submitter can be told field by field.
fn error_text(e: &PortError) -> String {
    match e {
        PortError::Invalid(errors) => format!(
            "{e} | {}",
            serde_json::to_string(errors).unwrap_or_default()
        ),
        _ => e.to_string(),
    }
}

fn storage(e: sqlx::Error) -> OutboxError {
    OutboxError::Storage(e.to_string())
}

/// A random, easy-to-read reference such as `K7M2-XQ9D`.
fn new_reference() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut n = uuid::Uuid::new_v4().as_u128();
    let mut out = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            out.push('-');
        }
        out.push(ALPHABET[(n % 32) as usize] as char);
        n /= 32;
    }
    out
}

/// The decision kept for a submission its patron withdrew before it was
/// delivered.
pub const CANCELLED_BY_PATRON: &str = "cancelled by the patron before delivery";

/// How one delivery attempt ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    Delivered(String),
    /// A transient error: tried again after the backoff.
    Retry(String),
    /// A permanent error: the row is failed.
    Failed(String),
    /// A lending request that fits no partner record: waiting for staff.
    Held(HoldReason),
    /// Someone else holds the row, or it is not pending.
    NotClaimed,
}

/// The outbox on Kauko's database, delivering through `port`.
pub struct Outbox {
    db: Db,
    port: Arc<dyn ResourceSharing>,
    settings: OutboxSettings,
    wake: Notify,
    /// Names this instance in logs.
    worker: String,
    /// Itself, so a delivery started for a form can outlive the form's wait.
    me: std::sync::Weak<Outbox>,
    /// Tells a partner library its request was delivered (at the address
    /// on its record).
    lending_mail: std::sync::OnceLock<Arc<dyn app::api::lend::LendingMail>>,
}

/// What delivering one row came to.
enum Delivery {
    /// The library system has it (its id, and the lending request as sent).
    Done(String, Option<NewLendingRequest>),
    /// A lending request that fits no partner record.
    Held(HoldReason),
}

impl Outbox {
    pub fn new(db: Db, port: Arc<dyn ResourceSharing>, settings: OutboxSettings) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            db,
            port,
            settings,
            wake: Notify::new(),
            worker: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            me: me.clone(),
            lending_mail: std::sync::OnceLock::new(),
        })
    }

    /// Who confirms a delivered lending request to the partner library
    /// (set once, when the service is built).
    pub fn set_lending_mail(&self, mail: Arc<dyn app::api::lend::LendingMail>) {
        let _ = self.lending_mail.set(mail);
    }

    pub fn settings(&self) -> &OutboxSettings {
        &self.settings
    }

    /// Runs the background worker until the task is dropped: delivers what
    /// is due, then sleeps for the poll interval or until woken.
    pub fn spawn_worker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            tracing::info!(worker = %this.worker, "outbox worker started");
            loop {
                match this.run_due().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "outbox: cannot read due rows"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(this.settings.poll_interval) => {}
                    _ = this.wake.notified() => {}
                }
            }
        })
    }

    /// One round: claims and delivers the due rows (at most a batch);
    /// returns how many it tried.
    pub async fn run_due(&self) -> Result<usize, OutboxError> {
        let now = ts(Utc::now());
        let rows = sqlx::query(
            "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(self.settings.batch))
        .fetch_all(&self.db.pool)
        .await
        .map_err(storage)?;
        let mut tried = 0;
        for row in rows {
            let id: String = row.try_get("id").map_err(storage)?;
            if self.attempt(&id, true).await? != Attempt::NotClaimed {
                tried += 1;
            }
        }
        Ok(tried)
    }

    /// Delivers everything due until nothing is left (for tests and tools).
    pub async fn drain(&self) -> Result<usize, OutboxError> {
        let mut total = 0;
        loop {
            let n = self.run_due().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    async fn fetch(&self, id: &str) -> Result<Option<Entry>, OutboxError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id.to_owned())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(storage)?;
        row.as_ref()
            .map(entry_from_row)
            .transpose()
            .map_err(storage)
    }

    /// Takes the row for one attempt: `Some(token)` when this call won it.
    /// With `due_only`, a row waiting out its backoff is left alone.
    pub async fn claim(&self, id: &str, due_only: bool) -> Result<Option<String>, OutboxError> {
        let now = Utc::now();
        let token = uuid::Uuid::new_v4().simple().to_string();
        let until = now
            + chrono::Duration::from_std(self.settings.lease)
                .unwrap_or_else(|_| chrono::Duration::seconds(60));
        let due = if due_only {
            " AND next_attempt_at <= $3"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE outbox SET lease_token = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id = $4 AND state = 'pending' AND (lease_until IS NULL OR lease_until < $3){due}"
        );
        let done = sqlx::query(&sql)
            .bind(token.clone())
            .bind(ts(until))
            .bind(ts(now))
            .bind(id.to_owned())
            .execute(&self.db.pool)
            .await
            .map_err(storage)?;
        Ok((done.rows_affected() == 1).then_some(token))
    }

    /// Claims the row and, when this call won it, delivers it.
    pub async fn attempt(&self, id: &str, due_only: bool) -> Result<Attempt, OutboxError> {
        let Some(token) = self.claim(id, due_only).await? else {
            return Ok(Attempt::NotClaimed);
        };
        let Some(entry) = self.fetch(id).await? else {
            return Ok(Attempt::NotClaimed);
        };
        if entry.lease_token.as_deref() != Some(token.as_str()) {
            return Ok(Attempt::NotClaimed);
        }
        let limit = self.settings.lease.mul_f64(0.75);
        let outcome = match tokio::time::timeout(limit, self.deliver(&entry, &token)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(PortError::Unavailable(format!(
                "no answer within {} ms",
                limit.as_millis()
            ))),
        };
        match outcome {
            Ok(Delivery::Held(reason)) => {
                tracing::info!(outbox = %id, reference = %entry.reference, reason = reason.key(), "outbox: lending request held for staff review");
                Ok(Attempt::Held(reason))
            }
            Ok(Delivery::Done(delivered_id, lending)) => {
                let first = self.mark_delivered(id, &delivered_id).await?;
                tracing::info!(outbox = %id, reference = %entry.reference, delivered = %delivered_id, attempts = entry.attempts, "outbox: delivered");
                if let (true, Some(request), Some(mail)) = (first, lending, self.lending_mail.get())
                {
                    mail.confirm(&request, &entry.reference, &delivered_id)
                        .await;
                }
                Ok(Attempt::Delivered(delivered_id))
            }
            Err(e) if e.is_transient() => {
                let wait = backoff::delay(
                    entry.attempts,
                    self.settings.first_backoff,
                    self.settings.max_backoff,
                    backoff::jitter(),
                );
                let next = Utc::now()
                    + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero());
                let text = error_text(&e);
                self.release(id, &token, &text, Some(next)).await?;
                tracing::warn!(outbox = %id, attempts = entry.attempts, retry_in_ms = wait.as_millis() as u64, error = %e, "outbox: delivery failed, will retry");
                Ok(Attempt::Retry(text))
            }
            Err(e) => {
                let text = error_text(&e);
                self.release(id, &token, &text, None).await?;
                tracing::error!(outbox = %id, attempts = entry.attempts, error = %e, "outbox: delivery failed for good");
                Ok(Attempt::Failed(text))
            }
        }
    }

    /// Gives up this worker's lease after a failed try, keeping the error:
    /// pending again, due at `retry_at`, or (without one) failed for good.
    /// Only the lease holder's write lands.
    async fn release(
        &self,
        id: &str,
        token: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), OutboxError> {
        let state = if retry_at.is_some() {
            DeliveryState::Pending
        } else {
            DeliveryState::Failed
        };
        sqlx::query(
            "UPDATE outbox SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), last_error = $3, \
             lease_token = NULL, lease_until = NULL, updated_at = $4 \
             WHERE id = $5 AND lease_token = $6 AND state = 'pending'",
        )
        .bind(state.code())
        .bind(retry_at.map(ts))
        .bind(error.to_owned())
        .bind(ts(Utc::now()))
        .bind(id.to_owned())
        .bind(token.to_owned())
        .execute(&self.db.pool)
        .await
        .map_err(storage)?;
        Ok(())
    }

    /// A staff action's UPDATE changed nothing: why (no such row, or not
    /// in a state the action applies to).
    async fn changed(&self, id: &str, rows: u64) -> Result<(), OutboxError> {
        if rows > 0 {
            return Ok(());
        }
        Err(match self.fetch(id).await? {
            None => OutboxError::NotFound,
            Some(e) => OutboxError::WrongState(e.state.code().to_owned()),
        })
    }

    /// Delivered is delivered, whoever holds the lease: the row is closed
    /// and every other worker's later write (which checks its token) misses.
    async fn mark_delivered(&self, id: &str, delivered_id: &str) -> Result<bool, OutboxError> {
        let now = ts(Utc::now());
        let done = sqlx::query(
            "UPDATE outbox SET state = 'delivered', delivered_id = $1, delivered_at = $2, updated_at = $2, \
             lease_token = NULL, lease_until = NULL WHERE id = $3 AND state IN ('pending', 'failed')",
        )
        .bind(delivered_id.to_owned())
        .bind(now)
        .bind(id.to_owned())
        .execute(&self.db.pool)
        .await
        .map_err(storage)?;
        Ok(done.rows_affected() == 1)
    }

    /// The lending request as it may go to the library system: matched to
    /// a partner record and carrying the record's details (kept in the row,
    /// with the partner as its owner, so a retry looks it up there); or the
    /// reason it fits no record, the row now waiting for staff.
    async fn prepare_lending(
        &self,
        entry: &Entry,
        token: &str,
    ) -> Result<Result<NewLendingRequest, HoldReason>, PortError> {
        let asked: NewLendingRequest = json_col(&entry.payload)
            .map_err(|e| PortError::Other(format!("outbox payload: {e}")))?;
        let vetted = if entry.owner.is_empty() {
            let partner = match_partner(self.port.as_ref(), &asked.partner_code).await?;
            lending_intake::vet_lending_request(
                &asked,
                partner.as_ref(),
                self.settings.sender_match,
            )
            .map_err(|reason| (reason, partner.map(|p| p.code)))
        } else {
            // Accepted by staff for this partner, or matched before.
            let partner = self.port.get_partner(&entry.owner).await?;
            match lending_intake::with_record_details(&asked, &partner) {
                Ok(r) => Ok(r),
                Err(reason) => {
                    return Err(PortError::Other(format!(
                        "partner {} cannot receive it: {}",
                        partner.code,
                        reason.key()
                    )))
                }
            }
        };
        match vetted {
            Ok(mut request) => {
                request.external_id = entry.id.clone();
                let payload = serde_json::to_string(&request)
                    .map_err(|e| PortError::Other(format!("outbox payload: {e}")))?;
                if entry.owner != request.partner_code || entry.payload != payload {
                    self.set_partner(&entry.id, token, &request.partner_code, payload)
                        .await
                        .map_err(|e| PortError::Unavailable(e.to_string()))?;
                }
                Ok(Ok(request))
            }
            Err((reason, partner)) => {
                self.hold(&entry.id, token, reason, partner.as_deref())
                    .await
                    .map_err(|e| PortError::Unavailable(e.to_string()))?;
                Ok(Err(reason))
            }
        }
    }

    /// Keeps the partner a lending request was matched to, and the request
    /// with the record's details (only the lease holder's write lands).
    async fn set_partner(
        &self,
        id: &str,
        token: &str,
        partner_code: &str,
        payload: String,
    ) -> Result<(), OutboxError> {
        let done = sqlx::query(
            "UPDATE outbox SET owner = $1, payload = $2, updated_at = $3 \
             WHERE id = $4 AND lease_token = $5 AND state = 'pending'",
        )
        .bind(partner_code.to_owned())
        .bind(payload)
        .bind(ts(Utc::now()))
        .bind(id.to_owned())
        .bind(token.to_owned())
        .execute(&self.db.pool)
        .await
        .map_err(storage)?;
        if done.rows_affected() == 0 {
            return Err(OutboxError::WrongState("lease lost".into()));
        }
        Ok(())
    }

    /// Puts a lending request that fits no partner record in front of
    /// staff, with the reason (only the lease holder's write lands).
    async fn hold(
        &self,
        id: &str,
        token: &str,
        reason: HoldReason,
        partner: Option<&str>,
    ) -> Result<(), OutboxError> {
        sqlx::query(
            "UPDATE outbox SET state = 'review', hold_reason = $1, hold_partner = $2, \
             lease_token = NULL, lease_until = NULL, updated_at = $3 \
             WHERE id = $4 AND lease_token = $5 AND state = 'pending'",
        )
        .bind(reason.key())
        .bind(partner.map(str::to_owned))
        .bind(ts(Utc::now()))
        .bind(id.to_owned())
        .bind(token.to_owned())
        .execute(&self.db.pool)
        .await
        .map_err(storage)?;
        Ok(())
    }

    /// One call (or two) to the library system: the library system's id of
    /// the delivered request.
    async fn deliver(&self, entry: &Entry, token: &str) -> Result<Delivery, PortError> {
        let bad = |e: sqlx::Error| PortError::Other(format!("outbox payload: {e}"));
        // Tried before: that attempt may have reached the library system.
        let tried_before = entry.attempts > 1;
        match entry.kind {
            SubmissionKind::Borrowing => {
                let patron = PatronId(entry.owner.clone());
                let request: NewBorrowingRequest = json_col(&entry.payload).map_err(bad)?;
                if tried_before {
                    if let Some(found) = self
                        .port
                        .find_borrowing_request_by_external_id(&patron, &entry.id)
                        .await?
                    {
                        return Ok(Delivery::Done(found.id, None));
                    }
                }
                let id = match self.port.create_borrowing_request(&patron, request).await {
                    Ok(created) => Ok(created.id),
                    Err(PortError::Duplicate(why)) => self
                        .port
                        .find_borrowing_request_by_external_id(&patron, &entry.id)
                        .await?
                        .map(|r| r.id)
                        .ok_or_else(|| {
                            PortError::Other(format!(
                                "the library system reports a duplicate but has no request with this external id: {why}"
                            ))
                        }),
                    Err(e) => Err(e),
                }?;
                Ok(Delivery::Done(id, None))
            }
            SubmissionKind::Lending => {
                let request = match self.prepare_lending(entry, token).await? {
                    Ok(request) => request,
                    Err(reason) => return Ok(Delivery::Held(reason)),
                };
                let owner = request.partner_code.clone();
                let done = |id: String| Ok(Delivery::Done(id, Some(request.clone())));
                if tried_before {
                    if let Some(found) = self
                        .port
                        .find_lending_request_by_external_id(&owner, &entry.id)
                        .await?
                    {
                        return done(found.id);
                    }
                }
                match self.port.create_lending_request(request.clone()).await {
                    Ok(created) => done(created.id),
                    Err(PortError::Duplicate(why)) => {
                        match self
                            .port
                            .find_lending_request_by_external_id(&owner, &entry.id)
                            .await?
                        {
                            Some(found) => done(found.id),
                            // An adapter that cannot look lending requests
                            // up: the library system has it, id unknown.
                            None => {
                                tracing::warn!(outbox = %entry.id, %why, "outbox: lending request already at the library system");
                                done(String::new())
                            }
                        }
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Stores a submission unless its key is known. Returns the row.
    async fn store(
        &self,
        id: &str,
        kind: SubmissionKind,
        owner: &str,
        title: &str,
        payload: String,
        state: DeliveryState,
    ) -> Result<Entry, OutboxError> {
        let now = ts(Utc::now());
        for _ in 0..3 {
            let inserted = sqlx::query(
                "INSERT INTO outbox (id, reference, kind, owner, title, payload, state, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8, $8) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id.to_owned())
            .bind(new_reference())
            .bind(kind.code())
            .bind(owner.to_owned())
            .bind(title.chars().take(500).collect::<String>())
            .bind(payload.clone())
            .bind(state.code())
            .bind(now.clone())
            .execute(&self.db.pool)
            .await;
            match inserted {
                // A reference that happens to be taken: draw another.
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => continue,
                Err(e) => return Err(storage(e)),
                Ok(_) => break,
            }
        }
        let entry = self.fetch(id).await?.ok_or(OutboxError::NotFound)?;
        // A lending form has no signed-in owner; its random key is all.
        let same_owner = kind == SubmissionKind::Lending || entry.owner == owner;
        if entry.kind != kind || !same_owner {
            return Err(OutboxError::KeyTaken);
        }
        if entry.state == DeliveryState::Failed && entry.payload != payload {
            // The submitter corrected what the library system refused, with
            // the same form: try again with what they sent now.
            sqlx::query(
                "UPDATE outbox SET payload = $1, title = $2, state = 'pending', next_attempt_at = $3, updated_at = $3 \
                 WHERE id = $4 AND state = 'failed'",
            )
            .bind(payload)
            .bind(title.to_owned())
            .bind(now)
            .bind(id.to_owned())
            .execute(&self.db.pool)
            .await
            .map_err(storage)?;
            return self.fetch(id).await?.ok_or(OutboxError::NotFound);
        }
        Ok(entry)
    }

    /// Tries to deliver the row now, waiting at most the inline wait; the
    /// attempt carries on in the background if it takes longer.
    pub async fn deliver_soon(&self, id: &str) -> Result<Submitted, OutboxError> {
        let deadline = tokio::time::Instant::now() + self.settings.inline_wait;
        if let Some(this) = self.me.upgrade() {
            let key = id.to_owned();
            let task = tokio::spawn(async move { this.attempt(&key, false).await });
            let _ = tokio::time::timeout_at(deadline, task).await;
        }
        loop {
            let entry = self.fetch(id).await?.ok_or(OutboxError::NotFound)?;
            let now = ts(Utc::now());
            let in_flight = entry
                .lease_until
                .as_deref()
                .is_some_and(|u| u > now.as_str());
            if entry.state != DeliveryState::Pending
                || !in_flight
                || tokio::time::Instant::now() >= deadline
            {
                if entry.state == DeliveryState::Pending {
                    self.wake.notify_one();
                }
                return Ok(entry.submitted());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The entry with this key, for tests and tools.
    pub async fn entry(&self, id: &str) -> Result<Option<OutboxEntry>, OutboxError> {
        let now = ts(Utc::now());
        Ok(self.fetch(id).await?.map(|e| e.public(&now)))
    }

    async fn select(&self, filter: &str, binds: &[&str]) -> Result<Vec<Entry>, OutboxError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE {filter} ORDER BY created_at, id");
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = query.bind(b.to_string());
        }
        let rows = query.fetch_all(&self.db.pool).await.map_err(storage)?;
        rows.iter()
            .map(entry_from_row)
            .collect::<Result<_, _>>()
            .map_err(storage)
    }
}

/// The known partner a library's identifier (partner code or ISIL, in any
/// case) names.
pub async fn match_partner(
    port: &dyn ResourceSharing,
    id: &str,
) -> Result<Option<Partner>, PortError> {
    let id = id.trim();
    if id.is_empty() {
        return Ok(None);
    }
    match port.get_partner(id).await {
        Ok(p) => return Ok(Some(p)),
        Err(PortError::NotFound) => {}
        Err(e) => return Err(e),
    }
    // Not a code: an ISIL, or a code in another case.
    let all = crate::partners_import::all_partners(port).await?;
    Ok(all
        .into_iter()
        .find(|p| crate::partner_directory::named_by(p, id)))
}

impl Outbox {
    /// Stores a patron's request (once per external id) without trying to
    /// deliver it; the worker will.
    pub async fn enqueue_borrowing(
        &self,
        patron: &PatronId,
        request: &NewBorrowingRequest,
    ) -> Result<Submitted, OutboxError> {
        let payload =
            serde_json::to_string(request).map_err(|e| OutboxError::Storage(e.to_string()))?;
        let entry = self
            .store(
                &request.external_id,
                SubmissionKind::Borrowing,
                patron.as_str(),
                &request.citation.title,
                payload,
                DeliveryState::Pending,
            )
            .await?;
        Ok(entry.submitted())
    }

    /// Stores a lending request (once per external id) without trying to
    /// deliver it; with `hold` it waits for staff review.
    pub async fn enqueue_lending(
        &self,
        request: &NewLendingRequest,
        hold: bool,
    ) -> Result<Submitted, OutboxError> {
        let payload =
            serde_json::to_string(request).map_err(|e| OutboxError::Storage(e.to_string()))?;
        // Matched to a partner while it is delivered; until then no owner.
        let state = if hold {
            DeliveryState::Review
        } else {
            DeliveryState::Pending
        };
        let entry = self
            .store(
                &request.external_id,
                SubmissionKind::Lending,
                "",
                &request.citation.title,
                payload,
                state,
            )
            .await?;
        Ok(entry.submitted())
    }
}

#[async_trait]
impl SubmissionOutbox for Outbox {
    async fn submit_borrowing(
        &self,
        patron: &PatronId,
        request: NewBorrowingRequest,
    ) -> Result<Submitted, OutboxError> {
        match self.enqueue_borrowing(patron, &request).await? {
            Submitted::Pending { .. } => self.deliver_soon(&request.external_id).await,
            other => Ok(other),
        }
    }

    async fn submit_lending(
        &self,
        request: NewLendingRequest,
        hold: bool,
    ) -> Result<Submitted, OutboxError> {
        match self.enqueue_lending(&request, hold).await? {
            Submitted::Pending { .. } => self.deliver_soon(&request.external_id).await,
            other => Ok(other),
        }
    }

    async fn find(
        &self,
        kind: SubmissionKind,
        owner: &str,
        id: &str,
    ) -> Result<Option<OutboxEntry>, OutboxError> {
        let now = ts(Utc::now());
        Ok(self
            .fetch(id)
            .await?
            .filter(|e| e.kind == kind && (kind == SubmissionKind::Lending || e.owner == owner))
            .map(|e| e.public(&now)))
    }

    async fn pending_for_patron(
        &self,
        patron: &PatronId,
    ) -> Result<Vec<PendingSubmission>, OutboxError> {
        let rows = self
            .select(
                "kind = 'borrowing' AND owner = $1 AND state IN ('pending', 'failed')",
                &[patron.as_str()],
            )
            .await?;
        let mut out = Vec::new();
        for e in rows.into_iter().rev() {
            let Ok(request) = json_col::<NewBorrowingRequest>(&e.payload) else {
                continue;
            };
            out.push(PendingSubmission {
                reference: e.reference,
                title: request.citation.title.clone(),
                authors: request.citation.authors_joined(),
                kind: request.citation.kind,
                format: request.format,
                pickup_location: request.pickup_location,
                created: parse_ts(&e.created_at)
                    .map(|t| t.date_naive())
                    .unwrap_or_else(|_| Utc::now().date_naive()),
                failed: e.state == DeliveryState::Failed,
            });
        }
        Ok(out)
    }

    async fn stuck(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        let now = ts(Utc::now());
        let rows = self
            .select(
                "state = 'failed' OR (state = 'pending' AND attempts > 0)",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|e| e.public(&now)).collect())
    }

    async fn cancel_waiting(
        &self,
        patron: &PatronId,
        reference: &str,
    ) -> Result<bool, OutboxError> {
        // Only while no worker holds it: a delivery in flight may already
        // have reached the library system.
        let now = ts(Utc::now());
        let done = sqlx::query(
            "UPDATE outbox SET state = 'rejected', decision = $1, updated_at = $2 \
             WHERE kind = 'borrowing' AND owner = $3 AND reference = $4 \
             AND state IN ('pending', 'failed') AND (lease_until IS NULL OR lease_until < $2)",
        )
        .bind(CANCELLED_BY_PATRON.to_owned())
        .bind(now)
        .bind(patron.as_str().to_owned())
        .bind(reference.to_owned())
        .execute(&self.db.pool)
        .await
        .map_err(storage)?;
        let cancelled = done.rows_affected() == 1;
        if cancelled {
            tracing::info!(%reference, "outbox: withdrawn by the patron before delivery");
        }
        Ok(cancelled)
    }

    async fn retry_now(&self, id: &str) -> Result<(), OutboxError> {
        let now = ts(Utc::now());
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1, updated_at = $1 \
             WHERE id = $2 AND state IN ('pending', 'failed')",
        )
        .bind(now)
        .bind(id.to_owned())
        .execute(&self.db.pool)
        .await
        .map_err(storage)?;
        self.changed(id, done.rows_affected()).await?;
        tracing::info!(outbox = %id, "outbox: retry requested by staff");
        self.wake.notify_one();
        Ok(())
    }

    async fn held(&self) -> Result<Vec<HeldLendingRequest>, OutboxError> {
        let now = ts(Utc::now());
        let rows = self
            .select("kind = 'lending' AND state = 'review'", &[])
            .await?;
        Ok(rows
            .iter()
            .filter_map(|e| {
                Some(HeldLendingRequest {
                    entry: e.public(&now),
                    request: json_col(&e.payload).ok()?,
                })
            })
            .collect())
    }

    async fn accept(&self, id: &str, partner_code: &str) -> Result<(), OutboxError> {
        let now = ts(Utc::now());
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', owner = $1, next_attempt_at = $2, updated_at = $2 \
             WHERE id = $3 AND kind = 'lending' AND state = 'review'",
        )
        .bind(partner_code.to_owned())
        .bind(now)
        .bind(id.to_owned())
        .execute(&self.db.pool)
        .await
        .map_err(storage)?;
        self.changed(id, done.rows_affected()).await?;
        tracing::info!(outbox = %id, partner = %partner_code, "outbox: held lending request accepted");
        self.wake.notify_one();
        Ok(())
    }

    async fn reject(&self, id: &str, reason: &str) -> Result<(), OutboxError> {
        let now = ts(Utc::now());
        let done = sqlx::query(
            "UPDATE outbox SET state = 'rejected', decision = $1, updated_at = $2 \
             WHERE id = $3 AND kind = 'lending' AND state = 'review'",
        )
        .bind(reason.to_owned())
        .bind(now)
        .bind(id.to_owned())
        .execute(&self.db.pool)
        .await
        .map_err(storage)?;
        self.changed(id, done.rows_affected()).await?;
        tracing::info!(outbox = %id, "outbox: held lending request rejected");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_short_and_unambiguous() {
        let r = new_reference();
        assert_eq!(r.len(), 9);
        assert_eq!(&r[4..5], "-");
        assert!(r
            .chars()
            .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"01IO".contains(c))));
        assert_ne!(new_reference(), new_reference());
    }

    #[test]
    fn invalid_input_is_kept_field_by_field() {
        let e = PortError::Invalid(vec![app::domain::FieldError::new(
            "title",
            "error.field.required",
        )]);
        let entry = Entry {
            id: "k".into(),
            reference: "R".into(),
            kind: SubmissionKind::Borrowing,
            owner: "p".into(),
            title: "t".into(),
            payload: "{}".into(),
            state: DeliveryState::Failed,
            attempts: 1,
            next_attempt_at: String::new(),
            lease_token: None,
            lease_until: None,
            last_error: Some(error_text(&e)),
            delivered_id: None,
            decision: None,
            created_at: String::new(),
            hold_reason: None,
            hold_partner: None,
        };
        assert_eq!(
            entry.submitted(),
            Submitted::Failed {
                reference: "R".into(),
                error: e
            }
        );
    }
}
