//! The public citation API for discovery widgets:
//!
//! - `GET /api/v1/citation?id=<DOI|PMID|ISBN>`: the citation an
//!   identifier names, from Crossref / DataCite / PubMed / Open Library.
//! - `GET /api/v1/citation?<OpenURL 0.1 or 1.0 KEV>`: the citation the
//!   link describes, enriched from the lookup when it carries a DOI, PMID
//!   or ISBN (the lookup's fields win; the link's fill the gaps).
//! - `GET /api/v1/openapi.yaml`: the OpenAPI 3.1 description
//!   (`docs/openapi.yaml`).
//!
//! Answers are JSON with `Access-Control-Allow-Origin: *`. Success:
//! `{citation, source, identifiers, open_access, warnings}`; failure:
//! `{error, message, service?}` with 400 (bad input), 404 (unknown to the
//! service), 429 (`too_many_requests`: over `lookup.max_lookups_per_minute`
//! for this client address, with `Retry-After`), 502 (unreadable answer),
//! 503 (service down or rate limited) or 504 (service too slow). Messages
//! are English; `error` codes are stable.

use app::domain::identifiers::{parse_identifier, Identifier, IdentifierError};
use app::domain::openurl::parse_openurl;
use app::domain::Citation;
use app::lookup::{LookupError, OpenAccessCopy, Service};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, Response, StatusCode};
use serde::Serialize;

use super::AppState;

/// The OpenAPI description, served as it is in the repository.
pub const OPENAPI_YAML: &str = include_str!("../../../docs/openapi.yaml");

/// A successful answer.
#[derive(Debug, Serialize)]
pub struct CitationAnswer {
    /// The normalised citation (see `app::domain::Citation`).
    pub citation: Citation,
    /// Where the metadata came from: `crossref`, `datacite`, `pubmed`,
    /// `openlibrary`, or `openurl` when only the link's own fields are used.
    pub source: &'static str,
    /// The work's identifiers, DOI first.
    pub identifiers: Vec<Identifier>,
    /// A free, legal copy (Unpaywall), or null.
    pub open_access: Option<OpenAccessCopy>,
    /// Lookups that failed without failing the answer (e.g. Unpaywall down,
    /// or an OpenURL whose DOI Crossref did not know).
    pub warnings: Vec<Problem>,
}

/// An error, or a warning inside a successful answer.
#[derive(Debug, Serialize)]
pub struct Problem {
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Service>,
}

fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(Body::from(body))
        .unwrap_or_default();
    if !status.is_success() {
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

fn bad_request(error: &'static str, message: String) -> Response<Body> {
    json_response(
        StatusCode::BAD_REQUEST,
        &Problem {
            error,
            message,
            service: None,
        },
    )
}

/// A lookup failure as a problem: its code, English message and status.
pub fn lookup_problem(e: &LookupError) -> (StatusCode, Problem) {
    let service = e.service();
    let name = service.display_name();
    let (status, error, message) = match e {
        LookupError::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{name} does not know this identifier."),
        ),
        LookupError::RateLimited { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream_rate_limited",
            format!("{name} is busy (rate limited); try again in a moment."),
        ),
        LookupError::Timeout { .. } => (
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            format!("{name} did not answer in time; try again later."),
        ),
        LookupError::Unavailable { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream_unavailable",
            format!("{name} is unavailable at the moment; try again later."),
        ),
        LookupError::BadResponse { .. } => (
            StatusCode::BAD_GATEWAY,
            "upstream_bad_response",
            format!("{name} sent an answer Kauko could not read."),
        ),
    };
    (
        status,
        Problem {
            error,
            message,
            service: Some(service),
        },
    )
}

fn lookup_failure(e: &LookupError) -> Response<Body> {
    let (status, problem) = lookup_problem(e);
    let mut r = json_response(status, &problem);
    if matches!(e, LookupError::RateLimited { .. }) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    r
}

/// Text from the request, shortened for an error message.
fn quoted(s: &str) -> String {
    let short: String = s.chars().take(80).collect();
    if short.len() < s.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{short}\"")
    }
}

fn source_name(service: Service) -> &'static str {
    match service {
        Service::Crossref => "crossref",
        Service::Datacite => "datacite",
        Service::Pubmed => "pubmed",
        Service::Openlibrary => "openlibrary",
        Service::Unpaywall => "unpaywall",
    }
}

/// Keys that say nothing about the work (language switch, OpenURL
/// envelope): a query of only these has no parameters.
fn is_envelope_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "lang"
        || k == "sid"
        || k.starts_with("url_")
        || k.starts_with("ctx_")
        || k.starts_with("rfr_")
        || k.starts_with("svc")
        || k.starts_with("req_")
        || k.starts_with("res_")
}

