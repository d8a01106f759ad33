//! The local adapter: resource sharing on Kauko's own database. It is the
//! embedded default, so Kauko is usable with no Alma at all; staff move
//! requests through their statuses in Kauko itself.

use app::domain::{
    BorrowingRequest, BorrowingStatus, Citation, Format, IllLoan, LendingRequest, LendingStatus,
    NewBorrowingRequest, NewLendingRequest, Partner, PatronId,
};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::config::Config;
use crate::history;
use crate::port::{self, Page, PortError, PortResult, Refusal, ResourceSharing};
use crate::storage::{json_col, parse_date, parse_ts, ts, Db};
use app::domain::history::{Actor, NewEvent, Side};

/// The library's rules the local backend applies itself.
#[derive(Clone, Debug)]
pub struct LocalRules {
    pub cancellable: Vec<BorrowingStatus>,
    pub renewal_days: i64,
    pub max_renewals: u32,
}

impl LocalRules {
    pub fn from_config(config: &Config) -> Self {
        Self {
            cancellable: config
                .requests
                .cancellable_statuses
                .iter()
                .map(|c| BorrowingStatus::from_code(c))
                .collect(),
            renewal_days: i64::from(config.requests.renewal_days),
            max_renewals: config.requests.max_renewals,
        }
    }
}

impl Default for LocalRules {
    fn default() -> Self {
        Self::from_config(&Config::default())
    }
}

pub struct LocalBackend {
    db: Db,
    rules: LocalRules,
}

/// One change of a borrowing request's state, written inside `tx` with
/// its event: compare-and-set on the state it was read in (`from`), and
/// only on the patron's own request when `patron` is given, so a
/// concurrent change is never overwritten unrecorded. `false` when the
/// request was no longer in `from` (nothing written).
async fn move_borrowing(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    patron: Option<&PatronId>,
    from: &str,
    to: &str,
    actor: Actor,
    action: String,
) -> Result<bool, sqlx::Error> {
    const SET: &str = "UPDATE borrowing_requests SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND status = $4";
    let own;
    let query = match patron {
        Some(p) => {
            own = format!("{SET} AND patron_id = $5");
            sqlx::query(&own)
                .bind(to.to_owned())
                .bind(ts(Utc::now()))
                .bind(id.to_owned())
                .bind(from.to_owned())
                .bind(p.0.clone())
        }
        None => sqlx::query(SET)
            .bind(to.to_owned())
            .bind(ts(Utc::now()))
            .bind(id.to_owned())
            .bind(from.to_owned()),
    };
    if query.execute(&mut **tx).await?.rows_affected() == 0 {
        return Ok(false);
    }
    history::record(
        &mut **tx,
        &NewEvent {
            side: Side::Borrowing,
            request_id: id.to_owned(),
            actor,
            action,
            from_state: Some(from.to_owned()),
            to_state: to.to_owned(),
            partner: None,
            note: None,
        },
    )
    .await?;
    Ok(true)
}

fn db_err(e: sqlx::Error) -> PortError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            PortError::Duplicate(d.message().to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => PortError::Unavailable(e.to_string()),
        // SQLite busy or locked (another writer held on past the busy
        // timeout, or a snapshot went stale): try again later, not a
        // refusal.
        sqlx::Error::Database(d) if sqlite_busy(d.code().as_deref(), d.message()) => {
            PortError::Unavailable(e.to_string())
        }
        _ => PortError::Other(e.to_string()),
    }
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
fn sqlite_busy(code: Option<&str>, message: &str) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
        || message.contains("database is locked")
        || message.contains("database table is locked")
}

fn format_code(f: Format) -> &'static str {
    match f {
        Format::Physical => "PHYSICAL",
        Format::Digital => "DIGITAL",
    }
}

fn opt_date(s: Option<String>) -> Result<Option<NaiveDate>, sqlx::Error> {
    s.as_deref().map(parse_date).transpose()
}

const REQUEST_COLUMNS: &str =
    "id, patron_id, external_id, citation, format, pickup_location, needed_by, note, status, created_at, updated_at";

