//! Alma's errors (alma-api.md §7.1) read from any of their shapes, and
//! their meaning for the port.
//!
//! The envelope is `{"errorsExist": true, "errorList": {"error": [...]}}`,
//! sometimes wrapped in `{"web_service_result": {...}}`, with `error` an
//! array or a single object; authentication failures come as XML whatever
//! was asked for. `errorCode` is a string (numeric or symbolic) and
//! `trackingId` may be missing.

use app::domain::FieldError;
use serde::Deserialize;

use crate::port::{PortError, Refusal};

/// One error from Alma's envelope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlmaError {
    pub code: String,
    pub message: String,
    pub tracking_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

#[derive(Deserialize)]
struct JsonError {
    #[serde(
        default,
        rename = "errorCode",
        deserialize_with = "super::wire::opt_string"
    )]
    code: Option<String>,
    #[serde(
        default,
        rename = "errorMessage",
        deserialize_with = "super::wire::opt_string"
    )]
    message: Option<String>,
    #[serde(
        default,
        rename = "trackingId",
        deserialize_with = "super::wire::opt_string"
    )]
    tracking_id: Option<String>,
}

#[derive(Deserialize)]
struct JsonErrorList {
    #[serde(default)]
    error: Option<OneOrMany<JsonError>>,
}

#[derive(Deserialize)]
struct JsonEnvelope {
    #[serde(default, rename = "errorList")]
    error_list: Option<JsonErrorList>,
    #[serde(default)]
    web_service_result: Option<Box<JsonEnvelope>>,
}

fn from_json(body: &str) -> Option<Vec<AlmaError>> {
    let envelope: JsonEnvelope = serde_json::from_str(body).ok()?;
    let envelope = match envelope.web_service_result {
        Some(inner) => *inner,
        None => envelope,
    };
    let errors = match envelope.error_list?.error? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(e) => vec![e],
    };
    let errors: Vec<AlmaError> = errors
        .into_iter()
        .map(|e| AlmaError {
            code: e.code.unwrap_or_default().trim().to_owned(),
            message: e.message.unwrap_or_default().trim().to_owned(),
            tracking_id: e.tracking_id.filter(|t| !t.trim().is_empty()),
        })
        .collect();
    (!errors.is_empty()).then_some(errors)
}

fn from_xml(body: &str) -> Option<Vec<AlmaError>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().trim_text(true);
    let mut errors: Vec<AlmaError> = Vec::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "error" {
                    errors.push(AlmaError::default());
                }
                current = Some(name);
            }
            Event::Text(t) => {
                let text = t.xml_content().ok()?.trim().to_owned();
                if let (Some(e), Some(field)) = (errors.last_mut(), current.as_deref()) {
                    match field {
                        "errorCode" => e.code = text,
                        "errorMessage" => e.message = text,
                        "trackingId" => e.tracking_id = Some(text).filter(|t| !t.is_empty()),
                        _ => {}
                    }
                }
            }
            Event::End(_) => current = None,
            Event::Eof => break,
            _ => {}
        }
    }
    errors.retain(|e| !e.code.is_empty() || !e.message.is_empty());
    (!errors.is_empty()).then_some(errors)
}

/// The errors in a body, whatever its shape and Content-Type: JSON (plain
/// or wrapped, one error or many), else XML. `None` when it holds none.
pub fn parse_errors(body: &str) -> Option<Vec<AlmaError>> {
    let trimmed = body.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') {
        from_json(trimmed)
    } else if trimmed.starts_with('<') {
        from_xml(trimmed)
    } else {
        None
    }
}

const NOT_FOUND: &[&str] = &["401694", "401823", "402118", "40166450", "401651"];
const REJECTED: &[&str] = &["401664", "401929", "401930", "401897", "401607", "401608"];
const FORBIDDEN: &[&str] = &["60340", "60258"];

/// Translation key of an Alma rejection shown next to a field.
pub const REJECTED_KEY: &str = "error.alma.rejected";

