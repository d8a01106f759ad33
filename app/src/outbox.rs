//! The durable outbox as the app's server functions see it: every
//! submission (a patron's borrowing request, another library's lending
//! request) is stored first, keyed by the idempotency key from its form,
//! and then delivered to the library system through the port, retried
//! until it succeeds. The server implements [`SubmissionOutbox`]
//! (`server::outbox`) and provides it as context.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{CitationType, Format, NewBorrowingRequest, NewLendingRequest, PatronId};
use crate::port::PortError;

/// What a submission is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    /// A patron's borrowing request (owner: the patron's id).
    Borrowing,
    /// Another library's lending request (owner: the partner code, or
    /// empty while it waits for staff review).
    Lending,
}

impl SubmissionKind {
    pub fn code(self) -> &'static str {
        match self {
            SubmissionKind::Borrowing => "borrowing",
            SubmissionKind::Lending => "lending",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "borrowing" => Some(SubmissionKind::Borrowing),
            "lending" => Some(SubmissionKind::Lending),
            _ => None,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            SubmissionKind::Borrowing => "outbox.kind.borrowing",
            SubmissionKind::Lending => "outbox.kind.lending",
        }
    }
}

/// Where a submission is on its way to the library system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Stored, to be delivered (again).
    Pending,
    Delivered,
    /// The library system refused it for good; the error is kept.
    Failed,
    /// A lending request from an unknown library, waiting for staff.
    Review,
    /// Staff rejected it (with a reason).
    Rejected,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 5] = [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Failed,
        DeliveryState::Review,
        DeliveryState::Rejected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Review => "review",
            DeliveryState::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            DeliveryState::Pending => "outbox.state.pending",
            DeliveryState::Delivered => "outbox.state.delivered",
            DeliveryState::Failed => "outbox.state.failed",
            DeliveryState::Review => "outbox.state.review",
            DeliveryState::Rejected => "outbox.state.rejected",
        }
    }
}

/// What became of a submission by the time the submitter gets an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// The library system has it, under this id.
    Delivered { id: String, reference: String },
    /// Stored; it will be delivered as soon as the library system answers.
    Pending { reference: String },
    /// The library system refused it for good.
    Failed { reference: String, error: PortError },
    /// Waiting for staff review (a library that is not a known partner, or
    /// whose sender does not fit the partner record).
    Held { reference: String },
    /// Staff rejected it.
    Rejected {
        reference: String,
        reason: Option<String>,
    },
}

impl Submitted {
    pub fn reference(&self) -> &str {
        match self {
            Submitted::Delivered { reference, .. }
            | Submitted::Pending { reference }
            | Submitted::Failed { reference, .. }
            | Submitted::Held { reference }
            | Submitted::Rejected { reference, .. } => reference,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// The idempotency key is another submitter's (or another kind's).
    #[error("the idempotency key belongs to another submission")]
    KeyTaken,
    #[error("no such submission")]
    NotFound,
    /// The submission is not in a state that allows this.
    #[error("not allowed in state {0}")]
    WrongState(String),
    #[error("outbox storage: {0}")]
    Storage(String),
}

/// One submission as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The idempotency key, which is also the external id.
    pub id: String,
    /// The short reference the submitter was shown.
    pub reference: String,
    pub kind: SubmissionKind,
    pub owner: String,
    pub title: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When the next try is due (RFC 3339), for pending ones.
    pub next_attempt_at: Option<String>,
    /// Whether a worker is delivering it right now.
    pub in_flight: bool,
    pub created_at: String,
    /// The library system's id, once delivered.
    pub delivered_id: Option<String>,
    /// Staff's reason, for a rejected one.
    pub decision: Option<String>,
    /// Why a lending request waits for review (a translation key).
    #[serde(default)]
    pub hold_reason: Option<String>,
    /// The partner a held lending request was matched to, if any.
    #[serde(default)]
    pub hold_partner: Option<String>,
}

/// A patron's submission the library system does not have yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSubmission {
    pub reference: String,
    pub title: String,
    pub authors: Option<String>,
    pub kind: Option<CitationType>,
    pub format: Format,
    pub pickup_location: Option<String>,
    pub created: NaiveDate,
    /// The library system refused it for good (staff have the error and
    /// can retry it); otherwise it is on its way.
    #[serde(default)]
    pub failed: bool,
}

