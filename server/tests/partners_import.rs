//! Partner import on the generated 603-library set (exact outcome known by
//! construction) through the local adapter, on SQLite and PostgreSQL; the
//! small project-owned sample files; and the `kauko partners import`
//! command as an operator runs it.

mod support;

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use app::domain::Partner;
use app::staff_import::{ImportPhase, ImportReport, Outcome};
use server::partners_import::sources::{alma_users, legacy_csv};
use server::partners_import::testdata::{self, Sizes};
use server::partners_import::{all_partners, report, run, ImportInput, ImportOptions};
use server::port::ResourceSharing;
use server::storage::Db;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/partners")
            .join(name),
    )
    .unwrap()
}

fn reasons(report: &ImportReport, reason: &str) -> usize {
    report
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Rejected && e.reason.as_deref() == Some(reason))
        .count()
}

fn assert_no_secrets(report: &ImportReport, secrets: &[String]) {
    let json = serde_json::to_string(report).unwrap();
    let csv = report::to_csv(report);
    for s in secrets {
        assert!(!json.contains(s.as_str()), "secret {s} in the report");
        assert!(!csv.contains(s.as_str()), "secret {s} in the CSV report");
    }
}

async fn import(
    port: &dyn ResourceSharing,
    input: &ImportInput,
    apply: bool,
) -> (ImportReport, Vec<ImportPhase>) {
    let phases = std::sync::Mutex::new(Vec::new());
    let calls = AtomicU64::new(0);
    let progress = |p: server::partners_import::Progress| {
        calls.fetch_add(1, Ordering::Relaxed);
        assert!(p.done <= p.total, "{p:?}");
        let mut phases = phases.lock().unwrap();
        if phases.last() != Some(&p.phase) {
            phases.push(p.phase);
        }
    };
    let options = ImportOptions {
        apply,
        ..ImportOptions::default()
    };
    let report = run(port, input, &options, &progress).await.unwrap();
    assert!(calls.load(Ordering::Relaxed) > 3);
    (report, phases.into_inner().unwrap())
}

fn sorted(mut partners: Vec<Partner>) -> Vec<Partner> {
    partners.sort_by(|a, b| a.code.cmp(&b.code));
    partners
}

/// The whole story on one database: dry run, apply, run again.
async fn generated_set_scenario(db: Db) {
    let local = support::LocalHarness::new(db, None);
    let port: Arc<dyn ResourceSharing> = local.backend.clone();
    let data = testdata::standard();
    let want = data.expected;
    assert!(Sizes::STANDARD.libraries() >= 600);
    assert_eq!(
        testdata::standard().legacy_csv,
        data.legacy_csv,
        "deterministic"
    );
    for p in &data.existing {
        port.create_partner(p.clone()).await.unwrap();
    }
    let input = ImportInput {
        alma: Some(data.alma_json.clone()),
        legacy: Some(data.legacy_csv.clone()),
    };

    // Dry run: exact counts, nothing written.
    let (dry, phases) = import(port.as_ref(), &input, false).await;
    let c = &dry.counts;
    assert_eq!(
        (c.alma_records, c.legacy_rows),
        (want.alma_records, want.legacy_rows)
    );
    assert_eq!(c.merged, want.merged, "merged");
    assert_eq!(c.created, want.created, "created");
    assert_eq!(c.updated, want.updated, "updated");
    assert_eq!(c.unchanged, want.unchanged, "unchanged");
    assert_eq!(c.conflicts, want.conflicts, "conflicts");
    assert_eq!(c.rejected, want.rejected, "rejected");
    assert_eq!(c.failed, 0);
    assert_eq!(reasons(&dry, "missing_name"), want.missing_name);
    assert_eq!(reasons(&dry, "missing_code"), want.missing_code);
    assert_eq!(reasons(&dry, "duplicate_code"), want.duplicate_code);
    assert_eq!(reasons(&dry, "duplicate_row"), want.duplicate_row);
    assert_eq!(reasons(&dry, "missing_email"), want.missing_email);
    assert_eq!(reasons(&dry, "not_a_library"), want.not_a_library);
    assert_eq!(dry.encoding.as_deref(), Some("mixed"));
    assert_eq!(dry.delimiter.as_deref(), Some(";"));
    assert!(!dry.applied);
    assert_eq!(
        phases,
        [
            ImportPhase::Reading,
            ImportPhase::Matching,
            ImportPhase::Planning,
            ImportPhase::Done
        ]
    );
    for e in dry
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Conflict)
    {
        assert_eq!(e.conflicts.len(), 1, "{e:?}");
        assert_eq!(e.sources.len(), 2);
    }
    for e in dry.entries.iter().filter(|e| e.outcome == Outcome::Updated) {
        assert_eq!(
            e.changes
                .iter()
                .map(|c| c.field.as_str())
                .collect::<Vec<_>>(),
            ["phone"],
            "{e:?}"
        );
    }
    assert_no_secrets(&dry, &data.secrets);
    assert_eq!(
        sorted(all_partners(port.as_ref()).await.unwrap()),
        sorted(data.existing.clone()),
        "a dry run writes nothing"
    );

    // Apply: the same outcome, now written.
    let (applied, phases) = import(port.as_ref(), &input, true).await;
    assert!(applied.applied);
    assert!(phases.contains(&ImportPhase::Applying));
    assert_eq!(applied.counts, dry.counts);
    let stored = sorted(all_partners(port.as_ref()).await.unwrap());
    assert_eq!(stored.len(), data.truth.len());
    assert_eq!(stored, data.truth, "every partner as the truth has it");
    let stored_json = serde_json::to_string(&stored).unwrap();
    for s in &data.secrets {
        assert!(!stored_json.contains(s.as_str()), "secret {s} stored");
    }

    // Again: nothing changes, nothing is duplicated.
    let (again, _) = import(port.as_ref(), &input, true).await;
    let c = &again.counts;
    assert_eq!((c.created, c.updated, c.failed), (0, 0, 0));
    assert_eq!(c.unchanged, want.created + want.updated + want.unchanged);
    assert_eq!((c.conflicts, c.rejected), (want.conflicts, want.rejected));
    assert_eq!(
        sorted(all_partners(port.as_ref()).await.unwrap()),
        stored,
        "the second run changed nothing"
    );

    // The same users as XML are the same partners.
    let xml = ImportInput {
        alma: Some(data.alma_xml.clone()),
        legacy: Some(data.legacy_csv.clone()),
    };
    let (from_xml, _) = import(port.as_ref(), &xml, false).await;
    assert_eq!(from_xml.counts, again.counts);
}

