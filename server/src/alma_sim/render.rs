//! Alma's wire format: content negotiation, JSON and XML rendering of the
//! objects, list envelopes, error envelopes, code tables.
//!
//! Objects are built once as JSON values in Alma's JSON conventions and
//! turned into XML by Alma's mapping rules: a code-table object
//! `{"value": v, "desc": d}` is `<k desc="d">v</k>`, a JSON array under the
//! singular name is a wrapper element with the plural name (`rs_note: []` →
//! `<rs_notes/>`), a list envelope's `total_record_count` is an attribute of
//! the root, and `null` members are left out.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

use super::state::{is_final, Data, Loan, NullStyle, RsRequest, User};

/// The negotiated representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fmt {
    Json,
    Xml,
}

impl Fmt {
    /// `format=json|xml` in the query wins; otherwise JSON when `Accept`
    /// names `application/json`; otherwise XML (Alma's default).
    pub fn negotiate(headers: &HeaderMap, query: Option<&str>) -> Fmt {
        let format = query.and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "format")
                .map(|(_, v)| v.to_ascii_lowercase())
        });
        match format.as_deref() {
            Some("json") => return Fmt::Json,
            Some("xml") => return Fmt::Xml,
            _ => {}
        }
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.to_ascii_lowercase().contains("application/json") {
            Fmt::Json
        } else {
            Fmt::Xml
        }
    }
}

const JSON_TYPE: &str = "application/json;charset=UTF-8";
const XML_TYPE: &str = "application/xml;charset=UTF-8";
const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
const WSR_NS: &str = "http://com/exlibris/urm/general/xmlbeans";

/// A path segment: everything but unreserved characters encoded (so a
/// partner code `NLNZ:WLC` links as `NLNZ%3AWLC`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(crate) fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

fn respond(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap(),
    );
    r
}

/// A 200 with `value` as JSON, or as XML under `root`.
pub(crate) fn ok(fmt: Fmt, root: &str, value: &Value) -> Response {
    match fmt {
        Fmt::Json => respond(StatusCode::OK, JSON_TYPE, value.to_string()),
        Fmt::Xml => respond(StatusCode::OK, XML_TYPE, to_xml(root, value)),
    }
}

/// 204 with an empty body.
pub(crate) fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// A list envelope: `{"<key>": [...], "total_record_count": n}`, and just
/// `{"total_record_count": n}` when the page is empty.
pub(crate) fn list(key: &str, items: Vec<Value>, total: usize) -> Value {
    let mut m = Map::new();
    if !items.is_empty() {
        m.insert(key.into(), Value::Array(items));
    }
    m.insert("total_record_count".into(), json!(total));
    Value::Object(m)
}

/// An Alma-style tracking id, `E01-DDMMHHMMSS-XXXXX-AWAE#########`.
pub(crate) fn tracking_id() -> String {
    let b = *uuid::Uuid::new_v4().as_bytes();
    let letters: String = b[..5].iter().map(|x| (b'A' + x % 26) as char).collect();
    let digits = u64::from_le_bytes(b[5..13].try_into().unwrap()) % 1_000_000_000;
    format!(
        "E01-{}-{letters}-AWAE{digits:09}",
        Utc::now().format("%d%m%H%M%S")
    )
}

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn envelope_json(code: &str, message: &str, tracking: Option<&str>) -> String {
    let mut error = json!({"errorCode": code, "errorMessage": message});
    if let Some(t) = tracking {
        error["trackingId"] = json!(t);
    }
    json!({"errorsExist": true, "errorList": {"error": [error]}, "result": null}).to_string()
}

fn envelope_xml(code: &str, message: &str, tracking: Option<&str>) -> String {
    let tracking = tracking
        .map(|t| format!("<trackingId>{}</trackingId>", escape(t)))
        .unwrap_or_default();
    format!(
        "{XML_DECL}\n<web_service_result xmlns=\"{WSR_NS}\"><errorsExist>true</errorsExist>\
         <errorList><error><errorCode>{}</errorCode><errorMessage>{}</errorMessage>{tracking}\
         </error></errorList></web_service_result>",
        escape(code),
        escape(message)
    )
}

