//! Recognising the identifiers patrons paste: DOIs in any common form,
//! PubMed ids, ISBN-10/13 (with checksums) and ISSNs. Used by the server and,
//! for instant feedback, in the browser.

use serde::{Deserialize, Serialize};

/// An identifier recognised in free text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scheme", content = "value", rename_all = "lowercase")]
pub enum Identifier {
    /// Lower-cased DOI without any prefix, e.g. `10.1037/a0035049`.
    Doi(String),
    /// PubMed id, digits only.
    Pmid(String),
    /// ISBN-13, digits only (ISBN-10s are converted).
    Isbn(String),
}

/// Why a text is not an identifier; each is a translation key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentifierError {
    Empty,
    IsbnChecksum,
    Unrecognised,
}

impl IdentifierError {
    pub fn key(self) -> &'static str {
        match self {
            Self::Empty => "error.identifier.empty",
            Self::IsbnChecksum => "error.identifier.isbn_checksum",
            Self::Unrecognised => "error.identifier.unrecognised",
        }
    }
}

/// Reads a DOI (bare, `doi:`, `https://doi.org/…`, `info:doi/…`), a PMID
/// (digits, `pmid:`, `info:pmid/`) or an ISBN (with or without hyphens).
pub fn parse_identifier(input: &str) -> Result<Identifier, IdentifierError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(IdentifierError::Empty);
    }
    if let Some(doi) = normalize_doi(text) {
        return Ok(Identifier::Doi(doi));
    }
    let lower = text.to_ascii_lowercase();
    for prefix in ["info:pmid/", "pmid:", "pmid"] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let rest = rest.trim();
            if is_pmid(rest) {
                return Ok(Identifier::Pmid(rest.to_owned()));
            }
        }
    }
    let isbn_text = lower
        .strip_prefix("isbn")
        .map(|r| r.trim_start_matches([':', ' ']))
        .unwrap_or(&lower);
    let compact: String = isbn_text
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect();
    if compact.len() == 13 || (compact.len() == 10 && !compact.chars().all(|c| c.is_ascii_digit()))
    {
        return normalize_isbn(&compact).map(Identifier::Isbn);
    }
    if compact.len() == 10 && (lower.contains('-') || lower.starts_with("isbn")) {
        return normalize_isbn(&compact).map(Identifier::Isbn);
    }
    if compact.len() == 10 {
        // Ten plain digits: an ISBN-10 when its checksum holds, else a PMID
        // (PMIDs have up to 8 digits today, but the space is open-ended).
        if let Ok(isbn) = normalize_isbn(&compact) {
            return Ok(Identifier::Isbn(isbn));
        }
    }
    if is_pmid(text) {
        return Ok(Identifier::Pmid(text.to_owned()));
    }
    Err(IdentifierError::Unrecognised)
}

fn is_pmid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 10 && s.chars().all(|c| c.is_ascii_digit()) && !s.starts_with('0')
}

