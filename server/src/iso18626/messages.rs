//! The six ISO 18626 messages as Rust types, read from and written to the
//! XML tree of [`super::xml`] in the order of the v1.2 schema
//! (`shared/fixtures/iso18626/ISO-18626-v1_2.xsd`).
//!
//! Reading is lenient where real partners are (see `SOURCES.md` and
//! `ill-domain.md` §1.7): the message may be the document's root or sit in
//! an `ISO18626Message`, with or without a version; empty elements count as
//! absent; elements the schema requires but v1.1 senders leave out
//! (`multipleItemRequestId`, `lastChange`) are optional; timestamps are
//! kept as written (see [`parse_time`]); closed code lists keep an unknown
//! value as `Other` so that [`Message::check`] can answer with
//! `UnrecognisedDataValue` naming it. Unknown elements are ignored.

use chrono::{DateTime, Utc};

use super::xml::{self, El, XmlError};

/// Closed code lists of the schema, with the value as written when it is
/// not one of them.
macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value the schema does not list.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => stringify!($variant),)+
                    Self::Other(s) => s,
                }
            }

            pub fn parse(s: &str) -> Self {
                match s.trim() {
                    $(stringify!($variant) => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }

            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }
    };
}

codes!(
    /// `type_status`: where the supplier is with a request.
    Status {
        RequestReceived,
        ExpectToSupply,
        WillSupply,
        Loaned,
        Overdue,
        Recalled,
        RetryPossible,
        Unfilled,
        CopyCompleted,
        LoanCompleted,
        CompletedWithoutReturn,
        Cancelled,
    }
);

codes!(
    /// `type_action`: what the requesting library does or asks.
    Action {
        StatusRequest,
        Received,
        Cancel,
        Renew,
        ShippedReturn,
        ShippedForward,
        Notification,
    }
);

codes!(
    /// `type_reasonForMessage` of a supplying agency message.
    ReasonForMessage {
        RequestResponse,
        StatusRequestResponse,
        RenewResponse,
        CancelResponse,
        StatusChange,
        Notification,
    }
);

codes!(
    /// `type_errorType` of a confirmation.
    ErrorType {
        UnsupportedActionType,
        UnsupportedReasonForMessageType,
        UnrecognisedDataElement,
        UnrecognisedDataValue,
        BadlyFormedMessage,
    }
);

codes!(
    /// `type_messageStatus`.
    MessageStatus { OK, ERROR }
);

codes!(
    /// `type_serviceType`.
    ServiceType { Copy, Loan, CopyOrLoan }
);

codes!(
    /// `type_requestType`.
    RequestType { New, Retry, Reminder }
);

codes!(
    /// `type_requestSubType`.
    RequestSubType {
        BookingRequest,
        MultipleItemRequest,
        PatronRequest,
        TransferRequest,
        SupplyingLibrarysChoice,
    }
);

codes!(
    /// `type_yesNo`.
    YesNo { Y, N }
);

/// Why a tree is not a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("unknown message element <{0}>")]
    UnknownMessage(String),
    #[error("<{parent}> lacks <{element}>")]
    Missing {
        parent: &'static str,
        element: &'static str,
    },
}

impl ParseError {
    /// The error type a confirmation reports it as.
    pub fn error_type(&self) -> ErrorType {
        match self {
            ParseError::UnknownMessage(_) => ErrorType::UnrecognisedDataElement,
            _ => ErrorType::BadlyFormedMessage,
        }
    }
}

type R<T> = Result<T, ParseError>;

fn need<'a>(el: &'a El, parent: &'static str, element: &'static str) -> R<&'a El> {
    el.child(element)
        .ok_or(ParseError::Missing { parent, element })
}

fn need_text(el: &El, parent: &'static str, element: &'static str) -> R<String> {
    el.text_of(element)
        .ok_or(ParseError::Missing { parent, element })
}

/// An ISO 18626 date and time as written; [`parse_time`] reads the forms
/// partners send.
pub type Timestamp = String;

/// Reads `xs:dateTime` and what partners send instead: `+0000` offsets,
/// no zone (taken as UTC), any number of fraction digits.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A time as Kauko writes it (`xs:dateTime`, UTC, milliseconds).
pub fn format_time(t: DateTime<Utc>) -> Timestamp {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `type_schemeValuePair`: an open code with an optional scheme.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemeValue {
    pub value: String,
    pub scheme: Option<String>,
}

impl SchemeValue {
    pub fn new(value: &str) -> Self {
        Self {
            value: value.to_owned(),
            scheme: None,
        }
    }

    fn read(el: &El) -> Option<Self> {
        el.value().map(|value| Self {
            value,
            scheme: el.attr("scheme").map(str::to_owned),
        })
    }

    fn read_child(parent: &El, name: &str) -> Option<Self> {
        parent.child(name).and_then(Self::read)
    }

    fn el(&self, name: &str) -> El {
        let mut el = El::leaf(name, &self.value);
        if let Some(s) = &self.scheme {
            el.attrs.push(("scheme".into(), s.clone()));
        }
        el
    }
}

fn push_sv(parent: &mut El, name: &str, v: &Option<SchemeValue>) {
    if let Some(v) = v {
        parent.push(v.el(name));
    }
}

/// `type_agencyId`: an agency's symbol, e.g. type `ISIL`, value `FI-HY`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgencyId {
    pub kind: SchemeValue,
    pub value: String,
}

