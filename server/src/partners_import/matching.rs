//! Finding the same library in both sources.
//!
//! Within one source, rows sharing a code are duplicates: identical ones
//! are kept once (the others rejected as `duplicate_row`), differing ones
//! are all rejected (`duplicate_code`) rather than picking one; rows sharing
//! an ISIL under different codes are rejected too (`duplicate_isil`).
//!
//! Across the sources, in this order, each record matching at most one:
//! 1. the same ISIL;
//! 2. the same code, unless both have ISILs and they differ;
//! 3. the same e-mail domain (not a webmail domain) and a similar name
//!    (Jaro-Winkler ≥ [`NAME_SIMILARITY`] after folding case, accents and
//!    punctuation), unless the ISILs differ. When several Alma records
//!    qualify, the legacy row is rejected as `ambiguous_match` rather than
//!    guessing.

use std::collections::HashMap;

use super::normalize::{email_domain, NormRecord};
use super::Rejection;

/// Lowest Jaro-Winkler similarity of folded names for rule 3.
pub const NAME_SIMILARITY: f64 = 0.92;

/// Domains many unrelated people share: never evidence of the same library.
const WEBMAIL: [&str; 10] = [
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "gmx.de",
    "luukku.com",
    "suomi24.fi",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchRule {
    Isil,
    Code,
    EmailDomainAndName,
}

/// One library: its record in either source or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    pub alma: Option<NormRecord>,
    pub legacy: Option<NormRecord>,
    pub rule: Option<MatchRule>,
}

