//! Sending: what staff (or the patron, or the partner) do to a request
//! whose partner speaks ISO 18626 goes to the partner as the matching
//! message, instead of a letter.
//!
//! - **Planning**: a worker reads `request_events` after its cursor
//!   (`iso18626_cursor`), as the letters do (waiting until an event is
//!   settled, so a later-committing lower number is not passed), and writes
//!   the message each event carries into `iso18626_messages` (direction
//!   `out`), keyed `event:<seq>`: an event read twice (a restart, a second
//!   instance) writes nothing new. The message is written whole, with its
//!   timestamp, so every try sends the same bytes (a partner that got a
//!   try whose answer was lost recognises it and answers as before).
//! - **Delivering**: a worker claims a due message with a lease (one
//!   `UPDATE … WHERE`, as the outbox does), posts it to the address on the
//!   partner's record and keeps the confirmation. The partner down (no
//!   answer, 5xx, no confirmation) → tried again after the outbox's
//!   doubling backoff; an ERROR confirmation → `refused`, kept with the
//!   partner's error for staff (as is a partner without an address,
//!   `failed`). Messages about one request go in order: one waits while an
//!   earlier one to the same partner is still pending.

use std::sync::Arc;
use std::time::Duration;

use app::domain::history::{Actor, Audience, RequestEvent, Side};
use app::domain::{Citation, NewLendingRequest};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use tokio::sync::Notify;

use super::messages::{
    self, format_time, Action, AgencyId, Authentication, BibliographicInfo, DeliveryInfo, Header,
    ItemId, Message, MessageInfo, ReasonForMessage, Request, RequestingAgencyMessage, SchemeValue,
    ServiceInfo, ServiceType, Status, StatusInfo, SupplyingAgencyMessage, YesNo,
};
use super::store::{self, Peer};
use crate::config::Config;
use crate::outbox::backoff;
use crate::storage::{json_col, ts, Db};

/// Events up to it have been acted on.
const CURSOR: crate::history::Cursor = crate::history::Cursor::new("iso18626_cursor");

/// How the sender works (from `[iso18626]` and `[outbox]`).
#[derive(Clone, Debug)]
pub struct SendSettings {
    pub enabled: bool,
    pub symbol: String,
    pub poll_interval: Duration,
    pub settle: Duration,
    pub timeout: Duration,
    pub lease: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl SendSettings {
    pub fn from_config(config: &Config) -> Self {
        let o = &config.outbox;
        Self {
            // Kauko cannot sign messages without its own agency id: then
            // nothing is sent (and partner letters go as before).
            enabled: config.iso18626.enabled
                && config.backend.kind == crate::config::BackendKind::Local
                && !config.iso18626.symbol.trim().is_empty(),
            symbol: config.iso18626.symbol.clone(),
            poll_interval: Duration::from_millis(o.poll_interval_milliseconds),
            settle: Duration::from_millis(config.letters.settle_milliseconds),
            timeout: Duration::from_secs(config.iso18626.timeout_seconds.max(1)),
            lease: Duration::from_secs(o.lease_seconds.max(config.iso18626.timeout_seconds + 5)),
            first_backoff: Duration::from_millis(o.first_backoff_milliseconds),
            max_backoff: Duration::from_secs(o.max_backoff_seconds),
        }
    }
}

/// How one delivery ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The partner confirmed with OK.
    Confirmed,
    /// The partner answered ERROR (kept; not tried again).
    Refused(String),
    /// The partner could not be reached: tried again later.
    Retry(String),
    /// Cannot be sent (no address).
    Failed(String),
    /// Another worker has it, or it is not due.
    NotClaimed,
}

pub struct Sender {
    db: Db,
    settings: SendSettings,
    client: reqwest::Client,
    wake: Notify,
}

/// The request a message is about, as the message needs it.
struct Subject {
    partner_code: String,
    /// Borrowing: the citation, the format, the date, the patron's note.
    citation: Option<Citation>,
    physical: bool,
    needed_by: Option<NaiveDate>,
    /// Borrowing: the patron's note with the request.
    note: Option<String>,
    /// Lending: the partner's own request id.
    their_id: Option<String>,
    /// Borrowing: the supplier's request id, once it told it.
    supplier_id: Option<String>,
}

