//! Merging a matched pair field by field. A field one source lacks comes
//! from the other; equal values (ignoring case and whitespace; phone
//! numbers by their digits; names also ignoring accents and punctuation)
//! are one value; anything else is a [`FieldConflict`], and the partner is
//! held back until a source is corrected: nothing is guessed.
//!
//! When equal values are spelled differently, the spelling kept is the one
//! with more non-ASCII letters (accents were lost, not added), then the one
//! not in all capitals, then Alma's. The partner code is Alma's (Alma is
//! where the partner lives); a different legacy code is noted as a warning.
//! Notes from both are kept, one after the other.

use app::domain::PartnerStatus;
use app::staff_import::{FieldConflict, SourceRef};

use super::matching::{fold_name, MatchRule, Matched};
use super::normalize::{IsoProfile, NormRecord};

/// One library's merged fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedRecord {
    pub code: String,
    pub name: String,
    pub isil: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub address_lines: Vec<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub notes: Option<String>,
    pub borrowing: Option<bool>,
    pub lending: Option<bool>,
    pub status: Option<PartnerStatus>,
    pub iso: Option<IsoProfile>,
    pub sources: Vec<SourceRef>,
    pub rule: Option<MatchRule>,
    pub conflicts: Vec<FieldConflict>,
    pub warnings: Vec<String>,
}

impl From<NormRecord> for MergedRecord {
    fn from(r: NormRecord) -> Self {
        MergedRecord {
            code: r.code,
            name: r.name,
            isil: r.isil,
            email: r.email,
            phone: r.phone,
            language: r.language,
            address_lines: r.address_lines,
            postal_code: r.postal_code,
            city: r.city,
            country: r.country,
            notes: r.notes,
            borrowing: r.borrowing,
            lending: r.lending,
            status: r.status,
            iso: r.iso,
            sources: vec![r.source],
            rule: None,
            conflicts: Vec::new(),
            warnings: r.warnings,
        }
    }
}

fn non_ascii(s: &str) -> usize {
    s.chars().filter(|c| !c.is_ascii()).count()
}

fn all_caps(s: &str) -> bool {
    s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase)
}

/// Of two spellings of one value, the one to keep (see the module doc).
fn spelling(alma: String, legacy: String) -> String {
    let (a, l) = (non_ascii(&alma), non_ascii(&legacy));
    if l > a || (l == a && all_caps(&alma) && !all_caps(&legacy)) {
        legacy
    } else {
        alma
    }
}

struct Merger {
    conflicts: Vec<FieldConflict>,
}

impl Merger {
    fn text(
        &mut self,
        field: &str,
        alma: Option<String>,
        legacy: Option<String>,
        key: impl Fn(&str) -> String,
    ) -> Option<String> {
        match (alma, legacy) {
            (Some(a), Some(l)) => {
                if key(&a) == key(&l) {
                    Some(spelling(a, l))
                } else {
                    self.conflicts.push(FieldConflict {
                        field: field.into(),
                        alma: a,
                        legacy: l,
                    });
                    None
                }
            }
            (a, l) => a.or(l),
        }
    }

