//! Library-type user records as Alma's users API returns them, in JSON
//! (`{"user": [...], "total_record_count": n}`, a bare array, or one user)
//! or XML (`<users total_record_count="n"><user>…</user></users>`, or one
//! `<user>`).
//!
//! What is read from each user:
//! - `primary_id` → partner code; `full_name` (else first and last name,
//!   libraries usually having only the last) → name;
//! - `user_group` (code or description) decides whether the user is a
//!   library: codes `LIBRARY`, `ILL`, `ILL_LIBRARY`, `PARTNER`, or any code
//!   or description containing "librar", "kirjasto" or "bibliotek";
//! - `status` → active / inactive;
//! - the preferred (else first) address, e-mail and phone of `contact_info`;
//! - `user_identifier` of type `ISIL` → ISIL; of type `ISO18626` → the ISO
//!   18626 symbol (which makes the partner ISO 18626), `ISO18626_URL` → its
//!   endpoint;
//! - `user_note` texts → notes (redacted).
//!
//! Alma users can carry a `password`: it is never read.

use serde::Deserialize;

use super::RawRecord;
use crate::partners_import::ImportError;
use app::staff_import::{SourceKind, SourceRef};

/// A code-table value: `{"value", "desc"}` (or a plain string).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(untagged)]
enum Code {
    Object {
        #[serde(default)]
        value: Option<String>,
        #[serde(default)]
        desc: Option<String>,
    },
    Plain(String),
    #[default]
    #[serde(skip)]
    Missing,
}

