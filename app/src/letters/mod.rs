//! Letters: the notices patrons and partner libraries get when their
//! request changes. This module is the pure part shared by the server and
//! the staff page: the letter types, which history event triggers which
//! letter, the placeholders each may use, and how a recipient's language
//! is chosen. The templates, the rendering and the sending are the
//! server's (`server/src/letters`).

pub mod api;
pub mod page;

use serde::{Deserialize, Serialize};

use crate::domain::history::{Audience, RequestEvent, Side};
use crate::i18n::Lang;

/// Who reads a letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The patron of a borrowing request.
    Patron,
    /// The library that sent a lending request.
    Partner,
}

/// Every letter Kauko sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterKind {
    PatronReceived,
    PatronCannotSupply,
    PatronCancelled,
    PatronReadyForPickup,
    PatronAvailableOnline,
    PatronDueSoon,
    PatronOverdue,
    PatronRenewalGranted,
    PatronRenewalRefused,
    PatronQuery,
    PartnerReceived,
    PartnerWillSupply,
    PartnerCannotSupply,
    PartnerShipped,
    PartnerOverdue,
    PartnerRenewalAnswer,
    PartnerMessage,
}

/// What a template may name: every letter has the common ones, and each
/// type adds what its trigger knows.
pub const COMMON_PLACEHOLDERS: [&str; 7] = [
    "library",
    "reference",
    "title",
    "author",
    "request_url",
    "recipient_name",
    "date",
];

impl LetterKind {
    pub const ALL: [LetterKind; 17] = [
        Self::PatronReceived,
        Self::PatronCannotSupply,
        Self::PatronCancelled,
        Self::PatronReadyForPickup,
        Self::PatronAvailableOnline,
        Self::PatronDueSoon,
        Self::PatronOverdue,
        Self::PatronRenewalGranted,
        Self::PatronRenewalRefused,
        Self::PatronQuery,
        Self::PartnerReceived,
        Self::PartnerWillSupply,
        Self::PartnerCannotSupply,
        Self::PartnerShipped,
        Self::PartnerOverdue,
        Self::PartnerRenewalAnswer,
        Self::PartnerMessage,
    ];

    /// The name in the database, URLs and template files
    /// (`patron_ready_for_pickup`).
    pub fn code(self) -> &'static str {
        match self {
            Self::PatronReceived => "patron_received",
            Self::PatronCannotSupply => "patron_cannot_supply",
            Self::PatronCancelled => "patron_cancelled",
            Self::PatronReadyForPickup => "patron_ready_for_pickup",
            Self::PatronAvailableOnline => "patron_available_online",
            Self::PatronDueSoon => "patron_due_soon",
            Self::PatronOverdue => "patron_overdue",
            Self::PatronRenewalGranted => "patron_renewal_granted",
            Self::PatronRenewalRefused => "patron_renewal_refused",
            Self::PatronQuery => "patron_query",
            Self::PartnerReceived => "partner_received",
            Self::PartnerWillSupply => "partner_will_supply",
            Self::PartnerCannotSupply => "partner_cannot_supply",
            Self::PartnerShipped => "partner_shipped",
            Self::PartnerOverdue => "partner_overdue",
            Self::PartnerRenewalAnswer => "partner_renewal_answer",
            Self::PartnerMessage => "partner_message",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn recipient(self) -> Recipient {
        if self.code().starts_with("patron_") {
            Recipient::Patron
        } else {
            Recipient::Partner
        }
    }

    pub fn side(self) -> Side {
        match self.recipient() {
            Recipient::Patron => Side::Borrowing,
            Recipient::Partner => Side::Lending,
        }
    }

    /// Translation key of the letter's name (`letters.kind.<code>`).
    pub fn name_key(self) -> String {
        format!("letters.kind.{}", self.code())
    }

    /// Translation key of what sends it (`letters.trigger.<code>`).
    pub fn trigger_key(self) -> String {
        format!("letters.trigger.{}", self.code())
    }

    /// The placeholders this letter's templates may name besides the
    /// common ones.
    pub fn own_placeholders(self) -> &'static [&'static str] {
        match self {
            Self::PatronCannotSupply | Self::PatronCancelled | Self::PatronRenewalRefused => {
                &["reason"]
            }
            Self::PatronReadyForPickup => &["pickup_location", "pickup_until"],
            Self::PatronAvailableOnline => &["link", "link_until"],
            Self::PatronDueSoon | Self::PatronOverdue => &["due_date"],
            Self::PatronRenewalGranted => &["due_date"],
            Self::PatronQuery | Self::PartnerMessage => &["message"],
            Self::PartnerCannotSupply => &["reason"],
            Self::PartnerShipped => &["due_date", "link"],
            Self::PartnerOverdue => &["due_date"],
            Self::PartnerRenewalAnswer => &["granted", "due_date", "reason"],
            Self::PartnerReceived => &["service"],
            Self::PatronReceived | Self::PartnerWillSupply => &[],
        }
    }