/// `GET /api/v1/citation`.
pub async fn citation(
    State(state): State<AppState>,
    client: Option<axum::Extension<app::api::lend::ClientAddr>>,
    RawQuery(query): RawQuery,
) -> Response<Body> {
    let client = client.map(|c| c.0 .0).unwrap_or_default();
    if !state.lookup_limiter.allow(&client) {
        let mut r = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &Problem {
                error: "too_many_requests",
                message: format!(
                    "At most {} look-ups a minute per client; wait a moment.",
                    state.config.lookup.max_lookups_per_minute
                ),
                service: None,
            },
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .filter(|(k, v)| !(k.is_empty() && v.is_empty()))
            .collect();
    if pairs
        .iter()
        .all(|(k, v)| is_envelope_key(k) || (k != "id" && v.trim().is_empty()))
    {
        if pairs.iter().any(|(k, _)| k == "id") {
            return bad_request(
                "empty_identifier",
                "The id parameter is empty: give a DOI, a PubMed id or an ISBN.".into(),
            );
        }
        return bad_request(
            "missing_parameters",
            "Give an identifier (id=<DOI, PubMed id or ISBN>) or OpenURL parameters (for example rft.atitle, rft.jtitle, rft.au, rft_id=info:doi/…).".into(),
        );
    }
    let ids: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.as_str())
        .collect();
    let others = pairs.iter().filter(|(k, _)| k != "id");
    let other_metadata = parse_openurl(others.map(|(k, v)| (k.as_str(), v.as_str())));
    if let ([id], None) = (ids.as_slice(), &other_metadata) {
        return by_identifier(&state, id).await;
    }
    match parse_openurl(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Some(request) => by_openurl(&state, request.citation, request.identifiers).await,
        None => bad_request(
            "no_citation",
            "The OpenURL parameters name no title, author, ISSN, ISBN or identifier (DOI, PMID)."
                .into(),
        ),
    }
}

async fn by_identifier(state: &AppState, text: &str) -> Response<Body> {
    let id = match parse_identifier(text) {
        Ok(id) => id,
        Err(IdentifierError::Empty) => {
            return bad_request(
                "empty_identifier",
                "The id parameter is empty: give a DOI, a PubMed id or an ISBN.".into(),
            )
        }
        Err(IdentifierError::IsbnChecksum) => {
            return bad_request(
                "isbn_checksum",
                format!(
                    "{} looks like an ISBN, but its check digit is wrong: check the number.",
                    quoted(text)
                ),
            )
        }
        Err(IdentifierError::Unrecognised) => {
            return bad_request(
                "unrecognised_identifier",
                format!(
                    "{} is not a DOI (10.xxxx/…), a PubMed id (digits) or an ISBN-10/13.",
                    quoted(text)
                ),
            )
        }
    };
    match state.lookup.lookup(&id).await {
        Ok(found) => {
            answer(
                state,
                found.citation,
                source_name(found.source),
                vec![id],
                Vec::new(),
            )
            .await
        }
        Err(e) => lookup_failure(&e),
    }
}

async fn by_openurl(
    state: &AppState,
    from_link: Citation,
    identifiers: Vec<Identifier>,
) -> Response<Body> {
    let Some(first) = identifiers.first() else {
        return answer(state, from_link, "openurl", identifiers, Vec::new()).await;
    };
    match state.lookup.lookup(first).await {
        Ok(found) => {
            let merged = fill_gaps(found.citation, from_link);
            answer(
                state,
                merged,
                source_name(found.source),
                identifiers,
                Vec::new(),
            )
            .await
        }
        Err(e) if !from_link.title.trim().is_empty() || from_link.container_title.is_some() => {
            let (_, warning) = lookup_problem(&e);
            answer(state, from_link, "openurl", identifiers, vec![warning]).await
        }
        Err(e) => lookup_failure(&e),
    }
}

/// The looked-up citation, with the link's fields where it has none.
pub fn fill_gaps(mut found: Citation, link: Citation) -> Citation {
    fn fill(slot: &mut Option<String>, other: Option<String>) {
        if slot.as_deref().is_none_or(|s| s.trim().is_empty()) {
            *slot = other;
        }
    }
    if found.kind.is_none() {
        found.kind = link.kind;
    }
    if found.title.trim().is_empty() {
        found.title = link.title;
    }
    if found.authors.is_empty() {
        found.authors = link.authors;
    }
    fill(&mut found.container_title, link.container_title);
    fill(&mut found.volume, link.volume);
    fill(&mut found.issue, link.issue);
    fill(&mut found.pages, link.pages);
    fill(&mut found.year, link.year);
    fill(&mut found.publisher, link.publisher);
    fill(&mut found.place_of_publication, link.place_of_publication);
    fill(&mut found.edition, link.edition);
    fill(&mut found.issn, link.issn);
    fill(&mut found.isbn, link.isbn);
    fill(&mut found.doi, link.doi);
    fill(&mut found.pmid, link.pmid);
    found
}

async fn answer(
    state: &AppState,
    citation: Citation,
    source: &'static str,
    mut identifiers: Vec<Identifier>,
    mut warnings: Vec<Problem>,
) -> Response<Body> {
    let own = [
        citation.doi.clone().map(Identifier::Doi),
        citation.pmid.clone().map(Identifier::Pmid),
        citation.isbn.clone().map(Identifier::Isbn),
    ];
    for id in own.into_iter().flatten() {
        if !identifiers.contains(&id) {
            identifiers.push(id);
        }
    }
    identifiers.sort_by_key(|i| match i {
        Identifier::Doi(_) => 0,
        Identifier::Pmid(_) => 1,
        Identifier::Isbn(_) => 2,
    });
    let open_access = match citation.doi.as_deref() {
        Some(doi) => match state.lookup.open_access(doi).await {
            Ok(copy) => copy,
            Err(e) => {
                warnings.push(lookup_problem(&e).1);
                None
            }
        },
        None => None,
    };
    json_response(
        StatusCode::OK,
        &CitationAnswer {
            citation,
            source,
            identifiers,
            open_access,
            warnings,
        },
    )
}

/// `OPTIONS /api/v1/citation`: a CORS preflight (widgets that add headers).
pub async fn preflight() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS")
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "*")
        .header(header::ACCESS_CONTROL_MAX_AGE, "86400")
        .body(Body::empty())
        .unwrap_or_default()
}

/// `GET /api/v1/openapi.yaml`.
pub async fn openapi() -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/yaml")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(Body::from(OPENAPI_YAML))
        .unwrap_or_default()
}
