//! The staff desk: the borrowing and lending queues, a request's page with
//! its whole history, and the actions its state allows. Everything of the
//! capability is here: the types and the port ([`StaffDesk`], implemented
//! on Kauko's database by `server::desk`), the server functions (`api`) and
//! the pages (`queue`, `request`). What an action may do is decided by the
//! state models in [`crate::domain::workflow`], on the server; the pages
//! only offer what the server lists.

pub mod api;
pub mod queue;
pub mod request;

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::history::{RequestEvent, Side};
use crate::domain::workflow::{
    borrowing_actions, borrowing_needs_action, lending_actions, BorrowingAction, LendingAction,
    LendingState, Needs, Role,
};
use crate::domain::{BorrowingStatus, Citation, FieldError, Format, IllLoan};

/// Rows per queue page.
pub const PER_PAGE: u32 = 25;

/// What a queue shows: its filters (kept in the page's URL, so they stay
/// set on reload, back and a shared link) and the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueQuery {
    /// One state's code; none for all.
    pub state: Option<String>,
    /// Only the states where staff have something to do.
    pub needs_action: bool,
    pub partner: Option<String>,
    /// A material type (`article`, `book`, `chapter`).
    pub kind: Option<String>,
    /// Created on or after.
    pub from: Option<NaiveDate>,
    /// Created on or before.
    pub to: Option<NaiveDate>,
    /// Words of the title, the patron's id or library's name, or a request
    /// number.
    pub q: Option<String>,
    /// From 0.
    pub page: u32,
}

impl QueueQuery {
    /// Reads the filters from a URL query (unknown or bad values are
    /// ignored, never an error).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = QueueQuery::default();
        let text = |v: &str| {
            let v = v.trim();
            (!v.is_empty()).then(|| v.chars().take(200).collect::<String>())
        };
        for (k, v) in pairs {
            match k {
                "state" => q.state = text(v),
                "needs" => q.needs_action = v == "1",
                "partner" => q.partner = text(v),
                "kind" => q.kind = text(v),
                "from" => q.from = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok(),
                "to" => q.to = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok(),
                "q" => q.q = text(v),
                "page" => q.page = v.trim().parse().unwrap_or(0).min(100_000),
                _ => {}
            }
        }
        q
    }

    /// The filters as URL query pairs (only those set).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(s) = &self.state {
            out.push(("state", s.clone()));
        }
        if self.needs_action {
            out.push(("needs", "1".into()));
        }
        if let Some(p) = &self.partner {
            out.push(("partner", p.clone()));
        }
        if let Some(k) = &self.kind {
            out.push(("kind", k.clone()));
        }
        if let Some(d) = self.from {
            out.push(("from", d.format("%Y-%m-%d").to_string()));
        }
        if let Some(d) = self.to {
            out.push(("to", d.format("%Y-%m-%d").to_string()));
        }
        if let Some(q) = &self.q {
            out.push(("q", q.clone()));
        }
        if self.page > 0 {
            out.push(("page", self.page.to_string()));
        }
        out
    }
}

/// One request in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    pub id: String,
    pub title: String,
    /// The patron's id (borrowing) or the requesting library (lending).
    pub who: String,
    pub partner: Option<String>,
    pub state: String,
    pub kind: Option<String>,
    pub created: NaiveDate,
    /// When it entered its state (RFC 3339): the queue's oldest first.
    pub since: String,
    /// For acting on several at once without a stale overwrite.
    pub version: i64,
}

/// How many requests are in a state (with the other filters applied).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCount {
    pub state: String,
    pub count: u64,
    pub needs_action: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub rows: Vec<QueueRow>,
    /// All rows matching the filters.
    pub total: u64,
    pub counts: Vec<StateCount>,
    pub page: u32,
    pub per_page: u32,
    /// The actions that may be taken on many rows at once here.
    pub bulk_actions: Vec<String>,
}

/// An action a request's page offers, with what it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOffer {
    pub action: String,
    pub needs: Needs,
}

/// A request as staff see it on its page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskRequest {
    pub side: Side,
    pub id: String,
    pub external_id: String,
    pub citation: Citation,
    pub format: Option<Format>,
    /// The patron's id, or the requesting library's name.
    pub who: String,
    /// The requesting library's e-mail (lending).
    pub who_email: Option<String>,
    pub pickup_location: Option<String>,
    pub needed_by: Option<NaiveDate>,
    /// What the patron or library wrote.
    pub request_note: Option<String>,
    pub partner: Option<String>,
    pub state: String,
    pub version: i64,
    pub due_date: Option<NaiveDate>,
    /// The due date a loan or renewal is offered with (the server's
    /// today, or the current due date, plus four weeks).
    pub suggested_due: Option<NaiveDate>,
    pub loan: Option<IllLoan>,
    /// Oldest first.
    pub events: Vec<RequestEvent>,
    pub actions: Vec<ActionOffer>,
}