impl AgencyId {
    pub fn new(kind: &str, value: &str) -> Self {
        Self {
            kind: SchemeValue::new(kind),
            value: value.to_owned(),
        }
    }

    /// Parses a symbol written `TYPE:VALUE` (Kauko's partner records);
    /// without a colon the type is `ISIL`.
    pub fn from_symbol(symbol: &str) -> Self {
        match symbol.trim().split_once(':') {
            Some((kind, value)) => Self::new(kind.trim(), value.trim()),
            None => Self::new("ISIL", symbol.trim()),
        }
    }

    /// `TYPE:VALUE`, compared case-insensitively by [`AgencyId::matches`].
    pub fn symbol(&self) -> String {
        format!("{}:{}", self.kind.value, self.value)
    }

    /// Whether this is the agency a partner record's symbol names.
    pub fn matches(&self, symbol: &str) -> bool {
        let other = Self::from_symbol(symbol);
        other.kind.value.eq_ignore_ascii_case(&self.kind.value)
            && other.value.eq_ignore_ascii_case(&self.value)
    }

    fn read(el: &El, parent: &'static str) -> R<Self> {
        Ok(Self {
            kind: SchemeValue::read_child(el, "agencyIdType").ok_or(ParseError::Missing {
                parent,
                element: "agencyIdType",
            })?,
            value: need_text(el, parent, "agencyIdValue")?,
        })
    }

    fn el(&self, name: &str) -> El {
        let mut el = El::new(name);
        el.push(self.kind.el("agencyIdType"))
            .push(El::leaf("agencyIdValue", &self.value));
        el
    }
}

/// `requestingAgencyAuthentication`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authentication {
    pub account_id: Option<String>,
    pub security_code: Option<String>,
}

/// `header` of the three messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub supplying_agency_id: AgencyId,
    pub requesting_agency_id: AgencyId,
    /// Required by v1.2 (and written empty), absent in v1.1.
    pub multiple_item_request_id: Option<String>,
    pub timestamp: Timestamp,
    pub requesting_agency_request_id: String,
    pub supplying_agency_request_id: Option<String>,
    pub authentication: Option<Authentication>,
}

impl Header {
    fn read(parent: &El) -> R<Self> {
        const H: &str = "header";
        let el = need(parent, "message", H)?;
        Ok(Self {
            supplying_agency_id: AgencyId::read(
                need(el, H, "supplyingAgencyId")?,
                "supplyingAgencyId",
            )?,
            requesting_agency_id: AgencyId::read(
                need(el, H, "requestingAgencyId")?,
                "requestingAgencyId",
            )?,
            multiple_item_request_id: el.text_of("multipleItemRequestId"),
            timestamp: need_text(el, H, "timestamp")?,
            requesting_agency_request_id: need_text(el, H, "requestingAgencyRequestId")?,
            supplying_agency_request_id: el.text_of("supplyingAgencyRequestId"),
            authentication: el
                .child("requestingAgencyAuthentication")
                .map(|a| Authentication {
                    account_id: a.text_of("accountId"),
                    security_code: a.text_of("securityCode"),
                }),
        })
    }

    fn el(&self) -> El {
        let mut el = El::new("header");
        el.push(self.supplying_agency_id.el("supplyingAgencyId"))
            .push(self.requesting_agency_id.el("requestingAgencyId"));
        if let Some(m) = &self.multiple_item_request_id {
            el.push(El::leaf("multipleItemRequestId", m));
        }
        el.push(El::leaf("timestamp", &self.timestamp))
            .push(El::leaf(
                "requestingAgencyRequestId",
                &self.requesting_agency_request_id,
            ))
            .opt(
                "supplyingAgencyRequestId",
                &self.supplying_agency_request_id,
            );
        if let Some(a) = &self.authentication {
            let mut auth = El::new("requestingAgencyAuthentication");
            auth.opt("accountId", &a.account_id)
                .opt("securityCode", &a.security_code);
            el.push(auth);
        }
        el
    }
}

/// `confirmationHeader`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfirmationHeader {
    pub supplying_agency_id: Option<AgencyId>,
    pub requesting_agency_id: Option<AgencyId>,
    pub timestamp: Timestamp,
    pub requesting_agency_request_id: Option<String>,
    pub multiple_item_request_id: Option<String>,
    pub timestamp_received: Timestamp,
    pub message_status: Option<MessageStatus>,
}

impl ConfirmationHeader {
    fn read(parent: &El) -> R<Self> {
        const H: &str = "confirmationHeader";
        let el = need(parent, "confirmation", H)?;
        let agency = |name: &'static str| {
            el.child(name)
                .filter(|a| !a.is_empty())
                .map(|a| AgencyId::read(a, name))
                .transpose()
        };
        Ok(Self {
            supplying_agency_id: agency("supplyingAgencyId")?,
            requesting_agency_id: agency("requestingAgencyId")?,
            timestamp: need_text(el, H, "timestamp")?,
            requesting_agency_request_id: el.text_of("requestingAgencyRequestId"),
            multiple_item_request_id: el.text_of("multipleItemRequestId"),
            timestamp_received: el.text_of("timestampReceived").unwrap_or_default(),
            message_status: el
                .text_of("messageStatus")
                .map(|s| MessageStatus::parse(&s)),
        })
    }

    fn el(&self) -> El {
        let mut el = El::new("confirmationHeader");
        if let Some(a) = &self.supplying_agency_id {
            el.push(a.el("supplyingAgencyId"));
        }
        if let Some(a) = &self.requesting_agency_id {
            el.push(a.el("requestingAgencyId"));
        }
        el.push(El::leaf("timestamp", &self.timestamp))
            .opt(
                "requestingAgencyRequestId",
                &self.requesting_agency_request_id,
            )
            .opt("multipleItemRequestId", &self.multiple_item_request_id)
            .push(El::leaf("timestampReceived", &self.timestamp_received));
        if let Some(s) = &self.message_status {
            el.push(El::leaf("messageStatus", s.as_str()));
        }
        el
    }

    /// Whether the partner accepted the message.
    pub fn ok(&self) -> bool {
        self.message_status == Some(MessageStatus::OK)
    }
}

