//! The back office under `/sim`: what staff, partners and test scripts do
//! to the simulated institution. No key, not counted, never throttled.
//!
//! - `POST /sim/rs-requests/{id}/status` `{"status": "SHIPPED_PHYSICALLY"}`
//! - `POST /sim/loans` (a [`NewSimLoan`]) → `{"loan_id": ...}`
//! - `POST /sim/users` `{"user_id": ...}`
//! - `PUT /sim/fault` `{"fault": "none|unavailable|server_error|throttle|slow", "delay_ms": N}`
//! - `GET /sim/stats`, `POST /sim/stats/reset`
//! - `GET /sim/config`, `PATCH /sim/config` (any of the members below)
//! - `GET /sim/state`: every RS request, user request, loan and partner

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::render::{self, Fmt};
use super::state::SimState;
use super::{Fault, NewSimLoan};

pub(crate) fn router() -> Router<SimState> {
    Router::new()
        .route("/sim/rs-requests/{id}/status", post(set_status))
        .route("/sim/loans", post(add_loan))
        .route("/sim/analytics", post(super::analytics::add_report))
        .route("/sim/users", post(add_user))
        .route("/sim/fault", put(set_fault).get(get_fault))
        .route("/sim/stats", get(stats))
        .route("/sim/stats/reset", post(reset_stats))
        .route("/sim/config", get(get_config).patch(patch_config))
        .route("/sim/state", get(dump))
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn set_status(
    State(s): State<SimState>,
    Path(id): Path<String>,
    Json(body): Json<StatusBody>,
) -> Response {
    if render::status_desc(&body.status).is_none() {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("unknown status code {}", body.status),
        );
    }
    if !s.set_status(&id, &body.status) {
        return problem(StatusCode::NOT_FOUND, format!("no RS request {id}"));
    }
    let data = s.data();
    let r = data.borrowing.get(&id).or_else(|| data.lending.get(&id));
    match r {
        Some(r) => Json(render::rs_request(&data, &s.api_base(), r)).into_response(),
        None => problem(StatusCode::NOT_FOUND, format!("no RS request {id}")),
    }
}

async fn add_loan(State(s): State<SimState>, Json(loan): Json<NewSimLoan>) -> Response {
    if let Some(rs) = &loan.rs_request_id {
        if !s.data().borrowing.contains_key(rs) {
            return problem(StatusCode::NOT_FOUND, format!("no borrowing request {rs}"));
        }
    }
    Json(json!({"loan_id": s.add_loan(loan)})).into_response()
}

#[derive(Deserialize)]
struct UserBody {
    user_id: String,
}

async fn add_user(State(s): State<SimState>, Json(body): Json<UserBody>) -> Response {
    s.add_user(&body.user_id);
    Json(json!({"user_id": body.user_id})).into_response()
}

#[derive(Deserialize)]
struct FaultBody {
    fault: String,
    #[serde(default)]
    delay_ms: Option<u64>,
}

fn fault_name(f: Fault) -> Value {
    match f {
        Fault::None => json!({"fault": "none"}),
        Fault::Unavailable => json!({"fault": "unavailable"}),
        Fault::ServerError => json!({"fault": "server_error"}),
        Fault::Throttle => json!({"fault": "throttle"}),
        Fault::Slow(d) => json!({"fault": "slow", "delay_ms": d.as_millis() as u64}),
    }
}

async fn set_fault(State(s): State<SimState>, Json(body): Json<FaultBody>) -> Response {
    let fault = match body.fault.as_str() {
        "none" => Fault::None,
        "unavailable" => Fault::Unavailable,
        "server_error" => Fault::ServerError,
        "throttle" => Fault::Throttle,
        "slow" => Fault::Slow(Duration::from_millis(body.delay_ms.unwrap_or(1000))),
        other => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!("unknown fault {other} (none, unavailable, server_error, throttle, slow)"),
            )
        }
    };
    s.set_fault(fault);
    Json(fault_name(fault)).into_response()
}

async fn get_fault(State(s): State<SimState>) -> Response {
    Json(fault_name(s.fault())).into_response()
}

async fn stats(State(s): State<SimState>) -> Response {
    Json(s.stats()).into_response()
}