/// A DOI in canonical form (ASCII letters in lower case, no prefix), or
/// `None`. DOI names are compared with ASCII case folding (the DOI
/// Handbook), so other letters keep their case; and the browser's wasm
/// needs no Unicode case tables for it.
pub fn normalize_doi(input: &str) -> Option<String> {
    let mut s = input.trim();
    let lower = s.to_ascii_lowercase();
    for prefix in [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi.org/",
        "info:doi/",
        "doi:",
        "doi ",
    ] {
        if lower.starts_with(prefix) {
            s = s[prefix.len()..].trim();
            break;
        }
    }
    let (registrant, suffix) = s.split_once('/')?;
    let registrant_ok = registrant.starts_with("10.")
        && registrant.len() > 3
        && registrant[3..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.');
    if !registrant_ok || suffix.is_empty() || s.chars().any(char::is_whitespace) {
        return None;
    }
    Some(s.to_ascii_lowercase())
}

/// An ISBN as 13 digits, from an ISBN-10 or ISBN-13 (hyphens and spaces
/// allowed), with its check digit verified.
pub fn normalize_isbn(input: &str) -> Result<String, IdentifierError> {
    let s: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect::<String>()
        .to_ascii_uppercase();
    if !s.is_ascii() {
        return Err(IdentifierError::Unrecognised);
    }
    match s.len() {
        10 => {
            let body = &s[..9];
            if !body.chars().all(|c| c.is_ascii_digit()) {
                return Err(IdentifierError::Unrecognised);
            }
            let check = s.as_bytes()[9];
            let sum: u32 = body
                .bytes()
                .enumerate()
                .map(|(i, b)| (10 - i as u32) * u32::from(b - b'0'))
                .sum();
            let expected = (11 - sum % 11) % 11;
            let given = match check {
                b'X' => 10,
                b'0'..=b'9' => u32::from(check - b'0'),
                _ => return Err(IdentifierError::Unrecognised),
            };
            if given != expected {
                return Err(IdentifierError::IsbnChecksum);
            }
            let thirteen = format!("978{body}");
            Ok(format!("{thirteen}{}", isbn13_check_digit(&thirteen)))
        }
        13 => {
            if !s.chars().all(|c| c.is_ascii_digit())
                || !(s.starts_with("978") || s.starts_with("979"))
            {
                return Err(IdentifierError::Unrecognised);
            }
            if isbn13_check_digit(&s[..12]) != u32::from(s.as_bytes()[12] - b'0') {
                return Err(IdentifierError::IsbnChecksum);
            }
            Ok(s)
        }
        _ => Err(IdentifierError::Unrecognised),
    }
}

fn isbn13_check_digit(first12: &str) -> u32 {
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    (10 - sum % 10) % 10
}

/// Whether an ISSN (`1234-567X` or `1234567X`) has a valid check digit.
pub fn is_valid_issn(input: &str) -> bool {
    let s: String = input
        .trim()
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    if !s.is_ascii() || s.len() != 8 || !s[..7].chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = s[..7]
        .bytes()
        .enumerate()
        .map(|(i, b)| (8 - i as u32) * u32::from(b - b'0'))
        .sum();
    let expected = (11 - sum % 11) % 11;
    match s.as_bytes()[7] {
        b'X' => expected == 10,
        d @ b'0'..=b'9' => u32::from(d - b'0') == expected,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dois_in_every_common_form() {
        for form in [
            "10.1037/a0035049",
            "doi:10.1037/A0035049",
            "https://doi.org/10.1037/a0035049",
            "http://dx.doi.org/10.1037/a0035049",
            "info:doi/10.1037/a0035049",
            "  DOI: 10.1037/a0035049 ",
        ] {
            assert_eq!(
                parse_identifier(form),
                Ok(Identifier::Doi("10.1037/a0035049".into())),
                "{form}"
            );
        }
        // Only ASCII letters are folded: others are part of the name.
        assert_eq!(
            normalize_doi("10.1000/ÄBC-Ü").as_deref(),
            Some("10.1000/Äbc-Ü")
        );
        assert_eq!(normalize_doi("10.abc/x"), None);
        assert_eq!(normalize_doi("10.1000/"), None);
    }

    #[test]
    fn isbns_with_checksums() {
        assert_eq!(
            parse_identifier("0-674-82425-3"),
            Ok(Identifier::Isbn("9780674824256".into()))
        );
        assert_eq!(
            parse_identifier("978-0-980-20044-7"),
            Ok(Identifier::Isbn("9780980200447".into()))
        );
        assert_eq!(
            parse_identifier("ISBN 0-8044-2957-X"),
            Ok(Identifier::Isbn("9780804429573".into()))
        );
        assert_eq!(
            parse_identifier("978-0-980-20044-8"),
            Err(IdentifierError::IsbnChecksum)
        );
        assert_eq!(
            parse_identifier("0-674-82425-4"),
            Err(IdentifierError::IsbnChecksum)
        );
    }

    #[test]
    fn pmids_and_rubbish() {
        assert_eq!(
            parse_identifier("28806736"),
            Ok(Identifier::Pmid("28806736".into()))
        );
        assert_eq!(
            parse_identifier("PMID: 28806736"),
            Ok(Identifier::Pmid("28806736".into()))
        );
        assert_eq!(
            parse_identifier("info:pmid/28806736"),
            Ok(Identifier::Pmid("28806736".into()))
        );
        assert_eq!(parse_identifier(""), Err(IdentifierError::Empty));
        assert_eq!(
            parse_identifier("hello world"),
            Err(IdentifierError::Unrecognised)
        );
    }

    #[test]
    fn issn_check_digits() {
        assert!(is_valid_issn("0003-066X"));
        assert!(is_valid_issn("1062-8606"));
        assert!(!is_valid_issn("1062-8607"));
        assert!(!is_valid_issn("abc"));
        assert!(!is_valid_issn("123456é"));
    }

    #[test]
    fn non_ascii_never_panics() {
        for text in [
            "12345678é",
            "123456789é",
            "é12345678",
            "978-0-980-2004é",
            "ISBN 12345678é",
        ] {
            assert!(parse_identifier(text).is_err(), "{text}");
            assert!(normalize_isbn(text).is_err(), "{text}");
        }
    }
}