/// The Kauko form field an Alma rejection concerns, guessed from its code
/// and message (e.g. "Mandatory field is missing: title").
pub fn guess_field(error: &AlmaError) -> &'static str {
    match error.code.as_str() {
        "401929" => return "pickup_location",
        "401930" => return "container_title",
        "401607" | "401608" => return "owner",
        _ => {}
    }
    let message = error.message.to_ascii_lowercase();
    // Longest names first, so `journal_title` wins over `title`.
    const FIELDS: &[(&str, &str)] = &[
        ("agree_to_copyright_terms", "copyright"),
        ("copyright", "copyright"),
        ("last_interest_date", "needed_by"),
        ("pickup_location", "pickup_location"),
        ("place_of_publication", "place_of_publication"),
        ("journal_title", "container_title"),
        ("chapter_title", "title"),
        ("citation_type", "kind"),
        ("text_email", "email"),
        ("publisher", "publisher"),
        ("edition", "edition"),
        ("pickup", "pickup_location"),
        ("library", "pickup_location"),
        ("format", "format"),
        ("author", "authors"),
        ("volume", "volume"),
        ("issue", "issue"),
        ("pages", "pages"),
        ("title", "title"),
        ("owner", "owner"),
        ("email", "email"),
        ("year", "year"),
        ("issn", "issn"),
        ("isbn", "isbn"),
        ("pmid", "pmid"),
        ("doi", "doi"),
        ("note", "note"),
    ];
    FIELDS
        .iter()
        .find(|(alma, _)| message.contains(alma))
        .map(|(_, field)| *field)
        .unwrap_or("request")
}

fn is_auth_failure(e: &AlmaError) -> bool {
    e.code.eq_ignore_ascii_case("UNAUTHORIZED")
        || e.message
            .to_ascii_lowercase()
            .contains("api-key not defined")
        || e.message.to_ascii_lowercase().contains("invalid api key")
}

fn describe(e: &AlmaError) -> String {
    if e.message.is_empty() {
        e.code.clone()
    } else {
        format!("{}: {}", e.code, e.message)
    }
}

/// What an error answer means for the port, from the HTTP status and the
/// errors in its body (possibly none).
pub fn to_port_error(status: u16, errors: &[AlmaError]) -> PortError {
    if status == 429
        || errors
            .iter()
            .any(|e| e.code.eq_ignore_ascii_case("PER_SECOND_THRESHOLD"))
    {
        return PortError::RateLimited;
    }
    if let Some(e) = errors.iter().find(|e| is_auth_failure(e)) {
        if matches!(status, 400 | 401 | 403) {
            return PortError::Unauthorized(describe(e));
        }
    }
    if let Some(e) = errors.iter().find(|e| FORBIDDEN.contains(&e.code.as_str())) {
        return PortError::Unauthorized(describe(e));
    }
    if status >= 500 {
        let what = errors
            .first()
            .map(describe)
            .unwrap_or_else(|| format!("HTTP {status}"));
        return PortError::Unavailable(what);
    }
    let Some(first) = errors.first() else {
        return match status {
            401 | 403 => PortError::Unauthorized(format!("HTTP {status}")),
            404 => PortError::NotFound,
            _ => PortError::Other(format!("HTTP {status} without an Alma error")),
        };
    };
    if errors
        .iter()
        .any(|e| e.code == "402362" || e.code == "402113")
    {
        return PortError::Duplicate(describe(first));
    }
    if errors.iter().any(|e| e.code == "401604") {
        return PortError::Refused(Refusal::AvailableLocally);
    }
    if errors.iter().any(|e| e.code == "401822") {
        return PortError::Refused(Refusal::NotRenewable);
    }
    if errors.iter().any(|e| NOT_FOUND.contains(&e.code.as_str())) {
        return PortError::NotFound;
    }
    let rejected: Vec<FieldError> = errors
        .iter()
        .filter(|e| REJECTED.contains(&e.code.as_str()))
        .map(|e| FieldError::new(guess_field(e), REJECTED_KEY))
        .collect();
    if !rejected.is_empty() {
        let mut fields = rejected;
        fields.dedup();
        return PortError::Invalid(fields);
    }
    PortError::Other(format!("HTTP {status}: {}", describe(first)))
}