/// `errorData`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorData {
    pub error_type: ErrorType,
    pub error_value: Option<String>,
}

impl ErrorData {
    fn read(parent: &El) -> R<Option<Self>> {
        let Some(el) = parent.child("errorData").filter(|e| !e.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(Self {
            error_type: ErrorType::parse(&need_text(el, "errorData", "errorType")?),
            error_value: el.text_of("errorValue"),
        }))
    }

    fn el(&self) -> El {
        let mut el = El::new("errorData");
        el.push(El::leaf("errorType", self.error_type.as_str()))
            .opt("errorValue", &self.error_value);
        el
    }
}

/// `type_costs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Costs {
    pub currency_code: SchemeValue,
    /// `xs:decimal` as written (`12.50`).
    pub monetary_value: String,
}

impl Costs {
    fn read_child(parent: &El, name: &str) -> Option<Self> {
        let el = parent.child(name)?;
        Some(Self {
            currency_code: SchemeValue::read_child(el, "currencyCode")?,
            monetary_value: el.text_of("monetaryValue")?,
        })
    }

    fn el(&self, name: &str) -> El {
        let mut el = El::new(name);
        el.push(self.currency_code.el("currencyCode"))
            .push(El::leaf("monetaryValue", &self.monetary_value));
        el
    }
}

/// `physicalAddress`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhysicalAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub locality: Option<String>,
    pub postal_code: Option<String>,
    pub region: Option<SchemeValue>,
    pub country: Option<SchemeValue>,
}

impl PhysicalAddress {
    fn read(el: &El) -> Self {
        Self {
            line1: el.text_of("line1"),
            line2: el.text_of("line2"),
            locality: el.text_of("locality"),
            postal_code: el.text_of("postalCode"),
            region: SchemeValue::read_child(el, "region"),
            country: SchemeValue::read_child(el, "country"),
        }
    }

    fn el(&self) -> El {
        let mut el = El::new("physicalAddress");
        el.opt("line1", &self.line1)
            .opt("line2", &self.line2)
            .opt("locality", &self.locality)
            .opt("postalCode", &self.postal_code);
        push_sv(&mut el, "region", &self.region);
        push_sv(&mut el, "country", &self.country);
        el
    }
}

/// `address`: electronic (e-mail, URL) or physical.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Electronic { kind: SchemeValue, data: String },
    Physical(PhysicalAddress),
}

impl Address {
    fn read(el: &El) -> Option<Self> {
        if let Some(e) = el.child("electronicAddress") {
            return Some(Self::Electronic {
                kind: SchemeValue::read_child(e, "electronicAddressType")?,
                data: e.text_of("electronicAddressData")?,
            });
        }
        el.child("physicalAddress")
            .map(|p| Self::Physical(PhysicalAddress::read(p)))
    }

    fn el(&self) -> El {
        let mut el = El::new("address");
        match self {
            Self::Electronic { kind, data } => {
                let mut e = El::new("electronicAddress");
                e.push(kind.el("electronicAddressType"))
                    .push(El::leaf("electronicAddressData", data));
                el.push(e);
            }
            Self::Physical(p) => {
                el.push(p.el());
            }
        }
        el
    }

    fn read_all(parent: &El) -> Vec<Self> {
        parent.all("address").filter_map(Self::read).collect()
    }
}

/// `bibliographicItemId` (ISBN, ISSN, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemId {
    pub identifier: String,
    pub code: SchemeValue,
}

/// `bibliographicRecordId` (a catalogue record's id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordId {
    pub code: SchemeValue,
    pub identifier: String,
}

impl RecordId {
    fn read(el: &El) -> Option<Self> {
        Some(Self {
            code: SchemeValue::read_child(el, "bibliographicRecordIdentifierCode")?,
            identifier: el.text_of("bibliographicRecordIdentifier")?,
        })
    }

    fn el(&self) -> El {
        let mut el = El::new("bibliographicRecordId");
        el.push(self.code.el("bibliographicRecordIdentifierCode"))
            .push(El::leaf("bibliographicRecordIdentifier", &self.identifier));
        el
    }
}

/// `bibliographicInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BibliographicInfo {
    pub supplier_unique_record_id: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    pub subtitle: Option<String>,
    pub series_title: Option<String>,
    pub edition: Option<String>,
    pub title_of_component: Option<String>,
    pub author_of_component: Option<String>,
    pub volume: Option<String>,
    pub issue: Option<String>,
    pub pages_requested: Option<String>,
    pub estimated_no_pages: Option<String>,
    pub item_ids: Vec<ItemId>,
    pub sponsor: Option<String>,
    pub information_source: Option<String>,
    pub record_ids: Vec<RecordId>,
}

