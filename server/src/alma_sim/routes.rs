//! The `/almaws/v1` handlers and the gate every API call passes first
//! (statistics, faults, authentication, per-second threshold, daily budget,
//! response headers).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use serde_json::{json, Map, Value};
use tower::{Layer, Service};

use super::render::{self, error, ok, Fmt};
use super::state::{is_final, Admission, Data, RsRequest, SimState};
use super::Fault;

/// Every route as `(method, template)`, for the statistics' route names.
/// Literal templates come before the ones with parameters in the same place.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/users/operation/test"),
    ("POST", "/users/operation/test"),
    ("GET", "/partners/operation/test"),
    ("POST", "/partners/operation/test"),
    ("GET", "/task-lists/test"),
    ("POST", "/task-lists/test"),
    ("GET", "/task-lists/rs/lending-requests"),
    ("POST", "/task-lists/rs/lending-requests"),
    ("GET", "/conf/code-tables/{id}"),
    ("GET", "/users/{id}"),
    ("POST", "/users/{id}/resource-sharing-requests"),
    ("GET", "/users/{id}/resource-sharing-requests/{id}"),
    ("POST", "/users/{id}/resource-sharing-requests/{id}"),
    ("DELETE", "/users/{id}/resource-sharing-requests/{id}"),
    ("GET", "/users/{id}/requests"),
    ("GET", "/users/{id}/requests/{id}"),
    ("GET", "/users/{id}/loans"),
    ("GET", "/users/{id}/loans/{id}"),
    ("POST", "/users/{id}/loans/{id}"),
    ("GET", "/partners"),
    ("POST", "/partners"),
    ("GET", "/partners/{id}"),
    ("PUT", "/partners/{id}"),
    ("DELETE", "/partners/{id}"),
    ("POST", "/partners/{id}/lending-requests"),
    ("GET", "/partners/{id}/lending-requests/{id}"),
];

const PREFIX: &str = "/almaws/v1";

/// The statistics name of a call: `"GET /users/{id}/loans"`, or
/// `"GET (unknown path)"`.
pub(crate) fn route_name(method: &Method, path: &str) -> String {
    let rest = path.strip_prefix(PREFIX).unwrap_or(path);
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    ROUTES
        .iter()
        .find(|(m, t)| {
            let tsegs: Vec<&str> = t.split('/').filter(|s| !s.is_empty()).collect();
            *m == method.as_str()
                && tsegs.len() == segs.len()
                && tsegs.iter().zip(&segs).all(|(t, s)| *t == "{id}" || t == s)
        })
        .map(|(m, t)| format!("{m} {t}"))
        .unwrap_or_else(|| format!("{method} (unknown path)"))
}

impl<S: Send + Sync> FromRequestParts<S> for Fmt {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Fmt::negotiate(&parts.headers, parts.uri.query()))
    }
}

type Q = Query<HashMap<String, String>>;

fn p(path: &str) -> String {
    format!("{PREFIX}{path}")
}

/// The whole service: trailing slashes dropped (VuFind renews at
/// `…/loans/{id}/?op=renew`), the gate, then the API and `/sim` routes.
pub(crate) fn service(
    state: SimState,
) -> impl Service<
    Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Send + 'static,
> + Clone
       + Send
       + 'static {
    let api = Router::new()
        .route(&p("/users/operation/test"), get(test).post(test))
        .route(&p("/partners/operation/test"), get(test).post(test))
        .route(&p("/task-lists/test"), get(test).post(test))
        .route(
            &p("/task-lists/rs/lending-requests"),
            get(task_list).post(task_list_mark),
        )
        .route(&p("/conf/code-tables/{name}"), get(code_table))
        .route(&p("/conf/letters"), get(conf_letters))
        .route(&p("/analytics/reports"), get(super::analytics::reports))
        .route(&p("/users/{user_id}"), get(get_user))
        .route(
            &p("/users/{user_id}/resource-sharing-requests"),
            axum::routing::post(create_borrowing),
        )
        .route(
            &p("/users/{user_id}/resource-sharing-requests/{request_id}"),
            get(get_borrowing)
                .post(borrowing_op)
                .delete(cancel_borrowing),
        )
        .route(&p("/users/{user_id}/requests"), get(list_user_requests))
        .route(
            &p("/users/{user_id}/requests/{request_id}"),
            get(get_user_request),
        )
        .route(&p("/users/{user_id}/loans"), get(list_loans))
        .route(
            &p("/users/{user_id}/loans/{loan_id}"),
            get(get_loan).post(renew_loan),
        )
        .route(&p("/partners"), get(list_partners).post(create_partner))
        .route(
            &p("/partners/{code}"),
            get(get_partner).put(put_partner).delete(delete_partner),
        )
        .route(
            &p("/partners/{code}/lending-requests"),
            axum::routing::post(create_lending),
        )
        .route(
            &p("/partners/{code}/lending-requests/{request_id}"),
            get(get_lending),
        )
        .merge(super::control::router())
        .fallback(unknown_path)
        .method_not_allowed_fallback(unknown_path)
        .with_state(state.clone());
    let gated = middleware::from_fn_with_state(state, gate).layer(api);
    tower::util::MapRequestLayer::new(strip_trailing_slash).layer(gated)
}