/// A lending request from a library that is not a known partner, as staff
/// review it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLendingRequest {
    pub entry: OutboxEntry,
    pub request: NewLendingRequest,
}

/// The outbox the server provides.
#[async_trait]
pub trait SubmissionOutbox: Send + Sync {
    /// Stores a patron's request (once per idempotency key, which is the
    /// request's external id) and tries to deliver it at once, waiting a
    /// short, configured time for the answer.
    async fn submit_borrowing(
        &self,
        patron: &PatronId,
        request: NewBorrowingRequest,
    ) -> Result<Submitted, OutboxError>;

    /// Stores another library's lending request and tries to deliver it at
    /// once (matching it to a partner record first); with `hold` it waits
    /// for staff review instead.
    async fn submit_lending(
        &self,
        request: NewLendingRequest,
        hold: bool,
    ) -> Result<Submitted, OutboxError>;

    /// The submission with this idempotency key, if `owner` made it (for a
    /// borrowing request: the patron's id; a lending request's owner is not
    /// checked, its random key is all).
    async fn find(
        &self,
        kind: SubmissionKind,
        owner: &str,
        id: &str,
    ) -> Result<Option<OutboxEntry>, OutboxError>;

    /// A patron's submissions the library system does not have yet.
    async fn pending_for_patron(
        &self,
        patron: &PatronId,
    ) -> Result<Vec<PendingSubmission>, OutboxError>;

    /// Deliveries that need staff's eye: failed ones, and pending ones that
    /// have been tried at least once.
    async fn stuck(&self) -> Result<Vec<OutboxEntry>, OutboxError>;

    /// The patron withdraws a submission the library system does not have
    /// yet (by the reference they were shown). `Ok(false)`: no such
    /// submission of theirs is waiting (or it is being delivered this very
    /// moment: it is then in the library system, to be cancelled there).
    async fn cancel_waiting(&self, patron: &PatronId, reference: &str)
        -> Result<bool, OutboxError>;

    /// Makes a pending or failed submission due now, and wakes the worker.
    async fn retry_now(&self, id: &str) -> Result<(), OutboxError>;

    /// Lending requests waiting for staff review, oldest first.
    async fn held(&self) -> Result<Vec<HeldLendingRequest>, OutboxError>;

    /// Accepts a held lending request as coming from this partner: it is
    /// delivered through the outbox.
    async fn accept(&self, id: &str, partner_code: &str) -> Result<(), OutboxError>;

    /// Rejects a held lending request, with staff's reason.
    async fn reject(&self, id: &str, reason: &str) -> Result<(), OutboxError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{has_key, Lang};

    #[test]
    fn states_and_kinds_round_trip_and_are_translated() {
        for state in DeliveryState::ALL {
            assert_eq!(DeliveryState::from_code(state.code()), Some(state));
            for lang in Lang::ALL {
                assert!(has_key(lang, state.label_key()), "{state:?} {lang:?}");
            }
        }
        for kind in [SubmissionKind::Borrowing, SubmissionKind::Lending] {
            assert_eq!(SubmissionKind::from_code(kind.code()), Some(kind));
            for lang in Lang::ALL {
                assert!(has_key(lang, kind.label_key()));
            }
        }
        for key in [
            "my.status.received",
            "request.received.title",
            "outbox.title",
        ] {
            for lang in Lang::ALL {
                assert!(has_key(lang, key), "{key} {lang:?}");
            }
        }
    }
}