impl BibliographicInfo {
    fn read(el: &El) -> Self {
        Self {
            supplier_unique_record_id: el.text_of("supplierUniqueRecordId"),
            title: el.text_of("title"),
            author: el.text_of("author"),
            subtitle: el.text_of("subtitle"),
            series_title: el.text_of("seriesTitle"),
            edition: el.text_of("edition"),
            title_of_component: el.text_of("titleOfComponent"),
            author_of_component: el.text_of("authorOfComponent"),
            volume: el.text_of("volume"),
            issue: el.text_of("issue"),
            pages_requested: el.text_of("pagesRequested"),
            estimated_no_pages: el.text_of("estimatedNoPages"),
            item_ids: el
                .all("bibliographicItemId")
                .filter_map(|i| {
                    Some(ItemId {
                        identifier: i.text_of("bibliographicItemIdentifier")?,
                        code: SchemeValue::read_child(i, "bibliographicItemIdentifierCode")?,
                    })
                })
                .collect(),
            sponsor: el.text_of("sponsor"),
            information_source: el.text_of("informationSource"),
            record_ids: el
                .all("bibliographicRecordId")
                .filter_map(RecordId::read)
                .collect(),
        }
    }

    fn el(&self) -> El {
        let mut el = El::new("bibliographicInfo");
        el.opt("supplierUniqueRecordId", &self.supplier_unique_record_id)
            .opt("title", &self.title)
            .opt("author", &self.author)
            .opt("subtitle", &self.subtitle)
            .opt("seriesTitle", &self.series_title)
            .opt("edition", &self.edition)
            .opt("titleOfComponent", &self.title_of_component)
            .opt("authorOfComponent", &self.author_of_component)
            .opt("volume", &self.volume)
            .opt("issue", &self.issue)
            .opt("pagesRequested", &self.pages_requested)
            .opt("estimatedNoPages", &self.estimated_no_pages);
        for i in &self.item_ids {
            let mut id = El::new("bibliographicItemId");
            id.push(El::leaf("bibliographicItemIdentifier", &i.identifier))
                .push(i.code.el("bibliographicItemIdentifierCode"));
            el.push(id);
        }
        el.opt("sponsor", &self.sponsor)
            .opt("informationSource", &self.information_source);
        for r in &self.record_ids {
            el.push(r.el());
        }
        el
    }

    /// The identifier of this kind (`ISBN`, `ISSN`, `DOI`, ...).
    pub fn item_id(&self, code: &str) -> Option<&str> {
        self.item_ids
            .iter()
            .find(|i| i.code.value.eq_ignore_ascii_case(code))
            .map(|i| i.identifier.as_str())
    }
}

/// `publicationInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicationInfo {
    pub publisher: Option<String>,
    pub publication_type: Option<SchemeValue>,
    pub publication_date: Option<String>,
    pub place_of_publication: Option<String>,
}

/// `serviceInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    pub request_type: Option<RequestType>,
    pub request_sub_types: Vec<RequestSubType>,
    pub requesting_agency_previous_request_id: Option<String>,
    pub service_type: ServiceType,
    pub service_level: Option<SchemeValue>,
    pub preferred_format: Option<SchemeValue>,
    pub need_before_date: Option<Timestamp>,
    pub copyright_compliance: Option<SchemeValue>,
    pub any_edition: Option<YesNo>,
    pub start_date: Option<Timestamp>,
    pub end_date: Option<Timestamp>,
    pub note: Option<String>,
}

impl ServiceInfo {
    pub fn new(service_type: ServiceType) -> Self {
        Self {
            request_type: None,
            request_sub_types: Vec::new(),
            requesting_agency_previous_request_id: None,
            service_type,
            service_level: None,
            preferred_format: None,
            need_before_date: None,
            copyright_compliance: None,
            any_edition: None,
            start_date: None,
            end_date: None,
            note: None,
        }
    }

    fn read(el: &El) -> R<Self> {
        Ok(Self {
            request_type: el.text_of("requestType").map(|s| RequestType::parse(&s)),
            request_sub_types: el
                .all("requestSubType")
                .filter_map(El::value)
                .map(|s| RequestSubType::parse(&s))
                .collect(),
            requesting_agency_previous_request_id: el.text_of("requestingAgencyPreviousRequestId"),
            service_type: ServiceType::parse(&need_text(el, "serviceInfo", "serviceType")?),
            service_level: SchemeValue::read_child(el, "serviceLevel"),
            preferred_format: SchemeValue::read_child(el, "preferredFormat"),
            need_before_date: el.text_of("needBeforeDate"),
            copyright_compliance: SchemeValue::read_child(el, "copyrightCompliance"),
            any_edition: el.text_of("anyEdition").map(|s| YesNo::parse(&s)),
            start_date: el.text_of("startDate"),
            end_date: el.text_of("endDate"),
            note: el.text_of("note"),
        })
    }

    fn el(&self) -> El {
        let mut el = El::new("serviceInfo");
        if let Some(t) = &self.request_type {
            el.push(El::leaf("requestType", t.as_str()));
        }
        for s in &self.request_sub_types {
            el.push(El::leaf("requestSubType", s.as_str()));
        }
        el.opt(
            "requestingAgencyPreviousRequestId",
            &self.requesting_agency_previous_request_id,
        )
        .push(El::leaf("serviceType", self.service_type.as_str()));
        push_sv(&mut el, "serviceLevel", &self.service_level);
        push_sv(&mut el, "preferredFormat", &self.preferred_format);
        el.opt("needBeforeDate", &self.need_before_date);
        push_sv(&mut el, "copyrightCompliance", &self.copyright_compliance);
        if let Some(a) = &self.any_edition {
            el.push(El::leaf("anyEdition", a.as_str()));
        }
        el.opt("startDate", &self.start_date)
            .opt("endDate", &self.end_date)
            .opt("note", &self.note);
        el
    }
}

