//! The resource-sharing port: everything Kauko asks of the library system.
//! Adapters implement [`ResourceSharing`] in the server crate:
//! `server::adapters::local` on Kauko's own database (the embedded default)
//! and, later, Alma's REST API. The trait lives here, beside the domain
//! types, so the app's server functions can call whichever adapter the
//! server provides as context. `server::port::contract` states what every
//! adapter must do.

use crate::domain::{
    BorrowingRequest, FieldError, IllLoan, LendingRequest, NewBorrowingRequest, NewLendingRequest,
    Partner, PatronId,
};
use async_trait::async_trait;

/// Why the library system refused an action that is otherwise well formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Staff have started on the request; it can no longer be cancelled.
    NotCancellable,
    /// The lending library does not allow renewing this loan.
    NotRenewable,
    /// The loan has been renewed as often as allowed.
    RenewalLimitReached,
    /// The library holds the title itself, so it is not borrowed from
    /// another library (Alma's `401604`).
    AvailableLocally,
    /// Someone else changed the request since it was read: read it again.
    ChangedMeanwhile,
}

impl Refusal {
    /// Translation key of the explanation shown to the patron.
    pub fn message_key(self) -> &'static str {
        match self {
            Refusal::NotCancellable => "refusal.not_cancellable",
            Refusal::NotRenewable => "refusal.not_renewable",
            Refusal::RenewalLimitReached => "refusal.renewal_limit",
            Refusal::AvailableLocally => "refusal.available_locally",
            Refusal::ChangedMeanwhile => "refusal.changed_meanwhile",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// No such request, loan or partner for this patron (another patron's
    /// request is "not found" too).
    #[error("not found")]
    NotFound,
    /// The external id or partner code is taken, or the library system
    /// holds a duplicate request.
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// The input is not acceptable; each problem names its field.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// The library system cannot be reached, is slow or answers 5xx: try
    /// again later.
    #[error("library system unavailable: {0}")]
    Unavailable(String),
    /// Over the library system's call threshold: try again shortly.
    #[error("library system rate limit reached")]
    RateLimited,
    /// Kauko's credentials are wrong: an operator must fix the configuration.
    #[error("library system refused Kauko's credentials: {0}")]
    Unauthorized(String),
    #[error("library system error: {0}")]
    Other(String),
}

impl PortError {
    /// Whether the same call may succeed later without any change.
    pub fn is_transient(&self) -> bool {
        matches!(self, PortError::Unavailable(_) | PortError::RateLimited)
    }
}

pub type PortResult<T> = Result<T, PortError>;

/// How current an adapter's copy of a patron's requests and loans is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// When the library system last answered for all of them.
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// Older than the adapter's threshold: worth asking again.
    pub stale: bool,
    /// The last attempt to ask failed (the library system is down).
    pub unreachable: bool,
}

/// A patron's requests and loans as an adapter keeps them, given without
/// asking the library system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Newest first, active and closed.
    pub requests: Vec<BorrowingRequest>,
    /// Soonest due first.
    pub loans: Vec<IllLoan>,
    pub freshness: Option<Freshness>,
}

/// One page of a list, with the total count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[async_trait]
pub trait ResourceSharing: Send + Sync {
    /// A short name for logs and the readiness check (`local`, `alma`).
    fn name(&self) -> &'static str;

    /// Whether the library system answers (readiness).
    async fn ping(&self) -> PortResult<()>;

    // --- A patron's borrowing requests -------------------------------------

    /// Creates a request. Fails with `Duplicate` when `external_id` exists.
    async fn create_borrowing_request(
        &self,
        patron: &PatronId,
        request: NewBorrowingRequest,
    ) -> PortResult<BorrowingRequest>;

