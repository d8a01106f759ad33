//! Runs before every request: resolves the session cookie to a [`Viewer`]
//! (put in the request's extensions for pages and server functions), sends
//! signed-out visitors of protected pages to sign-in, refuses staff pages to
//! patrons, and refuses cross-site state-changing requests.

use app::viewer::Viewer;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use axum::middleware::Next;

use super::session::cookie;
use crate::web::AppState;

/// Pages that need a signed-in user, and whether they need staff.
fn protection(path: &str) -> Option<bool> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/staff") {
        Some(true)
    } else if under("/my") || under("/request") {
        Some(false)
    } else {
        None
    }
}

/// The path as a router resolves it: percent-escapes decoded, empty and `.`
/// segments dropped, `..` taking away the segment before it, `\` read as
/// `/`. The guard decides on this, so `/x/../staff` or `/%2e%2e/staff`
/// cannot reach a staff page past it.
pub fn normalized_path(raw: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let mut out: Vec<&str> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// Whether a state-changing request comes from our own pages: its Origin
/// (or, without one, its Referer) must be Kauko's public origin.
fn same_origin(req: &Request, public_url: &str) -> bool {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    match (header(header::ORIGIN), header(header::REFERER)) {
        (Some(origin), _) => origin == public_url,
        (None, Some(referer)) => {
            referer == public_url || referer.starts_with(&format!("{public_url}/"))
        }
        (None, None) => false,
    }
}

/// The staff member a handler acts for, or the answer for anyone else
/// (401 signed out, 403 a patron). The guard lets signed-in patrons through
/// to staff paths and marks the answer 403 only afterwards, so a handler
/// that changes or reveals something checks first.
#[allow(clippy::result_large_err)]
pub fn staff_only(viewer: Option<axum::Extension<Viewer>>) -> Result<Viewer, Response<Body>> {
    use axum::response::IntoResponse;
    match viewer {
        Some(axum::Extension(v)) if v.staff => Ok(v),
        Some(_) => Err(StatusCode::FORBIDDEN.into_response()),
        None => Err(StatusCode::UNAUTHORIZED.into_response()),
    }
}

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response<Body> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Partner libraries' servers post ISO 18626 messages without an
    // Origin: that one path (exactly, as the router matches it) is
    // exempt, and the endpoint authenticates the partner instead.
    let partner_message =
        *req.method() == Method::POST && req.uri().path() == crate::iso18626::PATH;
    if unsafe_method && !partner_message && !same_origin(&req, &state.auth.public_url) {
        tracing::warn!(origin = ?req.headers().get(header::ORIGIN), "refused a cross-site request");
        return Response::builder()
            .status(StatusCode::FORBIDDEN)
            .body(Body::from("cross-site request refused"))
            .unwrap_or_default();
    }

    // Static assets need no session: spare them the database lookup.
    let asset = req.uri().path().starts_with("/pkg/")
        || req.uri().path().starts_with("/i18n/")
        || req.uri().path() == "/favicon.svg";
    let token = (!asset)
        .then(|| cookie(req.headers(), state.auth.cookies.session_name()).map(str::to_owned))
        .flatten();
    let mut stale_cookie = false;
    let mut viewer: Option<Viewer> = None;
    if let Some(token) = token.as_deref() {
        match state.auth.sessions.lookup(token).await {
            Ok(Some(session)) => viewer = Some(session.viewer),
            Ok(None) => stale_cookie = true,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed; treating the request as signed out")
            }
        }
    }

    let path = req.uri().path().to_owned();
    let needs = protection(&normalized_path(&path)).or(protection(&path));
    if needs.is_some() && viewer.is_none() && matches!(*req.method(), Method::GET | Method::HEAD) {
        let here = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or(path.clone());
        let mut r = Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, app::viewer::login_href(&here));
        if stale_cookie {
            r = r.header(
                header::SET_COOKIE,
                state
                    .auth
                    .cookies
                    .clear(state.auth.cookies.session_name(), "/"),
            );
        }
        return r.body(Body::empty()).unwrap_or_default();
    }
    let forbidden = needs == Some(true) && viewer.as_ref().is_some_and(|v| !v.staff);
    if let Some(v) = viewer {
        req.extensions_mut().insert(v);
    }
    let mut response = next.run(req).await;
    if forbidden {
        // The page itself explains; the status tells machines.
        *response.status_mut() = StatusCode::FORBIDDEN;
    }
    if stale_cookie {
        if let Ok(v) = HeaderValue::from_str(
            &state
                .auth
                .cookies
                .clear(state.auth.cookies.session_name(), "/"),
        ) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_sees_the_path_the_router_resolves() {
        for raw in [
            "/staff/outbox",
            "/x/../staff/outbox",
            "/x/%2e%2e/staff/outbox",
            "/x/%2E./staff/outbox",
            "//staff//outbox",
            "/./staff/outbox",
            "/my/../../staff/outbox",
            "/x\\..\\staff/outbox",
            "/%73taff/outbox",
        ] {
            assert_eq!(normalized_path(raw), "/staff/outbox", "{raw}");
            assert_eq!(protection(&normalized_path(raw)), Some(true), "{raw}");
        }
        assert_eq!(normalized_path("/"), "/");
        assert_eq!(normalized_path("/lend/FI-TUNI"), "/lend/FI-TUNI");
        assert_eq!(protection(&normalized_path("/lend/../my")), Some(false));
        assert_eq!(protection(&normalized_path("/staffing")), None);
    }
}