/// Lower case, accents and punctuation removed, whitespace collapsed.
pub fn fold_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.to_lowercase().chars() {
        let c = match c {
            'ä' | 'á' | 'à' | 'â' | 'å' | 'ã' => 'a',
            'ö' | 'ó' | 'ò' | 'ô' | 'ø' | 'õ' => 'o',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'ü' | 'ú' | 'ù' | 'û' => 'u',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'æ' => 'a',
            'ç' => 'c',
            'ñ' => 'n',
            'š' => 's',
            'ž' => 'z',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        };
        out.push(c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn names_similar(a: &str, b: &str) -> bool {
    strsim::jaro_winkler(&fold_name(a), &fold_name(b)) >= NAME_SIMILARITY
}

fn isils_differ(a: &NormRecord, b: &NormRecord) -> bool {
    matches!((&a.isil, &b.isil), (Some(x), Some(y)) if !x.eq_ignore_ascii_case(y))
}

fn domain_of(r: &NormRecord) -> Option<String> {
    r.email
        .as_deref()
        .and_then(email_domain)
        .filter(|d| !WEBMAIL.contains(d))
        .map(str::to_owned)
}

/// Removes duplicates within one source (see the module's rules).
pub fn dedupe(records: Vec<NormRecord>) -> (Vec<NormRecord>, Vec<Rejection>) {
    let mut rejected = Vec::new();
    let mut by_code: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        by_code.entry(r.code.clone()).or_default().push(i);
    }
    let mut drop = vec![false; records.len()];
    let rows = |idx: &[usize]| {
        idx.iter()
            .map(|&i| records[i].source.row.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for idx in by_code.values().filter(|v| v.len() > 1) {
        let first = &records[idx[0]];
        if idx.iter().all(|&i| records[i].same_content(first)) {
            for &i in &idx[1..] {
                drop[i] = true;
                rejected.push(Rejection::of(
                    &records[i],
                    "duplicate_row",
                    Some(format!("same as row {}", first.source.row)),
                ));
            }
        } else {
            for &i in idx {
                drop[i] = true;
                rejected.push(Rejection::of(
                    &records[i],
                    "duplicate_code",
                    Some(format!("rows {}", rows(idx))),
                ));
            }
        }
    }
    let mut by_isil: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if let (false, Some(isil)) = (drop[i], &r.isil) {
            by_isil.entry(isil.to_lowercase()).or_default().push(i);
        }
    }
    for idx in by_isil.values().filter(|v| v.len() > 1) {
        for &i in idx {
            drop[i] = true;
            rejected.push(Rejection::of(
                &records[i],
                "duplicate_isil",
                Some(format!("rows {}", rows(idx))),
            ));
        }
    }
    rejected.sort_by_key(|r| r.source.row);
    let kept = records
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(r, _)| r)
        .collect();
    (kept, rejected)
}

/// Pairs Alma records with legacy rows (see the module's rules). Every
/// record comes back once: matched, on its own, or (ambiguous) rejected.
pub fn match_records(
    alma: Vec<NormRecord>,
    legacy: Vec<NormRecord>,
) -> (Vec<Matched>, Vec<Rejection>) {
    let mut by_isil: HashMap<String, usize> = HashMap::new();
    let mut by_code: HashMap<String, usize> = HashMap::new();
    let mut by_domain: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, a) in alma.iter().enumerate() {
        if let Some(isil) = &a.isil {
            by_isil.entry(isil.to_lowercase()).or_insert(i);
        }
        by_code.entry(a.code.clone()).or_insert(i);
        if let Some(d) = domain_of(a) {
            by_domain.entry(d).or_default().push(i);
        }
    }
    let mut taken: Vec<Option<usize>> = vec![None; alma.len()];
    let mut rule_of: Vec<Option<MatchRule>> = vec![None; legacy.len()];
    let mut partner_of: Vec<Option<usize>> = vec![None; legacy.len()];
    let mut rejected = Vec::new();
    for (li, l) in legacy.iter().enumerate() {
        let free = |i: &usize| taken[*i].is_none();
        let by_isil_hit = l
            .isil
            .as_ref()
            .and_then(|isil| by_isil.get(&isil.to_lowercase()))
            .copied()
            .filter(free);
        let found = if let Some(i) = by_isil_hit {
            Some((i, MatchRule::Isil))
        } else if let Some(i) = by_code
            .get(&l.code)
            .copied()
            .filter(|i| free(i) && !isils_differ(&alma[*i], l))
        {
            Some((i, MatchRule::Code))
        } else {
            let candidates: Vec<usize> = domain_of(l)
                .and_then(|d| by_domain.get(&d))
                .map(|v| {
                    v.iter()
                        .copied()
                        .filter(|i| {
                            free(i)
                                && !isils_differ(&alma[*i], l)
                                && names_similar(&alma[*i].name, &l.name)
                        })
                        .collect()
                })
                .unwrap_or_default();
            match candidates.as_slice() {
                [] => None,
                [one] => Some((*one, MatchRule::EmailDomainAndName)),
                many => {
                    let codes: Vec<&str> = many.iter().map(|&i| alma[i].code.as_str()).collect();
                    rejected.push(Rejection::of(
                        l,
                        "ambiguous_match",
                        Some(format!("Alma records {}", codes.join(", "))),
                    ));
                    rule_of[li] = None;
                    partner_of[li] = Some(usize::MAX);
                    continue;
                }
            }
        };
        if let Some((i, rule)) = found {
            taken[i] = Some(li);
            partner_of[li] = Some(i);
            rule_of[li] = Some(rule);
        }
    }
    let mut alma: Vec<Option<NormRecord>> = alma.into_iter().map(Some).collect();
    let mut out = Vec::new();
    for (li, l) in legacy.into_iter().enumerate() {
        match partner_of[li] {
            Some(usize::MAX) => {}
            Some(i) => out.push(Matched {
                alma: alma[i].take(),
                legacy: Some(l),
                rule: rule_of[li],
            }),
            None => out.push(Matched {
                alma: None,
                legacy: Some(l),
                rule: None,
            }),
        }
    }
    for a in alma.into_iter().flatten() {
        out.push(Matched {
            alma: Some(a),
            legacy: None,
            rule: None,
        });
    }
    (out, rejected)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use app::staff_import::{SourceKind, SourceRef};

    pub fn rec(source: SourceKind, row: usize, code: &str, name: &str) -> NormRecord {
        NormRecord {
            source: SourceRef {
                source,
                row,
                id: Some(code.into()),
            },
            code: code.into(),
            name: name.into(),
            isil: None,
            email: None,
            phone: None,
            language: None,
            address_lines: Vec::new(),
            postal_code: None,
            city: None,
            country: None,
            notes: None,
            borrowing: None,
            lending: None,
            status: None,
            iso: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn names_fold_and_compare() {
        assert_eq!(
            fold_name("Åbo Akademis  bibliotek!"),
            "abo akademis bibliotek"
        );
        assert!(names_similar(
            "JYVÄSKYLÄN YLIOPISTON KIRJASTO",
            "Jyvaskylan yliopiston kirjasto"
        ));
        assert!(!names_similar(
            "Turun kaupunginkirjasto",
            "Tampereen kaupunginkirjasto"
        ));
    }

    #[test]
    fn duplicates_within_a_source() {
        use SourceKind::Legacy;
        let a = rec(Legacy, 2, "A", "Kirjasto A");
        let mut a_again = a.clone();
        a_again.source.row = 3;
        let b1 = rec(Legacy, 4, "B", "Kirjasto B");
        let b2 = rec(Legacy, 5, "B", "Toinen B");
        let mut c = rec(Legacy, 6, "C", "C");
        c.isil = Some("FI-C".into());
        let mut d = rec(Legacy, 7, "D", "D");
        d.isil = Some("FI-c".into());
        let (kept, rejected) = dedupe(vec![a, a_again, b1, b2, c, d]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].source.row, 2);
        let reasons: Vec<(usize, &str)> = rejected
            .iter()
            .map(|r| (r.source.row, r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (3, "duplicate_row"),
                (4, "duplicate_code"),
                (5, "duplicate_code"),
                (6, "duplicate_isil"),
                (7, "duplicate_isil")
            ]
        );
    }

    #[test]
    fn isil_then_code_then_domain_and_name() {
        use SourceKind::{Alma, Legacy};
        let mut a1 = rec(Alma, 1, "HUL", "Helsingin yliopiston kirjasto");
        a1.isil = Some("FI-Hul".into());
        let mut l1 = rec(Legacy, 2, "OLD1", "HY kirjasto");
        l1.isil = Some("FI-HUL".into());
        let a2 = rec(Alma, 2, "TKU", "Turun kaupunginkirjasto");
        let l2 = rec(Legacy, 3, "TKU", "Turku City Library");
        let mut a3 = rec(Alma, 3, "JYU", "Jyväskylän yliopiston kirjasto");
        a3.email = Some("kaukopalvelu@jyu.fi".into());
        let mut l3 = rec(Legacy, 4, "J1", "JYVASKYLAN YLIOPISTON KIRJASTO");
        l3.email = Some("ill@jyu.fi".into());
        // Same code but different ISILs: two different libraries.
        let mut a4 = rec(Alma, 4, "X", "X");
        a4.isil = Some("FI-X".into());
        let mut l4 = rec(Legacy, 5, "X", "X");
        l4.isil = Some("SE-X".into());
        // Same webmail domain and name: no evidence.
        let mut a5 = rec(Alma, 5, "G1", "Pieni kirjasto");
        a5.email = Some("a@gmail.com".into());
        let mut l5 = rec(Legacy, 6, "G2", "Pieni kirjasto");
        l5.email = Some("b@gmail.com".into());
        let (matched, rejected) = match_records(vec![a1, a2, a3, a4, a5], vec![l1, l2, l3, l4, l5]);
        assert!(rejected.is_empty());
        let pairs: Vec<(Option<&str>, Option<&str>, Option<MatchRule>)> = matched
            .iter()
            .map(|m| {
                (
                    m.alma.as_ref().map(|r| r.code.as_str()),
                    m.legacy.as_ref().map(|r| r.code.as_str()),
                    m.rule,
                )
            })
            .collect();
        assert_eq!(
            pairs,
            vec![
                (Some("HUL"), Some("OLD1"), Some(MatchRule::Isil)),
                (Some("TKU"), Some("TKU"), Some(MatchRule::Code)),
                (Some("JYU"), Some("J1"), Some(MatchRule::EmailDomainAndName)),
                (None, Some("X"), None),
                (None, Some("G2"), None),
                (Some("X"), None, None),
                (Some("G1"), None, None),
            ]
        );
    }

    #[test]
    fn several_candidates_are_not_guessed() {
        use SourceKind::{Alma, Legacy};
        let mut a1 = rec(Alma, 1, "A1", "Oulun kaupunginkirjasto");
        a1.email = Some("x@ouka.fi".into());
        let mut a2 = rec(Alma, 2, "A2", "Oulun kaupunginkirjasto ");
        a2.email = Some("y@ouka.fi".into());
        let mut l = rec(Legacy, 2, "L", "OULUN KAUPUNGINKIRJASTO");
        l.email = Some("z@ouka.fi".into());
        let (matched, rejected) = match_records(vec![a1, a2], vec![l]);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].reason, "ambiguous_match");
        assert_eq!(matched.len(), 2, "both Alma records stay, unmatched");
        assert!(matched.iter().all(|m| m.legacy.is_none()));
    }
}