/// An Alma error envelope with a tracking id.
pub(crate) fn error_with(fmt: Fmt, status: StatusCode, code: &str, message: &str) -> Response {
    let t = tracking_id();
    match fmt {
        Fmt::Json => respond(status, JSON_TYPE, envelope_json(code, message, Some(&t))),
        Fmt::Xml => respond(status, XML_TYPE, envelope_xml(code, message, Some(&t))),
    }
}

/// A business-rule error: HTTP 400.
pub(crate) fn error(fmt: Fmt, code: &str, message: &str) -> Response {
    error_with(fmt, StatusCode::BAD_REQUEST, code, message)
}

/// The API gateway's answer to a missing or unknown key: XML whatever was
/// asked for, no tracking id, HTTP 400.
pub(crate) fn unauthorized() -> Response {
    respond(
        StatusCode::BAD_REQUEST,
        XML_TYPE,
        envelope_xml(
            "UNAUTHORIZED",
            "API-key not defined or not configured to allow this API.",
            None,
        ),
    )
}

/// 429 over the per-second threshold (no tracking id).
pub(crate) fn per_second_threshold(fmt: Fmt) -> Response {
    let (code, msg) = (
        "PER_SECOND_THRESHOLD",
        "HTTP requests are more than allowed per second. See https://goo.gl/2x1c1M ",
    );
    match fmt {
        Fmt::Json => respond(
            StatusCode::TOO_MANY_REQUESTS,
            JSON_TYPE,
            envelope_json(code, msg, None),
        ),
        Fmt::Xml => respond(
            StatusCode::TOO_MANY_REQUESTS,
            XML_TYPE,
            envelope_xml(code, msg, None),
        ),
    }
}

/// 429 once the daily budget is spent (the real error code is unconfirmed).
pub(crate) fn daily_threshold(fmt: Fmt) -> Response {
    error_with(
        fmt,
        StatusCode::TOO_MANY_REQUESTS,
        "DAILY_THRESHOLD",
        "Daily API request threshold has been reached. For details see: \
         https://developers.exlibrisgroup.com/alma/apis/#threshold",
    )
}

/// The API gateway's page while Alma is unavailable.
pub(crate) fn unavailable() -> Response {
    respond(
        StatusCode::SERVICE_UNAVAILABLE,
        "text/html;charset=UTF-8",
        "<html><head><title>503 Service Temporarily Unavailable</title></head>\
         <body><center><h1>503 Service Temporarily Unavailable</h1></center>\
         <hr><center>Layer7-API-Gateway</center></body></html>\n",
    )
}

pub(crate) fn server_error(fmt: Fmt) -> Response {
    error_with(
        fmt,
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_SERVER_ERROR",
        "The web server encountered an unexpected condition that prevented it from \
         fulfilling the request. If the error persists, please use this unique tracking \
         ID when reporting it.",
    )
}

// ---------------------------------------------------------------- XML

fn plural(name: &str) -> String {
    if name.ends_with('s') || name.ends_with('x') {
        format!("{name}es")
    } else {
        format!("{name}s")
    }
}

const ATTR_KEYS: [&str; 5] = ["value", "desc", "link", "name", "description"];

