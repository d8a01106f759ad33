//! Partner records import, as staff run it from `/staff/partners/import`:
//! the report shared by the server (which builds it, see
//! `server::partners_import`) and the browser (which shows it), the
//! [`PartnerImportService`] the server provides as context, and the server
//! functions the page calls. Every server function needs a staff session.
//!
//! The report never holds a password or key: it is built only from the
//! fields of [`crate::domain::Partner`], and notes are redacted before they
//! get there.

use async_trait::async_trait;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What happened (or, in a dry run, would happen) to one partner or row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// The sources disagree on a field: nothing is written until a source
    /// is corrected.
    Conflict,
    /// The row could not be used (see the reason).
    Rejected,
    /// Applying failed at the library system.
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Created,
        Outcome::Updated,
        Outcome::Unchanged,
        Outcome::Conflict,
        Outcome::Rejected,
        Outcome::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Conflict => "conflict",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }

    /// Translation key of the label.
    pub fn label_key(self) -> &'static str {
        match self {
            Outcome::Created => "import.outcome.created",
            Outcome::Updated => "import.outcome.updated",
            Outcome::Unchanged => "import.outcome.unchanged",
            Outcome::Conflict => "import.outcome.conflict",
            Outcome::Rejected => "import.outcome.rejected",
            Outcome::Failed => "import.outcome.failed",
        }
    }
}

/// The two sources of an import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Library-type user records from Alma's users API (JSON or XML).
    Alma,
    /// The legacy ILL system's CSV export.
    Legacy,
}

impl SourceKind {
    pub fn code(self) -> &'static str {
        match self {
            SourceKind::Alma => "alma",
            SourceKind::Legacy => "legacy",
        }
    }
}

/// Where a record came from: the source, its position (the CSV line, or the
/// user's position in the Alma file, from 1) and its id there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub source: SourceKind,
    pub row: usize,
    pub id: Option<String>,
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.source.code(), self.row)?;
        if let Some(id) = &self.id {
            write!(f, " ({id})")?;
        }
        Ok(())
    }
}

/// A field an update changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A field the two sources disagree on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: String,
    pub alma: String,
    pub legacy: String,
}

/// One line of the report: a partner (created, updated, unchanged, in
/// conflict, failed) or a rejected row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportEntry {
    pub outcome: Outcome,
    pub code: Option<String>,
    pub name: Option<String>,
    pub sources: Vec<SourceRef>,
    #[serde(default)]
    pub changes: Vec<FieldChange>,
    #[serde(default)]
    pub conflicts: Vec<FieldConflict>,
    /// For rejected and failed entries: a reason code (translation key
    /// `import.reason.<code>`).
    pub reason: Option<String>,
    /// More about the reason (the rows involved, the library system's
    /// message), not translated.
    pub detail: Option<String>,
    /// Codes of things normalisation fixed or dropped (`import.warning.<code>`).
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Records read from the Alma file (every user, library or not).
    pub alma_records: usize,
    /// Data rows read from the legacy CSV.
    pub legacy_rows: usize,
    /// Partners found in both sources and merged into one (conflicting
    /// ones included).
    pub merged: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub rejected: usize,
    pub failed: usize,
}

impl Counts {
    pub fn of(&self, outcome: Outcome) -> usize {
        match outcome {
            Outcome::Created => self.created,
            Outcome::Updated => self.updated,
            Outcome::Unchanged => self.unchanged,
            Outcome::Conflict => self.conflicts,
            Outcome::Rejected => self.rejected,
            Outcome::Failed => self.failed,
        }
    }
}

/// The whole report of a dry run or an applied run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Whether the changes were written (false: a dry run).
    pub applied: bool,
    /// The legacy file's encoding as read (`utf-8`, `windows-1252`, `mixed`).
    pub encoding: Option<String>,
    /// The legacy file's delimiter as read.
    pub delimiter: Option<String>,
    pub counts: Counts,
    pub entries: Vec<ReportEntry>,
}

/// The stages of a run, for the progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportPhase {
    Reading,
    Matching,
    Planning,
    Applying,
    Done,
    Failed,
}

