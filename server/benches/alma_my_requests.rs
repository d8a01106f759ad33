//! My requests on the Alma adapter, served from the mirror: N patrons
//! (default 200), each with 5–15 requests and loans in the Alma API
//! simulator (loopback HTTP), load My requests from Kauko for several
//! rounds, on one instance (SQLite) and on two instances sharing one
//! PostgreSQL. Prints page latency p50/p99 per round, Alma calls per
//! second (the most in any one second, against the threshold), Alma calls
//! per page view, how stale the mirror was, and how long a change made in
//! Alma took to show. Not a timed test: run `scripts/bench-alma.sh`.
//!
//! Phases per setup:
//! - **cold**: the first KAUKO_BENCH_COLD_PATRONS (20) patrons open My
//!   requests at once with an empty mirror (every page reads Alma, at
//!   Kauko's limit, shared by all instances);
//! - **fill**: the other patrons' mirror is filled by a helper adapter
//!   allowed 500 calls a second (standing in for the sync having read them
//!   over time; the simulator's threshold is lifted meanwhile), and every
//!   patron's next pass is spread evenly over the sync interval, as a
//!   running sync leaves them;
//! - **rounds**: every patron opens My requests, all at once ("burst"),
//!   then spread evenly over two seconds ("paced"), with the background
//!   sync running at its share;
//! - **change**: statuses changed in the simulator behind Kauko's back,
//!   timed until the mirror shows them (sync interval KAUKO_BENCH_SYNC_SECONDS,
//!   default 180).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::PatronId;
use server::adapters::alma::{AlmaBackend, AlmaSettings};
use server::alma_sim::{AlmaSim, NewSimLoan, SimConfig, SimHandle};
use server::config::Config;
use server::port::ResourceSharing;
use server::storage::Db;
use server::web;

use common::env;
use futures::StreamExt;

const KEY: &str = "bench-key";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Bench {
    sim: SimHandle,
    patrons: Vec<String>,
    /// Request ids per patron.
    requests: Vec<Vec<String>>,
    threshold: u32,
    client: reqwest::Client,
}

/// One running Kauko: its URL, its Alma adapter, its patrons' cookies.
struct Instance {
    base: String,
    alma: Arc<AlmaBackend>,
    db: Db,
    cookies: Vec<String>,
}

async fn seed(sim: &SimHandle, client: &reqwest::Client, patrons: usize) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for i in 0..patrons {
        let id = format!("bench.patron.{i}");
        // 5 to 15 items: a third loans, the rest requests.
        let items = 5 + i % 11;
        let loans = items / 3;
        let mut ids = Vec::new();
        for n in 0..items - loans {
            let res = client
                .post(format!(
                    "{}/almaws/v1/users/{id}/resource-sharing-requests",
                    sim.base_url
                ))
                .header("authorization", format!("apikey {KEY}"))
                .header("accept", "application/json")
                .json(&serde_json::json!({
                    "format": {"value": "PHYSICAL"},
                    "citation_type": {"value": "BK"},
                    "title": format!("Benchmark book {n} of {id}"),
                    "agree_to_copyright_terms": true,
                    "pickup_location": {"value": "MAIN"},
                    "pickup_location_type": "LIBRARY"
                }))
                .send()
                .await
                .expect("the simulator answers");
            assert!(res.status().is_success(), "seeding: {}", res.status());
            let body: serde_json::Value = res.json().await.expect("json");
            ids.push(body["request_id"].as_str().expect("an id").to_owned());
        }
        for n in 0..loans {
            sim.state.add_loan(NewSimLoan {
                user_id: id.clone(),
                title: format!("Benchmark loan {n} of {id}"),
                author: None,
                due_in_days: 10 + n as i64,
                renewable: true,
                rs_request_id: None,
            });
        }
        all.push(ids);
    }
    all
}