/// `{value, desc, link, name, description}` with scalar members: written as
/// `<k desc=".." link="..">value</k>`.
fn is_code_object(m: &Map<String, Value>) -> bool {
    m.iter()
        .all(|(k, v)| ATTR_KEYS.contains(&k.as_str()) && !v.is_object() && !v.is_array())
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn write_element(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Null => {}
        Value::Array(items) => {
            let wrapper = plural(name);
            if items.is_empty() {
                out.push_str(&format!("<{wrapper}/>"));
            } else {
                out.push_str(&format!("<{wrapper}>"));
                for item in items {
                    write_element(out, name, item);
                }
                out.push_str(&format!("</{wrapper}>"));
            }
        }
        Value::Object(m) if is_code_object(m) => {
            out.push('<');
            out.push_str(name);
            for (k, a) in m {
                if k == "value" {
                    continue;
                }
                if let Some(a) = scalar_text(a) {
                    out.push_str(&format!(" {k}=\"{}\"", escape(&a)));
                }
            }
            match m.get("value").and_then(scalar_text) {
                Some(text) => out.push_str(&format!(">{}</{name}>", escape(&text))),
                None => out.push_str("/>"),
            }
        }
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, child) in m {
                write_element(out, k, child);
            }
            out.push_str(&format!("</{name}>"));
        }
        scalar => {
            let text = scalar_text(scalar).unwrap_or_default();
            if text.is_empty() {
                out.push_str(&format!("<{name}/>"));
            } else {
                out.push_str(&format!("<{name}>{}</{name}>", escape(&text)));
            }
        }
    }
}

/// `value` as an XML document with root element `root`. A list envelope's
/// items are the root's children (`<user_requests total_record_count="2">
/// <user_request>…`).
pub(crate) fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::from(XML_DECL);
    out.push('\n');
    let Value::Object(m) = value else {
        write_element(&mut out, root, value);
        return out;
    };
    match m.get("total_record_count") {
        Some(total) => {
            out.push_str(&format!(
                "<{root} total_record_count=\"{}\">",
                scalar_text(total).unwrap_or_default()
            ));
            for (k, child) in m {
                match child {
                    Value::Array(items) => items.iter().for_each(|i| write_element(&mut out, k, i)),
                    _ if k == "total_record_count" => {}
                    other => write_element(&mut out, k, other),
                }
            }
            out.push_str(&format!("</{root}>"));
        }
        None => write_element(&mut out, root, value),
    }
    out
}

// ---------------------------------------------------------------- dates

/// `xs:date` as Alma writes it: `2026-09-14Z`.
pub(crate) fn date(t: &DateTime<Utc>) -> String {
    format!("{}Z", t.format("%Y-%m-%d"))
}

/// RFC 3339, with milliseconds or without.
pub(crate) fn time(t: &DateTime<Utc>, millis: bool) -> String {
    let f = if millis {
        SecondsFormat::Millis
    } else {
        SecondsFormat::Secs
    };
    t.to_rfc3339_opts(f, true)
}

// ---------------------------------------------------------------- code tables

/// (table, description, rows of (code, description)).
type Table = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const MANDATORY_BORROWING: &[(&str, &str)] = &[
    ("REQUEST_CREATED_BOR", "Created borrowing request"),
    ("READY_TO_SEND", "Ready to be sent"),
    ("REQUEST_SENT", "Request sent to partner"),
    ("SHIPPED_PHYSICALLY", "Shipped physically"),
    ("SHIPPED_DIGITALLY", "Shipped digitally"),
    ("RECEIVED_PHYSICALLY", "Physically received by library"),
    ("RECEIVED_DIGITALLY", "Digitally received by library"),
    ("LOANED", "Loaned item to patron"),
    ("RETURNED_BY_PATRON", "Returned by patron"),
    ("RETURNED_TO_PARTNER", "Returned item to partner"),
    ("REQUEST_COMPLETED", "Request completed"),
    ("CANCELED_BY_PATRON", "Canceled by patron"),
    ("CANCELED_BY_STAFF", "Canceled by staff"),
    ("CANCELED_BY_PARTNER", "Canceled by partner"),
    ("REJECTED", "Rejected by partner"),
    ("EXPIRED", "Expired"),
];

