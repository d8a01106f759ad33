//! The parsers that take outside input (ISO 18626 messages among them), as fuzz targets: each takes any
//! bytes and must return (an answer or an error), never panic. Run for
//! minutes by `scripts/fuzz.sh` (`server/benches/fuzz.rs`, a mutational
//! fuzzer seeded with the real payloads); inputs that once crashed are
//! kept in `server/tests/fuzz_found/<target>/` and replayed by
//! `server/tests/fuzz_regressions.rs` in every test run.

use crate::adapters::alma::{errors, wire};
use crate::citation;
use crate::partners_import::sources::{alma_users, legacy_csv};

/// A target: its name, the shared-fixture folders (and file endings) its
/// seeds come from, and the function.
pub struct Target {
    pub name: &'static str,
    pub seeds: &'static [(&'static str, &'static str)],
    pub run: fn(&[u8]),
}

fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn openurl(bytes: &[u8]) {
    let line = text(bytes);
    let query = line.split_once('?').map_or(line.as_ref(), |(_, q)| q);
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let _ =
        app::domain::openurl::parse_openurl(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
}

fn identifiers(bytes: &[u8]) {
    let s = text(bytes);
    let _ = app::domain::identifiers::parse_identifier(&s);
    let _ = app::domain::identifiers::normalize_doi(&s);
    let _ = app::domain::identifiers::normalize_isbn(&s);
    let _ = app::domain::identifiers::is_valid_issn(&s);
    let _ = app::domain::openurl::normalize_issn(&s);
    let _ = app::domain::openurl::year_of(&s);
}

fn alma_envelopes(bytes: &[u8]) {
    let s = text(bytes);
    if let Some(errors) = errors::parse_errors(&s) {
        for e in &errors {
            let _ = errors::guess_field(e);
        }
        let _ = errors::to_port_error(400, &errors);
    }
    let _ = serde_json::from_slice::<wire::RsRequest>(bytes);
    let _ = serde_json::from_slice::<wire::RsRequestList>(bytes);
    let _ = serde_json::from_slice::<wire::ItemLoans>(bytes);
    let _ = wire::parse_date(&s);
    let _ = wire::parse_datetime(&s);
}

fn legacy(bytes: &[u8]) {
    for encoding in [legacy_csv::Encoding::Auto, legacy_csv::Encoding::Latin1] {
        let _ = legacy_csv::parse(bytes, encoding, None);
    }
}

fn alma_users_import(bytes: &[u8]) {
    let _ = alma_users::parse(bytes);
}

fn citation_services(bytes: &[u8]) {
    let _ = citation::crossref::parse_work(bytes);
    let _ = citation::datacite::parse_doi(bytes);
    let _ = citation::pubmed::parse_esummary(bytes, "12345");
    let _ = citation::openlibrary::parse_books(bytes, "9789511274452");
    let _ = citation::openlibrary::parse_edition(bytes, "9789511274452");
    let _ = citation::openlibrary::parse_author(bytes);
    let _ = citation::unpaywall::parse(bytes);
}

/// ISO 18626 messages: read, checked, written back and read again (what
/// Kauko writes it must read), in both dialects.
fn iso18626(bytes: &[u8]) {
    use crate::iso18626::{dialect::Dialect, messages};
    let _ = crate::iso18626::xml::parse(bytes);
    if let Ok(envelope) = messages::parse(bytes) {
        let _ = envelope.message.check();
        for dialect in [Dialect::V1_2, Dialect::Alma] {
            let written = dialect.write(envelope.message.clone());
            messages::parse(written.as_bytes()).expect("Kauko reads what it writes");
        }
    }
}

pub const TARGETS: &[Target] = &[
    Target {
        name: "openurl",
        seeds: &[("openurl", "txt")],
        run: openurl,
    },
    Target {
        name: "identifiers",
        seeds: &[("openurl", "txt")],
        run: identifiers,
    },
    Target {
        name: "alma_envelopes",
        seeds: &[("alma", "json"), ("alma", "xml")],
        run: alma_envelopes,
    },
    Target {
        name: "legacy_csv",
        seeds: &[],
        run: legacy,
    },
    Target {
        name: "alma_users",
        seeds: &[],
        run: alma_users_import,
    },
    Target {
        name: "citation_json",
        seeds: &[
            ("crossref", "json"),
            ("datacite", "json"),
            ("pubmed", "json"),
            ("openlibrary", "json"),
            ("unpaywall", "json"),
        ],
        run: citation_services,
    },
    Target {
        name: "iso18626",
        seeds: &[("iso18626", "xml")],
        run: iso18626,
    },
];
