//! The library's request rules, from the server's configuration. The server
//! provides [`RequestRules`] as context for server functions; the pages learn
//! the outcome (whether an action is offered, and why not) from them.

use serde::{Deserialize, Serialize};

use crate::domain::BorrowingStatus;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRules {
    /// Library-system status codes in which a patron may still cancel.
    pub cancellable_statuses: Vec<String>,
    /// Renewals allowed per ILL loan.
    pub max_renewals: u32,
}

impl Default for RequestRules {
    fn default() -> Self {
        Self {
            cancellable_statuses: vec!["REQUEST_CREATED_BOR".into(), "PENDING_APPROVAL".into()],
            max_renewals: 2,
        }
    }
}

impl RequestRules {
    pub fn may_cancel(&self, status: &BorrowingStatus) -> bool {
        self.cancellable_statuses.iter().any(|c| c == status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configured_statuses_are_cancellable() {
        let rules = RequestRules::default();
        assert!(rules.may_cancel(&BorrowingStatus::RequestCreated));
        assert!(rules.may_cancel(&BorrowingStatus::PendingApproval));
        assert!(!rules.may_cancel(&BorrowingStatus::RequestSent));
        let rules = RequestRules {
            cancellable_statuses: vec!["READY_TO_SEND".into()],
            ..Default::default()
        };
        assert!(rules.may_cancel(&BorrowingStatus::ReadyToSend));
        assert!(!rules.may_cancel(&BorrowingStatus::RequestCreated));
    }
}
