//! The staff outbox page's calls: deliveries that are stuck or failed, and
//! "Retry now". Staff only (401 signed out, 403 for patrons).

use leptos::prelude::*;

use crate::outbox::OutboxEntry;

/// Failed deliveries, and pending ones that have been tried at least once.
#[server(endpoint = "staff/outbox/list", output = crate::api::codec::Answer)]
pub async fn outbox_stuck() -> Result<Vec<OutboxEntry>, ServerFnError> {
    super::ssr::require_staff()?;
    super::ssr::outbox()?
        .stuck()
        .await
        .map_err(super::ssr::outbox_error)
}

/// Makes a pending or failed delivery due now.
#[server(endpoint = "staff/outbox/retry", output = crate::api::codec::Answer)]
pub async fn outbox_retry(id: String) -> Result<(), ServerFnError> {
    let staff = super::ssr::require_staff()?;
    leptos::logging::log!("outbox: {} asks to retry {id}", staff.user_id);
    super::ssr::outbox()?
        .retry_now(&id)
        .await
        .map_err(super::ssr::outbox_error)
}