/// Whether an answer is Alma's "user not found" (`401890`, `401861`).
pub fn is_unknown_user(errors: &[AlmaError]) -> bool {
    errors
        .iter()
        .any(|e| e.code == "401890" || e.code == "401861")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> AlmaError {
        let errors = parse_errors(body).expect("errors found");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap()
    }

    #[test]
    fn the_json_envelope_with_an_array() {
        let e = one(
            r#"{"errorsExist":true,"errorList":{"error":[{"errorCode":"401664","errorMessage":"Mandatory field is missing: library","trackingId":"E01-1"}]},"result":null}"#,
        );
        assert_eq!(e.code, "401664");
        assert_eq!(e.message, "Mandatory field is missing: library");
        assert_eq!(e.tracking_id.as_deref(), Some("E01-1"));
    }

    #[test]
    fn a_single_error_object_and_a_missing_tracking_id() {
        let e = one(
            r#"{"errorsExist":true,"errorList":{"error":{"errorCode":"PER_SECOND_THRESHOLD","errorMessage":"HTTP requests are more than allowed per second"}}}"#,
        );
        assert_eq!(e.code, "PER_SECOND_THRESHOLD");
        assert_eq!(e.tracking_id, None);
        assert_eq!(to_port_error(429, &[e.clone()]), PortError::RateLimited);
        assert_eq!(to_port_error(400, &[e]), PortError::RateLimited);
    }

    #[test]
    fn the_web_service_result_wrapper_and_numeric_codes() {
        let e = one(
            r#"{"web_service_result":{"errorsExist":true,"errorList":{"error":[{"errorCode":402362,"errorMessage":"Failed to save the request: Patron has duplicate request"}]}}}"#,
        );
        assert_eq!(e.code, "402362");
        assert!(matches!(
            to_port_error(400, &[e]),
            PortError::Duplicate(m) if m.contains("duplicate request")
        ));
    }

    #[test]
    fn xml_with_a_namespace_whatever_the_content_type() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<web_service_result xmlns="http://com/exlibris/urm/general/xmlbeans">
  <errorsExist>true</errorsExist>
  <errorList><error><errorCode>UNAUTHORIZED</errorCode>
  <errorMessage>API-key not defined or not configured to allow this API.</errorMessage></error></errorList>
</web_service_result>"#;
        let e = one(xml);
        assert_eq!(e.code, "UNAUTHORIZED");
        assert_eq!(e.tracking_id, None);
        for status in [400, 401, 403] {
            assert!(matches!(
                to_port_error(status, &[e.clone()]),
                PortError::Unauthorized(m) if m.contains("API-key")
            ));
        }
        let e = one(
            r#"<web_service_result xmlns="http://com/exlibris/urm/general/xmlbeans"><errorList><error><errorCode>401664</errorCode><errorMessage>Mandatory field is missing: title</errorMessage><trackingId>E02-x</trackingId></error></errorList></web_service_result>"#,
        );
        assert_eq!(e.tracking_id.as_deref(), Some("E02-x"));
        assert_eq!(
            to_port_error(400, &[e]),
            PortError::Invalid(vec![FieldError::new("title", REJECTED_KEY)])
        );
    }

    #[test]
    fn bodies_without_errors() {
        assert_eq!(parse_errors(""), None);
        assert_eq!(parse_errors("Bad Gateway"), None);
        assert_eq!(parse_errors(r#"{"request_id": "1"}"#), None);
        assert_eq!(parse_errors("<html><body>504</body></html>"), None);
        assert!(matches!(to_port_error(502, &[]), PortError::Unavailable(_)));
        assert!(matches!(
            to_port_error(401, &[]),
            PortError::Unauthorized(_)
        ));
        assert!(matches!(to_port_error(418, &[]), PortError::Other(_)));
    }

    #[test]
    fn codes_map_to_their_meaning() {
        let e = |code: &str, message: &str| AlmaError {
            code: code.into(),
            message: message.into(),
            tracking_id: None,
        };
        let map = |code: &str, message: &str| to_port_error(400, &[e(code, message)]);
        for code in ["401694", "401823", "402118", "40166450", "401651"] {
            assert_eq!(map(code, "x"), PortError::NotFound, "{code}");
        }
        assert_eq!(
            map("401822", "Cannot renew loan"),
            PortError::Refused(Refusal::NotRenewable)
        );
        assert_eq!(
            map(
                "401604",
                "Warning: The institutional inventory has services for the requested title."
            ),
            PortError::Refused(Refusal::AvailableLocally)
        );
        assert_eq!(
            map("401929", "Invalid pickup location"),
            PortError::Invalid(vec![FieldError::new("pickup_location", REJECTED_KEY)])
        );
        assert_eq!(
            map("401897", "Invalid field value. Field: journal_title"),
            PortError::Invalid(vec![FieldError::new("container_title", REJECTED_KEY)])
        );
        assert_eq!(
            map("401897", "Invalid field value"),
            PortError::Invalid(vec![FieldError::new("request", REJECTED_KEY)])
        );
        for code in ["401607", "401608"] {
            assert_eq!(
                map(code, "owner"),
                PortError::Invalid(vec![FieldError::new("owner", REJECTED_KEY)])
            );
        }
        for code in ["60340", "60258"] {
            assert!(matches!(
                map(code, "API restricted"),
                PortError::Unauthorized(_)
            ));
        }
        assert_eq!(
            map("402113", "Partner already exists"),
            PortError::Duplicate("402113: Partner already exists".into())
        );
        assert_eq!(
            map("401652", "General Error"),
            PortError::Other("HTTP 400: 401652: General Error".into())
        );
        assert!(matches!(
            to_port_error(500, &[e("401652", "General Error")]),
            PortError::Unavailable(_)
        ));
        assert!(is_unknown_user(&[e("401890", "User not found")]));
    }
}
