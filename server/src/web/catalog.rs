//! `/i18n/{lang}.{part}.json`: a language's strings for the browser, the
//! part a page's islands show (`request`, `lend`, or `all` for the staff
//! pages; see `app::i18n::Part`). The URL the pages name carries the catalogue's version
//! (`?v=`), so that answer may be cached for a year; any other (an old or
//! missing version) is revalidated.

use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use app::i18n::{self, Lang, Part};

pub async fn catalog(Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    // Exactly `fi.request.json`, `sv.all.json`, ...
    let Some((lang, part)) = file
        .strip_suffix(".json")
        .and_then(|name| name.split_once('.'))
        .and_then(|(lang, part)| {
            Some((
                Lang::ALL.into_iter().find(|l| l.code() == lang)?,
                Part::ALL.into_iter().find(|p| p.name() == part)?,
            ))
        })
    else {
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