    /// Every name a template of this letter may use.
    pub fn placeholders(self) -> Vec<&'static str> {
        COMMON_PLACEHOLDERS
            .iter()
            .chain(self.own_placeholders())
            .copied()
            .collect()
    }

    /// Whether a daily check (not a history event) sends it.
    pub fn daily(self) -> bool {
        matches!(
            self,
            Self::PatronDueSoon | Self::PatronOverdue | Self::PartnerOverdue
        )
    }
}

/// Alma's letter for the same notice, for a library on Alma that may leave
/// some notices to Alma (its codes: `staff-and-integrations.md` §2.2.2).
pub fn alma_letter(kind: LetterKind) -> Option<&'static str> {
    use LetterKind as K;
    Some(match kind {
        K::PatronReceived => "FulResourceSharingRequestConfirmationLetter",
        K::PatronCannotSupply => "FulCancelEmailLetter",
        K::PatronCancelled => "FulCancelRequestLetter",
        K::PatronReadyForPickup => "FulPlaceOnHoldShelfLetter",
        K::PatronAvailableOnline => "FulDigitizationDocumentDeliveryNotificationLetter",
        K::PatronDueSoon => "FulUserLoansCourtesyLetter",
        K::PatronOverdue => "FulOverdueAndLostLoanNotificationLetter",
        K::PatronRenewalGranted | K::PatronRenewalRefused => "FulBorrowingInfoLetter",
        K::PatronQuery => "QueryToPatronLetter",
        K::PartnerReceived => return None,
        K::PartnerWillSupply => "LenderWillSupplyEmailLetter",
        K::PartnerCannotSupply => "LenderRejectEmailLetter",
        K::PartnerShipped => "LenderShipEmailLetter",
        K::PartnerOverdue => "BorrowerOverdueEmailLetter",
        K::PartnerRenewalAnswer => "LenderRenewResponseEmailLetter",
        K::PartnerMessage => "GeneralMessageEmailLetter",
    })
}

/// The letters one history event sends, by what happened. A lending
/// request's arrival is confirmed when Kauko accepts it (the outbox), on
/// either backend, so `created` on the lending side sends nothing here.
pub fn letters_for(event: &RequestEvent) -> Vec<LetterKind> {
    use LetterKind as K;
    let to = event.to_state.as_str();
    let kind = match (event.side, event.action.as_str()) {
        (Side::Borrowing, "created") => Some(K::PatronReceived),
        (Side::Borrowing, "mark_unfilled") => Some(K::PatronCannotSupply),
        (
            Side::Borrowing,
            "cancel" | "cancel_by_staff" | "confirm_cancel" | "cancel_by_partner",
        ) if to.starts_with("CANCELED") || to.starts_with("CANCELLED") => Some(K::PatronCancelled),
        (Side::Borrowing, "received") if to == "RECEIVED_PHYSICALLY" => {
            Some(K::PatronReadyForPickup)
        }
        (Side::Borrowing, "received") if to == "RECEIVED_DIGITALLY" => {
            Some(K::PatronAvailableOnline)
        }
        (Side::Borrowing, "grant_renewal") => Some(K::PatronRenewalGranted),
        (Side::Borrowing, "refuse_renewal") => Some(K::PatronRenewalRefused),
        (Side::Borrowing, "mark_overdue") => Some(K::PatronOverdue),
        (Side::Borrowing, "note") if event.audience == Some(Audience::Patron) => {
            Some(K::PatronQuery)
        }
        (Side::Lending, "accept") => Some(K::PartnerWillSupply),
        (Side::Lending, "cannot_supply") => Some(K::PartnerCannotSupply),
        (Side::Lending, "ship" | "send_copy") => Some(K::PartnerShipped),
        (Side::Lending, "grant_renewal" | "refuse_renewal") => Some(K::PartnerRenewalAnswer),
        (Side::Lending, "mark_overdue") => Some(K::PartnerOverdue),
        (Side::Lending, "note") if event.audience == Some(Audience::Patron) => {
            Some(K::PartnerMessage)
        }
        _ => None,
    };
    kind.into_iter().collect()
}

