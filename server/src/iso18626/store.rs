//! ISO 18626's tables (`migrations/*/20261207100001_iso18626.sql`): how
//! Kauko speaks with each partner, and the log of messages exchanged.

use app::domain::history::Side;
use app::domain::{Partner, PartnerProfile, PartnerStatus};
use chrono::Utc;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::dialect::Dialect;
use super::messages::AgencyId;
use crate::storage::{json_col, ts, Db};

/// A partner that speaks ISO 18626: its record, symbol, address, dialect
/// and secret.
#[derive(Clone, Debug)]
pub struct Peer {
    pub partner: Partner,
    pub symbol: String,
    pub url: Option<String>,
    pub dialect: Dialect,
    pub secret: Option<String>,
}

impl Peer {
    pub fn agency(&self) -> AgencyId {
        AgencyId::from_symbol(&self.symbol)
    }

    /// Whether `given` is the partner's secret (compared as digests, in
    /// constant time); true when the partner has none.
    pub fn authenticates(&self, given: Option<&str>) -> bool {
        match &self.secret {
            None => true,
            Some(secret) => {
                let a = Sha256::digest(secret.as_bytes());
                let b = Sha256::digest(given.unwrap_or_default().as_bytes());
                given.is_some()
                    && a.iter()
                        .zip(b.iter())
                        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                        == 0
            }
        }
    }
}

/// The ISO 18626 settings kept for one partner.
pub async fn set_peer(
    db: &Db,
    partner_code: &str,
    dialect: Dialect,
    secret: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO iso18626_peers (partner_code, dialect, secret, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (partner_code) DO UPDATE SET dialect = excluded.dialect, secret = excluded.secret, updated_at = excluded.updated_at",
    )
    .bind(partner_code.to_owned())
    .bind(dialect.code())
    .bind(secret.map(str::to_owned))
    .bind(ts(Utc::now()))
    .execute(&db.pool)
    .await?;
    Ok(())
}

async fn settings(db: &Db, code: &str) -> Result<(Dialect, Option<String>), sqlx::Error> {
    let row = sqlx::query("SELECT dialect, secret FROM iso18626_peers WHERE partner_code = $1")
        .bind(code.to_owned())
        .fetch_optional(&db.pool)
        .await?;
    Ok(match row {
        Some(r) => (
            Dialect::from_code(&r.try_get::<String, _>("dialect")?).unwrap_or_default(),
            r.try_get("secret")?,
        ),
        None => (Dialect::default(), None),
    })
}

fn peer_of(partner: Partner, dialect: Dialect, secret: Option<String>) -> Option<Peer> {
    match &partner.profile {
        PartnerProfile::Iso18626 { symbol, url } => Some(Peer {
            symbol: symbol.clone(),
            url: url.clone(),
            partner: partner.clone(),
            dialect,
            secret,
        }),
        PartnerProfile::Email { .. } => None,
    }
}

/// The partner by its code, when its record says ISO 18626.
pub async fn peer_by_code(db: &Db, code: &str) -> Result<Option<Peer>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT body FROM partners WHERE code = $1")
        .bind(code.to_owned())
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let partner: Partner = json_col(&row.try_get::<String, _>("body")?)?;
    let (dialect, secret) = settings(db, code).await?;
    Ok(peer_of(partner, dialect, secret))
}

/// The active partner whose ISO 18626 symbol is this agency.
pub async fn peer_by_agency(db: &Db, agency: &AgencyId) -> Result<Option<Peer>, sqlx::Error> {
    // Records are JSON: the profile's type narrows the scan.
    let rows = sqlx::query("SELECT body FROM partners WHERE body LIKE $1")
        .bind("%iso18626%".to_owned())
        .fetch_all(&db.pool)
        .await?;
    for row in rows {
        let partner: Partner = json_col(&row.try_get::<String, _>("body")?)?;
        if partner.status != PartnerStatus::Active {
            continue;
        }
        if let PartnerProfile::Iso18626 { symbol, .. } = &partner.profile {
            if agency.matches(symbol) {
                let (dialect, secret) = settings(db, &partner.code).await?;
                return Ok(peer_of(partner, dialect, secret));
            }
        }
    }
    Ok(None)
}

