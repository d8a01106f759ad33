//! `/auth/login`, `/auth/callback` and `/auth/logout`. Every failure gives a
//! translated page with a way to try again, creates no session and logs one
//! line.

use app::i18n::Lang;
use app::site::lang_of_request;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use chrono::{Duration, Utc};
use serde::Deserialize;
use sqlx::Row;

use super::return_to::safe_return_to;
use super::session::{cookie, hash_token, new_token};
use crate::storage::{parse_ts, ts};
use crate::web::layers::{message_page, MessagePage};
use crate::web::AppState;

/// Minutes a login may take from start to callback.
pub const LOGIN_TTL_MINUTES: i64 = 10;

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn redirect(to: &str, cookies: &[String]) -> Response<Body> {
    let mut r = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-store");
    for c in cookies {
        r = r.header(header::SET_COOKIE, c);
    }
    r.body(Body::empty()).unwrap_or_default()
}

/// A translated page explaining a failed sign-in, with a retry link.
fn error_page(
    lang: Lang,
    status: StatusCode,
    message_key: &str,
    return_to: &str,
    cookies: &[String],
) -> Response<Body> {
    let retry = app::viewer::login_href(return_to);
    let page = MessagePage {
        title: "auth.error.title",
        message: message_key,
        retry: ("auth.error.retry", &retry),
    };
    message_page(lang, status, page, cookies)
}

fn request_lang(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Lang {
    lang_of_request(uri, headers, state.config.library.default_language)
}

pub async fn login(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let lang = request_lang(&state, &uri, &headers);
    let return_to = safe_return_to(q.return_to.as_deref());
    let Some(provider) = state.auth.provider.clone() else {
        tracing::warn!("sign-in attempted but auth.issuer_url is not configured");
        return error_page(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            "auth.error.disabled",
            &return_to,
            &[],
        );
    };
    // A flood of sign-ins that never finish cannot fill the database.
    match state.auth.sessions.room_for_sign_in().await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("sign-in refused: too many sign-ins under way");
            return error_page(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                "auth.error.busy",
                &return_to,
                &[],
            );
        }
        Err(e) => tracing::error!(error = %e, "cannot count sign-ins under way"),
    }
    let start = match provider.start().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in failed: identity provider unreachable");
            return error_page(
                lang,
                StatusCode::BAD_GATEWAY,
                "auth.error.provider",
                &return_to,
                &[],
            );
        }
    };
    let browser = new_token();
    let saved = sqlx::query("INSERT INTO login_states (state, browser_hash, pkce_verifier, nonce, return_to, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(start.state.clone())
        .bind(hash_token(&browser))
        .bind(start.pkce_verifier)
        .bind(start.nonce)
        .bind(return_to.clone())
        .bind(ts(Utc::now()))
        .execute(&state.db.pool)
        .await;
    if let Err(e) = saved {
        tracing::error!(error = %e, "sign-in failed: could not store the login state");
        return error_page(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            "error.body",
            &return_to,
            &[],
        );
    }
    let cookie = state.auth.cookies.set(
        state.auth.cookies.login_name(),
        &browser,
        "/auth",
        LOGIN_TTL_MINUTES * 60,
    );
    redirect(&start.url, &[cookie])
}