fn due_time(date: NaiveDate) -> String {
    format_time(date.and_hms_opt(20, 59, 59).unwrap_or_default().and_utc())
}

impl Sender {
    pub fn new(db: Db, settings: SendSettings) -> Arc<Self> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("Kauko/", env!("CARGO_PKG_VERSION"), " ISO 18626"))
            .build()
            .unwrap_or_default();
        Arc::new(Self {
            db,
            settings,
            client,
            wake: Notify::new(),
        })
    }

    pub fn settings(&self) -> &SendSettings {
        &self.settings
    }

    /// Plans and delivers until the task is dropped.
    pub fn spawn_worker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = this.plan().await {
                    tracing::warn!(error = %e, "iso18626: cannot plan messages");
                }
                match this.send_due().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "iso18626: cannot read due messages"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(this.settings.poll_interval) => {}
                    _ = this.wake.notified() => {}
                }
            }
        })
    }

    /// Plans and sends everything due now (tests, tools); returns the
    /// deliveries tried.
    pub async fn drain(&self) -> Result<usize, sqlx::Error> {
        let mut total = 0;
        loop {
            self.plan().await?;
            let n = self.send_due().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Writes the messages of the history events after the cursor.
    pub async fn plan(&self) -> Result<usize, sqlx::Error> {
        if !self.settings.enabled {
            return Ok(0);
        }
        let batch = CURSOR.settled(&self.db, self.settings.settle).await?;
        let mut done = None;
        let mut written = 0;
        for event in &batch.events {
            match self.plan_one(event).await {
                Ok(true) => written += 1,
                Ok(false) => {}
                Err(e) => {
                    if let Some(seq) = done {
                        CURSOR.advance(&self.db, seq).await?;
                    }
                    return Err(e);
                }
            }
            done = Some(event.seq);
        }
        if let Some(seq) = done {
            CURSOR.advance(&self.db, seq).await?;
        }
        Ok(written)
    }

    async fn subject(
        &self,
        side: Side,
        id: &str,
        partner: &str,
    ) -> Result<Option<Subject>, sqlx::Error> {
        match side {
            Side::Borrowing => {
                let Some(row) = sqlx::query(
                    "SELECT citation, format, needed_by, note FROM borrowing_requests WHERE id = $1",
                )
                .bind(id.to_owned())
                .fetch_optional(&self.db.pool)
                .await?
                else {
                    return Ok(None);
                };
                let citation: Citation = json_col(&row.try_get::<String, _>("citation")?)?;
                let format: String = row.try_get("format")?;
                let needed_by: Option<String> = row.try_get("needed_by")?;
                Ok(Some(Subject {
                    partner_code: partner.to_owned(),
                    citation: Some(citation),
                    physical: format == "PHYSICAL",
                    needed_by: needed_by.and_then(|d| {
                        NaiveDate::parse_from_str(&d[..d.len().min(10)], "%Y-%m-%d").ok()
                    }),
                    note: row.try_get("note")?,
                    their_id: None,
                    supplier_id: store::supplier_request_id(&self.db, id).await?,
                }))
            }
            Side::Lending => {
                let Some(row) = sqlx::query("SELECT body FROM lending_requests WHERE id = $1")
                    .bind(id.to_owned())
                    .fetch_optional(&self.db.pool)
                    .await?
                else {
                    return Ok(None);
                };
                let body: NewLendingRequest = json_col(&row.try_get::<String, _>("body")?)?;
                // iso18626:<type>:<value>:<their id>; a request that came by
                // form has no id at the partner and gets no messages.
                let their_id = body
                    .external_id
                    .strip_prefix("iso18626:")
                    .and_then(|rest| rest.splitn(3, ':').nth(2))
                    .map(str::to_owned);
                if their_id.is_none() {
                    return Ok(None);
                }
                Ok(Some(Subject {
                    partner_code: partner.to_owned(),
                    citation: None,
                    physical: true,
                    needed_by: None,
                    note: None,
                    their_id,
                    supplier_id: None,
                }))
            }
        }
    }

    /// The message one event carries, written once.
    async fn plan_one(&self, event: &RequestEvent) -> Result<bool, sqlx::Error> {
        // The patron's own steps (a renewal asked) name no partner: the
        // request's.
        let code = match (&event.partner, event.side) {
            (Some(code), _) => code.clone(),
            (None, Side::Borrowing) => {
                let partner: Option<Option<String>> =
                    sqlx::query_scalar("SELECT partner_code FROM borrowing_requests WHERE id = $1")
                        .bind(event.request_id.clone())
                        .fetch_optional(&self.db.pool)
                        .await?;
                match partner.flatten() {
                    Some(code) => code,
                    None => return Ok(false),
                }
            }
            (None, Side::Lending) => return Ok(false),
        };
        let code = code.as_str();
        // The partner's own doing comes back only as a cancellation's
        // answer.
        let from_partner = matches!(&event.actor, Actor::Partner(_));
        if from_partner && !(event.side == Side::Lending && event.action == "cancel") {
            return Ok(false);
        }
        let Some(peer) = store::peer_by_code(&self.db, code).await? else {
            return Ok(false);
        };
        let Some(subject) = self.subject(event.side, &event.request_id, code).await? else {
            return Ok(false);
        };
        let me = AgencyId::from_symbol(&self.settings.symbol);
        let Some(message) = message_for(event, &subject, &peer, &me, Utc::now()) else {
            return Ok(false);
        };
        let summary = match &message {
            Message::Request(_) => "request".to_owned(),
            Message::SupplyingAgencyMessage(m) => format!(
                "{} {}",
                m.message_info.reason_for_message.as_str(),
                m.status_info.status.as_str()
            ),
            Message::RequestingAgencyMessage(m) => m.action.as_str().to_owned(),
            other => other.kind().to_owned(),
        };
        let kind = message.kind();
        let body = peer.dialect.write(message);
        let now = ts(Utc::now());
        let done = sqlx::query(
            "INSERT INTO iso18626_messages (id, direction, partner_code, side, request_id, kind, summary, dedup_key, body, state, attempts, next_attempt_at, created_at, updated_at) \
             VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9, $9) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().simple().to_string())
        .bind(subject.partner_code.clone())
        .bind(event.side.code())
        .bind(event.request_id.clone())
        .bind(kind)
        .bind(summary)
        .bind(format!("event:{}", event.seq))
        .bind(body)
        .bind(now)
        .execute(&self.db.pool)
        .await?;
        if done.rows_affected() == 1 {
            self.wake.notify_one();
        }
        Ok(done.rows_affected() == 1)
    }

    /// Sends the due messages (the oldest pending one per request);
    /// returns how many were tried.
    pub async fn send_due(&self) -> Result<usize, sqlx::Error> {
        let now = ts(Utc::now());
        let rows = sqlx::query(
            "SELECT m.id FROM iso18626_messages m WHERE m.direction = 'out' AND m.state = 'pending' \
             AND m.next_attempt_at <= $1 AND (m.lease_until IS NULL OR m.lease_until < $1) \
             AND NOT EXISTS (SELECT 1 FROM iso18626_messages e WHERE e.direction = 'out' AND e.state = 'pending' \
               AND e.side = m.side AND e.request_id = m.request_id AND (e.created_at < m.created_at OR (e.created_at = m.created_at AND e.id < m.id))) \
             ORDER BY m.next_attempt_at, m.id LIMIT 16",
        )
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?;
        let mut tried = 0;
        for row in rows {
            let id: String = row.try_get("id")?;
            if self.send_one(&id).await? != Sent::NotClaimed {
                tried += 1;
            }
        }
        Ok(tried)
    }

    /// Claims one message and posts it.
    pub async fn send_one(&self, id: &str) -> Result<Sent, sqlx::Error> {
        let now = Utc::now();
        let token = uuid::Uuid::new_v4().simple().to_string();
        let until = now + chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let claimed = sqlx::query(
            "UPDATE iso18626_messages SET lease_token = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id = $4 AND direction = 'out' AND state = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(token.clone())
        .bind(ts(until))
        .bind(ts(now))
        .bind(id.to_owned())
        .execute(&self.db.pool)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(Sent::NotClaimed);
        }
        let row =
            sqlx::query("SELECT partner_code, body, attempts, side, request_id, summary FROM iso18626_messages WHERE id = $1")
                .bind(id.to_owned())
                .fetch_one(&self.db.pool)
                .await?;
        let partner: String = row.try_get("partner_code")?;
        let body: String = row.try_get("body")?;
        let attempts = u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX);
        let side: Option<String> = row.try_get("side")?;
        let request_id: Option<String> = row.try_get("request_id")?;
        let summary: Option<String> = row.try_get("summary")?;
        let peer = store::peer_by_code(&self.db, &partner).await?;
        let outcome = match peer.as_ref().and_then(|p| p.url.clone()) {
            None => Sent::Failed(format!("partner {partner} has no ISO 18626 address")),
            Some(url) => self.post(&url, body, peer.as_ref()).await,
        };
        let (state, error, next): (&str, Option<String>, Option<DateTime<Utc>>) = match &outcome {
            Sent::Confirmed => ("sent", None, None),
            Sent::Refused(e) => ("refused", Some(e.clone()), None),
            Sent::Failed(e) => ("failed", Some(e.clone()), None),
            Sent::Retry(e) => {
                let wait = backoff::delay(
                    attempts,
                    self.settings.first_backoff,
                    self.settings.max_backoff,
                    backoff::jitter(),
                );
                (
                    "pending",
                    Some(e.clone()),
                    Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default()),
                )
            }
            Sent::NotClaimed => return Ok(Sent::NotClaimed),
        };
        // The outcome, and in the request's history what staff should see:
        // a message confirmed or not accepted, or the first failed try
        // (the message waits; later tries only update the log).
        let timeline = match &outcome {
            Sent::Confirmed => Some(("iso_sent", None)),
            Sent::Refused(e) | Sent::Failed(e) => Some(("iso_not_accepted", Some(e.clone()))),
            Sent::Retry(e) if attempts == 1 => Some(("iso_waiting", Some(e.clone()))),
            _ => None,
        };
        let mut tx = self.db.begin_write().await?;
        let done = sqlx::query(
            "UPDATE iso18626_messages SET state = $1, error = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
             lease_token = NULL, lease_until = NULL, updated_at = $4 WHERE id = $5 AND lease_token = $6",
        )
        .bind(state)
        .bind(error)
        .bind(next.map(ts))
        .bind(ts(Utc::now()))
        .bind(id.to_owned())
        .bind(token)
        .execute(&mut *tx)
        .await?;
        let side = side.as_deref().and_then(Side::from_code);
        if let (1, Some((action, why)), Some(side), Some(request_id)) =
            (done.rows_affected(), timeline, side, request_id)
        {
            if let Some(now_state) = current_state(&mut tx, side, &request_id).await? {
                let what = summary.unwrap_or_default();
                crate::history::record(
                    &mut *tx,
                    &app::domain::history::NewEvent {
                        side,
                        request_id,
                        actor: Actor::Kauko,
                        action: action.to_owned(),
                        from_state: Some(now_state.clone()),
                        to_state: now_state,
                        partner: Some(partner.clone()),
                        note: Some((
                            match why {
                                Some(why) => format!("{what}: {why}"),
                                None => what,
                            },
                            Audience::Internal,
                        )),
                    },
                )
                .await?;
            }
        }
        tx.commit().await?;
        match &outcome {
            Sent::Confirmed => {
                tracing::info!(message = %id, %partner, "iso18626: message confirmed")
            }
            Sent::Retry(e) => {
                tracing::warn!(message = %id, %partner, attempts, error = %e, "iso18626: partner not reached, will retry")
            }
            other => {
                tracing::error!(message = %id, %partner, outcome = ?other, "iso18626: message not accepted")
            }
        }
        Ok(outcome)
    }

    async fn post(&self, url: &str, body: String, peer: Option<&Peer>) -> Sent {
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/xml; charset=utf-8")
            .body(body);
        if let Some(secret) = peer.and_then(|p| p.secret.as_deref()) {
            req = req.bearer_auth(secret);
        }
        let res = match req.send().await {
            Ok(r) => r,
            Err(e) => return Sent::Retry(e.to_string()),
        };
        let status = res.status();
        let text = match res.text().await {
            Ok(t) => t,
            Err(e) => return Sent::Retry(e.to_string()),
        };
        if status.is_server_error() || status.as_u16() == 429 {
            return Sent::Retry(format!("HTTP {status}"));
        }
        let confirmation = messages::parse(text.as_bytes())
            .ok()
            .and_then(|e| e.message.confirmation().cloned());
        match confirmation {
            Some(c) if c.header.ok() => Sent::Confirmed,
            Some(c) => Sent::Refused(match c.error {
                Some(e) => format!(
                    "{}: {}",
                    e.error_type.as_str(),
                    e.error_value.unwrap_or_default()
                ),
                None => format!("HTTP {status}: ERROR"),
            }),
            None if status.is_success() => Sent::Retry(format!("HTTP {status}: no confirmation")),
            None => Sent::Refused(format!("HTTP {status}")),
        }
    }
}