fn strip_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let pq = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(pq) = pq.parse() {
            let mut parts = req.uri().clone().into_parts();
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

fn api_key(req: &Request) -> Option<String> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("apikey")
                .then(|| key.trim().to_string())
        });
    header.or_else(|| {
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == "apikey")
            .map(|(_, v)| v.into_owned())
    })
}

/// What every `/almaws` call goes through before its handler.
async fn gate(State(s): State<SimState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/almaws/") {
        return next.run(req).await;
    }
    let fmt = Fmt::negotiate(req.headers(), req.uri().query());
    s.meter()
        .receive(route_name(req.method(), req.uri().path()));
    let request_id = uuid::Uuid::new_v4().to_string();
    let fault = s.fault();
    let mut response = 'answer: {
        if fault == Fault::Unavailable {
            break 'answer render::unavailable();
        }
        let config = s.config();
        let key_ok = api_key(&req).is_some_and(|k| config.api_keys.contains(&k));
        if !key_ok {
            break 'answer render::unauthorized();
        }
        let admission = s
            .meter()
            .admit(config.threshold_per_second, fault == Fault::Throttle);
        let remaining = match admission {
            Admission::OverThreshold => break 'answer render::per_second_threshold(fmt),
            Admission::OverDailyBudget => break 'answer render::daily_threshold(fmt),
            Admission::Admitted { remaining } => remaining,
        };
        match fault {
            Fault::ServerError => break 'answer render::server_error(fmt),
            Fault::Slow(d) => tokio::time::sleep(d).await,
            _ => {}
        }
        let mut r = next.run(req).await;
        r.headers_mut()
            .insert("x-exl-api-remaining", HeaderValue::from(remaining));
        r
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-request-id", v);
    }
    headers.insert(
        header::SERVER,
        HeaderValue::from_static("Layer7-API-Gateway"),
    );
    response
}

/// Paths and methods Alma does not have, such as a list of a user's RS
/// requests: a general error, never a list.
async fn unknown_path(fmt: Fmt, method: Method, uri: Uri) -> Response {
    error(
        fmt,
        "401652",
        &format!(
            "General Error - An error has occurred while processing the request. \
             (No API at {method} {})",
            uri.path()
        ),
    )
}

async fn test(method: Method) -> Response {
    let mut r =
        Response::new(format!("<test>{method} - OK - institutionCode: 01SIM_INST</test>").into());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml;charset=UTF-8"),
    );
    r
}

async fn conf_letters(fmt: Fmt) -> Response {
    ok(fmt, "letters", &super::letters::letters())
}

async fn code_table(fmt: Fmt, Path(name): Path<String>) -> Response {
    match render::code_table(&name) {
        Some(v) => ok(fmt, "code_table", &v),
        None => error(
            fmt,
            "40166410",
            &format!("Invalid parameter value: code table {name} is not defined."),
        ),
    }
}

// ---------------------------------------------------------------- helpers

/// An Alma error as a value, answered in the negotiated format.
struct AlmaError(&'static str, String);

impl AlmaError {
    fn into_response(self, fmt: Fmt) -> Response {
        error(fmt, self.0, &self.1)
    }
}

/// A handler's outcome: the object under `root`, or the Alma error.
fn answer(fmt: Fmt, root: &str, result: Result<Value, AlmaError>) -> Response {
    match result {
        Ok(v) => ok(fmt, root, &v),
        Err(e) => e.into_response(fmt),
    }
}

fn mandatory(field: &str) -> AlmaError {
    AlmaError("401664", format!("Mandatory field is missing: {field}"))
}

/// Alma's message for a value of the wrong shape (e.g. a wrapped `owner`).
fn invalid_shape() -> AlmaError {
    let b = uuid::Uuid::new_v4().as_u128() as u32;
    AlmaError(
        "401897",
        format!("Invalid field value. Field: [Ljava.lang.Object;@{b:x} Value: {{1}}"),
    )
}

fn invalid_value(field: &str, value: &str) -> AlmaError {
    AlmaError(
        "401897",
        format!("Invalid field value. Field: {field} Value: {value}"),
    )
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, AlmaError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(AlmaError(
            "401652",
            "General Error - the request body is not a JSON object.".into(),
        )),
        Err(e) => Err(AlmaError(
            "401652",
            format!(
                "General Error - cannot parse the request body (the simulator reads JSON only): {e}"
            ),
        )),
    }
}

