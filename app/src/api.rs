//! Server functions: the browser's calls into Kauko. Each one takes the
//! patron from the signed-in session (never from its arguments) and goes to
//! the library system through the resource-sharing port.

pub mod codec;
pub mod form;
pub mod lend;
pub mod mail;
pub mod my;
pub mod outbox;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{CitationType, PatronStatus};

/// One of the patron's requests, as the patron sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub id: String,
    pub title: String,
    pub kind: Option<CitationType>,
    pub status: PatronStatus,
    pub created: String,
}

/// What the patron has going on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub active_requests: usize,
    pub loans: usize,
}

/// One of the signed-in patron's requests; another patron's is not found.
#[server(endpoint = "requests/get", output = crate::api::codec::Answer)]
pub async fn get_request(id: String) -> Result<RequestSummary, ServerFnError> {
    let patron = ssr::require_patron()?;
    let request = ssr::port()?
        .get_borrowing_request(&patron, &id)
        .await
        .map_err(ssr::port_error)?;
    Ok(RequestSummary {
        id: request.id,
        title: request.citation.title,
        kind: request.citation.kind,
        status: request.status.patron_status(),
        created: request.created_at.format("%Y-%m-%d").to_string(),
    })
}

/// Counts of the signed-in patron's active requests and ILL loans.
#[server(endpoint = "me/overview", output = crate::api::codec::Answer)]
pub async fn my_overview() -> Result<Overview, ServerFnError> {
    let patron = ssr::require_patron()?;
    let port = ssr::port()?;
    let requests = port
        .list_borrowing_requests(&patron)
        .await
        .map_err(ssr::port_error)?;
    let loans = port.list_loans(&patron).await.map_err(ssr::port_error)?;
    Ok(Overview {
        active_requests: requests.iter().filter(|r| !r.status.is_final()).count(),
        loans: loans.len(),
    })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! What every server function needs: the session's patron, the port,
    //! and errors with the right HTTP status.

    use std::sync::Arc;

    use http::StatusCode;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    use crate::domain::PatronId;
    use crate::port::{PortError, ResourceSharing};
    use crate::viewer::{request_viewer, Viewer};

    pub fn fail(status: StatusCode, message: &str) -> ServerFnError {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status);
        }
        ServerFnError::new(message)
    }

    /// Whether this call is a plain HTML form the browser sent (no
    /// JavaScript yet, or none at all): it asks for a page, not data.
    pub fn plain_form() -> bool {
        use_context::<http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// Answers a plain form with a redirect (303: the browser then GETs
    /// `to`, so reloading the page it lands on sends nothing again).
    pub fn redirect_form(to: &str) {
        leptos_axum::redirect(to);
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(StatusCode::SEE_OTHER);
        }
    }

    /// The signed-in user's library-system id; 401 when signed out.
    pub fn require_patron() -> Result<PatronId, ServerFnError> {
        request_viewer()
            .map(|v| PatronId(v.user_id))
            .ok_or_else(|| fail(StatusCode::UNAUTHORIZED, "sign in required"))
    }

    /// The signed-in staff member; 401 when signed out, 403 for patrons.
    pub fn require_staff() -> Result<Viewer, ServerFnError> {
        match request_viewer() {
            None => Err(fail(StatusCode::UNAUTHORIZED, "sign in required")),
            Some(v) if !v.staff => Err(fail(StatusCode::FORBIDDEN, "staff only")),
            Some(v) => Ok(v),
        }
    }

    pub fn port() -> Result<Arc<dyn ResourceSharing>, ServerFnError> {
        use_context::<Arc<dyn ResourceSharing>>()
            .ok_or_else(|| fail(StatusCode::INTERNAL_SERVER_ERROR, "no backend"))
    }

    /// Kauko's copy of the partner list, for the public lending form.
    pub fn partners() -> Result<Arc<dyn crate::api::lend::PartnerLookup>, ServerFnError> {
        use_context::<Arc<dyn crate::api::lend::PartnerLookup>>()
            .ok_or_else(|| fail(StatusCode::INTERNAL_SERVER_ERROR, "no partner list"))
    }

    /// The durable outbox every submission goes through.
    pub fn outbox() -> Result<Arc<dyn crate::outbox::SubmissionOutbox>, ServerFnError> {
        use_context::<Arc<dyn crate::outbox::SubmissionOutbox>>()
            .ok_or_else(|| fail(StatusCode::INTERNAL_SERVER_ERROR, "no outbox"))
    }

    /// An outbox failure as a status: a key that is not the caller's is
    /// a stale form (409), anything else the server's fault.
    pub fn outbox_error(e: crate::outbox::OutboxError) -> ServerFnError {
        use crate::outbox::OutboxError;
        match e {
            OutboxError::KeyTaken => fail(StatusCode::CONFLICT, "form.stale"),
            OutboxError::NotFound => fail(StatusCode::NOT_FOUND, "not found"),
            OutboxError::WrongState(s) => fail(StatusCode::CONFLICT, &format!("not allowed: {s}")),
            OutboxError::Storage(_) => {
                leptos::logging::error!("outbox: {e}");
                fail(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
            }
        }
    }

    /// The citation lookup (DOI, PMID, ISBN → citation; open-access check).
    pub fn lookup() -> Result<Arc<dyn crate::lookup::CitationLookup>, ServerFnError> {
        use_context::<Arc<dyn crate::lookup::CitationLookup>>()
            .ok_or_else(|| fail(StatusCode::INTERNAL_SERVER_ERROR, "no citation lookup"))
    }

    /// The library's request rules (defaults when the server gave none).
    pub fn rules() -> crate::settings::RequestRules {
        use_context::<crate::settings::RequestRules>().unwrap_or_default()
    }

    /// A port error as the status a client can act on.
    pub fn port_error(e: PortError) -> ServerFnError {
        match e {
            PortError::NotFound => fail(StatusCode::NOT_FOUND, "not found"),
            PortError::Invalid(_) | PortError::Duplicate(_) => {
                fail(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
            }
            PortError::Refused(r) => fail(StatusCode::CONFLICT, r.message_key()),
            PortError::Unavailable(_) | PortError::RateLimited => fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "library system unavailable",
            ),
            PortError::Unauthorized(_) | PortError::Other(_) => {
                leptos::logging::error!("library system error: {e}");
                fail(StatusCode::BAD_GATEWAY, "library system error")
            }
        }
    }
}
