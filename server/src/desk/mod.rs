//! The staff desk on Kauko's own database (the local backend): queues with
//! counts, filters and paging, a request's page with its history, and the
//! actions of the state models in `app::domain::workflow`. Every change is
//! a compare-and-set on the request's version, written with its event in
//! one transaction: a second staff member acting on the same request is
//! told what changed meanwhile, and nothing is applied twice.

pub mod copies;

use app::desk::{
    check_needs, needs_action, queue_states, staff_offers, ActInput, DeskError, DeskRequest,
    NoteInput, Queue, QueueQuery, QueueRow, StaffDesk, StateCount, PER_PAGE,
};
use app::domain::history::{Actor, Audience, NewEvent, Side};
use app::domain::workflow::{
    borrowing_step, lending_step, BorrowingAction, LendingAction, LendingState, Role,
};
use app::domain::{BorrowingStatus, Citation, FieldError, Format, NewLendingRequest};
use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::adapters::local::loan_from_row;
use crate::history;
use crate::storage::{json_col, parse_date, ts, Db, DbKind};

pub struct LocalDesk {
    db: Db,
}

fn storage(e: sqlx::Error) -> DeskError {
    DeskError::Storage(e.to_string())
}

fn table(side: Side) -> &'static str {
    match side {
        Side::Borrowing => "borrowing_requests",
        Side::Lending => "lending_requests",
    }
}

/// Who asked: the patron's id or the requesting library's name.
fn who_column(side: Side) -> &'static str {
    match side {
        Side::Borrowing => "patron_id",
        Side::Lending => "requester",
    }
}

/// The stored codes of a state (a new lending request keeps the library
/// system's creation code).
fn stored_codes(side: Side, state: &str) -> Vec<String> {
    match (side, LendingState::from_code(state)) {
        (Side::Lending, Some(LendingState::RequestReceived)) => vec![
            LendingState::RequestReceived.code().to_owned(),
            app::domain::LendingStatus::CREATED.to_owned(),
        ],
        _ => vec![state.to_owned()],
    }
}

/// The state a stored code counts as.
fn canonical(side: Side, code: &str) -> String {
    match side {
        Side::Lending => {
            LendingState::from_code(code).map_or_else(|| code.to_owned(), |s| s.code().to_owned())
        }
        Side::Borrowing => code.to_owned(),
    }
}

/// A due date is the end of that day in Finland (21:59 UTC is within it
/// all year).
fn due_at(date: NaiveDate) -> chrono::DateTime<Utc> {
    date.and_hms_opt(20, 59, 59).unwrap_or_default().and_utc()
}

/// Builds a WHERE clause with numbered parameters.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    params: Vec<String>,
}

