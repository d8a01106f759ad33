//! The desk's server functions: staff only (401 signed out, 403 for
//! patrons). Each takes the staff member from the session, calls the
//! [`StaffDesk`] the server provides, and turns the outcomes a page shows
//! (changed meanwhile, a missing field, not allowed) into data; only
//! failures become errors.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use super::{ActInput, BulkItem, BulkOutcome, DeskRequest, NoteInput, Queue, QueueQuery};
use crate::domain::history::{RequestEvent, Side};
use crate::domain::FieldError;

/// What came of an action or a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActOutcome {
    Done(Box<DeskRequest>),
    /// Someone else changed the request first: what they did, and the
    /// request as it is now (nothing of this action was applied).
    ChangedMeanwhile {
        changes: Vec<RequestEvent>,
        now: Box<DeskRequest>,
    },
    Invalid(Vec<FieldError>),
    NotAllowed,
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    use http::StatusCode;
    use leptos::prelude::*;

    use super::ActOutcome;
    use crate::api::ssr::fail;
    use crate::desk::{DeskError, DeskRequest, StaffDesk};

    pub fn desk() -> Result<Arc<dyn StaffDesk>, ServerFnError> {
        use_context::<Arc<dyn StaffDesk>>().ok_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                "the staff desk needs the local backend",
            )
        })
    }

    pub fn error(e: DeskError) -> ServerFnError {
        match e {
            DeskError::NotFound => fail(StatusCode::NOT_FOUND, "not found"),
            DeskError::Storage(e) => {
                leptos::logging::error!("desk: {e}");
                fail(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
            }
            other => fail(StatusCode::CONFLICT, &other.to_string()),
        }
    }

    pub fn outcome(result: Result<DeskRequest, DeskError>) -> Result<ActOutcome, ServerFnError> {
        match result {
            Ok(r) => Ok(ActOutcome::Done(Box::new(r))),
            Err(DeskError::ChangedMeanwhile { changes, now }) => {
                Ok(ActOutcome::ChangedMeanwhile { changes, now })
            }
            Err(DeskError::Invalid(errors)) => Ok(ActOutcome::Invalid(errors)),
            Err(DeskError::NotAllowed) => Ok(ActOutcome::NotAllowed),
            Err(e) => Err(error(e)),
        }
    }
}

/// A queue page with its counts.
#[server(endpoint = "staff/desk/queue", input = Json, output = crate::api::codec::Answer)]
pub async fn desk_queue(side: Side, query: QueueQuery) -> Result<Queue, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::desk()?.queue(side, &query).await.map_err(ssr::error)
}

/// A request's page: citation, who asked, partner, history, actions.
#[server(endpoint = "staff/desk/request", input = Json, output = crate::api::codec::Answer)]
pub async fn desk_load(side: Side, id: String) -> Result<DeskRequest, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::desk()?.request(side, &id).await.map_err(ssr::error)
}

#[server(endpoint = "staff/desk/act", input = Json, output = crate::api::codec::Answer)]
pub async fn desk_act(side: Side, input: ActInput) -> Result<ActOutcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    ssr::outcome(ssr::desk()?.act(side, &staff.user_id, input).await)
}

#[server(endpoint = "staff/desk/note", input = Json, output = crate::api::codec::Answer)]
pub async fn desk_note(side: Side, input: NoteInput) -> Result<ActOutcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    ssr::outcome(ssr::desk()?.note(side, &staff.user_id, input).await)
}

/// The same action on several requests of a queue.
#[server(endpoint = "staff/desk/bulk", input = Json, output = crate::api::codec::Answer)]
pub async fn desk_bulk(
    side: Side,
    action: String,
    items: Vec<BulkItem>,
) -> Result<BulkOutcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    let due = chrono::Utc::now().date_naive() + chrono::Duration::days(super::DEFAULT_LOAN_DAYS);
    ssr::desk()?
        .act_many(side, &staff.user_id, &action, items, Some(due))
        .await
        .map_err(ssr::error)
}

/// Kauko's partners (code, name) to send a request to.
#[server(endpoint = "staff/desk/partners", input = Json, output = crate::api::codec::Answer)]
pub async fn desk_partners() -> Result<Vec<(String, String)>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::desk()?.partners().await.map_err(ssr::error)
}
