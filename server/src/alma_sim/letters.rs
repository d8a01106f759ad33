//! Alma's letter configuration in the simulator:
//! `GET /almaws/v1/conf/letters` lists the institution's letters with
//! `code`, `name`, `description`, `enabled`, `channel`, `customized`,
//! `patron_facing` and `retention_period` (see
//! `shared/reference/staff-and-integrations.md` §2.2.1). The resource-sharing
//! letters are those of §2.2.2; which are switched on is a demo choice.

use serde_json::{json, Value};

/// (code, name, enabled, patron facing).
const LETTERS: [(&str, &str, bool, bool); 18] = [
    (
        "FulResourceSharingRequestConfirmationLetter",
        "Resource Sharing Request Confirmation Letter",
        false,
        true,
    ),
    (
        "FulCancelEmailLetter",
        "Ful Cancel Email Letter",
        true,
        true,
    ),
    (
        "FulCancelRequestLetter",
        "Cancel Request Letter",
        true,
        true,
    ),
    (
        "FulPlaceOnHoldShelfLetter",
        "On Hold Shelf Letter",
        true,
        true,
    ),
    (
        "FulDigitizationDocumentDeliveryNotificationLetter",
        "Document Delivery Notification Letter",
        true,
        true,
    ),
    ("FulUserLoansCourtesyLetter", "Courtesy Letter", true, true),
    (
        "FulOverdueAndLostLoanNotificationLetter",
        "Overdue and Lost Loan Notification Letter",
        true,
        true,
    ),
    (
        "FulBorrowingInfoLetter",
        "Borrowing Info Letter",
        false,
        true,
    ),
    ("QueryToPatronLetter", "Query To Patron Letter", true, true),
    (
        "FulOutgoingEmailLetter",
        "Ful Outgoing Email Letter",
        true,
        false,
    ),
    (
        "LenderWillSupplyEmailLetter",
        "Lender Will Supply Email Letter",
        false,
        false,
    ),
    (
        "LenderRejectEmailLetter",
        "Lender Reject Email Letter",
        true,
        false,
    ),
    (
        "LenderShipEmailLetter",
        "Lender Ship Email Letter",
        true,
        false,
    ),
    (
        "BorrowerOverdueEmailLetter",
        "Borrower Overdue Email Letter",
        false,
        false,
    ),
    (
        "LenderRenewResponseEmailLetter",
        "Lender Renew Response Email Letter",
        true,
        false,
    ),
    (
        "GeneralMessageEmailLetter",
        "General Message Email Letter",
        true,
        false,
    ),
    (
        "ResourceSharingShippingSlipLetter",
        "Resource Sharing Shipping Slip Letter",
        true,
        false,
    ),
    (
        "FulIncomingSlipLetter",
        "Ful Incoming Slip Letter",
        true,
        false,
    ),
];

/// The letters as Alma lists them.
pub fn letters() -> Value {
    let letter: Vec<Value> = LETTERS
        .iter()
        .map(|(code, name, enabled, patron)| {
            json!({
                "code": code,
                "name": name,
                "description": format!("{name} (resource sharing)"),
                "enabled": { "value": enabled },
                "channel": "EMAIL",
                "customized": false,
                "patron_facing": patron,
                "retention_period": { "value": 90, "desc": "days" },
            })
        })
        .collect();
    json!({ "letter": letter, "total_record_count": LETTERS.len() })
}
