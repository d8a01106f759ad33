//! Letters to patrons and partner libraries, driven by the request history.
//!
//! - **Planning**: a worker reads `request_events` after its cursor
//!   (`letter_cursor`), asks [`app::letters::letters_for`] which letters an
//!   event sends, and writes each one, rendered, into `letters`. It reads
//!   an event only once it is `letters.settle_milliseconds` old and stops at
//!   the first younger one: on PostgreSQL a transaction that took a lower
//!   number may commit after one with a higher number, and the cursor must
//!   not pass an event that is not visible yet. A daily
//!   check does the same for loans due soon or overdue, keyed by the due
//!   date (a renewed loan gets its own notices). The lending request's
//!   arrival is written when the outbox accepts it (either backend).
//! - **Exactly once**: `letters` is unique on (kind, side, request,
//!   trigger). Writing is `INSERT … ON CONFLICT DO NOTHING`, so the same
//!   event read twice (a restart, a second instance) writes nothing new.
//! - **Sending**: a worker claims a due letter with a lease (one `UPDATE …
//!   WHERE`, as the outbox does), sends it with a stable `Message-ID`, and
//!   records the mail server's answer. A temporary failure is retried with
//!   a doubling wait; a refusal, or the last try, marks it failed for
//!   staff. A letter is stored as rendered: editing a template never
//!   changes one already written.

mod office;
pub mod store;
pub mod templates;

use std::sync::Arc;
use std::time::Duration;

use app::domain::history::{RequestEvent, Side};
use app::i18n::Lang;
use app::letters::{LetterKind, LetterState, Rendered, TemplateText};
use chrono::{NaiveDate, Utc};
use minijinja::Value;
use sqlx::Row;
use tokio::sync::Notify;

use crate::config::{Config, LettersConfig};
use crate::mail::Mailer;
use crate::storage::{ts, Db};
use templates::{format_date, Values};

/// Events up to it have been acted on.
const CURSOR: crate::history::Cursor = crate::history::Cursor::new("letter_cursor");

pub struct Letters {
    pub(crate) db: Db,
    mailer: Arc<Mailer>,
    pub(crate) config: LettersConfig,
    /// Tries after the first (`mail.retries`), the first wait
    /// (`mail.first_retry_seconds`), doubling up to an hour.
    retries: u32,
    first_retry: Duration,
    public_url: String,
    pub(crate) default_lang: Lang,
    pub(crate) library: app::site::LocalizedText,
    wake: Notify,
    /// Alma's REST API (URL, key), when Kauko runs on Alma: which of
    /// Alma's own letters are on is shown beside Kauko's switches.
    alma: Option<(String, String)>,
    alma_cache: tokio::sync::Mutex<Option<(std::time::Instant, AlmaLetters)>>,
    /// Whether partners whose record says ISO 18626 get messages instead
    /// of partner letters (`iso18626.enabled` on the local backend).
    iso18626: bool,
}

/// Alma's letters by the Kauko letter they match: (code, switched on).
pub type AlmaLetters = std::collections::HashMap<LetterKind, (String, bool)>;

/// What a letter is about, read from the database.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    pub reference: String,
    pub title: String,
    pub author: String,
    pub recipient_email: Option<String>,
    pub recipient_name: String,
    /// The languages to write in (two for a bilingual partner letter).
    pub langs: Vec<Lang>,
    pub request_url: String,
    pub pickup_location: String,
    pub due_date: Option<NaiveDate>,
    pub service_loan: bool,
}

impl Letters {
    pub fn new(db: Db, mailer: Arc<Mailer>, config: &Config) -> Arc<Self> {
        Arc::new(Self {
            db,
            mailer,
            config: config.letters.clone(),
            retries: config.mail.retries,
            first_retry: Duration::from_secs(config.mail.first_retry_seconds),
            public_url: config.public_url(),
            default_lang: config.library.default_language,
            library: config.library.name.localized(),
            wake: Notify::new(),
            alma: match (&config.backend.kind, &config.alma.url, &config.alma.api_key) {
                (crate::config::BackendKind::Alma, Some(url), Some(key)) => {
                    Some((url.trim_end_matches('/').to_owned(), key.clone()))
                }
                _ => None,
            },
            alma_cache: tokio::sync::Mutex::new(None),
            iso18626: crate::iso18626::send::SendSettings::from_config(config).enabled,
        })
    }