/// A staff member's action on a request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActInput {
    pub id: String,
    pub action: String,
    /// The version the page showed; a newer one refuses the action.
    pub version: i64,
    /// The last event the page showed, to tell what changed meanwhile.
    pub seen_seq: i64,
    pub partner: Option<String>,
    pub reason: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub link: Option<String>,
}

/// A note on a request (no change of state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteInput {
    pub id: String,
    pub text: String,
    /// Addressed to the patron or requesting library (else staff only).
    pub to_patron: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DeskError {
    #[error("not found")]
    NotFound,
    /// Someone changed the request since the page was read: what they did,
    /// and the request as it is now.
    #[error("changed meanwhile")]
    ChangedMeanwhile {
        changes: Vec<RequestEvent>,
        now: Box<DeskRequest>,
    },
    /// The state does not allow this action (to staff).
    #[error("not allowed in this state")]
    NotAllowed,
    /// Each problem names its field (`partner`, `reason`, `due_date`,
    /// `link`, `text`).
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("storage: {0}")]
    Storage(String),
}

/// What happened to one request of a bulk action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOutcome {
    pub done: Vec<String>,
    /// Changed meanwhile or not allowed in its state: left as it was.
    pub skipped: Vec<String>,
}

/// One request chosen for a bulk action, at the version the queue showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkItem {
    pub id: String,
    pub version: i64,
}

/// The desk's port. `staff` is the signed-in staff member's id.
#[async_trait]
pub trait StaffDesk: Send + Sync {
    async fn queue(&self, side: Side, query: &QueueQuery) -> Result<Queue, DeskError>;

    async fn request(&self, side: Side, id: &str) -> Result<DeskRequest, DeskError>;

    /// Takes an action the state model allows to staff, with its side
    /// effects (an ILL loan when lent to the patron, a new due date when a
    /// renewal is granted...), the change and its event in one transaction.
    async fn act(&self, side: Side, staff: &str, input: ActInput)
        -> Result<DeskRequest, DeskError>;

    async fn note(
        &self,
        side: Side,
        staff: &str,
        input: NoteInput,
    ) -> Result<DeskRequest, DeskError>;

    /// Partners to send to: (code, name), by name.
    async fn partners(&self) -> Result<Vec<(String, String)>, DeskError>;

    /// The same action on several requests; each is applied or skipped on
    /// its own (never half-applied). `due_date` is given to actions that
    /// need one (shipping loans at once).
    async fn act_many(
        &self,
        side: Side,
        staff: &str,
        action: &str,
        items: Vec<BulkItem>,
        due_date: Option<NaiveDate>,
    ) -> Result<BulkOutcome, DeskError> {
        let mut out = BulkOutcome {
            done: Vec::new(),
            skipped: Vec::new(),
        };
        for item in items.into_iter().take(200) {
            let input = ActInput {
                id: item.id.clone(),
                action: action.to_owned(),
                version: item.version,
                due_date,
                ..ActInput::default()
            };
            match self.act(side, staff, input).await {
                Ok(_) => out.done.push(item.id),
                Err(DeskError::Storage(e)) => return Err(DeskError::Storage(e)),
                Err(_) => out.skipped.push(item.id),
            }
        }
        Ok(out)
    }
}

/// The actions staff may take in a state, with what each needs.
pub fn staff_offers(side: Side, state: &str) -> Vec<ActionOffer> {
    match side {
        Side::Borrowing => borrowing_actions(&BorrowingStatus::from_code(state), Role::Staff)
            .into_iter()
            .map(|a| ActionOffer {
                action: a.code(),
                needs: a.needs(),
            })
            .collect(),
        Side::Lending => LendingState::from_code(state)
            .map(|s| lending_actions(s, Role::Staff))
            .unwrap_or_default()
            .into_iter()
            .map(|a| ActionOffer {
                action: a.code(),
                needs: a.needs(),
            })
            .collect(),
    }
}

