//! Amounts recorded with a request's history ([`StatedCharge`]): the
//! lending library's charge for a borrowing request, and damage to a loan
//! we lent. The event and its amount are written in one transaction; the
//! ledger's worker then prices the event like any other billable one,
//! passing the amount on by the event's rule.

use app::domain::history::{Actor, Audience, NewEvent, Side};
use app::fees::{
    format_cents, Billable, ChargeError, StatedCharge, DAMAGED_ACTION, PARTNER_CHARGE_ACTION,
};
use chrono::Utc;
use sqlx::Row;

use crate::history;
use crate::storage::{ts, Db};

/// The request's state and partner, if it may carry such an amount:
/// a borrowing request sent to a partner, a lending request that shipped
/// something (read in the transaction that writes the event, so the state
/// it records is the state it was).
async fn chargeable(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    side: Side,
    request_id: &str,
) -> Result<Result<(String, String), ChargeError>, sqlx::Error> {
    let sql = match side {
        Side::Borrowing => "SELECT status, partner_code FROM borrowing_requests WHERE id = $1",
        Side::Lending => "SELECT status, partner_code FROM lending_requests WHERE id = $1",
    };
    let Some(row) = sqlx::query(sql)
        .bind(request_id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(Err(ChargeError::NoSuchRequest));
    };
    let state: String = row.try_get("status")?;
    let Some(partner) = row.try_get::<Option<String>, _>("partner_code")? else {
        return Ok(Err(ChargeError::NotSent));
    };
    if side == Side::Lending {
        let actions: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT action FROM request_events WHERE side = 'lending' AND request_id = $1",
        )
        .bind(request_id)
        .fetch_all(&mut **tx)
        .await?;
        if !actions.iter().any(|a| Billable::is_shipping("lending", a)) {
            return Ok(Err(ChargeError::NotShipped));
        }
    }
    Ok(Ok((state, partner)))
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
    let mut tx = db.begin_write().await?;
    let (state, partner) = match chargeable(&mut tx, side, request_id).await? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
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
