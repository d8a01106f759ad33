//! `/i18n/{lang}.json`: a language's strings for the browser (see
//! `app::i18n`). The URL the pages name carries the catalogue's version
//! (`?v=`), so that answer may be cached for a year; any other (an old or
//! missing version) is revalidated.

use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use app::i18n::{self, Lang};

pub async fn catalog(Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    // Exactly `fi.json`, `sv.json` or `en.json`.
    let Some(lang) = Lang::ALL
        .into_iter()
        .find(|l| file.strip_suffix(".json") == Some(l.code()))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let current = query
        .as_deref()
        .and_then(|q| i18n::query_value(q, "v"))
        .is_some_and(|v| v == i18n::catalog_version(lang));
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
        i18n::catalog_json(lang),
    )
        .into_response()
}