#[tokio::test]
async fn generated_set_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    generated_set_scenario(db).await;
}

#[tokio::test]
async fn generated_set_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    generated_set_scenario(db).await;
}

#[tokio::test]
async fn fixtures_dry_run_apply_and_again() {
    let (db, _dir) = support::sqlite_db().await;
    let local = support::LocalHarness::new(db, None);
    let port: &dyn ResourceSharing = local.backend.as_ref();
    let input = ImportInput {
        alma: Some(fixture("alma_users.json")),
        legacy: Some(fixture("legacy_latin1.csv")),
    };
    let (dry, _) = import(port, &input, false).await;
    let c = &dry.counts;
    assert_eq!(
        (c.alma_records, c.legacy_rows, c.merged),
        (4, 7, 3),
        "{dry:#?}"
    );
    assert_eq!(
        (c.created, c.updated, c.unchanged, c.conflicts, c.rejected),
        (4, 0, 0, 1, 3)
    );
    assert_eq!(dry.encoding.as_deref(), Some("windows-1252"));
    let conflict = dry
        .entries
        .iter()
        .find(|e| e.outcome == Outcome::Conflict)
        .unwrap();
    assert_eq!(conflict.code.as_deref(), Some("KB"));
    assert_eq!(conflict.conflicts[0].field, "email");
    assert_eq!(conflict.conflicts[0].alma, "fjarrlan@kb.se");
    assert_eq!(conflict.conflicts[0].legacy, "ill@kb.se");
    let mut rejected: Vec<&str> = dry
        .entries
        .iter()
        .filter_map(|e| e.reason.as_deref())
        .collect();
    rejected.sort_unstable();
    assert_eq!(rejected, ["missing_email", "missing_name", "not_a_library"]);
    let secrets = [
        "alma-secret-1",
        "alma-secret-2",
        "kb-secret-3",
        "hunter2",
        "legacy-key-1",
    ]
    .map(String::from);
    assert_no_secrets(&dry, &secrets);

    import(port, &input, true).await;
    let hul = port.get_partner("HUL").await.unwrap();
    assert_eq!(hul.name, "Helsingin yliopiston kirjasto");
    assert_eq!(hul.isil.as_deref(), Some("FI-Hul"));
    assert_eq!(hul.notes.as_deref(), Some("Vain kopiot"));
    assert_eq!(hul.address.country.as_deref(), Some("FI"));
    let abo = port.get_partner("ABO").await.unwrap();
    assert_eq!(abo.name, "Åbo Akademis bibliotek");
    assert_eq!(abo.address.city.as_deref(), Some("Åbo"));
    assert_eq!(
        abo.notes.as_deref(),
        Some("Ring först; Password: [redacted]")
    );
    assert!(!port.get_partner("TKU").await.unwrap().lending_supported);

    let (again, _) = import(port, &input, true).await;
    assert_eq!(
        (
            again.counts.created,
            again.counts.updated,
            again.counts.unchanged
        ),
        (0, 0, 4)
    );
}