/// A request's state as its history names it.
async fn current_state(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    side: Side,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let table = match side {
        Side::Borrowing => "borrowing_requests",
        Side::Lending => "lending_requests",
    };
    let status: Option<String> =
        sqlx::query_scalar(&format!("SELECT status FROM {table} WHERE id = $1"))
            .bind(id.to_owned())
            .fetch_optional(&mut **tx)
            .await?;
    Ok(status.map(|s| match side {
        Side::Lending => {
            app::domain::workflow::LendingState::from_code(&s).map_or(s, |l| l.code().to_owned())
        }
        Side::Borrowing => s,
    }))
}

fn header(
    requester: &AgencyId,
    supplier: &AgencyId,
    request_id: &str,
    supplier_id: Option<String>,
    peer: &Peer,
    now: DateTime<Utc>,
) -> Header {
    Header {
        supplying_agency_id: supplier.clone(),
        requesting_agency_id: requester.clone(),
        multiple_item_request_id: None,
        timestamp: format_time(now),
        requesting_agency_request_id: request_id.to_owned(),
        supplying_agency_request_id: supplier_id,
        authentication: peer.secret.as_ref().map(|s| Authentication {
            account_id: None,
            security_code: Some(s.clone()),
        }),
    }
}

/// The message an event carries to the partner, if any (pure: the
/// request, the partner and the time given).
fn message_for(
    event: &RequestEvent,
    subject: &Subject,
    peer: &Peer,
    me: &AgencyId,
    now: DateTime<Utc>,
) -> Option<Message> {
    let note = event.note.clone();
    match event.side {
        Side::Borrowing => {
            let h = header(
                me,
                &peer.agency(),
                &event.request_id,
                subject.supplier_id.clone(),
                peer,
                now,
            );
            let action = match event.action.as_str() {
                "send_to_partner" => {
                    let c = subject.citation.clone().unwrap_or_default();
                    // The patron's note, and staff's with the sending.
                    let note = match (subject.note.clone(), note) {
                        (Some(a), Some(b)) => Some(format!("{a} — {b}")),
                        (a, b) => a.or(b),
                    };
                    return Some(Message::Request(request(h, &c, subject, note)));
                }
                "cancel" | "cancel_by_staff" => Action::Cancel,
                "received" => Action::Received,
                "return_to_partner" => Action::ShippedReturn,
                "ask_renewal" => Action::Renew,
                _ => return None,
            };
            // A staff cancellation before anything went out is not news.
            if event.action == "cancel_by_staff"
                && !matches!(
                    event.from_state.as_deref(),
                    Some("REQUEST_SENT" | "IN_PROCESS" | "WILL_SUPPLY")
                )
            {
                return None;
            }
            Some(Message::RequestingAgencyMessage(RequestingAgencyMessage {
                header: h,
                action,
                note: note.filter(|_| {
                    event.audience != Some(Audience::Patron) || event.action != "cancel"
                }),
            }))
        }
        Side::Lending => {
            let h = header(
                &peer.agency(),
                me,
                subject.their_id.as_deref().unwrap_or_default(),
                Some(event.request_id.clone()),
                peer,
                now,
            );
            let due = app::letters::due_in_note(note.as_deref())
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
            let (reason, status, answer) = match event.action.as_str() {
                "accept" => (ReasonForMessage::RequestResponse, Status::WillSupply, None),
                "cannot_supply" if event.from_state.as_deref() == Some("RequestReceived") => {
                    (ReasonForMessage::RequestResponse, Status::Unfilled, None)
                }
                "cannot_supply" => (ReasonForMessage::StatusChange, Status::Unfilled, None),
                "ship" => (ReasonForMessage::StatusChange, Status::Loaned, None),
                "send_copy" => (ReasonForMessage::StatusChange, Status::CopyCompleted, None),
                "grant_renewal" => (
                    ReasonForMessage::RenewResponse,
                    Status::Loaned,
                    Some(YesNo::Y),
                ),
                "refuse_renewal" => (
                    ReasonForMessage::RenewResponse,
                    Status::Loaned,
                    Some(YesNo::N),
                ),
                "recall" => (ReasonForMessage::StatusChange, Status::Recalled, None),
                "mark_overdue" => (ReasonForMessage::StatusChange, Status::Overdue, None),
                "returned" => (ReasonForMessage::StatusChange, Status::LoanCompleted, None),
                "close_without_return" => (
                    ReasonForMessage::StatusChange,
                    Status::CompletedWithoutReturn,
                    None,
                ),
                "cancel" => (
                    ReasonForMessage::CancelResponse,
                    Status::Cancelled,
                    Some(YesNo::Y),
                ),
                "refuse_cancel" => (
                    ReasonForMessage::CancelResponse,
                    Status::parse(&event.to_state),
                    Some(YesNo::N),
                ),
                "note" if event.audience == Some(Audience::Patron) => (
                    ReasonForMessage::Notification,
                    Status::parse(&event.to_state),
                    None,
                ),
                _ => return None,
            };
            let status_change = reason == ReasonForMessage::StatusChange;
            let mut info = MessageInfo::new(reason);
            info.answer_yes_no = answer;
            // The due date travels in dueDate, the link in the note.
            info.note = note.filter(|n| !n.starts_with("due ") || due.is_none());
            if status == Status::Unfilled {
                info.reason_unfilled = Some(SchemeValue::new("NotAvailable"));
            }
            let delivery =
                matches!(status, Status::Loaned | Status::CopyCompleted) && status_change;
            Some(Message::SupplyingAgencyMessage(SupplyingAgencyMessage {
                header: h,
                message_info: info,
                status_info: StatusInfo {
                    status,
                    expected_delivery_date: None,
                    due_date: due.map(due_time),
                    last_change: Some(format_time(now)),
                },
                delivery_info: delivery.then(|| DeliveryInfo {
                    date_sent: Some(format_time(now)),
                    sent_via: (event.action == "send_copy").then(|| SchemeValue::new("URL")),
                    ..DeliveryInfo::default()
                }),
                return_info: None,
            }))
        }
    }
}