impl ImportPhase {
    pub fn label_key(self) -> &'static str {
        match self {
            ImportPhase::Reading => "import.phase.reading",
            ImportPhase::Matching => "import.phase.matching",
            ImportPhase::Planning => "import.phase.planning",
            ImportPhase::Applying => "import.phase.applying",
            ImportPhase::Done => "import.phase.done",
            ImportPhase::Failed => "import.phase.failed",
        }
    }
}

/// A run's state, as the page polls it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStatus {
    pub job: String,
    /// An applying run (false: a dry run).
    pub apply: bool,
    pub phase: ImportPhase,
    pub done: u64,
    pub total: u64,
    /// Why the run failed (a file that could not be read, the library
    /// system unavailable).
    pub error: Option<String>,
    /// Once the run is done.
    pub report: Option<ImportReport>,
}

impl ImportStatus {
    pub fn finished(&self) -> bool {
        matches!(self.phase, ImportPhase::Done | ImportPhase::Failed)
    }
}

/// The files staff uploaded, and how to read the CSV.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportUpload {
    pub alma: Option<Vec<u8>>,
    pub legacy: Option<Vec<u8>>,
    /// `auto`, `utf8` or `latin1`.
    pub encoding: String,
    /// `auto`, `;`, `,` or `tab`.
    pub delimiter: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportServiceError {
    /// No such run for this staff member.
    #[error("no such import run")]
    NotFound,
    /// The run is still going, or is not a finished dry run.
    #[error("the run is not finished, or is not a dry run")]
    NotReady,
    #[error("{0}")]
    Invalid(String),
}

/// Runs imports in the background and keeps their reports for a while; the
/// server implements it (`server::partners_import::jobs`).
#[async_trait]
pub trait PartnerImportService: Send + Sync {
    /// Starts a dry run; returns the run's id.
    async fn start_dry_run(
        &self,
        owner: &str,
        upload: ImportUpload,
    ) -> Result<String, ImportServiceError>;

    /// Applies what a finished dry run of the same staff member found, from
    /// the same files; returns the new run's id.
    async fn start_apply(&self, owner: &str, dry_run: &str) -> Result<String, ImportServiceError>;

    async fn status(&self, owner: &str, job: &str) -> Result<ImportStatus, ImportServiceError>;

    /// The finished run's report as CSV.
    async fn report_csv(&self, owner: &str, job: &str) -> Result<String, ImportServiceError>;
}

/// Every reason a row can be rejected or a write fail for (translation keys
/// `import.reason.<code>`).
pub const REASONS: [&str; 13] = [
    "unreadable_row",
    "not_a_library",
    "missing_code",
    "invalid_code",
    "missing_name",
    "iso18626_without_symbol",
    "duplicate_row",
    "duplicate_code",
    "duplicate_isil",
    "ambiguous_match",
    "missing_email",
    "code_collision",
    "port_error",
];

/// Every warning normalisation or merging can give (`import.warning.<code>`).
pub const WARNINGS: [&str; 9] = [
    "invalid_isil",
    "invalid_email",
    "multiple_emails",
    "unknown_country",
    "bad_borrowing_flag",
    "bad_lending_flag",
    "unknown_status",
    "unknown_profile",
    "legacy_code_differs",
];

/// Every field a change or conflict can name (`import.field.<name>`).
pub const FIELDS: [&str; 16] = [
    "name",
    "status",
    "profile",
    "isil",
    "email",
    "phone",
    "address_lines",
    "postal_code",
    "city",
    "country",
    "lending",
    "borrowing",
    "instructions",
    "notes",
    "iso18626_symbol",
    "iso18626_url",
];

