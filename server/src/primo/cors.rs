//! CORS for the Primo endpoints: an allowed origin (`primo.allowed_origins`)
//! gets `Access-Control-Allow-Origin: <that origin>`; every answer varies
//! by `Origin`; no other origin gets the header, and never `*`. The status
//! endpoint also refuses a call from any other origin outright (403), and
//! preflights answer only allowed origins.
//!
//! Kauko's same-origin check on state-changing requests
//! (`auth::guard`) is untouched: these endpoints are `GET` and `OPTIONS`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::middleware::Next;

/// The origins allowed to call the widget endpoints from a browser.
#[derive(Debug)]
pub struct Origins {
    allowed: Vec<String>,
    own: String,
}

impl Origins {
    pub fn new(allowed: &[String], public_url: &str) -> Self {
        Self {
            allowed: allowed
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty() && o != "*")
                .collect(),
            own: origin_of(public_url),
        }
    }

    /// Whether a configured Primo origin sent this.
    pub fn is_primo(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        self.allowed.iter().any(|a| *a == origin)
    }

    /// Whether Kauko's own pages sent this.
    pub fn is_own(&self, origin: &str) -> bool {
        origin.trim().eq_ignore_ascii_case(&self.own)
    }
}

/// `https://host:port/path` → `https://host:port`.
fn origin_of(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or(rest);
            format!("{scheme}://{host}")
        }
        None => lower,
    }
}

/// The request's `Origin`, when it has one.
pub fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// Adds `Vary: Origin` to every answer and the allow header for an allowed
/// origin.
pub async fn cors(State(origins): State<Arc<Origins>>, req: Request, next: Next) -> Response<Body> {
    let allowed = origin(req.headers())
        .filter(|o| origins.is_primo(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    if let Some(origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}

/// `OPTIONS /primo/status`: the preflight of the widget's call (it sends
/// `Authorization`). 204 for an allowed origin, 403 otherwise.
pub async fn preflight(
    State(state): State<super::PrimoState>,
    headers: HeaderMap,
) -> Response<Body> {
    let ok = origin(&headers).is_some_and(|o| state.origins.is_primo(o));
    let mut r = Response::builder().status(if ok {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::FORBIDDEN
    });
    if ok {
        r = r
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET")
            .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization")
            .header(header::ACCESS_CONTROL_MAX_AGE, "600");
    }
    r.body(Body::empty()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_count_as_primo() {
        let o = Origins::new(
            &[
                "https://helka.helsinki.fi/".into(),
                "*".into(),
                "http://127.0.0.1:3941".into(),
            ],
            "https://kauko.example.fi/",
        );
        assert!(o.is_primo("https://helka.helsinki.fi"));
        assert!(o.is_primo("HTTPS://HELKA.helsinki.fi"));
        assert!(o.is_primo("http://127.0.0.1:3941"));
        assert!(!o.is_primo("https://helka.helsinki.fi.evil.example"));
        assert!(!o.is_primo("http://helka.helsinki.fi"));
        assert!(!o.is_primo("*"));
        assert!(!o.is_primo("null"));
        assert!(o.is_own("https://kauko.example.fi"));
        assert!(!o.is_own("https://helka.helsinki.fi"));
    }
}
