//! A copy sent as a file: staff upload the scanned article on a lending
//! request's page (`POST /staff/lending/{id}/copy`, a plain multipart form,
//! so it works without the page's script too); Kauko keeps the file in its
//! database (shared by every instance) and records the "copy sent" step
//! with a download link in the request's history, as it does for a link
//! staff paste. The requesting library downloads the copy from
//! `GET /copies/{token}` (an unguessable token, no account) until the link
//! expires (`lending.copy_days`).
//!
//! Only PDF and common image files are taken, known by their first bytes
//! (not by the name or the type the browser claims); they are served as
//! downloads (`attachment`, `nosniff`, a sandboxing CSP), never shown
//! inline on Kauko's origin.

use std::sync::Arc;

use app::desk::{ActInput, DeskError, StaffDesk};
use app::domain::history::Side;
use app::domain::workflow::LendingAction;
use app::viewer::Viewer;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

use crate::storage::{parse_ts, ts, Db};
use crate::web::AppState;

/// The kinds of file a copy may be, by their first bytes.
const KINDS: [(&[u8], &str, &str); 5] = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"II*\0", "image/tiff", "tif"),
    (b"MM\0*", "image/tiff", "tif"),
];

/// The content type (and usual extension) of a copy, if it is one Kauko
/// takes.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    KINDS
        .iter()
        .find(|(magic, _, _)| bytes.starts_with(magic))
        .map(|(_, kind, ext)| (*kind, *ext))
}

/// A file name fit for a `Content-Disposition` header: the last path
/// segment, without control characters, quotes or backslashes, at most 100
/// characters, with the extension of what the file really is.
pub fn safe_name(given: &str, ext: &str) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = base
        .rsplit_once('.')
        .map_or(base, |(stem, _)| stem)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | ';'))
        .take(100)
        .collect::<String>();
    let stem = stem.trim();
    format!("{}.{ext}", if stem.is_empty() { "copy" } else { stem })
}

/// A stored copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCopy {
    pub request_id: String,
    pub file_name: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// Copies in Kauko's database.
#[derive(Clone)]
pub struct CopyStore {
    db: Db,
}

impl CopyStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Keeps a copy; returns its download token.
    pub async fn put(
        &self,
        request_id: &str,
        file_name: &str,
        content_type: &str,
        body: Vec<u8>,
        uploaded_by: &str,
        valid_for: Duration,
    ) -> Result<String, sqlx::Error> {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Utc::now();
        sqlx::query(
            "INSERT INTO copy_files (token, request_id, file_name, content_type, size, body, uploaded_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(token.clone())
        .bind(request_id.to_owned())
        .bind(file_name.to_owned())
        .bind(content_type.to_owned())
        .bind(i64::try_from(body.len()).unwrap_or(i64::MAX))
        .bind(body)
        .bind(uploaded_by.to_owned())
        .bind(ts(now))
        .bind(ts(now + valid_for))
        .execute(&self.db.pool)
        .await?;
        Ok(token)
    }

    /// Forgets a copy whose step was not recorded.
    pub async fn discard(&self, token: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM copy_files WHERE token = $1")
            .bind(token.to_owned())
            .execute(&self.db.pool)
            .await
            .map(|_| ())
    }

    /// A copy by its token (counting the download).
    pub async fn take(&self, token: &str) -> Result<Option<StoredCopy>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT request_id, file_name, content_type, body, expires_at FROM copy_files WHERE token = $1",
        )
        .bind(token.to_owned())
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query("UPDATE copy_files SET downloads = downloads + 1 WHERE token = $1")
            .bind(token.to_owned())
            .execute(&self.db.pool)
            .await?;
        Ok(Some(StoredCopy {
            request_id: row.try_get("request_id")?,
            file_name: row.try_get("file_name")?,
            content_type: row.try_get("content_type")?,
            body: row.try_get("body")?,
            expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
        }))
    }

    /// How many times a copy has been downloaded.
    pub async fn downloads(&self, token: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT downloads FROM copy_files WHERE token = $1")
            .bind(token.to_owned())
            .fetch_one(&self.db.pool)
            .await
    }
}

/// Why an upload was not taken: the translation key shown on the page.
fn refused(id: &str, key: &str) -> Response<Body> {
    see_other(&format!("/staff/lending/{}?copy={key}", enc(id)))
}

/// Percent-encodes everything but letters and digits.
fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn see_other(to: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .body(Body::empty())
        .unwrap_or_default()
}

/// The upload's fields.
#[derive(Default)]
struct Upload {
    version: Option<i64>,
    seen_seq: Option<i64>,
    file: Option<(String, Vec<u8>)>,
}

