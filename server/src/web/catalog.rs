//! `/i18n/{lang}.json` (the patron part) and `/i18n/{lang}.all.json` (every
//! string, for staff pages): a language's strings for the browser (see
//! `app::i18n::Part`). The URL the pages name carries the catalogue's version
//! (`?v=`), so that answer may be cached for a year; any other (an old or
//! missing version) is revalidated.

use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use app::i18n::{self, Lang, Part};

pub async fn catalog(Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    // Exactly `fi.json`, `fi.all.json`, `sv.json`, ...
    let (name, part) = match file.strip_suffix(".all.json") {
        Some(name) => (Some(name), Part::All),
        None => (file.strip_suffix(".json"), Part::Patron),
    };
    let Some(lang) = Lang::ALL.into_iter().find(|l| name == Some(l.code())) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let current = query
        .as_deref()
        .and_then(|q| i18n::query_value(q, "v"))
        .is_some_and(|v| v == i18n::catalog_version(lang, part));
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        i18n::catalog_text(lang, part),
    )
        .into_response()
}
