//! Mapping merged records to partner records and comparing them with what
//! the library system already has: create, update or leave unchanged.
//!
//! - The existing partner is found by code, else by ISIL (so a library
//!   whose code changed is updated, not created twice).
//! - Profile: ISO 18626 when a source says so (with its symbol, and
//!   endpoint if given); otherwise e-mail, to the partner's e-mail address
//!   (a partner with neither is rejected as `missing_email`). An existing
//!   ISO 18626 profile is kept when the sources do not mention one.
//! - The import fills and corrects but never blanks: a field the sources
//!   lack keeps its current value; instructions are never touched. New
//!   partners are active, lending and borrowing unless a source says
//!   otherwise.
//! - Two records aiming at the same partner code are both rejected
//!   (`code_collision`).

use std::collections::HashMap;

use app::domain::{Address, Partner, PartnerProfile, PartnerStatus};
use app::staff_import::{FieldChange, SourceRef};

use super::merge::MergedRecord;
use super::Rejection;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Create(Partner),
    Update {
        before: Box<Partner>,
        after: Box<Partner>,
        changes: Vec<FieldChange>,
    },
    Unchanged(Partner),
}

impl Action {
    pub fn partner(&self) -> &Partner {
        match self {
            Action::Create(p) | Action::Unchanged(p) => p,
            Action::Update { after, .. } => after,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub action: Action,
    pub sources: Vec<SourceRef>,
    pub warnings: Vec<String>,
}

fn profile_text(p: &PartnerProfile) -> String {
    match p {
        PartnerProfile::Email { email } => format!("EMAIL {email}"),
        PartnerProfile::Iso18626 { symbol, url } => match url {
            Some(u) => format!("ISO_18626 {symbol} {u}"),
            None => format!("ISO_18626 {symbol}"),
        },
    }
}

fn status_text(s: PartnerStatus) -> String {
    match s {
        PartnerStatus::Active => "ACTIVE".into(),
        PartnerStatus::Inactive => "INACTIVE".into(),
    }
}

/// The partner's fields as text, in a fixed order (for the report's
/// field-by-field changes).
pub fn fields(p: &Partner) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("name", Some(p.name.clone())),
        ("status", Some(status_text(p.status))),
        ("profile", Some(profile_text(&p.profile))),
        ("isil", p.isil.clone()),
        ("email", p.email.clone()),
        ("phone", p.phone.clone()),
        (
            "address_lines",
            (!p.address.lines.is_empty()).then(|| p.address.lines.join(" | ")),
        ),
        ("postal_code", p.address.postal_code.clone()),
        ("city", p.address.city.clone()),
        ("country", p.address.country.clone()),
        ("lending", Some(p.lending_supported.to_string())),
        ("borrowing", Some(p.borrowing_supported.to_string())),
        ("instructions", p.instructions.clone()),
        ("notes", p.notes.clone()),
    ]
}

pub fn changes(before: &Partner, after: &Partner) -> Vec<FieldChange> {
    fields(before)
        .into_iter()
        .zip(fields(after))
        .filter(|((_, b), (_, a))| a != b)
        .map(|((field, before), (_, after))| FieldChange {
            field: field.into(),
            before,
            after,
        })
        .collect()
}

/// The partner record for a merged record, over the existing one if any.
pub fn to_partner(
    m: &MergedRecord,
    code: &str,
    existing: Option<&Partner>,
) -> Result<Partner, &'static str> {
    let email = m
        .email
        .clone()
        .or_else(|| existing.and_then(|p| p.email.clone()));
    let profile = match (&m.iso, existing.map(|p| &p.profile)) {
        (Some(iso), _) => PartnerProfile::Iso18626 {
            symbol: iso.symbol.clone(),
            url: iso.url.clone(),
        },
        (None, Some(p @ PartnerProfile::Iso18626 { .. })) => p.clone(),
        (None, _) => match &email {
            Some(e) => PartnerProfile::Email { email: e.clone() },
            None => return Err("missing_email"),
        },
    };
    let old = existing.map(|p| p.address.clone()).unwrap_or_default();
    let address = Address {
        lines: if m.address_lines.is_empty() {
            old.lines
        } else {
            m.address_lines.clone()
        },
        postal_code: m.postal_code.clone().or(old.postal_code),
        city: m.city.clone().or(old.city),
        country: m.country.clone().or(old.country),
    };
    Ok(Partner {
        code: code.to_owned(),
        name: m.name.clone(),
        status: m
            .status
            .or(existing.map(|p| p.status))
            .unwrap_or(PartnerStatus::Active),
        profile,
        isil: m
            .isil
            .clone()
            .or_else(|| existing.and_then(|p| p.isil.clone())),
        email,
        phone: m
            .phone
            .clone()
            .or_else(|| existing.and_then(|p| p.phone.clone())),
        address,
        lending_supported: m
            .lending
            .or(existing.map(|p| p.lending_supported))
            .unwrap_or(true),
        borrowing_supported: m
            .borrowing
            .or(existing.map(|p| p.borrowing_supported))
            .unwrap_or(true),
        instructions: existing.and_then(|p| p.instructions.clone()),
        language: m
            .language
            .clone()
            .or_else(|| existing.and_then(|p| p.language.clone())),
        notes: m
            .notes
            .clone()
            .or_else(|| existing.and_then(|p| p.notes.clone())),
    })
}