async fn read_upload(mut form: Multipart, max: usize) -> Result<Upload, &'static str> {
    let mut upload = Upload::default();
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|_| "desk.error.copy_read")?
    {
        match field.name() {
            Some("version") => {
                upload.version = field.text().await.ok().and_then(|v| v.trim().parse().ok())
            }
            Some("seen_seq") => {
                upload.seen_seq = field.text().await.ok().and_then(|v| v.trim().parse().ok())
            }
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                // Read in chunks, so a file over the limit is refused
                // without being held whole.
                let mut body = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| "desk.error.copy_read")? {
                    if body.len() + chunk.len() > max {
                        return Err("desk.error.copy_size");
                    }
                    body.extend_from_slice(&chunk);
                }
                upload.file = Some((name, body));
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /staff/lending/{id}/copy`: staff send the copy as a file.
pub async fn upload(
    State(state): State<AppState>,
    Path(id): Path<String>,
    viewer: Option<Extension<Viewer>>,
    form: Multipart,
) -> Response<Body> {
    let staff = match crate::auth::guard::staff_only(viewer) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let Some(desk) = state.desk.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let max = state.config.lending.copy_max_bytes();
    let upload = match read_upload(form, max).await {
        Ok(u) => u,
        Err(key) => return refused(&id, key),
    };
    let (Some(version), Some(seen_seq)) = (upload.version, upload.seen_seq) else {
        return refused(&id, "desk.error.copy_read");
    };
    let Some((given_name, body)) = upload.file.filter(|(_, b)| !b.is_empty()) else {
        return refused(&id, "desk.error.copy_missing");
    };
    let Some((content_type, ext)) = sniff(&body) else {
        return refused(&id, "desk.error.copy_type");
    };
    let store = CopyStore::new(state.db.clone());
    let days = state.config.lending.copy_days;
    let token = match store
        .put(
            &id,
            &safe_name(&given_name, ext),
            content_type,
            body,
            &staff.user_id,
            Duration::days(i64::from(days)),
        )
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "storing a copy failed");
            return refused(&id, "desk.error.copy_store");
        }
    };
    let link = format!("{}/copies/{token}", state.auth.public_url);
    let result = send(&desk, &staff, &id, version, seen_seq, link).await;
    if let Err(e) = &result {
        if let Err(e) = store.discard(&token).await {
            tracing::error!(error = %e, "discarding an unsent copy failed");
        }
        let key = match e {
            DeskError::ChangedMeanwhile { .. } => "desk.changed",
            DeskError::NotAllowed => "desk.not_allowed",
            DeskError::NotFound => return StatusCode::NOT_FOUND.into_response(),
            _ => "desk.error.copy_store",
        };
        return refused(&id, key);
    }
    tracing::info!(request = %id, "a copy sent as a file");
    see_other(&format!("/staff/lending/{}?copy=sent", enc(&id)))
}

async fn send(
    desk: &Arc<dyn StaffDesk>,
    staff: &Viewer,
    id: &str,
    version: i64,
    seen_seq: i64,
    link: String,
) -> Result<(), DeskError> {
    desk.act(
        Side::Lending,
        &staff.user_id,
        ActInput {
            id: id.to_owned(),
            action: LendingAction::SendCopy.code(),
            version,
            seen_seq,
            link: Some(link),
            ..ActInput::default()
        },
    )
    .await
    .map(|_| ())
}

/// `GET /copies/{token}`: the requesting library downloads the copy.
pub async fn download(State(state): State<AppState>, Path(token): Path<String>) -> Response<Body> {
    let plain = |status: StatusCode, text: &'static str| {
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(text))
            .unwrap_or_default()
    };
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return plain(StatusCode::NOT_FOUND, GONE_TEXT);
    }
    let copy = match CopyStore::new(state.db.clone()).take(&token).await {
        Ok(Some(c)) => c,
        Ok(None) => return plain(StatusCode::NOT_FOUND, GONE_TEXT),
        Err(e) => {
            tracing::error!(error = %e, "reading a copy failed");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "Try again later.");
        }
    };
    if copy.expires_at < Utc::now() {
        return plain(StatusCode::GONE, GONE_TEXT);
    }
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        copy.file_name
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect::<String>(),
        enc(&copy.file_name)
    );
    let mut response = Response::new(Body::from(copy.body));
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&copy.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    response
}

/// Said for an unknown or expired copy, in the library's languages.
const GONE_TEXT: &str =
    "Kopio ei ole enää saatavilla. Pyydä uusi kopio lähettäneeltä kirjastolta.\n\
Kopian är inte längre tillgänglig. Be biblioteket som skickade den om en ny.\n\
This copy is no longer available. Ask the library that sent it for a new one.\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_known_by_its_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(("application/pdf", "pdf")));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0JFIF"), Some(("image/jpeg", "jpg")));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"PK\x03\x04"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_name("Artikkeli.pdf", "pdf"), "Artikkeli.pdf");
        assert_eq!(safe_name("C:\\scans\\x\"; y.exe", "pdf"), "x y.pdf");
        assert_eq!(safe_name("../../etc/passwd", "pdf"), "passwd.pdf");
        assert_eq!(safe_name("", "png"), "copy.png");
        assert_eq!(
            safe_name("a\r\nSet-Cookie: x.pdf", "pdf"),
            "aSet-Cookie: x.pdf"
        );
        assert_eq!(safe_name(&"å".repeat(300), "pdf").chars().count(), 104);
    }
}