impl Where {
    fn param(&mut self, value: String) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    params: &[String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for p in params {
        q = q.bind(p.clone());
    }
    q
}

/// The filters other than the state. `exact`: whether the search text is
/// taken as an identifier (it matched one) rather than as title words.
fn filters(side: Side, kind: DbKind, query: &QueueQuery, exact: Option<bool>) -> Where {
    let mut w = Where::default();
    if let Some(p) = &query.partner {
        let n = w.param(p.clone());
        w.clauses.push(format!("partner_code = {n}"));
    }
    if let Some(k) = &query.kind {
        let n = w.param(k.clone());
        w.clauses.push(format!("kind = {n}"));
    }
    if let Some(d) = query.from {
        let n = w.param(d.format("%Y-%m-%d").to_string());
        w.clauses.push(format!("created_at >= {n}"));
    }
    if let Some(d) = query.to.and_then(|d| d.succ_opt()) {
        let n = w.param(d.format("%Y-%m-%d").to_string());
        w.clauses.push(format!("created_at < {n}"));
    }
    if let Some(text) = &query.q {
        match exact {
            // A patron's id (a library's name), an external id or a
            // request number (or its start): found through their indexes.
            Some(true) => {
                let who = who_column(side);
                let exact = w.param(text.clone());
                let number = text.to_lowercase();
                // A request number's start (Kauko's ids are hexadecimal):
                // at least six characters, as a range on the primary key.
                let prefix = if number.len() >= 6 && number.chars().all(|c| c.is_ascii_hexdigit()) {
                    let from = w.param(number.clone());
                    let to = w.param(format!("{number}g"));
                    format!(" OR (id >= {from} AND id < {to})")
                } else {
                    String::new()
                };
                w.clauses.push(format!(
                    "({who} = {exact} OR external_id = {exact}{prefix})"
                ));
            }
            // Words of the title (or of the requesting library's name).
            _ => title_words(&mut w, side, kind, text),
        }
    }
    w
}

/// The shortest run of characters the trigram indexes can find.
const TRIGRAM: usize = 3;

/// Every word of the search must be in the title (on the lending side: in
/// the title or the requesting library's name), case-insensitively, as a
/// literal run of characters. Words of three or more characters are found
/// through the trigram index (SQLite: FTS5's trigram tokenizer; PostgreSQL:
/// pg_trgm's GIN index under LIKE); shorter words only narrow what the
/// longer ones found (or, alone, are matched by reading the titles).
fn title_words(w: &mut Where, side: Side, kind: DbKind, text: &str) {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (long, short): (Vec<&str>, Vec<&str>) = words
        .iter()
        .copied()
        .partition(|word| word.chars().count() >= TRIGRAM);
    let mut likes = short;
    match kind {
        DbKind::Sqlite if !long.is_empty() => {
            // An FTS5 query of quoted strings: each a phrase, all required.
            let phrases: Vec<String> = long
                .iter()
                .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
                .collect();
            let n = w.param(phrases.join(" AND "));
            let index = match side {
                Side::Borrowing => "borrowing_search",
                Side::Lending => "lending_search",
            };
            w.clauses.push(format!(
                "id IN (SELECT id FROM {index} WHERE {index} MATCH {n})"
            ));
        }
        _ => likes.extend(long),
    }
    for word in likes {
        // Matched literally: LIKE's wildcards escaped. Both sides are
        // lower-cased by the database, so they fold alike.
        let literal = word
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let like = w.param(format!("%{literal}%"));
        w.clauses.push(match side {
            Side::Borrowing => format!("LOWER(title) LIKE LOWER({like}) ESCAPE '\\'"),
            Side::Lending => format!(
                "(LOWER(title) LIKE LOWER({like}) ESCAPE '\\' OR LOWER(requester) LIKE LOWER({like}) ESCAPE '\\')"
            ),
        });
    }
}

impl LocalDesk {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The request's row alone (state, version, who, citation, partner):
    /// what an action needs, without the history and the loan.
    async fn load_row(&self, side: Side, id: &str) -> Result<DeskRequest, DeskError> {
        let sql = match side {
            Side::Borrowing => "SELECT id, external_id, patron_id, citation, format, pickup_location, needed_by, note, status, version, partner_code FROM borrowing_requests WHERE id = $1",
            Side::Lending => "SELECT id, external_id, partner_code, body, status, version, due_date FROM lending_requests WHERE id = $1",
        };
        let row = sqlx::query(sql)
            .bind(id.to_owned())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(storage)?
            .ok_or(DeskError::NotFound)?;
        match side {
            Side::Borrowing => borrowing_from_row(&row).map_err(storage),
            Side::Lending => lending_from_row(&row).map_err(storage),
        }
    }

    /// The request's page: its row, whole history, loan and the actions
    /// its state allows.
    async fn load(&self, side: Side, id: &str) -> Result<DeskRequest, DeskError> {
        let mut request = self.load_row(side, id).await?;
        request.events = history::of_request(&self.db, side, id)
            .await
            .map_err(storage)?;
        if side == Side::Borrowing {
            let loan = sqlx::query(
                "SELECT id, request_id, title, author, loan_date, due_date, renewable, renewals, renewal_requested \
                 FROM ill_loans WHERE request_id = $1 ORDER BY loan_date DESC LIMIT 1",
            )
            .bind(id.to_owned())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(storage)?;
            request.loan = loan
                .as_ref()
                .map(loan_from_row)
                .transpose()
                .map_err(storage)?;
            request.due_date = request.loan.as_ref().map(|l| l.due_date.date_naive());
        }
        request.actions = staff_offers(side, &request.state);
        let today = Utc::now().date_naive();
        request.suggested_due =
            Some(request.due_date.unwrap_or(today).max(today) + chrono::Duration::days(28));
        Ok(request)
    }