/// A date an event's note carries (`due 2026-12-31`, as the desk writes
/// it with a loan or a renewal).
pub fn due_in_note(note: Option<&str>) -> Option<String> {
    let rest = note?.trim().strip_prefix("due ")?;
    let date = rest.get(..10)?;
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// The language a patron's letters are in: their choice in Kauko, else
/// their sign-in's `locale` claim (`sv-FI`, `en`), else the library's.
pub fn patron_lang(chosen: Option<&str>, locale: Option<&str>, default: Lang) -> Lang {
    chosen
        .and_then(Lang::from_tag)
        .or_else(|| locale.and_then(Lang::from_tag))
        .unwrap_or(default)
}

/// The languages a partner library's letters are in: the language on its
/// partner record, else Finnish and English together, as the library has
/// always written to its partners.
pub fn partner_langs(record: Option<&str>) -> Vec<Lang> {
    match record
        .map(str::trim)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("fi" | "fin" | "suomi" | "finnish") => vec![Lang::Fi],
        Some("sv" | "swe" | "svenska" | "swedish") => vec![Lang::Sv],
        Some("en" | "eng" | "english") => vec![Lang::En],
        _ => vec![Lang::Fi, Lang::En],
    }
}

/// Where a letter is on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterState {
    /// Waiting for its (next) try.
    Pending,
    /// Accepted by the mail server.
    Sent,
    /// Refused by the mail server, or out of tries: staff must look.
    Failed,
    /// Not sent: there is no address to send it to.
    NoAddress,
}

impl LetterState {
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::NoAddress => "no_address",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Failed, Self::NoAddress]
            .into_iter()
            .find(|s| s.code() == code)
    }

    pub fn label_key(self) -> String {
        format!("letters.state.{}", self.code())
    }
}

/// One letter as staff and patrons see it in a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentLetter {
    pub id: String,
    pub kind: LetterKind,
    pub side: Side,
    pub request_id: String,
    /// Shown to staff only.
    pub recipient: String,
    /// `fi`, `sv`, `en`, or `fi+en`.
    pub lang: String,
    /// `default`, or `v3` (the staff-edited version it was written with).
    pub version: String,
    pub subject: String,
    pub text: String,
    pub state: LetterState,
    pub attempts: u32,
    /// The mail server's answer, or why it could not be sent.
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// One letter type on the staff page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterSummary {
    pub kind: LetterKind,
    pub enabled: bool,
    /// The languages whose template staff have changed.
    pub edited: Vec<Lang>,
    /// Alma's letter for the same notice, when Kauko runs on Alma and knows
    /// it (code and whether Alma sends it).
    pub alma: Option<(String, bool)>,
    /// Letters sent / failed in the last 30 days.
    pub sent: u64,
    pub failed: u64,
}

/// One language's template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateText {
    pub subject: String,
    pub body: String,
}

/// One saved version of a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateVersion {
    pub version: i64,
    pub saved_by: String,
    pub saved_at: String,
    pub text: TemplateText,
}

/// A template refused at save: where and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateError {
    /// `subject` or `body`.
    pub part: String,
    pub line: Option<usize>,
    /// Translation key, with `{name}` filled from `detail`.
    pub key: String,
    pub detail: String,
}

/// A rendered letter (for the preview).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Everything the editor shows for one letter and language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterDetail {
    pub kind: LetterKind,
    pub lang: Lang,
    pub enabled: bool,
    pub current: TemplateText,
    pub default: TemplateText,
    /// Unified diff of the current template against the shipped one (empty
    /// when unchanged).
    pub diff: String,
    /// Newest first.
    pub versions: Vec<TemplateVersion>,
    pub placeholders: Vec<String>,
    /// The preview, with the chosen request's data or a sample.
    pub preview: Result<Rendered, TemplateError>,
    /// Whose data the preview shows (a request id, or none for a sample).
    pub preview_request: Option<String>,
    pub alma: Option<(String, bool)>,
}

