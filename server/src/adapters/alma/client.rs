//! The HTTP side of the Alma adapter: one `reqwest` client, the API key in
//! the `Authorization` header, JSON both ways, percent-encoded path
//! segments, every call through the deployment's shared call budget
//! (`budget.rs`), retries of throttled calls, separate read and write
//! timeouts, and counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Method;
use serde::de::DeserializeOwned;

use super::budget::{Budget, BudgetError, Priority};
use super::errors::{self, AlmaError};
use crate::port::PortError;

/// Everything but RFC 3986's unreserved characters is encoded in a path
/// segment: partner codes hold `:` (`NLNZ:WLC`), user ids spaces.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment, percent-encoded.
pub fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// `/almaws/v1` under the configured base URL.
fn api_base(base_url: &str) -> String {
    format!("{}/almaws/v1", base_url.trim_end_matches('/'))
}

/// A URL under `base`, each segment encoded.
fn join(base: &str, segments: &[&str]) -> String {
    let mut url = base.to_owned();
    for s in segments {
        url.push('/');
        url.push_str(&segment(s));
    }
    url
}

/// Longest answer body read from Alma.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Counters for benchmarks and the operator: calls made (retries
/// included), throttled calls retried, cache hits and misses, and the
/// institution's remaining daily calls as Alma last reported them
/// (`X-Exl-Api-Remaining`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlmaStats {
    pub calls: u64,
    /// Of `calls`, those the background sync made.
    pub sync_calls: u64,
    pub throttled_retries: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub remaining: Option<u64>,
}

#[derive(Debug)]
pub struct Counters {
    calls: AtomicU64,
    sync_calls: AtomicU64,
    throttled_retries: AtomicU64,
    pub(super) cache_hits: AtomicU64,
    pub(super) cache_misses: AtomicU64,
    /// `u64::MAX` until Alma has said.
    remaining: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            calls: AtomicU64::new(0),
            sync_calls: AtomicU64::new(0),
            throttled_retries: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            remaining: AtomicU64::new(u64::MAX),
        }
    }
}

impl Counters {
    pub fn snapshot(&self) -> AlmaStats {
        let remaining = self.remaining.load(Ordering::Relaxed);
        AlmaStats {
            calls: self.calls.load(Ordering::Relaxed),
            sync_calls: self.sync_calls.load(Ordering::Relaxed),
            throttled_retries: self.throttled_retries.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            cache_misses: self.cache_misses.load(Ordering::Relaxed),
            remaining: (remaining != u64::MAX).then_some(remaining),
        }
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PortError> {
        serde_json::from_str(&self.body).map_err(|e| {
            tracing::warn!(error = %e, "Alma answer is not the expected JSON");
            PortError::Other(format!("unreadable answer from Alma: {e}"))
        })
    }
}

/// Why a call did not succeed.
#[derive(Debug)]
pub enum CallError {
    /// Alma answered with an error status.
    Alma { status: u16, errors: Vec<AlmaError> },
    /// No answer: connection refused or broken, or the timeout passed.
    /// Alma may or may not have processed a write.
    Transport { timeout: bool, message: String },
    /// A path segment that would re-target the call (`.`, `..`, empty):
    /// never sent. Such ids (from a patron's request) name nothing.
    BadSegment,
    /// No turn in Kauko's call budget within the longest wait: not sent.
    Busy,
}

impl CallError {
    pub fn to_port(&self) -> PortError {
        match self {
            CallError::Alma { status, errors } => errors::to_port_error(*status, errors),
            CallError::Transport {
                timeout: true,
                message,
            } => PortError::Unavailable(format!("Alma did not answer in time: {message}")),
            CallError::Transport { message, .. } => {
                PortError::Unavailable(format!("cannot reach Alma: {message}"))
            }
            CallError::BadSegment => PortError::NotFound,
            CallError::Busy => PortError::RateLimited,
        }
    }

    /// Whether Alma said the user does not exist.
    pub fn is_unknown_user(&self) -> bool {
        matches!(self, CallError::Alma { errors, .. } if errors::is_unknown_user(errors))
    }

    /// Whether Alma answered with one of these error codes.
    pub fn has_code(&self, codes: &[&str]) -> bool {
        matches!(self, CallError::Alma { errors, .. } if errors.iter().any(|e| codes.contains(&e.code.as_str())))
    }