pub async fn callback(
    State(state): State<AppState>,
    Query(q): Query<CallbackQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let lang = request_lang(&state, &uri, &headers);
    let clear_login = state
        .auth
        .cookies
        .clear(state.auth.cookies.login_name(), "/auth");
    let fail = |status, key: &str, return_to: &str, why: &str| {
        tracing::warn!(reason = why, "sign-in failed");
        error_page(
            lang,
            status,
            key,
            return_to,
            std::slice::from_ref(&clear_login),
        )
    };
    // Before the login state is found, keep the browser's login cookie: it
    // may belong to a genuine login still in progress.
    let fail_keep = |status, key: &str, why: &str| {
        tracing::warn!(reason = why, "sign-in failed");
        error_page(lang, status, key, "/", &[])
    };
    let Some(provider) = state.auth.provider.clone() else {
        return fail_keep(
            StatusCode::SERVICE_UNAVAILABLE,
            "auth.error.disabled",
            "sign-in is not configured",
        );
    };
    let Some(state_param) = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 512)
    else {
        return fail_keep(
            StatusCode::BAD_REQUEST,
            "auth.error.state",
            "callback without state",
        );
    };
    // Take the login state: single use, so a replayed callback finds nothing.
    let row = sqlx::query("SELECT browser_hash, pkce_verifier, nonce, return_to, created_at FROM login_states WHERE state = $1")
        .bind(state_param.to_owned())
        .fetch_optional(&state.db.pool)
        .await;
    let row = match row {
        Ok(Some(row)) => row,
        Ok(None) => {
            return fail_keep(
                StatusCode::BAD_REQUEST,
                "auth.error.state",
                "unknown or already used state",
            )
        }
        Err(e) => {
            return fail_keep(
                StatusCode::SERVICE_UNAVAILABLE,
                "error.body",
                &e.to_string(),
            )
        }
    };
    let taken = sqlx::query("DELETE FROM login_states WHERE state = $1")
        .bind(state_param.to_owned())
        .execute(&state.db.pool)
        .await;
    if !matches!(taken, Ok(ref t) if t.rows_affected() == 1) {
        return fail(
            StatusCode::BAD_REQUEST,
            "auth.error.state",
            "/",
            "state taken by a concurrent callback",
        );
    }
    let get = |col: &str| row.try_get::<String, _>(col).unwrap_or_default();
    let return_to = safe_return_to(Some(&get("return_to")));
    let fresh = parse_ts(&get("created_at"))
        .is_ok_and(|t| Utc::now() - t < Duration::minutes(LOGIN_TTL_MINUTES));
    if !fresh {
        return fail(
            StatusCode::BAD_REQUEST,
            "auth.error.state",
            &return_to,
            "login state expired",
        );
    }
    let same_browser = cookie(&headers, state.auth.cookies.login_name())
        .is_some_and(|b| hash_token(b) == get("browser_hash"));
    if !same_browser {
        return fail(
            StatusCode::BAD_REQUEST,
            "auth.error.state",
            &return_to,
            "state not bound to this browser",
        );
    }
    if let Some(error) = q.error.as_deref() {
        return fail(
            StatusCode::BAD_REQUEST,
            "auth.error.denied",
            &return_to,
            &format!("provider answered error={error}"),
        );
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "auth.error.token",
            &return_to,
            "callback without code",
        );
    };
    let signed_in = match provider
        .finish(code, &get("pkce_verifier"), &get("nonce"))
        .await
    {
        Ok(s) => s,
        Err(super::oidc::OidcError::Unreachable(e)) => {
            return fail(
                StatusCode::BAD_GATEWAY,
                "auth.error.provider",
                &return_to,
                &e,
            )
        }
        Err(e) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "auth.error.token",
                &return_to,
                &e.to_string(),
            )
        }
    };
    let token = match state
        .auth
        .sessions
        .create(
            &signed_in.viewer,
            signed_in.email.as_deref(),
            Some(&signed_in.id_token),
        )
        .await
    {
        Ok(t) => t,
        Err(e) => {
            return fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "error.body",
                &return_to,
                &e.to_string(),
            )
        }
    };
    tracing::info!(user_id = %signed_in.viewer.user_id, staff = signed_in.viewer.staff, "signed in");
    // What letters need: the address, the name, the language in use and
    // the sign-in's locale; and the patron's groups (fee rules).
    if let Err(e) = crate::letters::store::remember_patron(
        &state.db,
        &signed_in.viewer.user_id,
        crate::letters::store::PatronDetails {
            name: Some(&signed_in.viewer.name),
            email: signed_in.email.as_deref(),
            locale: signed_in.locale.as_deref(),
            lang: Some(lang),
            groups: Some(&signed_in.groups),
        },
    )
    .await
    {
        tracing::warn!(error = %e, "cannot remember the patron's details for letters and fees");
    }
    let max_age = i64::try_from(state.config.auth.session_max_hours).unwrap_or(12) * 3600;
    let session_cookie =
        state
            .auth
            .cookies
            .set(state.auth.cookies.session_name(), &token, "/", max_age);
    redirect(&return_to, &[session_cookie, clear_login])
}

/// Ends the session here and, when the provider supports it, there too.
/// POST only, and the guard checks its Origin.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    let mut id_token = None;
    if let Some(token) = cookie(&headers, state.auth.cookies.session_name()) {
        if let Ok(Some(session)) = state.auth.sessions.lookup(token).await {
            id_token = session.id_token;
            tracing::info!(user_id = %session.viewer.user_id, "signed out");
        }
        if let Err(e) = state.auth.sessions.delete(token).await {
            tracing::error!(error = %e, "could not delete a session at sign-out");
        }
    }
    let clear = state
        .auth
        .cookies
        .clear(state.auth.cookies.session_name(), "/");
    let home = format!("{}/", state.auth.public_url);
    let target = match &state.auth.provider {
        Some(p) => p
            .logout_url(id_token.as_deref(), &home)
            .await
            .unwrap_or_else(|| "/".into()),
        None => "/".into(),
    };
    let mut r = redirect(&target, &[clear]);
    r.headers_mut()
        .insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    r
}
