//! `/healthz`: the process is alive. `/readyz`: the database and the
//! library-system backend answer; 503 otherwise, with what failed.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let limit = Duration::from_secs(3);
    let database = match tokio::time::timeout(limit, state.db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3 s".to_owned()),
    };
    let backend = match tokio::time::timeout(limit, state.port.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3 s".to_owned()),
    };
    let ready = database.is_ok() && backend.is_ok();
    if !ready {
        tracing::warn!(database = ?database.as_ref().err(), backend = ?backend.as_ref().err(), "not ready");
    }
    let show = |r: &Result<(), String>| match r {
        Ok(()) => json!("ok"),
        Err(e) => json!({ "error": e }),
    };
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": show(&database),
        "backend": { "name": state.port.name(), "status": show(&backend) },
    });
    (
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(body),
    )
}