/// `supplierInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SupplierInfo {
    pub sort_order: Option<String>,
    pub supplier_code: Option<AgencyId>,
    pub supplier_description: Option<String>,
    pub record_id: Option<RecordId>,
    pub call_number: Option<String>,
    pub summary_holdings: Option<String>,
    pub availability_note: Option<String>,
}

/// `requestedDeliveryInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestedDeliveryInfo {
    pub sort_order: Option<String>,
    pub address: Option<Address>,
}

/// `requestingAgencyInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestingAgencyInfo {
    pub name: Option<String>,
    pub contact_name: Option<String>,
    pub addresses: Vec<Address>,
}

impl RequestingAgencyInfo {
    /// The first e-mail address among its addresses.
    pub fn email(&self) -> Option<&str> {
        self.addresses.iter().find_map(|a| match a {
            Address::Electronic { kind, data } if kind.value.eq_ignore_ascii_case("email") => {
                Some(data.as_str())
            }
            _ => None,
        })
    }
}

/// `patronInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatronInfo {
    pub patron_id: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub patron_type: Option<SchemeValue>,
    pub send_to_patron: Option<YesNo>,
    pub addresses: Vec<Address>,
}

/// `billingInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BillingInfo {
    pub payment_method: Option<SchemeValue>,
    pub maximum_costs: Option<Costs>,
    pub billing_method: Option<SchemeValue>,
    pub billing_name: Option<String>,
    pub address: Option<Address>,
}

/// `request`: a requesting library asks for an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub header: Header,
    pub bibliographic_info: BibliographicInfo,
    pub publication_info: Option<PublicationInfo>,
    pub service_info: Option<ServiceInfo>,
    pub supplier_info: Vec<SupplierInfo>,
    pub requested_delivery_info: Vec<RequestedDeliveryInfo>,
    pub requesting_agency_info: Option<RequestingAgencyInfo>,
    pub patron_info: Option<PatronInfo>,
    pub billing_info: Option<BillingInfo>,
}

impl Request {
    fn read(el: &El) -> R<Self> {
        Ok(Self {
            header: Header::read(el)?,
            bibliographic_info: BibliographicInfo::read(need(el, "request", "bibliographicInfo")?),
            publication_info: el.child("publicationInfo").map(|p| PublicationInfo {
                publisher: p.text_of("publisher"),
                publication_type: SchemeValue::read_child(p, "publicationType"),
                publication_date: p.text_of("publicationDate"),
                place_of_publication: p.text_of("placeOfPublication"),
            }),
            service_info: el
                .child("serviceInfo")
                .filter(|s| !s.is_empty())
                .map(ServiceInfo::read)
                .transpose()?,
            supplier_info: el
                .all("supplierInfo")
                .map(|s| SupplierInfo {
                    sort_order: s.text_of("sortOrder"),
                    supplier_code: s
                        .child("supplierCode")
                        .and_then(|c| AgencyId::read(c, "supplierCode").ok()),
                    supplier_description: s.text_of("supplierDescription"),
                    record_id: s.child("bibliographicRecordId").and_then(RecordId::read),
                    call_number: s.text_of("callNumber"),
                    summary_holdings: s.text_of("summaryHoldings"),
                    availability_note: s.text_of("availabilityNote"),
                })
                .collect(),
            requested_delivery_info: el
                .all("requestedDeliveryInfo")
                .map(|d| RequestedDeliveryInfo {
                    sort_order: d.text_of("sortOrder"),
                    address: d.child("address").and_then(Address::read),
                })
                .collect(),
            requesting_agency_info: el.child("requestingAgencyInfo").map(|a| {
                RequestingAgencyInfo {
                    name: a.text_of("name"),
                    contact_name: a.text_of("contactName"),
                    addresses: Address::read_all(a),
                }
            }),
            patron_info: el.child("patronInfo").map(|p| PatronInfo {
                patron_id: p.text_of("patronId"),
                surname: p.text_of("surname"),
                given_name: p.text_of("givenName"),
                patron_type: SchemeValue::read_child(p, "patronType"),
                send_to_patron: p.text_of("sendToPatron").map(|s| YesNo::parse(&s)),
                addresses: Address::read_all(p),
            }),
            billing_info: el.child("billingInfo").map(|b| BillingInfo {
                payment_method: SchemeValue::read_child(b, "paymentMethod"),
                maximum_costs: Costs::read_child(b, "maximumCosts"),
                billing_method: SchemeValue::read_child(b, "billingMethod"),
                billing_name: b.text_of("billingName"),
                address: b.child("address").and_then(Address::read),
            }),
        })
    }