const OPTIONAL_BORROWING: &[(&str, &str)] = &[
    ("PENDING_APPROVAL", "Pending approval"),
    ("LOCATE_IN_PROCESS", "Locate in process"),
    ("LOCATE_FAILED", "Locate failed"),
    ("IN_PROCESS", "In process"),
    ("WILL_SUPPLY", "Will supply"),
    ("CONDITIONAL", "Conditional"),
    ("RENEW_REQUESTED", "Renew requested"),
    ("RENEWED_BY_PARTNER", "Renewed by partner"),
    ("RENEW_REQUEST_NOT_ACCEPTED", "Renew request not accepted"),
    ("RECALLED_BOR", "Recalled by partner"),
    ("OVERDUE_REQUEST", "Overdue request"),
];

const MANDATORY_LENDING: &[(&str, &str)] = &[
    ("REQUEST_CREATED_LEND", "Created lending request"),
    ("LOCATE_FAILED", "Locate failed"),
    ("SHIPPED_PHYSICALLY", "Shipped Physically"),
    ("SHIPPED_DIGITALLY", "Shipped Digitally"),
    ("RETURNED_BY_PARTNER", "Returned by partner"),
    ("REQUEST_COMPLETED", "Request completed"),
    ("CANCELLED", "Cancelled"),
    ("REJECTED", "Rejected"),
];

const CANCELLATION_REASONS: &[(&str, &str)] = &[
    ("CancelledAtPatronRequest", "Cancelled at patron's request"),
    (
        "RequestedMaterialCannotBeLocated",
        "Requested material cannot be located",
    ),
    ("LibraryCancelled", "Cancelled by the library"),
    ("PatronNotEligible", "Patron not eligible"),
];

const LEVEL_OF_SERVICE: &[(&str, &str)] = &[
    ("NORMAL_LOCAL", "Normal"),
    ("RUSH_LOCAL", "Rush"),
    ("EXPRESS_LOCAL", "Express"),
    ("WHEN_CONVINIENT", "When convenient"),
];

const REQUEST_FORMATS: &[(&str, &str)] = &[
    ("PHYSICAL", "Physical"),
    ("DIGITAL", "Digital"),
    ("PHYSICAL_NON_RETURNABLE", "Physical non-returnable"),
];

const BORROWING_CITATION_TYPES: &[(&str, &str)] = &[
    ("BK", "Physical Book"),
    ("CR", "Physical Article"),
    ("E_BK", "Electronic Book"),
    ("E_CR", "Electronic Article"),
];

const LENDING_CITATION_TYPES: &[(&str, &str)] = &[("BOOK", "Book"), ("JOURNAL", "Journal")];

const LIBRARIES: &[(&str, &str)] = &[
    ("MAIN", "Main Library"),
    ("RES_SHARE", "Resource Sharing Library"),
    ("SCIENCE", "Science Library"),
];

const TABLES: &[Table] = &[
    (
        "MandatoryBorrowingWorkflowSteps",
        "Mandatory borrowing workflow steps",
        MANDATORY_BORROWING,
    ),
    (
        "OptionalBorrowingWorkflowSteps",
        "Optional borrowing workflow steps",
        OPTIONAL_BORROWING,
    ),
    (
        "MandatoryLendingWorkflowSteps",
        "Mandatory lending workflow steps",
        MANDATORY_LENDING,
    ),
    (
        "RequestCancellationReasons",
        "Request cancellation reasons",
        CANCELLATION_REASONS,
    ),
    ("LevelOfService", "Level of service", LEVEL_OF_SERVICE),
    ("RequestFormats", "Request formats", REQUEST_FORMATS),
    (
        "PhysicalReadingListCitationTypes",
        "Citation types",
        BORROWING_CITATION_TYPES,
    ),
    ("PR_CitationType", "Citation types", LENDING_CITATION_TYPES),
];

