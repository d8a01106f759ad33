//! Exactly once with real processes: the `kauko` binary runs on the Alma
//! adapter against the Alma API simulator.
//!
//! A crash: the simulator's creates take 4 s to answer. A patron sends a request; while Alma is still answering the
//! create, the process is killed with SIGKILL (no shutdown, no cleanup),
//! then started again on the same database. The restarted worker picks the
//! submission up when the dead process's lease runs out, finds that Alma
//! already has it, and does not create it again: Alma holds exactly one
//! request, created by exactly one POST, and the patron sees it.
//!
//! Two instances: two `kauko` processes share one PostgreSQL while Alma is
//! down; patrons send requests to both (one of them twice, once to each
//! instance). When Alma is back, both workers race for the same outbox,
//! and Alma gets every request exactly once.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use server::alma_sim::{AlmaSim, Fault};
use support::alma::{alma_config, sim_config};

const PATRON: &str = "kill.test";
const KEY: &str = "kill-test-0000-0001";
const TITLE: &str = "Delivered once despite a crash";

struct Kauko {
    child: Child,
    base: String,
}

impl Drop for Kauko {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env(
    sim_url: &str,
    database_url: &str,
    dir: &std::path::Path,
    bind: &str,
) -> Vec<(String, String)> {
    [
        ("KAUKO_BACKEND_KIND", "alma"),
        ("KAUKO_ALMA_URL", sim_url),
        ("KAUKO_ALMA_API_KEY", support::alma::KEY),
        ("KAUKO_ALMA_RS_LIBRARY", "RES_SHARE"),
        ("KAUKO_ALMA_CACHE_SECONDS", "1"),
        ("KAUKO_DATABASE_URL", database_url),
        ("KAUKO_SERVER_BIND", bind),
        ("KAUKO_SERVER_PUBLIC_URL", &format!("http://{bind}")),
        ("KAUKO_SERVER_SITE_ROOT", &dir.display().to_string()),
        // A short lease so the restarted worker may take the row over
        // soon; the form answers "received" after half a second.
        ("KAUKO_OUTBOX_LEASE_SECONDS", "10"),
        ("KAUKO_OUTBOX_INLINE_WAIT_MILLISECONDS", "500"),
        ("KAUKO_OUTBOX_POLL_INTERVAL_MILLISECONDS", "200"),
        ("KAUKO_OUTBOX_FIRST_BACKOFF_MILLISECONDS", "200"),
        ("KAUKO_OUTBOX_MAX_BACKOFF_SECONDS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

async fn start(vars: &[(String, String)], dir: &std::path::Path, bind: &str) -> Kauko {
    let child = Command::new(env!("CARGO_BIN_EXE_kauko"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{bind}");
    let started = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "kauko answers /readyz within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Kauko { child, base }
}

async fn call(
    base: &str,
    endpoint: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> serde_json::Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/{endpoint}"))
        .header("origin", base)
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{endpoint}: {}", res.status());
    res.json().await.unwrap()
}

async fn json(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// How many requests the simulator holds per external id, and how many
/// creates it received.
async fn in_alma_by_key(sim: &str) -> (BTreeMap<String, usize>, u64) {
    let state = json(&format!("{sim}/sim/state")).await;
    let mut held = BTreeMap::new();
    for r in state["rs_requests"].as_array().unwrap() {
        let key = r["external_id"].as_str().unwrap_or_default().to_owned();
        *held.entry(key).or_default() += 1;
    }
    let stats = json(&format!("{sim}/sim/stats")).await;
    let posts = stats["calls_by_route"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| *route == "POST /users/{id}/resource-sharing-requests")
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    (held, posts)
}

/// The simulator's requests with `KEY`, and its create calls.
async fn in_alma(sim: &str) -> (usize, u64) {
    let (held, posts) = in_alma_by_key(sim).await;
    (held.get(KEY).copied().unwrap_or(0), posts)
}

fn article<'a>(key: &'a str, title: &'a str) -> [(&'static str, &'a str); 7] {
    [
        ("idempotency_key", key),
        ("kind", "article"),
        ("title", title),
        ("container_title", "Journal of Crashes"),
        ("year", "2026"),
        ("format", "DIGITAL"),
        ("copyright", "true"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_when_kauko_is_killed_reaches_alma_once() {
    let mut sim = sim_config();
    sim.create_delay = Duration::from_secs(4);
    let sim = AlmaSim::start(sim).await.unwrap();
    let sim_root = sim.base_url.trim_end_matches('/').to_owned();

    let dir = tempfile::tempdir().unwrap();
    let bind = format!("127.0.0.1:{}", support::free_port());
    let db = format!("sqlite://{}/kauko.db", dir.path().display());
    let vars = env(&sim.base_url, &db, dir.path(), &bind);

    // A signed-in patron: a session made in the database Kauko will use.
    let cookie = {
        let config = alma_config(&sim.base_url, dir.path(), &[]);
        let state = server::build_state(config).await.unwrap();
        support::session_cookie(&state, PATRON, "Kill Test", false).await
    };

    let mut kauko = start(&vars, dir.path(), &bind).await;
    let answer = call(
        &kauko.base,
        "requests/submit",
        &cookie,
        &article(KEY, TITLE),
    )
    .await;
    assert!(
        answer["Received"]["reference"].is_string(),
        "Alma is slow, so the patron is told it was received: {answer}"
    );

    // Alma has taken the create but not answered yet: kill Kauko now.
    let started = Instant::now();
    while in_alma(&sim_root).await.0 == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the worker sends the request to Alma"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kauko.child.kill().unwrap(); // SIGKILL
    let status = kauko.child.wait().unwrap();
    assert!(!status.success(), "killed, not exited: {status:?}");
    drop(kauko);
    assert_eq!(in_alma(&sim_root).await, (1, 1), "one create reached Alma");

    // Started again on the same database: the submission is finished once.
    let kauko = start(&vars, dir.path(), &bind).await;
    let started = Instant::now();
    let mine = loop {
        let mine = call(&kauko.base, "me/requests", &cookie, &[]).await;
        let delivered = mine["received"].as_array().is_some_and(Vec::is_empty)
            && mine["active"]["Ok"]
                .as_array()
                .is_some_and(|a| a.iter().any(|r| r["title"] == TITLE));
        if delivered {
            break mine;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the restarted Kauko finishes the delivery: {mine}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(
        mine["active"]["Ok"].as_array().unwrap().len(),
        1,
        "the patron sees one request: {mine}"
    );
    // Some time for a wrong second create to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        in_alma(&sim_root).await,
        (1, 1),
        "still one request in Alma, from one POST"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgresql_deliver_each_request_once() {
    let Some(database_url) = support::postgres_url().await else {
        return;
    };
    let sim = AlmaSim::start(sim_config()).await.unwrap();
    let sim_root = sim.base_url.trim_end_matches('/').to_owned();
    let dir = tempfile::tempdir().unwrap();

    // The schema and one session, which both instances accept.
    let cookie = {
        let config = alma_config(
            &sim.base_url,
            dir.path(),
            &[("KAUKO_DATABASE_URL", database_url.as_str())],
        );
        let state = server::build_state(config).await.unwrap();
        support::session_cookie(&state, PATRON, "Two Instances", false).await
    };
    let mut instances = Vec::new();
    for _ in 0..2 {
        let bind = format!("127.0.0.1:{}", support::free_port());
        let vars = env(&sim.base_url, &database_url, dir.path(), &bind);
        instances.push(start(&vars, dir.path(), &bind).await);
    }
    // Alma goes down (after start-up: /readyz asks it).
    sim.state.set_fault(Fault::Unavailable);

    // Alma is down: every request is received, half by each instance.
    const N: usize = 16;
    let keys: Vec<String> = (0..N).map(|i| format!("two-instances-{i:04}")).collect();
    let mut references = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let title = format!("Raced article {i}");
        let answer = call(
            &instances[i % 2].base,
            "requests/submit",
            &cookie,
            &article(key, &title),
        )
        .await;
        let reference = answer["Received"]["reference"].clone();
        assert!(
            reference.is_string(),
            "received while Alma is down: {answer}"
        );
        references.push(reference);
    }
    // The first form sent again, to the other instance: the same submission.
    let again = call(
        &instances[1].base,
        "requests/submit",
        &cookie,
        &article(&keys[0], "Raced article 0"),
    )
    .await;
    assert_eq!(again["Received"]["reference"], references[0], "{again}");

    // Alma is back: both workers race for the same rows.
    sim.state.set_fault(Fault::None);
    let started = Instant::now();
    loop {
        let (held, _) = in_alma_by_key(&sim_root).await;
        if keys.iter().all(|k| held.contains_key(k)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "every request reaches Alma: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Some time for a wrong second create to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (held, _) = in_alma_by_key(&sim_root).await;
    for key in &keys {
        assert_eq!(held.get(key), Some(&1), "{key} is in Alma once");
    }
    assert_eq!(held.len(), N, "nothing else: {held:?}");
    // The simulator would refuse a second create of one external id, so
    // what it holds cannot show a duplicate send: count the creates that
    // reached it after the fault cleared (those refused while it was down
    // never reach the create handler). Exactly one per request.
    let stats = json(&format!("{sim_root}/sim/stats")).await;
    assert_eq!(
        stats["creates_handled"].as_u64(),
        Some(N as u64),
        "one create call per request, no duplicate sent: {stats}"
    );

    // Either instance shows the patron all of them, none still waiting.
    let mine = call(&instances[0].base, "me/requests", &cookie, &[]).await;
    assert_eq!(mine["received"], serde_json::json!([]), "{mine}");
    assert_eq!(mine["active"]["Ok"].as_array().unwrap().len(), N, "{mine}");
}