    /// Whether a write may have reached Alma although it did not confirm
    /// it: no answer (a timeout, a broken connection) or a server error,
    /// which may come from a gateway after Alma did the work.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            CallError::Transport { .. } => true,
            CallError::Alma { status, .. } => *status >= 500,
            CallError::BadSegment | CallError::Busy => false,
        }
    }
}

impl From<CallError> for PortError {
    fn from(e: CallError) -> Self {
        e.to_port()
    }
}

/// How the client is set up.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub base_url: String,
    pub api_key: String,
    /// The longest wait of a patron's call for a turn in the budget.
    pub max_wait: Duration,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    /// Waits before each retry of a throttled (429) call.
    pub retry_backoff: Vec<Duration>,
}

/// The longest wait of a background sync call for its turn.
const SYNC_MAX_WAIT: Duration = Duration::from_secs(60);

/// Calls to Alma, as a patron's or as the sync's (cheap to clone; the
/// clones share the connection pool, the budget and the counters).
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientCore>,
    priority: Priority,
}

/// What the patron's and the sync's clients share.
pub struct ClientCore {
    http: reqwest::Client,
    base: String,
    api_key: String,
    budget: Budget,
    max_wait: Duration,
    read_timeout: Duration,
    write_timeout: Duration,
    backoff: Vec<Duration>,
    counters: Arc<Counters>,
}

impl std::ops::Deref for Client {
    type Target = ClientCore;
    fn deref(&self) -> &ClientCore {
        &self.inner
    }
}

impl Client {
    /// A client whose calls are a patron's.
    pub fn new(
        settings: &ClientSettings,
        budget: Budget,
        counters: Arc<Counters>,
    ) -> Result<Self, reqwest::Error> {
        let connect = settings.read_timeout.min(Duration::from_secs(5));
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            // Alma's API does not redirect; following one would carry the
            // call (and its key) wherever the answer points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(format!(
                "Kauko/{} (interlibrary loan portal)",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self {
            inner: Arc::new(ClientCore {
                http,
                base: api_base(&settings.base_url),
                api_key: settings.api_key.clone(),
                budget,
                max_wait: settings.max_wait,
                read_timeout: settings.read_timeout,
                write_timeout: settings.write_timeout,
                backoff: settings.retry_backoff.clone(),
                counters,
            }),
            priority: Priority::Patron,
        })
    }

    /// The same client, calling as the background sync: its share of the
    /// budget, behind every patron.
    pub fn for_sync(&self) -> Client {
        Client {
            inner: self.inner.clone(),
            priority: Priority::Sync,
        }
    }

    /// The URL of a path under `/almaws/v1`, each segment encoded.
    pub fn url(&self, segments: &[&str]) -> String {
        join(&self.base, segments)
    }

    pub async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Answer, CallError> {
        self.call(Method::GET, segments, query, None).await
    }

    /// One call: waits its turn in the shared budget, sends, and retries
    /// while Alma answers 429 (a throttled call was not processed, so any
    /// method may be retried), then gives up as `RateLimited`. Timeouts and
    /// broken connections are never retried here.
    pub async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, CallError> {
        // `.` and `..` are resolved by every URL parser: `/loans/..` would
        // be a call to the user record. Such a segment goes nowhere.
        if segments.iter().any(|s| matches!(s.trim(), "" | "." | ".."))
            || segments
                .iter()
                .any(|s| s.eq_ignore_ascii_case("%2e") || s.eq_ignore_ascii_case("%2e%2e"))
        {
            return Err(CallError::BadSegment);
        }
        let url = self.url(segments);
        let timeout = if method == Method::GET {
            self.read_timeout
        } else {
            self.write_timeout
        };
        let body = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let mut attempt = 0;
        loop {
            let max_wait = match self.priority {
                Priority::Patron => self.max_wait,
                Priority::Sync => SYNC_MAX_WAIT,
            };
            match self.budget.turn(self.priority, max_wait).await {
                Ok(()) => {}
                Err(BudgetError::Busy) => {
                    tracing::warn!(
                        wait_ms = max_wait.as_millis() as u64,
                        priority = ?self.priority,
                        "Alma: no turn in the call budget in time; busy"
                    );
                    return Err(CallError::Busy);
                }
                Err(BudgetError::Database(e)) => {
                    tracing::warn!(error = %e, "Alma: the call budget cannot be read; not calling");
                    return Err(CallError::Busy);
                }
            }
            self.counters.calls.fetch_add(1, Ordering::Relaxed);
            if self.priority == Priority::Sync {
                self.counters.sync_calls.fetch_add(1, Ordering::Relaxed);
            }
            let mut request = self
                .http
                .request(method.clone(), &url)
                .timeout(timeout)
                .header(
                    reqwest::header::AUTHORIZATION,
                    format!("apikey {}", self.api_key),
                )
                .header(reqwest::header::ACCEPT, "application/json");
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let started = std::time::Instant::now();
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => return Err(transport(&method, &url, e)),
            };
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            if let Some(left) = header("x-exl-api-remaining").and_then(|v| v.trim().parse().ok()) {
                self.counters.remaining.store(left, Ordering::Relaxed);
            }
            let alma_request_id = header("x-request-id");
            let text = match read_body(response).await {
                Ok(t) => t,
                Err(e) => return Err(transport(&method, &url, e)),
            };
            tracing::debug!(
                method = %method,
                path = %redact_path(&url, &self.base),
                status,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "Alma call"
            );
            if (200..300).contains(&status) {
                return Ok(Answer { status, body: text });
            }
            let errors = errors::parse_errors(&text).unwrap_or_default();
            let throttled = status == 429
                || errors
                    .iter()
                    .any(|e| e.code.eq_ignore_ascii_case("PER_SECOND_THRESHOLD"));
            if throttled && attempt < self.backoff.len() {
                self.counters
                    .throttled_retries
                    .fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    method = %method,
                    path = %redact_path(&url, &self.base),
                    retry_in_ms = self.backoff[attempt].as_millis() as u64,
                    "Alma's per-second threshold reached; retrying"
                );
                tokio::time::sleep(self.backoff[attempt]).await;
                attempt += 1;
                continue;
            }
            let first = errors.first();
            tracing::warn!(
                method = %method,
                path = %redact_path(&url, &self.base),
                status,
                code = first.map(|e| e.code.as_str()).unwrap_or(""),
                message = first.map(|e| e.message.as_str()).unwrap_or(""),
                tracking_id = first.and_then(|e| e.tracking_id.as_deref()).unwrap_or(""),
                x_request_id = alma_request_id.as_deref().unwrap_or(""),
                "Alma answered with an error"
            );
            return Err(CallError::Alma { status, errors });
        }
    }
}