    /// The partner's own lending form: where its letters point.
    fn partner_form(&self, code: &str) -> String {
        format!(
            "{}/lend/{}",
            self.public_url,
            percent_encoding::utf8_percent_encode(code, percent_encoding::NON_ALPHANUMERIC)
        )
    }

    /// Makes the worker look now (after a change that may send a letter).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// The worker: plans letters from new history events, checks due
    /// dates once an hour, and sends what is due.
    pub fn spawn_worker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            if !this.config.enabled {
                return;
            }
            let poll = Duration::from_millis(this.config.poll_interval_milliseconds.max(50));
            let mut checked: Option<std::time::Instant> = None;
            loop {
                if let Err(e) = this.plan().await {
                    tracing::warn!(error = %e, "letters: cannot read the history");
                }
                if checked.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                    match this.check_dates(Utc::now().date_naive()).await {
                        Ok(_) => checked = Some(std::time::Instant::now()),
                        Err(e) => tracing::warn!(error = %e, "letters: due-date check failed"),
                    }
                }
                if let Err(e) = this.send_due().await {
                    tracing::warn!(error = %e, "letters: cannot send");
                }
                tokio::select! {
                    _ = this.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        })
    }

    /// Writes the letters of the history events after the cursor; returns
    /// how many were written.
    pub async fn plan(&self) -> Result<usize, sqlx::Error> {
        let settle = std::time::Duration::from_millis(self.config.settle_milliseconds);
        let batch = CURSOR.settled(&self.db, settle).await?;
        let mut written = 0;
        let mut done = None;
        for event in &batch.events {
            for kind in app::letters::letters_for(event) {
                match self.from_event(kind, event).await {
                    Ok(true) => written += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, request = %event.request_id, kind = kind.code(), "letters: cannot write a letter; will try again");
                        // Leave the cursor before this event, so it is read again.
                        if let Some(seq) = done {
                            CURSOR.advance(&self.db, seq).await?;
                        }
                        return Err(e);
                    }
                }
            }
            done = Some(event.seq);
        }
        if let Some(seq) = done {
            CURSOR.advance(&self.db, seq).await?;
        }
        if written > 0 {
            self.wake.notify_one();
        }
        Ok(written)
    }

    /// The letter an event sends, written once.
    async fn from_event(
        &self,
        kind: LetterKind,
        event: &RequestEvent,
    ) -> Result<bool, sqlx::Error> {
        let key = format!("event:{}", event.seq);
        if self
            .exists(kind, event.side, &event.request_id, &key)
            .await?
        {
            return Ok(false);
        }
        // A partner that speaks ISO 18626 gets the message the event
        // carries (iso18626/send.rs), not a letter.
        if self.iso18626 && kind.recipient() == app::letters::Recipient::Partner {
            if let Some(code) = event.partner.as_deref() {
                if crate::iso18626::store::peer_by_code(&self.db, code)
                    .await?
                    .is_some()
                {
                    return Ok(false);
                }
            }
        }
        let Some(subject) = self.subject(event.side, &event.request_id).await? else {
            return Ok(false);
        };
        let day = crate::storage::parse_ts(&event.at)
            .map(|t| t.date_naive())
            .unwrap_or_else(|_| Utc::now().date_naive());
        let note = event.note.clone().unwrap_or_default();
        let mut extra: Vec<(&str, ExtraValue)> = Vec::new();
        use app::letters::LetterKind as K;
        match kind {
            K::PatronCannotSupply
            | K::PatronCancelled
            | K::PatronRenewalRefused
            | K::PartnerCannotSupply => {
                extra.push(("reason", ExtraValue::Text(note.clone())));
            }
            K::PatronReadyForPickup => {
                extra.push((
                    "pickup_location",
                    ExtraValue::Text(subject.pickup_location.clone()),
                ));
                extra.push((
                    "pickup_until",
                    ExtraValue::Date(day + chrono::Days::new(u64::from(self.config.pickup_days))),
                ));
            }
            K::PatronAvailableOnline => {
                extra.push(("link", ExtraValue::Text(subject.request_url.clone())));
                extra.push((
                    "link_until",
                    ExtraValue::Date(day + chrono::Days::new(u64::from(self.config.link_days))),
                ));
            }
            K::PatronRenewalGranted => {
                if let Some(d) = due_of(&note).or(subject.due_date) {
                    extra.push(("due_date", ExtraValue::Date(d)));
                }
            }
            K::PatronOverdue | K::PartnerOverdue => {
                if let Some(d) = subject.due_date {
                    extra.push(("due_date", ExtraValue::Date(d)));
                }
            }
            K::PatronQuery | K::PartnerMessage => {
                extra.push(("message", ExtraValue::Text(note.clone())));
            }
            K::PartnerShipped => {
                if event.action == "send_copy" {
                    extra.push(("link", ExtraValue::Text(note.clone())));
                } else if let Some(d) = due_of(&note).or(subject.due_date) {
                    extra.push(("due_date", ExtraValue::Date(d)));
                }
            }
            K::PartnerRenewalAnswer => {
                let granted = event.action == "grant_renewal";
                extra.push(("granted", ExtraValue::Bool(granted)));
                if granted {
                    if let Some(d) = due_of(&note).or(subject.due_date) {
                        extra.push(("due_date", ExtraValue::Date(d)));
                    }
                } else {
                    extra.push(("reason", ExtraValue::Text(note.clone())));
                    if let Some(d) = subject.due_date {
                        extra.push(("due_date", ExtraValue::Date(d)));
                    }
                }
            }
            _ => {}
        }
        self.write(
            kind,
            event.side,
            &event.request_id,
            &key,
            &subject,
            &extra,
            day,
        )
        .await
    }

    async fn exists(
        &self,
        kind: LetterKind,
        side: Side,
        request_id: &str,
        key: &str,
    ) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query(
            "SELECT 1 FROM letters WHERE kind = $1 AND side = $2 AND request_id = $3 AND trigger_key = $4",
        )
        .bind(kind.code())
        .bind(side.code())
        .bind(request_id.to_owned())
        .bind(key.to_owned())
        .fetch_optional(&self.db.pool)
        .await?
        .is_some())
    }

    /// Renders and stores one letter, unless it is switched off or already
    /// written. Returns whether a new letter was written.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write(
        &self,
        kind: LetterKind,
        side: Side,
        request_id: &str,
        key: &str,
        subject: &Subject,
        extra: &[(&str, ExtraValue)],
        day: NaiveDate,
    ) -> Result<bool, sqlx::Error> {
        if !self.config.enabled || !store::enabled(&self.db, kind).await? {
            return Ok(false);
        }
        let mut parts: Vec<(Lang, Rendered, String)> = Vec::new();
        for lang in &subject.langs {
            let (text, version) = store::current(&self.db, kind, *lang).await?;
            let values = self.values(kind, *lang, subject, extra, day);
            match templates::render(kind, &text, &values) {
                Ok(r) => parts.push((*lang, r, version)),
                Err(e) => {
                    // A saved template always renders (it is checked at
                    // save); fall back to the shipped one all the same.
                    tracing::error!(kind = kind.code(), lang = lang.code(), error = ?e, "letters: template does not render; using the default");
                    let d = templates::default_text(kind, *lang);
                    if let Ok(r) = templates::render(kind, &d, &values) {
                        parts.push((*lang, r, "default".into()));
                    }
                }
            }
        }
        let Some(first) = parts.first() else {
            return Ok(false);
        };
        let (subject_line, text, html) = if parts.len() == 1 {
            (
                first.1.subject.clone(),
                first.1.text.clone(),
                first.1.html.clone(),
            )
        } else {
            (
                parts
                    .iter()
                    .map(|p| p.1.subject.as_str())
                    .collect::<Vec<_>>()
                    .join(" / "),
                parts
                    .iter()
                    .map(|p| p.1.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n----\n\n"),
                parts
                    .iter()
                    .map(|p| format!("<div lang=\"{}\">\n{}\n</div>", p.0.code(), p.1.html))
                    .collect::<Vec<_>>()
                    .join("\n<hr>\n"),
            )
        };
        let lang_code = parts
            .iter()
            .map(|p| p.0.code())
            .collect::<Vec<_>>()
            .join("+");
        let version = parts
            .iter()
            .map(|p| p.2.as_str())
            .collect::<Vec<_>>()
            .join("+");
        let document = templates::html_document(
            first.0.code(),
            &templates::escape_html(&subject_line),
            &html,
        );
        let now = ts(Utc::now());
        let (state, error) = match &subject.recipient_email {
            Some(e) if !e.trim().is_empty() => (LetterState::Pending, None),
            _ => (
                LetterState::NoAddress,
                Some("no e-mail address is known for the recipient".to_owned()),
            ),
        };
        let done = sqlx::query(
            "INSERT INTO letters (id, kind, side, request_id, trigger_key, recipient, lang, version, subject, body_text, body_html, state, attempts, next_attempt_at, last_error, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $13) \
             ON CONFLICT (kind, side, request_id, trigger_key) DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().simple().to_string())
        .bind(kind.code())
        .bind(side.code())
        .bind(request_id.to_owned())
        .bind(key.to_owned())
        .bind(subject.recipient_email.clone())
        .bind(lang_code)
        .bind(version)
        .bind(subject_line)
        .bind(text)
        .bind(document)
        .bind(state.code())
        .bind(now)
        .bind(error)
        .execute(&self.db.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The values of one letter in one language.
    pub(crate) fn values(
        &self,
        kind: LetterKind,
        lang: Lang,
        subject: &Subject,
        extra: &[(&str, ExtraValue)],
        day: NaiveDate,
    ) -> Values {
        let mut v = Values::new();
        let mut set = |k: &str, val: Value| {
            v.insert(k.to_owned(), val);
        };
        set("library", Value::from(self.library.get(lang)));
        set("reference", Value::from(subject.reference.as_str()));
        set("title", Value::from(subject.title.as_str()));
        set("author", Value::from(subject.author.as_str()));
        set("request_url", Value::from(subject.request_url.as_str()));
        set(
            "recipient_name",
            Value::from(subject.recipient_name.as_str()),
        );
        set("date", Value::from(format_date(lang, day)));
        if kind == LetterKind::PartnerReceived {
            let service = match (lang, subject.service_loan) {
                (Lang::Fi, true) => "laina",
                (Lang::Fi, false) => "kopio",
                (Lang::Sv, true) => "lån",
                (Lang::Sv, false) => "kopia",
                (Lang::En, true) => "loan",
                (Lang::En, false) => "copy",
            };
            set("service", Value::from(service));
        }
        for (name, value) in extra {
            set(
                name,
                match value {
                    ExtraValue::Text(t) => Value::from(t.as_str()),
                    ExtraValue::Date(d) => Value::from(format_date(lang, *d)),
                    ExtraValue::Bool(b) => Value::from(*b),
                },
            );
        }
        v
    }

    /// What a letter about a request needs: its reference and citation, the
    /// recipient's address, name and languages.
    pub async fn subject(
        &self,
        side: Side,
        request_id: &str,
    ) -> Result<Option<Subject>, sqlx::Error> {
        match side {
            Side::Borrowing => {
                let Some(row) = sqlx::query(
                    "SELECT r.patron_id, r.external_id, r.citation, r.pickup_location, p.name, p.email, p.lang, p.locale, \
                       (SELECT MAX(l.due_date) FROM ill_loans l WHERE l.request_id = r.id AND l.returned_at IS NULL) AS due_date \
                     FROM borrowing_requests r LEFT JOIN patrons p ON p.id = r.patron_id WHERE r.id = $1",
                )
                .bind(request_id.to_owned())
                .fetch_optional(&self.db.pool)
                .await?
                else {
                    return Ok(None);
                };
                let citation: app::domain::Citation =
                    serde_json::from_str(&row.try_get::<String, _>("citation")?)
                        .unwrap_or_default();
                let patron: String = row.try_get("patron_id")?;
                let name: Option<String> = row.try_get("name")?;
                let lang: Option<String> = row.try_get("lang")?;
                let locale: Option<String> = row.try_get("locale")?;
                let due: Option<String> = row.try_get("due_date")?;
                Ok(Some(Subject {
                    reference: short_reference(request_id),
                    title: citation.title.clone(),
                    author: citation.authors.join("; "),
                    recipient_email: row.try_get("email")?,
                    recipient_name: name.unwrap_or(patron),
                    langs: vec![app::letters::patron_lang(
                        lang.as_deref(),
                        locale.as_deref(),
                        self.default_lang,
                    )],
                    request_url: format!("{}/my/{}", self.public_url, request_id),
                    pickup_location: row
                        .try_get::<Option<String>, _>("pickup_location")?
                        .unwrap_or_default(),
                    due_date: due
                        .as_deref()
                        .and_then(|d| d.get(..10))
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                    service_loan: true,
                }))
            }
            Side::Lending => {
                let Some(row) = sqlx::query(
                    "SELECT r.external_id, r.partner_code, r.body, r.due_date, o.reference, p.body AS partner \
                     FROM lending_requests r LEFT JOIN outbox o ON o.id = r.external_id \
                     LEFT JOIN partners p ON p.code = r.partner_code WHERE r.id = $1",
                )
                .bind(request_id.to_owned())
                .fetch_optional(&self.db.pool)
                .await?
                else {
                    return Ok(None);
                };
                let request: Option<app::domain::NewLendingRequest> =
                    serde_json::from_str(&row.try_get::<String, _>("body")?).ok();
                let partner: Option<app::domain::Partner> = row
                    .try_get::<Option<String>, _>("partner")?
                    .and_then(|b| serde_json::from_str(&b).ok());
                let code: String = row.try_get("partner_code")?;
                let reference: Option<String> = row.try_get("reference")?;
                let due: Option<String> = row.try_get("due_date")?;
                Ok(Some(Subject {
                    reference: reference.unwrap_or_else(|| short_reference(request_id)),
                    title: request
                        .as_ref()
                        .map(|r| r.citation.title.clone())
                        .unwrap_or_default(),
                    author: request
                        .as_ref()
                        .map(|r| r.citation.authors.join("; "))
                        .unwrap_or_default(),
                    recipient_email: request.as_ref().map(|r| r.requester.email.clone()),
                    recipient_name: request
                        .as_ref()
                        .map(|r| r.requester.library_name.clone())
                        .unwrap_or(code.clone()),
                    langs: app::letters::partner_langs(
                        partner.as_ref().and_then(|p| p.language.as_deref()),
                    ),
                    request_url: self.partner_form(&code),
                    pickup_location: String::new(),
                    due_date: due
                        .as_deref()
                        .and_then(|d| d.get(..10))
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                    service_loan: request
                        .as_ref()
                        .is_none_or(|r| r.service == app::domain::ServiceType::Loan),
                }))
            }
        }
    }

    /// Loans due within `due_soon_days` get "due soon", loans past their
    /// due date "overdue" (patrons: ILL loans; partners: lending loans),
    /// once per due date.
    pub async fn check_dates(&self, today: NaiveDate) -> Result<usize, sqlx::Error> {
        let soon = today + chrono::Days::new(u64::from(self.config.due_soon_days));
        let mut written = 0;
        let loans = sqlx::query(
            "SELECT request_id, due_date FROM ill_loans WHERE returned_at IS NULL AND request_id IS NOT NULL AND due_date < $1",
        )
        .bind(format!("{}T23:59:59.999Z", soon.format("%Y-%m-%d")))
        .fetch_all(&self.db.pool)
        .await?;
        for row in loans {
            let request_id: String = row.try_get("request_id")?;
            let due: String = row.try_get("due_date")?;
            // Stored as the end of the day in Finland: the UTC day is it.
            let Ok(due_day) = NaiveDate::parse_from_str(due.get(..10).unwrap_or(""), "%Y-%m-%d")
            else {
                continue;
            };
            let kind = if due_day < today {
                LetterKind::PatronOverdue
            } else {
                LetterKind::PatronDueSoon
            };
            written += usize::from(
                self.dated(kind, Side::Borrowing, &request_id, due_day, today)
                    .await?,
            );
        }
        let lent = sqlx::query(
            "SELECT id, due_date FROM lending_requests WHERE status IN ('Loaned', 'Overdue', 'RenewRequested') AND due_date IS NOT NULL AND due_date < $1",
        )
        .bind(today.format("%Y-%m-%d").to_string())
        .fetch_all(&self.db.pool)
        .await?;
        for row in lent {
            let id: String = row.try_get("id")?;
            let due: String = row.try_get("due_date")?;
            let Ok(due_day) = NaiveDate::parse_from_str(due.get(..10).unwrap_or(""), "%Y-%m-%d")
            else {
                continue;
            };
            written += usize::from(
                self.dated(
                    LetterKind::PartnerOverdue,
                    Side::Lending,
                    &id,
                    due_day,
                    today,
                )
                .await?,
            );
        }
        if written > 0 {
            self.wake.notify_one();
        }
        Ok(written)
    }

    async fn dated(
        &self,
        kind: LetterKind,
        side: Side,
        request_id: &str,
        due: NaiveDate,
        today: NaiveDate,
    ) -> Result<bool, sqlx::Error> {
        let key = format!("due:{}", due.format("%Y-%m-%d"));
        if self.exists(kind, side, request_id, &key).await? {
            return Ok(false);
        }
        let Some(subject) = self.subject(side, request_id).await? else {
            return Ok(false);
        };
        self.write(
            kind,
            side,
            request_id,
            &key,
            &subject,
            &[("due_date", ExtraValue::Date(due))],
            today,
        )
        .await
    }

    /// The confirmation a library gets when Kauko accepts its lending
    /// request (both backends), written once per request.
    pub async fn lending_received(
        &self,
        request: &app::domain::NewLendingRequest,
        reference: &str,
        request_id: &str,
    ) -> Result<bool, sqlx::Error> {
        let kind = LetterKind::PartnerReceived;
        let partner: Option<app::domain::Partner> =
            sqlx::query_scalar::<_, String>("SELECT body FROM partners WHERE code = $1")
                .bind(request.partner_code.clone())
                .fetch_optional(&self.db.pool)
                .await?
                .and_then(|b| serde_json::from_str(&b).ok());
        let subject = Subject {
            reference: reference.to_owned(),
            title: request.citation.title.clone(),
            author: request.citation.authors.join("; "),
            recipient_email: Some(request.requester.email.clone()),
            recipient_name: request.requester.library_name.clone(),
            langs: app::letters::partner_langs(
                partner.as_ref().and_then(|p| p.language.as_deref()),
            ),
            request_url: self.partner_form(&request.partner_code),
            pickup_location: String::new(),
            due_date: None,
            service_loan: request.service == app::domain::ServiceType::Loan,
        };
        let written = self
            .write(
                kind,
                Side::Lending,
                request_id,
                "received",
                &subject,
                &[],
                Utc::now().date_naive(),
            )
            .await?;
        if written {
            self.wake.notify_one();
        }
        Ok(written)
    }

    /// Sends the letters that are due; returns how many were sent.
    pub async fn send_due(&self) -> Result<usize, sqlx::Error> {
        let now = ts(Utc::now());
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM letters WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT 20",
        )
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?;
        let mut sent = 0;
        for id in ids {
            if self.send_one(&id).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Claims one letter and sends it; `true` when this call sent it.
    pub async fn send_one(&self, id: &str) -> Result<bool, sqlx::Error> {
        let now = Utc::now();
        let token = uuid::Uuid::new_v4().simple().to_string();
        let claimed = sqlx::query(
            "UPDATE letters SET lease_token = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id = $3 AND state = 'pending' AND next_attempt_at <= $4 AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(token.clone())
        .bind(ts(now + chrono::Duration::seconds(120)))
        .bind(id.to_owned())
        .bind(ts(now))
        .execute(&self.db.pool)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(false);
        }
        let row = sqlx::query(
            "SELECT recipient, subject, body_text, body_html, attempts FROM letters WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_one(&self.db.pool)
        .await?;
        let to: Option<String> = row.try_get("recipient")?;
        let attempts: i64 = row.try_get("attempts")?;
        let outcome = self
            .mailer
            .send_letter(
                to.as_deref().unwrap_or(""),
                &row.try_get::<String, _>("subject")?,
                row.try_get::<String, _>("body_text")?,
                row.try_get::<String, _>("body_html")?,
                &format!("<letter-{id}@kauko>"),
            )
            .await;
        let finish = |state: LetterState, error: Option<String>, next: Option<String>| {
            let sql = "UPDATE letters SET state = $1, last_error = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
                       sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END, lease_token = NULL, lease_until = NULL \
                       WHERE id = $5 AND lease_token = $6";
            sqlx::query(sql)
                .bind(state.code())
                .bind(error)
                .bind(next)
                .bind(ts(Utc::now()))
                .bind(id.to_owned())
                .bind(token.clone())
        };
        match outcome {
            Ok(answer) => {
                finish(LetterState::Sent, Some(answer), None)
                    .execute(&self.db.pool)
                    .await?;
                tracing::info!(letter = %id, attempts, "letters: sent");
                Ok(true)
            }
            Err(e) if e.is_transient() && attempts <= i64::from(self.retries) => {
                let wait = crate::outbox::backoff::delay(
                    u32::try_from(attempts).unwrap_or(1),
                    self.first_retry,
                    Duration::from_secs(3600),
                    crate::outbox::backoff::jitter(),
                );
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::warn!(letter = %id, attempts, error = %e, "letters: not sent yet; will retry");
                finish(LetterState::Pending, Some(e.to_string()), Some(ts(next)))
                    .execute(&self.db.pool)
                    .await?;
                Ok(false)
            }
            Err(e) => {
                tracing::error!(letter = %id, attempts, error = %e, "letters: failed; listed for staff");
                finish(LetterState::Failed, Some(e.to_string()), None)
                    .execute(&self.db.pool)
                    .await?;
                Ok(false)
            }
        }
    }
}

/// A value only some letters have.
#[derive(Clone, Debug)]
pub enum ExtraValue {
    Text(String),
    Date(NaiveDate),
    Bool(bool),
}

fn due_of(note: &str) -> Option<NaiveDate> {
    app::letters::due_in_note(Some(note))
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
}

/// The first eight characters of a request id, upper-case: what the
/// patron's page shows as the request's reference.
fn short_reference(id: &str) -> String {
    id.chars().take(8).collect::<String>().to_uppercase()
}

impl Letters {
    /// The preview of a template: with a request's data when one is given
    /// (and exists), else with sample values.
    pub async fn preview(
        &self,
        kind: LetterKind,
        lang: Lang,
        text: &TemplateText,
        request_id: Option<&str>,
    ) -> Result<
        (
            Result<Rendered, app::letters::TemplateError>,
            Option<String>,
        ),
        sqlx::Error,
    > {
        let subject = match request_id {
            Some(id) => self.subject(kind.side(), id).await?,
            None => None,
        };
        let today = Utc::now().date_naive();
        let values = match &subject {
            Some(s) => {
                let mut v = templates::sample_values(kind, lang);
                for (k, val) in self.values(kind, lang, s, &[], today) {
                    v.insert(k, val);
                }
                v
            }
            None => templates::sample_values(kind, lang),
        };
        Ok((
            templates::render(kind, text, &values),
            subject.map(|_| request_id.unwrap_or_default().to_owned()),
        ))
    }
}

#[async_trait::async_trait]
impl app::api::lend::LendingMail for Letters {
    async fn confirm(
        &self,
        request: &app::domain::NewLendingRequest,
        reference: &str,
        request_id: &str,
    ) {
        if let Err(e) = self.lending_received(request, reference, request_id).await {
            tracing::error!(%reference, error = %e, "letters: cannot write the lending confirmation");
        }
    }
}

impl Letters {
    /// Alma's resource-sharing letters and whether each is on (asked at
    /// most every ten minutes; empty when Kauko does not run on Alma or
    /// Alma does not answer).
    pub async fn alma_letters(&self) -> AlmaLetters {
        let Some((url, key)) = &self.alma else {
            return AlmaLetters::new();
        };
        let mut cache = self.alma_cache.lock().await;
        if let Some((at, letters)) = cache.as_ref() {
            if at.elapsed() < Duration::from_secs(600) {
                return letters.clone();
            }
        }
        let answer = async {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?
                .get(format!("{url}/almaws/v1/conf/letters"))
                .header("Accept", "application/json")
                .header("Authorization", format!("apikey {key}"))
                .send()
                .await?
                .error_for_status()?
                .json::<serde_json::Value>()
                .await
        }
        .await;
        let letters = match answer {
            Ok(v) => alma_letters_from(&v),
            Err(e) => {
                tracing::warn!(error = %e, "letters: cannot read Alma's letters");
                return AlmaLetters::new();
            }
        };
        *cache = Some((std::time::Instant::now(), letters.clone()));
        letters
    }
}

/// Reads `GET /conf/letters`: `enabled` as `{"value": true}`, `true` or
/// `"true"`.
pub fn alma_letters_from(v: &serde_json::Value) -> AlmaLetters {
    let on = |e: &serde_json::Value| match e {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("true"),
        serde_json::Value::Object(o) => o.get("value").is_some_and(|v| {
            v.as_bool() == Some(true) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
        }),
        _ => false,
    };
    let mut out = AlmaLetters::new();
    let list = match v.get("letter") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(one @ serde_json::Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    for kind in LetterKind::ALL {
        let Some(code) = app::letters::alma_letter(kind) else {
            continue;
        };
        if let Some(l) = list
            .iter()
            .find(|l| l.get("code").and_then(|c| c.as_str()) == Some(code))
        {
            out.insert(kind, (code.to_owned(), l.get("enabled").is_some_and(on)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alma_letters_are_read_as_the_simulator_lists_them() {
        let letters = alma_letters_from(&crate::alma_sim::letters::letters());
        assert_eq!(
            letters.get(&LetterKind::PatronReadyForPickup),
            Some(&("FulPlaceOnHoldShelfLetter".to_owned(), true))
        );
        assert_eq!(
            letters.get(&LetterKind::PatronReceived),
            Some(&(
                "FulResourceSharingRequestConfirmationLetter".to_owned(),
                false
            ))
        );
        assert_eq!(letters.get(&LetterKind::PartnerReceived), None);
        // Every Kauko letter that has an Alma counterpart finds it.
        let mapped = LetterKind::ALL
            .iter()
            .filter(|k| app::letters::alma_letter(**k).is_some())
            .count();
        assert_eq!(letters.len(), mapped);
        // `enabled` as a plain boolean or string too.
        let v = serde_json::json!({"letter": [
            {"code": "QueryToPatronLetter", "enabled": true},
            {"code": "LenderShipEmailLetter", "enabled": "false"}
        ]});
        let l = alma_letters_from(&v);
        assert!(l[&LetterKind::PatronQuery].1);
        assert!(!l[&LetterKind::PartnerShipped].1);
    }
}