impl Code {
    fn value(&self) -> Option<&str> {
        match self {
            Code::Object { value, .. } => value.as_deref(),
            Code::Plain(v) => Some(v),
            Code::Missing => None,
        }
    }
    fn desc(&self) -> Option<&str> {
        match self {
            Code::Object { desc, .. } => desc.as_deref(),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct JsonUser {
    #[serde(default)]
    primary_id: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    user_group: Option<Code>,
    #[serde(default)]
    status: Option<Code>,
    /// The language Alma writes to the user in.
    #[serde(default)]
    preferred_language: Option<Code>,
    #[serde(default)]
    contact_info: Option<JsonContact>,
    #[serde(default)]
    user_identifier: Vec<JsonIdentifier>,
    #[serde(default)]
    user_note: Vec<JsonNote>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonContact {
    #[serde(default)]
    address: Vec<JsonAddress>,
    #[serde(default)]
    email: Vec<JsonEmail>,
    #[serde(default)]
    phone: Vec<JsonPhone>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonAddress {
    #[serde(default)]
    line1: Option<String>,
    #[serde(default)]
    line2: Option<String>,
    #[serde(default)]
    line3: Option<String>,
    #[serde(default)]
    line4: Option<String>,
    #[serde(default)]
    line5: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country: Option<Code>,
    #[serde(default)]
    preferred: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonEmail {
    #[serde(default)]
    email_address: Option<String>,
    #[serde(default)]
    preferred: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonPhone {
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(default)]
    preferred: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonIdentifier {
    #[serde(default)]
    id_type: Option<Code>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonNote {
    #[serde(default)]
    note_text: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonFile {
    List {
        #[serde(default)]
        user: Vec<JsonUser>,
        #[allow(dead_code)]
        total_record_count: u64,
    },
    Array(Vec<JsonUser>),
    One(Box<JsonUser>),
}

// --- XML ---------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct XmlCode {
    #[serde(rename = "@desc", default)]
    desc: Option<String>,
    #[serde(rename = "$text", default)]
    value: Option<String>,
}

impl From<XmlCode> for Code {
    fn from(c: XmlCode) -> Self {
        Code::Object {
            value: c.value,
            desc: c.desc,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct XmlUsers {
    #[serde(default)]
    user: Vec<XmlUser>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlUser {
    #[serde(default)]
    primary_id: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    user_group: Option<XmlCode>,
    #[serde(default)]
    status: Option<XmlCode>,
    #[serde(default)]
    preferred_language: Option<XmlCode>,
    #[serde(default)]
    contact_info: Option<XmlContact>,
    #[serde(default)]
    user_identifiers: Option<XmlIdentifiers>,
    #[serde(default)]
    user_notes: Option<XmlNotes>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlContact {
    #[serde(default)]
    addresses: Option<XmlAddresses>,
    #[serde(default)]
    emails: Option<XmlEmails>,
    #[serde(default)]
    phones: Option<XmlPhones>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlAddresses {
    #[serde(default)]
    address: Vec<XmlAddress>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlAddress {
    #[serde(rename = "@preferred", default)]
    preferred: Option<String>,
    #[serde(default)]
    line1: Option<String>,
    #[serde(default)]
    line2: Option<String>,
    #[serde(default)]
    line3: Option<String>,
    #[serde(default)]
    line4: Option<String>,
    #[serde(default)]
    line5: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country: Option<XmlCode>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlEmails {
    #[serde(default)]
    email: Vec<XmlEmail>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlEmail {
    #[serde(rename = "@preferred", default)]
    preferred: Option<String>,
    #[serde(default)]
    email_address: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlPhones {
    #[serde(default)]
    phone: Vec<XmlPhone>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlPhone {
    #[serde(rename = "@preferred", default)]
    preferred: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlIdentifiers {
    #[serde(default)]
    user_identifier: Vec<XmlIdentifier>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlIdentifier {
    #[serde(default)]
    id_type: Option<XmlCode>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlNotes {
    #[serde(default)]
    user_note: Vec<XmlNote>,
}

#[derive(Debug, Default, Deserialize)]
struct XmlNote {
    #[serde(default)]
    note_text: Option<String>,
}

fn xml_bool(s: &Option<String>) -> Option<bool> {
    s.as_deref().map(|v| v.trim().eq_ignore_ascii_case("true"))
}

impl From<XmlUser> for JsonUser {
    fn from(u: XmlUser) -> Self {
        let contact = u.contact_info.unwrap_or_default();
        JsonUser {
            primary_id: u.primary_id,
            full_name: u.full_name,
            first_name: u.first_name,
            last_name: u.last_name,
            user_group: u.user_group.map(Code::from),
            status: u.status.map(Code::from),
            preferred_language: u.preferred_language.map(Code::from),
            contact_info: Some(JsonContact {
                address: contact
                    .addresses
                    .unwrap_or_default()
                    .address
                    .into_iter()
                    .map(|a| JsonAddress {
                        preferred: xml_bool(&a.preferred),
                        line1: a.line1,
                        line2: a.line2,
                        line3: a.line3,
                        line4: a.line4,
                        line5: a.line5,
                        city: a.city,
                        postal_code: a.postal_code,
                        country: a.country.map(Code::from),
                    })
                    .collect(),
                email: contact
                    .emails
                    .unwrap_or_default()
                    .email
                    .into_iter()
                    .map(|e| JsonEmail {
                        preferred: xml_bool(&e.preferred),
                        email_address: e.email_address,
                    })
                    .collect(),
                phone: contact
                    .phones
                    .unwrap_or_default()
                    .phone
                    .into_iter()
                    .map(|p| JsonPhone {
                        preferred: xml_bool(&p.preferred),
                        phone_number: p.phone_number,
                    })
                    .collect(),
            }),
            user_identifier: u
                .user_identifiers
                .unwrap_or_default()
                .user_identifier
                .into_iter()
                .map(|i| JsonIdentifier {
                    id_type: i.id_type.map(Code::from),
                    value: i.value,
                })
                .collect(),
            user_note: u
                .user_notes
                .unwrap_or_default()
                .user_note
                .into_iter()
                .map(|n| JsonNote {
                    note_text: n.note_text,
                })
                .collect(),
        }
    }
}

/// The name of the XML document's root element.
fn xml_root(text: &str) -> Option<&str> {
    let mut rest = text;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        let name = &rest[..end];
        return Some(name.rsplit(':').next().unwrap_or(name));
    }
}

fn parse_users(bytes: &[u8]) -> Result<Vec<JsonUser>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ImportError::Alma(format!("the file is not UTF-8: {e}")))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        let root = xml_root(trimmed).unwrap_or("");
        let users: Vec<XmlUser> = match root {
            "users" => {
                quick_xml::de::from_str::<XmlUsers>(trimmed)
                    .map_err(|e| ImportError::Alma(format!("cannot read the users XML: {e}")))?
                    .user
            }
            "user" => vec![quick_xml::de::from_str::<XmlUser>(trimmed)
                .map_err(|e| ImportError::Alma(format!("cannot read the user XML: {e}")))?],
            other => {
                return Err(ImportError::Alma(format!(
                    "expected <users> or <user> as the XML root, found <{other}>"
                )))
            }
        };
        Ok(users.into_iter().map(JsonUser::from).collect())
    } else {
        let file: JsonFile = serde_json::from_str(trimmed)
            .map_err(|e| ImportError::Alma(format!("cannot read the users JSON: {e}")))?;
        Ok(match file {
            JsonFile::List { user, .. } => user,
            JsonFile::Array(users) => users,
            JsonFile::One(user) => vec![*user],
        })
    }
}

const LIBRARY_GROUPS: [&str; 4] = ["LIBRARY", "ILL", "ILL_LIBRARY", "PARTNER"];

fn is_library(group: Option<&Code>) -> bool {
    let Some(group) = group else { return false };
    let hint = |s: &str| {
        let s = s.to_lowercase();
        s.contains("librar") || s.contains("kirjasto") || s.contains("bibliotek")
    };
    group
        .value()
        .is_some_and(|v| LIBRARY_GROUPS.contains(&v.trim().to_uppercase().as_str()) || hint(v))
        || group.desc().is_some_and(hint)
}

fn preferred<T>(items: &[T], is_preferred: impl Fn(&T) -> bool) -> Option<&T> {
    items
        .iter()
        .find(|i| is_preferred(i))
        .or_else(|| items.first())
}

fn id_type_is(id: &JsonIdentifier, wanted: &str) -> bool {
    let norm = |s: &str| s.trim().to_uppercase().replace([' ', '-'], "_");
    let wanted = norm(wanted);
    id.id_type.as_ref().is_some_and(|t| {
        t.value().is_some_and(|v| norm(v) == wanted) || t.desc().is_some_and(|d| norm(d) == wanted)
    })
}

fn to_raw(index: usize, user: JsonUser) -> RawRecord {
    let mut raw = RawRecord::new(SourceRef {
        source: SourceKind::Alma,
        row: index + 1,
        id: user.primary_id.clone(),
    });
    raw.library = is_library(user.user_group.as_ref());
    raw.code = user.primary_id;
    raw.name = user.full_name.filter(|n| !n.trim().is_empty()).or_else(|| {
        let joined = format!(
            "{} {}",
            user.first_name.unwrap_or_default(),
            user.last_name.unwrap_or_default()
        );
        (!joined.trim().is_empty()).then_some(joined)
    });
    raw.status = user
        .status
        .as_ref()
        .and_then(|s| s.value().map(str::to_owned));
    let contact = user.contact_info.unwrap_or_default();
    if let Some(a) = preferred(&contact.address, |a| a.preferred == Some(true)) {
        raw.address_lines = [&a.line1, &a.line2, &a.line3, &a.line4, &a.line5]
            .into_iter()
            .flatten()
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .collect();
        raw.city = a.city.clone();
        raw.postal_code = a.postal_code.clone();
        raw.country = a.country.as_ref().and_then(|c| {
            c.value()
                .filter(|v| !v.trim().is_empty())
                .or(c.desc())
                .map(str::to_owned)
        });
    }
    raw.email = preferred(&contact.email, |e| e.preferred == Some(true))
        .and_then(|e| e.email_address.clone());
    raw.phone = preferred(&contact.phone, |p| p.preferred == Some(true))
        .and_then(|p| p.phone_number.clone());
    raw.language = user
        .preferred_language
        .as_ref()
        .and_then(|c| c.value())
        .map(str::to_owned);
    let identifier = |wanted: &str| {
        user.user_identifier
            .iter()
            .find(|i| id_type_is(i, wanted))
            .and_then(|i| i.value.clone())
    };
    raw.isil = identifier("ISIL");
    raw.iso_symbol = identifier("ISO18626");
    raw.iso_url = identifier("ISO18626_URL");
    if raw.iso_symbol.is_some() {
        raw.profile = Some("iso18626".into());
    }
    let notes: Vec<String> = user
        .user_note
        .into_iter()
        .filter_map(|n| n.note_text)
        .filter(|n| !n.trim().is_empty())
        .collect();
    raw.notes = (!notes.is_empty()).then(|| notes.join("\n"));
    raw
}

/// Reads an Alma users file (JSON or XML) into raw records, one per user.
pub fn parse(bytes: &[u8]) -> Result<Vec<RawRecord>, ImportError> {
    Ok(parse_users(bytes)?
        .into_iter()
        .enumerate()
        .map(|(i, u)| to_raw(i, u))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"user":[{"primary_id":"HUL","full_name":"Helsingin yliopiston kirjasto",
      "password":"never-read","user_group":{"value":"LIBRARY","desc":"Library"},
      "status":{"value":"ACTIVE","desc":"Active"},
      "contact_info":{"address":[{"line1":"Old","preferred":false},{"line1":"Fabianinkatu 30","city":"Helsinki","postal_code":"00014","country":{"value":"FIN","desc":"Finland"},"preferred":true,"address_type":[{"value":"work","desc":"Work"}]}],
        "email":[{"email_address":"ill@helsinki.fi","preferred":true}],"phone":[{"phone_number":"+358 2941 23920","preferred":false}]},
      "user_identifier":[{"id_type":{"value":"ISIL","desc":"ISIL"},"value":"FI-Hul"}],
      "user_note":[{"note_text":"Kaukopalvelu"}]},
      {"primary_id":"u123","first_name":"Aino","last_name":"Virtanen","user_group":{"value":"STAFF"}}],
      "total_record_count":2}"#;

    #[test]
    fn json_users_become_raw_records() {
        let records = parse(JSON.as_bytes()).unwrap();
        assert_eq!(records.len(), 2);
        let hul = &records[0];
        assert!(hul.library);
        assert_eq!(hul.code.as_deref(), Some("HUL"));
        assert_eq!(hul.address_lines, vec!["Fabianinkatu 30"]);
        assert_eq!(hul.country.as_deref(), Some("FIN"));
        assert_eq!(hul.isil.as_deref(), Some("FI-Hul"));
        assert_eq!(hul.email.as_deref(), Some("ill@helsinki.fi"));
        assert_eq!(hul.phone.as_deref(), Some("+358 2941 23920"));
        assert_eq!(hul.status.as_deref(), Some("ACTIVE"));
        assert_eq!(hul.source.row, 1);
        assert!(!records[1].library);
        assert_eq!(records[1].name.as_deref(), Some("Aino Virtanen"));
        assert!(!format!("{records:?}").contains("never-read"));
    }

    #[test]
    fn xml_users_read_the_same() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<users total_record_count="1"><user><primary_id>HUL</primary_id><full_name>Helsingin yliopiston kirjasto</full_name>
<password>never-read</password><user_group desc="Library">LIBRARY</user_group><status desc="Active">ACTIVE</status>
<contact_info><addresses><address preferred="false" segment_type="External"><line1>Old</line1></address>
<address preferred="true" segment_type="External"><line1>Fabianinkatu 30</line1><city>Helsinki</city><postal_code>00014</postal_code><country desc="Finland">FIN</country>
<address_types><address_type desc="Work">work</address_type></address_types></address></addresses>
<emails><email preferred="true" segment_type="External"><email_address>ill@helsinki.fi</email_address></email></emails>
<phones><phone preferred="false"><phone_number>+358 2941 23920</phone_number></phone></phones></contact_info>
<user_identifiers><user_identifier segment_type="External"><id_type desc="ISIL">ISIL</id_type><value>FI-Hul</value></user_identifier></user_identifiers>
<user_notes><user_note><note_type desc="General">GENERAL</note_type><note_text>Kaukopalvelu</note_text></user_note></user_notes></user></users>"#;
        let from_xml = parse(xml.as_bytes()).unwrap();
        let from_json = parse(JSON.as_bytes()).unwrap();
        assert_eq!(from_xml.len(), 1);
        assert_eq!(from_xml[0], from_json[0]);
        let one =
            parse(b"<user><primary_id>X</primary_id><user_group>ILL</user_group></user>").unwrap();
        assert_eq!(one[0].code.as_deref(), Some("X"));
        assert!(one[0].library);
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        for bad in [&b"{"[..], b"<html></html>", b"\xff\xfe", b"<users><user>"] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse(br#"{"total_record_count":0}"#).unwrap().len(), 0);
    }
}