#[test]
fn the_xml_fixture_reads_like_the_json_one() {
    let json = alma_users::parse(&fixture("alma_users.json")).unwrap();
    let xml = alma_users::parse(&fixture("alma_users.xml")).unwrap();
    assert_eq!(json.len(), 4);
    assert_eq!(json, xml);
    let csv = legacy_csv::parse(
        &fixture("legacy_latin1.csv"),
        legacy_csv::Encoding::Latin1,
        Some(b';'),
    )
    .unwrap();
    assert_eq!(csv.records.len(), 7);
    assert_eq!(
        csv.records[2].name.as_deref(),
        Some("Åbo Akademis bibliotek")
    );
}

#[tokio::test]
async fn unreadable_files_are_errors_with_a_reason() {
    let (db, _dir) = support::sqlite_db().await;
    let local = support::LocalHarness::new(db, None);
    let port: &dyn ResourceSharing = local.backend.as_ref();
    for (alma, legacy) in [
        (Some(b"{not json".to_vec()), None),
        (None, Some(b"koodi2;nimi2\n1;2\n".to_vec())),
        (None, None),
    ] {
        let input = ImportInput { alma, legacy };
        let result = run(port, &input, &ImportOptions::default(), &|_| {}).await;
        assert!(result.is_err(), "{result:?}");
        assert!(!result.unwrap_err().to_string().is_empty());
    }
}

// --- The command ---------------------------------------------------------

fn kauko(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kauko"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KAUKO_LOG", "warn")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn count_line(stdout: &str, label: &str) -> Option<usize> {
    stdout.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some(label))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

#[test]
fn the_command_dry_runs_applies_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/partners");
    let json = fixtures.join("alma_users.json");
    let xml = fixtures.join("alma_users.xml");
    let csv = fixtures.join("legacy_latin1.csv");
    let (json, xml, csv) = (
        json.to_str().unwrap(),
        xml.to_str().unwrap(),
        csv.to_str().unwrap(),
    );

    let (code, out, err) = kauko(
        dir.path(),
        &[
            "partners",
            "import",
            "--alma-users",
            json,
            "--legacy",
            csv,
            "--report",
            "dry.csv",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("dry run"), "{out}");
    assert!(out.contains("windows-1252"), "{out}");
    assert_eq!(count_line(&out, "created"), Some(4), "{out}");
    assert_eq!(count_line(&out, "conflicts"), Some(1), "{out}");
    assert_eq!(count_line(&out, "rejected"), Some(3), "{out}");
    assert!(
        err.contains("Reading") && err.contains("Planning"),
        "progress: {err}"
    );
    let report = std::fs::read_to_string(dir.path().join("dry.csv")).unwrap();
    assert!(report.starts_with("outcome,code,name"), "{report}");
    assert!(report.contains("Åbo Akademis bibliotek"), "{report}");
    assert!(
        report.contains("conflict,KB,Kungliga biblioteket"),
        "{report}"
    );
    for secret in ["alma-secret", "kb-secret", "hunter2", "legacy-key"] {
        assert!(!report.contains(secret) && !out.contains(secret));
    }

    let (code, out, err) = kauko(
        dir.path(),
        &[
            "partners",
            "import",
            "--alma-users",
            json,
            "--legacy",
            csv,
            "--apply",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("applied"), "{out}");
    assert_eq!(count_line(&out, "created"), Some(4), "{out}");
    assert!(err.contains("Applying"), "{err}");

    // Again, from the XML file, naming the encoding and delimiter.
    let (code, out, err) = kauko(
        dir.path(),
        &[
            "partners",
            "import",
            "--alma-users",
            xml,
            "--legacy",
            csv,
            "--encoding",
            "latin1",
            "--delimiter",
            ";",
            "--apply",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(count_line(&out, "created"), Some(0), "{out}");
    assert_eq!(count_line(&out, "updated"), Some(0), "{out}");
    assert_eq!(count_line(&out, "unchanged"), Some(4), "{out}");

    let (code, _, err) = kauko(
        dir.path(),
        &[
            "partners",
            "import",
            "--legacy",
            csv,
            "--encoding",
            "ebcdic",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--encoding"), "{err}");
    let (code, _, err) = kauko(dir.path(), &["partners", "import"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = kauko(
        dir.path(),
        &["partners", "import", "--legacy", "/nonexistent.csv"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent.csv"), "{err}");
}