fn request_from_row(row: &AnyRow) -> Result<BorrowingRequest, sqlx::Error> {
    let format: String = row.try_get("format")?;
    Ok(BorrowingRequest {
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        patron_id: PatronId(row.try_get("patron_id")?),
        citation: json_col::<Citation>(&row.try_get::<String, _>("citation")?)?,
        format: if format == "PHYSICAL" {
            Format::Physical
        } else {
            Format::Digital
        },
        pickup_location: row.try_get("pickup_location")?,
        needed_by: opt_date(row.try_get("needed_by")?)?,
        note: row.try_get("note")?,
        status: BorrowingStatus::from_code(&row.try_get::<String, _>("status")?),
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&row.try_get::<String, _>("updated_at")?)?,
    })
}

const LOAN_COLUMNS: &str =
    "id, request_id, title, author, loan_date, due_date, renewable, renewals, renewal_requested";

pub(crate) fn loan_from_row(row: &AnyRow) -> Result<IllLoan, sqlx::Error> {
    Ok(IllLoan {
        id: row.try_get("id")?,
        request_id: row.try_get("request_id")?,
        title: row.try_get("title")?,
        author: row.try_get("author")?,
        loan_date: parse_ts(&row.try_get::<String, _>("loan_date")?)?,
        due_date: parse_ts(&row.try_get::<String, _>("due_date")?)?,
        renewable: row.try_get::<i64, _>("renewable")? != 0,
        renewals: u32::try_from(row.try_get::<i64, _>("renewals")?).unwrap_or(u32::MAX),
        renewal_requested: row.try_get::<i64, _>("renewal_requested")? != 0,
    })
}

/// The request as submitted is kept as one JSON document; id, partner,
/// external id, status and time also have columns of their own.
fn lending_from_row(row: &AnyRow) -> Result<LendingRequest, sqlx::Error> {
    Ok(LendingRequest {
        id: row.try_get("id")?,
        request: json_col(&row.try_get::<String, _>("body")?)?,
        status: LendingStatus(row.try_get("status")?),
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
    })
}

fn partner_from_row(row: &AnyRow) -> Result<Partner, sqlx::Error> {
    json_col(&row.try_get::<String, _>("body")?)
}