/// One logged message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub id: String,
    pub direction: String,
    pub partner_code: String,
    pub side: Option<Side>,
    pub request_id: Option<String>,
    pub kind: String,
    pub summary: Option<String>,
    pub body: String,
    pub answer: Option<String>,
    pub state: String,
    pub error: Option<String>,
    pub attempts: i64,
    pub created_at: String,
}

const COLUMNS: &str = "id, direction, partner_code, side, request_id, kind, summary, body, answer, state, error, attempts, created_at";

fn logged(row: &sqlx::any::AnyRow) -> Result<Logged, sqlx::Error> {
    let side: Option<String> = row.try_get("side")?;
    Ok(Logged {
        id: row.try_get("id")?,
        direction: row.try_get("direction")?,
        partner_code: row.try_get("partner_code")?,
        side: side.as_deref().and_then(Side::from_code),
        request_id: row.try_get("request_id")?,
        kind: row.try_get("kind")?,
        summary: row.try_get("summary")?,
        body: row.try_get("body")?,
        answer: row.try_get("answer")?,
        state: row.try_get("state")?,
        error: row.try_get("error")?,
        attempts: row.try_get("attempts")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The messages exchanged about a request, oldest first.
pub async fn of_request(db: &Db, side: Side, request_id: &str) -> Result<Vec<Logged>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM iso18626_messages WHERE side = $1 AND request_id = $2 ORDER BY created_at, id"
    ))
    .bind(side.code())
    .bind(request_id.to_owned())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(logged).collect()
}

/// Every message with a partner, oldest first (tests, the README demo).
pub async fn with_partner(db: &Db, partner_code: &str) -> Result<Vec<Logged>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM iso18626_messages WHERE partner_code = $1 ORDER BY created_at, id"
    ))
    .bind(partner_code.to_owned())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(logged).collect()
}

/// The answer given to a received message with this fingerprint.
pub async fn answer_for(db: &Db, dedup_key: &str) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT answer FROM iso18626_messages WHERE dedup_key = $1")
        .bind(dedup_key.to_owned())
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.and_then(|r| r.try_get("answer").ok()).flatten())
}

/// A received message as it is logged.
#[derive(Clone, Debug, Default)]
pub struct Received {
    pub partner_code: String,
    pub side: Option<Side>,
    pub request_id: Option<String>,
    pub kind: String,
    pub summary: Option<String>,
    pub dedup_key: Option<String>,
    pub body: String,
    pub answer: String,
    pub refused: Option<String>,
}

/// Logs a received message; `false` when its fingerprint was logged
/// already (applied before: nothing more is done).
pub async fn log_received<'c, E>(executor: E, m: &Received) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let now = ts(Utc::now());
    let done = sqlx::query(
        "INSERT INTO iso18626_messages (id, direction, partner_code, side, request_id, kind, summary, dedup_key, body, answer, state, error, created_at, updated_at) \
         VALUES ($1, 'in', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().simple().to_string())
    .bind(m.partner_code.clone())
    .bind(m.side.map(|s| s.code().to_owned()))
    .bind(m.request_id.clone())
    .bind(m.kind.clone())
    .bind(m.summary.clone())
    .bind(m.dedup_key.clone())
    .bind(m.body.clone())
    .bind(m.answer.clone())
    .bind(if m.refused.is_some() { "refused" } else { "applied" })
    .bind(m.refused.clone())
    .bind(now)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A message's fingerprint: the partner and the message as Kauko would
/// write it (the same message with other whitespace or prefixes is the
/// same message).
pub fn fingerprint(partner_code: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(partner_code.as_bytes());
    h.update([0]);
    h.update(canonical.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The supplier's id for one of Kauko's borrowing requests, from the last
/// supplying agency message that named it.
pub async fn supplier_request_id(db: &Db, request_id: &str) -> Result<Option<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT body FROM iso18626_messages WHERE direction = 'in' AND side = 'borrowing' AND request_id = $1 \
         AND kind = 'supplyingAgencyMessage' AND state = 'applied' ORDER BY created_at DESC LIMIT 5",
    )
    .bind(request_id.to_owned())
    .fetch_all(&db.pool)
    .await?;
    for row in rows {
        let body: String = row.try_get("body")?;
        if let Some(id) = super::messages::parse(body.as_bytes()).ok().and_then(|e| {
            e.message
                .header()
                .and_then(|h| h.supplying_agency_request_id.clone())
        }) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}
