//! Alma's JSON, as serde types (alma-api.md §1.4, §10). Output types are
//! forgiving: every member is optional, code tables may be `null`, `{}`,
//! `{"desc": ""}` or a bare string, lists may be absent or `null`, and free
//! text may come as a number. Input types send only what is set, code tables
//! as `{"value": ..}`, and `owner` / `pickup_location_type` as plain strings.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

// --- Scalars -------------------------------------------------------------

/// Free text that Alma may send as a string, number or boolean (or null).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
        Some(other) => Some(other.to_string()),
    })
}

/// A list that may be absent or `null`: both read as empty.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A boolean Alma may send as `true`, `"true"`, `"Y"` or `null`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "y" | "yes" => Some(true),
            "false" | "n" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// A count Alma may send as a number or a string.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Alma's `xs:date`: `2018-10-10Z` (also accepted: `2018-10-10`, an offset
/// instead of `Z`, or a whole date-time, whose date is taken).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let head = s.get(..10)?;
    let date = NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()?;
    let rest = &s[10..];
    let ok = rest.is_empty()
        || rest == "Z"
        || rest.starts_with('+')
        || rest.starts_with('-')
        || rest.starts_with('T');
    ok.then_some(date)
}

/// Alma's date-times: RFC 3339 with or without milliseconds; a time
/// without an offset is taken as UTC.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// `YYYY-MM-DDZ`, as Alma writes dates.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%dZ").to_string()
}

/// (De)serialises `Option<NaiveDate>` as Alma's `YYYY-MM-DDZ`. An
/// unreadable date reads as `None` rather than failing the whole object.
pub mod alma_date {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_date(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Ok(opt_string(d)?.as_deref().and_then(parse_date))
    }
}

/// Deserialises `Option<DateTime<Utc>>` from Alma's date-times (with or
/// without milliseconds); serialises as RFC 3339 with milliseconds.
pub mod alma_datetime {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(opt_string(d)?.as_deref().and_then(parse_datetime))
    }
}

// --- Code tables ---------------------------------------------------------

/// A code-table value: `{"value": "DIGITAL", "desc": "Digital"}`, with
/// `link` on some, and `name` / `description` instead of `desc` on loans'
/// `location_code` / `item_policy`. Read from an object (any member may be
/// missing or null) or a bare string (taken as the value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CodeValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[derive(Deserialize)]
struct CodeValueObject {
    #[serde(default, deserialize_with = "opt_string")]
    value: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    desc: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    link: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CodeValueRepr {
    Plain(String),
    Object(CodeValueObject),
}

impl<'de> Deserialize<'de> for CodeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match CodeValueRepr::deserialize(d)? {
            CodeValueRepr::Plain(value) => CodeValue {
                value: Some(value),
                ..Default::default()
            },
            CodeValueRepr::Object(o) => CodeValue {
                value: o.value,
                desc: o.desc.or(o.name).or(o.description),
                link: o.link,
            },
        })
    }
}

impl CodeValue {
    /// The code, when there is a non-empty one.
    pub fn code(&self) -> Option<&str> {
        self.value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// The code of an optional code-table member.
pub fn code(v: &Option<CodeValue>) -> Option<&str> {
    v.as_ref().and_then(CodeValue::code)
}

/// A code table as sent to Alma: the value only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeIn {
    pub value: String,
}

impl CodeIn {
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
        }
    }
}

// --- Resource-sharing requests (borrowing and lending) ------------------

/// `shipping_cost`: `{sum, currency{value, desc}}`, `sum` often missing.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Amount {
    #[serde(default)]
    pub sum: Option<serde_json::Number>,
    #[serde(default)]
    pub currency: Option<CodeValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RsNote {
    #[serde(default, deserialize_with = "opt_string")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub created_by: Option<String>,
}

