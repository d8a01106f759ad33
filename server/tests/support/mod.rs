//! Test support shared by the server's integration tests: fresh databases
//! (a temporary SQLite file, or a private schema in PostgreSQL) and a
//! running Kauko on a loopback port.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use server::adapters::local::{LocalBackend, LocalRules};
use server::config::Config;
use server::port::contract::Harness;
use server::port::ResourceSharing;
use server::storage::Db;

use app::domain::{BorrowingStatus, PatronId};

/// The real recorded payloads (`shared/fixtures`): `KAUKO_TEST_FIXTURES` when
/// set (scripts/test.sh sets it for a clone that is not beside `shared/`),
/// else `shared/fixtures` beside the checkout.
pub fn shared_fixtures() -> std::path::PathBuf {
    match std::env::var_os("KAUKO_TEST_FIXTURES") {
        Some(dir) if !dir.is_empty() => dir.into(),
        _ => concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures").into(),
    }
}

/// Records that the running test did not check what it names, and why
/// (a missing service or fixture): printed, and appended to the file
/// `KAUKO_TEST_SKIP_LOG` names, so `scripts/test.sh` reports it as skipped
/// in its closing line instead of counting it as passed.
pub fn skip(what: &str, why: &str) {
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    eprintln!("SKIPPED: {test}: {what}: {why}");
    if let Some(path) = std::env::var_os("KAUKO_TEST_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{test}: {what}: {why}");
        }
    }
}

/// Whether a missing PostgreSQL (or shared fixture) must fail the test:
/// in CI and whenever `scripts/test.sh` runs on a machine that has it
/// (`KAUKO_TEST_REQUIRE_POSTGRES=1`).
pub fn required(var: &str) -> bool {
    let set =
        |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    set("CI") || set(var)
}

/// A loopback port free at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh SQLite database in a temporary folder (removed on drop).
pub async fn sqlite_db() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kauko.db", dir.path().display());
    let db = Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}