/// Reads the RS request members of a create body: strings kept exactly as
/// sent, code-table members reduced to their code. `owner` and
/// `pickup_location_type` must be plain strings.
fn read_rs_fields(body: &Map<String, Value>) -> Result<Map<String, Value>, AlmaError> {
    let mut fields = Map::new();
    for key in render::STRING_FIELDS {
        match body.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                fields.insert(key.into(), json!(s));
            }
            Some(Value::Number(n)) => {
                fields.insert(key.into(), json!(n.to_string()));
            }
            Some(Value::Bool(b)) => {
                fields.insert(key.into(), json!(b.to_string()));
            }
            Some(_) => return Err(invalid_shape()),
        }
    }
    for key in render::CODE_FIELDS {
        match body.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if !s.is_empty() => {
                fields.insert(key.into(), json!(s));
            }
            Some(Value::Object(o)) => match o.get("value") {
                Some(Value::String(s)) if !s.is_empty() => {
                    fields.insert(key.into(), json!(s));
                }
                None | Some(Value::Null) => {}
                Some(_) => return Err(invalid_shape()),
            },
            Some(Value::String(_)) => {}
            Some(_) => return Err(invalid_shape()),
        }
    }
    for key in render::OTHER_FIELDS {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            if v.is_object() || v.is_array() {
                return Err(invalid_shape());
            }
            fields.insert(key.into(), v.clone());
        }
    }
    Ok(fields)
}

