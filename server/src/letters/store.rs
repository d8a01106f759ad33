//! The letters' tables: templates staff saved (versioned), the switches,
//! and the letters written (the delivery log).

use app::domain::history::Side;
use app::i18n::Lang;
use app::letters::{LetterKind, LetterState, SentLetter, TemplateText, TemplateVersion};
use chrono::Utc;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::templates;
use crate::storage::{ts, Db};

/// Whether a letter is switched on (it is unless staff switched it off).
pub async fn enabled(db: &Db, kind: LetterKind) -> Result<bool, sqlx::Error> {
    let on: Option<i64> = sqlx::query_scalar("SELECT enabled FROM letter_settings WHERE kind = $1")
        .bind(kind.code())
        .fetch_optional(&db.pool)
        .await?;
    Ok(on.is_none_or(|v| v != 0))
}

/// The (letter, language) pairs staff have saved a template for.
pub async fn edited(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT DISTINCT kind, lang FROM letter_templates")
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("lang")?)))
        .collect()
}

/// The letters staff switched off.
pub async fn switched_off(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT kind FROM letter_settings WHERE enabled = 0")
        .fetch_all(&db.pool)
        .await
}

pub async fn set_enabled(db: &Db, kind: LetterKind, on: bool, by: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO letter_settings (kind, enabled, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kind) DO UPDATE SET enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(kind.code())
    .bind(i64::from(on))
    .bind(by.to_owned())
    .bind(ts(Utc::now()))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The template in use and its version (`v3`, or `default`).
pub async fn current(
    db: &Db,
    kind: LetterKind,
    lang: Lang,
) -> Result<(TemplateText, String), sqlx::Error> {
    let row = sqlx::query(
        "SELECT version, subject, body FROM letter_templates WHERE kind = $1 AND lang = $2 ORDER BY version DESC LIMIT 1",
    )
    .bind(kind.code())
    .bind(lang.code())
    .fetch_optional(&db.pool)
    .await?;
    Ok(match row {
        Some(r) => (
            TemplateText {
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
            },
            format!("v{}", r.try_get::<i64, _>("version")?),
        ),
        None => (templates::default_text(kind, lang), "default".to_owned()),
    })
}

/// Every saved version, newest first.
pub async fn versions(
    db: &Db,
    kind: LetterKind,
    lang: Lang,
) -> Result<Vec<TemplateVersion>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT version, subject, body, saved_by, saved_at FROM letter_templates WHERE kind = $1 AND lang = $2 ORDER BY version DESC",
    )
    .bind(kind.code())
    .bind(lang.code())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TemplateVersion {
                version: r.try_get("version")?,
                saved_by: r.try_get("saved_by")?,
                saved_at: r.try_get("saved_at")?,
                text: TemplateText {
                    subject: r.try_get("subject")?,
                    body: r.try_get("body")?,
                },
            })
        })
        .collect()
}

/// Saves a new version (already checked); returns its number. Two staff
/// saving at once get two versions, never one lost: the primary key
/// refuses a duplicate number, and the loser tries the next one.
pub async fn save(
    db: &Db,
    kind: LetterKind,
    lang: Lang,
    text: &TemplateText,
    by: &str,
) -> Result<i64, sqlx::Error> {
    for _ in 0..5 {
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM letter_templates WHERE kind = $1 AND lang = $2",
        )
        .bind(kind.code())
        .bind(lang.code())
        .fetch_one(&db.pool)
        .await?;
        let done = sqlx::query(
            "INSERT INTO letter_templates (kind, lang, version, subject, body, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (kind, lang, version) DO NOTHING",
        )
        .bind(kind.code())
        .bind(lang.code())
        .bind(next)
        .bind(text.subject.clone())
        .bind(text.body.clone())
        .bind(by.to_owned())
        .bind(ts(Utc::now()))
        .execute(&db.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(next);
        }
    }
    Err(sqlx::Error::Protocol(
        "template versions kept colliding".into(),
    ))
}

const LETTER_COLUMNS: &str = "id, kind, side, request_id, recipient, lang, version, subject, body_text, state, attempts, last_error, created_at, sent_at";