fn lookup(rows: &[(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    rows.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

/// The label of a borrowing or lending status code; `None` if unknown.
pub(crate) fn status_desc(code: &str) -> Option<&'static str> {
    lookup(MANDATORY_BORROWING, code)
        .or_else(|| lookup(OPTIONAL_BORROWING, code))
        .or_else(|| lookup(MANDATORY_LENDING, code))
}

pub(crate) fn is_borrowing_citation_type(code: &str) -> bool {
    lookup(BORROWING_CITATION_TYPES, code).is_some()
}

pub(crate) fn is_lending_citation_type(code: &str) -> bool {
    lookup(LENDING_CITATION_TYPES, code).is_some()
}

pub(crate) fn is_format(code: &str) -> bool {
    lookup(REQUEST_FORMATS, code).is_some()
}

pub(crate) fn library_desc(code: &str) -> &str {
    lookup(LIBRARIES, code).unwrap_or(code)
}

/// `GET /conf/code-tables/{name}` as JSON (`None` for an unknown table).
pub(crate) fn code_table(name: &str) -> Option<Value> {
    let (name, description, rows) = TABLES.iter().find(|(n, _, _)| *n == name)?;
    let rows: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (code, desc))| {
            json!({"code": code, "description": desc, "default": i == 0, "enabled": true})
        })
        .collect();
    Some(json!({
        "name": name,
        "description": description,
        "sub_system": {"value": "FULFILLMENT", "desc": "Fulfillment"},
        "patron_facing": name.contains("Reason") || name.contains("Service"),
        "language": {"value": "en", "desc": "English"},
        "scope": {"institution_id": {"value": "01SIM_INST", "desc": "Simulated institution"}},
        "row": rows,
    }))
}

/// `{value, desc}` for a code-table member of an RS request.
fn code_object(key: &str, code: &str, lending: bool) -> Value {
    let desc = match key {
        "format" | "supplied_format" => lookup(REQUEST_FORMATS, code),
        "citation_type" if lending => lookup(LENDING_CITATION_TYPES, code),
        "citation_type" => lookup(BORROWING_CITATION_TYPES, code),
        "level_of_service" => lookup(LEVEL_OF_SERVICE, code),
        "pickup_location" | "reading_room" => lookup(LIBRARIES, code),
        _ => None,
    };
    json!({"value": code, "desc": desc.unwrap_or(code)})
}

// ---------------------------------------------------------------- RS requests

/// Code-table members of the RS request (input `{"value": ...}`).
pub(crate) const CODE_FIELDS: [&str; 9] = [
    "format",
    "citation_type",
    "preferred_send_method",
    "requested_language",
    "pickup_location",
    "reading_room",
    "fund",
    "copyright_status",
    "level_of_service",
];

/// Plain string members, returned exactly as sent.
pub(crate) const STRING_FIELDS: [&str; 47] = [
    "owner",
    "pickup_location_type",
    "requested_media",
    "last_interest_date",
    "text_email",
    "text_postal_1",
    "text_postal_2",
    "text_postal_3",
    "text_postal_4",
    "note",
    "mms_id",
    "barcode",
    "title",
    "journal_title",
    "author",
    "author_initials",
    "editor",
    "issn",
    "isbn",
    "doi",
    "pmid",
    "oclc_number",
    "lcc_number",
    "year",
    "publisher",
    "place_of_publication",
    "edition",
    "volume",
    "issue",
    "part",
    "pages",
    "start_page",
    "end_page",
    "chapter",
    "chapter_title",
    "chapter_author",
    "series_title_number",
    "source",
    "additional_person_name",
    "call_number",
    "bib_note",
    "other_standard_id",
    "remote_record_id",
    "reading_room_note",
    "request_note",
    "requested_language_note",
    "specific_edition_note",
];

/// Boolean and numeric members.
pub(crate) const OTHER_FIELDS: [&str; 6] = [
    "allow_other_formats",
    "use_alternative_address",
    "agree_to_copyright_terms",
    "willing_to_pay",
    "maximum_fee",
    "specific_edition",
];