/// Largest file accepted from the page (each), in bytes.
pub const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (the page sends files this way, so that
/// Latin-1 bytes arrive untouched).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes [`base64_encode`]'s output; `None` for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if text.len() % 4 != 0 {
        return None;
    }
    let value = |c: u8| B64.iter().position(|&x| x == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (i, chunk) in text.chunks(4).enumerate() {
        let last = i == text.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (j, &c) in chunk.iter().enumerate() {
            let v = if j >= 4 - pad { 0 } else { value(c)? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// Starts a dry run of the uploaded files (base64; either may be empty).
#[server(endpoint = "staff/partners/import/start", output = crate::api::codec::Answer)]
pub async fn import_start(
    alma: String,
    legacy: String,
    encoding: String,
    delimiter: String,
) -> Result<String, ServerFnError> {
    let viewer = crate::api::ssr::require_staff()?;
    let decode = |text: &str| -> Result<Option<Vec<u8>>, ServerFnError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let bytes = base64_decode(text).ok_or_else(|| ssr::bad_request("not base64"))?;
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(ssr::bad_request("file too large"));
        }
        Ok(Some(bytes))
    };
    let upload = ImportUpload {
        alma: decode(&alma)?,
        legacy: decode(&legacy)?,
        encoding,
        delimiter,
    };
    ssr::service()?
        .start_dry_run(&viewer.user_id, upload)
        .await
        .map_err(ssr::service_error)
}

/// Applies a finished dry run; returns the applying run's id.
#[server(endpoint = "staff/partners/import/apply", output = crate::api::codec::Answer)]
pub async fn import_apply(job: String) -> Result<String, ServerFnError> {
    let viewer = crate::api::ssr::require_staff()?;
    ssr::service()?
        .start_apply(&viewer.user_id, &job)
        .await
        .map_err(ssr::service_error)
}

/// A run's progress, and its report once done.
#[server(endpoint = "staff/partners/import/status", output = crate::api::codec::Answer)]
pub async fn import_progress(job: String) -> Result<ImportStatus, ServerFnError> {
    let viewer = crate::api::ssr::require_staff()?;
    ssr::service()?
        .status(&viewer.user_id, &job)
        .await
        .map_err(ssr::service_error)
}

/// A finished run's report as CSV text.
#[server(endpoint = "staff/partners/import/report_csv", output = crate::api::codec::Answer)]
pub async fn import_report_csv(job: String) -> Result<String, ServerFnError> {
    let viewer = crate::api::ssr::require_staff()?;
    ssr::service()?
        .report_csv(&viewer.user_id, &job)
        .await
        .map_err(ssr::service_error)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::sync::Arc;

    use http::StatusCode;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    use super::{ImportServiceError, PartnerImportService};

    fn fail(status: StatusCode, message: &str) -> ServerFnError {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status);
        }
        ServerFnError::new(message)
    }

    pub fn bad_request(message: &str) -> ServerFnError {
        fail(StatusCode::BAD_REQUEST, message)
    }

    pub fn service() -> Result<Arc<dyn PartnerImportService>, ServerFnError> {
        use_context::<Arc<dyn PartnerImportService>>()
            .ok_or_else(|| fail(StatusCode::INTERNAL_SERVER_ERROR, "no import service"))
    }

    pub fn service_error(e: ImportServiceError) -> ServerFnError {
        match e {
            ImportServiceError::NotFound => fail(StatusCode::NOT_FOUND, "not found"),
            ImportServiceError::NotReady => fail(StatusCode::CONFLICT, &e.to_string()),
            ImportServiceError::Invalid(m) => fail(StatusCode::UNPROCESSABLE_ENTITY, &m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_refuses_junk() {
        for input in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            b"\xe4\xf6\xe5;\xff\x00",
        ] {
            let encoded = base64_encode(input);
            assert_eq!(base64_decode(&encoded).as_deref(), Some(input), "{encoded}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8"), None);
        assert_eq!(base64_decode("Zm=8"), None);
        assert_eq!(base64_decode("Z!8="), None);
        assert_eq!(base64_decode("Zm8=Zm8="), None);
    }

    #[test]
    fn every_reason_warning_and_field_is_translated() {
        for lang in crate::i18n::Lang::ALL {
            for (prefix, codes) in [
                ("import.reason.", &REASONS[..]),
                ("import.warning.", &WARNINGS[..]),
                ("import.field.", &FIELDS[..]),
            ] {
                for code in codes {
                    let key = format!("{prefix}{code}");
                    assert!(crate::i18n::has_key(lang, &key), "{lang:?} {key}");
                }
            }
        }
    }

    #[test]
    fn every_outcome_and_phase_has_a_label() {
        for outcome in Outcome::ALL {
            for lang in crate::i18n::Lang::ALL {
                assert!(crate::i18n::has_key(lang, outcome.label_key()));
            }
        }
        for phase in [
            ImportPhase::Reading,
            ImportPhase::Matching,
            ImportPhase::Planning,
            ImportPhase::Applying,
            ImportPhase::Done,
            ImportPhase::Failed,
        ] {
            assert!(crate::i18n::has_key(
                crate::i18n::Lang::Sv,
                phase.label_key()
            ));
        }
    }
}