impl Bench {
    async fn instance(&self, db_url: &str, dir: &std::path::Path, sync_seconds: u64) -> Instance {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let env: Vec<(String, String)> = [
            ("KAUKO_SERVER_PUBLIC_URL", base.clone()),
            ("KAUKO_DATABASE_URL", db_url.to_owned()),
            ("KAUKO_DATABASE_MAX_CONNECTIONS", "16".into()),
            ("KAUKO_SERVER_SITE_ROOT", dir.display().to_string()),
            ("KAUKO_BACKEND_KIND", "alma".into()),
            ("KAUKO_ALMA_URL", self.sim.base_url.clone()),
            ("KAUKO_ALMA_API_KEY", KEY.into()),
            ("KAUKO_ALMA_RS_LIBRARY", "RES_SHARE".into()),
            (
                "KAUKO_ALMA_MAX_CALLS_PER_SECOND",
                self.threshold.to_string(),
            ),
            ("KAUKO_ALMA_MAX_WAIT_MILLISECONDS", "60000".into()),
            ("KAUKO_ALMA_READ_TIMEOUT_SECONDS", "60".into()),
            ("KAUKO_ALMA_SYNC_ACTIVE_SECONDS", sync_seconds.to_string()),
            ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let config = Config::from_sources("", env).expect("configuration");
        let state = server::build_state(config).await.expect("Kauko's state");
        let alma = state.alma.clone().expect("the Alma adapter");
        let mut cookies = Vec::new();
        for id in &self.patrons {
            let viewer = app::viewer::Viewer {
                user_id: id.clone(),
                name: id.clone(),
                staff: false,
            };
            let token = state
                .auth
                .sessions
                .create(&viewer, None, None)
                .await
                .expect("a session");
            cookies.push(format!("kauko_session={token}"));
        }
        let db = state.db.clone();
        tokio::spawn(web::serve(
            listener,
            web::router(state),
            std::future::pending(),
            Duration::from_secs(1),
        ));
        Instance {
            base,
            alma,
            db,
            cookies,
        }
    }

    /// Patron `i` opens My requests on `instance`; the page's latency.
    async fn look(&self, instance: &Instance, i: usize) -> Duration {
        let t = Instant::now();
        let res = self
            .client
            .get(format!("{}/my?lang=en", instance.base))
            .header("cookie", instance.cookies[i].clone())
            .send()
            .await
            .expect("Kauko answers");
        let status = res.status();
        let body = res.text().await.expect("a body");
        let elapsed = t.elapsed();
        assert!(status.is_success(), "{status}");
        assert!(
            body.contains(&format!("Benchmark book 0 of bench.patron.{i}")),
            "the page shows patron {i}'s requests"
        );
        elapsed
    }

    /// Patrons `which` look, all at once or `spread` evenly over a time.
    async fn round(
        &self,
        instances: &[Instance],
        which: std::ops::Range<usize>,
        spread: Option<Duration>,
    ) -> Vec<Duration> {
        let n = which.len().max(1);
        let looks = which.map(|i| {
            let instance = &instances[i % instances.len()];
            let delay = spread.map(|s| s.mul_f64((i % n) as f64 / n as f64));
            async move {
                if let Some(d) = delay {
                    tokio::time::sleep(d).await;
                }
                self.look(instance, i).await
            }
        });
        let mut samples = futures::future::join_all(looks).await;
        samples.sort();
        samples
    }

    fn sync_calls(instances: &[Instance]) -> u64 {
        instances.iter().map(|i| i.alma.stats().sync_calls).sum()
    }

    /// The oldest mirror picture among the patrons, in seconds.
    async fn staleness(db: &Db) -> f64 {
        let oldest: Option<String> =
            sqlx::query_scalar("SELECT MIN(listed_at) FROM alma_mirror_patrons")
                .fetch_one(&db.pool)
                .await
                .expect("the mirror");
        oldest
            .and_then(|s| server::storage::parse_ts(&s).ok())
            .map(|t| (chrono::Utc::now() - t).num_milliseconds() as f64 / 1000.0)
            .unwrap_or(0.0)
    }

    async fn setup(&self, label: &str, db_url: &str, instances_wanted: usize) {
        let rounds = env("KAUKO_BENCH_ROUNDS", 3);
        let cold = env("KAUKO_BENCH_COLD_PATRONS", 20).min(self.patrons.len());
        // A patron's pass costs about two calls (their user requests and their
        // loans; requests only when changed), so one round over every
        // patron takes about patrons × 2 / (limit × 30 %) seconds: 133 s
        // for 200 patrons at 10/s. The interval must be longer than that.
        let sync_seconds = env("KAUKO_BENCH_SYNC_SECONDS", 180) as u64;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut instances = Vec::new();
        for _ in 0..instances_wanted {
            instances.push(self.instance(db_url, dir.path(), sync_seconds).await);
        }
        println!(
            "\n== {label}: {} instance(s), {} patrons, Alma's threshold and Kauko's limit {}/s, sync share 30 %, active requests re-read every {sync_seconds} s (a round over every patron at about 2 calls each: {:.0} s)",
            instances.len(),
            self.patrons.len(),
            self.threshold,
            self.patrons.len() as f64 * 2.0 / (f64::from(self.threshold) * 0.3),
        );

        // Cold: the first patrons' first look, all at once.
        self.sim.state.reset_stats();
        let t = Instant::now();
        let samples = self.round(&instances, 0..cold, None).await;
        let stats = self.sim.state.stats();
        println!(
            "cold: {cold} patrons' first look at once: p50 {:.0} ms, p99 {:.0} ms; {} Alma calls in {:.1} s ({:.1} per page), most in any second {} (threshold {}), 429s {}",
            ms(percentile(&samples, 50.0)),
            ms(percentile(&samples, 99.0)),
            stats.calls,
            t.elapsed().as_secs_f64(),
            stats.calls as f64 / cold.max(1) as f64,
            stats.max_calls_in_any_second,
            self.threshold,
            stats.throttled
        );

        // Fill: the rest of the mirror, quickly, by a helper adapter.
        let t = Instant::now();
        self.sim
            .state
            .update_config(|c| c.threshold_per_second = 1_000_000);
        let mut config = server::config::Config::default();
        config.alma.url = Some(self.sim.base_url.clone());
        config.alma.api_key = Some(KEY.into());
        config.alma.rs_library = Some("RES_SHARE".into());
        config.alma.max_calls_per_second = 500;
        config.backend.kind = server::config::BackendKind::Alma;
        let helper = Arc::new(
            AlmaBackend::new(
                instances[0].db.clone(),
                AlmaSettings::from_config(&config).expect("settings"),
            )
            .expect("the helper adapter"),
        );
        let fills = (cold..self.patrons.len()).map(|i| {
            let helper = helper.clone();
            let patron = PatronId(self.patrons[i].clone());
            async move {
                helper.list_borrowing_requests(&patron).await.expect("fill");
                helper.list_loans(&patron).await.expect("fill");
            }
        });
        futures::stream::iter(fills)
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        self.sim
            .state
            .update_config(|c| c.threshold_per_second = self.threshold);
        println!(
            "fill: {} patrons' mirror in {:.1} s (helper at 500 calls/s, not measured)",
            self.patrons.len() - cold,
            t.elapsed().as_secs_f64()
        );
        // As a sync that had been running would have left them: each
        // patron's next pass spread evenly over the interval (not all at
        // once, as the fill made them).
        let n = self.patrons.len().max(1) as i64;
        for (i, patron) in self.patrons.iter().enumerate() {
            let due = chrono::Utc::now()
                + chrono::Duration::milliseconds(sync_seconds as i64 * 1000 * i as i64 / n);
            sqlx::query("UPDATE alma_mirror_patrons SET due_at = $1 WHERE patron_id = $2")
                .bind(server::storage::ts(due))
                .bind(patron.clone())
                .execute(&instances[0].db.pool)
                .await
                .expect("the mirror");
        }

        // Warm rounds, the sync running beside them.
        let syncs: Vec<_> = instances
            .iter()
            .filter_map(|i| i.alma.clone().spawn_sync())
            .collect();
        let everyone = 0..self.patrons.len();
        for round in 1..=rounds {
            for (kind, spread) in [("burst", None), ("paced", Some(Duration::from_secs(2)))] {
                self.sim.state.reset_stats();
                let sync_before = Self::sync_calls(&instances);
                let t = Instant::now();
                let samples = self.round(&instances, everyone.clone(), spread).await;
                let wall = t.elapsed().as_secs_f64();
                let stats = self.sim.state.stats();
                let sync = Self::sync_calls(&instances) - sync_before;
                let page_calls = stats.calls.saturating_sub(sync);
                println!(
                    "round {round} {kind}: {} pages in {wall:.1} s  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms | Alma: {} calls ({} by the sync), {:.2} per page view, most in any second {} (threshold {}), 429s {} | oldest mirror {:.0} s",
                    samples.len(),
                    ms(percentile(&samples, 50.0)),
                    ms(percentile(&samples, 99.0)),
                    ms(*samples.last().unwrap_or(&Duration::ZERO)),
                    stats.calls,
                    sync,
                    page_calls as f64 / samples.len().max(1) as f64,
                    stats.max_calls_in_any_second,
                    self.threshold,
                    stats.throttled,
                    Self::staleness(&instances[0].db).await,
                );
            }
        }

        // A change in Alma, behind Kauko's back: how long until the mirror
        // has it.
        let changed: Vec<String> = self
            .requests
            .iter()
            .step_by((self.patrons.len() / 10).max(1))
            .filter_map(|ids| ids.first().cloned())
            .collect();
        self.sim.state.reset_stats();
        let t = Instant::now();
        for id in &changed {
            assert!(self.sim.state.set_status(id, "SHIPPED_PHYSICALLY"));
        }
        let deadline = Duration::from_secs(sync_seconds * 3 + 30);
        let mut seen_after = None;
        while t.elapsed() < deadline {
            let mut all = true;
            for id in &changed {
                let status: Option<String> = sqlx::query_scalar(
                    "SELECT status FROM alma_mirror_requests WHERE request_id = $1",
                )
                .bind(id.clone())
                .fetch_optional(&instances[0].db.pool)
                .await
                .expect("the mirror");
                all &= status.as_deref() == Some("SHIPPED_PHYSICALLY");
            }
            if all {
                seen_after = Some(t.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let events: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM request_events WHERE action = 'alma_status' AND to_state = 'SHIPPED_PHYSICALLY'",
        )
        .fetch_one(&instances[0].db.pool)
        .await
        .expect("the history");
        let stats = self.sim.state.stats();
        match seen_after {
            Some(d) => println!(
                "change: {} requests changed in Alma, all in the mirror after {:.1} s (sync interval {sync_seconds} s); {events} history events; sync calls meanwhile: most in any second {} (threshold {})",
                changed.len(),
                d.as_secs_f64(),
                stats.max_calls_in_any_second,
                self.threshold
            ),
            None => println!(
                "change: NOT all seen within {:.0} s ({events} events)",
                deadline.as_secs_f64()
            ),
        }
        for s in syncs {
            s.abort();
        }
        // Put the changed requests back for the next setup.
        for id in &changed {
            self.sim.state.set_status(id, "REQUEST_CREATED_BOR");
        }
    }
}

async fn run() {
    let patrons = env("KAUKO_BENCH_PATRONS", 200);
    let threshold = env("KAUKO_BENCH_THRESHOLD", 10) as u32;
    let sim = AlmaSim::start(SimConfig {
        api_keys: vec![KEY.into()],
        threshold_per_second: 1_000_000,
        ..SimConfig::default()
    })
    .await
    .expect("the simulator");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("a client");
    let t = Instant::now();
    let requests = seed(&sim, &client, patrons).await;
    println!(
        "seeded {patrons} patrons: {} requests and {} loans in {:.1} s",
        requests.iter().map(Vec::len).sum::<usize>(),
        (0..patrons).map(|i| (5 + i % 11) / 3).sum::<usize>(),
        t.elapsed().as_secs_f64()
    );
    sim.state
        .update_config(|c| c.threshold_per_second = threshold);
    let bench = Bench {
        sim,
        patrons: (0..patrons).map(|i| format!("bench.patron.{i}")).collect(),
        requests,
        threshold,
        client,
    };

    let dir = tempfile::tempdir().expect("a folder");
    let sqlite = format!("sqlite://{}/kauko.db", dir.path().display());
    bench.setup("one instance, SQLite", &sqlite, 1).await;

    match common::postgres_schema().await {
        Err(e) => println!("\ntwo instances on PostgreSQL: skipped (not reachable: {e})"),
        Ok(schema) => {
            bench
                .setup("two instances, one PostgreSQL", &schema.url, 2)
                .await;
            schema.drop().await;
        }
    }
}