    /// Refuses a stale page: what happened after what it showed, and the
    /// request now.
    async fn changed_meanwhile(&self, side: Side, id: &str, seen_seq: i64) -> DeskError {
        match self.load(side, id).await {
            Ok(now) => DeskError::ChangedMeanwhile {
                changes: now
                    .events
                    .iter()
                    .filter(|e| e.seq > seen_seq)
                    .cloned()
                    .collect(),
                now: Box::new(now),
            },
            Err(e) => e,
        }
    }

    async fn partner_exists(&self, code: &str) -> Result<bool, DeskError> {
        Ok(sqlx::query("SELECT code FROM partners WHERE code = $1")
            .bind(code.to_owned())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(storage)?
            .is_some())
    }
}

fn borrowing_from_row(row: &AnyRow) -> Result<DeskRequest, sqlx::Error> {
    let format: String = row.try_get("format")?;
    Ok(DeskRequest {
        side: Side::Borrowing,
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        citation: json_col::<Citation>(&row.try_get::<String, _>("citation")?)?,
        format: Some(if format == "PHYSICAL" {
            Format::Physical
        } else {
            Format::Digital
        }),
        who: row.try_get("patron_id")?,
        who_email: None,
        pickup_location: row.try_get("pickup_location")?,
        needed_by: row
            .try_get::<Option<String>, _>("needed_by")?
            .as_deref()
            .map(parse_date)
            .transpose()?,
        request_note: row.try_get("note")?,
        partner: row.try_get("partner_code")?,
        state: row.try_get("status")?,
        version: row.try_get("version")?,
        due_date: None,
        suggested_due: None,
        loan: None,
        events: Vec::new(),
        actions: Vec::new(),
    })
}

fn lending_from_row(row: &AnyRow) -> Result<DeskRequest, sqlx::Error> {
    let body: NewLendingRequest = json_col(&row.try_get::<String, _>("body")?)?;
    let status: String = row.try_get("status")?;
    Ok(DeskRequest {
        side: Side::Lending,
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        citation: body.citation,
        format: None,
        who: body.requester.library_name,
        who_email: Some(body.requester.email),
        pickup_location: body.delivery_address,
        needed_by: body.needed_by,
        request_note: body.note,
        partner: row.try_get("partner_code")?,
        state: canonical(Side::Lending, &status),
        version: row.try_get("version")?,
        due_date: row
            .try_get::<Option<String>, _>("due_date")?
            .as_deref()
            .map(|d| parse_date(&d[..d.len().min(10)]))
            .transpose()?,
        suggested_due: None,
        loan: None,
        events: Vec::new(),
        actions: Vec::new(),
    })
}

/// One step: the new state, and the event's note.
struct Step {
    to: String,
    note: Option<(String, Audience)>,
}

fn plan(side: Side, state: &str, input: &ActInput) -> Result<Step, DeskError> {
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match side {
        Side::Borrowing => {
            let action = BorrowingAction::from_code(&input.action).ok_or(DeskError::NotAllowed)?;
            let to = borrowing_step(&BorrowingStatus::from_code(state), action, Role::Staff)
                .map_err(|_| DeskError::NotAllowed)?;
            check_needs(action.needs(), input).map_err(DeskError::Invalid)?;
            let audience = if action.reason_to_patron() {
                Audience::Patron
            } else {
                Audience::Internal
            };
            let note = match (reason, input.due_date) {
                (Some(r), _) => Some((r.to_owned(), audience)),
                (None, Some(d)) if action.needs().due_date => {
                    Some((format!("due {}", d.format("%Y-%m-%d")), Audience::Patron))
                }
                _ => None,
            };
            Ok(Step {
                to: to.code().to_owned(),
                note,
            })
        }
        Side::Lending => {
            let action = LendingAction::from_code(&input.action).ok_or(DeskError::NotAllowed)?;
            let from = LendingState::from_code(state).ok_or(DeskError::NotAllowed)?;
            let to = lending_step(from, action, Role::Staff).map_err(|_| DeskError::NotAllowed)?;
            check_needs(action.needs(), input).map_err(DeskError::Invalid)?;
            let note = match (reason, input.link.as_deref(), input.due_date) {
                (Some(r), _, _) => Some((r.to_owned(), Audience::Patron)),
                (None, Some(link), _) if action.needs().link => {
                    Some((link.trim().to_owned(), Audience::Patron))
                }
                (None, _, Some(d)) if action.needs().due_date => {
                    Some((format!("due {}", d.format("%Y-%m-%d")), Audience::Patron))
                }
                _ => None,
            };
            Ok(Step {
                to: to.code().to_owned(),
                note,
            })
        }
    }
}

#[async_trait]
impl StaffDesk for LocalDesk {
    async fn queue(&self, side: Side, query: &QueueQuery) -> Result<Queue, DeskError> {
        let t = table(side);
        // A search without spaces is first tried as an identifier (a
        // patron, a request number): exact matches use their indexes.
        let exact = match &query.q {
            Some(text) if !text.contains(char::is_whitespace) => {
                let probe = filters(
                    side,
                    self.db.kind,
                    &QueueQuery {
                        q: query.q.clone(),
                        ..QueueQuery::default()
                    },
                    Some(true),
                );
                let sql = format!("SELECT id FROM {t}{} LIMIT 1", probe.sql());
                Some(
                    bind_all(sqlx::query(&sql), &probe.params)
                        .fetch_optional(&self.db.pool)
                        .await
                        .map_err(storage)?
                        .is_some(),
                )
            }
            _ => None,
        };
        let base = filters(side, self.db.kind, query, exact);
        // Counts per state, with the other filters applied.
        let sql = format!(
            "SELECT status, COUNT(*) AS n FROM {t}{} GROUP BY status",
            base.sql()
        );
        let rows = bind_all(sqlx::query(&sql), &base.params)
            .fetch_all(&self.db.pool)
            .await
            .map_err(storage)?;
        let mut by_state = std::collections::HashMap::<String, u64>::new();
        for row in &rows {
            let code: String = row.try_get("status").map_err(storage)?;
            let n: i64 = row.try_get("n").map_err(storage)?;
            *by_state.entry(canonical(side, &code)).or_default() += u64::try_from(n).unwrap_or(0);
        }
        let mut counts: Vec<StateCount> = queue_states(side)
            .into_iter()
            .map(|state| StateCount {
                count: by_state.remove(&state).unwrap_or(0),
                needs_action: needs_action(side, &state),
                state,
            })
            .collect();
        // Codes the state model does not know (from the library system).
        let mut unknown: Vec<_> = by_state.into_iter().collect();
        unknown.sort();
        counts.extend(unknown.into_iter().map(|(state, count)| StateCount {
            needs_action: false,
            state,
            count,
        }));

        let mut w = base;
        let states: Vec<String> = match &query.state {
            Some(s) => stored_codes(side, s),
            None if query.needs_action => counts
                .iter()
                .filter(|c| c.needs_action)
                .flat_map(|c| stored_codes(side, &c.state))
                .collect(),
            None => Vec::new(),
        };
        if query.state.is_some() || query.needs_action {
            let list: Vec<String> = states.into_iter().map(|s| w.param(s)).collect();
            if list.is_empty() {
                w.clauses.push("1 = 0".into());
            } else if list.len() > 1 && self.db.kind == DbKind::Sqlite {
                // Several states ("needs action") hold much of the table:
                // walking the age index until a page is found beats
                // gathering and sorting every match, but SQLite's planner
                // picks the state index when its statistics are stale
                // (measured: 77 / 134 ms p50 / p99 at 100,000 requests);
                // the unary `+` keeps the state index out of the choice.
                w.clauses.push(format!("+status IN ({})", list.join(", ")));
            } else {
                w.clauses.push(format!("status IN ({})", list.join(", ")));
            }
        }
        // The total is the counts of the states shown (the same filters).
        let total: u64 = counts
            .iter()
            .filter(|c| match &query.state {
                Some(state) => c.state == canonical(side, state),
                None => !query.needs_action || c.needs_action,
            })
            .map(|c| c.count)
            .sum();
        let who = who_column(side);
        let sql = format!(
            "SELECT id, title, {who} AS who, partner_code, status, kind, created_at, updated_at, version FROM {t}{} \
             ORDER BY updated_at, id LIMIT {PER_PAGE} OFFSET {}",
            w.sql(),
            u64::from(query.page) * u64::from(PER_PAGE)
        );
        let rows = bind_all(sqlx::query(&sql), &w.params)
            .fetch_all(&self.db.pool)
            .await
            .map_err(storage)?;
        let rows = rows
            .iter()
            .map(|r| -> Result<QueueRow, sqlx::Error> {
                let created: String = r.try_get("created_at")?;
                let status: String = r.try_get("status")?;
                Ok(QueueRow {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    who: r.try_get("who")?,
                    partner: r.try_get("partner_code")?,
                    state: canonical(side, &status),
                    kind: r.try_get("kind")?,
                    created: parse_date(&created[..created.len().min(10)])?,
                    since: r.try_get("updated_at")?,
                    version: r.try_get("version")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        Ok(Queue {
            rows,
            total,
            counts,
            page: query.page,
            per_page: PER_PAGE,
            bulk_actions: app::desk::bulk_actions(side),
        })
    }

    async fn request(&self, side: Side, id: &str) -> Result<DeskRequest, DeskError> {
        self.load(side, id).await
    }

    async fn act(
        &self,
        side: Side,
        staff: &str,
        input: ActInput,
    ) -> Result<DeskRequest, DeskError> {
        let current = self.load_row(side, &input.id).await?;
        if current.version != input.version {
            return Err(self
                .changed_meanwhile(side, &input.id, input.seen_seq)
                .await);
        }
        let step = plan(side, &current.state, &input)?;
        let send_to = match (side, BorrowingAction::from_code(&input.action)) {
            (Side::Borrowing, Some(BorrowingAction::SendToPartner)) => {
                let code = input.partner.clone().unwrap_or_default().trim().to_owned();
                if !self.partner_exists(&code).await? {
                    return Err(DeskError::Invalid(vec![FieldError::new(
                        "partner",
                        "desk.error.partner_unknown",
                    )]));
                }
                Some(code)
            }
            _ => None,
        };
        let now = ts(Utc::now());
        let plain_update = format!(
            "UPDATE {} SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4",
            table(side)
        );
        let mut tx = self.db.begin_write().await.map_err(storage)?;
        // The write comes first: it lands only on the version the page
        // showed, so of two staff members acting at once one wins.
        let done = match (&send_to, side, input.due_date) {
            (Some(code), _, _) => sqlx::query(
                "UPDATE borrowing_requests SET status = $1, updated_at = $2, version = version + 1, partner_code = $3 WHERE id = $4 AND version = $5",
            )
            .bind(step.to.clone())
            .bind(now.clone())
            .bind(code.clone())
            .bind(input.id.clone())
            .bind(input.version),
            (None, Side::Lending, Some(due)) => sqlx::query(
                "UPDATE lending_requests SET status = $1, updated_at = $2, version = version + 1, due_date = $3 WHERE id = $4 AND version = $5",
            )
            .bind(step.to.clone())
            .bind(now.clone())
            .bind(due.format("%Y-%m-%d").to_string())
            .bind(input.id.clone())
            .bind(input.version),
            _ => sqlx::query(&plain_update)
            .bind(step.to.clone())
            .bind(now.clone())
            .bind(input.id.clone())
            .bind(input.version),
        }
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        if done.rows_affected() == 0 {
            drop(tx);
            return Err(self
                .changed_meanwhile(side, &input.id, input.seen_seq)
                .await);
        }
        if side == Side::Borrowing {
            let action = BorrowingAction::from_code(&input.action);
            match (action, input.due_date) {
                (Some(BorrowingAction::LendToPatron), Some(due)) => {
                    sqlx::query(
                        "INSERT INTO ill_loans (id, patron_id, request_id, title, author, loan_date, due_date, renewable, renewals, renewal_requested) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 0, 0)",
                    )
                    .bind(uuid::Uuid::new_v4().simple().to_string())
                    .bind(current.who.clone())
                    .bind(input.id.clone())
                    .bind(current.citation.title.clone())
                    .bind(current.citation.authors.first().cloned())
                    .bind(now.clone())
                    .bind(ts(due_at(due)))
                    .execute(&mut *tx)
                    .await
                    .map_err(storage)?;
                }
                (Some(BorrowingAction::GrantRenewal), Some(due)) => {
                    sqlx::query("UPDATE ill_loans SET due_date = $1, renewals = renewals + 1, renewal_requested = 0 WHERE request_id = $2 AND returned_at IS NULL")
                        .bind(ts(due_at(due)))
                        .bind(input.id.clone())
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                }
                (Some(BorrowingAction::RefuseRenewal), _) => {
                    // The lender said no: not offered to the patron again.
                    sqlx::query("UPDATE ill_loans SET renewal_requested = 0, renewable = 0 WHERE request_id = $1 AND returned_at IS NULL")
                        .bind(input.id.clone())
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                }
                (Some(BorrowingAction::ReturnedByPatron), _) => {
                    sqlx::query("UPDATE ill_loans SET returned_at = $1, renewal_requested = 0 WHERE request_id = $2 AND returned_at IS NULL")
                        .bind(now.clone())
                        .bind(input.id.clone())
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                }
                _ => {}
            }
        }
        history::record(
            &mut *tx,
            &NewEvent {
                side,
                request_id: input.id.clone(),
                actor: Actor::Staff(staff.to_owned()),
                action: input.action.clone(),
                from_state: Some(current.state.clone()),
                to_state: step.to,
                partner: send_to.or(current.partner.clone()),
                note: step.note,
            },
        )
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        self.load(side, &input.id).await
    }

    async fn note(
        &self,
        side: Side,
        staff: &str,
        input: NoteInput,
    ) -> Result<DeskRequest, DeskError> {
        let text = input.text.trim();
        if text.is_empty() {
            return Err(DeskError::Invalid(vec![FieldError::new(
                "text",
                "desk.error.note",
            )]));
        }
        if text.chars().count() > app::domain::citation::MAX_FIELD_CHARS {
            return Err(DeskError::Invalid(vec![FieldError::new(
                "text",
                "error.field.too_long",
            )]));
        }
        let current = self.load_row(side, &input.id).await?;
        history::record(
            &self.db.pool,
            &NewEvent {
                side,
                request_id: input.id.clone(),
                actor: Actor::Staff(staff.to_owned()),
                action: "note".into(),
                from_state: Some(current.state.clone()),
                to_state: current.state.clone(),
                partner: current.partner.clone(),
                note: Some((
                    text.to_owned(),
                    if input.to_patron {
                        Audience::Patron
                    } else {
                        Audience::Internal
                    },
                )),
            },
        )
        .await
        .map_err(storage)?;
        self.load(side, &input.id).await
    }

    async fn partners(&self) -> Result<Vec<(String, String)>, DeskError> {
        let rows = sqlx::query("SELECT code, name FROM partners ORDER BY name, code")
            .fetch_all(&self.db.pool)
            .await
            .map_err(storage)?;
        rows.iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(storage)
    }
}