    fn el(&self) -> El {
        let mut el = El::new("request");
        el.push(self.header.el()).push(self.bibliographic_info.el());
        if let Some(p) = &self.publication_info {
            let mut e = El::new("publicationInfo");
            e.opt("publisher", &p.publisher);
            push_sv(&mut e, "publicationType", &p.publication_type);
            e.opt("publicationDate", &p.publication_date)
                .opt("placeOfPublication", &p.place_of_publication);
            el.push(e);
        }
        if let Some(s) = &self.service_info {
            el.push(s.el());
        }
        for s in &self.supplier_info {
            let mut e = El::new("supplierInfo");
            e.opt("sortOrder", &s.sort_order);
            if let Some(c) = &s.supplier_code {
                e.push(c.el("supplierCode"));
            }
            e.opt("supplierDescription", &s.supplier_description);
            if let Some(r) = &s.record_id {
                e.push(r.el());
            }
            e.opt("callNumber", &s.call_number)
                .opt("summaryHoldings", &s.summary_holdings)
                .opt("availabilityNote", &s.availability_note);
            el.push(e);
        }
        for d in &self.requested_delivery_info {
            let mut e = El::new("requestedDeliveryInfo");
            e.opt("sortOrder", &d.sort_order);
            if let Some(a) = &d.address {
                e.push(a.el());
            }
            el.push(e);
        }
        if let Some(a) = &self.requesting_agency_info {
            let mut e = El::new("requestingAgencyInfo");
            e.opt("name", &a.name).opt("contactName", &a.contact_name);
            for ad in &a.addresses {
                e.push(ad.el());
            }
            el.push(e);
        }
        if let Some(p) = &self.patron_info {
            let mut e = El::new("patronInfo");
            e.opt("patronId", &p.patron_id)
                .opt("surname", &p.surname)
                .opt("givenName", &p.given_name);
            push_sv(&mut e, "patronType", &p.patron_type);
            if let Some(s) = &p.send_to_patron {
                e.push(El::leaf("sendToPatron", s.as_str()));
            }
            for ad in &p.addresses {
                e.push(ad.el());
            }
            el.push(e);
        }
        if let Some(b) = &self.billing_info {
            let mut e = El::new("billingInfo");
            push_sv(&mut e, "paymentMethod", &b.payment_method);
            if let Some(c) = &b.maximum_costs {
                e.push(c.el("maximumCosts"));
            }
            push_sv(&mut e, "billingMethod", &b.billing_method);
            e.opt("billingName", &b.billing_name);
            if let Some(a) = &b.address {
                e.push(a.el());
            }
            el.push(e);
        }
        el
    }
}

/// `messageInfo` of a supplying agency message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageInfo {
    pub reason_for_message: ReasonForMessage,
    pub answer_yes_no: Option<YesNo>,
    pub note: Option<String>,
    pub reason_unfilled: Option<SchemeValue>,
    pub reason_retry: Option<SchemeValue>,
    pub offered_costs: Option<Costs>,
    pub retry_after: Option<Timestamp>,
    pub retry_before: Option<Timestamp>,
}

impl MessageInfo {
    pub fn new(reason: ReasonForMessage) -> Self {
        Self {
            reason_for_message: reason,
            answer_yes_no: None,
            note: None,
            reason_unfilled: None,
            reason_retry: None,
            offered_costs: None,
            retry_after: None,
            retry_before: None,
        }
    }
}

/// `statusInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusInfo {
    pub status: Status,
    pub expected_delivery_date: Option<Timestamp>,
    pub due_date: Option<Timestamp>,
    /// Required by the schema; v1.1 templates leave it empty.
    pub last_change: Option<Timestamp>,
}

/// `deliveryInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryInfo {
    /// Required by the schema when the block is there; templates leave it
    /// empty.
    pub date_sent: Option<Timestamp>,
    pub item_id: Option<String>,
    pub sent_via: Option<SchemeValue>,
    pub sent_to_patron: Option<bool>,
    pub loan_condition: Option<SchemeValue>,
    pub delivered_format: Option<SchemeValue>,
    pub delivery_costs: Option<Costs>,
}

/// `returnInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReturnInfo {
    pub return_agency_id: Option<AgencyId>,
    pub name: Option<String>,
    pub physical_address: Option<PhysicalAddress>,
}

/// `supplyingAgencyMessage`: the supplier answers or tells a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupplyingAgencyMessage {
    pub header: Header,
    pub message_info: MessageInfo,
    pub status_info: StatusInfo,
    pub delivery_info: Option<DeliveryInfo>,
    pub return_info: Option<ReturnInfo>,
}

impl SupplyingAgencyMessage {
    fn read(el: &El) -> R<Self> {
        const M: &str = "supplyingAgencyMessage";
        let info = need(el, M, "messageInfo")?;
        let status = need(el, M, "statusInfo")?;
        Ok(Self {
            header: Header::read(el)?,
            message_info: MessageInfo {
                reason_for_message: ReasonForMessage::parse(&need_text(
                    info,
                    "messageInfo",
                    "reasonForMessage",
                )?),
                answer_yes_no: info.text_of("answerYesNo").map(|s| YesNo::parse(&s)),
                note: info.text_of("note"),
                reason_unfilled: SchemeValue::read_child(info, "reasonUnfilled"),
                reason_retry: SchemeValue::read_child(info, "reasonRetry"),
                offered_costs: Costs::read_child(info, "offeredCosts"),
                retry_after: info.text_of("retryAfter"),
                retry_before: info.text_of("retryBefore"),
            },
            status_info: StatusInfo {
                // Alma's notifications may carry an empty status.
                status: Status::parse(&status.text_of("status").unwrap_or_default()),
                expected_delivery_date: status.text_of("expectedDeliveryDate"),
                due_date: status.text_of("dueDate"),
                last_change: status.text_of("lastChange"),
            },
            delivery_info: el.child("deliveryInfo").map(|d| DeliveryInfo {
                date_sent: d.text_of("dateSent"),
                item_id: d.text_of("itemId"),
                sent_via: SchemeValue::read_child(d, "sentVia"),
                sent_to_patron: d
                    .text_of("sentToPatron")
                    .map(|s| matches!(s.as_str(), "true" | "1" | "Y")),
                loan_condition: SchemeValue::read_child(d, "loanCondition"),
                delivered_format: SchemeValue::read_child(d, "deliveredFormat"),
                delivery_costs: Costs::read_child(d, "deliveryCosts"),
            }),
            return_info: el.child("returnInfo").map(|r| ReturnInfo {
                return_agency_id: r
                    .child("returnAgencyId")
                    .and_then(|a| AgencyId::read(a, "returnAgencyId").ok()),
                name: r.text_of("name"),
                physical_address: r.child("physicalAddress").map(PhysicalAddress::read),
            }),
        })
    }