/// A `user_resource_sharing_request` as Alma returns it (GET, and the
/// answer to a create), borrowing or lending.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct RsRequest {
    #[serde(default, deserialize_with = "opt_string")]
    pub request_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub external_id: Option<String>,
    #[serde(default)]
    pub status: Option<CodeValue>,
    /// A plain string (the RS library's code); tolerated as a code table.
    #[serde(default)]
    pub owner: Option<CodeValue>,
    #[serde(default)]
    pub partner: Option<CodeValue>,
    #[serde(default)]
    pub requester: Option<CodeValue>,
    #[serde(default)]
    pub user_request: Option<CodeValue>,
    #[serde(default)]
    pub format: Option<CodeValue>,
    #[serde(default)]
    pub supplied_format: Option<CodeValue>,
    #[serde(default)]
    pub citation_type: Option<CodeValue>,
    #[serde(default)]
    pub pickup_location: Option<CodeValue>,
    #[serde(default, deserialize_with = "opt_string")]
    pub pickup_location_type: Option<String>,
    #[serde(default)]
    pub level_of_service: Option<CodeValue>,
    #[serde(default)]
    pub copyright_status: Option<CodeValue>,
    #[serde(default)]
    pub shipping_cost: Option<Amount>,
    #[serde(default, with = "alma_date")]
    pub last_interest_date: Option<NaiveDate>,
    #[serde(default, with = "alma_date")]
    pub created_date: Option<NaiveDate>,
    #[serde(default, with = "alma_date")]
    pub last_modified_date: Option<NaiveDate>,
    #[serde(default, with = "alma_datetime")]
    pub created_time: Option<DateTime<Utc>>,
    #[serde(default, with = "alma_datetime")]
    pub last_modified_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub agree_to_copyright_terms: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub allow_other_formats: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub printed: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub reported: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub has_active_notes: Option<bool>,
    #[serde(default, deserialize_with = "list")]
    pub rs_note: Vec<RsNote>,
    #[serde(default, deserialize_with = "opt_string")]
    pub requested_media: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub text_email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub mms_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub barcode: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub journal_title: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub chapter_title: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub chapter_author: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub chapter: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub author: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub editor: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub issn: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub isbn: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub doi: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub pmid: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub oclc_number: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub lcc_number: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub year: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub publisher: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub place_of_publication: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub edition: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub volume: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub issue: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub part: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub pages: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub start_page: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub end_page: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub source: Option<String>,
}

/// A list of RS requests (the lending task list).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct RsRequestList {
    #[serde(default, deserialize_with = "list")]
    pub user_resource_sharing_request: Vec<RsRequest>,
    #[serde(default, deserialize_with = "opt_u64")]
    pub total_record_count: Option<u64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The body of a create (`POST /users/{id}/resource-sharing-requests` and
/// `POST /partners/{code}/lending-requests`): only what is set is sent;
/// `owner` and `pickup_location_type` are plain strings, code tables
/// `{"value": ..}`, dates `YYYY-MM-DDZ`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RsRequestInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<CodeIn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<CodeIn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation_type: Option<CodeIn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup_location_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup_location: Option<CodeIn>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "alma_date::serialize"
    )]
    pub last_interest_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agree_to_copyright_terms: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_other_formats: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chapter_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chapter_author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isbn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_of_publication: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// Sent only when true (a book request may name a specific edition).
    #[serde(skip_serializing_if = "is_false")]
    pub specific_edition: bool,
}

// --- Loans -----------------------------------------------------------------

/// An `item_loan` (alma-api.md §3.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ItemLoan {
    #[serde(default, deserialize_with = "opt_string")]
    pub loan_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub user_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub item_barcode: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub mms_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub author: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub publication_year: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub call_number: Option<String>,
    #[serde(default)]
    pub circ_desk: Option<CodeValue>,
    #[serde(default)]
    pub library: Option<CodeValue>,
    #[serde(default)]
    pub location_code: Option<CodeValue>,
    #[serde(default)]
    pub item_policy: Option<CodeValue>,
    #[serde(default)]
    pub request_id: Option<CodeValue>,
    #[serde(default, with = "alma_datetime")]
    pub loan_date: Option<DateTime<Utc>>,
    #[serde(default, with = "alma_datetime")]
    pub due_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_string")]
    pub loan_status: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub process_status: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub renewable: Option<bool>,
}

/// `rest_item_loans`: an empty list is `{"total_record_count":0}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ItemLoans {
    #[serde(default, deserialize_with = "list")]
    pub item_loan: Vec<ItemLoan>,
    #[serde(default, deserialize_with = "opt_u64")]
    pub total_record_count: Option<u64>,
}

// --- User requests ---------------------------------------------------------

/// `resource_sharing` on a user request: the RS request it stands for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ResourceSharingLink {
    #[serde(default, deserialize_with = "opt_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<CodeValue>,
    #[serde(default, deserialize_with = "opt_string")]
    pub link: Option<String>,
}

/// A `user_request` (alma-api.md §3.4), the members Kauko reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct UserRequest {
    #[serde(default, deserialize_with = "opt_string")]
    pub request_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub user_primary_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub request_type: Option<String>,
    #[serde(default)]
    pub request_sub_type: Option<CodeValue>,
    #[serde(default, deserialize_with = "opt_string")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub request_status: Option<String>,
    #[serde(default, with = "alma_datetime")]
    pub request_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub resource_sharing: Option<ResourceSharingLink>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct UserRequests {
    #[serde(default, deserialize_with = "list")]
    pub user_request: Vec<UserRequest>,
    #[serde(default, deserialize_with = "opt_u64")]
    pub total_record_count: Option<u64>,
}

