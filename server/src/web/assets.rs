//! The front end's built files (`target/site/pkg`): their names, which
//! cargo-leptos makes content-hashed (`hash-files` in Cargo.toml: for
//! example `kauko.Xq3…_A.wasm`, listed in `hash.txt` beside the server's
//! executable), how long a browser may keep them, and the service that
//! sends them.

use std::path::Path;
use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use tower::Layer;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// The folder, beside `pkg`, where the release build keeps each
/// content-hashed file compressed at its best (`<name>.br`, `<name>.gz`;
/// scripts/precompress.mjs).
pub const PRECOMPRESSED_DIR: &str = "pkg-precompressed";

/// `/pkg`: a content-hashed file's precompressed copy when the browser
/// accepts its encoding (brotli first), else the file from `pkg` (which
/// the compression layer then compresses on the way out, at a level that
/// spares the CPU). A copy is only ever made for a hashed name, which never
/// stands for other bytes, so it cannot be stale. Every answer says it
/// varies with `Accept-Encoding`, so a cache between keeps the encodings
/// apart.
pub fn service(site_root: &Path) -> SetResponseHeader<ServeDir<ServeDir>, HeaderValue> {
    let files = ServeDir::new(site_root.join(PRECOMPRESSED_DIR))
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeDir::new(site_root.join("pkg")));
    SetResponseHeaderLayer::if_not_present(
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    )
    .layer(files)
}

/// The stylesheet's URL, for pages written without Leptos (the error
/// page): `/pkg/kauko.<hash>.css`, or `/pkg/kauko.css` without hashes.
pub fn stylesheet_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| match app::hydration::built_hash("css") {
        Some(hash) => format!("/pkg/kauko.{hash}.css"),
        None => "/pkg/kauko.css".to_owned(),
    })
}

/// Whether a `/pkg/` path names a content-hashed file: one whose name has
/// a dot-separated part of 22 base64url characters (cargo-leptos's MD5
/// hash). Such a file never changes, so browsers may keep it for a year.
pub fn is_fingerprinted(path: &str) -> bool {
    let Some(name) = path.strip_prefix("/pkg/") else {
        return false;
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    name.split('.').any(|part| {
        part.len() == 22
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            // (cargo-leptos's placeholder, before hashing, is all `_`)
            && part.bytes().any(|b| b.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprinted_names() {
        assert!(is_fingerprinted("/pkg/kauko.Xq3mZ0aK9_bC-dEfGhIjKl.wasm"));
        assert!(is_fingerprinted(
            "/pkg/__wasm_split.Xq3mZ0aK9_bC-dEfGhIjKl.js"
        ));
        assert!(!is_fingerprinted("/pkg/kauko.wasm"));
        assert!(!is_fingerprinted("/pkg/kauko.css"));
        assert!(!is_fingerprinted(
            "/pkg/__wasm_split.______________________.js"
        ));
        assert!(!is_fingerprinted("/favicon.svg"));
        assert!(!is_fingerprinted("/my/Xq3mZ0aK9_bC-dEfGhIjKl.wasm"));
    }
}
