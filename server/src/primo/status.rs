//! `GET /primo/status?lang=fi` with `Authorization: Bearer <Primo JWT>`:
//! the status widget's data. Only for the user the verified token names
//! (Alma's primary id = Kauko's patron id), never from a user name the
//! browser sends. Each request has one patron-facing label (the same
//! mapping as My requests: `app::api::my::request_row`), loans their due
//! dates; links go to Kauko's pages.
//!
//! Answers (JSON): 200 `{requests, loans, requests_error, loans_error,
//! url}`; 401 `invalid_token` / `missing_token`; 403 `guest`,
//! `wrong_institution` or `origin` (not a configured Primo origin); 404
//! `not_configured`; 503 `keys_unavailable`.

use app::api::my::{failure_key, loan_row, received_row, request_row};
use app::domain::PatronId;
use app::i18n::{self, Lang};
use app::outbox::SubmissionOutbox;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Response, StatusCode};
use serde::Serialize;

use super::jwt::TokenError;
use super::PrimoState;

#[derive(Debug, Serialize)]
pub struct StatusRequest {
    pub id: String,
    pub title: String,
    /// The patron-facing status (`in_process`, `ready_for_pickup`, …).
    pub status: app::domain::PatronStatus,
    /// Its label in the asked language.
    pub label: String,
    pub requested: chrono::NaiveDate,
    pub active: bool,
    /// The request's page in Kauko.
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct StatusLoan {
    pub id: String,
    pub title: String,
    pub due: chrono::NaiveDate,
    pub overdue: bool,
    /// "On loan" or "Overdue", in the asked language.
    pub label: String,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct StatusAnswer {
    /// Active requests first (newest first), then finished ones.
    pub requests: Vec<StatusRequest>,
    pub loans: Vec<StatusLoan>,
    /// Why the requests (or loans) cannot be shown, in the asked language.
    pub requests_error: Option<String>,
    pub loans_error: Option<String>,
    /// My requests in Kauko.
    pub url: String,
}

#[derive(Serialize)]
struct Problem {
    error: &'static str,
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store");
    if status == StatusCode::UNAUTHORIZED {
        r = r.header(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
    }
    r.body(Body::from(body)).unwrap_or_default()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

pub async fn status(
    State(state): State<PrimoState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response<Body> {
    let Some(verifier) = state.verifier.as_ref() else {
        return json(
            StatusCode::NOT_FOUND,
            &Problem {
                error: "not_configured",
            },
        );
    };
    // Browsers always send Origin on a cross-origin call; only Primo's
    // (and Kauko's own pages) may ask.
    let from_allowed = super::cors::origin(&headers)
        .is_some_and(|o| state.origins.is_primo(o) || state.origins.is_own(o));
    if !from_allowed {
        tracing::info!(origin = ?super::cors::origin(&headers), "Primo status: refused an origin");
        return json(StatusCode::FORBIDDEN, &Problem { error: "origin" });
    }
    let Some(token) = bearer(&headers) else {
        return json(
            StatusCode::UNAUTHORIZED,
            &Problem {
                error: "missing_token",
            },
        );
    };
    let user = match verifier.verify(token).await {
        Ok(user) => user,
        Err(e) => {
            let (status, error) = match &e {
                TokenError::Missing => (StatusCode::UNAUTHORIZED, "missing_token"),
                TokenError::Invalid(_) => (StatusCode::UNAUTHORIZED, "invalid_token"),
                TokenError::Guest => (StatusCode::FORBIDDEN, "guest"),
                TokenError::WrongInstitution => (StatusCode::FORBIDDEN, "wrong_institution"),
                TokenError::KeysUnavailable(_) => {
                    (StatusCode::SERVICE_UNAVAILABLE, "keys_unavailable")
                }
            };
            // The reason, never the token.
            tracing::info!(reason = %e, "Primo status: token refused");
            return json(status, &Problem { error });
        }
    };
    let lang = query
        .as_deref()
        .and_then(|q| i18n::query_value(q, "lang"))
        .and_then(Lang::from_tag)
        .unwrap_or(state.app.config.library.default_language);
    let answer = answer_for(&state, &PatronId(user.user_name), lang).await;
    json(StatusCode::OK, &answer)
}

/// The patron's requests and loans, labelled in `lang`.
pub async fn answer_for(state: &PrimoState, patron: &PatronId, lang: Lang) -> StatusAnswer {
    let app = &state.app;
    let base = app.config.public_url();
    let rules = app.config.request_rules();
    let today = chrono::Utc::now().date_naive();
    let (requests, loans, pending) = futures::join!(
        app.port.list_borrowing_requests(patron),
        app.port.list_loans(patron),
        app.outbox.pending_for_patron(patron)
    );
    let row = |r: app::api::my::RequestRow| StatusRequest {
        url: if r.received {
            format!("{base}/my")
        } else {
            format!(
                "{base}/my/{}",
                percent_encoding::utf8_percent_encode(&r.id, percent_encoding::NON_ALPHANUMERIC)
            )
        },
        label: i18n::t(lang, r.status.label_key()),
        active: !r.status.is_final(),
        id: r.id,
        title: r.title,
        status: r.status,
        requested: r.requested,
    };
    let mut list: Vec<StatusRequest> = pending
        .map(|p| p.iter().map(received_row).map(row).collect())
        .unwrap_or_default();
    let mut requests_error = None;
    match requests {
        Ok(found) => {
            let mut rows: Vec<_> = found.iter().map(|r| request_row(r, &rules)).collect();
            rows.sort_by(|a, b| {
                a.status
                    .is_final()
                    .cmp(&b.status.is_final())
                    .then(b.requested.cmp(&a.requested))
            });
            list.extend(rows.into_iter().map(row));
        }
        Err(e) => {
            tracing::warn!(error = %e, "Primo status: requests");
            requests_error = Some(i18n::t(lang, failure_key(&e)));
        }
    }
    let mut loans_error = None;
    let loans = match loans {
        Ok(found) => found
            .iter()
            .map(|l| loan_row(l, &rules, today))
            .map(|l| StatusLoan {
                label: i18n::t(
                    lang,
                    if l.overdue {
                        "status.overdue"
                    } else {
                        "status.on_loan"
                    },
                ),
                url: format!("{base}/my"),
                id: l.id,
                title: l.title,
                due: l.due,
                overdue: l.overdue,
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "Primo status: loans");
            loans_error = Some(i18n::t(lang, failure_key(&e)));
            Vec::new()
        }
    };
    StatusAnswer {
        requests: list,
        loans,
        requests_error,
        loans_error,
        url: format!("{base}/my"),
    }
}