fn code_member(body: &Map<String, Value>, key: &str) -> Option<String> {
    match body.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("value")?.as_str().map(str::to_string),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn string_member(body: &Map<String, Value>, key: &str) -> Option<String> {
    body.get(key)?
        .as_str()
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn flag(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `limit` (0–100, default 10) and `offset` (default 0).
fn paging(q: &HashMap<String, String>) -> Result<(usize, usize), AlmaError> {
    let num = |key: &str, default: usize, max: usize| match q.get(key) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(AlmaError(
                "40166410",
                format!("Invalid parameter value: {key}={v}"),
            )),
        },
    };
    Ok((num("limit", 10, 100)?, num("offset", 0, usize::MAX)?))
}

fn page<T>(items: Vec<T>, limit: usize, offset: usize) -> (Vec<T>, usize) {
    let total = items.len();
    (items.into_iter().skip(offset).take(limit).collect(), total)
}

/// Whether the user exists (and, when users are not strict, makes it so).
fn user_exists(data: &mut Data, user_id: &str, strict: bool) -> bool {
    if strict {
        data.users.contains_key(user_id)
    } else {
        data.ensure_user(user_id);
        true
    }
}

fn user_not_found(user_id: &str) -> AlmaError {
    AlmaError(
        "401890",
        format!("User with identifier {user_id} of type all_unique was not found."),
    )
}

async fn after_create_delay(s: &SimState) {
    let d = s.config().create_delay;
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

// ---------------------------------------------------------------- users

async fn get_user(State(s): State<SimState>, fmt: Fmt, Path(user_id): Path<String>) -> Response {
    let strict = s.config().strict_users;
    let mut data = s.data();
    if !user_exists(&mut data, &user_id, strict) {
        return error(
            fmt,
            "401861",
            &format!("User with identifier {user_id} was not found."),
        );
    }
    let u = data.users.get(&user_id).cloned().unwrap_or_default();
    ok(fmt, "user", &render::user(&s.api_base(), &user_id, &u))
}

// ---------------------------------------------------------------- borrowing

async fn create_borrowing(
    State(s): State<SimState>,
    fmt: Fmt,
    Path(user_id): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Response {
    s.count_create();
    let config = s.config();
    let created = (|| -> Result<Value, AlmaError> {
        let body = parse_object(&body)?;
        let mut data = s.data();
        if !user_exists(&mut data, &user_id, config.strict_users) {
            return Err(user_not_found(&user_id));
        }
        let mut fields = read_rs_fields(&body)?;
        let format = code_member(&body, "format").ok_or_else(|| mandatory("format"))?;
        if !render::is_format(&format) {
            return Err(invalid_value("format", &format));
        }
        let citation_type =
            code_member(&body, "citation_type").ok_or_else(|| mandatory("citation_type"))?;
        if !render::is_borrowing_citation_type(&citation_type) {
            return Err(invalid_value("citation_type", &citation_type));
        }
        let title = fields
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if title.trim().is_empty() && !fields.contains_key("mms_id") {
            return Err(mandatory("title"));
        }
        if !truthy(body.get("agree_to_copyright_terms")) {
            let sent = body
                .get("agree_to_copyright_terms")
                .map(Value::to_string)
                .unwrap_or_else(|| "null".into());
            return Err(invalid_value("agree_to_copyright_terms", &sent));
        }
        match fields.get("owner").and_then(Value::as_str) {
            Some(owner) if owner != config.rs_library => {
                return Err(AlmaError(
                    "401608",
                    format!("Owner {owner} is not defined in the patron's record."),
                ))
            }
            Some(_) => {}
            None => {
                fields.insert("owner".into(), json!(config.rs_library));
            }
        }
        let external_id = string_member(&body, "external_id");
        if let Some(ext) = &external_id {
            let duplicate = data
                .borrowing
                .values()
                .any(|r| r.user_id.as_deref() == Some(&user_id) && &r.external_id == ext);
            if duplicate {
                return Err(AlmaError(
                    "402362",
                    "Failed to save the request: Patron has duplicate request".into(),
                ));
            }
        }
        let held = config
            .inventory_titles
            .iter()
            .any(|t| t.trim().eq_ignore_ascii_case(title.trim()));
        if held && !flag(&q, "override_blocks") {
            return Err(AlmaError(
                "401604",
                "Warning: The institutional inventory has services for the requested title.".into(),
            ));
        }
        let partner = code_member(&body, "partner");
        let external_id = match external_id {
            Some(e) => e,
            None => format!("SIM{:07}", data.next_seq()),
        };
        let r = data.new_request(
            false,
            Some(user_id.clone()),
            external_id,
            "REQUEST_CREATED_BOR",
            partner,
            fields,
        );
        let id = data.insert_borrowing(r);
        Ok(render::rs_request(
            &data,
            &s.api_base(),
            &data.borrowing[&id],
        ))
    })();
    match created {
        Ok(v) => {
            after_create_delay(&s).await;
            ok(fmt, "user_resource_sharing_request", &v)
        }
        Err(e) => e.into_response(fmt),
    }
}

/// A user's borrowing request by request id or (`request_id_type=external`)
/// by external id.
fn find_borrowing<'a>(
    data: &'a Data,
    user_id: &str,
    request_id: &str,
    q: &HashMap<String, String>,
) -> Option<&'a RsRequest> {
    let mine = |r: &&RsRequest| r.user_id.as_deref() == Some(user_id);
    if q.get("request_id_type").map(String::as_str) == Some("external") {
        data.borrowing
            .values()
            .filter(mine)
            .find(|r| r.external_id == request_id)
    } else {
        data.borrowing.get(request_id).filter(mine)
    }
}

async fn get_borrowing(
    State(s): State<SimState>,
    fmt: Fmt,
    Path((user_id, request_id)): Path<(String, String)>,
    Query(q): Q,
) -> Response {
    let strict = s.config().strict_users;
    let mut data = s.data();
    if !user_exists(&mut data, &user_id, strict) {
        return user_not_found(&user_id).into_response(fmt);
    }
    match find_borrowing(&data, &user_id, &request_id, &q) {
        Some(r) => ok(
            fmt,
            "user_resource_sharing_request",
            &render::rs_request(&data, &s.api_base(), r),
        ),
        None => error(fmt, "40166450", "No result found for given parameters."),
    }
}

fn request_not_found() -> AlmaError {
    AlmaError("401694", "Request Identifier not found.".into())
}

/// `POST …/resource-sharing-requests/{id}?op=update_shipping`, the only
/// operation Alma has here.
async fn borrowing_op(
    State(s): State<SimState>,
    fmt: Fmt,
    Path((user_id, request_id)): Path<(String, String)>,
    Query(q): Q,
) -> Response {
    let result = (|| -> Result<Value, AlmaError> {
        match q.get("op").map(String::as_str) {
            None | Some("") => {
                return Err(AlmaError(
                    "40166414",
                    "The parameter 'op' is mandatory. Valid options are: update_shipping.".into(),
                ))
            }
            Some("update_shipping") => {}
            Some(other) => {
                return Err(AlmaError(
                    "40166411",
                    format!("Invalid parameter value: op={other}"),
                ))
            }
        }
        let cost = match q.get("shipping_cost") {
            None => None,
            Some(v) => match v.parse::<f64>() {
                Ok(c) if c < 0.0 => {
                    return Err(AlmaError(
                        "40166425",
                        "Shipping cost must not be negative.".into(),
                    ))
                }
                Ok(c) => Some(c),
                Err(_) => {
                    return Err(AlmaError(
                        "40166411",
                        format!("Invalid parameter value: shipping_cost={v}"),
                    ))
                }
            },
        };
        let mut data = s.data();
        let id = find_borrowing(&data, &user_id, &request_id, &q)
            .map(|r| r.id.clone())
            .ok_or_else(request_not_found)?;
        let r = data.borrowing.get_mut(&id).unwrap();
        if let Some(c) = cost {
            r.shipping_cost = Some(c);
        }
        r.modified = Utc::now();
        Ok(render::rs_request(
            &data,
            &s.api_base(),
            &data.borrowing[&id],
        ))
    })();
    answer(fmt, "user_resource_sharing_request", result)
}

/// Cancels (`CANCELED_BY_PATRON`) or, with `remove_request=true`, deletes.
async fn cancel_borrowing(
    State(s): State<SimState>,
    fmt: Fmt,
    Path((user_id, request_id)): Path<(String, String)>,
    Query(q): Q,
) -> Response {
    let strict = s.config().strict_users;
    let result = (|| -> Result<(), AlmaError> {
        let mut data = s.data();
        if !user_exists(&mut data, &user_id, strict) {
            return Err(user_not_found(&user_id));
        }
        if let Some(reason) = q.get("reason").filter(|r| !r.is_empty()) {
            let known = render::code_table("RequestCancellationReasons")
                .and_then(|t| t["row"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .any(|row| row["code"] == json!(reason));
            if !known {
                return Err(AlmaError(
                    "40166411",
                    format!("Invalid parameter value: reason={reason}"),
                ));
            }
        }
        let r = data
            .borrowing
            .get(&request_id)
            .filter(|r| r.user_id.as_deref() == Some(&user_id))
            .ok_or_else(request_not_found)?;
        if flag(&q, "remove_request") {
            let ur = r.user_request_id.clone();
            data.borrowing.remove(&request_id);
            if let Some(ur) = ur {
                data.user_requests.remove(&ur);
            }
            return Ok(());
        }
        if r.status == "CANCELED_BY_PATRON" {
            return Ok(());
        }
        if is_final(&r.status) {
            return Err(AlmaError(
                "401652",
                format!(
                    "General Error - the request cannot be canceled in status {}.",
                    r.status
                ),
            ));
        }
        data.transition(&request_id, "CANCELED_BY_PATRON");
        Ok(())
    })();
    match result {
        Ok(()) => render::no_content(),
        Err(e) => e.into_response(fmt),
    }
}

// ---------------------------------------------------------------- user requests

async fn list_user_requests(
    State(s): State<SimState>,
    fmt: Fmt,
    Path(user_id): Path<String>,
    Query(q): Q,
) -> Response {
    let strict = s.config().strict_users;
    let result = (|| -> Result<Value, AlmaError> {
        let (limit, offset) = paging(&q)?;
        let history = match q.get("status").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("active") => false,
            Some("history") => true,
            Some(v) => {
                return Err(AlmaError(
                    "40166411",
                    format!("Invalid parameter value: status={v}"),
                ))
            }
        };
        let mut data = s.data();
        if !user_exists(&mut data, &user_id, strict) {
            return Err(user_not_found(&user_id));
        }
        let api = s.api_base();
        let items: Vec<Value> = data
            .user_requests
            .iter()
            .filter_map(|(ur, rs)| Some((ur, data.borrowing.get(rs)?)))
            .filter(|(_, r)| r.user_id.as_deref() == Some(&user_id))
            .filter(|(_, r)| is_final(&r.status) == history)
            .map(|(ur, r)| render::user_request(&api, ur, r, fmt))
            .filter(|v| match q.get("request_type") {
                Some(t) if !t.is_empty() && t != "all" => v["request_type"] == json!(t),
                _ => true,
            })
            .collect();
        let (items, total) = page(items, limit, offset);
        Ok(render::list("user_request", items, total))
    })();
    answer(fmt, "user_requests", result)
}

async fn get_user_request(
    State(s): State<SimState>,
    fmt: Fmt,
    Path((user_id, request_id)): Path<(String, String)>,
) -> Response {
    let data = s.data();
    let found = data
        .user_requests
        .get(&request_id)
        .and_then(|rs| data.borrowing.get(rs))
        .filter(|r| r.user_id.as_deref() == Some(&user_id));
    match found {
        Some(r) => ok(
            fmt,
            "user_request",
            &render::user_request(&s.api_base(), &request_id, r, fmt),
        ),
        None => request_not_found().into_response(fmt),
    }
}

// ---------------------------------------------------------------- loans

async fn list_loans(
    State(s): State<SimState>,
    fmt: Fmt,
    Path(user_id): Path<String>,
    Query(q): Q,
) -> Response {
    let config = s.config();
    let result = (|| -> Result<Value, AlmaError> {
        let (limit, offset) = paging(&q)?;
        let complete = match q
            .get("loan_status")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") | Some("active") => false,
            Some("complete") => true,
            Some(v) => {
                return Err(AlmaError(
                    "40166411",
                    format!("Invalid parameter value: loan_status={v}"),
                ))
            }
        };
        let order_by = q.get("order_by").map(String::as_str).unwrap_or("id");
        if !matches!(
            order_by,
            "id" | "loan_date" | "due_date" | "barcode" | "title" | "author" | "return_date"
        ) {
            return Err(AlmaError(
                "40166411",
                format!("Invalid parameter value: order_by={order_by}"),
            ));
        }
        let desc = q
            .get("direction")
            .is_some_and(|d| d.eq_ignore_ascii_case("desc"));
        let expand = q
            .get("expand")
            .is_some_and(|e| e.split(',').any(|x| x.trim() == "renewable"));
        let mut data = s.data();
        if !user_exists(&mut data, &user_id, config.strict_users) {
            return Err(user_not_found(&user_id));
        }
        let mut loans: Vec<_> = data
            .loans
            .values()
            .filter(|l| l.user_id == user_id && l.returned.is_some() == complete)
            .collect();
        loans.sort_by(|a, b| {
            let key = match order_by {
                "loan_date" => a.loan_date.cmp(&b.loan_date),
                "due_date" => a.due.cmp(&b.due),
                "barcode" => a.barcode.cmp(&b.barcode),
                "title" => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
                "author" => a.author.cmp(&b.author),
                "return_date" => a.returned.cmp(&b.returned),
                _ => std::cmp::Ordering::Equal,
            };
            key.then_with(|| a.id.cmp(&b.id))
        });
        if desc {
            loans.reverse();
        }
        let api = s.api_base();
        let items: Vec<Value> = loans
            .into_iter()
            .map(|l| {
                render::loan(
                    &api,
                    &data,
                    l,
                    expand,
                    config.max_renewals,
                    &config.rs_library,
                )
            })
            .collect();
        let (items, total) = page(items, limit, offset);
        Ok(render::list("item_loan", items, total))
    })();
    answer(fmt, "item_loans", result)
}

fn loan_not_found(loan_id: &str) -> AlmaError {
    AlmaError("401823", format!("Loan ID {loan_id} does not exist."))
}

async fn get_loan(
    State(s): State<SimState>,
    fmt: Fmt,
    Path((user_id, loan_id)): Path<(String, String)>,
    Query(q): Q,
) -> Response {
    let config = s.config();
    let data = s.data();
    let expand = q
        .get("expand")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "renewable"));
    match data.loans.get(&loan_id).filter(|l| l.user_id == user_id) {
        Some(l) => ok(
            fmt,
            "item_loan",
            &render::loan(
                &s.api_base(),
                &data,
                l,
                expand,
                config.max_renewals,
                &config.rs_library,
            ),
        ),
        None => loan_not_found(&loan_id).into_response(fmt),
    }
}

