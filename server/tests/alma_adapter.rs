//! The Alma adapter over real HTTP against small scripted stand-ins for
//! Alma on loopback: what it sends (key in a header, JSON, encoded paths,
//! the create body), and how it copes (a create without an answer, 429s,
//! the shared limiter, listing without a list endpoint, cancel and renew
//! rules, partner updates, the cache). The port's contract against the
//! Alma simulator is run elsewhere.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::domain::{BorrowingStatus, PatronId, PatronStatus};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};
use server::adapters::alma::{AlmaBackend, AlmaSettings};
use server::port::contract;
use server::port::{PortError, Refusal, ResourceSharing};

/// One call the stand-in received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    /// The body as JSON (`null` when there is none).
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn q(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }
}

/// What the stand-in answers: status, body, and a delay before answering.
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

fn alma_error(status: u16, code: &str, message: &str) -> Reply {
    Reply {
        status,
        body: json!({"errorsExist": true, "errorList": {"error": [{"errorCode": code, "errorMessage": message, "trackingId": "E01-test"}]}, "result": null}).to_string(),
        delay: Duration::ZERO,
    }
}

fn no_content() -> Reply {
    Reply {
        status: 204,
        body: String::new(),
        delay: Duration::ZERO,
    }
}

type Responder = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

#[derive(Clone)]
struct StubState {
    seen: Arc<Mutex<Vec<Seen>>>,
    respond: Responder,
}

struct Stub {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    fn calls(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    fn count(&self, method: &str, path_part: &str) -> usize {
        self.calls()
            .iter()
            .filter(|s| s.method == method && s.path.contains(path_part))
            .count()
    }
}

async fn handle(
    State(state): State<StubState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let query = uri
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<HashMap<_, _>>()
        })
        .unwrap_or_default();
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        headers,
        body,
    };
    let n = {
        let mut all = state.seen.lock().unwrap();
        all.push(seen.clone());
        all.len()
    };
    let reply = (state.respond)(&seen);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let content_type = if reply.body.trim_start().starts_with('<') {
        "application/xml"
    } else {
        "application/json"
    };
    Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap())
        .header("content-type", content_type)
        .header("x-exl-api-remaining", (100_000 - n).to_string())
        .header("x-request-id", format!("req-{n}"))
        .body(Body::from(reply.body))
        .unwrap()
}