pub fn postgres_base_url() -> String {
    std::env::var("KAUKO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database URL whose connections use a new, empty schema of their own in
/// the test PostgreSQL; `None` (recorded as skipped, see [`skip`]) when
/// PostgreSQL is not there and not required. Where it is required (CI,
/// `scripts/test.sh`) a missing PostgreSQL fails the test.
pub async fn postgres_url() -> Option<String> {
    let base = postgres_base_url();
    let admin = match Db::connect(&base, 1, Duration::from_secs(5)).await {
        Ok(db) => db,
        Err(e) => {
            if required("KAUKO_TEST_REQUIRE_POSTGRES") {
                panic!("PostgreSQL is required here ({base}): {e}");
            }
            skip("PostgreSQL", &e.to_string());
            return None;
        }
    };
    let schema = format!("kauko_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin.pool)
        .await
        .unwrap();
    admin.pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options[search_path]={schema}"))
}

pub async fn postgres_db() -> Option<Db> {
    let url = postgres_url().await?;
    let db = Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap();
    db.migrate().await.unwrap();
    Some(db)
}

/// The contract harness for the local adapter.
pub struct LocalHarness {
    pub backend: Arc<LocalBackend>,
    pub rules: LocalRules,
    _dir: Option<tempfile::TempDir>,
}

impl LocalHarness {
    pub fn new(db: Db, dir: Option<tempfile::TempDir>) -> Self {
        let rules = LocalRules::from_config(&Config::default());
        Self {
            backend: Arc::new(LocalBackend::new(db, rules.clone())),
            rules,
            _dir: dir,
        }
    }
}

#[async_trait]
impl Harness for LocalHarness {
    fn port(&self) -> Arc<dyn ResourceSharing> {
        self.backend.clone()
    }

    async fn set_status(&self, request_id: &str, status: BorrowingStatus) {
        self.backend.set_status(request_id, &status).await.unwrap();
    }

    async fn check_out(
        &self,
        patron: &PatronId,
        title: &str,
        days: i64,
        renewable: bool,
    ) -> String {
        let due = chrono::Utc::now() + chrono::Duration::days(days);
        self.backend
            .check_out(patron, None, title, None, due, renewable)
            .await
            .unwrap()
    }

    fn max_renewals(&self) -> u32 {
        self.rules.max_renewals
    }
}
pub mod upstream;

/// Kauko in process on a loopback port, with a temporary SQLite database;
/// its public URL is the port's, so same-origin checks pass for `base`.
pub struct Running {
    pub base: String,
    pub client: reqwest::Client,
    pub state: server::web::AppState,
    _worker: AbortOnDrop,
    _letters: AbortOnDrop,
    _iso18626: AbortOnDrop,
    _dir: tempfile::TempDir,
}

/// Stops the outbox worker with the test.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts Kauko with these configuration overrides (`KAUKO_…` variables).
pub async fn start_kauko(env: &[(&str, &str)]) -> Running {
    start_kauko_with(env, |port| port).await
}

/// Starts Kauko with its backend wrapped (e.g. in an adapter that fails on
/// demand); the outbox delivers through the wrapper too.
pub async fn start_kauko_with(
    env: &[(&str, &str)],
    wrap: impl FnOnce(Arc<dyn ResourceSharing>) -> Arc<dyn ResourceSharing>,
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut vars = vec![
        ("KAUKO_SERVER_PUBLIC_URL".to_owned(), base.clone()),
        (
            "KAUKO_DATABASE_URL".to_owned(),
            format!("sqlite://{}/kauko.db", dir.path().display()),
        ),
        (
            "KAUKO_SERVER_SITE_ROOT".to_owned(),
            dir.path().display().to_string(),
        ),
        (
            "KAUKO_LETTERS_SETTLE_MILLISECONDS".to_owned(),
            "0".to_owned(),
        ),
        (
            "KAUKO_LETTERS_POLL_INTERVAL_MILLISECONDS".to_owned(),
            "200".to_owned(),
        ),
    ];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_sources("", vars).unwrap();
    let mut state = server::build_state(config).await.unwrap();
    state.port = wrap(state.port.clone());
    state.partners = Arc::new(server::partner_directory::PartnerDirectory::new(
        state.port.clone(),
        Duration::from_secs(state.config.lending.partner_cache_seconds),
    ));
    state.outbox = server::outbox::Outbox::new(
        state.db.clone(),
        state.port.clone(),
        state.outbox.settings().clone(),
    );
    state.outbox.set_lending_mail(state.letters.clone());
    let worker = state.outbox.spawn_worker();
    let letters = state.letters.spawn_worker();
    let iso18626 = state.iso18626.spawn_worker();
    tokio::spawn(server::web::serve(
        listener,
        server::web::router(state.clone()),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Running {
        base,
        client,
        state,
        _worker: AbortOnDrop(worker),
        _letters: AbortOnDrop(letters),
        _iso18626: AbortOnDrop(iso18626),
        _dir: dir,
    }
}

impl Running {
    /// The temporary folder holding the database (and the mail folder).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// GETs a page with this cookie header (may be empty).
    pub async fn page(&self, path: &str, cookie: &str) -> (u16, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// Calls a server function (`/api/{endpoint}`) from our own origin
    /// with this cookie header: the status and the JSON answer (the text
    /// as a JSON string when it is not JSON).
    pub async fn call(
        &self,
        endpoint: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.base)
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// Calls a server function that takes JSON.
    pub async fn call_json(
        &self,
        endpoint: &str,
        cookie: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.base)
            .header("cookie", cookie)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// Posts a form to a server function as a browser without JavaScript
    /// does (it asks for a page: `Accept: text/html`), from `referer`
    /// (a path of ours): the status and where it is sent (`Location`).
    pub async fn post_plain(
        &self,
        endpoint: &str,
        cookie: &str,
        referer: &str,
        form: &[(&str, &str)],
    ) -> (u16, String) {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("origin", &self.base)
            .header("referer", format!("{}{referer}", self.base))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        status_and_location(&res)
    }

    /// A signed-in session made directly in the store: the cookie header.
    pub async fn sign_in_as(&self, user_id: &str, name: &str, staff: bool) -> String {
        session_cookie(&self.state, user_id, name, staff).await
    }
}

/// An answer's status and where it sends the browser (`Location`, empty
/// when none).
pub fn status_and_location(res: &reqwest::Response) -> (u16, String) {
    let to = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (res.status().as_u16(), to)
}

/// A session made directly in Kauko's session store: the cookie header.
pub async fn session_cookie(
    state: &server::web::AppState,
    user_id: &str,
    name: &str,
    staff: bool,
) -> String {
    let viewer = app::viewer::Viewer {
        user_id: user_id.into(),
        name: name.into(),
        staff,
    };
    let token = state
        .auth
        .sessions
        .create(&viewer, None, None)
        .await
        .unwrap();
    format!("kauko_session={token}")
}

pub mod alma;

/// Acts at the request's current version; panics unless done.
pub async fn step(
    desk: &server::desk::LocalDesk,
    side: app::domain::history::Side,
    id: &str,
    action: &str,
    fill: impl FnOnce(&mut app::desk::ActInput),
) {
    use app::desk::StaffDesk;
    let now = desk.request(side, id).await.unwrap();
    let mut input = app::desk::ActInput {
        id: id.into(),
        action: action.into(),
        version: now.version,
        seen_seq: now.events.last().map_or(0, |e| e.seq),
        ..app::desk::ActInput::default()
    };
    fill(&mut input);
    let after = desk
        .act(side, "staff-anna", input)
        .await
        .unwrap_or_else(|e| panic!("{action}: {e:?}"));
    assert_eq!(after.version, now.version + 1, "{action} bumps the version");
    assert_eq!(
        after.events.len(),
        now.events.len() + 1,
        "{action} writes one event"
    );
}

/// Takes a borrowing request from submitted to lent to the patron: sent
/// to `partner`, shipped, received, on loan until `due`.
pub async fn through_to_loan(
    desk: &server::desk::LocalDesk,
    id: &str,
    partner: &str,
    due: Option<chrono::NaiveDate>,
) {
    let b = app::domain::history::Side::Borrowing;
    step(desk, b, id, "send_to_partner", |i| {
        i.partner = Some(partner.into())
    })
    .await;
    step(desk, b, id, "shipped_physically", |_| {}).await;
    step(desk, b, id, "received", |_| {}).await;
    step(desk, b, id, "lend_to_patron", |i| i.due_date = due).await;
}
