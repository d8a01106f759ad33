//! A stand-in for Ex Libris Alma's REST API over real HTTP on loopback.
//!
//! Kauko's Alma adapter is tested against this simulator. It serves the
//! documented wire format (`shared/reference/alma-api.md`, checklist §11)
//! under `/almaws/v1`: users' resource-sharing (RS) requests, user requests,
//! loans, partners, lending requests, the lending task list, code tables and
//! the test endpoints, with Alma's quirks: JSON or XML by negotiation, the
//! XML authentication error even for JSON clients, `{"total_record_count":0}`
//! empty lists, code-table objects beside plain-string `owner`, both null
//! styles, `YYYY-MM-DDZ` dates, HTTP 400 error envelopes, the per-second
//! threshold (429 `PER_SECOND_THRESHOLD`), `X-Exl-Api-Remaining`, slow
//! creates that are stored before they answer, and status progression from
//! `REQUEST_CREATED_BOR` to `LOANED`.
//!
//! Back-office actions (staff or partner moving a request, adding loans,
//! faults, statistics, a state dump) are both Rust methods on [`SimState`]
//! and HTTP endpoints under `/sim` (no key, not counted, not throttled).
//!
//! Alma being down is simulated by [`SimHandle::stop`] and a later
//! [`AlmaSim::start_with_state`] on the same address with the same state.
//!
//! Choices where the reference leaves Alma's behaviour open (its §9) are
//! noted where they are made; the main ones: an unknown path answers HTTP 400
//! `401652` (never a list); `format=json|xml` wins over `Accept`; GET of an
//! unknown RS request answers `40166450`, DELETE `401694`; the daily budget
//! answers 429 `DAILY_THRESHOLD`.

pub mod analytics;
mod control;
pub mod demo;
pub mod letters;
mod render;
mod routes;
mod state;

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use state::SimState;

/// How the simulated institution behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Keys accepted in `Authorization: apikey <key>` or `?apikey=`.
    pub api_keys: Vec<String>,
    /// Calls allowed in any one-second sliding window, across all keys.
    pub threshold_per_second: u32,
    /// The daily governance budget reported in `X-Exl-Api-Remaining`.
    pub daily_budget: u64,
    /// Delay before a create (borrowing or lending) answers. The request is
    /// stored before the delay.
    pub create_delay: Duration,
    /// Each borrowing request moves one step along the workflow per
    /// interval; `None`: requests move only when told to.
    pub progress_every: Option<Duration>,
    /// When true only users added with [`SimState::add_user`] (or the demo
    /// seed) exist; otherwise any user id exists on first use.
    pub strict_users: bool,
    /// Renewals allowed per loan before `401822`.
    pub max_renewals: u32,
    /// Days a renewal adds to the due date.
    pub renewal_days: i64,
    /// The resource-sharing library (`owner`, task-list `library`).
    pub rs_library: String,
    /// Titles the institution holds: a borrowing request for one answers
    /// `401604` unless `override_blocks=true`. Compared trimmed, ignoring
    /// case.
    pub inventory_titles: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            api_keys: vec!["sim-key".into()],
            threshold_per_second: 25,
            daily_budget: 100_000,
            create_delay: Duration::ZERO,
            progress_every: None,
            strict_users: false,
            max_renewals: 2,
            renewal_days: 14,
            rs_library: "RES_SHARE".into(),
            inventory_titles: Vec::new(),
        }
    }
}

/// What every `/almaws` call does instead of (or before) answering normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// HTTP 503 with the API gateway's HTML page.
    Unavailable,
    /// HTTP 500 with an Alma error envelope.
    ServerError,
    /// Every call waits this long before it is handled.
    Slow(Duration),
    /// Every call answers 429 `PER_SECOND_THRESHOLD`.
    Throttle,
}

/// A loan to add for a user (also the JSON body of `POST /sim/loans`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewSimLoan {
    pub user_id: String,
    pub title: String,
    #[serde(default)]
    pub author: Option<String>,
    pub due_in_days: i64,
    pub renewable: bool,
    /// The RS request the loan comes from; its user request becomes the
    /// loan's `request_id`.
    #[serde(default)]
    pub rs_request_id: Option<String>,
}

/// What the simulator has seen since start or the last reset.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SimStats {
    /// `/almaws` calls received, including refused and throttled ones.
    pub calls: u64,
    /// Calls answered 429.
    pub throttled: u64,
    /// The most calls received within any one second.
    pub max_calls_in_any_second: u64,
    /// Calls per route, e.g. `"GET /users/{id}/loans"`.
    pub calls_by_route: std::collections::BTreeMap<String, u64>,
    /// What `X-Exl-Api-Remaining` would say now.
    pub remaining: u64,
    /// Create calls (borrowing and lending requests) that reached the
    /// create handler: admitted, with no fault in the way, duplicates the
    /// simulator refuses included. Exactly-once tests count these.
    pub creates_handled: u64,
}

/// Starts simulators.
pub struct AlmaSim;

impl AlmaSim {
    /// A new institution on `127.0.0.1` and a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<SimHandle> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// A new institution on `addr`.
    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<SimHandle> {
        Self::start_with_state(addr, SimState::new(config)).await
    }

    /// Serves an existing institution (e.g. the state of a stopped
    /// simulator) on `addr`.
    pub async fn start_with_state(addr: SocketAddr, state: SimState) -> std::io::Result<SimHandle> {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(1024)?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        state.set_link_base(&base_url);
        let service = routes::service(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stop = async move {
                // A dropped handle does not stop the server; only `stop` does.
                if rx.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let _ = axum::serve(listener, axum::ServiceExt::into_make_service(service))
                .with_graceful_shutdown(stop)
                .await;
        });
        Ok(SimHandle {
            base_url,
            addr,
            state,
            shutdown: tx,
            task,
        })
    }
}

/// A running simulator.
pub struct SimHandle {
    /// `http://127.0.0.1:PORT`, no trailing slash; the API is below
    /// `/almaws/v1`, the back office below `/sim`.
    pub base_url: String,
    pub addr: SocketAddr,
    pub state: SimState,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl SimHandle {
    /// Stops listening and closes connections: calls in flight get up to two
    /// seconds to finish, then are cut. The state lives on in `state`.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }
}
