//! Request statuses in two layers (`shared/reference/ill-domain.md` §2): the
//! fine-grained status the library system reports, for staff, and the
//! simplified label a patron sees.

use serde::{Deserialize, Serialize};

/// A borrowing request's status as the library system reports it. The
/// codes are Alma's borrowing workflow steps; a code Kauko does not know is
/// kept as it is and shown to patrons as "In process".
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum BorrowingStatus {
    RequestCreated,
    PendingApproval,
    LocateInProcess,
    LocateFailed,
    ReadyToSend,
    RequestSent,
    InProcess,
    WillSupply,
    ShippedPhysically,
    ShippedDigitally,
    ReceivedPhysically,
    ReceivedDigitally,
    Loaned,
    RenewRequested,
    Recalled,
    Overdue,
    ReturnedByPatron,
    ReturnedToPartner,
    Completed,
    Rejected,
    Expired,
    CancelRequested,
    CancelledByPatron,
    CancelledByStaff,
    CancelledByPartner,
    /// A code this version of Kauko does not know.
    Other(String),
}

const CODES: &[(BorrowingStatus, &str)] = &[
    (BorrowingStatus::RequestCreated, "REQUEST_CREATED_BOR"),
    (BorrowingStatus::PendingApproval, "PENDING_APPROVAL"),
    (BorrowingStatus::LocateInProcess, "LOCATE_IN_PROCESS"),
    (BorrowingStatus::LocateFailed, "LOCATE_FAILED"),
    (BorrowingStatus::ReadyToSend, "READY_TO_SEND"),
    (BorrowingStatus::RequestSent, "REQUEST_SENT"),
    (BorrowingStatus::InProcess, "IN_PROCESS"),
    (BorrowingStatus::WillSupply, "WILL_SUPPLY"),
    (BorrowingStatus::ShippedPhysically, "SHIPPED_PHYSICALLY"),
    (BorrowingStatus::ShippedDigitally, "SHIPPED_DIGITALLY"),
    (BorrowingStatus::ReceivedPhysically, "RECEIVED_PHYSICALLY"),
    (BorrowingStatus::ReceivedDigitally, "RECEIVED_DIGITALLY"),
    (BorrowingStatus::Loaned, "LOANED"),
    (BorrowingStatus::RenewRequested, "RENEW_REQUESTED"),
    (BorrowingStatus::Recalled, "RECALLED_BOR"),
    (BorrowingStatus::Overdue, "OVERDUE_BOR"),
    (BorrowingStatus::ReturnedByPatron, "RETURNED_BY_PATRON"),
    (BorrowingStatus::ReturnedToPartner, "RETURNED_TO_PARTNER"),
    (BorrowingStatus::Completed, "REQUEST_COMPLETED_BOR"),
    (BorrowingStatus::Rejected, "REJECTED"),
    (BorrowingStatus::Expired, "EXPIRED"),
    (
        BorrowingStatus::CancelRequested,
        "WAITING_FOR_CANCEL_RESPONSE",
    ),
    (BorrowingStatus::CancelledByPatron, "CANCELED_BY_PATRON"),
    (BorrowingStatus::CancelledByStaff, "CANCELED_BY_STAFF"),
    (BorrowingStatus::CancelledByPartner, "CANCELED_BY_PARTNER"),
];

impl BorrowingStatus {
    /// The library system's code (Alma's workflow step code).
    pub fn code(&self) -> &str {
        match self {
            Self::Other(code) => code,
            known => CODES
                .iter()
                .find(|(s, _)| s == known)
                .map(|(_, c)| *c)
                .unwrap_or(""),
        }
    }

    pub fn from_code(code: &str) -> Self {
        let code = code.trim();
        CODES
            .iter()
            .find(|(_, c)| c.eq_ignore_ascii_case(code))
            .map(|(s, _)| s.clone())
            // Alma also reports DELETED/HISTORY for requests gone from view.
            .unwrap_or_else(|| match code {
                "DELETED" | "HISTORY" => Self::CancelledByStaff,
                _ => Self::Other(code.to_owned()),
            })
    }

    /// What the patron is shown (ill-domain.md §2.2). Unknown codes are
    /// "In process": the request exists and staff are on it.
    pub fn patron_status(&self) -> PatronStatus {
        use BorrowingStatus as B;
        match self {
            B::RequestCreated | B::PendingApproval => PatronStatus::Submitted,
            B::LocateInProcess
            | B::LocateFailed
            | B::ReadyToSend
            | B::RequestSent
            | B::InProcess
            | B::WillSupply
            | B::Other(_) => PatronStatus::InProcess,
            B::CancelRequested => PatronStatus::CancellationRequested,
            B::ShippedPhysically => PatronStatus::OnItsWay,
            B::ReceivedPhysically => PatronStatus::ReadyForPickup,
            B::ShippedDigitally | B::ReceivedDigitally => PatronStatus::AvailableOnline,
            B::Loaned | B::RenewRequested => PatronStatus::OnLoan,
            B::Recalled => PatronStatus::Recalled,
            B::Overdue => PatronStatus::Overdue,
            B::ReturnedByPatron | B::ReturnedToPartner | B::Completed => PatronStatus::Completed,
            B::Rejected | B::Expired => PatronStatus::NotFilled,
            B::CancelledByPatron | B::CancelledByStaff | B::CancelledByPartner => {
                PatronStatus::Cancelled
            }
        }
    }

    /// Whether the request is over: it goes to the patron's history.
    pub fn is_final(&self) -> bool {
        self.patron_status().is_final()
    }
}

impl From<String> for BorrowingStatus {
    fn from(code: String) -> Self {
        Self::from_code(&code)
    }
}