/// Members the 2018 rendering always carries, as `null` when unset (the
/// keys of `task_list_lending_requests_created.json`).
const NULLED_STRINGS: [&str; 23] = [
    "note",
    "mms_id",
    "barcode",
    "title",
    "issn",
    "isbn",
    "author",
    "year",
    "publisher",
    "place_of_publication",
    "edition",
    "volume",
    "journal_title",
    "issue",
    "chapter",
    "editor",
    "pages",
    "part",
    "source",
    "doi",
    "pmid",
    "lcc_number",
    "oclc_number",
];

fn partner_value(data: &Data, api: &str, code: &str) -> Value {
    let name = data
        .partners
        .get(code)
        .and_then(|p| p.pointer("/partner_details/name"))
        .and_then(Value::as_str)
        .unwrap_or(code);
    json!({"value": code, "desc": name, "link": format!("{api}/partners/{}", seg(code))})
}

/// The full RS request object (borrowing or lending).
pub(crate) fn rs_request(data: &Data, api: &str, r: &RsRequest) -> Value {
    let nulls = r.style == NullStyle::Nulls;
    let mut m = Map::new();
    let put = |m: &mut Map<String, Value>, k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put(&mut m, "request_id", json!(r.id));
    put(&mut m, "external_id", json!(r.external_id));
    put(&mut m, "created_date", json!(date(&r.created)));
    put(&mut m, "last_modified_date", json!(date(&r.modified)));
    // Both date-time spellings: one member with milliseconds, one without.
    put(&mut m, "created_time", json!(time(&r.created, nulls)));
    put(
        &mut m,
        "last_modified_time",
        json!(time(&r.modified, !nulls)),
    );
    put(
        &mut m,
        "status",
        json!({"value": r.status, "desc": status_desc(&r.status).unwrap_or(r.status.as_str())}),
    );
    match &r.partner {
        Some(code) => put(&mut m, "partner", partner_value(data, api, code)),
        None if nulls => put(
            &mut m,
            "partner",
            json!({"value": null, "desc": null, "link": null}),
        ),
        None => put(&mut m, "partner", json!({})),
    }
    put(
        &mut m,
        "user_request",
        if nulls {
            json!({"value": null, "link": null})
        } else {
            json!({})
        },
    );
    match (&r.user_id, nulls) {
        (Some(u), _) => {
            let desc = data
                .users
                .get(u)
                .map(|x| format!("{} {}", x.first_name, x.last_name))
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| u.clone());
            put(
                &mut m,
                "requester",
                json!({"value": u, "desc": desc, "link": format!("{api}/users/{}", seg(u))}),
            );
        }
        (None, true) => put(&mut m, "requester", Value::Null),
        (None, false) => {}
    }
    for key in STRING_FIELDS.iter().chain(OTHER_FIELDS.iter()) {
        if let Some(v) = r.fields.get(*key) {
            put(&mut m, key, v.clone());
        }
    }
    if nulls {
        for key in NULLED_STRINGS {
            m.entry(key).or_insert(Value::Null);
        }
    }
    m.entry("requested_media").or_insert(json!("7"));
    m.entry("allow_other_formats").or_insert(json!(false));
    for key in CODE_FIELDS {
        match r.field(key) {
            Some(code) => put(&mut m, key, code_object(key, code, r.lending)),
            None if key == "level_of_service" && nulls => {
                put(&mut m, key, json!({"value": null, "desc": ""}))
            }
            None if key == "level_of_service" => put(&mut m, key, json!({"desc": ""})),
            None if key == "copyright_status" && nulls => {
                put(&mut m, key, json!({"value": null, "desc": null}))
            }
            None if key == "copyright_status" => put(&mut m, key, json!({})),
            None => {}
        }
    }
    let shipped = r.status.starts_with("SHIPPED")
        || r.status.starts_with("RECEIVED")
        || matches!(r.status.as_str(), "LOANED" | "RETURNED_BY_PATRON");
    let supplied = if shipped {
        code_object("supplied_format", r.format(), r.lending)
    } else if nulls {
        json!({"value": null, "desc": null})
    } else {
        json!({})
    };
    put(&mut m, "supplied_format", supplied);
    put(
        &mut m,
        "shipping_cost",
        match (r.shipping_cost, nulls) {
            (Some(sum), _) => json!({"sum": sum, "currency": {"value": "EUR", "desc": "Euro"}}),
            (None, true) => json!({"currency": {"value": null, "desc": null}}),
            (None, false) => json!({"sum": 0, "currency": {"value": "EUR", "desc": "Euro"}}),
        },
    );
    put(&mut m, "has_active_notes", json!(false));
    put(&mut m, "rs_note", json!([]));
    put(&mut m, "printed", json!(r.printed));
    put(&mut m, "reported", json!(r.reported));
    Value::Object(m)
}