fn to_json<T: Serialize>(value: &T) -> PortResult<String> {
    serde_json::to_string(value).map_err(|e| PortError::Other(e.to_string()))
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl LocalBackend {
    pub fn new(db: Db, rules: LocalRules) -> Self {
        Self { db, rules }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Staff (or the partner) move a request on. Not part of the port: the
    /// library system does this itself when it is Alma. Recorded as Kauko's
    /// change; see [`Self::set_status_by`].
    pub async fn set_status(&self, id: &str, status: &BorrowingStatus) -> PortResult<()> {
        self.set_status_by(id, status, Actor::Kauko, "set_status")
            .await
    }

    /// Moves a request to `status`, writing the change into its history in
    /// the same transaction (compare-and-set on the state it was read in,
    /// so a concurrent change is never overwritten unrecorded).
    pub async fn set_status_by(
        &self,
        id: &str,
        status: &BorrowingStatus,
        actor: Actor,
        action: &str,
    ) -> PortResult<()> {
        let before: String = sqlx::query("SELECT status FROM borrowing_requests WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_err)?
            .ok_or(PortError::NotFound)?
            .try_get("status")
            .map_err(db_err)?;
        // The write comes first in the transaction (no read lock to upgrade
        // on SQLite); it only lands on the state read above.
        let mut tx = self.db.begin_write().await.map_err(db_err)?;
        let moved = move_borrowing(
            &mut tx,
            id,
            None,
            &before,
            status.code(),
            actor,
            action.to_owned(),
        )
        .await
        .map_err(db_err)?;
        if !moved {
            return Err(PortError::Refused(Refusal::ChangedMeanwhile));
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    /// Checks an item out to the patron as an ILL loan, as staff do when it
    /// arrives from the lender. Returns the loan's id.
    pub async fn check_out(
        &self,
        patron: &PatronId,
        request_id: Option<&str>,
        title: &str,
        author: Option<&str>,
        due: chrono::DateTime<Utc>,
        renewable: bool,
    ) -> PortResult<String> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO ill_loans (id, patron_id, request_id, title, author, loan_date, due_date, renewable, renewals) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)",
        )
        .bind(id.clone())
        .bind(patron.0.clone())
        .bind(request_id.map(str::to_owned))
        .bind(title.to_owned())
        .bind(author.map(str::to_owned))
        .bind(ts(Utc::now()))
        .bind(ts(due))
        .bind(i64::from(renewable))
        .execute(&self.db.pool)
        .await
        .map_err(db_err)?;
        if let Some(request_id) = request_id {
            self.set_status_by(
                request_id,
                &BorrowingStatus::Loaned,
                Actor::Kauko,
                "lend_to_patron",
            )
            .await?;
        }
        Ok(id)
    }

    /// The patron asks the lending library for more time: the request
    /// moves to "renewal asked" (if its state allows the patron to ask) and
    /// the loan is marked, in one transaction with the event.
    async fn ask_renewal(
        &self,
        patron: &PatronId,
        loan: &IllLoan,
        request_id: &str,
    ) -> PortResult<()> {
        use app::domain::workflow::{borrowing_step, BorrowingAction, Role};
        let current = self.fetch_request(patron, request_id).await?;
        let to = borrowing_step(&current.status, BorrowingAction::AskRenewal, Role::Patron)
            .map_err(|_| PortError::Refused(Refusal::NotRenewable))?;
        let mut tx = self.db.begin_write().await.map_err(db_err)?;
        let moved = move_borrowing(
            &mut tx,
            request_id,
            Some(patron),
            current.status.code(),
            to.code(),
            Actor::Patron(patron.0.clone()),
            BorrowingAction::AskRenewal.code(),
        )
        .await
        .map_err(db_err)?;
        if !moved {
            return Err(PortError::Refused(Refusal::ChangedMeanwhile));
        }
        sqlx::query("UPDATE ill_loans SET renewal_requested = 1 WHERE id = $1")
            .bind(loan.id.clone())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn fetch_request(&self, patron: &PatronId, id: &str) -> PortResult<BorrowingRequest> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM borrowing_requests WHERE id = $1 AND patron_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id.to_owned())
            .bind(patron.0.clone())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_err)?
            .ok_or(PortError::NotFound)?;
        request_from_row(&row).map_err(db_err)
    }
}