/// `POST /users/{id}/loans/{loan_id}?op=renew`: the updated loan with a
/// later due date, or `401822` when the loan may not be renewed (again).
async fn renew_loan(
    State(s): State<SimState>,
    fmt: Fmt,
    Path((user_id, loan_id)): Path<(String, String)>,
    Query(q): Q,
) -> Response {
    let config = s.config();
    let result = (|| -> Result<Value, AlmaError> {
        match q.get("op").map(String::as_str) {
            Some("renew") => {}
            None | Some("") => {
                return Err(AlmaError(
                    "40166414",
                    "The parameter 'op' is mandatory. Valid options are: renew.".into(),
                ))
            }
            Some(other) => {
                return Err(AlmaError(
                    "40166411",
                    format!("Invalid parameter value: op={other}"),
                ))
            }
        }
        let mut data = s.data();
        let loan = data
            .loans
            .get_mut(&loan_id)
            .filter(|l| l.user_id == user_id)
            .ok_or_else(|| loan_not_found(&loan_id))?;
        if !loan.renewable || loan.renewals >= config.max_renewals || loan.returned.is_some() {
            return Err(AlmaError(
                "401822",
                format!("Cannot renew loan: Loan ID {loan_id}."),
            ));
        }
        let now = Utc::now();
        loan.due = loan.due.max(now) + chrono::Duration::days(config.renewal_days);
        loan.renewals += 1;
        loan.last_renew = Some(now);
        let loan = loan.clone();
        Ok(render::loan(
            &s.api_base(),
            &data,
            &loan,
            false,
            config.max_renewals,
            &config.rs_library,
        ))
    })();
    answer(fmt, "item_loan", result)
}