/// The letters' port: the server provides it (its templates, switches and
/// delivery log live in Kauko's database). `staff` is the signed-in staff
/// member's id. Errors are for the log; the page says "try again".
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait LetterOffice: Send + Sync {
    async fn summaries(&self) -> Result<Vec<LetterSummary>, String>;

    /// One letter in one language: its template (or `draft`, for a
    /// preview before saving), versions, difference from the default, and
    /// the preview with `request`'s data (else a sample).
    async fn detail(
        &self,
        kind: LetterKind,
        lang: Lang,
        request: Option<String>,
        draft: Option<TemplateText>,
    ) -> Result<LetterDetail, String>;

    /// Saves a new version after checking it; a template that does not
    /// parse or names an unknown placeholder is refused with the reason.
    async fn save(
        &self,
        kind: LetterKind,
        lang: Lang,
        text: TemplateText,
        staff: &str,
    ) -> Result<Result<i64, TemplateError>, String>;

    /// Makes an earlier version (0: the shipped default) the current one,
    /// as a new version.
    async fn restore(
        &self,
        kind: LetterKind,
        lang: Lang,
        version: i64,
        staff: &str,
    ) -> Result<i64, String>;

    async fn set_enabled(&self, kind: LetterKind, on: bool, staff: &str) -> Result<(), String>;

    /// The newest letters, optionally of one kind or state.
    async fn log(
        &self,
        kind: Option<LetterKind>,
        state: Option<LetterState>,
    ) -> Result<Vec<SentLetter>, String>;

    /// Sends a failed letter again.
    async fn retry(&self, id: &str) -> Result<bool, String>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::history::Actor;

    fn event(side: Side, action: &str, to: &str, audience: Option<Audience>) -> RequestEvent {
        RequestEvent {
            seq: 1,
            side,
            request_id: "r".into(),
            at: "2026-12-04T10:00:00Z".into(),
            actor: Actor::Kauko,
            action: action.into(),
            from_state: None,
            to_state: to.into(),
            partner: None,
            note: None,
            audience,
        }
    }

    #[test]
    fn codes_round_trip_and_sides_follow_recipients() {
        for k in LetterKind::ALL {
            assert_eq!(LetterKind::from_code(k.code()), Some(k));
            assert_eq!(
                k.side() == Side::Borrowing,
                k.recipient() == Recipient::Patron
            );
        }
    }

    #[test]
    fn events_send_the_letters_their_change_means() {
        let b = |a, to| letters_for(&event(Side::Borrowing, a, to, None));
        let l = |a, to| letters_for(&event(Side::Lending, a, to, None));
        assert_eq!(
            b("created", "REQUEST_CREATED_BOR"),
            [LetterKind::PatronReceived]
        );
        assert_eq!(
            b("received", "RECEIVED_PHYSICALLY"),
            [LetterKind::PatronReadyForPickup]
        );
        assert_eq!(
            b("received", "RECEIVED_DIGITALLY"),
            [LetterKind::PatronAvailableOnline]
        );
        assert_eq!(
            b("cancel", "CANCELED_BY_PATRON"),
            [LetterKind::PatronCancelled]
        );
        // A cancellation asked of the partner is not yet a cancellation.
        assert!(b("cancel", "CANCEL_REQUESTED").is_empty());
        assert!(b("note", "REQUEST_SENT").is_empty());
        assert_eq!(
            letters_for(&event(
                Side::Borrowing,
                "note",
                "REQUEST_SENT",
                Some(Audience::Patron)
            )),
            [LetterKind::PatronQuery]
        );
        // The lending side's arrival is confirmed by the outbox.
        assert!(l("created", "REQUEST_CREATED_LEND").is_empty());
        assert_eq!(l("ship", "Loaned"), [LetterKind::PartnerShipped]);
        assert_eq!(
            l("refuse_renewal", "Loaned"),
            [LetterKind::PartnerRenewalAnswer]
        );
        assert!(b("send_to_partner", "REQUEST_SENT").is_empty());
    }

    #[test]
    fn languages_are_chosen_by_the_recipient() {
        assert_eq!(patron_lang(Some("sv"), Some("en-GB"), Lang::Fi), Lang::Sv);
        assert_eq!(patron_lang(None, Some("en-GB"), Lang::Fi), Lang::En);
        assert_eq!(patron_lang(None, Some("SV_fi"), Lang::Fi), Lang::Sv);
        assert_eq!(patron_lang(None, Some("de"), Lang::Fi), Lang::Fi);
        assert_eq!(patron_lang(None, None, Lang::En), Lang::En);
        assert_eq!(partner_langs(Some("sv")), [Lang::Sv]);
        assert_eq!(partner_langs(None), [Lang::Fi, Lang::En]);
        assert_eq!(partner_langs(Some("de")), [Lang::Fi, Lang::En]);
    }

    #[test]
    fn due_dates_are_read_from_the_desk_note() {
        assert_eq!(
            due_in_note(Some("due 2026-12-31")).as_deref(),
            Some("2026-12-31")
        );
        assert_eq!(due_in_note(Some("due tomorrow")), None);
        assert_eq!(due_in_note(None), None);
    }
}
