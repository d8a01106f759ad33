//! `/healthz`: the process is alive. `/readyz`: the database and the
//! library-system backend answer; 503 otherwise. Anyone may ask, so the
//! answer names what failed but not how (the details go to the log), and
//! the backend is asked at most once per [`BACKEND_CHECK_EVERY`], however
//! often `/readyz` is called: a flood of it cannot use up the library
//! system's shared call budget.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;

/// How long one answer of the backend counts.
pub const BACKEND_CHECK_EVERY: Duration = Duration::from_secs(10);

/// The last backend check, shared by every `/readyz` call; one check runs
/// at a time (the others wait for it and take its answer).
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Readiness {
    /// Forgets the last answer: the next `/readyz` asks again.
    pub async fn expire(&self) {
        *self.last.lock().await = None;
    }

    async fn backend(&self, state: &AppState, limit: Duration) -> Result<(), String> {
        let mut last = self.last.lock().await;
        if let Some((at, result)) = last.as_ref() {
            if at.elapsed() < BACKEND_CHECK_EVERY {
                return result.clone();
            }
        }
        let result = match tokio::time::timeout(limit, state.port.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", limit.as_secs())),
        };
        *last = Some((Instant::now(), result.clone()));
        result
    }
}

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
    let backend = state.readiness.backend(&state, limit).await;
    let ready = database.is_ok() && backend.is_ok();
    if !ready {
        tracing::warn!(database = ?database.as_ref().err(), backend = ?backend.as_ref().err(), "not ready");
    }
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok",
        Err(_) => "unavailable",
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
