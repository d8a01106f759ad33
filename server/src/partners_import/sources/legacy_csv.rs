//! The legacy ILL system's CSV export. Columns (header names, in any order
//! and case; others, such as passwords or keys, are ignored and never read):
//!
//! | column | meaning |
//! |---|---|
//! | `code` | partner code (required) |
//! | `name` | library name (required) |
//! | `isil` | ISIL, e.g. `FI-Hul` |
//! | `email` | ILL e-mail address |
//! | `address1`, `address2`, `address3` | address lines |
//! | `postal_code`, `city`, `country` | country as a name (Finnish, Swedish or English) or ISO 3166 code |
//! | `phone` | phone number |
//! | `language` | language of letters: `fi`, `sv` or `en` (optional; none: Finnish and English) |
//! | `notes` | free text (passwords and keys in it are redacted) |
//! | `borrowing`, `lending` | whether we borrow from / lend to the partner: `1`/`0`, `yes`/`no`, `kyllä`/`ei`, `ja`/`nej`, `x`/empty |
//! | `status` | `active` / `inactive` (optional) |
//! | `profile` | `email` (default) or `iso18626` (optional) |
//! | `iso18626_symbol`, `iso18626_url` | the ISO 18626 agency symbol and endpoint (optional) |
//!
//! Exports are often Windows-1252/Latin-1 and `;`-separated: the encoding
//! and delimiter are detected unless given.

use std::str::FromStr;

use super::{Field, RawRecord};
use crate::partners_import::ImportError;
use app::staff_import::{SourceKind, SourceRef};

/// How the CSV's bytes are text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8; otherwise line by line: UTF-8
    /// lines stay, others are read as Windows-1252 (a superset of Latin-1).
    #[default]
    Auto,
    Utf8,
    Latin1,
}

impl FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Encoding::Auto),
            "utf8" | "utf-8" => Ok(Encoding::Utf8),
            "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "windows-1252" | "cp1252" => {
                Ok(Encoding::Latin1)
            }
            other => Err(format!(
                "unknown encoding {other:?} (use auto, utf8 or latin1)"
            )),
        }
    }
}

/// Parses a delimiter option: `auto` (or empty) detects it.
pub fn parse_delimiter(s: &str) -> Result<Option<u8>, String> {
    match s {
        "" | "auto" => Ok(None),
        ";" | "semicolon" => Ok(Some(b';')),
        "," | "comma" => Ok(Some(b',')),
        "\t" | "\\t" | "tab" => Ok(Some(b'\t')),
        "|" => Ok(Some(b'|')),
        other => Err(format!(
            "unknown delimiter {other:?} (use ';', ',', tab or auto)"
        )),
    }
}

pub fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        other => (other as char).to_string(),
    }
}

/// The text of the file and the encoding actually used.
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

fn latin1(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

pub fn decode(bytes: &[u8], encoding: Encoding) -> Decoded {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match encoding {
        Encoding::Utf8 => Decoded {
            text: String::from_utf8_lossy(bytes).into_owned(),
            encoding: "utf-8",
        },
        Encoding::Latin1 => Decoded {
            text: latin1(bytes),
            encoding: "windows-1252",
        },
        Encoding::Auto => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                return Decoded {
                    text: text.to_owned(),
                    encoding: "utf-8",
                };
            }
            let (mut utf8_lines, mut latin1_lines) = (0, 0);
            let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
            for line in bytes.split_inclusive(|&b| b == b'\n') {
                match std::str::from_utf8(line) {
                    Ok(l) => {
                        if !l.is_ascii() {
                            utf8_lines += 1;
                        }
                        text.push_str(l);
                    }
                    Err(_) => {
                        latin1_lines += 1;
                        text.push_str(&latin1(line));
                    }
                }
            }
            Decoded {
                text,
                encoding: if utf8_lines > 0 && latin1_lines > 0 {
                    "mixed"
                } else {
                    "windows-1252"
                },
            }
        }
    }
}

