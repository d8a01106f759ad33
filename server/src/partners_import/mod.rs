//! Partner records import: library-type users from Alma's users API (JSON
//! or XML) and the legacy ILL system's CSV export become resource-sharing
//! partners, written through the port.
//!
//! The steps, one module each: [`sources`] read the files; [`normalize`]
//! cleans each record; [`matching`] removes duplicates within a source and
//! pairs records across them; [`merge`] combines a pair field by field
//! (conflicts are reported, never guessed); [`plan`] maps to partner
//! records and compares with what the port has; [`report`] says what
//! happened. [`run`] does it all, as a dry run unless asked to apply.
//!
//! Idempotent: a second run with the same input finds every partner
//! unchanged and creates nothing. The CLI (`kauko partners import`) and the
//! staff page (`/staff/partners/import`, through [`jobs`]) both call [`run`].

pub mod jobs;
pub mod matching;
pub mod merge;
pub mod normalize;
pub mod plan;
pub mod report;
pub mod sources;
pub mod testdata;

use std::time::Duration;

use app::domain::Partner;
use app::staff_import::{ImportPhase, ImportReport, Outcome, SourceRef};

use crate::port::{PortError, ResourceSharing};
use sources::legacy_csv::{self, Encoding};

/// Why an import could not run at all (a bad row is not such a reason: it
/// is rejected in the report).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("Alma users file: {0}")]
    Alma(String),
    #[error("legacy CSV: {0}")]
    Legacy(String),
    #[error("nothing to import: give an Alma users file, a legacy CSV or both")]
    NoInput,
    #[error("the library system could not list partners: {0}")]
    Port(PortError),
}

/// A record or row that cannot be imported, and why (a reason code:
/// `import.reason.<code>` on the staff page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub source: SourceRef,
    pub code: Option<String>,
    pub name: Option<String>,
    pub reason: String,
    pub detail: Option<String>,
}

impl Rejection {
    pub fn of(r: &normalize::NormRecord, reason: &str, detail: Option<String>) -> Self {
        Rejection {
            source: r.source.clone(),
            code: Some(r.code.clone()),
            name: Some(r.name.clone()),
            reason: reason.into(),
            detail,
        }
    }
}

/// The input files' contents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportInput {
    pub alma: Option<Vec<u8>>,
    pub legacy: Option<Vec<u8>>,
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub encoding: Encoding,
    /// `None`: detect.
    pub delimiter: Option<u8>,
    /// Write the changes (false: a dry run).
    pub apply: bool,
    /// At most this many library-system calls per second while applying
    /// (`None`: no limit). Alma's limit is shared by the whole institution.
    pub calls_per_second: Option<f64>,
    /// Retries of a call the library system refused for a transient reason
    /// (rate limit, unavailable), with a growing pause.
    pub retries: u32,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            encoding: Encoding::Auto,
            delimiter: None,
            apply: false,
            calls_per_second: None,
            retries: 4,
        }
    }
}

impl ImportOptions {
    /// Calls per second suited to the port: 5 for Alma (well below its
    /// per-second threshold), unlimited for Kauko's own database.
    pub fn pace_for(port: &dyn ResourceSharing) -> Option<f64> {
        (port.name() == "alma").then_some(5.0)
    }
}

/// Where a run is: its phase and how far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub phase: ImportPhase,
    pub done: u64,
    pub total: u64,
}

/// Every partner the port has.
pub async fn all_partners(port: &dyn ResourceSharing) -> Result<Vec<Partner>, PortError> {
    let mut all = Vec::new();
    loop {
        let page = port.list_partners(all.len() as u64, 100).await?;
        let got = page.items.len();
        all.extend(page.items);
        if got == 0 || all.len() as u64 >= page.total {
            return Ok(all);
        }
    }
}

async fn with_retries<T, F, Fut>(retries: u32, mut call: F) -> Result<T, PortError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, PortError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(e) if e.is_transient() && attempt < retries => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
}

