//! Layers every request passes through: a request id (taken from
//! `x-request-id` or made), a tracing span carrying it, security headers,
//! the language cookie, and a translated error page if a handler panics.

use std::time::Duration;

use app::i18n::{self, Lang};
use app::site::{lang_of_request, SiteInfo};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Response, StatusCode};
use axum::middleware::{self, Next};
use axum::Router;

use crate::auth::session::CookiePolicy;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the router in Kauko's layers (the last added runs first).
pub fn apply(router: Router, cookies: CookiePolicy, site: &SiteInfo) -> Router {
    let default_lang = site.default_lang;
    let https = cookies.secure;
    router
        .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, Duration::from_secs(60)))
        .layer(middleware::from_fn(move |req, next| remember_language(req, next, cookies, default_lang)))
        .layer(middleware::from_fn(move |req, next| security_headers(req, next, https)))
        // Brotli or gzip, as the browser accepts: pages, JSON and the
        // front end's wasm, js and css (level 5: most of the gain for a
        // fraction of the CPU of the top levels).
        .layer(CompressionLayer::new().br(true).gzip(true).quality(CompressionLevel::Precise(5)))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN")))
        .layer(CatchPanicLayer::custom(move |_| panic_page(default_lang)))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(tower_http::LatencyUnit::Millis)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The policy of every other answer (error pages, JSON, files): nothing
/// runs.
const DEFAULT_CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'self'";

/// Security headers every answer gets unless its handler set its own:
/// the CSP above; `Strict-Transport-Security` when Kauko is served over
/// https; `Cache-Control: no-store` on everything but the static assets,
/// since pages and server-function answers can be personal. The front
/// end's content-hashed files (see [`super::assets`]) may be kept for a
/// year without asking again; other static files are `no-cache`: kept and
/// revalidated (a 304 without a body while they have not changed).
async fn security_headers(req: Request, next: Next, https: bool) -> Response<Body> {
    let path = req.uri().path();
    let asset = path.starts_with("/pkg/") || path == "/favicon.svg";
    let fingerprinted = super::assets::is_fingerprinted(path);
    let mut response = next.run(req).await;
    let success = response.status().is_success();
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        let policy = if fingerprinted && success {
            "public, max-age=31536000, immutable"
        } else if asset {
            "no-cache"
        } else {
            "no-store"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// `?lang=xx` in a URL sets the language cookie, so the choice sticks when
/// JavaScript is off.
async fn remember_language(
    req: Request,
    next: Next,
    cookies: CookiePolicy,
    default: Lang,
) -> Response<Body> {
    let chosen = req
        .uri()
        .query()
        .and_then(|q| i18n::query_value(q, "lang"))
        .and_then(Lang::from_tag);
    let lang = lang_of_request(req.uri(), req.headers(), default);
    let mut response = next.run(req).await;
    if let Some(chosen) = chosen {
        let cookie = cookies.set_readable(i18n::LANG_COOKIE, chosen.code(), "/", 31_536_000);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    // A server error with no body of its own gets the translated page.
    if response.status().is_server_error() && response.headers().get(header::CONTENT_TYPE).is_none()
    {
        return error_page(lang, response.status());
    }
    response
}

fn panic_page(lang: Lang) -> Response<Body> {
    tracing::error!("a handler panicked; answered with the error page");
    error_page(lang, StatusCode::INTERNAL_SERVER_ERROR)
}

/// A small self-contained translated error page (it must work when the app
/// itself is what failed): "try again" reloads the page.
pub fn error_page(lang: Lang, status: StatusCode) -> Response<Body> {
    message_page(
        lang,
        status,
        MessagePage {
            title: "error.title",
            message: "error.body",
            retry: ("error.retry", ""),
        },
        &[],
    )
}

/// What a [`message_page`] says: translation keys, and the retry link's
/// label key and target.
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub retry: (&'a str, &'a str),
}

/// A translated page with a title, a message announced to screen readers,
/// a retry link and a link home; `cookies` are added as Set-Cookie headers.
pub fn message_page(
    lang: Lang,
    status: StatusCode,
    page: MessagePage<'_>,
    cookies: &[String],
) -> Response<Body> {
    let t = |k: &str| escape(&i18n::t(lang, k));
    let html = format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – Kauko</title><link rel=\"stylesheet\" href=\"{css}\"></head><body><main id=\"main\">\
         <h1>{title}</h1><p role=\"alert\">{message}</p><p><a href=\"{href}\">{again}</a> · <a href=\"/\">{home}</a></p>\
         </main></body></html>",
        code = lang.code(),
        title = t(page.title),
        message = t(page.message),
        href = escape(page.retry.1),
        again = t(page.retry.0),
        home = t("notfound.home"),
        css = super::assets::stylesheet_href(),
    );
    let mut r = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store");
    for c in cookies {
        r = r.header(header::SET_COOKIE, c);
    }
    r.body(Body::from(html)).unwrap_or_default()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