// ---------------------------------------------------------------- user requests

/// The user request linked to a borrowing request. JSON carries
/// `request_status` as a code, XML as a label (as Alma does).
pub(crate) fn user_request(api: &str, ur_id: &str, r: &RsRequest, fmt: Fmt) -> Value {
    let user = r.user_id.clone().unwrap_or_default();
    let history = is_final(&r.status);
    let (code, label) = match (history, r.status.as_str()) {
        (true, _) => ("HISTORY", "History"),
        (false, "REQUEST_CREATED_BOR") => ("NOT_STARTED", "Not Started"),
        (false, _) => ("IN_PROCESS", "In Process"),
    };
    let status = if fmt == Fmt::Xml { label } else { code };
    let pickup = r.field("pickup_location").unwrap_or("MAIN");
    let owner = r.field("owner").unwrap_or("RES_SHARE");
    let digital = r.format() == "DIGITAL";
    let mut v = json!({
        "user_primary_id": user,
        "request_id": ur_id,
        "additional_id": format!("{}-{}", &ur_id[..3], &ur_id[3..]),
        "request_type": if digital { "DIGITIZATION" } else { "HOLD" },
        "request_sub_type": {"value": "RESOURCE_SHARING", "desc": "Resource sharing request"},
        "title": r.title().map(str::to_string),
        "author": r.field("author"),
        "pickup_location": library_desc(pickup),
        "pickup_location_type": r.field("pickup_location_type").unwrap_or("LIBRARY"),
        "pickup_location_library": pickup,
        "managed_by_library": library_desc(owner),
        "managed_by_library_code": owner,
        "managed_by_circulation_desk": "Resource sharing desk",
        "managed_by_circulation_desk_code": "RS_DESK",
        "material_type": if r.field("citation_type").is_some_and(|c| c.ends_with("CR")) {
            json!({"value": "ARTICLE", "desc": "Article"})
        } else {
            json!({"value": "BOOK", "desc": "Book"})
        },
        "request_status": status,
        "request_date": date(&r.created),
        "request_time": time(&r.created, true),
        "task_name": "Resource Sharing Request",
        "expiry_date": date(&(r.created + chrono::Duration::days(90))),
        "resource_sharing": {
            "id": r.id,
            "status": {"value": r.status, "desc": status_desc(&r.status).unwrap_or(r.status.as_str())},
            "link": format!("{api}/users/{}/resource-sharing-requests/{}", seg(&user), r.id),
        },
    });
    let m = v.as_object_mut().unwrap();
    for (from, to) in [
        ("mms_id", "mms_id"),
        ("volume", "volume"),
        ("issue", "issue"),
        ("part", "part"),
        ("year", "date_of_publication"),
        ("last_interest_date", "last_interest_date"),
        ("note", "comment"),
    ] {
        if let Some(s) = r.field(from) {
            m.insert(to.into(), json!(s));
        }
    }
    if r.field("journal_title").is_some() {
        m.insert("chapter_or_article_title".into(), json!(r.field("title")));
    }
    m.retain(|_, v| !v.is_null());
    v
}

