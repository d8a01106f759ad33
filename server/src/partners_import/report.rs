//! The import report ([`ImportReport`], shared with the staff page) and its
//! CSV export: one line per changed or conflicting field, or per entry when
//! there is none. Only partner fields reach it (never a source's password
//! or key columns), and notes are redacted during normalisation.

pub use app::staff_import::{
    Counts, FieldChange, FieldConflict, ImportReport, Outcome, ReportEntry, SourceRef,
};

use super::merge::MergedRecord;
use super::plan::{Action, Planned};
use super::Rejection;

pub fn rejected_entry(r: Rejection) -> ReportEntry {
    ReportEntry {
        outcome: Outcome::Rejected,
        code: r.code,
        name: r.name,
        sources: vec![r.source],
        changes: Vec::new(),
        conflicts: Vec::new(),
        reason: Some(r.reason),
        detail: r.detail,
        warnings: Vec::new(),
    }
}

pub fn conflict_entry(m: MergedRecord) -> ReportEntry {
    ReportEntry {
        outcome: Outcome::Conflict,
        code: Some(m.code),
        name: Some(m.name),
        sources: m.sources,
        changes: Vec::new(),
        conflicts: m.conflicts,
        reason: None,
        detail: None,
        warnings: m.warnings,
    }
}

pub fn planned_entry(p: &Planned) -> ReportEntry {
    let (outcome, changes) = match &p.action {
        Action::Create(partner) => (
            Outcome::Created,
            super::plan::fields(partner)
                .into_iter()
                .filter(|(_, v)| v.is_some())
                .map(|(field, after)| FieldChange {
                    field: field.into(),
                    before: None,
                    after,
                })
                .collect(),
        ),
        Action::Update { changes, .. } => (Outcome::Updated, changes.clone()),
        Action::Unchanged(_) => (Outcome::Unchanged, Vec::new()),
    };
    let partner = p.action.partner();
    ReportEntry {
        outcome,
        code: Some(partner.code.clone()),
        name: Some(partner.name.clone()),
        sources: p.sources.clone(),
        changes,
        conflicts: Vec::new(),
        reason: None,
        detail: None,
        warnings: p.warnings.clone(),
    }
}

/// Recounts the outcomes of the entries.
pub fn count(report: &mut ImportReport) {
    let c = &mut report.counts;
    c.created = 0;
    c.updated = 0;
    c.unchanged = 0;
    c.conflicts = 0;
    c.rejected = 0;
    c.failed = 0;
    for e in &report.entries {
        match e.outcome {
            Outcome::Created => c.created += 1,
            Outcome::Updated => c.updated += 1,
            Outcome::Unchanged => c.unchanged += 1,
            Outcome::Conflict => c.conflicts += 1,
            Outcome::Rejected => c.rejected += 1,
            Outcome::Failed => c.failed += 1,
        }
    }
}

/// The report as CSV (UTF-8, comma-separated, with a header line); a cell
/// a spreadsheet would run as a formula is written as text.
pub fn to_csv(report: &ImportReport) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let header = [
        "outcome",
        "code",
        "name",
        "sources",
        "field",
        "before_or_alma",
        "after_or_legacy",
        "reason",
        "detail",
        "warnings",
    ];
    // Writing to a Vec cannot fail but for a bug; such a line is skipped.
    let _ = w.write_record(header);
    for e in &report.entries {
        let sources = e
            .sources
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" + ");
        let common = |field: &str, a: &str, b: &str| {
            [
                e.outcome.code().to_owned(),
                e.code.clone().unwrap_or_default(),
                e.name.clone().unwrap_or_default(),
                sources.clone(),
                field.to_owned(),
                a.to_owned(),
                b.to_owned(),
                e.reason.clone().unwrap_or_default(),
                e.detail.clone().unwrap_or_default(),
                e.warnings.join(" "),
            ]
        };
        let mut lines = Vec::new();
        for c in &e.changes {
            lines.push(common(
                &c.field,
                c.before.as_deref().unwrap_or(""),
                c.after.as_deref().unwrap_or(""),
            ));
        }
        for c in &e.conflicts {
            lines.push(common(&c.field, &c.alma, &c.legacy));
        }
        if lines.is_empty() {
            lines.push(common("", "", ""));
        }
        for line in lines {
            let _ = w.write_record(
                line.iter()
                    .map(|cell| app::domain::csv::spreadsheet_safe(cell).into_owned()),
            );
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::staff_import::SourceKind;

    #[test]
    fn csv_has_a_line_per_field_and_quotes_properly() {
        let mut report = ImportReport {
            entries: vec![
                ReportEntry {
                    outcome: Outcome::Conflict,
                    code: Some("TKU".into()),
                    name: Some("Turku, \"City\" Library".into()),
                    sources: vec![
                        SourceRef {
                            source: SourceKind::Alma,
                            row: 3,
                            id: Some("TKU".into()),
                        },
                        SourceRef {
                            source: SourceKind::Legacy,
                            row: 7,
                            id: None,
                        },
                    ],
                    changes: Vec::new(),
                    conflicts: vec![
                        FieldConflict {
                            field: "phone".into(),
                            alma: "1".into(),
                            legacy: "2".into(),
                        },
                        FieldConflict {
                            field: "city".into(),
                            alma: "Turku".into(),
                            legacy: "Åbo".into(),
                        },
                    ],
                    reason: None,
                    detail: None,
                    warnings: vec![],
                },
                ReportEntry {
                    outcome: Outcome::Rejected,
                    code: None,
                    name: None,
                    sources: vec![],
                    changes: vec![],
                    conflicts: vec![],
                    reason: Some("missing_code".into()),
                    detail: None,
                    warnings: vec![],
                },
            ],
            ..ImportReport::default()
        };
        count(&mut report);
        assert_eq!((report.counts.conflicts, report.counts.rejected), (1, 1));
        let csv = to_csv(&report);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(lines[0].starts_with("outcome,code,name,sources,field"));
        assert_eq!(
            lines[1],
            "conflict,TKU,\"Turku, \"\"City\"\" Library\",alma:3 (TKU) + legacy:7,phone,1,2,,,"
        );
        assert!(lines[2].contains(",city,Turku,Åbo,"));
        assert_eq!(lines[3], "rejected,,,,,,,missing_code,,");
    }

    #[test]
    fn no_cell_runs_as_a_formula_in_a_spreadsheet() {
        let report = ImportReport {
            entries: vec![ReportEntry {
                outcome: Outcome::Conflict,
                code: Some("=1+1".into()),
                name: Some("@SUM(A1:A9)".into()),
                sources: vec![],
                changes: vec![],
                conflicts: vec![FieldConflict {
                    field: "phone".into(),
                    alma: "+358 40 123".into(),
                    legacy: "=HYPERLINK(\"http://evil.example\",\"x\")".into(),
                }],
                reason: None,
                detail: Some("-cmd".into()),
                warnings: vec![],
            }],
            ..ImportReport::default()
        };
        let csv = to_csv(&report);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        for cell in row.iter() {
            let first = cell.chars().next();
            assert!(
                !matches!(first, Some('=' | '+' | '-' | '@')),
                "{cell:?} in {csv}"
            );
        }
        assert_eq!(&row[1], "'=1+1");
        assert_eq!(&row[5], "'+358 40 123");
    }
}
