//! What the Alma adapter keeps in Kauko's database (migration
//! `20261128000003_alma_records.sql`): the borrowing requests Kauko created
//! (Alma cannot list a patron's RS requests), the lending requests Kauko
//! created, and the renewals Kauko made per loan.

use app::domain::{NewBorrowingRequest, NewLendingRequest, PatronId};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::port::{PortError, PortResult};
use crate::storage::{json_col, parse_ts, ts, Db};

pub(super) fn db_err(e: sqlx::Error) -> PortError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => PortError::Unavailable(e.to_string()),
        _ => PortError::Other(format!("Kauko's database: {e}")),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn to_json<T: serde::Serialize>(value: &T) -> PortResult<String> {
    serde_json::to_string(value).map_err(|e| PortError::Other(e.to_string()))
}

/// Where a borrowing request Kauko sends stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordState {
    /// The create is being sent.
    Pending,
    /// The create got no answer; Alma may or may not have it.
    Unconfirmed,
    /// Alma has it, under `request_id`.
    Created,
}

impl RecordState {
    fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Unconfirmed => "unconfirmed",
            Self::Created => "created",
        }
    }

    fn from_code(s: &str) -> Self {
        match s {
            "created" => Self::Created,
            "unconfirmed" => Self::Unconfirmed,
            _ => Self::Pending,
        }
    }
}

/// A borrowing request Kauko sent to Alma.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BorrowingRecord {
    pub external_id: String,
    pub request_id: Option<String>,
    pub patron_id: PatronId,
    /// The request as Kauko had it (citation, note, needed-by, ...).
    pub request: NewBorrowingRequest,
    pub state: RecordState,
    /// Alma's status code as last seen.
    pub status: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const BORROWING_COLUMNS: &str =
    "external_id, request_id, patron_id, request, state, status, created_at, updated_at";

fn borrowing_from_row(row: &AnyRow) -> Result<BorrowingRecord, sqlx::Error> {
    Ok(BorrowingRecord {
        external_id: row.try_get("external_id")?,
        request_id: row.try_get("request_id")?,
        patron_id: PatronId(row.try_get("patron_id")?),
        request: json_col(&row.try_get::<String, _>("request")?)?,
        state: RecordState::from_code(&row.try_get::<String, _>("state")?),
        status: row.try_get("status")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&row.try_get::<String, _>("updated_at")?)?,
    })
}

/// The outcome of reserving an external id before a create.
#[derive(Debug)]
pub enum Reservation {
    /// Reserved for this create.
    Reserved,
    /// The external id is already recorded.
    Existing(BorrowingRecord),
}

pub async fn reserve(
    db: &Db,
    patron: &PatronId,
    request: &NewBorrowingRequest,
) -> PortResult<Reservation> {
    let now = ts(Utc::now());
    let inserted = sqlx::query(
        "INSERT INTO alma_borrowing_requests (external_id, request_id, patron_id, request, state, status, created_at, updated_at) \
         VALUES ($1, NULL, $2, $3, $4, NULL, $5, $5)",
    )
    .bind(request.external_id.clone())
    .bind(patron.0.clone())
    .bind(to_json(request)?)
    .bind(RecordState::Pending.code())
    .bind(now)
    .execute(&db.pool)
    .await;
    match inserted {
        Ok(_) => Ok(Reservation::Reserved),
        Err(e) if is_unique_violation(&e) => by_external_id(db, &request.external_id)
            .await?
            .map(Reservation::Existing)
            .ok_or_else(|| PortError::Other("a reserved external id vanished".into())),
        Err(e) => Err(db_err(e)),
    }
}