// ---------------------------------------------------------------- loans

/// An `item_loan`, in the member names of `loans.json` (including
/// `location_code.name` and `item_policy.description`). `renewable` is only
/// filled in when asked for (`expand=renewable`).
pub(crate) fn loan(
    api: &str,
    data: &Data,
    l: &Loan,
    expand_renewable: bool,
    max_renewals: u32,
    rs_library: &str,
) -> Value {
    let nulls = l.style == NullStyle::Nulls;
    let renewable = expand_renewable.then(|| l.renewable && l.renewals < max_renewals);
    let mut v = json!({
        "loan_id": l.id,
        "user_id": l.user_id,
        "item_barcode": l.barcode,
        "mms_id": l.mms_id,
        "title": l.title,
        "author": l.author,
        "description": null,
        "circ_desk": if nulls {
            json!({"value": null, "desc": null})
        } else {
            json!({"value": "DEFAULT_CIRC_DESK", "desc": "Resource sharing desk"})
        },
        "library": {"value": rs_library, "desc": library_desc(rs_library)},
        "location_code": {"value": "RS_BOR", "name": "Borrowing Resource Sharing Requests"},
        "item_policy": if l.renewable {
            json!({"value": "ILL", "description": "Interlibrary loan"})
        } else {
            json!({"value": "ILL_NO_RENEW", "description": "Interlibrary loan, not renewable"})
        },
        "loan_date": time(&l.loan_date, true),
        "due_date": time(&l.due, false),
        "loan_status": if l.returned.is_some() { "COMPLETE" } else { "ACTIVE" },
        "process_status": if l.renewals > 0 { "RENEW" } else { "NORMAL" },
        "renewable": renewable,
    });
    let m = v.as_object_mut().unwrap();
    if let Some(t) = l.returned {
        m.insert("return_date".into(), json!(time(&t, false)));
    }
    if let Some(t) = l.last_renew {
        m.insert("last_renew_date".into(), json!(time(&t, true)));
    }
    // `call_number` / `publication_year` are missing from some real loans.
    if !nulls {
        m.insert("call_number".into(), json!("ILL"));
    }
    let linked = l
        .rs_request_id
        .as_ref()
        .and_then(|id| data.borrowing.get(id))
        .and_then(|r| Some((r.user_id.clone()?, r.user_request_id.clone()?, r)));
    if let Some((user, ur, r)) = linked {
        if let Some(y) = r.field("year") {
            m.insert("publication_year".into(), json!(y));
        }
        m.insert(
            "request_id".into(),
            json!({"value": ur, "link": format!("{api}/users/{}/requests/{ur}", seg(&user))}),
        );
    }
    if !nulls {
        m.retain(|k, v| !v.is_null() || k == "renewable" || k == "description");
    }
    v
}

// ---------------------------------------------------------------- users

pub(crate) fn user(api: &str, id: &str, u: &User) -> Value {
    let full = format!("{} {}", u.first_name, u.last_name)
        .trim()
        .to_string();
    let mut v = json!({
        "primary_id": id,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "full_name": if full.is_empty() { id.to_string() } else { full },
        "user_group": {"value": "STAFF_STUDENT", "desc": "Student"},
        "account_type": {"value": "INTERNAL", "desc": "Internal"},
        "status": {"value": "ACTIVE", "desc": "Active"},
        "preferred_language": {"value": "fi", "desc": "Finnish"},
        "link": format!("{api}/users/{}", seg(id)),
    });
    if let Some(e) = &u.email {
        v["contact_info"] = json!({"email": [{
            "email_address": e, "preferred": true, "description": null,
            "email_type": [{"value": "personal", "desc": "Personal"}]
        }]});
    }
    v
}
