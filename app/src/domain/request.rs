//! Borrowing requests (a patron asks for material from another library),
//! ILL loans, and lending requests (another library asks us).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{BorrowingStatus, Citation, LendingStatus};

/// The library-system user id of a patron. It always comes from the
/// signed-in session, never from what a browser sends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatronId(pub String);

impl PatronId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PatronId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Physical (a loan of the item) or digital (a copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Format {
    Physical,
    Digital,
}

/// What another library asks of us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    Loan,
    Copy,
}

/// A patron's new borrowing request, as Kauko hands it to the library system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBorrowingRequest {
    /// Kauko's own id for the request; the library system stores it, so a
    /// request whose creation timed out can be looked up instead of re-sent.
    pub external_id: String,
    pub citation: Citation,
    pub format: Format,
    pub pickup_location: Option<String>,
    pub needed_by: Option<NaiveDate>,
    pub note: Option<String>,
    pub copyright_accepted: bool,
}

/// A borrowing request as the library system has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BorrowingRequest {
    pub id: String,
    pub external_id: String,
    pub patron_id: PatronId,
    pub citation: Citation,
    pub format: Format,
    pub pickup_location: Option<String>,
    pub needed_by: Option<NaiveDate>,
    pub note: Option<String>,
    pub status: BorrowingStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An interlibrary loan checked out to a patron.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IllLoan {
    pub id: String,
    /// The borrowing request the item came through, when known.
    pub request_id: Option<String>,
    pub title: String,
    pub author: Option<String>,
    pub loan_date: DateTime<Utc>,
    pub due_date: DateTime<Utc>,
    pub renewable: bool,
    pub renewals: u32,
    /// The patron asked for a renewal the lending library has not answered
    /// yet (the local backend, where renewing is a request).
    #[serde(default)]
    pub renewal_requested: bool,
}

/// Who is asking, when another library sends a lending request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequesterContact {
    pub library_name: String,
    pub contact_name: Option<String>,
    pub email: String,
}

/// Another library's request for us to lend or copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLendingRequest {
    pub external_id: String,
    pub partner_code: String,
    pub requester: RequesterContact,
    pub citation: Citation,
    pub service: ServiceType,
    pub delivery_address: Option<String>,
    pub max_cost: Option<String>,
    pub needed_by: Option<NaiveDate>,
    pub note: Option<String>,
}

/// A lending request as the library system has it: what was asked, plus
/// the system's id, status and time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LendingRequest {
    pub id: String,
    #[serde(flatten)]
    pub request: NewLendingRequest,
    pub status: LendingStatus,
    pub created_at: DateTime<Utc>,
}