impl From<BorrowingStatus> for String {
    fn from(status: BorrowingStatus) -> Self {
        status.code().to_owned()
    }
}

/// The simplified status a patron sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatronStatus {
    Submitted,
    InProcess,
    CancellationRequested,
    OnItsWay,
    ReadyForPickup,
    AvailableOnline,
    OnLoan,
    Recalled,
    Overdue,
    Completed,
    NotFilled,
    Cancelled,
}

impl PatronStatus {
    pub const ALL: [PatronStatus; 12] = [
        Self::Submitted,
        Self::InProcess,
        Self::CancellationRequested,
        Self::OnItsWay,
        Self::ReadyForPickup,
        Self::AvailableOnline,
        Self::OnLoan,
        Self::Recalled,
        Self::Overdue,
        Self::Completed,
        Self::NotFilled,
        Self::Cancelled,
    ];

    /// Translation key of the label.
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Submitted => "status.submitted",
            Self::InProcess => "status.in_process",
            Self::CancellationRequested => "status.cancellation_requested",
            Self::OnItsWay => "status.on_its_way",
            Self::ReadyForPickup => "status.ready_for_pickup",
            Self::AvailableOnline => "status.available_online",
            Self::OnLoan => "status.on_loan",
            Self::Recalled => "status.recalled",
            Self::Overdue => "status.overdue",
            Self::Completed => "status.completed",
            Self::NotFilled => "status.not_filled",
            Self::Cancelled => "status.cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::NotFilled | Self::Cancelled)
    }

    /// The classes of the status badge: `status status--<name>`, the name
    /// being the variant's in lower case (`status--readyforpickup`), which
    /// `style/main.css` colours. Spelled out rather than taken from `Debug`,
    /// which the release front end compiles without (`-Zfmt-debug=none`).
    pub fn css_class(self) -> &'static str {
        match self {
            Self::Submitted => "status status--submitted",
            Self::InProcess => "status status--inprocess",
            Self::CancellationRequested => "status status--cancellationrequested",
            Self::OnItsWay => "status status--onitsway",
            Self::ReadyForPickup => "status status--readyforpickup",
            Self::AvailableOnline => "status status--availableonline",
            Self::OnLoan => "status status--onloan",
            Self::Recalled => "status status--recalled",
            Self::Overdue => "status status--overdue",
            Self::Completed => "status status--completed",
            Self::NotFilled => "status status--notfilled",
            Self::Cancelled => "status status--cancelled",
        }
    }
}

/// A lending request's status (Alma's lending workflow step code), kept as
/// reported.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LendingStatus(pub String);

impl LendingStatus {
    pub const CREATED: &'static str = "REQUEST_CREATED_LEND";

    pub fn created() -> Self {
        Self(Self::CREATED.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_classes_are_the_variant_names_the_stylesheet_uses() {
        for status in PatronStatus::ALL {
            let from_name = format!("status status--{status:?}").to_lowercase();
            assert_eq!(status.css_class(), from_name);
        }
        // Every status colour in the stylesheet reaches a badge: a class
        // the pages write for a status, or one they write themselves
        // (app/src/pages/my.rs, app/src/letters/page.rs).
        let css =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../style/main.css"))
                .unwrap();
        let written_by_pages = ["not-forwarded", "received", "overdue", "on", "off"];
        let mut styled = 0;
        for (at, _) in css.match_indices(".status--") {
            let name: String = css[at + 9..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            styled += 1;
            assert!(
                written_by_pages.contains(&name.as_str())
                    || PatronStatus::ALL
                        .iter()
                        .any(|s| s.css_class() == format!("status status--{name}")),
                "style/main.css colours .status--{name}, which no badge has"
            );
        }
        assert!(
            styled >= 4,
            "{styled} status colours found in style/main.css"
        );
    }

    #[test]
    fn every_known_code_round_trips() {
        for (status, code) in CODES {
            assert_eq!(status.code(), *code);
            assert_eq!(&BorrowingStatus::from_code(code), status);
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(json, format!("\"{code}\""));
            assert_eq!(
                &serde_json::from_str::<BorrowingStatus>(&json).unwrap(),
                status
            );
        }
    }

    #[test]
    fn patron_mapping_follows_the_reference_table() {
        let expect = [
            ("REQUEST_CREATED_BOR", PatronStatus::Submitted),
            ("PENDING_APPROVAL", PatronStatus::Submitted),
            ("LOCATE_IN_PROCESS", PatronStatus::InProcess),
            ("READY_TO_SEND", PatronStatus::InProcess),
            ("REQUEST_SENT", PatronStatus::InProcess),
            ("SHIPPED_PHYSICALLY", PatronStatus::OnItsWay),
            ("RECEIVED_PHYSICALLY", PatronStatus::ReadyForPickup),
            ("SHIPPED_DIGITALLY", PatronStatus::AvailableOnline),
            ("RECEIVED_DIGITALLY", PatronStatus::AvailableOnline),
            ("LOANED", PatronStatus::OnLoan),
            ("REJECTED", PatronStatus::NotFilled),
            ("EXPIRED", PatronStatus::NotFilled),
            ("DELETED", PatronStatus::Cancelled),
            ("SOMETHING_NEW", PatronStatus::InProcess),
        ];
        for (code, patron) in expect {
            assert_eq!(
                BorrowingStatus::from_code(code).patron_status(),
                patron,
                "{code}"
            );
        }
        assert_eq!(
            BorrowingStatus::from_code("SOMETHING_NEW").code(),
            "SOMETHING_NEW"
        );
        assert!(BorrowingStatus::from_code("EXPIRED").is_final());
        assert!(!BorrowingStatus::from_code("LOANED").is_final());
    }
}
