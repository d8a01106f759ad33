//! Structured logs through `tracing`. Every line logged while a request is
//! handled carries its request id (the `request` span's field).

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber. `KAUKO_LOG` (or `RUST_LOG`) sets the
/// filter; the default is info for Kauko and warnings for libraries.
pub fn init(format: LogFormat) {
    let filter = std::env::var("KAUKO_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("warn,server=info,kauko=info,tower_http=info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
}
