//! `scripts/bench-desk.sh`: the staff desk with 100,000 borrowing requests
//! and 1,000,000 history events in the database, on SQLite and (when it
//! answers) PostgreSQL. Prints p50/p99/max of the calls the desk's pages
//! make (`StaffDesk::queue` for the queue page with its counts, filters and
//! paging; `StaffDesk::request` for a request's page with its whole
//! history), i.e. the server function's work without HTTP.
//! BENCH_REQUESTS (default 100000), BENCH_EVENTS_PER_REQUEST (10) and
//! BENCH_RUNS (200) change the sizes.

mod common;

use common::env;
use std::time::{Duration, Instant};

use app::desk::{QueueQuery, StaffDesk};
use app::domain::history::Side;
use server::desk::LocalDesk;
use server::storage::Db;

const STATES: [&str; 10] = [
    "REQUEST_CREATED_BOR",
    "REQUEST_SENT",
    "WILL_SUPPLY",
    "SHIPPED_PHYSICALLY",
    "RECEIVED_PHYSICALLY",
    "LOANED",
    "RENEW_REQUESTED",
    "REQUEST_COMPLETED_BOR",
    "CANCELED_BY_PATRON",
    "REJECTED",
];

/// Words the titles are made of (besides "Bench title {i}"), so that a
/// search meets titles as varied as a library's, not 100,000 alike.
const WORDS: [&str; 48] = [
    "historia",
    "kieli",
    "suomen",
    "kirjallisuus",
    "tutkimus",
    "opetus",
    "yhteiskunta",
    "talous",
    "luonto",
    "kemia",
    "fysiikka",
    "biologia",
    "lääketiede",
    "hoitotyö",
    "oikeus",
    "filosofia",
    "taide",
    "musiikki",
    "arkkitehtuuri",
    "kasvatus",
    "psykologia",
    "tilastot",
    "metsä",
    "meri",
    "kaupunki",
    "maaseutu",
    "sota",
    "rauha",
    "uskonto",
    "kalevala",
    "runous",
    "romaani",
    "history",
    "language",
    "society",
    "economics",
    "medicine",
    "nursing",
    "law",
    "education",
    "climate",
    "energy",
    "water",
    "forest",
    "city",
    "migration",
    "health",
    "media",
];

/// Three words of `WORDS` for request `i`, spread evenly.
fn title_words(i: usize) -> String {
    let pick = |salt: usize| {
        WORDS[(i.wrapping_mul(2_654_435_761).wrapping_add(salt * 40_503) >> 7) % WORDS.len()]
    };
    format!("{} {} {}", pick(1), pick(2), pick(3))
}

fn stamp(minutes: usize) -> String {
    let t = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
        + chrono::Duration::seconds(i64::try_from(minutes).unwrap_or(0) * 17);
    server::storage::ts(t)
}

