//! Amounts recorded with a request's history ([`StatedCharge`]): the
//! lending library's charge for a borrowing request, and damage to a loan
//! we lent. The event and its amount are written in one transaction; the
//! ledger's worker then prices the event like any other billable one,
//! passing the amount on by the event's rule.

use app::domain::history::{Actor, Audience, NewEvent, Side};
use app::fees::{format_cents, ChargeError, StatedCharge, DAMAGED_ACTION, PARTNER_CHARGE_ACTION};
use chrono::Utc;
use sqlx::Row;

use crate::history;
use crate::storage::{ts, Db};

/// The request's state and partner, if it may carry such an amount:
/// a borrowing request sent to a partner, a lending request shipped.
async fn chargeable(
    db: &Db,
    side: Side,
    request_id: &str,
) -> Result<Result<(String, String), ChargeError>, sqlx::Error> {
    let sql = match side {
        Side::Borrowing => {
            "SELECT status, partner_code, CAST(1 AS BIGINT) AS shipped FROM borrowing_requests WHERE id = $1"
        }
        Side::Lending => {
            "SELECT status, partner_code, (SELECT COUNT(*) FROM request_events e \
               WHERE e.side = 'lending' AND e.request_id = r.id AND e.action IN ('ship', 'send_copy')) AS shipped \
             FROM lending_requests r WHERE id = $1"
        }
    };
    let Some(row) = sqlx::query(sql)
        .bind(request_id)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(Err(ChargeError::NoSuchRequest));
    };
    let state: String = row.try_get("status")?;
    let partner: Option<String> = row.try_get("partner_code")?;
    let shipped: i64 = row.try_get("shipped")?;
    Ok(match (side, partner) {
        (Side::Borrowing, None) => Err(ChargeError::NotSent),
        (Side::Lending, _) if shipped == 0 => Err(ChargeError::NotShipped),
        (_, Some(partner)) => Ok((state, partner)),
        (Side::Lending, None) => Err(ChargeError::NoSuchRequest),
    })
}

/// Records `charge` with a new history event on the request (state
/// unchanged; the note, for staff, says the amount).
pub async fn record(
    db: &Db,
    side: Side,
    request_id: &str,
    charge: &StatedCharge,
    actor: Actor,
) -> Result<Result<i64, ChargeError>, sqlx::Error> {
    let (state, partner) = match chargeable(db, side, request_id).await? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let mut tx = db.begin_write().await?;
    let seq = write(&mut tx, side, request_id, &state, &partner, charge, actor).await?;
    tx.commit().await?;
    Ok(Ok(seq))
}

/// Writes the event and its amount inside the caller's transaction (an
/// ISO 18626 message with the lender's delivery costs writes them with
/// the message's own change).
pub async fn write(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    side: Side,
    request_id: &str,
    state: &str,
    partner: &str,
    charge: &StatedCharge,
    actor: Actor,
) -> Result<i64, sqlx::Error> {
    let action = match side {
        Side::Borrowing => PARTNER_CHARGE_ACTION,
        Side::Lending => DAMAGED_ACTION,
    };
    let mut note = format!(
        "{} {}",
        format_cents(charge.amount_cents, ','),
        charge.currency
    );
    if !charge.reference.is_empty() {
        note.push_str(" · ");
        note.push_str(&charge.reference);
    }
    let created_by = match actor.parts() {
        (kind, Some(id)) => format!("{kind}:{id}"),
        (kind, None) => kind.to_owned(),
    };
    let seq = history::record(
        &mut **tx,
        &NewEvent {
            side,
            request_id: request_id.to_owned(),
            actor,
            action: action.to_owned(),
            from_state: Some(state.to_owned()),
            to_state: state.to_owned(),
            partner: Some(partner.to_owned()),
            note: Some((note, Audience::Internal)),
        },
    )
    .await?;
    sqlx::query(
        "INSERT INTO event_charges (event_seq, side, request_id, amount_cents, currency, reference, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(side.code())
    .bind(request_id.to_owned())
    .bind(charge.amount_cents)
    .bind(charge.currency.clone())
    .bind(charge.reference.clone())
    .bind(created_by)
    .bind(ts(Utc::now()))
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// The amount recorded with event `seq`, if any.
pub async fn of_event(db: &Db, seq: i64) -> Result<Option<StatedCharge>, sqlx::Error> {
    let Some(row) = sqlx::query(
        "SELECT amount_cents, currency, reference FROM event_charges WHERE event_seq = $1",
    )
    .bind(seq)
    .fetch_optional(&db.pool)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(StatedCharge {
        amount_cents: row.try_get("amount_cents")?,
        currency: row.try_get("currency")?,
        reference: row.try_get("reference")?,
    }))
}
