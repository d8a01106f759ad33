//! A loopback stand-in for the metadata services: Crossref, DataCite, NCBI
//! E-utilities, Open Library and Unpaywall on one axum server
//! (127.0.0.1:0), each under its own prefix (`/crossref`, `/datacite`,
//! `/ncbi`, `/openlibrary`, `/unpaywall`) and at the real service's paths
//! below it. It serves the real payloads of `shared/fixtures/` (when
//! present) and the project's own in `server/tests/fixtures/`, counts hits
//! per service, and has fault switches per service: 404, 429, slow, garbage
//! JSON, 500. Used by the integration tests and the `lookup` benchmark.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Response, StatusCode, Uri};
use axum::Router;

/// The five services, by their prefix on the fake.
pub const SERVICES: [&str; 5] = ["crossref", "datacite", "ncbi", "openlibrary", "unpaywall"];

/// What a service does instead of answering normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    NotFound,
    TooManyRequests,
    /// Waits this long, then answers normally.
    Slow(Duration),
    Garbage,
    ServerError,
}

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Hit {
    pub service: String,
    pub path: String,
    pub query: String,
    pub at: Instant,
}

#[derive(Default)]
struct Data {
    /// (service, key) → body. Keys: DOI (lower case), PMID, `books:<isbn>`,
    /// `edition:<isbn>`, `author:<OL…A>`.
    bodies: HashMap<(String, String), Vec<u8>>,
}

struct Shared {
    data: Data,
    faults: Mutex<HashMap<String, Fault>>,
    hits: Mutex<Vec<Hit>>,
}

/// A running fake upstream.
#[derive(Clone)]
pub struct Upstream {
    pub base: String,
    shared: Arc<Shared>,
}

pub use super::shared_fixtures;

pub fn own_fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

impl Data {
    fn add(&mut self, service: &str, key: &str, body: Vec<u8>) {
        self.bodies
            .insert((service.to_owned(), key.to_ascii_lowercase()), body);
    }

    /// Every payload found, keyed by what it is about.
    fn load() -> Self {
        let mut data = Data::default();
        let mut files = Vec::new();
        for sub in ["crossref", "datacite", "pubmed", "openlibrary", "unpaywall"] {
            files.extend(json_files(&shared_fixtures().join(sub)));
        }
        files.extend(json_files(&own_fixtures()));
        for file in files {
            let Ok(body) = std::fs::read(&file) else {
                continue;
            };
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
                continue;
            };
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let dir = file
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            if let Some(doi) = v["message"]["DOI"].as_str() {
                data.add("crossref", doi, body);
            } else if let Some(doi) = v["data"]["attributes"]["doi"].as_str() {
                data.add("datacite", doi, body);
            } else if v["header"]["type"] == "esummary" {
                for uid in v["result"]["uids"].as_array().into_iter().flatten() {
                    if let Some(uid) = uid.as_str() {
                        data.add("ncbi", uid, body.clone());
                    }
                }
            } else if v.get("is_oa").is_some() {
                if let Some(doi) = v["doi"].as_str() {
                    data.add("unpaywall", doi, body);
                }
            } else if dir == "openlibrary" || name.starts_with("openlibrary") {
                if let Some(obj) = v
                    .as_object()
                    .filter(|o| o.keys().all(|k| k.starts_with("ISBN:")))
                {
                    for key in obj.keys() {
                        data.add("openlibrary", &format!("books:{}", &key[5..]), body.clone());
                    }
                } else {
                    for isbn in v["isbn_13"].as_array().into_iter().flatten() {
                        if let Some(isbn) = isbn.as_str() {
                            data.add("openlibrary", &format!("edition:{isbn}"), body.clone());
                        }
                    }
                }
            }
        }
        // Author records (tiny, project-owned) for the edition fixtures.
        for (key, name) in [("OL6548935A", "John Miedema"), ("OL30765A", "Rick Riordan")] {
            data.add(
                "openlibrary",
                &format!("author:{key}"),
                format!("{{\"key\":\"/authors/{key}\",\"name\":\"{name}\"}}").into_bytes(),
            );
        }
        data
    }
}

impl Upstream {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            data: Data::load(),
            faults: Mutex::new(HashMap::new()),
            hits: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, shared }
    }

    /// The base URL of one service (`crossref`, `datacite`, `ncbi`,
    /// `openlibrary`, `unpaywall`).
    pub fn url(&self, service: &str) -> String {
        format!("{}/{service}", self.base)
    }

    /// `KAUKO_<SERVICE>_URL` settings pointing Kauko here.
    pub fn env(&self) -> Vec<(String, String)> {
        SERVICES
            .iter()
            .map(|s| (format!("KAUKO_{}_URL", s.to_ascii_uppercase()), self.url(s)))
            .collect()
    }

    /// Whether the payload is there (shared fixtures may be absent).
    pub fn has(&self, service: &str, key: &str) -> bool {
        self.shared
            .data
            .bodies
            .contains_key(&(service.to_owned(), key.to_ascii_lowercase()))
    }

    pub fn set_fault(&self, service: &str, fault: Option<Fault>) {
        let mut faults = self.shared.faults.lock().unwrap();
        match fault {
            Some(f) => faults.insert(service.to_owned(), f),
            None => faults.remove(service),
        };
    }

    pub fn hits(&self, service: &str) -> Vec<Hit> {
        self.shared
            .hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.service == service)
            .cloned()
            .collect()
    }

    pub fn hit_count(&self, service: &str) -> usize {
        self.hits(service).len()
    }

    pub fn reset_hits(&self) {
        self.shared.hits.lock().unwrap().clear();
    }
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn not_found() -> Response<Body> {
    json(
        StatusCode::NOT_FOUND,
        b"{\"status\":\"error\",\"message\":\"Resource not found.\"}".to_vec(),
    )
}

