//! `GET /widgets/{file}`: the Primo widget bundle and its two shims, built
//! into the binary from `frontend/primo/` (hand-written ES2020, no build
//! step). Each has a strong ETag (a hash of its bytes): a browser keeps it
//! for an hour, then revalidates (a 304 without a body while it has not
//! changed). The compression layer gzips or brotli-compresses them.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use sha2::{Digest, Sha256};

/// The custom elements `<kauko-ill-button>` and `<kauko-ill-status>`.
pub const BUNDLE: &str = include_str!("../../../frontend/primo/kauko-primo.js");
/// The classic Primo VE shim (pasted into the view's `custom.js`).
pub const CLASSIC_SHIM: &str = include_str!("../../../frontend/primo/kauko-primo-classic.js");
/// The NDE add-on (a remote module the NDE view loads).
pub const NDE_ADDON: &str = include_str!("../../../frontend/primo/kauko-primo-nde.js");

pub const FILES: [(&str, &str); 3] = [
    ("kauko-primo.js", BUNDLE),
    ("kauko-primo-classic.js", CLASSIC_SHIM),
    ("kauko-primo-nde.js", NDE_ADDON),
];

fn etag(index: usize) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        FILES
            .iter()
            .map(|(_, body)| {
                let digest = Sha256::digest(body.as_bytes());
                let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
                format!("\"{hex}\"")
            })
            .collect()
    });
    &tags[index]
}

pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response<Body> {
    let Some(index) = FILES.iter().position(|(name, _)| *name == file) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty())
            .unwrap_or_default();
    };
    let tag = etag(index);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag)
        });
    let builder = Response::builder()
        .header(header::ETAG, HeaderValue::from_static(tag))
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .header(header::CONTENT_TYPE, "text/javascript; charset=utf-8")
        // Loaded by Primo's pages on another origin.
        .header("cross-origin-resource-policy", "cross-origin");
    if fresh {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_default();
    }
    builder
        .status(StatusCode::OK)
        .body(Body::from(FILES[index].1))
        .unwrap_or_default()
}