fn request(h: Header, c: &Citation, subject: &Subject, note: Option<String>) -> Request {
    let article = c.container_title.is_some();
    let mut ids = Vec::new();
    for (code, value) in [
        ("ISBN", &c.isbn),
        ("ISSN", &c.issn),
        ("DOI", &c.doi),
        ("PMID", &c.pmid),
    ] {
        if let Some(v) = value {
            ids.push(ItemId {
                identifier: v.clone(),
                code: SchemeValue::new(code),
            });
        }
    }
    let mut service = ServiceInfo::new(if subject.physical {
        ServiceType::Loan
    } else {
        ServiceType::Copy
    });
    service.need_before_date = subject.needed_by.map(due_time);
    service.note = note;
    Request {
        header: h,
        bibliographic_info: BibliographicInfo {
            title: Some(if article {
                c.container_title.clone().unwrap_or_default()
            } else {
                c.title.clone()
            }),
            author: (!article).then(|| c.authors.first().cloned()).flatten(),
            edition: c.edition.clone(),
            title_of_component: article.then(|| c.title.clone()),
            author_of_component: article.then(|| c.authors.first().cloned()).flatten(),
            volume: c.volume.clone(),
            issue: c.issue.clone(),
            pages_requested: c.pages.clone(),
            item_ids: ids,
            ..BibliographicInfo::default()
        },
        publication_info: (c.publisher.is_some()
            || c.year.is_some()
            || c.place_of_publication.is_some())
        .then(|| messages::PublicationInfo {
            publisher: c.publisher.clone(),
            publication_type: None,
            publication_date: c.year.clone(),
            place_of_publication: c.place_of_publication.clone(),
        }),
        service_info: Some(service),
        supplier_info: Vec::new(),
        requested_delivery_info: Vec::new(),
        requesting_agency_info: None,
        patron_info: None,
        billing_info: None,
    }
}