/// Plans every merged record (without conflicts) against the existing
/// partners.
pub fn plan(merged: Vec<MergedRecord>, existing: &[Partner]) -> (Vec<Planned>, Vec<Rejection>) {
    let by_code: HashMap<String, usize> = existing
        .iter()
        .enumerate()
        .map(|(i, p)| (p.code.to_uppercase(), i))
        .collect();
    let by_isil: HashMap<String, usize> = existing
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.isil.as_ref().map(|s| (s.to_lowercase(), i)))
        .collect();
    let targets: Vec<(String, Option<usize>)> = merged
        .iter()
        .map(|m| {
            let hit = by_code.get(&m.code.to_uppercase()).copied().or_else(|| {
                m.isil
                    .as_ref()
                    .and_then(|i| by_isil.get(&i.to_lowercase()))
                    .copied()
            });
            match hit {
                Some(i) => (existing[i].code.clone(), Some(i)),
                None => (m.code.clone(), None),
            }
        })
        .collect();
    let mut per_code: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (code, _)) in targets.iter().enumerate() {
        per_code.entry(code.as_str()).or_default().push(i);
    }
    let mut planned = Vec::new();
    let mut rejected = Vec::new();
    for (i, m) in merged.iter().enumerate() {
        let (code, target) = &targets[i];
        let reject = |reason: &str, detail: Option<String>| Rejection {
            source: m.sources[0].clone(),
            code: Some(m.code.clone()),
            name: Some(m.name.clone()),
            reason: reason.into(),
            detail: Some(
                std::iter::once(
                    m.sources
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" + "),
                )
                .chain(detail)
                .collect::<Vec<_>>()
                .join("; "),
            ),
        };
        let same = &per_code[code.as_str()];
        if same.len() > 1 {
            let others: Vec<String> = same
                .iter()
                .filter(|&&j| j != i)
                .flat_map(|&j| merged[j].sources.iter().map(ToString::to_string))
                .collect();
            rejected.push(reject(
                "code_collision",
                Some(format!("also {}", others.join(", "))),
            ));
            continue;
        }
        let before = target.map(|t| &existing[t]);
        let partner = match to_partner(m, code, before) {
            Ok(p) => p,
            Err(reason) => {
                rejected.push(reject(reason, None));
                continue;
            }
        };
        let action = match before {
            None => Action::Create(partner),
            Some(b) if *b == partner => Action::Unchanged(partner),
            Some(b) => Action::Update {
                changes: changes(b, &partner),
                before: Box::new(b.clone()),
                after: Box::new(partner),
            },
        };
        planned.push(Planned {
            action,
            sources: m.sources.clone(),
            warnings: m.warnings.clone(),
        });
    }
    (planned, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partners_import::matching::tests::rec;
    use app::staff_import::SourceKind::Legacy;

    fn merged(code: &str, email: Option<&str>) -> MergedRecord {
        let mut r = rec(Legacy, 2, code, &format!("Kirjasto {code}"));
        r.email = email.map(str::to_owned);
        r.into()
    }

    #[test]
    fn create_update_unchanged_and_never_blank() {
        let new = merged("NEW", Some("ill@new.fi"));
        let same_src = merged("SAME", Some("ill@same.fi"));
        let same = to_partner(&same_src, "SAME", None).unwrap();
        let mut upd_src = merged("UPD", None);
        upd_src.phone = Some("+358 1".into());
        let mut upd = to_partner(&merged("UPD", Some("ill@upd.fi")), "UPD", None).unwrap();
        upd.instructions = Some("Vain kopiot".into());
        upd.lending_supported = false;
        let (planned, rejected) = plan(vec![new, same_src, upd_src], &[same.clone(), upd.clone()]);
        assert!(rejected.is_empty());
        assert!(
            matches!(&planned[0].action, Action::Create(p) if p.lending_supported && p.borrowing_supported)
        );
        assert_eq!(planned[1].action, Action::Unchanged(same));
        let Action::Update { after, changes, .. } = &planned[2].action else {
            panic!("an update: {:?}", planned[2].action)
        };
        assert_eq!(after.email.as_deref(), Some("ill@upd.fi"), "kept");
        assert_eq!(after.instructions.as_deref(), Some("Vain kopiot"), "kept");
        assert!(!after.lending_supported, "kept");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "phone");
        assert_eq!(changes[0].after.as_deref(), Some("+358 1"));
    }

    #[test]
    fn found_by_isil_profiles_and_collisions() {
        let mut by_isil = merged("NEWCODE", Some("ill@x.fi"));
        by_isil.isil = Some("FI-x".into());
        let mut existing =
            to_partner(&merged("OLDCODE", Some("ill@x.fi")), "OLDCODE", None).unwrap();
        existing.isil = Some("FI-X".into());
        let mut iso = merged("ISO", None);
        iso.iso = Some(crate::partners_import::normalize::IsoProfile {
            symbol: "ISIL:FI-Iso".into(),
            url: None,
        });
        let no_email = merged("NOMAIL", None);
        let c1 = merged("DUP", Some("a@dup.fi"));
        let c2 = merged("DUP", Some("b@dup.fi"));
        let (planned, rejected) = plan(vec![by_isil, iso, no_email, c1, c2], &[existing]);
        assert_eq!(planned.len(), 2);
        assert_eq!(planned[0].action.partner().code, "OLDCODE");
        assert!(matches!(planned[0].action, Action::Update { .. }));
        assert_eq!(
            planned[1].action.partner().profile,
            PartnerProfile::Iso18626 {
                symbol: "ISIL:FI-Iso".into(),
                url: None
            }
        );
        let reasons: Vec<&str> = rejected.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(
            reasons,
            vec!["missing_email", "code_collision", "code_collision"]
        );
    }
}