// ---------------------------------------------------------------- partners

fn partner_with_link(api: &str, code: &str, stored: &Value) -> Value {
    let mut v = stored.clone();
    v["link"] = json!(format!("{api}/partners/{}", render::seg(code)));
    v
}

/// Checks the mandatory members of a partner record; returns its code.
fn check_partner(body: &Map<String, Value>) -> Result<String, AlmaError> {
    let details = body
        .get("partner_details")
        .and_then(Value::as_object)
        .ok_or_else(|| mandatory("partner_details"))?;
    let code = string_member(details, "code").ok_or_else(|| mandatory("code"))?;
    string_member(details, "name").ok_or_else(|| mandatory("name"))?;
    code_member(details, "system_type").ok_or_else(|| mandatory("system_type"))?;
    let profile = details
        .get("profile_details")
        .and_then(Value::as_object)
        .ok_or_else(|| mandatory("profile_details"))?;
    let profile_type =
        string_member(profile, "profile_type").ok_or_else(|| mandatory("profile_type"))?;
    let required: &[&str] = match profile_type.as_str() {
        "EMAIL" => &["email_details", "email"],
        "ISO" => &["iso_details", "ill_server", "ill_port", "iso_symbol"],
        _ => &[],
    };
    if let Some((block, members)) = required.split_first() {
        let block_value = profile
            .get(*block)
            .and_then(Value::as_object)
            .ok_or_else(|| mandatory(block))?;
        for m in members {
            if block_value.get(*m).is_none_or(Value::is_null) {
                return Err(mandatory(m));
            }
        }
    }
    Ok(code)
}

