//! N concurrent patrons load My requests from a Kauko on the Alma adapter,
//! talking to the Alma API simulator over loopback HTTP. Prints Kauko's
//! calls per second to Alma (overall and the most in any one second,
//! against the institution's threshold), page latency p50/p99 per round,
//! and the adapter's cache hit rate. Not a timed test: run
//! `scripts/bench-alma.sh` or `cargo bench -p server --bench alma_my_requests`.
//!
//! Each patron has three resource-sharing requests placed in Alma outside
//! Kauko (found through the patron's user requests) and two ILL loans.
//! Round 1 is cold (every read goes to Alma); later rounds come within the
//! cache's lifetime.

use std::sync::Arc;
use std::time::{Duration, Instant};

use server::adapters::alma::{AlmaBackend, AlmaSettings};
use server::alma_sim::{AlmaSim, NewSimLoan, SimConfig};
use server::config::Config;
use server::web;

const KEY: &str = "bench-key";

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

async fn run() {
    let patrons = count_arg("KAUKO_BENCH_PATRONS", 20);
    let rounds = count_arg("KAUKO_BENCH_ROUNDS", 3);
    let threshold = count_arg("KAUKO_BENCH_THRESHOLD", 25) as u32;
    let kauko_limit = count_arg("KAUKO_BENCH_KAUKO_LIMIT", 10);

    // The institution, seeded through its own API without a threshold.
    let sim = AlmaSim::start(SimConfig {
        api_keys: vec![KEY.into()],
        threshold_per_second: 1_000_000,
        ..SimConfig::default()
    })
    .await
    .expect("the simulator");
    let client = reqwest::Client::new();
    let ids: Vec<String> = (0..patrons).map(|i| format!("bench.patron.{i}")).collect();
    for id in &ids {
        for n in 0..3 {
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
        }
        for n in 0..2 {
            sim.state.add_loan(NewSimLoan {
                user_id: id.clone(),
                title: format!("Benchmark loan {n} of {id}"),
                author: None,
                due_in_days: 10 + n,
                renewable: true,
                rs_request_id: None,
            });
        }
    }
    sim.state
        .update_config(|c| c.threshold_per_second = threshold);
    sim.state.reset_stats();

    // Kauko on the Alma adapter; the bench keeps a handle on the adapter to
    // read its counters.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let env: Vec<(String, String)> = [
        ("KAUKO_SERVER_PUBLIC_URL", base.clone()),
        (
            "KAUKO_DATABASE_URL",
            format!("sqlite://{}/kauko.db", dir.path().display()),
        ),
        ("KAUKO_SERVER_SITE_ROOT", dir.path().display().to_string()),
        ("KAUKO_BACKEND_KIND", "alma".into()),
        ("KAUKO_ALMA_URL", sim.base_url.clone()),
        ("KAUKO_ALMA_API_KEY", KEY.into()),
        ("KAUKO_ALMA_RS_LIBRARY", "RES_SHARE".into()),
        ("KAUKO_ALMA_MAX_CALLS_PER_SECOND", kauko_limit.to_string()),
        ("KAUKO_ALMA_READ_TIMEOUT_SECONDS", "60".into()),
        ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_sources("", env).expect("configuration");
    let mut state = server::build_state(config.clone())
        .await
        .expect("Kauko's state");
    let alma = Arc::new(
        AlmaBackend::new(
            state.db.clone(),
            AlmaSettings::from_config(&config).expect("Alma settings"),
        )
        .expect("the Alma adapter"),
    );
    state.port = alma.clone();
    let mut cookies = Vec::new();
    for id in &ids {
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
    tokio::spawn(web::serve(
        listener,
        web::router(state),
        std::future::pending(),
        Duration::from_secs(1),
    ));

    println!(
        "{patrons} patrons × {rounds} rounds of My requests; Alma threshold {threshold}/s, Kauko's limit {kauko_limit}/s"
    );
    let started = Instant::now();
    for round in 1..=rounds {
        let round_start = Instant::now();
        let loads = cookies.iter().enumerate().map(|(i, cookie)| {
            let client = client.clone();
            let url = format!("{base}/my?lang=en");
            let cookie = cookie.clone();
            let expect = format!("Benchmark loan 0 of bench.patron.{i}");
            async move {
                let t = Instant::now();
                let res = client
                    .get(url)
                    .header("cookie", cookie)
                    .send()
                    .await
                    .expect("Kauko answers");
                let status = res.status();
                let body = res.text().await.expect("a body");
                assert!(status.is_success(), "{status}");
                assert!(body.contains(&expect), "the page shows the patron's loans");
                t.elapsed()
            }
        });
        let mut samples = futures::future::join_all(loads).await;
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "round {round}: {} page loads in {:.1} s  p50={:.1} ms  p99={:.1} ms  max={:.1} ms",
            samples.len(),
            round_start.elapsed().as_secs_f64(),
            ms(percentile(&samples, 50.0)),
            ms(percentile(&samples, 99.0)),
            ms(*samples.last().unwrap_or(&Duration::ZERO)),
        );
    }
    let wall = started.elapsed().as_secs_f64();
    let at_alma = sim.state.stats();
    let kauko = alma.stats();
    let lookups = kauko.cache_hits + kauko.cache_misses;
    println!(
        "calls to Alma: {} in {:.1} s = {:.1}/s on average; most in any one second: {} (threshold {threshold}); answered 429: {}",
        at_alma.calls,
        wall,
        at_alma.calls as f64 / wall.max(1e-9),
        at_alma.max_calls_in_any_second,
        at_alma.throttled,
    );
    println!(
        "cache: {} hits, {} misses, hit rate {:.1} %",
        kauko.cache_hits,
        kauko.cache_misses,
        if lookups == 0 {
            0.0
        } else {
            100.0 * kauko.cache_hits as f64 / lookups as f64
        }
    );
    assert!(
        at_alma.max_calls_in_any_second <= u64::from(threshold),
        "Kauko went over the institution's threshold"
    );
}