    async fn get_borrowing_request(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<BorrowingRequest>;

    /// Looks a request up by Kauko's own id, e.g. after a create timed out.
    async fn find_borrowing_request_by_external_id(
        &self,
        patron: &PatronId,
        external_id: &str,
    ) -> PortResult<Option<BorrowingRequest>>;

    /// Cancels at the patron's wish; `Refused(NotCancellable)` once staff
    /// have started on it.
    async fn cancel_borrowing_request(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<BorrowingRequest>;

    /// The patron's requests, newest first, active and closed.
    async fn list_borrowing_requests(&self, patron: &PatronId)
        -> PortResult<Vec<BorrowingRequest>>;

    // --- ILL loans -----------------------------------------------------------

    /// The patron's current ILL loans, soonest due first.
    async fn list_loans(&self, patron: &PatronId) -> PortResult<Vec<IllLoan>>;

    async fn renew_loan(&self, patron: &PatronId, loan_id: &str) -> PortResult<IllLoan>;

    // --- An adapter's own copy ------------------------------------------------

    /// The patron's requests and loans as the adapter keeps them, without
    /// asking the library system (`None`: the adapter keeps no copy, or none
    /// of this patron yet; ask the list methods). Marks the patron as
    /// looking, so a background sync reads them first.
    async fn snapshot(&self, patron: &PatronId) -> PortResult<Option<Snapshot>> {
        let _ = patron;
        Ok(None)
    }

    /// Asks the library system about the patron again now, as the patron's
    /// own look (first in line).
    async fn refresh(&self, patron: &PatronId) -> PortResult<()> {
        let _ = patron;
        Ok(())
    }

    // --- Lending requests from other libraries ------------------------------

    /// Fails with `NotFound` for an unknown partner, `Duplicate` for a
    /// known external id.
    async fn create_lending_request(
        &self,
        request: NewLendingRequest,
    ) -> PortResult<LendingRequest>;

    async fn get_lending_request(&self, partner_code: &str, id: &str)
        -> PortResult<LendingRequest>;

    /// Looks a lending request up by Kauko's own id (the outbox does, before
    /// re-sending one whose first try may have arrived). An adapter that
    /// cannot look lending requests up answers `None` and relies on the
    /// library system refusing a known external id as `Duplicate`.
    async fn find_lending_request_by_external_id(
        &self,
        partner_code: &str,
        external_id: &str,
    ) -> PortResult<Option<LendingRequest>> {
        let _ = (partner_code, external_id);
        Ok(None)
    }

    // --- Partners ------------------------------------------------------------

    /// Partners ordered by code; `limit` at most 100.
    async fn list_partners(&self, offset: u64, limit: u64) -> PortResult<Page<Partner>>;

    async fn get_partner(&self, code: &str) -> PortResult<Partner>;

    /// Fails with `Duplicate` when the code exists.
    async fn create_partner(&self, partner: Partner) -> PortResult<Partner>;

    /// Replaces the partner with this code; `NotFound` if there is none.
    async fn update_partner(&self, partner: Partner) -> PortResult<Partner>;
}

fn invalid_if_any(errors: Vec<FieldError>) -> PortResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(PortError::Invalid(errors))
    }
}

/// Checks a new borrowing request the same way for every adapter.
pub fn validate_borrowing_request(request: &NewBorrowingRequest) -> PortResult<()> {
    let mut errors = request.citation.validate().err().unwrap_or_default();
    if request.external_id.trim().is_empty() {
        errors.push(FieldError::new("external_id", "error.field.required"));
    }
    let is_copy = request.citation.kind.is_some_and(|k| k.is_copy());
    if is_copy && !request.copyright_accepted {
        errors.push(FieldError::new("copyright", "error.copyright.required"));
    }
    if request
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > crate::domain::citation::MAX_FIELD_CHARS)
    {
        errors.push(FieldError::new("note", "error.field.too_long"));
    }
    invalid_if_any(errors)
}

/// Checks a new lending request the same way for every adapter.
pub fn validate_lending_request(request: &NewLendingRequest) -> PortResult<()> {
    let mut errors = request.citation.validate().err().unwrap_or_default();
    if request.external_id.trim().is_empty() {
        errors.push(FieldError::new("external_id", "error.field.required"));
    }
    if request.requester.library_name.trim().is_empty() {
        errors.push(FieldError::new("library_name", "error.field.required"));
    }
    if !request.requester.email.contains('@') {
        errors.push(FieldError::new("email", "error.field.email"));
    }
    invalid_if_any(errors)
}

/// Checks a partner record the same way for every adapter.
pub fn validate_partner(partner: &Partner) -> PortResult<()> {
    let mut errors = Vec::new();
    if partner.code.trim().is_empty() || partner.code.len() > 255 {
        errors.push(FieldError::new("code", "error.field.required"));
    }
    if partner.name.trim().is_empty() {
        errors.push(FieldError::new("name", "error.field.required"));
    }
    invalid_if_any(errors)
}