fn letter_from_row(row: &AnyRow) -> Result<SentLetter, sqlx::Error> {
    let bad = |what: &str, v: &str| sqlx::Error::Decode(format!("bad {what}: {v}").into());
    let kind: String = row.try_get("kind")?;
    let side: String = row.try_get("side")?;
    let state: String = row.try_get("state")?;
    Ok(SentLetter {
        id: row.try_get("id")?,
        kind: LetterKind::from_code(&kind).ok_or_else(|| bad("kind", &kind))?,
        side: Side::from_code(&side).ok_or_else(|| bad("side", &side))?,
        request_id: row.try_get("request_id")?,
        recipient: row
            .try_get::<Option<String>, _>("recipient")?
            .unwrap_or_default(),
        lang: row.try_get("lang")?,
        version: row.try_get("version")?,
        subject: row.try_get("subject")?,
        text: row.try_get("body_text")?,
        state: LetterState::from_code(&state).ok_or_else(|| bad("state", &state))?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(0),
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

/// The letters written about one request, oldest first.
pub async fn of_request(
    db: &Db,
    side: Side,
    request_id: &str,
) -> Result<Vec<SentLetter>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {LETTER_COLUMNS} FROM letters WHERE side = $1 AND request_id = $2 ORDER BY created_at, id"
    ))
    .bind(side.code())
    .bind(request_id.to_owned())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(letter_from_row).collect()
}

/// The newest letters, optionally of one kind or state.
pub async fn log(
    db: &Db,
    kind: Option<LetterKind>,
    state: Option<LetterState>,
    limit: i64,
) -> Result<Vec<SentLetter>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {LETTER_COLUMNS} FROM letters WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR state = $2) \
         ORDER BY created_at DESC, id LIMIT $3"
    ))
    .bind(kind.map(|k| k.code()).unwrap_or("").to_owned())
    .bind(state.map(|s| s.code()).unwrap_or("").to_owned())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(letter_from_row).collect()
}

/// Sent and failed letters of each kind since `since`.
pub async fn counts(db: &Db, since: &str) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, state, COUNT(*) AS n FROM letters WHERE created_at >= $1 GROUP BY kind, state",
    )
    .bind(since.to_owned())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("state")?, r.try_get("n")?)))
        .collect()
}

/// Staff send a failed letter again: it is due now, with fresh tries.
pub async fn retry(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE letters SET state = 'pending', attempts = 0, next_attempt_at = $1, lease_token = NULL, lease_until = NULL \
         WHERE id = $2 AND state = 'failed'",
    )
    .bind(ts(Utc::now()))
    .bind(id.to_owned())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What Kauko keeps of a patron; each unset part stays as it was.
#[derive(Clone, Copy, Debug, Default)]
pub struct PatronDetails<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    /// The sign-in's locale claim.
    pub locale: Option<&'a str>,
    /// The language in use in Kauko.
    pub lang: Option<Lang>,
    /// The sign-in's groups (fee rules by patron group read them).
    pub groups: Option<&'a [String]>,
}

/// Remembers what Kauko knows of a patron: at sign-in (name, address,
/// locale, the language in use, groups) and when they choose a language
/// while signed in (`lang` only). Letters and fees read it.
pub async fn remember_patron(
    db: &Db,
    id: &str,
    details: PatronDetails<'_>,
) -> Result<(), sqlx::Error> {
    let groups = details
        .groups
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO patrons (id, name, email, lang, locale, groups, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET name = COALESCE(excluded.name, patrons.name), email = COALESCE(excluded.email, patrons.email), \
           lang = COALESCE(excluded.lang, patrons.lang), locale = COALESCE(excluded.locale, patrons.locale), \
           groups = COALESCE(excluded.groups, patrons.groups), updated_at = excluded.updated_at",
    )
    .bind(id.to_owned())
    .bind(details.name.map(str::to_owned))
    .bind(details.email.map(str::to_owned))
    .bind(details.lang.map(|l| l.code().to_owned()))
    .bind(details.locale.map(str::to_owned))
    .bind(groups)
    .bind(ts(Utc::now()))
    .execute(&db.pool)
    .await?;
    Ok(())
}