fn query_value(query: &str, key: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn handle(State(shared): State<Arc<Shared>>, uri: Uri) -> Response<Body> {
    let raw_path = uri.path().to_owned();
    let path = percent_encoding::percent_decode_str(&raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let trimmed = path.trim_start_matches('/');
    let (service, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let rest = format!("/{rest}");
    shared.hits.lock().unwrap().push(Hit {
        service: service.to_owned(),
        path: rest.clone(),
        query: query.clone(),
        at: Instant::now(),
    });
    let fault = shared.faults.lock().unwrap().get(service).copied();
    match fault {
        Some(Fault::NotFound) => return not_found(),
        Some(Fault::TooManyRequests) => {
            return json(
                StatusCode::TOO_MANY_REQUESTS,
                b"{\"message\":\"slow down\"}".to_vec(),
            )
        }
        Some(Fault::Garbage) => return json(StatusCode::OK, b"{\"message\": <html>oops".to_vec()),
        Some(Fault::ServerError) => {
            return json(
                StatusCode::INTERNAL_SERVER_ERROR,
                b"{\"error\":\"boom\"}".to_vec(),
            )
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let body = |key: &str| {
        let key = key.to_ascii_lowercase();
        let found = shared
            .data
            .bodies
            .get(&(service.to_owned(), key.clone()))
            .cloned();
        // `10.5555/bench-<n>`: the project's own work under a fresh DOI, so
        // the benchmark can make as many distinct (uncached) lookups as it
        // likes.
        found.or_else(|| {
            key.strip_prefix("10.5555/bench-")?;
            let template = shared
                .data
                .bodies
                .get(&(service.to_owned(), "10.5555/12345678".to_owned()))?;
            let text = String::from_utf8_lossy(template).replace("10.5555/12345678", &key);
            Some(text.into_bytes())
        })
    };
    match service {
        "crossref" => match rest.strip_prefix("/works/").and_then(body) {
            Some(b) => json(StatusCode::OK, b),
            None => json(StatusCode::NOT_FOUND, b"Resource not found.".to_vec()),
        },
        "datacite" => match rest.strip_prefix("/dois/").and_then(body) {
            Some(b) => json(StatusCode::OK, b),
            None => json(
                StatusCode::NOT_FOUND,
                b"{\"errors\":[{\"status\":\"404\",\"title\":\"The resource you are looking for doesn't exist.\"}]}".to_vec(),
            ),
        },
        "ncbi" if rest == "/esummary.fcgi" => {
            let id = query_value(&query, "id").unwrap_or_default();
            match body(&id) {
                Some(b) => json(StatusCode::OK, b),
                None => json(
                    StatusCode::OK,
                    format!("{{\"header\":{{\"type\":\"esummary\",\"version\":\"0.3\"}},\"result\":{{\"uids\":[\"{id}\"],\"{id}\":{{\"uid\":\"{id}\",\"error\":\"cannot get document summary\"}}}}}}").into_bytes(),
                ),
            }
        }
        "openlibrary" => {
            if rest == "/api/books" {
                let bibkey = query_value(&query, "bibkeys").unwrap_or_default();
                let isbn = bibkey.strip_prefix("ISBN:").unwrap_or(&bibkey);
                json(StatusCode::OK, body(&format!("books:{isbn}")).unwrap_or_else(|| b"{}".to_vec()))
            } else if let Some(isbn) = rest.strip_prefix("/isbn/").and_then(|r| r.strip_suffix(".json")) {
                body(&format!("edition:{isbn}")).map(|b| json(StatusCode::OK, b)).unwrap_or_else(not_found)
            } else if let Some(key) = rest.strip_prefix("/authors/").and_then(|r| r.strip_suffix(".json")) {
                body(&format!("author:{key}")).map(|b| json(StatusCode::OK, b)).unwrap_or_else(not_found)
            } else {
                not_found()
            }
        }
        "unpaywall" => {
            if query_value(&query, "email").is_none_or(|e| !e.contains('@')) {
                return json(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    b"{\"error\":true,\"message\":\"Please use your email address\"}".to_vec(),
                );
            }
            body(rest.trim_start_matches('/'))
                .map(|b| json(StatusCode::OK, b))
                .unwrap_or_else(not_found)
        }
        _ => not_found(),
    }
}