    fn el(&self) -> El {
        let mut el = El::new("supplyingAgencyMessage");
        el.push(self.header.el());
        let m = &self.message_info;
        let mut info = El::new("messageInfo");
        info.push(El::leaf("reasonForMessage", m.reason_for_message.as_str()));
        if let Some(a) = &m.answer_yes_no {
            info.push(El::leaf("answerYesNo", a.as_str()));
        }
        info.opt("note", &m.note);
        push_sv(&mut info, "reasonUnfilled", &m.reason_unfilled);
        push_sv(&mut info, "reasonRetry", &m.reason_retry);
        if let Some(c) = &m.offered_costs {
            info.push(c.el("offeredCosts"));
        }
        info.opt("retryAfter", &m.retry_after)
            .opt("retryBefore", &m.retry_before);
        el.push(info);
        let s = &self.status_info;
        let mut status = El::new("statusInfo");
        status
            .push(El::leaf("status", s.status.as_str()))
            .opt("expectedDeliveryDate", &s.expected_delivery_date)
            .opt("dueDate", &s.due_date)
            .opt("lastChange", &s.last_change);
        el.push(status);
        if let Some(d) = &self.delivery_info {
            let mut e = El::new("deliveryInfo");
            e.opt("dateSent", &d.date_sent).opt("itemId", &d.item_id);
            push_sv(&mut e, "sentVia", &d.sent_via);
            if let Some(b) = d.sent_to_patron {
                e.push(El::leaf("sentToPatron", if b { "true" } else { "false" }));
            }
            push_sv(&mut e, "loanCondition", &d.loan_condition);
            push_sv(&mut e, "deliveredFormat", &d.delivered_format);
            if let Some(c) = &d.delivery_costs {
                e.push(c.el("deliveryCosts"));
            }
            el.push(e);
        }
        if let Some(r) = &self.return_info {
            let mut e = El::new("returnInfo");
            if let Some(a) = &r.return_agency_id {
                e.push(a.el("returnAgencyId"));
            }
            e.opt("name", &r.name);
            if let Some(p) = &r.physical_address {
                e.push(p.el());
            }
            el.push(e);
        }
        el
    }
}

/// `requestingAgencyMessage`: the requesting library acts or asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestingAgencyMessage {
    pub header: Header,
    pub action: Action,
    pub note: Option<String>,
}

/// The three confirmations share one shape: the header, what was
/// confirmed (a reason or an action, not for a request) and the error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmation {
    pub header: ConfirmationHeader,
    pub reason_for_message: Option<ReasonForMessage>,
    pub action: Option<Action>,
    pub error: Option<ErrorData>,
}

/// One ISO 18626 message. (A request is large; messages are handled one
/// at a time, never kept in collections, so it is not boxed.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    RequestConfirmation(Confirmation),
    SupplyingAgencyMessage(SupplyingAgencyMessage),
    SupplyingAgencyMessageConfirmation(Confirmation),
    RequestingAgencyMessage(RequestingAgencyMessage),
    RequestingAgencyMessageConfirmation(Confirmation),
}

/// A message with the version its envelope named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// `ill:version` (or an unqualified `version`); none when the message
    /// came without the `ISO18626Message` wrapper.
    pub version: Option<String>,
    pub message: Message,
}