async fn reset_stats(State(s): State<SimState>) -> Response {
    s.reset_stats();
    Json(s.stats()).into_response()
}

fn config_value(s: &SimState) -> Value {
    let c = s.config();
    json!({
        "threshold_per_second": c.threshold_per_second,
        "daily_budget": c.daily_budget,
        "create_delay_ms": c.create_delay.as_millis() as u64,
        "progress_ms": c.progress_every.map(|d| d.as_millis() as u64),
        "strict_users": c.strict_users,
        "max_renewals": c.max_renewals,
        "renewal_days": c.renewal_days,
        "rs_library": c.rs_library,
        "inventory_titles": c.inventory_titles,
    })
}

async fn get_config(State(s): State<SimState>) -> Response {
    Json(config_value(&s)).into_response()
}

/// Changes the members given; `"progress_ms": null` stops progression.
async fn patch_config(State(s): State<SimState>, Json(body): Json<Value>) -> Response {
    let Some(m) = body.as_object() else {
        return problem(StatusCode::BAD_REQUEST, "a JSON object is expected");
    };
    let known = [
        "threshold_per_second",
        "daily_budget",
        "create_delay_ms",
        "progress_ms",
        "strict_users",
        "max_renewals",
        "renewal_days",
        "rs_library",
        "inventory_titles",
    ];
    if let Some(k) = m.keys().find(|k| !known.contains(&k.as_str())) {
        return problem(StatusCode::BAD_REQUEST, format!("unknown member {k}"));
    }
    let num = |k: &str| m.get(k).and_then(Value::as_u64);
    s.update_config(|c| {
        if let Some(n) = num("threshold_per_second") {
            c.threshold_per_second = n as u32;
        }
        if let Some(n) = num("daily_budget") {
            c.daily_budget = n;
        }
        if let Some(n) = num("create_delay_ms") {
            c.create_delay = Duration::from_millis(n);
        }
        if let Some(v) = m.get("progress_ms") {
            c.progress_every = v.as_u64().map(Duration::from_millis);
        }
        if let Some(b) = m.get("strict_users").and_then(Value::as_bool) {
            c.strict_users = b;
        }
        if let Some(n) = num("max_renewals") {
            c.max_renewals = n as u32;
        }
        if let Some(n) = m.get("renewal_days").and_then(Value::as_i64) {
            c.renewal_days = n;
        }
        if let Some(l) = m.get("rs_library").and_then(Value::as_str) {
            c.rs_library = l.to_string();
        }
        if let Some(t) = m.get("inventory_titles").and_then(Value::as_array) {
            c.inventory_titles = t
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
        }
    });
    Json(config_value(&s)).into_response()
}

/// Everything, in the API's JSON shapes; RS requests also carry `user_id`.
async fn dump(State(s): State<SimState>) -> Response {
    let config = s.config();
    let api = s.api_base();
    let data = s.data();
    let borrowing: Vec<Value> = data
        .borrowing
        .values()
        .map(|r| {
            let mut v = render::rs_request(&data, &api, r);
            v["user_id"] = json!(r.user_id);
            v["user_request_id"] = json!(r.user_request_id);
            v
        })
        .collect();
    let lending: Vec<Value> = data
        .lending
        .values()
        .map(|r| render::rs_request(&data, &api, r))
        .collect();
    let user_requests: Vec<Value> = data
        .user_requests
        .iter()
        .filter_map(|(ur, rs)| {
            Some(render::user_request(
                &api,
                ur,
                data.borrowing.get(rs)?,
                Fmt::Json,
            ))
        })
        .collect();
    let loans: Vec<Value> = data
        .loans
        .values()
        .map(|l| {
            render::loan(
                &api,
                &data,
                l,
                true,
                config.max_renewals,
                &config.rs_library,
            )
        })
        .collect();
    let partners: Vec<Value> = data.partners.values().cloned().collect();
    let users: Vec<&String> = data.users.keys().collect();
    Json(json!({
        "rs_requests": borrowing,
        "lending_requests": lending,
        "user_requests": user_requests,
        "loans": loans,
        "partners": partners,
        "users": users,
    }))
    .into_response()
}