async fn fill(db: &Db, requests: usize, per_request: usize) {
    let chunk = 1000;
    let started = Instant::now();
    for start in (0..requests).step_by(chunk) {
        let mut values = Vec::with_capacity(chunk);
        for i in start..(start + chunk).min(requests) {
            let state = STATES[i % STATES.len()];
            let kind = ["book", "article", "chapter"][i % 3];
            values.push(format!(
                "('bench{i:08}', 'patron{p}', 'ext{i}', '{{\"kind\":\"{kind}\",\"title\":\"{title}\"}}', 'PHYSICAL', 'MAIN', NULL, NULL, '{state}', '{c}', '{u}', 0, 'FI-P{q}', '{title}', '{kind}')",
                title = format!("Bench title {i}: {}", title_words(i)),
                p = i % 5000,
                c = stamp(i),
                u = stamp(i + (i * 7919) % requests),
                q = i % 50,
            ));
        }
        sqlx::query(&format!(
            "INSERT INTO borrowing_requests (id, patron_id, external_id, citation, format, pickup_location, needed_by, note, status, created_at, updated_at, version, partner_code, title, kind) VALUES {}",
            values.join(", ")
        ))
        .execute(&db.pool)
        .await
        .expect("requests");
    }
    let requests_took = started.elapsed();
    let started = Instant::now();
    let total_events = requests * per_request;
    for start in (0..total_events).step_by(chunk) {
        let mut values = Vec::with_capacity(chunk);
        for e in start..(start + chunk).min(total_events) {
            let i = e / per_request;
            let n = e % per_request;
            let (action, note) = if n == 0 {
                ("created", "NULL")
            } else {
                ("note", "'A note about this request'")
            };
            values.push(format!(
                "('borrowing', 'bench{i:08}', '{at}', 'staff', 'staff-{s}', '{action}', '{st}', '{st}', 'FI-P{q}', {note}, {aud})",
                at = stamp(i + n),
                s = n % 7,
                st = STATES[i % STATES.len()],
                q = i % 50,
                aud = if n == 0 { "NULL" } else { "'internal'" },
            ));
        }
        sqlx::query(&format!(
            "INSERT INTO request_events (side, request_id, at, actor_kind, actor_id, action, from_state, to_state, partner_code, note, note_audience) VALUES {}",
            values.join(", ")
        ))
        .execute(&db.pool)
        .await
        .expect("events");
    }
    println!(
        "  filled: {requests} requests in {:.1} s, {total_events} events in {:.1} s",
        requests_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "  {name:<44} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   ({} runs)",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        times.len()
    );
}

async fn measure(desk: &LocalDesk, requests: usize, runs: usize) {
    let queries: Vec<(&str, QueueQuery)> = vec![
        ("queue: all, page 1", QueueQuery::default()),
        (
            "queue: needs action, page 1",
            QueueQuery {
                needs_action: true,
                ..Default::default()
            },
        ),
        (
            "queue: one state, page 1",
            QueueQuery {
                state: Some("REQUEST_SENT".into()),
                ..Default::default()
            },
        ),
        (
            "queue: one state, page 200",
            QueueQuery {
                state: Some("LOANED".into()),
                page: 199,
                ..Default::default()
            },
        ),
        (
            "queue: partner + kind",
            QueueQuery {
                partner: Some("FI-P7".into()),
                kind: Some("book".into()),
                ..Default::default()
            },
        ),
        (
            "queue: search a title word",
            QueueQuery {
                q: Some("title 4242".into()),
                ..Default::default()
            },
        ),
        (
            "queue: search two title words",
            QueueQuery {
                q: Some("kalevala metsä".into()),
                ..Default::default()
            },
        ),
        (
            "queue: search a patron",
            QueueQuery {
                q: Some("patron42".into()),
                ..Default::default()
            },
        ),
    ];
    for (name, q) in &queries {
        // One warm-up call, then the runs.
        desk.queue(Side::Borrowing, q).await.expect("queue");
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let page = desk.queue(Side::Borrowing, q).await.expect("queue");
            times.push(t.elapsed());
            assert!(page.rows.len() <= 25);
        }
        report(name, times);
    }
    let mut times = Vec::with_capacity(runs);
    for r in 0..runs {
        let i = (r * 7919 + 13) % requests;
        let t = Instant::now();
        let page = desk
            .request(Side::Borrowing, &format!("bench{i:08}"))
            .await
            .expect("request");
        times.push(t.elapsed());
        assert!(!page.events.is_empty());
    }
    report("request page (citation, history, actions)", times);
}

fn main() {
    let requests = env("BENCH_REQUESTS", 100_000);
    let per_request = env("BENCH_EVENTS_PER_REQUEST", 10);
    let runs = env("BENCH_RUNS", 200);
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(async {
        println!(
            "desk benchmark: {requests} requests, {} events",
            requests * per_request
        );
        common::on_both(|db| async move {
            fill(&db, requests, per_request).await;
            common::analyze(&db).await;
            measure(&LocalDesk::new(db), requests, runs).await;
        })
        .await;
    });
}
