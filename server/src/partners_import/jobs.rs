//! Import runs started from the staff page: each runs in the background,
//! its progress polled by the page; its report is kept (in memory, for
//! [`KEEP`]) for the staff member who started it. "Apply" re-runs a
//! finished dry run's files with writing on, so what is applied is what was
//! reviewed (re-planned against the current partners, which keeps it
//! idempotent).
//!
//! Runs live in this server process: with several Kauko instances behind a
//! load balancer, the page's calls must reach the same instance (sticky
//! sessions), or staff use the CLI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::staff_import::{
    ImportPhase, ImportReport, ImportServiceError, ImportStatus, ImportUpload, PartnerImportService,
};
use async_trait::async_trait;

use super::sources::legacy_csv::{parse_delimiter, Encoding};
use super::{report, run, ImportInput, ImportOptions, Progress};
use crate::port::ResourceSharing;

/// How long a run's report is kept.
pub const KEEP: Duration = Duration::from_secs(2 * 3600);
/// Most runs kept at once (the oldest finished go first).
pub const MAX_JOBS: usize = 50;

struct Job {
    owner: String,
    apply: bool,
    input: Arc<ImportInput>,
    options: ImportOptions,
    progress: Progress,
    error: Option<String>,
    report: Option<Arc<ImportReport>>,
    started: Instant,
}

impl Job {
    fn finished(&self) -> bool {
        matches!(self.progress.phase, ImportPhase::Done | ImportPhase::Failed)
    }
}

#[derive(Clone)]
pub struct ImportJobs {
    port: Arc<dyn ResourceSharing>,
    jobs: Arc<Mutex<HashMap<String, Job>>>,
    /// Kauko's copy of the partner list, forgotten after an applied run so
    /// the new partners' forms are there at once.
    directory: Option<Arc<crate::partner_directory::PartnerDirectory>>,
}

impl ImportJobs {
    pub fn new(port: Arc<dyn ResourceSharing>) -> Self {
        Self {
            port,
            jobs: Arc::new(Mutex::new(HashMap::new())),
            directory: None,
        }
    }

    /// Forgets this copy of the partner list after every applied run.
    pub fn with_partner_directory(
        mut self,
        directory: Arc<crate::partner_directory::PartnerDirectory>,
    ) -> Self {
        self.directory = Some(directory);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spawn(
        &self,
        owner: &str,
        apply: bool,
        input: Arc<ImportInput>,
        options: ImportOptions,
    ) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        {
            let mut jobs = self.lock();
            jobs.retain(|_, j| j.started.elapsed() < KEEP);
            while jobs.len() >= MAX_JOBS {
                let oldest = jobs
                    .iter()
                    .filter(|(_, j)| j.finished())
                    .min_by_key(|(_, j)| j.started)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => {
                        jobs.remove(&k);
                    }
                    None => break,
                }
            }
            jobs.insert(
                id.clone(),
                Job {
                    owner: owner.to_owned(),
                    apply,
                    input: input.clone(),
                    options: options.clone(),
                    progress: Progress {
                        phase: ImportPhase::Reading,
                        done: 0,
                        total: 0,
                    },
                    error: None,
                    report: None,
                    started: Instant::now(),
                },
            );
        }
        let this = self.clone();
        let job = id.clone();
        tokio::spawn(async move {
            let options = ImportOptions {
                apply,
                calls_per_second: ImportOptions::pace_for(this.port.as_ref()),
                ..options
            };
            let progress = {
                let this = this.clone();
                let job = job.clone();
                move |p: Progress| {
                    if let Some(j) = this.lock().get_mut(&job) {
                        if p.phase != ImportPhase::Done {
                            j.progress = p;
                        }
                    }
                }
            };
            let result = run(this.port.as_ref(), &input, &options, &progress).await;
            if let Err(e) = &result {
                tracing::warn!(error = %e, job, "partner import failed");
            }
            if apply {
                if let Some(directory) = &this.directory {
                    directory.invalidate().await;
                }
            }
            if let Some(j) = this.lock().get_mut(&job) {
                match result {
                    Ok(report) => {
                        j.report = Some(Arc::new(report));
                        j.progress = Progress {
                            phase: ImportPhase::Done,
                            done: 1,
                            total: 1,
                        };
                    }
                    Err(e) => {
                        j.error = Some(e.to_string());
                        j.progress.phase = ImportPhase::Failed;
                    }
                }
            }
        });
        id
    }
}

#[async_trait]
impl PartnerImportService for ImportJobs {
    async fn start_dry_run(
        &self,
        owner: &str,
        upload: ImportUpload,
    ) -> Result<String, ImportServiceError> {
        let encoding: Encoding = upload
            .encoding
            .parse()
            .map_err(ImportServiceError::Invalid)?;
        let delimiter = parse_delimiter(upload.delimiter.trim_matches('\''))
            .map_err(ImportServiceError::Invalid)?;
        if upload.alma.is_none() && upload.legacy.is_none() {
            return Err(ImportServiceError::Invalid(
                "give an Alma users file, a legacy CSV or both".into(),
            ));
        }
        let input = Arc::new(ImportInput {
            alma: upload.alma,
            legacy: upload.legacy,
        });
        let options = ImportOptions {
            encoding,
            delimiter,
            ..ImportOptions::default()
        };
        Ok(self.spawn(owner, false, input, options))
    }

    async fn start_apply(&self, owner: &str, dry_run: &str) -> Result<String, ImportServiceError> {
        let (input, options) = {
            let jobs = self.lock();
            let job = jobs
                .get(dry_run)
                .filter(|j| j.owner == owner)
                .ok_or(ImportServiceError::NotFound)?;
            if job.apply || job.report.is_none() {
                return Err(ImportServiceError::NotReady);
            }
            (job.input.clone(), job.options.clone())
        };
        Ok(self.spawn(owner, true, input, options))
    }

    async fn status(&self, owner: &str, job: &str) -> Result<ImportStatus, ImportServiceError> {
        let jobs = self.lock();
        let j = jobs
            .get(job)
            .filter(|j| j.owner == owner)
            .ok_or(ImportServiceError::NotFound)?;
        Ok(ImportStatus {
            job: job.to_owned(),
            apply: j.apply,
            phase: j.progress.phase,
            done: j.progress.done,
            total: j.progress.total,
            error: j.error.clone(),
            report: j.report.as_deref().cloned(),
        })
    }

    async fn report_csv(&self, owner: &str, job: &str) -> Result<String, ImportServiceError> {
        let report = {
            let jobs = self.lock();
            let j = jobs
                .get(job)
                .filter(|j| j.owner == owner)
                .ok_or(ImportServiceError::NotFound)?;
            j.report.clone().ok_or(ImportServiceError::NotReady)?
        };
        Ok(report::to_csv(&report))
    }
}