impl Message {
    /// The element name.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Request(_) => "request",
            Message::RequestConfirmation(_) => "requestConfirmation",
            Message::SupplyingAgencyMessage(_) => "supplyingAgencyMessage",
            Message::SupplyingAgencyMessageConfirmation(_) => "supplyingAgencyMessageConfirmation",
            Message::RequestingAgencyMessage(_) => "requestingAgencyMessage",
            Message::RequestingAgencyMessageConfirmation(_) => {
                "requestingAgencyMessageConfirmation"
            }
        }
    }

    /// The header of a request or an agency message.
    pub fn header(&self) -> Option<&Header> {
        match self {
            Message::Request(m) => Some(&m.header),
            Message::SupplyingAgencyMessage(m) => Some(&m.header),
            Message::RequestingAgencyMessage(m) => Some(&m.header),
            _ => None,
        }
    }

    pub fn header_mut(&mut self) -> Option<&mut Header> {
        match self {
            Message::Request(m) => Some(&mut m.header),
            Message::SupplyingAgencyMessage(m) => Some(&mut m.header),
            Message::RequestingAgencyMessage(m) => Some(&mut m.header),
            _ => None,
        }
    }

    /// The confirmation of a confirmation message.
    pub fn confirmation(&self) -> Option<&Confirmation> {
        match self {
            Message::RequestConfirmation(c)
            | Message::SupplyingAgencyMessageConfirmation(c)
            | Message::RequestingAgencyMessageConfirmation(c) => Some(c),
            _ => None,
        }
    }

    fn read(el: &El) -> R<Self> {
        let confirmation = |el: &El| -> R<Confirmation> {
            Ok(Confirmation {
                header: ConfirmationHeader::read(el)?,
                reason_for_message: el
                    .text_of("reasonForMessage")
                    .map(|s| ReasonForMessage::parse(&s)),
                action: el.text_of("action").map(|s| Action::parse(&s)),
                error: ErrorData::read(el)?,
            })
        };
        Ok(match el.name.as_str() {
            "request" => Message::Request(Request::read(el)?),
            "requestConfirmation" => Message::RequestConfirmation(Confirmation {
                reason_for_message: None,
                action: None,
                ..confirmation(el)?
            }),
            "supplyingAgencyMessage" => {
                Message::SupplyingAgencyMessage(SupplyingAgencyMessage::read(el)?)
            }
            "supplyingAgencyMessageConfirmation" => {
                Message::SupplyingAgencyMessageConfirmation(Confirmation {
                    action: None,
                    ..confirmation(el)?
                })
            }
            "requestingAgencyMessage" => {
                Message::RequestingAgencyMessage(RequestingAgencyMessage {
                    header: Header::read(el)?,
                    action: Action::parse(&need_text(el, "requestingAgencyMessage", "action")?),
                    note: el.text_of("note"),
                })
            }
            "requestingAgencyMessageConfirmation" => {
                Message::RequestingAgencyMessageConfirmation(Confirmation {
                    reason_for_message: None,
                    ..confirmation(el)?
                })
            }
            other => return Err(ParseError::UnknownMessage(other.to_owned())),
        })
    }

    pub fn el(&self) -> El {
        let confirmation = |name: &str, c: &Confirmation| {
            let mut el = El::new(name);
            el.push(c.header.el());
            if let Some(r) = &c.reason_for_message {
                el.push(El::leaf("reasonForMessage", r.as_str()));
            }
            if let Some(a) = &c.action {
                el.push(El::leaf("action", a.as_str()));
            }
            if let Some(e) = &c.error {
                el.push(e.el());
            }
            el
        };
        match self {
            Message::Request(m) => m.el(),
            Message::SupplyingAgencyMessage(m) => m.el(),
            Message::RequestingAgencyMessage(m) => {
                let mut el = El::new("requestingAgencyMessage");
                el.push(m.header.el())
                    .push(El::leaf("action", m.action.as_str()))
                    .opt("note", &m.note);
                el
            }
            Message::RequestConfirmation(c)
            | Message::SupplyingAgencyMessageConfirmation(c)
            | Message::RequestingAgencyMessageConfirmation(c) => confirmation(self.kind(), c),
        }
    }

    /// The values a receiver cannot act on, as the confirmation's error:
    /// a code outside the schema's lists (`UnrecognisedDataValue`, naming
    /// the element and the value), a timestamp that is no time.
    pub fn check(&self) -> Result<(), ErrorData> {
        let bad = |element: &str, value: &str| ErrorData {
            error_type: ErrorType::UnrecognisedDataValue,
            error_value: Some(format!("{element}: {value}")),
        };
        if let Some(h) = self.header() {
            if parse_time(&h.timestamp).is_none() {
                return Err(bad("timestamp", &h.timestamp));
            }
        }
        match self {
            Message::Request(r) => {
                if let Some(s) = &r.service_info {
                    if !s.service_type.is_known() {
                        return Err(bad("serviceType", s.service_type.as_str()));
                    }
                }
            }
            Message::SupplyingAgencyMessage(m) => {
                if !m.message_info.reason_for_message.is_known() {
                    return Err(ErrorData {
                        error_type: ErrorType::UnsupportedReasonForMessageType,
                        error_value: Some(m.message_info.reason_for_message.as_str().to_owned()),
                    });
                }
                // An empty status is allowed on a notification (Alma).
                let status = &m.status_info.status;
                let empty_ok = m.message_info.reason_for_message == ReasonForMessage::Notification
                    && status.as_str().is_empty();
                if !status.is_known() && !empty_ok {
                    return Err(bad("status", status.as_str()));
                }
            }
            Message::RequestingAgencyMessage(m) if !m.action.is_known() => {
                return Err(ErrorData {
                    error_type: ErrorType::UnsupportedActionType,
                    error_value: Some(m.action.as_str().to_owned()),
                });
            }
            _ => {}
        }
        Ok(())
    }
}

/// Reads a message: bytes to tree to message, the wrapper optional.
pub fn parse(bytes: &[u8]) -> Result<Envelope, ParseError> {
    let root = xml::parse(bytes)?;
    if root.name == "ISO18626Message" {
        let version = root.attr("version").map(str::to_owned);
        let inner = root.children.first().ok_or(ParseError::Missing {
            parent: "ISO18626Message",
            element: "request",
        })?;
        Ok(Envelope {
            version,
            message: Message::read(inner)?,
        })
    } else {
        Ok(Envelope {
            version: None,
            message: Message::read(&root)?,
        })
    }
}

/// Writes a message in its `ISO18626Message` wrapper with this version.
pub fn write(message: &Message, version: &str) -> String {
    let mut root = El::new("ISO18626Message");
    root.attrs.push(("version".into(), version.to_owned()));
    root.push(message.el());
    xml::write(&root)
}