async fn read_body(response: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut response = response;
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn transport(method: &Method, url: &str, e: reqwest::Error) -> CallError {
    let timeout = e.is_timeout();
    // reqwest's message names the URL; the key is never in it (header).
    let message = e.without_url().to_string();
    tracing::warn!(method = %method, url, timeout, error = %message, "Alma call failed");
    CallError::Transport { timeout, message }
}

/// The path after `/almaws/v1`, for logs.
fn redact_path<'a>(url: &'a str, base: &str) -> &'a str {
    url.strip_prefix(base).unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(segment("NLNZ:WLC"), "NLNZ%3AWLC");
        assert_eq!(segment("jane doe"), "jane%20doe");
        assert_eq!(segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(segment("K-1_2.3~4"), "K-1_2.3~4");
        assert_eq!(segment("Åbo"), "%C3%85bo");
        let base = api_base("https://api-eu.hosted.exlibrisgroup.com/");
        assert_eq!(
            join(&base, &["partners", "NLNZ:WLC", "lending-requests"]),
            "https://api-eu.hosted.exlibrisgroup.com/almaws/v1/partners/NLNZ%3AWLC/lending-requests"
        );
        assert_eq!(
            join(&base, &["users", "jane doe", "loans", "123"]),
            "https://api-eu.hosted.exlibrisgroup.com/almaws/v1/users/jane%20doe/loans/123"
        );
    }

    #[test]
    fn stats_start_empty() {
        let c = Counters::default();
        assert_eq!(c.snapshot(), AlmaStats::default());
        c.remaining.store(498_668, Ordering::Relaxed);
        assert_eq!(c.snapshot().remaining, Some(498_668));
    }
}
