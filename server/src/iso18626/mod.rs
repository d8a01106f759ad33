//! ISO 18626 (`shared/reference/ill-domain.md` §1.7,
//! `staff-and-integrations.md` §5): Kauko as a requesting and a supplying
//! agency, exchanging messages with partner libraries whose record says
//! "ISO 18626".
//!
//! - [`messages`]: the six messages as types, read and written as XML
//!   ([`xml`]: limits, no DTD, no entities).
//! - [`dialect`]: v1.2, and the 2014 (v1.1) dialect Alma speaks.
//! - [`store`]: the partners' ISO settings and the message log.
//! - [`receive`]: `POST /iso18626`, answering with confirmations and
//!   applying messages through the state models.
//! - [`send`]: the messages the history's events carry to partners,
//!   written once and delivered with retries.

pub mod dialect;
pub mod messages;
pub mod receive;
pub mod send;
pub mod store;
pub mod xml;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Response, StatusCode};

use crate::config::BackendKind;
use crate::web::AppState;

/// The path partners post to; the only POST the cross-site guard lets
/// through without Kauko's origin (partners are servers: they are
/// authenticated by their agency id and secret instead).
pub const PATH: &str = "/iso18626";

fn xml_response(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header(header::CONTENT_TYPE, "application/xml; charset=utf-8")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// `POST /iso18626`: one message in, its confirmation out. Not found
/// unless ISO 18626 is enabled on the local backend.
pub async fn endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let config = &state.config.iso18626;
    if !config.enabled || state.config.backend.kind != BackendKind::Local {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap_or_default();
    }
    let receiver = receive::Receiver::new(state.db.clone(), state.port.clone(), &config.symbol);
    let bytes = match axum::body::to_bytes(body, xml::MAX_BYTES).await {
        Ok(b) => b,
        // Longer than the limit (or cut off).
        Err(_) => {
            let answer = receive::too_large();
            return xml_response(answer.status, answer.body);
        }
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let answer = receiver.receive(&bytes, bearer).await;
    xml_response(answer.status, answer.body)
}