fn iso_symbol(v: &Value) -> Option<String> {
    let p = v.pointer("/partner_details/profile_details")?;
    p.pointer("/iso_details/iso_symbol")
        .or_else(|| p.pointer("/iso_18626_details/iso_symbol"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn partner_not_found() -> AlmaError {
    AlmaError("402118", "Partner not found".into())
}

async fn list_partners(State(s): State<SimState>, fmt: Fmt, Query(q): Q) -> Response {
    let result = (|| -> Result<Value, AlmaError> {
        let (limit, offset) = paging(&q)?;
        let status = q.get("status").filter(|v| !v.is_empty());
        let data = s.data();
        let api = s.api_base();
        let items: Vec<Value> = data
            .partners
            .iter()
            .filter(|(_, p)| match status {
                Some(st) => p.pointer("/partner_details/status") == Some(&json!(st)),
                None => true,
            })
            .map(|(code, p)| partner_with_link(&api, code, p))
            .collect();
        let (items, total) = page(items, limit, offset);
        Ok(render::list("partner", items, total))
    })();
    answer(fmt, "partners", result)
}

/// `411709` when another partner than `code` has the record's ISO symbol.
fn iso_symbol_free(data: &Data, code: &str, record: &Value) -> Result<(), AlmaError> {
    let Some(sym) = iso_symbol(record) else {
        return Ok(());
    };
    let taken = data
        .partners
        .iter()
        .any(|(c, p)| c != code && iso_symbol(p).as_ref() == Some(&sym));
    if taken {
        return Err(AlmaError(
            "411709",
            format!("A partner with the ISO symbol {sym} already exists."),
        ));
    }
    Ok(())
}

async fn create_partner(State(s): State<SimState>, fmt: Fmt, body: Bytes) -> Response {
    let result = (|| -> Result<Value, AlmaError> {
        let body = parse_object(&body)?;
        let code = check_partner(&body)?;
        let mut data = s.data();
        if data.partners.contains_key(&code) {
            return Err(AlmaError("402113", "Partner already exists".into()));
        }
        let value = Value::Object(body);
        iso_symbol_free(&data, &code, &value)?;
        data.partners.insert(code.clone(), value.clone());
        Ok(partner_with_link(&s.api_base(), &code, &value))
    })();
    answer(fmt, "partner", result)
}

async fn get_partner(State(s): State<SimState>, fmt: Fmt, Path(code): Path<String>) -> Response {
    let data = s.data();
    match data.partners.get(&code) {
        Some(p) => ok(fmt, "partner", &partner_with_link(&s.api_base(), &code, p)),
        None => partner_not_found().into_response(fmt),
    }
}

/// Replaces the whole record ("swap all"); the code cannot change.
async fn put_partner(
    State(s): State<SimState>,
    fmt: Fmt,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| -> Result<Value, AlmaError> {
        let body = parse_object(&body)?;
        let mut data = s.data();
        if !data.partners.contains_key(&code) {
            return Err(partner_not_found());
        }
        let body_code = check_partner(&body)?;
        if body_code != code {
            return Err(AlmaError(
                "40166411",
                format!("Invalid parameter value: the partner code cannot change ({code} → {body_code})."),
            ));
        }
        let value = Value::Object(body);
        iso_symbol_free(&data, &code, &value)?;
        data.partners.insert(code.clone(), value.clone());
        Ok(partner_with_link(&s.api_base(), &code, &value))
    })();
    answer(fmt, "partner", result)
}

/// 204, or `401651` (the partners spec's code for DELETE of an unknown one).
async fn delete_partner(State(s): State<SimState>, fmt: Fmt, Path(code): Path<String>) -> Response {
    match s.data().partners.remove(&code) {
        Some(_) => render::no_content(),
        None => error(fmt, "401651", &format!("Identifier not found: {code}")),
    }
}

// ---------------------------------------------------------------- lending

async fn create_lending(
    State(s): State<SimState>,
    fmt: Fmt,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    s.count_create();
    let result = (|| -> Result<Value, AlmaError> {
        let body = parse_object(&body)?;
        let mut data = s.data();
        if !data.partners.contains_key(&code) {
            return Err(AlmaError(
                "40166411",
                format!("Invalid parameter value: partner_code={code}"),
            ));
        }
        let fields = read_rs_fields(&body)?;
        let external_id =
            string_member(&body, "external_id").ok_or_else(|| mandatory("external_id"))?;
        if !fields.contains_key("owner") {
            return Err(mandatory("owner"));
        }
        let partner = code_member(&body, "partner").ok_or_else(|| mandatory("partner"))?;
        if partner != code {
            return Err(AlmaError(
                "40166411",
                format!("Invalid parameter value: partner {partner} does not match {code}"),
            ));
        }
        code_member(&body, "format").ok_or_else(|| mandatory("format"))?;
        let has_mms = fields.contains_key("mms_id");
        match code_member(&body, "citation_type") {
            Some(ct) if !render::is_lending_citation_type(&ct) => {
                return Err(invalid_value("citation_type", &ct))
            }
            Some(_) => {}
            None if has_mms => {}
            None => return Err(mandatory("citation_type")),
        }
        let title = fields.get("title").and_then(Value::as_str).unwrap_or("");
        if title.trim().is_empty() && !has_mms {
            return Err(mandatory("title"));
        }
        let duplicate = data
            .lending
            .values()
            .any(|r| r.partner.as_deref() == Some(&code) && r.external_id == external_id);
        if duplicate {
            return Err(AlmaError(
                "402362",
                "Failed to save the request: Partner has duplicate request".into(),
            ));
        }
        let r = data.new_request(
            true,
            None,
            external_id,
            "REQUEST_CREATED_LEND",
            Some(code.clone()),
            fields,
        );
        let id = r.id.clone();
        data.lending.insert(id.clone(), r);
        Ok(render::rs_request(&data, &s.api_base(), &data.lending[&id]))
    })();
    match result {
        Ok(v) => {
            after_create_delay(&s).await;
            ok(fmt, "user_resource_sharing_request", &v)
        }
        Err(e) => e.into_response(fmt),
    }
}

async fn get_lending(
    State(s): State<SimState>,
    fmt: Fmt,
    Path((code, request_id)): Path<(String, String)>,
) -> Response {
    let data = s.data();
    if !data.partners.contains_key(&code) {
        return error(
            fmt,
            "40166411",
            &format!("Invalid parameter value: partner_code={code}"),
        );
    }
    match data
        .lending
        .get(&request_id)
        .filter(|r| r.partner.as_deref() == Some(&code))
    {
        Some(r) => ok(
            fmt,
            "user_resource_sharing_request",
            &render::rs_request(&data, &s.api_base(), r),
        ),
        None => error(
            fmt,
            "40166412",
            &format!("Failed to perform action: lending request {request_id} not found."),
        ),
    }
}

/// The lending requests the task-list filters select (at most 100).
fn task_list_ids(data: &Data, q: &HashMap<String, String>) -> Result<Vec<String>, AlmaError> {
    let library = q
        .get("library")
        .filter(|l| !l.is_empty())
        .ok_or_else(|| mandatory("library"))?;
    let yn = |key: &str| -> Result<Option<bool>, AlmaError> {
        match q.get(key).map(String::as_str) {
            None | Some("") => Ok(None),
            Some("Y") | Some("y") => Ok(Some(true)),
            Some("N") | Some("n") => Ok(Some(false)),
            Some(v) => Err(AlmaError(
                "40166414",
                format!("The parameter '{key}' is mandatory. Valid options are: Y, N. ({v})"),
            )),
        }
    };
    let (printed, reported) = (yn("printed")?, yn("reported")?);
    let want = |key: &str| q.get(key).filter(|v| !v.is_empty());
    Ok(data
        .lending
        .values()
        .filter(|r| r.field("owner") == Some(library.as_str()))
        .filter(|r| want("status").is_none_or(|s| &r.status == s))
        .filter(|r| want("partner").is_none_or(|p| r.partner.as_ref() == Some(p)))
        .filter(|r| want("requested_format").is_none_or(|f| r.format() == f.as_str()))
        .filter(|r| {
            want("supplied_format")
                .is_none_or(|f| r.status.starts_with("SHIPPED") && r.format() == f.as_str())
        })
        .filter(|r| printed.is_none_or(|p| r.printed == p))
        .filter(|r| reported.is_none_or(|p| r.reported == p))
        .take(100)
        .map(|r| r.id.clone())
        .collect())
}

fn task_list_value(s: &SimState, data: &Data, ids: &[String]) -> Value {
    let api = s.api_base();
    let items: Vec<Value> = ids
        .iter()
        .map(|id| render::rs_request(data, &api, &data.lending[id]))
        .collect();
    let total = items.len();
    render::list("user_resource_sharing_request", items, total)
}

async fn task_list(State(s): State<SimState>, fmt: Fmt, Query(q): Q) -> Response {
    let data = s.data();
    match task_list_ids(&data, &q) {
        Ok(ids) => ok(
            fmt,
            "user_resource_sharing_requests",
            &task_list_value(&s, &data, &ids),
        ),
        Err(e) => e.into_response(fmt),
    }
}

/// `POST /task-lists/rs/lending-requests?op=mark_reported`.
async fn task_list_mark(State(s): State<SimState>, fmt: Fmt, Query(q): Q) -> Response {
    match q.get("op").map(String::as_str) {
        Some("mark_reported") => {}
        None | Some("") => {
            return error(
                fmt,
                "40166414",
                "The parameter 'op' is mandatory. Valid options are: mark_reported.",
            )
        }
        Some(other) => {
            return error(
                fmt,
                "401666",
                &format!("op parameter is not valid: {other}"),
            )
        }
    }
    let mut data = s.data();
    match task_list_ids(&data, &q) {
        Ok(ids) => {
            for id in &ids {
                if let Some(r) = data.lending.get_mut(id) {
                    r.reported = true;
                }
            }
            ok(
                fmt,
                "user_resource_sharing_requests",
                &task_list_value(&s, &data, &ids),
            )
        }
        Err(e) => e.into_response(fmt),
    }
}