#[async_trait]
impl ResourceSharing for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn ping(&self) -> PortResult<()> {
        self.db
            .ping()
            .await
            .map_err(|e| PortError::Unavailable(e.to_string()))
    }

    async fn create_borrowing_request(
        &self,
        patron: &PatronId,
        request: NewBorrowingRequest,
    ) -> PortResult<BorrowingRequest> {
        port::validate_borrowing_request(&request)?;
        let id = new_id();
        let now = ts(Utc::now());
        let citation = to_json(&request.citation)?;
        let mut tx = self.db.begin_write().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO borrowing_requests (id, patron_id, external_id, citation, format, pickup_location, needed_by, note, status, created_at, updated_at, title, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)",
        )
        .bind(id.clone())
        .bind(patron.0.clone())
        .bind(request.external_id.clone())
        .bind(citation)
        .bind(format_code(request.format))
        .bind(request.pickup_location.clone())
        .bind(request.needed_by.map(|d| d.format("%Y-%m-%d").to_string()))
        .bind(request.note.clone())
        .bind(BorrowingStatus::RequestCreated.code().to_owned())
        .bind(now)
        .bind(request.citation.title.clone())
        .bind(request.citation.kind.map(|k| k.code().to_owned()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        history::record(
            &mut *tx,
            &NewEvent {
                side: Side::Borrowing,
                request_id: id.clone(),
                actor: Actor::Patron(patron.0.clone()),
                action: "created".into(),
                from_state: None,
                to_state: BorrowingStatus::RequestCreated.code().to_owned(),
                partner: None,
                note: None,
            },
        )
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        self.fetch_request(patron, &id).await
    }

    async fn get_borrowing_request(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<BorrowingRequest> {
        self.fetch_request(patron, id).await
    }

    async fn find_borrowing_request_by_external_id(
        &self,
        patron: &PatronId,
        external_id: &str,
    ) -> PortResult<Option<BorrowingRequest>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM borrowing_requests WHERE external_id = $1 AND patron_id = $2");
        let row = sqlx::query(&sql)
            .bind(external_id.to_owned())
            .bind(patron.0.clone())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_err)?;
        row.as_ref()
            .map(request_from_row)
            .transpose()
            .map_err(db_err)
    }

    async fn cancel_borrowing_request(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<BorrowingRequest> {
        let current = self.fetch_request(patron, id).await?;
        if !self.rules.cancellable.contains(&current.status) {
            return Err(PortError::Refused(Refusal::NotCancellable));
        }
        // Compare-and-set on the status, so a concurrent staff action wins;
        // the change and its event in one transaction.
        let mut tx = self.db.begin_write().await.map_err(db_err)?;
        let moved = move_borrowing(
            &mut tx,
            id,
            Some(patron),
            current.status.code(),
            BorrowingStatus::CancelledByPatron.code(),
            Actor::Patron(patron.0.clone()),
            "cancel".into(),
        )
        .await
        .map_err(db_err)?;
        if !moved {
            return Err(PortError::Refused(Refusal::NotCancellable));
        }
        tx.commit().await.map_err(db_err)?;
        self.fetch_request(patron, id).await
    }

    async fn list_borrowing_requests(
        &self,
        patron: &PatronId,
    ) -> PortResult<Vec<BorrowingRequest>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM borrowing_requests WHERE patron_id = $1 ORDER BY created_at DESC, id DESC");
        let rows = sqlx::query(&sql)
            .bind(patron.0.clone())
            .fetch_all(&self.db.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(request_from_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn list_loans(&self, patron: &PatronId) -> PortResult<Vec<IllLoan>> {
        let sql = format!("SELECT {LOAN_COLUMNS} FROM ill_loans WHERE patron_id = $1 AND returned_at IS NULL ORDER BY due_date, id");
        let rows = sqlx::query(&sql)
            .bind(patron.0.clone())
            .fetch_all(&self.db.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(loan_from_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn renew_loan(&self, patron: &PatronId, loan_id: &str) -> PortResult<IllLoan> {
        let sql = format!("SELECT {LOAN_COLUMNS} FROM ill_loans WHERE id = $1 AND patron_id = $2 AND returned_at IS NULL");
        let fetch = || {
            sqlx::query(&sql)
                .bind(loan_id.to_owned())
                .bind(patron.0.clone())
        };
        let row = fetch()
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_err)?
            .ok_or(PortError::NotFound)?;
        let loan = loan_from_row(&row).map_err(db_err)?;
        if loan.renewal_requested {
            // Asked already: the lending library has not answered yet.
            return Ok(loan);
        }
        if !loan.renewable {
            return Err(PortError::Refused(Refusal::NotRenewable));
        }
        if loan.renewals >= self.rules.max_renewals {
            return Err(PortError::Refused(Refusal::RenewalLimitReached));
        }
        if let Some(request_id) = loan.request_id.clone() {
            // A loan that came through a request is the lending library's:
            // the patron asks, staff (for the lender) grant or refuse.
            self.ask_renewal(patron, &loan, &request_id).await?;
            let row = fetch().fetch_one(&self.db.pool).await.map_err(db_err)?;
            return loan_from_row(&row).map_err(db_err);
        }
        let due = loan.due_date.max(Utc::now()) + Duration::days(self.rules.renewal_days);
        let done = sqlx::query("UPDATE ill_loans SET due_date = $1, renewals = renewals + 1 WHERE id = $2 AND renewals = $3")
            .bind(ts(due))
            .bind(loan_id.to_owned())
            .bind(i64::from(loan.renewals))
            .execute(&self.db.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(PortError::Refused(Refusal::RenewalLimitReached));
        }
        let row = fetch().fetch_one(&self.db.pool).await.map_err(db_err)?;
        loan_from_row(&row).map_err(db_err)
    }

    async fn create_lending_request(
        &self,
        request: NewLendingRequest,
    ) -> PortResult<LendingRequest> {
        port::validate_lending_request(&request)?;
        self.get_partner(&request.partner_code).await?;
        let id = new_id();
        let mut tx = self.db.begin_write().await.map_err(db_err)?;
        sqlx::query("INSERT INTO lending_requests (id, external_id, partner_code, body, status, created_at, updated_at, title, kind, requester) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)")
            .bind(id.clone())
            .bind(request.external_id.clone())
            .bind(request.partner_code.clone())
            .bind(to_json(&request)?)
            .bind(LendingStatus::CREATED)
            .bind(ts(Utc::now()))
            .bind(request.citation.title.clone())
            .bind(request.citation.kind.map(|k| k.code().to_owned()))
            .bind(request.requester.library_name.clone())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        history::record(
            &mut *tx,
            &NewEvent {
                side: Side::Lending,
                request_id: id.clone(),
                actor: Actor::Partner(request.partner_code.clone()),
                action: "created".into(),
                from_state: None,
                to_state: LendingStatus::CREATED.to_owned(),
                partner: Some(request.partner_code.clone()),
                note: None,
            },
        )
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        self.get_lending_request(&request.partner_code, &id).await
    }

    async fn get_lending_request(
        &self,
        partner_code: &str,
        id: &str,
    ) -> PortResult<LendingRequest> {
        let row = sqlx::query("SELECT id, external_id, partner_code, body, status, created_at FROM lending_requests WHERE id = $1 AND partner_code = $2")
            .bind(id.to_owned())
            .bind(partner_code.to_owned())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_err)?
            .ok_or(PortError::NotFound)?;
        lending_from_row(&row).map_err(db_err)
    }

    async fn find_lending_request_by_external_id(
        &self,
        partner_code: &str,
        external_id: &str,
    ) -> PortResult<Option<LendingRequest>> {
        let row = sqlx::query("SELECT id, external_id, partner_code, body, status, created_at FROM lending_requests WHERE external_id = $1 AND partner_code = $2")
            .bind(external_id.to_owned())
            .bind(partner_code.to_owned())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_err)?;
        row.as_ref()
            .map(lending_from_row)
            .transpose()
            .map_err(db_err)
    }

    async fn list_partners(&self, offset: u64, limit: u64) -> PortResult<Page<Partner>> {
        let limit = limit.min(100);
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM partners")
            .fetch_one(&self.db.pool)
            .await
            .and_then(|r| r.try_get("n"))
            .map_err(db_err)?;
        let rows = sqlx::query("SELECT body FROM partners ORDER BY code LIMIT $1 OFFSET $2")
            .bind(i64::try_from(limit).unwrap_or(100))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&self.db.pool)
            .await
            .map_err(db_err)?;
        let items = rows
            .iter()
            .map(partner_from_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn get_partner(&self, code: &str) -> PortResult<Partner> {
        let row = sqlx::query("SELECT body FROM partners WHERE code = $1")
            .bind(code.to_owned())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_err)?
            .ok_or(PortError::NotFound)?;
        partner_from_row(&row).map_err(db_err)
    }

    async fn create_partner(&self, partner: Partner) -> PortResult<Partner> {
        port::validate_partner(&partner)?;
        sqlx::query("INSERT INTO partners (code, name, body, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(partner.code.clone())
            .bind(partner.name.clone())
            .bind(to_json(&partner)?)
            .bind(ts(Utc::now()))
            .execute(&self.db.pool)
            .await
            .map_err(db_err)?;
        self.get_partner(&partner.code).await
    }

    async fn update_partner(&self, partner: Partner) -> PortResult<Partner> {
        port::validate_partner(&partner)?;
        let done = sqlx::query(
            "UPDATE partners SET name = $1, body = $2, updated_at = $3 WHERE code = $4",
        )
        .bind(partner.name.clone())
        .bind(to_json(&partner)?)
        .bind(ts(Utc::now()))
        .bind(partner.code.clone())
        .execute(&self.db.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(PortError::NotFound);
        }
        self.get_partner(&partner.code).await
    }
}