/// The delimiter of the header line: the most frequent of `;`, `,` and tab
/// outside quotes (`;` on a tie).
pub fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in header.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if *d == c {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .fold(
            (b';', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

/// The columns Kauko reads, with the header names accepted for each.
const COLUMNS: &[(Field, &[&str])] = &[
    (Field::Code, &["code", "partner_code", "koodi"]),
    (Field::Name, &["name", "nimi", "namn"]),
    (Field::Isil, &["isil"]),
    (Field::Email, &["email", "e-mail", "e_mail", "sahkoposti"]),
    (Field::Address1, &["address1", "address_1", "address_line1"]),
    (Field::Address2, &["address2", "address_2", "address_line2"]),
    (Field::Address3, &["address3", "address_3", "address_line3"]),
    (Field::PostalCode, &["postal_code", "postcode", "zip"]),
    (Field::City, &["city"]),
    (Field::Country, &["country"]),
    (Field::Phone, &["phone", "telephone"]),
    (
        Field::Language,
        &["language", "lang", "kieli", "sprak", "språk"],
    ),
    (Field::Notes, &["notes", "note"]),
    (Field::Borrowing, &["borrowing"]),
    (Field::Lending, &["lending"]),
    (Field::Status, &["status"]),
    (Field::Profile, &["profile", "profile_type"]),
    (Field::IsoSymbol, &["iso18626_symbol"]),
    (Field::IsoUrl, &["iso18626_url"]),
];

/// The parsed file: records, and what was detected.
pub struct LegacyFile {
    pub records: Vec<RawRecord>,
    pub encoding: &'static str,
    pub delimiter: u8,
}

/// Reads the export. Fails only when the file as a whole cannot be used
/// (no header, no `code` or `name` column); a bad row becomes a record the
/// normaliser rejects.
pub fn parse(
    bytes: &[u8],
    encoding: Encoding,
    delimiter: Option<u8>,
) -> Result<LegacyFile, ImportError> {
    let decoded = decode(bytes, encoding);
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&decoded.text));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .trim(csv::Trim::None)
        .from_reader(decoded.text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ImportError::Legacy(format!("cannot read the header line: {e}")))?
        .clone();
    let mut index: Vec<(Field, usize)> = Vec::new();
    for (pos, header) in headers.iter().enumerate() {
        let h = header.trim().trim_matches('\u{feff}').to_lowercase();
        if let Some((field, _)) = COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&h.as_str()))
        {
            if !index.iter().any(|(f, _)| f == field) {
                index.push((*field, pos));
            }
        }
    }
    for required in [Field::Code, Field::Name] {
        if !index.iter().any(|(f, _)| *f == required) {
            return Err(ImportError::Legacy(format!(
                "the header has no {:?} column (found: {}); is the delimiter right?",
                required.column(),
                headers.iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut records = Vec::new();
    for result in reader.records() {
        match result {
            Ok(row) => {
                if row.iter().all(|v| v.trim().is_empty()) {
                    continue;
                }
                let line = row.position().map_or(0, |p| p.line() as usize);
                let mut raw = RawRecord::new(SourceRef {
                    source: SourceKind::Legacy,
                    row: line,
                    id: None,
                });
                for (field, pos) in &index {
                    if let Some(value) = row.get(*pos) {
                        raw.set(*field, value);
                    }
                }
                raw.source.id = raw.code.clone().map(|c| c.trim().to_owned());
                raw.library = true;
                records.push(raw);
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                let mut raw = RawRecord::new(SourceRef {
                    source: SourceKind::Legacy,
                    row: line,
                    id: None,
                });
                raw.unreadable = Some(e.to_string());
                records.push(raw);
            }
        }
    }
    Ok(LegacyFile {
        records,
        encoding: decoded.encoding,
        delimiter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_semicolons_are_detected() {
        let bytes = b"code;name;city\nTKU;\xc5bo Akademis bibliotek;\xc5bo\n";
        let file = parse(bytes, Encoding::Auto, None).unwrap();
        assert_eq!(file.delimiter, b';');
        assert_eq!(file.encoding, "windows-1252");
        assert_eq!(
            file.records[0].name.as_deref(),
            Some("Åbo Akademis bibliotek")
        );
        assert_eq!(file.records[0].city.as_deref(), Some("Åbo"));
        assert_eq!(file.records[0].source.row, 2);
    }

    #[test]
    fn mixed_lines_and_other_delimiters() {
        let mut bytes = "code\tname\nA\tHämeenlinnan kirjasto\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"B\tJyv\xe4skyl\xe4n kirjasto\n");
        let file = parse(&bytes, Encoding::Auto, None).unwrap();
        assert_eq!(file.delimiter, b'\t');
        assert_eq!(file.encoding, "mixed");
        assert_eq!(file.records[1].name.as_deref(), Some("Jyväskylän kirjasto"));
        let commas = parse(
            b"\xef\xbb\xbfName,Code,Extra\n\"Lib, The\",X1,secret\n",
            Encoding::Utf8,
            None,
        )
        .unwrap();
        assert_eq!(commas.delimiter, b',');
        assert_eq!(commas.records[0].name.as_deref(), Some("Lib, The"));
        assert_eq!(commas.records[0].code.as_deref(), Some("X1"));
    }

    #[test]
    fn a_missing_column_names_the_problem() {
        let err = parse(b"code,title\n1,2\n", Encoding::Auto, None).err();
        assert!(matches!(err, Some(ImportError::Legacy(m)) if m.contains("name")));
        assert!("latin1".parse::<Encoding>().is_ok());
        assert!("ebcdic".parse::<Encoding>().is_err());
        assert_eq!(parse_delimiter("tab"), Ok(Some(b'\t')));
        assert!(parse_delimiter("x").is_err());
    }
}