impl UserRequests {
    /// Reads the XML rendering (`<user_requests total_record_count="n">`),
    /// which Alma sends when JSON is not negotiated: the members Kauko
    /// reads, code tables as text plus a `desc` attribute.
    pub fn from_xml(xml: &str) -> Result<Self, String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xml);
        reader.config_mut().trim_text(true);
        let mut out = UserRequests::default();
        let mut path: Vec<String> = Vec::new();
        loop {
            match reader.read_event().map_err(|e| e.to_string())? {
                Event::Start(e) => {
                    let name = open_element(&e, &path, &mut out);
                    path.push(name);
                }
                Event::Empty(e) => {
                    open_element(&e, &path, &mut out);
                }
                Event::Text(t) => {
                    let text = t
                        .xml_content()
                        .map(|c| c.into_owned())
                        .map_err(|e| e.to_string())?;
                    let names: Vec<&str> = path.iter().map(String::as_str).collect();
                    if let Some(r) = out.user_request.last_mut() {
                        set_user_request_text(r, &names, text);
                    }
                }
                Event::End(_) => {
                    path.pop();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Notes what an opening tag tells: the list count, a new user request, and
/// the `desc` attribute of a code table. Returns the element's name.
fn open_element(
    e: &quick_xml::events::BytesStart<'_>,
    path: &[String],
    out: &mut UserRequests,
) -> String {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut desc = None;
    for attr in e.attributes().flatten() {
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map(|v| v.into_owned())
            .unwrap_or_default();
        match (path.len(), key.as_str()) {
            (0, "total_record_count") => out.total_record_count = value.trim().parse().ok(),
            (_, "desc") => desc = Some(value),
            _ => {}
        }
    }
    if path.len() == 1 && name == "user_request" {
        out.user_request.push(UserRequest::default());
    }
    let Some(r) = out.user_request.last_mut() else {
        return name;
    };
    match (path.len(), name.as_str()) {
        (2, "resource_sharing") => {
            r.resource_sharing.get_or_insert_with(Default::default);
        }
        (2, "request_sub_type") => {
            r.request_sub_type.get_or_insert_with(Default::default).desc = desc;
        }
        (3, "status") if path[2] == "resource_sharing" => {
            if let Some(rs) = r.resource_sharing.as_mut() {
                rs.status.get_or_insert_with(Default::default).desc = desc;
            }
        }
        _ => {}
    }
    name
}

fn set_user_request_text(r: &mut UserRequest, path: &[&str], text: String) {
    let text = Some(text).filter(|t| !t.is_empty());
    match path {
        [_, "user_request", "request_id"] => r.request_id = text,
        [_, "user_request", "user_primary_id"] => r.user_primary_id = text,
        [_, "user_request", "request_type"] => r.request_type = text,
        [_, "user_request", "title"] => r.title = text,
        [_, "user_request", "request_status"] => r.request_status = text,
        [_, "user_request", "request_time"] => {
            r.request_time = text.as_deref().and_then(parse_datetime)
        }
        [_, "user_request", "request_sub_type"] => {
            r.request_sub_type
                .get_or_insert_with(Default::default)
                .value = text
        }
        [_, "user_request", "resource_sharing", member] => {
            let rs = r.resource_sharing.get_or_insert_with(Default::default);
            match *member {
                "id" => rs.id = text,
                "link" => rs.link = text,
                "status" => rs.status.get_or_insert_with(Default::default).value = text,
                _ => {}
            }
        }
        _ => {}
    }
}

// --- Partners --------------------------------------------------------------

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct EmailDetails {
    #[serde(default, deserialize_with = "opt_string")]
    pub email: Option<String>,
}

/// `iso_details` (ISO ILL) and `iso_18626_details` share what Kauko reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct IsoDetails {
    #[serde(default, deserialize_with = "opt_string")]
    pub iso_symbol: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub ill_server: Option<String>,
    #[serde(default, deserialize_with = "opt_u64")]
    pub ill_port: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ProfileDetails {
    #[serde(default, deserialize_with = "opt_string")]
    pub profile_type: Option<String>,
    #[serde(default)]
    pub email_details: Option<EmailDetails>,
    #[serde(default)]
    pub iso_details: Option<IsoDetails>,
    #[serde(default)]
    pub iso_18626_details: Option<IsoDetails>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PartnerDetails {
    #[serde(default, deserialize_with = "opt_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    #[serde(default)]
    pub profile_details: Option<ProfileDetails>,
    #[serde(default)]
    pub system_type: Option<CodeValue>,
    #[serde(default, deserialize_with = "opt_string")]
    pub alternate_symbol: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub borrowing_supported: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub lending_supported: Option<bool>,
    #[serde(default, deserialize_with = "opt_u64")]
    pub avg_supply_time: Option<u64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub holding_code: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PartnerAddress {
    #[serde(default, deserialize_with = "opt_string")]
    pub line1: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub line2: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub line3: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub line4: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub line5: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub state_province: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country: Option<CodeValue>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub preferred: Option<bool>,
}

impl PartnerAddress {
    pub fn lines(&self) -> Vec<String> {
        [
            &self.line1,
            &self.line2,
            &self.line3,
            &self.line4,
            &self.line5,
        ]
        .into_iter()
        .flatten()
        .filter(|l| !l.trim().is_empty())
        .cloned()
        .collect()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PartnerEmail {
    #[serde(default, deserialize_with = "opt_string")]
    pub email_address: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub preferred: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PartnerPhone {
    #[serde(default, deserialize_with = "opt_string")]
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub preferred: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ContactInfo {
    #[serde(default, deserialize_with = "list")]
    pub address: Vec<PartnerAddress>,
    #[serde(default, deserialize_with = "list")]
    pub email: Vec<PartnerEmail>,
    #[serde(default, deserialize_with = "list")]
    pub phone: Vec<PartnerPhone>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PartnerNote {
    #[serde(default, deserialize_with = "opt_string")]
    pub content: Option<String>,
}

/// A `rest_partner`: the typed members Kauko maps, and the whole object as
/// Alma sent it (`raw`), so that an update can change those members and
/// send everything else back untouched (PUT replaces the whole record).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlmaPartner {
    pub details: PartnerDetails,
    pub contact_info: ContactInfo,
    pub notes: Vec<PartnerNote>,
    pub raw: serde_json::Value,
}

#[derive(Deserialize)]
struct PartnerView {
    #[serde(default)]
    partner_details: Option<PartnerDetails>,
    #[serde(default)]
    contact_info: Option<ContactInfo>,
    #[serde(default, deserialize_with = "list")]
    note: Vec<PartnerNote>,
}

impl AlmaPartner {
    pub fn from_value(raw: serde_json::Value) -> Result<Self, serde_json::Error> {
        let view = PartnerView::deserialize(&raw)?;
        Ok(Self {
            details: view.partner_details.unwrap_or_default(),
            contact_info: view.contact_info.unwrap_or_default(),
            notes: view.note,
            raw,
        })
    }
}

/// `rest_partners`: `{"partner": [...], "total_record_count": n}`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PartnerList {
    #[serde(default, deserialize_with = "list")]
    pub partner: Vec<serde_json::Value>,
    #[serde(default, deserialize_with = "opt_u64")]
    pub total_record_count: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_and_write_with_the_trailing_z() {
        let d = NaiveDate::from_ymd_opt(2030, 12, 31).unwrap();
        assert_eq!(format_date(d), "2030-12-31Z");
        for s in [
            "2030-12-31Z",
            "2030-12-31",
            "2030-12-31+02:00",
            "2030-12-31T10:00:00Z",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        for s in ["", "31.12.2030", "2030-12-31Zulu", "2030-13-01Z"] {
            assert_eq!(parse_date(s), None, "{s}");
        }

        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct D {
            #[serde(default, with = "alma_date")]
            d: Option<NaiveDate>,
        }
        assert_eq!(
            serde_json::to_string(&D { d: Some(d) }).unwrap(),
            r#"{"d":"2030-12-31Z"}"#
        );
        assert_eq!(
            serde_json::from_str::<D>(r#"{"d":"2030-12-31Z"}"#).unwrap(),
            D { d: Some(d) }
        );
        assert_eq!(
            serde_json::from_str::<D>(r#"{"d":null}"#).unwrap(),
            D { d: None }
        );
        assert_eq!(serde_json::from_str::<D>("{}").unwrap(), D { d: None });
        assert_eq!(
            serde_json::from_str::<D>(r#"{"d":"soon"}"#).unwrap(),
            D { d: None }
        );
    }

    #[test]
    fn date_times_with_and_without_milliseconds() {
        let with = parse_datetime("2018-10-10T11:11:24.760Z").unwrap();
        let without = parse_datetime("2018-10-10T11:11:24Z").unwrap();
        assert_eq!((with - without).num_milliseconds(), 760);
        assert_eq!(
            parse_datetime("2018-08-14T20:00:00+02:00").unwrap(),
            parse_datetime("2018-08-14T18:00:00Z").unwrap()
        );
        assert_eq!(
            parse_datetime("2018-08-14T20:00:00"),
            parse_datetime("2018-08-14T20:00:00Z")
        );
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn code_tables_in_every_shape() {
        let read = |s: &str| serde_json::from_str::<Option<CodeValue>>(s).unwrap();
        assert_eq!(read("null"), None);
        assert_eq!(read("{}").unwrap(), CodeValue::default());
        assert_eq!(read(r#"{"desc": ""}"#).unwrap().code(), None);
        assert_eq!(
            read(r#"{"value": null, "desc": null}"#).unwrap().code(),
            None
        );
        assert_eq!(read(r#""RES_SHARE""#).unwrap().code(), Some("RES_SHARE"));
        let loc = read(r#"{"value": "k00475", "name": "UREAL Samling 42"}"#).unwrap();
        assert_eq!(loc.desc.as_deref(), Some("UREAL Samling 42"));
        let policy = read(r#"{"value": "ILL", "description": "Interlibrary loan"}"#).unwrap();
        assert_eq!(policy.desc.as_deref(), Some("Interlibrary loan"));
        let partner =
            read(r#"{"value": "NLNZ:WLC", "desc": "x", "link": "https://h/almaws/v1/partners/NLNZ:WLC"}"#)
                .unwrap();
        assert_eq!(partner.code(), Some("NLNZ:WLC"));
        assert!(partner.link.is_some());
    }

    #[test]
    fn an_rs_request_tolerates_nulls_empties_and_numbers() {
        let r: RsRequest = serde_json::from_str(
            r#"{"request_id": 123, "requester": null, "user_request": {}, "rs_note": null,
                "shipping_cost": {"currency": {"value": null}}, "year": 2014,
                "last_interest_date": "2030-12-31Z", "created_time": "2026-01-02T03:04:05Z",
                "agree_to_copyright_terms": "true", "unknown_member": [1, 2]}"#,
        )
        .unwrap();
        assert_eq!(r.request_id.as_deref(), Some("123"));
        assert_eq!(r.year.as_deref(), Some("2014"));
        assert!(r.rs_note.is_empty());
        assert_eq!(r.agree_to_copyright_terms, Some(true));
        assert_eq!(r.last_interest_date, NaiveDate::from_ymd_opt(2030, 12, 31));
    }

    #[test]
    fn an_empty_loan_list_has_no_array() {
        let l: ItemLoans = serde_json::from_str(r#"{"total_record_count":0}"#).unwrap();
        assert!(l.item_loan.is_empty());
        assert_eq!(l.total_record_count, Some(0));
    }

    #[test]
    fn user_requests_from_xml_with_resource_sharing() {
        let xml = r#"<?xml version="1.0"?>
<user_requests total_record_count="2">
  <user_request>
    <request_id>1</request_id>
    <request_type>HOLD</request_type>
    <request_sub_type desc="Patron physical item request">PATRON_PHYSICAL</request_sub_type>
    <material_type/>
    <request_status>In Process</request_status>
  </user_request>
  <user_request>
    <request_id>2</request_id>
    <request_type>HOLD</request_type>
    <resource_sharing>
      <id>RS-9</id>
      <status desc="Locate in process">LOCATE_IN_PROCESS</status>
      <link>https://x/almaws/v1/users/u/resource-sharing-requests/RS-9</link>
    </resource_sharing>
  </user_request>
</user_requests>"#;
        let r = UserRequests::from_xml(xml).unwrap();
        assert_eq!(r.total_record_count, Some(2));
        assert_eq!(r.user_request.len(), 2);
        assert_eq!(r.user_request[0].request_id.as_deref(), Some("1"));
        let sub = r.user_request[0].request_sub_type.as_ref().unwrap();
        assert_eq!(sub.code(), Some("PATRON_PHYSICAL"));
        assert_eq!(sub.desc.as_deref(), Some("Patron physical item request"));
        assert_eq!(
            r.user_request[0].request_status.as_deref(),
            Some("In Process")
        );
        assert!(r.user_request[0].resource_sharing.is_none());
        let rs = r.user_request[1].resource_sharing.as_ref().unwrap();
        assert_eq!(rs.id.as_deref(), Some("RS-9"));
        let status = rs.status.as_ref().unwrap();
        assert_eq!(status.code(), Some("LOCATE_IN_PROCESS"));
        assert_eq!(status.desc.as_deref(), Some("Locate in process"));
    }
}
