//! `scripts/bench-stats.sh`: the statistics page's call (`app::stats::load`:
//! both sides' summaries of two years from their histories, and the
//! figures) with 20,000 borrowing requests and 200,000 history events in
//! the year shown and as many in the year before, on SQLite and (when it
//! answers) PostgreSQL. Prints p50/p99/max. BENCH_REQUESTS_PER_YEAR
//! (default 20000) and BENCH_RUNS (50) change the sizes.

mod common;

use common::env;
use std::time::Instant;

use server::stats::SqlStatistics;
use server::storage::Db;

const EVENTS: [(&str, &str, i64); 10] = [
    ("created", "REQUEST_CREATED_BOR", 0),
    ("send_to_partner", "REQUEST_SENT", 1),
    ("partner_will_supply", "WILL_SUPPLY", 20),
    ("shipped_physically", "SHIPPED_PHYSICALLY", 50),
    ("received", "RECEIVED_PHYSICALLY", 100),
    ("lend_to_patron", "LOANED", 101),
    ("grant_renewal", "LOANED", 400),
    ("returned_by_patron", "RETURNED_BY_PATRON", 700),
    ("return_to_partner", "RETURNED_TO_PARTNER", 701),
    ("close", "REQUEST_COMPLETED_BOR", 800),
];

async fn fill(db: &Db, per_year: usize) {
    let started = Instant::now();
    let chunk = 500;
    for year in [2024, 2025] {
        for start in (0..per_year).step_by(chunk) {
            let mut requests = Vec::new();
            let mut events = Vec::new();
            for i in start..(start + chunk).min(per_year) {
                let created =
                    chrono::DateTime::parse_from_rfc3339(&format!("{year}-01-01T00:00:00Z"))
                        .unwrap()
                        .with_timezone(&chrono::Utc)
                        + chrono::Duration::minutes(i64::try_from(i).unwrap_or(0) * 26);
                let c = server::storage::ts(created);
                let kind = ["book", "article", "chapter"][i % 3];
                requests.push(format!(
                    "('s{year}-{i:06}', 'patron{p}', 'sx{year}-{i}', '{{}}', 'PHYSICAL', NULL, NULL, NULL, 'REQUEST_COMPLETED_BOR', '{c}', '{c}', 0, 'FI-P{q}', 'T', '{kind}')",
                    p = i % 5000,
                    q = i % 40,
                ));
                // Every tenth is cancelled instead, with a reason.
                let steps: &[(&str, &str, i64)] = if i % 10 == 9 {
                    &[
                        ("created", "REQUEST_CREATED_BOR", 0),
                        ("cancel", "CANCELED_BY_PATRON", 5),
                        ("note", "CANCELED_BY_PATRON", 6),
                        ("note", "CANCELED_BY_PATRON", 7),
                        ("note", "CANCELED_BY_PATRON", 8),
                        ("note", "CANCELED_BY_PATRON", 9),
                        ("note", "CANCELED_BY_PATRON", 10),
                        ("note", "CANCELED_BY_PATRON", 11),
                        ("note", "CANCELED_BY_PATRON", 12),
                        ("note", "CANCELED_BY_PATRON", 13),
                    ]
                } else {
                    &EVENTS
                };
                for (action, to, hours) in steps {
                    let at = server::storage::ts(
                        created + chrono::Duration::hours(*hours + (i % 7) as i64),
                    );
                    let note = if *action == "cancel" {
                        "'Ei enää tarpeen'"
                    } else {
                        "NULL"
                    };
                    events.push(format!(
                        "('borrowing', 's{year}-{i:06}', '{at}', 'staff', 's', '{action}', NULL, '{to}', NULL, {note}, NULL)"
                    ));
                }
            }
            sqlx::query(&format!(
                "INSERT INTO borrowing_requests (id, patron_id, external_id, citation, format, pickup_location, needed_by, note, status, created_at, updated_at, version, partner_code, title, kind) VALUES {}",
                requests.join(", ")
            ))
            .execute(&db.pool)
            .await
            .expect("requests");
            sqlx::query(&format!(
                "INSERT INTO request_events (side, request_id, at, actor_kind, actor_id, action, from_state, to_state, partner_code, note, note_audience) VALUES {}",
                events.join(", ")
            ))
            .execute(&db.pool)
            .await
            .expect("events");
        }
    }
    println!(
        "  filled: {} requests, {} events in {:.1} s",
        per_year * 2,
        per_year * 2 * 10,
        started.elapsed().as_secs_f64()
    );
}

async fn measure(db: Db, runs: usize) {
    let source = SqlStatistics::new(db);
    let first = app::stats::load(&source, Some(2025)).await.expect("stats");
    println!(
        "  2025: {} requests, {} filled (check)",
        first.borrowing.requests.now, first.borrowing.filled.now
    );
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        app::stats::load(&source, Some(2025)).await.expect("stats");
        times.push(t.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "  statistics page (both sides, two years)   p50 {:>7.1} ms   p99 {:>7.1} ms   max {:>7.1} ms   ({} runs)",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        times.len()
    );
}

fn main() {
    let per_year = env("BENCH_REQUESTS_PER_YEAR", 20_000);
    let runs = env("BENCH_RUNS", 50);
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(async {
        println!(
            "statistics benchmark: {per_year} requests and {} events a year, two years",
            per_year * 10
        );
        common::on_both(|db| async move {
            fill(&db, per_year).await;
            common::analyze(&db).await;
            measure(db, runs).await;
        })
        .await;
    });
}
