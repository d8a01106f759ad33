//! Lookup latency through Kauko's HTTP API (`GET /api/v1/citation?id=…`)
//! against the loopback fake upstream, uncached (every DOI new: Crossref and
//! Unpaywall are asked, the answers written to the cache) and cached (the
//! same DOIs again: one database read each). Prints p50, p99 and counts.
//! Not a timed test: run `scripts/bench-lookup.sh` or
//! `cargo bench -p server --bench lookup`.
//!
//! The services' rate limits are raised for the run, so the figures are
//! Kauko's own cost (HTTP, parsing, SQLite cache) plus the loopback round
//! trips, not the politeness delays.

#[path = "../tests/support/upstream.rs"]
mod upstream;

use std::time::{Duration, Instant};

use server::config::Config;
use server::web;
use upstream::Upstream;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

fn count_arg(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(label: &str, mut samples: Vec<Duration>, wall: Duration) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<10} n={:<5} p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms  ({:.0} lookups/s)",
        samples.len(),
        ms(percentile(&samples, 50.0)),
        ms(percentile(&samples, 99.0)),
        ms(*samples.last().unwrap_or(&Duration::ZERO)),
        samples.len() as f64 / wall.as_secs_f64().max(1e-9),
    );
}

async fn run() {
    let n = count_arg("KAUKO_BENCH_LOOKUPS", 500);
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut env = up.env();
    env.extend([
        (
            "KAUKO_DATABASE_URL".to_owned(),
            format!("sqlite://{}/kauko.db", dir.path().display()),
        ),
        (
            "KAUKO_SERVER_SITE_ROOT".to_owned(),
            dir.path().display().to_string(),
        ),
        (
            "KAUKO_LOOKUP_CONTACT_EMAIL".to_owned(),
            "bench@library.example.fi".to_owned(),
        ),
        (
            "KAUKO_CROSSREF_MAX_CALLS_PER_SECOND".to_owned(),
            "100000".to_owned(),
        ),
        (
            "KAUKO_UNPAYWALL_MAX_CALLS_PER_SECOND".to_owned(),
            "100000".to_owned(),
        ),
        // One client making every call: the per-client limit would stop it.
        (
            "KAUKO_LOOKUP_MAX_LOOKUPS_PER_MINUTE".to_owned(),
            "1000000".to_owned(),
        ),
    ]);
    let config = Config::from_sources("", env).expect("configuration");
    let state = server::build_state(config).await.expect("Kauko's state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(web::serve(
        listener,
        web::router(state),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    let client = reqwest::Client::new();

    let get = {
        let client = client.clone();
        let base = base.clone();
        move |i: usize| {
            let client = client.clone();
            let url = format!("{base}/api/v1/citation?id=10.5555/bench-{i}");
            async move {
                let started = Instant::now();
                let res = client.get(url).send().await.expect("Kauko answers");
                let status = res.status();
                let body = res.bytes().await.expect("a body");
                assert!(
                    status.is_success(),
                    "{status}: {}",
                    String::from_utf8_lossy(&body)
                );
                started.elapsed()
            }
        }
    };

    // Warm up the connection pool and the code paths (not measured).
    for i in 0..20 {
        get(1_000_000 + i).await;
    }
    up.reset_hits();

    println!(
        "Kauko citation lookup through GET /api/v1/citation (loopback upstream, SQLite cache)"
    );
    for (label, offset) in [("uncached", 0), ("cached", 0)] {
        let started = Instant::now();
        let mut samples = Vec::with_capacity(n);
        for i in 0..n {
            samples.push(get(offset + i).await);
        }
        report(label, samples, started.elapsed());
        println!(
            "           upstream hits so far: crossref {}, unpaywall {}",
            up.hit_count("crossref"),
            up.hit_count("unpaywall")
        );
    }

    // Eight clients at once, cached.
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let get = get.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                for i in 0..n / 8 {
                    samples.push(get((i * 8 + t) % n).await);
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await.expect("a client task"));
    }
    report("cached x8", samples, started.elapsed());
}