/// Takes over a reservation left pending or unconfirmed by an earlier
/// attempt (compare-and-set on its `updated_at`, so one retry wins).
pub async fn take_over(
    db: &Db,
    record: &BorrowingRecord,
    request: &NewBorrowingRequest,
) -> PortResult<bool> {
    let done = sqlx::query(
        "UPDATE alma_borrowing_requests SET state = $1, request = $2, updated_at = $3 \
         WHERE external_id = $4 AND request_id IS NULL AND updated_at = $5",
    )
    .bind(RecordState::Pending.code())
    .bind(to_json(request)?)
    .bind(ts(Utc::now()))
    .bind(record.external_id.clone())
    .bind(ts(record.updated_at))
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

/// Alma has the request: note its id and status.
pub async fn confirm(
    db: &Db,
    external_id: &str,
    request_id: &str,
    status: Option<&str>,
) -> PortResult<()> {
    sqlx::query(
        "UPDATE alma_borrowing_requests SET request_id = $1, state = $2, status = $3, updated_at = $4 \
         WHERE external_id = $5",
    )
    .bind(request_id.to_owned())
    .bind(RecordState::Created.code())
    .bind(status.map(str::to_owned))
    .bind(ts(Utc::now()))
    .bind(external_id.to_owned())
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Records a request Alma has that Kauko has no record of (found by its
/// external id, e.g. after the database lost it).
pub async fn adopt(
    db: &Db,
    patron: &PatronId,
    request: &NewBorrowingRequest,
    request_id: &str,
    status: Option<&str>,
) -> PortResult<()> {
    match reserve(db, patron, request).await? {
        Reservation::Reserved => confirm(db, &request.external_id, request_id, status).await,
        Reservation::Existing(_) => Ok(()),
    }
}

/// The create got no answer: keep the reservation so that a retry looks
/// the request up before sending it again.
pub async fn mark_unconfirmed(db: &Db, external_id: &str) -> PortResult<()> {
    sqlx::query(
        "UPDATE alma_borrowing_requests SET state = $1, updated_at = $2 \
         WHERE external_id = $3 AND request_id IS NULL",
    )
    .bind(RecordState::Unconfirmed.code())
    .bind(ts(Utc::now()))
    .bind(external_id.to_owned())
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Alma refused the create: forget the reservation.
pub async fn release(db: &Db, external_id: &str) -> PortResult<()> {
    sqlx::query(
        "DELETE FROM alma_borrowing_requests WHERE external_id = $1 AND request_id IS NULL",
    )
    .bind(external_id.to_owned())
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub async fn by_external_id(db: &Db, external_id: &str) -> PortResult<Option<BorrowingRecord>> {
    let sql =
        format!("SELECT {BORROWING_COLUMNS} FROM alma_borrowing_requests WHERE external_id = $1");
    let row = sqlx::query(&sql)
        .bind(external_id.to_owned())
        .fetch_optional(&db.pool)
        .await
        .map_err(db_err)?;
    row.as_ref()
        .map(borrowing_from_row)
        .transpose()
        .map_err(db_err)
}

pub async fn by_request_id(db: &Db, request_id: &str) -> PortResult<Option<BorrowingRecord>> {
    let sql =
        format!("SELECT {BORROWING_COLUMNS} FROM alma_borrowing_requests WHERE request_id = $1");
    let row = sqlx::query(&sql)
        .bind(request_id.to_owned())
        .fetch_optional(&db.pool)
        .await
        .map_err(db_err)?;
    row.as_ref()
        .map(borrowing_from_row)
        .transpose()
        .map_err(db_err)
}

/// The patron's requests Alma has (state `created`), newest first.
pub async fn for_patron(db: &Db, patron: &PatronId) -> PortResult<Vec<BorrowingRecord>> {
    let sql = format!(
        "SELECT {BORROWING_COLUMNS} FROM alma_borrowing_requests \
         WHERE patron_id = $1 AND request_id IS NOT NULL ORDER BY created_at DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(patron.0.clone())
        .fetch_all(&db.pool)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(borrowing_from_row)
        .collect::<Result<_, _>>()
        .map_err(db_err)
}

/// Notes the status Alma reported last.
pub async fn set_status(db: &Db, request_id: &str, status: &str) -> PortResult<()> {
    sqlx::query(
        "UPDATE alma_borrowing_requests SET status = $1, updated_at = $2 WHERE request_id = $3",
    )
    .bind(status.to_owned())
    .bind(ts(Utc::now()))
    .bind(request_id.to_owned())
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

// --- Lending requests --------------------------------------------------------

/// A lending request Kauko created in Alma, with everything asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LendingRecord {
    pub request_id: String,
    pub request: NewLendingRequest,
    pub created_at: DateTime<Utc>,
}

fn lending_from_row(row: &AnyRow) -> Result<LendingRecord, sqlx::Error> {
    Ok(LendingRecord {
        request_id: row.try_get("request_id")?,
        request: json_col(&row.try_get::<String, _>("request")?)?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
    })
}

pub async fn lending_external_id_known(db: &Db, external_id: &str) -> PortResult<bool> {
    let row = sqlx::query("SELECT request_id FROM alma_lending_requests WHERE external_id = $1")
        .bind(external_id.to_owned())
        .fetch_optional(&db.pool)
        .await
        .map_err(db_err)?;
    Ok(row.is_some())
}

/// Records a created lending request; `Duplicate` when its external id is
/// recorded already.
pub async fn insert_lending(
    db: &Db,
    request_id: &str,
    request: &NewLendingRequest,
    created_at: DateTime<Utc>,
) -> PortResult<()> {
    sqlx::query(
        "INSERT INTO alma_lending_requests (external_id, request_id, partner_code, request, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(request.external_id.clone())
    .bind(request_id.to_owned())
    .bind(request.partner_code.clone())
    .bind(to_json(request)?)
    .bind(ts(created_at))
    .execute(&db.pool)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            PortError::Duplicate(format!("lending request {}", request.external_id))
        } else {
            db_err(e)
        }
    })?;
    Ok(())
}

pub async fn lending(
    db: &Db,
    partner_code: &str,
    request_id: &str,
) -> PortResult<Option<LendingRecord>> {
    let row = sqlx::query(
        "SELECT request_id, request, created_at FROM alma_lending_requests \
         WHERE partner_code = $1 AND request_id = $2",
    )
    .bind(partner_code.to_owned())
    .bind(request_id.to_owned())
    .fetch_optional(&db.pool)
    .await
    .map_err(db_err)?;
    row.as_ref()
        .map(lending_from_row)
        .transpose()
        .map_err(db_err)
}

// --- Renewals ------------------------------------------------------------------

/// Renewals Kauko made of this patron's loan.
pub async fn renewals(db: &Db, patron: &PatronId, loan_id: &str) -> PortResult<u32> {
    let row = sqlx::query(
        "SELECT renewals FROM alma_loan_renewals WHERE patron_id = $1 AND loan_id = $2",
    )
    .bind(patron.0.clone())
    .bind(loan_id.to_owned())
    .fetch_optional(&db.pool)
    .await
    .map_err(db_err)?;
    Ok(match row {
        Some(row) => {
            u32::try_from(row.try_get::<i64, _>("renewals").map_err(db_err)?).unwrap_or(u32::MAX)
        }
        None => 0,
    })
}

/// Every renewal count of the patron, by loan id.
pub async fn all_renewals(
    db: &Db,
    patron: &PatronId,
) -> PortResult<std::collections::HashMap<String, u32>> {
    let rows = sqlx::query("SELECT loan_id, renewals FROM alma_loan_renewals WHERE patron_id = $1")
        .bind(patron.0.clone())
        .fetch_all(&db.pool)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("loan_id")?,
                u32::try_from(r.try_get::<i64, _>("renewals")?).unwrap_or(u32::MAX),
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db_err)
}

/// Counts one more renewal; returns the new count.
pub async fn add_renewal(db: &Db, patron: &PatronId, loan_id: &str) -> PortResult<u32> {
    sqlx::query(
        "INSERT INTO alma_loan_renewals (patron_id, loan_id, renewals, updated_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (patron_id, loan_id) DO UPDATE SET renewals = alma_loan_renewals.renewals + 1, updated_at = $3",
    )
    .bind(patron.0.clone())
    .bind(loan_id.to_owned())
    .bind(ts(Utc::now()))
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    renewals(db, patron, loan_id).await
}

/// Takes one of the loan's renewals before Alma is asked, in one UPDATE
/// that only succeeds below `max`: two renewals of one loan sent at once
/// (to one instance or two) cannot both pass the limit. `Some(count)` with
/// the count including this one; `None` at the limit.
pub async fn reserve_renewal(
    db: &Db,
    patron: &PatronId,
    loan_id: &str,
    max: u32,
) -> PortResult<Option<u32>> {
    let now = ts(Utc::now());
    sqlx::query(
        "INSERT INTO alma_loan_renewals (patron_id, loan_id, renewals, updated_at) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (patron_id, loan_id) DO NOTHING",
    )
    .bind(patron.0.clone())
    .bind(loan_id.to_owned())
    .bind(now.clone())
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    let taken = sqlx::query(
        "UPDATE alma_loan_renewals SET renewals = renewals + 1, updated_at = $1 \
         WHERE patron_id = $2 AND loan_id = $3 AND renewals < $4",
    )
    .bind(now)
    .bind(patron.0.clone())
    .bind(loan_id.to_owned())
    .bind(i64::from(max))
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    if taken.rows_affected() == 0 {
        return Ok(None);
    }
    renewals(db, patron, loan_id).await.map(Some)
}

/// Gives back a renewal taken by [`reserve_renewal`] that Alma refused.
pub async fn release_renewal(db: &Db, patron: &PatronId, loan_id: &str) -> PortResult<()> {
    sqlx::query(
        "UPDATE alma_loan_renewals SET renewals = renewals - 1, updated_at = $1 \
         WHERE patron_id = $2 AND loan_id = $3 AND renewals > 0",
    )
    .bind(ts(Utc::now()))
    .bind(patron.0.clone())
    .bind(loan_id.to_owned())
    .execute(&db.pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::contract;

    async fn db() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/kauko.db", dir.path().display());
        let db = Db::connect(&url, 2, std::time::Duration::from_secs(5))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        (db, dir)
    }

    #[tokio::test]
    async fn a_reservation_is_confirmed_released_or_found() {
        let (db, _dir) = db().await;
        let me = PatronId("jane doe".into());
        let req = contract::new_request("K-1");
        assert!(matches!(
            reserve(&db, &me, &req).await.unwrap(),
            Reservation::Reserved
        ));
        let Reservation::Existing(pending) = reserve(&db, &me, &req).await.unwrap() else {
            panic!("the external id is taken");
        };
        assert_eq!(pending.state, RecordState::Pending);
        assert_eq!(pending.request, req);
        assert!(
            for_patron(&db, &me).await.unwrap().is_empty(),
            "not yet in Alma"
        );

        mark_unconfirmed(&db, "K-1").await.unwrap();
        let unconfirmed = by_external_id(&db, "K-1").await.unwrap().unwrap();
        assert_eq!(unconfirmed.state, RecordState::Unconfirmed);
        assert!(take_over(&db, &unconfirmed, &req).await.unwrap());
        assert!(
            !take_over(&db, &unconfirmed, &req).await.unwrap(),
            "one retry wins"
        );

        confirm(&db, "K-1", "RS-1", Some("REQUEST_CREATED_BOR"))
            .await
            .unwrap();
        let created = by_request_id(&db, "RS-1").await.unwrap().unwrap();
        assert_eq!(created.state, RecordState::Created);
        assert_eq!(created.patron_id, me);
        assert_eq!(for_patron(&db, &me).await.unwrap().len(), 1);
        release(&db, "K-1").await.unwrap();
        assert!(
            by_external_id(&db, "K-1").await.unwrap().is_some(),
            "created stays"
        );

        set_status(&db, "RS-1", "LOANED").await.unwrap();
        assert_eq!(
            by_request_id(&db, "RS-1")
                .await
                .unwrap()
                .unwrap()
                .status
                .as_deref(),
            Some("LOANED")
        );

        reserve(&db, &me, &contract::new_request("K-2"))
            .await
            .unwrap();
        release(&db, "K-2").await.unwrap();
        assert!(by_external_id(&db, "K-2").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn renewals_count_per_patron_and_loan() {
        let (db, _dir) = db().await;
        let (me, other) = (PatronId("a".into()), PatronId("b".into()));
        assert_eq!(renewals(&db, &me, "L1").await.unwrap(), 0);
        assert_eq!(add_renewal(&db, &me, "L1").await.unwrap(), 1);
        assert_eq!(add_renewal(&db, &me, "L1").await.unwrap(), 2);
        assert_eq!(renewals(&db, &other, "L1").await.unwrap(), 0);
        assert_eq!(all_renewals(&db, &me).await.unwrap().get("L1"), Some(&2));
    }
}