    fn value<T: PartialEq + std::fmt::Debug>(
        &mut self,
        field: &str,
        alma: Option<T>,
        legacy: Option<T>,
        show: impl Fn(&T) -> String,
    ) -> Option<T> {
        match (alma, legacy) {
            (Some(a), Some(l)) if a != l => {
                self.conflicts.push(FieldConflict {
                    field: field.into(),
                    alma: show(&a),
                    legacy: show(&l),
                });
                None
            }
            (a, l) => a.or(l),
        }
    }
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn yes_no(b: &bool) -> String {
    if *b { "yes" } else { "no" }.into()
}

/// Merges one matched library. A record from one source only passes as is.
pub fn merge(m: Matched) -> MergedRecord {
    let (a, l) = match (m.alma, m.legacy) {
        (Some(a), Some(l)) => (a, l),
        (Some(one), None) | (None, Some(one)) => return one.into(),
        (None, None) => unreachable!("a match holds at least one record"),
    };
    let mut g = Merger {
        conflicts: Vec::new(),
    };
    let mut warnings: Vec<String> = a.warnings.iter().chain(&l.warnings).cloned().collect();
    if a.code != l.code {
        warnings.push("legacy_code_differs".into());
    }
    let name = g
        .text(
            "name",
            Some(a.name.clone()),
            Some(l.name.clone()),
            fold_name,
        )
        .unwrap_or_else(|| a.name.clone());
    let isil = g.text("isil", a.isil, l.isil, lower);
    let email = g.text("email", a.email, l.email, lower);
    let phone = g.text("phone", a.phone, l.phone, digits);
    let language = g.text("language", a.language, l.language, lower);
    let lines = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(" | "));
    let address = g.text(
        "address_lines",
        lines(&a.address_lines),
        lines(&l.address_lines),
        lower,
    );
    let address_lines = match &address {
        None => Vec::new(),
        Some(_) if !a.address_lines.is_empty() && lines(&a.address_lines) == address => {
            a.address_lines.clone()
        }
        Some(_) if !a.address_lines.is_empty() && l.address_lines.is_empty() => {
            a.address_lines.clone()
        }
        Some(_) => l.address_lines.clone(),
    };
    let postal_code = g.text("postal_code", a.postal_code, l.postal_code, |s| {
        s.replace(' ', "").to_lowercase()
    });
    let city = g.text("city", a.city, l.city, lower);
    let country = g.text("country", a.country, l.country, lower);
    let borrowing = g.value("borrowing", a.borrowing, l.borrowing, yes_no);
    let lending = g.value("lending", a.lending, l.lending, yes_no);
    let status = g.value("status", a.status, l.status, |s| {
        format!("{s:?}").to_lowercase()
    });
    let iso = match (a.iso, l.iso) {
        (Some(x), Some(y)) => {
            let symbol = g.text("iso18626_symbol", Some(x.symbol), Some(y.symbol), lower);
            let url = g.text("iso18626_url", x.url, y.url, |s| s.to_owned());
            symbol.map(|symbol| IsoProfile { symbol, url })
        }
        (x, y) => x.or(y),
    };
    let notes = match (a.notes, l.notes) {
        (Some(x), Some(y)) if x.to_lowercase() != y.to_lowercase() => Some(format!("{x}\n{y}")),
        (x, y) => x.or(y),
    };
    MergedRecord {
        code: a.code,
        name,
        isil,
        email,
        phone,
        language,
        address_lines,
        postal_code,
        city,
        country,
        notes,
        borrowing,
        lending,
        status,
        iso,
        sources: vec![a.source, l.source],
        rule: m.rule,
        conflicts: g.conflicts,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partners_import::matching::tests::rec;
    use app::staff_import::SourceKind::{Alma, Legacy};

    fn pair(a: NormRecord, l: NormRecord) -> MergedRecord {
        merge(Matched {
            alma: Some(a),
            legacy: Some(l),
            rule: Some(MatchRule::Isil),
        })
    }

    #[test]
    fn gaps_are_filled_and_spellings_chosen() {
        let mut a = rec(Alma, 1, "JYU", "JYVÄSKYLÄN YLIOPISTON KIRJASTO");
        a.email = Some("ill@jyu.fi".into());
        a.phone = Some("+358 40 123 4567".into());
        a.city = Some("JYVÄSKYLÄ".into());
        let mut l = rec(Legacy, 2, "J1", "Jyvaskylan yliopiston kirjasto");
        l.phone = Some("+358 (40) 1234567".into());
        l.city = Some("Jyväskylä".into());
        l.lending = Some(true);
        l.notes = Some("Vain kopiot".into());
        let m = pair(a, l);
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(m.code, "JYU");
        assert_eq!(m.name, "JYVÄSKYLÄN YLIOPISTON KIRJASTO");
        assert_eq!(m.city.as_deref(), Some("Jyväskylä"));
        assert_eq!(m.email.as_deref(), Some("ill@jyu.fi"));
        assert_eq!(m.phone.as_deref(), Some("+358 40 123 4567"));
        assert_eq!(m.lending, Some(true));
        assert_eq!(m.notes.as_deref(), Some("Vain kopiot"));
        assert_eq!(m.warnings, vec!["legacy_code_differs"]);
        assert_eq!(m.sources.len(), 2);
    }

    #[test]
    fn disagreements_are_conflicts_field_by_field() {
        let mut a = rec(Alma, 1, "TKU", "Turun kaupunginkirjasto");
        a.email = Some("ill@turku.fi".into());
        a.borrowing = Some(true);
        a.address_lines = vec!["Linnankatu 2".into()];
        let mut l = rec(Legacy, 2, "TKU", "Turun kaupunginkirjasto");
        l.email = Some("kaukopalvelu@turku.fi".into());
        l.borrowing = Some(false);
        l.address_lines = vec!["Humalistonkatu 2".into()];
        let m = pair(a, l);
        let fields: Vec<(&str, &str, &str)> = m
            .conflicts
            .iter()
            .map(|c| (c.field.as_str(), c.alma.as_str(), c.legacy.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("email", "ill@turku.fi", "kaukopalvelu@turku.fi"),
                ("address_lines", "Linnankatu 2", "Humalistonkatu 2"),
                ("borrowing", "yes", "no"),
            ]
        );
        assert!(m.warnings.is_empty());
    }

    #[test]
    fn a_single_record_passes_unchanged() {
        let r = rec(Legacy, 9, "X", "X");
        let m = merge(Matched {
            alma: None,
            legacy: Some(r.clone()),
            rule: None,
        });
        assert_eq!(m.code, "X");
        assert_eq!(m.sources, vec![r.source]);
        assert!(m.conflicts.is_empty());
    }
}
