//! Requests' histories in the database (`request_events`, see
//! `migrations/*/20261203000002_request_events.sql`): one row per change,
//! written with the change in one transaction; the table refuses updates
//! and deletes.

use app::domain::history::{Actor, Audience, NewEvent, RequestEvent, Side};
use chrono::Utc;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::storage::{ts, Db};

/// Writes one event (inside the caller's transaction); returns its number.
pub async fn record<'c, E>(executor: E, event: &NewEvent) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (kind, id) = event.actor.parts();
    let (note, audience) = match &event.note {
        Some((text, audience)) => (
            Some(text.clone()),
            Some(match audience {
                Audience::Internal => "internal",
                Audience::Patron => "patron",
            }),
        ),
        None => (None, None),
    };
    sqlx::query(
        "INSERT INTO request_events (side, request_id, at, actor_kind, actor_id, action, from_state, to_state, partner_code, note, note_audience) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq",
    )
    .bind(event.side.code())
    .bind(event.request_id.clone())
    .bind(ts(Utc::now()))
    .bind(kind)
    .bind(id.map(str::to_owned))
    .bind(event.action.clone())
    .bind(event.from_state.clone())
    .bind(event.to_state.clone())
    .bind(event.partner.clone())
    .bind(note)
    .bind(audience.map(str::to_owned))
    .fetch_one(executor)
    .await?
    .try_get("seq")
}

pub(crate) fn event_from_row(row: &AnyRow) -> Result<RequestEvent, sqlx::Error> {
    let bad = |what: &str, v: &str| sqlx::Error::Decode(format!("bad {what}: {v}").into());
    let side: String = row.try_get("side")?;
    let kind: String = row.try_get("actor_kind")?;
    let audience: Option<String> = row.try_get("note_audience")?;
    Ok(RequestEvent {
        seq: row.try_get("seq")?,
        side: Side::from_code(&side).ok_or_else(|| bad("side", &side))?,
        request_id: row.try_get("request_id")?,
        at: row.try_get("at")?,
        actor: Actor::from_parts(&kind, row.try_get("actor_id")?)
            .ok_or_else(|| bad("actor", &kind))?,
        action: row.try_get("action")?,
        from_state: row.try_get("from_state")?,
        to_state: row.try_get("to_state")?,
        partner: row.try_get("partner_code")?,
        note: row.try_get("note")?,
        audience: match audience.as_deref() {
            None => None,
            Some("internal") => Some(Audience::Internal),
            Some("patron") => Some(Audience::Patron),
            Some(other) => return Err(bad("audience", other)),
        },
    })
}

/// A request's history, oldest first.
pub async fn of_request(
    db: &Db,
    side: Side,
    request_id: &str,
) -> Result<Vec<RequestEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, side, request_id, at, actor_kind, actor_id, action, from_state, to_state, partner_code, note, note_audience \
         FROM request_events WHERE side = $1 AND request_id = $2 ORDER BY seq",
    )
    .bind(side.code())
    .bind(request_id.to_owned())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// A reader's place in the history: the letters, the fees and the ISO
/// 18626 sender each keep one (a table `table` with the row
/// `name = 'history'` and its `seq`) and act on the events after it.
pub struct Cursor {
    table: &'static str,
}

/// Events after a cursor, oldest first, each old enough to be settled.
pub struct Settled {
    pub events: Vec<RequestEvent>,
    /// A full batch with none left unsettled: more may follow at once.
    pub more: bool,
}

impl Cursor {
    /// Events read at a time.
    const BATCH: usize = 500;

    pub const fn new(table: &'static str) -> Self {
        Self { table }
    }

    /// The last event acted on.
    pub async fn position(&self, db: &Db) -> Result<i64, sqlx::Error> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT seq FROM {} WHERE name = 'history'",
            self.table
        ))
        .fetch_optional(&db.pool)
        .await?
        .unwrap_or(0))
    }

    /// The events after the cursor that are at least `settle` old. It
    /// stops at the first younger one: on PostgreSQL a transaction with a
    /// lower number can commit after one with a higher, and a reader that
    /// went past it would never see it.
    pub async fn settled(
        &self,
        db: &Db,
        settle: std::time::Duration,
    ) -> Result<Settled, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT seq, side, request_id, at, actor_kind, actor_id, action, from_state, to_state, partner_code, note, note_audience \
             FROM request_events WHERE seq > $1 ORDER BY seq LIMIT {}",
            Self::BATCH
        ))
        .bind(self.position(db).await?)
        .fetch_all(&db.pool)
        .await?;
        let full = rows.len() == Self::BATCH;
        let settled = ts(Utc::now() - chrono::Duration::from_std(settle).unwrap_or_default());
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let event = event_from_row(row)?;
            if event.at > settled {
                return Ok(Settled {
                    events,
                    more: false,
                });
            }
            events.push(event);
        }
        Ok(Settled { events, more: full })
    }

    /// Moves the cursor on to `seq` (never back).
    pub async fn advance(&self, db: &Db, seq: i64) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "UPDATE {} SET seq = $1 WHERE name = 'history' AND seq < $1",
            self.table
        ))
        .bind(seq)
        .execute(&db.pool)
        .await?;
        Ok(())
    }
}

/// The history as the app's pages read it.
pub struct HistoryLog {
    db: Db,
}

impl HistoryLog {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl app::api::my::RequestHistory for HistoryLog {
    async fn events(&self, side: Side, request_id: &str) -> Result<Vec<RequestEvent>, String> {
        of_request(&self.db, side, request_id)
            .await
            .map_err(|e| e.to_string())
    }

    async fn letters(
        &self,
        side: Side,
        request_id: &str,
    ) -> Result<Vec<app::api::my::PatronLetter>, String> {
        let letters = crate::letters::store::of_request(&self.db, side, request_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(letters
            .into_iter()
            .filter(|l| l.state == app::letters::LetterState::Sent)
            .map(|l| app::api::my::PatronLetter {
                sent_at: l.sent_at.unwrap_or(l.created_at),
                subject: l.subject,
                text: l.text,
            })
            .collect())
    }
}