async fn stub(respond: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Stub {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = StubState {
        seen: seen.clone(),
        respond: Arc::new(respond),
    };
    let app = axum::Router::new().fallback(handle).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Stub { base, seen }
}

struct Setup {
    backend: AlmaBackend,
    _dir: tempfile::TempDir,
}

async fn backend(stub: &Stub, tweak: impl FnOnce(&mut AlmaSettings)) -> Setup {
    let (db, dir) = support::sqlite_db().await;
    let mut settings = AlmaSettings::new(&stub.base, "test-key");
    settings.rs_library = Some("RES_SHARE".into());
    settings.max_calls_per_second = 1000;
    settings.read_timeout = Duration::from_secs(2);
    settings.write_timeout = Duration::from_secs(2);
    settings.retry_backoff = vec![Duration::from_millis(10); 3];
    tweak(&mut settings);
    Setup {
        backend: AlmaBackend::new(db, settings).unwrap(),
        _dir: dir,
    }
}

/// A stand-in that keeps RS requests: creates echo the body with an id,
/// a status and a time; GET by id or external id; DELETE cancels.
#[derive(Default)]
struct Requests {
    by_id: HashMap<String, (String, Value)>,
    next: u32,
    /// Status given to the next created request.
    status: Option<String>,
}

fn rs_path(seen: &Seen) -> Option<(String, Option<String>)> {
    let rest = seen.path.strip_prefix("/almaws/v1/users/")?;
    let (user, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("resource-sharing-requests")?;
    let id = rest.strip_prefix('/').map(str::to_owned);
    Some((user.to_owned(), id))
}

fn requests_stub(store: Arc<Mutex<Requests>>) -> impl Fn(&Seen) -> Reply + Send + Sync {
    move |seen: &Seen| {
        let mut s = store.lock().unwrap();
        if seen.path.ends_with("/requests") {
            return ok(json!({"total_record_count": 0}));
        }
        let Some((user, id)) = rs_path(seen) else {
            return alma_error(400, "401652", "General Error");
        };
        match (seen.method.as_str(), id) {
            ("POST", None) => {
                s.next += 1;
                let id = format!("RS-{}", s.next);
                let mut body = seen.json();
                body["request_id"] = json!(id);
                body["status"] = json!({"value": s.status.clone().unwrap_or("REQUEST_CREATED_BOR".into()), "desc": "x"});
                body["created_time"] = json!(chrono::Utc::now().to_rfc3339());
                body["created_date"] = json!(chrono::Utc::now().format("%Y-%m-%dZ").to_string());
                body["requester"] = json!({"value": user, "desc": null});
                s.by_id.insert(id, (user, body.clone()));
                ok(body)
            }
            ("GET", Some(id)) => {
                let found = if seen.q("request_id_type") == Some("external") {
                    s.by_id
                        .values()
                        .find(|(u, b)| *u == user && b["external_id"] == json!(id))
                } else {
                    s.by_id.get(&id).filter(|(u, _)| *u == user)
                };
                match found {
                    Some((_, b)) => ok(b.clone()),
                    None => alma_error(400, "401694", "Request Identifier not found."),
                }
            }
            ("DELETE", Some(id)) => match s.by_id.get_mut(&id).filter(|(u, _)| *u == user) {
                Some((_, b)) => {
                    b["status"] = json!({"value": "CANCELED_BY_PATRON"});
                    no_content()
                }
                None => alma_error(400, "401694", "Request Identifier not found."),
            },
            _ => alma_error(400, "401652", "General Error"),
        }
    }
}

fn partner_json(code: &str) -> Value {
    json!({
        "partner_details": {
            "code": code, "name": "Wellington", "status": "ACTIVE",
            "profile_details": {"profile_type": "EMAIL", "email_details": {"email": "ill@x.org"}},
            "system_type": {"value": "OTHER"},
            "borrowing_supported": true, "lending_supported": true
        },
        "contact_info": {"email": [{"email_address": "ill@x.org", "preferred": true}]},
        "note": []
    })
}

#[tokio::test]
async fn calls_carry_the_key_in_a_header_json_and_encoded_paths() {
    let alma = stub(|seen| {
        if seen.path.starts_with("/almaws/v1/partners/") {
            ok(partner_json("NLNZ:WLC"))
        } else {
            alma_error(400, "401694", "Request Identifier not found.")
        }
    })
    .await;
    let s = backend(&alma, |_| {}).await;
    let p = s.backend.get_partner("NLNZ:WLC").await.unwrap();
    assert_eq!(p.code, "NLNZ:WLC");
    assert_eq!(
        s.backend
            .get_borrowing_request(&PatronId("jane doe".into()), "1")
            .await,
        Err(PortError::NotFound)
    );
    let calls = alma.calls();
    assert_eq!(calls[0].path, "/almaws/v1/partners/NLNZ%3AWLC");
    assert_eq!(
        calls[1].path,
        "/almaws/v1/users/jane%20doe/resource-sharing-requests/1"
    );
    for c in &calls {
        assert_eq!(c.headers["authorization"], "apikey test-key");
        assert_eq!(c.headers["accept"], "application/json");
        assert!(!c.query.contains_key("apikey"), "the key never in the URL");
    }
    let stats = s.backend.stats();
    assert_eq!(stats.calls, 2);
    assert_eq!(stats.remaining, Some(100_000 - 2));
}

#[tokio::test]
async fn a_create_sends_alma_s_shapes_round_trips_and_is_listed() {
    let store = Arc::new(Mutex::new(Requests::default()));
    let alma = stub(requests_stub(store.clone())).await;
    let s = backend(&alma, |_| {}).await;
    let me = PatronId("jane doe".into());
    let sent = contract::new_request("K-1");
    let created = s
        .backend
        .create_borrowing_request(&me, sent.clone())
        .await
        .unwrap();
    assert_eq!(created.id, "RS-1");
    assert_eq!(created.external_id, "K-1");
    assert_eq!(created.citation, contract::article());
    assert_eq!(created.note, sent.note);
    assert_eq!(created.needed_by, sent.needed_by);
    assert_eq!(created.status, BorrowingStatus::RequestCreated);

    let post = &alma.calls()[0];
    assert_eq!(post.method, "POST");
    assert_eq!(
        post.path,
        "/almaws/v1/users/jane%20doe/resource-sharing-requests"
    );
    assert_eq!(post.q("user_id_type"), Some("all_unique"));
    assert_eq!(post.q("override_blocks"), Some("false"));
    assert_eq!(post.headers["content-type"], "application/json");
    let body = post.json();
    assert_eq!(body["owner"], json!("RES_SHARE"));
    assert_eq!(body["pickup_location_type"], json!("LIBRARY"));
    assert_eq!(body["pickup_location"], json!({"value": "MAIN"}));
    assert_eq!(body["format"], json!({"value": "DIGITAL"}));
    assert_eq!(body["citation_type"], json!({"value": "CR"}));
    assert_eq!(body["last_interest_date"], json!("2030-12-31Z"));
    assert_eq!(body["agree_to_copyright_terms"], json!(true));

    // The same external id again: refused from Kauko's records alone.
    assert!(matches!(
        s.backend.create_borrowing_request(&me, sent.clone()).await,
        Err(PortError::Duplicate(_))
    ));
    assert_eq!(alma.count("POST", "resource-sharing-requests"), 1);

    let fetched = s.backend.get_borrowing_request(&me, "RS-1").await.unwrap();
    assert_eq!(fetched.citation, created.citation);
    let found = s
        .backend
        .find_borrowing_request_by_external_id(&me, "K-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, "RS-1");
    let listed = s.backend.list_borrowing_requests(&me).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["RS-1"]
    );

    // Another patron: not found, and Kauko's record answers without Alma.
    let other = PatronId("john".into());
    let before = alma.calls().len();
    assert_eq!(
        s.backend.get_borrowing_request(&other, "RS-1").await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        s.backend.cancel_borrowing_request(&other, "RS-1").await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        s.backend
            .find_borrowing_request_by_external_id(&other, "K-1")
            .await,
        Ok(None)
    );
    assert_eq!(alma.calls().len(), before);
}

#[tokio::test]
async fn a_create_without_an_answer_is_looked_up_not_sent_again() {
    let store = Arc::new(Mutex::new(Requests::default()));
    let inner = requests_stub(store.clone());
    let posts = Arc::new(Mutex::new(0));
    let p = posts.clone();
    let alma = stub(move |seen| {
        let mut reply = inner(seen);
        if seen.method == "POST" {
            *p.lock().unwrap() += 1;
            // Alma takes the request but answers after Kauko gave up.
            reply.delay = Duration::from_millis(1500);
        }
        reply
    })
    .await;
    let s = backend(&alma, |st| st.write_timeout = Duration::from_millis(500)).await;
    let me = PatronId("p1".into());
    let created = s
        .backend
        .create_borrowing_request(&me, contract::new_request("K-slow"))
        .await
        .unwrap();
    assert_eq!(created.id, "RS-1");
    assert_eq!(*posts.lock().unwrap(), 1, "never sent twice");
    let lookups: Vec<Seen> = alma
        .calls()
        .into_iter()
        .filter(|c| c.q("request_id_type") == Some("external"))
        .collect();
    assert_eq!(lookups.len(), 1);
    assert!(lookups[0]
        .path
        .ends_with("/resource-sharing-requests/K-slow"));
    assert_eq!(
        s.backend.list_borrowing_requests(&me).await.unwrap()[0].id,
        "RS-1"
    );
}

#[tokio::test]
async fn a_create_alma_never_got_is_unavailable_and_a_retry_sends_it_once_more() {
    let store = Arc::new(Mutex::new(Requests::default()));
    let inner = requests_stub(store.clone());
    let posts = Arc::new(Mutex::new(0));
    let p = posts.clone();
    let alma = stub(move |seen| {
        if seen.method == "POST" {
            let mut n = p.lock().unwrap();
            *n += 1;
            if *n == 1 {
                // Lost: no answer and nothing stored.
                return Reply {
                    status: 504,
                    body: "<html>Gateway Timeout</html>".into(),
                    delay: Duration::ZERO,
                };
            }
        }
        inner(seen)
    })
    .await;
    let s = backend(&alma, |_| {}).await;
    let me = PatronId("p1".into());
    let first = s
        .backend
        .create_borrowing_request(&me, contract::new_request("K-lost"))
        .await;
    assert!(matches!(first, Err(PortError::Unavailable(_))), "{first:?}");
    assert_eq!(
        s.backend
            .find_borrowing_request_by_external_id(&me, "K-lost")
            .await,
        Ok(None)
    );
    let again = s
        .backend
        .create_borrowing_request(&me, contract::new_request("K-lost"))
        .await
        .unwrap();
    assert_eq!(again.external_id, "K-lost");
    assert_eq!(*posts.lock().unwrap(), 2);
    assert!(matches!(
        s.backend
            .create_borrowing_request(&me, contract::new_request("K-lost"))
            .await,
        Err(PortError::Duplicate(_))
    ));
    assert_eq!(*posts.lock().unwrap(), 2);
}

#[tokio::test]
async fn alma_s_refusals_of_a_create_reach_the_patron() {
    let alma = stub(|seen| {
        match seen
            .json()
            .get("external_id")
            .and_then(Value::as_str)
            .unwrap_or("")
        {
            "" => ok(json!({"total_record_count": 0})),
            "K-local" => alma_error(
                400,
                "401604",
                "Warning: The institutional inventory has services for the requested title.",
            ),
            "K-pickup" => alma_error(400, "401929", "Invalid pickup location"),
            _ => alma_error(
                400,
                "402362",
                "Failed to save the request: Patron has duplicate request",
            ),
        }
    })
    .await;
    let s = backend(&alma, |st| st.override_blocks = true).await;
    let me = PatronId("p1".into());
    let create = |ext: &str| {
        s.backend
            .create_borrowing_request(&me, contract::new_request(ext))
    };
    assert_eq!(
        create("K-local").await,
        Err(PortError::Refused(Refusal::AvailableLocally))
    );
    assert!(matches!(
        create("K-pickup").await,
        Err(PortError::Invalid(e)) if e[0].field == "pickup_location" && e[0].key == "error.alma.rejected"
    ));
    assert!(matches!(
        create("K-dup").await,
        Err(PortError::Duplicate(_))
    ));
    assert_eq!(alma.calls()[0].q("override_blocks"), Some("true"));
    // A refused create leaves nothing behind: the id may be used again.
    assert!(matches!(
        create("K-local").await,
        Err(PortError::Refused(_))
    ));
    assert!(s.backend.list_borrowing_requests(&me).await.is_ok());
}

#[tokio::test]
async fn throttled_calls_are_retried_then_rate_limited() {
    let calls = Arc::new(Mutex::new(0));
    let c = calls.clone();
    let alma = stub(move |seen| {
        let mut n = c.lock().unwrap();
        *n += 1;
        if seen.path.ends_with("/ALWAYS") || *n <= 2 {
            Reply {
                status: 429,
                body: std::fs::read_to_string(
                    support::shared_fixtures().join("alma/error_per_second_threshold.json"),
                )
                .unwrap(),
                delay: Duration::ZERO,
            }
        } else {
            ok(partner_json("P1"))
        }
    })
    .await;
    let s = backend(&alma, |_| {}).await;
    assert_eq!(s.backend.get_partner("P1").await.unwrap().code, "P1");
    let stats = s.backend.stats();
    assert_eq!((stats.calls, stats.throttled_retries), (3, 2));
    assert_eq!(
        s.backend.get_partner("ALWAYS").await,
        Err(PortError::RateLimited)
    );
    let stats = s.backend.stats();
    assert_eq!(
        (stats.calls, stats.throttled_retries),
        (7, 5),
        "1 + 3 retries"
    );
}

#[tokio::test]
async fn one_limiter_spaces_every_call() {
    let alma = stub(|_| Reply {
        status: 200,
        body: "<test>GET - OK - institutionCode: 01ABC_INST</test>".into(),
        delay: Duration::ZERO,
    })
    .await;
    let s = backend(&alma, |st| st.max_calls_per_second = 5).await;
    let backend = Arc::new(s.backend);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let b = backend.clone();
        tasks.push(tokio::spawn(async move { b.ping().await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(950),
        "6 calls at 5 per second take a second, not {elapsed:?}"
    );
    assert!(alma.calls()[0].path.ends_with("/users/operation/test"));
}

#[tokio::test]
async fn cancel_checks_the_status_before_asking_alma() {
    let store = Arc::new(Mutex::new(Requests::default()));
    let alma = stub(requests_stub(store.clone())).await;
    let s = backend(&alma, |_| {}).await;
    let me = PatronId("p1".into());
    let fresh = s
        .backend
        .create_borrowing_request(&me, contract::new_request("K-1"))
        .await
        .unwrap();
    // Read once (cached), then staff move it on in Alma.
    s.backend
        .get_borrowing_request(&me, &fresh.id)
        .await
        .unwrap();
    store.lock().unwrap().by_id.get_mut(&fresh.id).unwrap().1["status"] =
        json!({"value": "SHIPPED_PHYSICALLY"});
    assert_eq!(
        s.backend.cancel_borrowing_request(&me, &fresh.id).await,
        Err(PortError::Refused(Refusal::NotCancellable)),
        "decided on a fresh read"
    );
    assert_eq!(alma.count("DELETE", ""), 0);

    store.lock().unwrap().by_id.get_mut(&fresh.id).unwrap().1["status"] =
        json!({"value": "PENDING_APPROVAL"});
    let cancelled = s
        .backend
        .cancel_borrowing_request(&me, &fresh.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status.patron_status(), PatronStatus::Cancelled);
    let delete = alma
        .calls()
        .into_iter()
        .find(|c| c.method == "DELETE")
        .unwrap();
    assert_eq!(delete.q("reason"), Some("CancelledAtPatronRequest"));
    assert_eq!(delete.q("notify_user"), Some("false"));
    assert_eq!(
        s.backend
            .get_borrowing_request(&me, &fresh.id)
            .await
            .unwrap()
            .status,
        BorrowingStatus::CancelledByPatron
    );
    assert_eq!(
        s.backend.cancel_borrowing_request(&me, "RS-404").await,
        Err(PortError::NotFound)
    );
}

#[tokio::test]
async fn the_list_joins_kauko_s_records_and_alma_s_user_requests() {
    let alma = stub(|seen| {
        let p = seen.path.as_str();
        if p == "/almaws/v1/users/unknown/requests" {
            return alma_error(400, "401890", "User with identifier unknown was not found.");
        }
        if p.ends_with("/requests") {
            return if seen.q("status") == Some("history") {
                ok(json!({"user_request": [{"request_id": "UR-3", "resource_sharing": {"id": "RS-OLD"}}], "total_record_count": 1}))
            } else {
                ok(json!({"user_request": [
                    {"request_id": "UR-1", "request_type": "HOLD", "resource_sharing": {"id": "RS-A", "status": {"value": "LOANED"}}},
                    {"request_id": "UR-2", "request_type": "HOLD", "resource_sharing": {"id": "RS-GONE"}},
                    {"request_id": "UR-9", "request_type": "HOLD"}
                ], "total_record_count": 3}))
            };
        }
        let rs = |id: &str, time: &str, status: &str| {
            ok(json!({"request_id": id, "external_id": format!("ext-{id}"), "status": {"value": status},
                      "format": {"value": "PHYSICAL"}, "citation_type": {"value": "BK"},
                      "title": format!("Book {id}"), "created_time": time}))
        };
        match p.rsplit('/').next().unwrap() {
            "RS-A" => rs("RS-A", "2026-01-02T10:00:00Z", "LOANED"),
            "RS-OLD" => rs("RS-OLD", "2025-01-02T10:00:00.5Z", "REQUEST_COMPLETED_BOR"),
            _ => alma_error(400, "401694", "Request Identifier not found."),
        }
    })
    .await;
    let s = backend(&alma, |_| {}).await;
    let me = PatronId("p1".into());
    let listed = s.backend.list_borrowing_requests(&me).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["RS-A", "RS-OLD"],
        "newest first, the lost one left out"
    );
    assert_eq!(listed[0].status, BorrowingStatus::Loaned);
    assert_eq!(listed[0].citation.title, "Book RS-A");
    assert!(listed[1].status.is_final());

    // Mirrored: a second look asks Alma nothing, and the request Alma
    // lost is not asked for again.
    let before = alma.calls().len();
    let again = s.backend.list_borrowing_requests(&me).await.unwrap();
    assert_eq!(again, listed);
    assert_eq!(alma.calls().len(), before);
    assert_eq!(alma.count("GET", "/RS-GONE"), 1);

    assert!(s
        .backend
        .list_borrowing_requests(&PatronId("unknown".into()))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn loans_are_the_rs_library_s_and_renewals_are_counted() {
    let due = Arc::new(Mutex::new(HashMap::from([
        ("L1".to_owned(), "2030-01-20T20:00:00Z".to_owned()),
        ("L2".to_owned(), "2030-01-10T20:00:00Z".to_owned()),
    ])));
    let d = due.clone();
    let alma = stub(move |seen| {
        let mut due = d.lock().unwrap();
        let loan = |id: &str, due: &str, library: &str| {
            json!({"loan_id": id, "title": format!("Title {id}"), "author": "A",
                   "library": {"value": library}, "loan_date": "2029-12-01T10:00:00Z",
                   "due_date": due, "renewable": true, "request_id": {"value": null}})
        };
        if seen.method == "GET" {
            return ok(json!({"item_loan": [
                loan("L1", &due["L1"], "RES_SHARE"),
                loan("L2", &due["L2"], "RES_SHARE"),
                loan("L3", "2030-01-01T20:00:00Z", "MAIN")
            ], "total_record_count": 3}));
        }
        match seen.path.rsplit('/').next().unwrap() {
            "L1" => {
                due.insert("L1".into(), "2030-02-20T20:00:00Z".into());
                ok(loan("L1", &due["L1"], "RES_SHARE"))
            }
            "L2" => alma_error(400, "401822", "Cannot renew loan: Loan ID L2."),
            _ => alma_error(400, "401823", "Loan ID L9 does not exist."),
        }
    })
    .await;
    let s = backend(&alma, |st| st.max_renewals = 2).await;
    let me = PatronId("p1".into());
    let loans = s.backend.list_loans(&me).await.unwrap();
    let ids: Vec<_> = loans.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        ids,
        ["L2", "L1"],
        "the RS library's loans, soonest due first"
    );
    let get = alma
        .calls()
        .into_iter()
        .find(|c| c.path.ends_with("/loans"))
        .unwrap();
    assert_eq!(get.q("expand"), Some("renewable"));
    assert_eq!(get.q("order_by"), Some("due_date"));
    assert_eq!(get.q("limit"), Some("100"));

    let renewed = s.backend.renew_loan(&me, "L1").await.unwrap();
    assert_eq!(renewed.renewals, 1);
    assert!(renewed.due_date > loans[1].due_date);
    let post = alma
        .calls()
        .into_iter()
        .find(|c| c.method == "POST")
        .unwrap();
    assert_eq!(post.path, "/almaws/v1/users/p1/loans/L1");
    assert_eq!(post.q("op"), Some("renew"));
    assert_eq!(
        s.backend.list_loans(&me).await.unwrap()[1].renewals,
        1,
        "the renewal is in the mirror, with Kauko's count"
    );
    assert_eq!(
        alma.count("GET", "/loans"),
        1,
        "the mirror answers; Alma is not asked again"
    );

    s.backend.renew_loan(&me, "L1").await.unwrap();
    let posts = alma.count("POST", "/loans");
    assert_eq!(
        s.backend.renew_loan(&me, "L1").await,
        Err(PortError::Refused(Refusal::RenewalLimitReached))
    );
    assert_eq!(alma.count("POST", "/loans"), posts, "Alma not asked");
    assert_eq!(
        s.backend.renew_loan(&me, "L2").await,
        Err(PortError::Refused(Refusal::NotRenewable))
    );
    assert_eq!(
        s.backend.renew_loan(&me, "L9").await,
        Err(PortError::NotFound)
    );
}

#[tokio::test]
async fn parallel_renewals_of_one_loan_stay_within_the_limit() {
    let alma = stub(move |seen| {
        let loan = json!({"loan_id": "L1", "title": "Title", "author": "A",
            "library": {"value": "RES_SHARE"}, "loan_date": "2029-12-01T10:00:00Z",
            "due_date": "2030-02-20T20:00:00Z", "renewable": true, "request_id": {"value": null}});
        if seen.method == "GET" {
            return ok(json!({"item_loan": [loan], "total_record_count": 1}));
        }
        ok(loan)
    })
    .await;
    let s = backend(&alma, |st| st.max_renewals = 2).await;
    let me = PatronId("p1".into());
    let tries = (0..8).map(|_| s.backend.renew_loan(&me, "L1"));
    let results = futures::future::join_all(tries).await;
    let granted = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| **r == Err(PortError::Refused(Refusal::RenewalLimitReached)))
        .count();
    assert_eq!((granted, refused), (2, 6), "{results:?}");
    assert_eq!(
        alma.count("POST", "/loans/L1"),
        2,
        "Alma asked twice, not eight times"
    );
}

#[tokio::test]
async fn dot_segments_from_a_patron_never_reach_alma() {
    let alma = stub(|_| ok(json!({}))).await;
    let s = backend(&alma, |_| {}).await;
    let me = PatronId("p1".into());
    for id in ["..", ".", "", " .. "] {
        assert_eq!(
            s.backend.renew_loan(&me, id).await,
            Err(PortError::NotFound),
            "{id:?}"
        );
        assert_eq!(
            s.backend
                .cancel_borrowing_request(&me, id)
                .await
                .map(|_| ()),
            Err(PortError::NotFound),
            "{id:?}"
        );
    }
    let dots = PatronId("..".into());
    assert!(s.backend.list_loans(&dots).await.is_err());
    assert_eq!(
        alma.calls().len(),
        0,
        "no call left Kauko: {:?}",
        alma.calls()
            .iter()
            .map(|c| c.path.clone())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn lending_requests_are_recorded_whole() {
    let alma = stub(|seen| {
        if seen.path.contains("NOPE") {
            return alma_error(400, "40166411", "Invalid parameter.");
        }
        if seen.method == "POST" {
            let mut b = seen.json();
            if b["external_id"] == json!("L-3") {
                // No time in the answer: Kauko's clock is kept.
                b["request_id"] = json!("LR-3");
                return ok(b);
            }
            b["request_id"] = json!("LR-1");
            b["status"] =
                json!({"value": "REQUEST_CREATED_LEND", "desc": "Created lending request"});
            b["created_time"] = json!("2026-11-28T10:00:00.250Z");
            return ok(b);
        }
        if seen.path.ends_with("/LR-3") {
            return ok(json!({"request_id": "LR-3", "title": "x"}));
        }
        if seen.path.ends_with("/LR-1") {
            return ok(
                json!({"request_id": "LR-1", "status": {"value": "REQUEST_CREATED_LEND"},
                             "created_time": "2026-11-28T10:00:00.250Z", "title": "x"}),
            );
        }
        alma_error(400, "40166412", "Failed to perform action.")
    })
    .await;
    let s = backend(&alma, |_| {}).await;
    let request = app::domain::NewLendingRequest {
        external_id: "L-1".into(),
        partner_code: "NLNZ:WLC".into(),
        requester: app::domain::RequesterContact {
            library_name: "Partner library".into(),
            contact_name: None,
            email: "ill@partner.example.org".into(),
        },
        citation: contract::article(),
        service: app::domain::ServiceType::Copy,
        delivery_address: None,
        max_cost: None,
        needed_by: chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
        note: Some("Please scan".into()),
    };
    let created = s
        .backend
        .create_lending_request(request.clone())
        .await
        .unwrap();
    assert_eq!(created.request, request);
    assert_eq!(created.id, "LR-1");
    let post = &alma.calls()[0];
    assert_eq!(post.path, "/almaws/v1/partners/NLNZ%3AWLC/lending-requests");
    let body = post.json();
    assert_eq!(body["partner"], json!({"value": "NLNZ:WLC"}));
    assert_eq!(body["owner"], json!("RES_SHARE"));
    assert_eq!(body["format"], json!({"value": "DIGITAL"}));
    assert_eq!(body["citation_type"], json!({"value": "JOURNAL"}));
    assert_eq!(body["text_email"], json!("ill@partner.example.org"));
    assert_eq!(
        s.backend
            .get_lending_request("NLNZ:WLC", "LR-1")
            .await
            .unwrap(),
        created
    );
    assert!(matches!(
        s.backend.create_lending_request(request.clone()).await,
        Err(PortError::Duplicate(_))
    ));
    let mut timeless = request.clone();
    timeless.external_id = "L-3".into();
    let created = s.backend.create_lending_request(timeless).await.unwrap();
    assert_eq!(created.status.0, "REQUEST_CREATED_LEND");
    assert_eq!(
        s.backend
            .get_lending_request("NLNZ:WLC", "LR-3")
            .await
            .unwrap(),
        created
    );
    let mut unknown = request.clone();
    unknown.external_id = "L-2".into();
    unknown.partner_code = "NOPE".into();
    assert_eq!(
        s.backend.create_lending_request(unknown).await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        s.backend.get_lending_request("NLNZ:WLC", "no-such").await,
        Err(PortError::NotFound)
    );
}

#[tokio::test]
async fn a_partner_update_puts_back_the_whole_record() {
    let stored = Arc::new(Mutex::new(json!({
        "partner_details": {
            "code": "RAPID1", "name": "Rapid partner", "status": "ACTIVE",
            "system_type": {"value": "RAPID"},
            "profile_details": {"profile_type": "RAPID",
                                "rapid_details": {"rapid_user_name": "u", "rapid_password": "s3cret-pw"}},
            "borrowing_supported": true, "lending_supported": true, "avg_supply_time": 4
        },
        "contact_info": {"email": [{"email_address": "ill@x.org", "preferred": true}]},
        "note": [{"content": "staff only"}]
    })));
    let st = stored.clone();
    let alma = stub(move |seen| {
        let mut stored = st.lock().unwrap();
        match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/almaws/v1/partners/RAPID1") => ok(stored.clone()),
            ("PUT", "/almaws/v1/partners/RAPID1") => {
                *stored = seen.json();
                ok(stored.clone())
            }
            ("GET", "/almaws/v1/partners") => {
                ok(json!({"partner": [stored.clone()], "total_record_count": 7}))
            }
            ("POST", "/almaws/v1/partners") => alma_error(400, "402113", "Partner already exists"),
            _ => alma_error(400, "402118", "Partner not found"),
        }
    })
    .await;
    let s = backend(&alma, |_| {}).await;
    let mut p = s.backend.get_partner("RAPID1").await.unwrap();
    assert!(!serde_json::to_string(&p).unwrap().contains("s3cret"));
    p.name = "Renamed".into();
    p.instructions = Some("Use the courier".into());
    let updated = s.backend.update_partner(p.clone()).await.unwrap();
    assert_eq!(updated, p);
    let put = alma
        .calls()
        .into_iter()
        .find(|c| c.method == "PUT")
        .unwrap()
        .json();
    assert_eq!(
        put["partner_details"]["profile_details"]["rapid_details"]["rapid_password"],
        json!("s3cret-pw")
    );
    assert_eq!(put["partner_details"]["avg_supply_time"], json!(4));
    assert_eq!(put["note"][0]["content"], json!("staff only"));
    assert_eq!(
        s.backend
            .update_partner(contract::partner("NOPE", "x"))
            .await,
        Err(PortError::NotFound)
    );
    assert!(matches!(
        s.backend
            .create_partner(contract::partner("RAPID1", "x"))
            .await,
        Err(PortError::Duplicate(_))
    ));
    let page = s.backend.list_partners(5, 2).await.unwrap();
    assert_eq!((page.total, page.items.len()), (7, 1));
    let list = alma
        .calls()
        .into_iter()
        .find(|c| c.path == "/almaws/v1/partners" && c.method == "GET")
        .unwrap();
    assert_eq!((list.q("limit"), list.q("offset")), (Some("2"), Some("5")));
}

#[tokio::test]
async fn a_bad_key_and_an_absent_alma() {
    let alma = stub(|_| Reply {
        status: 400,
        body: std::fs::read_to_string(
            support::shared_fixtures().join("alma/error_unauthorized.xml"),
        )
        .unwrap(),
        delay: Duration::ZERO,
    })
    .await;
    let s = backend(&alma, |_| {}).await;
    assert!(matches!(
        s.backend.ping().await,
        Err(PortError::Unauthorized(m)) if m.contains("API-key not defined")
    ));

    let closed = Stub {
        base: format!("http://127.0.0.1:{}", support::free_port()),
        seen: Arc::default(),
    };
    let s = backend(&closed, |_| {}).await;
    assert!(matches!(
        s.backend.ping().await,
        Err(PortError::Unavailable(_))
    ));
    assert!(matches!(
        s.backend
            .create_borrowing_request(&PatronId("p".into()), contract::new_request("K"))
            .await,
        Err(PortError::Unavailable(_))
    ));
}

#[tokio::test]
async fn backend_kind_alma_builds_the_adapter() {
    let (db, _dir) = support::sqlite_db().await;
    let config = server::config::Config::from_sources(
        "",
        [
            ("KAUKO_BACKEND_KIND", "alma"),
            ("KAUKO_ALMA_URL", "https://api-eu.hosted.exlibrisgroup.com"),
            ("KAUKO_ALMA_API_KEY", "l7xx-test"),
            ("KAUKO_ALMA_RS_LIBRARY", "RES_SHARE"),
            ("KAUKO_ALMA_CACHE_SECONDS", "0"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap();
    let port = server::adapters::from_config(&config, &db).unwrap();
    assert_eq!(port.name(), "alma");
    let settings = AlmaSettings::from_config(&config).unwrap();
    assert_eq!(settings.rs_library.as_deref(), Some("RES_SHARE"));
    assert_eq!(settings.cache_ttl, Duration::ZERO);
    assert_eq!(settings.read_timeout, Duration::from_secs(8));
    assert_eq!(settings.write_timeout, Duration::from_secs(30));
    assert_eq!(settings.cancel_reason, "CancelledAtPatronRequest");
    assert_eq!(settings.max_renewals, config.requests.max_renewals);
    assert_eq!(
        settings.cancellable_statuses,
        [
            BorrowingStatus::RequestCreated,
            BorrowingStatus::PendingApproval
        ]
    );
}

/// Kauko's Alma records on PostgreSQL: the same statements as on SQLite.
#[tokio::test]
async fn records_on_postgres() {
    use server::adapters::alma::records;
    let Some(db) = support::postgres_db().await else {
        return;
    };
    let me = PatronId("jane doe".into());
    let req = contract::new_request("K-pg");
    assert!(matches!(
        records::reserve(&db, &me, &req).await.unwrap(),
        records::Reservation::Reserved
    ));
    assert!(matches!(
        records::reserve(&db, &me, &req).await.unwrap(),
        records::Reservation::Existing(_)
    ));
    records::mark_unconfirmed(&db, "K-pg").await.unwrap();
    let r = records::by_external_id(&db, "K-pg").await.unwrap().unwrap();
    assert_eq!(r.state, records::RecordState::Unconfirmed);
    assert!(records::take_over(&db, &r, &req).await.unwrap());
    records::confirm(&db, "K-pg", "RS-1", Some("REQUEST_CREATED_BOR"))
        .await
        .unwrap();
    records::set_status(&db, "RS-1", "LOANED").await.unwrap();
    let listed = records::for_patron(&db, &me).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status.as_deref(), Some("LOANED"));
    assert_eq!(listed[0].request, req);

    assert_eq!(records::add_renewal(&db, &me, "L1").await.unwrap(), 1);
    assert_eq!(records::add_renewal(&db, &me, "L1").await.unwrap(), 2);
    assert_eq!(
        records::renewals(&db, &PatronId("x".into()), "L1")
            .await
            .unwrap(),
        0
    );

    let lending = app::domain::NewLendingRequest {
        external_id: "L-pg".into(),
        partner_code: "P".into(),
        requester: Default::default(),
        citation: contract::article(),
        service: app::domain::ServiceType::Loan,
        delivery_address: None,
        max_cost: None,
        needed_by: None,
        note: None,
    };
    let at = chrono::Utc::now();
    records::insert_lending(&db, "LR-1", &lending, at)
        .await
        .unwrap();
    assert!(matches!(
        records::insert_lending(&db, "LR-2", &lending, at).await,
        Err(PortError::Duplicate(_))
    ));
    let got = records::lending(&db, "P", "LR-1").await.unwrap().unwrap();
    assert_eq!(got.request, lending);
    assert!(records::lending_external_id_known(&db, "L-pg")
        .await
        .unwrap());
}

#[tokio::test]
async fn a_request_alma_has_without_kauko_s_record_is_adopted() {
    let store = Arc::new(Mutex::new(Requests::default()));
    store.lock().unwrap().by_id.insert(
        "RS-7".into(),
        (
            "p1".into(),
            json!({"request_id": "RS-7", "external_id": "K-elsewhere",
                   "status": {"value": "READY_TO_SEND"}, "format": {"value": "PHYSICAL"},
                   "citation_type": {"value": "BK"}, "title": "Sources of the self",
                   "created_time": "2026-11-01T08:00:00Z"}),
        ),
    );
    let alma = stub(requests_stub(store)).await;
    let s = backend(&alma, |_| {}).await;
    let me = PatronId("p1".into());
    let found = s
        .backend
        .find_borrowing_request_by_external_id(&me, "K-elsewhere")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id.as_str(), found.external_id.as_str()),
        ("RS-7", "K-elsewhere")
    );
    assert_eq!(found.status, BorrowingStatus::ReadyToSend);
    assert_eq!(
        s.backend.list_borrowing_requests(&me).await.unwrap()[0].id,
        "RS-7",
        "recorded, so listed"
    );
    assert!(matches!(
        s.backend
            .create_borrowing_request(&me, contract::new_request("K-elsewhere"))
            .await,
        Err(PortError::Duplicate(_))
    ));
    assert_eq!(
        s.backend
            .find_borrowing_request_by_external_id(&PatronId("p2".into()), "K-elsewhere")
            .await,
        Ok(None)
    );
}