/// Reads, normalises, matches, merges and plans; applies when asked.
pub async fn run(
    port: &dyn ResourceSharing,
    input: &ImportInput,
    options: &ImportOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    let step = |phase, done, total| progress(Progress { phase, done, total });
    if input.alma.is_none() && input.legacy.is_none() {
        return Err(ImportError::NoInput);
    }
    step(ImportPhase::Reading, 0, 2);
    let mut report = ImportReport {
        applied: options.apply,
        ..ImportReport::default()
    };
    let alma_raw = match &input.alma {
        Some(bytes) => sources::alma_users::parse(bytes)?,
        None => Vec::new(),
    };
    step(ImportPhase::Reading, 1, 2);
    let legacy_raw = match &input.legacy {
        Some(bytes) => {
            let file = legacy_csv::parse(bytes, options.encoding, options.delimiter)?;
            report.encoding = Some(file.encoding.to_owned());
            report.delimiter = Some(legacy_csv::delimiter_name(file.delimiter));
            file.records
        }
        None => Vec::new(),
    };
    report.counts.alma_records = alma_raw.len();
    report.counts.legacy_rows = legacy_raw.len();
    step(ImportPhase::Reading, 2, 2);

    let mut rejected = Vec::new();
    let mut normalise = |raw: Vec<sources::RawRecord>| {
        let mut ok = Vec::new();
        for r in raw {
            match normalize::normalize(r) {
                Ok(n) => ok.push(n),
                Err(rej) => rejected.push(rej),
            }
        }
        ok
    };
    let alma = normalise(alma_raw);
    let legacy = normalise(legacy_raw);
    step(ImportPhase::Matching, 0, 1);
    let (alma, dup_a) = matching::dedupe(alma);
    let (legacy, dup_l) = matching::dedupe(legacy);
    rejected.extend(dup_a);
    rejected.extend(dup_l);
    let (matched, ambiguous) = matching::match_records(alma, legacy);
    rejected.extend(ambiguous);
    step(ImportPhase::Matching, 1, 1);

    let mut clean = Vec::new();
    let mut entries = Vec::new();
    for m in matched {
        let merged = merge::merge(m);
        if merged.sources.len() > 1 {
            report.counts.merged += 1;
        }
        if merged.conflicts.is_empty() {
            clean.push(merged);
        } else {
            entries.push(report::conflict_entry(merged));
        }
    }
    step(ImportPhase::Planning, 0, 1);
    let existing = all_partners(port).await.map_err(ImportError::Port)?;
    let (planned, plan_rejected) = plan::plan(clean, &existing);
    rejected.extend(plan_rejected);
    step(ImportPhase::Planning, 1, 1);

    let mut planned_entries: Vec<_> = planned.iter().map(report::planned_entry).collect();
    if options.apply {
        let writes: Vec<usize> = planned
            .iter()
            .enumerate()
            .filter(|(_, p)| !matches!(p.action, plan::Action::Unchanged(_)))
            .map(|(i, _)| i)
            .collect();
        let total = writes.len() as u64;
        let pause = options
            .calls_per_second
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        step(ImportPhase::Applying, 0, total);
        for (done, &i) in writes.iter().enumerate() {
            let started = tokio::time::Instant::now();
            let result = match &planned[i].action {
                plan::Action::Create(p) => {
                    with_retries(options.retries, || port.create_partner(p.clone())).await
                }
                plan::Action::Update { after, .. } => {
                    with_retries(options.retries, || port.update_partner((**after).clone())).await
                }
                plan::Action::Unchanged(p) => Ok(p.clone()),
            };
            if let Err(e) = result {
                let entry = &mut planned_entries[i];
                entry.outcome = Outcome::Failed;
                entry.reason = Some("port_error".into());
                entry.detail = Some(e.to_string());
            }
            step(ImportPhase::Applying, done as u64 + 1, total);
            if let Some(pause) = pause {
                tokio::time::sleep_until(started + pause).await;
            }
        }
    }
    entries.extend(planned_entries);
    rejected.sort_by(|a, b| {
        (a.source.source, a.source.row, &a.reason).cmp(&(b.source.source, b.source.row, &b.reason))
    });
    entries.extend(rejected.into_iter().map(report::rejected_entry));
    entries.sort_by(|a, b| {
        let rank = |o: Outcome| Outcome::ALL.iter().position(|x| *x == o).unwrap_or(0);
        (rank(a.outcome), &a.code).cmp(&(rank(b.outcome), &b.code))
    });
    report.entries = entries;
    report::count(&mut report);
    step(ImportPhase::Done, 1, 1);
    Ok(report)
}