/// The states a side's queue counts, in workflow order.
pub fn queue_states(side: Side) -> Vec<String> {
    match side {
        Side::Borrowing => crate::domain::workflow::borrowing_states()
            .iter()
            .map(|s| s.code().to_owned())
            .collect(),
        Side::Lending => LendingState::ALL
            .iter()
            .map(|s| s.code().to_owned())
            .collect(),
    }
}

/// Whether staff have something to do in a state.
pub fn needs_action(side: Side, state: &str) -> bool {
    match side {
        Side::Borrowing => borrowing_needs_action(&BorrowingStatus::from_code(state)),
        Side::Lending => LendingState::from_code(state).is_some_and(LendingState::needs_action),
    }
}

/// The actions that may be taken on many requests at once: marking
/// arrivals received (borrowing), accepting and shipping loans (lending;
/// shipped with the suggested due date).
pub fn bulk_actions(side: Side) -> Vec<String> {
    match side {
        Side::Borrowing => vec![BorrowingAction::Received.code()],
        Side::Lending => vec![LendingAction::Accept.code(), LendingAction::Ship.code()],
    }
}

/// How long a loan is given when none is chosen (shipping several at once).
pub const DEFAULT_LOAN_DAYS: i64 = 28;

/// Checks that what an action needs was given (in the browser before
/// sending and on the server again).
pub fn check_needs(needs: Needs, input: &ActInput) -> Result<(), Vec<FieldError>> {
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    let mut errors = Vec::new();
    if needs.partner && blank(&input.partner) {
        errors.push(FieldError::new("partner", "desk.error.partner"));
    }
    if needs.reason && blank(&input.reason) {
        errors.push(FieldError::new("reason", "desk.error.reason"));
    }
    if needs.due_date && input.due_date.is_none() {
        errors.push(FieldError::new("due_date", "desk.error.due_date"));
    }
    if needs.link {
        let ok = input.link.as_deref().is_some_and(|l| {
            let l = l.trim();
            (l.starts_with("https://") || l.starts_with("http://")) && l.len() > 8
        });
        if !ok {
            errors.push(FieldError::new("link", "desk.error.link"));
        }
    }
    for text in [&input.reason, &input.link, &input.partner] {
        if text
            .as_deref()
            .is_some_and(|t| t.chars().count() > crate::domain::citation::MAX_FIELD_CHARS)
        {
            errors.push(FieldError::new("reason", "error.field.too_long"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_the_url_and_ignore_junk() {
        let q = QueueQuery {
            state: Some("REQUEST_SENT".into()),
            needs_action: true,
            partner: Some("FI-TUNI".into()),
            kind: Some("book".into()),
            from: NaiveDate::from_ymd_opt(2026, 1, 2),
            to: NaiveDate::from_ymd_opt(2026, 12, 31),
            q: Some("nature".into()),
            page: 3,
        };
        let pairs = q.to_pairs();
        let back = QueueQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        assert_eq!(back, q);
        let junk = QueueQuery::from_pairs([("from", "2026-13-45"), ("page", "x"), ("q", "  ")]);
        assert_eq!(junk, QueueQuery::default());
    }

    #[test]
    fn offers_follow_the_state_model() {
        let offers = staff_offers(Side::Borrowing, "REQUEST_CREATED_BOR");
        let names: Vec<_> = offers.iter().map(|o| o.action.as_str()).collect();
        assert!(names.contains(&"send_to_partner"));
        assert!(!names.contains(&"cancel"), "the patron's, not staff's");
        assert!(staff_offers(Side::Borrowing, "REQUEST_COMPLETED_BOR").is_empty());
        let lending: Vec<_> = staff_offers(Side::Lending, "REQUEST_CREATED_LEND")
            .into_iter()
            .map(|o| o.action)
            .collect();
        assert_eq!(lending, ["accept", "cannot_supply"]);
        assert!(staff_offers(Side::Lending, "junk").is_empty());
    }

    #[test]
    fn needs_are_checked() {
        let input = ActInput {
            action: "send_to_partner".into(),
            ..ActInput::default()
        };
        let e = check_needs(Needs::PARTNER, &input).unwrap_err();
        assert_eq!(e[0].field, "partner");
        let link = ActInput {
            link: Some("javascript:alert(1)".into()),
            ..ActInput::default()
        };
        assert!(check_needs(Needs::LINK, &link).is_err());
        let link = ActInput {
            link: Some("https://example.org/copy.pdf".into()),
            ..ActInput::default()
        };
        assert!(check_needs(Needs::LINK, &link).is_ok());
    }
}
