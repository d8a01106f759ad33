//! The statistics' server function: staff only; the figures of a year from
//! the [`StatisticsSource`] the server provides.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::Statistics;

/// The figures of `year` (none: the current year), both sides, with the
/// year before beside them.
#[server(endpoint = "staff/statistics", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn stats_load(year: Option<i32>) -> Result<Statistics, ServerFnError> {
    crate::api::ssr::require_staff()?;
    let source = use_context::<std::sync::Arc<dyn super::StatisticsSource>>().ok_or_else(|| {
        crate::api::ssr::fail(http::StatusCode::NOT_FOUND, "no statistics source")
    })?;
    super::load(source.as_ref(), year).await.map_err(|e| {
        leptos::logging::error!("statistics: {e}");
        crate::api::ssr::fail(http::StatusCode::INTERNAL_SERVER_ERROR, "storage error")
    })
}
