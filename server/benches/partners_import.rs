//! `cargo bench -p server --bench partners_import`: a dry run of the
//! generated 603-library set (405 Alma users, 475 CSV rows) against the
//! local adapter on a SQLite database that already holds 40 of them. Prints
//! the minimum and median of several runs, and the same for the steps
//! before the database (read, normalise, match, merge, plan).

use std::time::{Duration, Instant};

use server::adapters::local::{LocalBackend, LocalRules};
use server::partners_import::{run, testdata, ImportInput, ImportOptions};
use server::port::ResourceSharing;
use server::storage::Db;

fn stats(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let dir = std::env::temp_dir().join(format!("kauko-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let url = format!("sqlite://{}/bench.db", dir.display());
    let started = Instant::now();
    let data = testdata::standard();
    let generated = started.elapsed();
    let (dry, plan_only) = rt.block_on(async {
        let db = Db::connect(&url, 4, Duration::from_secs(5)).await.expect("database");
        db.migrate().await.expect("migrations");
        let port = LocalBackend::new(db, LocalRules::default());
        for p in &data.existing {
            port.create_partner(p.clone()).await.expect("seed");
        }
        let input = ImportInput {
            alma: Some(data.alma_json.clone()),
            legacy: Some(data.legacy_csv.clone()),
        };
        let options = ImportOptions::default();
        let mut dry = Vec::new();
        let mut counts = None;
        for _ in 0..runs {
            let t = Instant::now();
            let report = run(&port, &input, &options, &|_| {}).await.expect("dry run");
            dry.push(t.elapsed());
            counts = Some(report.counts);
        }
        // The same against an empty database: the plan alone.
        let empty_url = format!("sqlite://{}/empty.db", dir.display());
        let empty = Db::connect(&empty_url, 1, Duration::from_secs(5)).await.expect("empty db");
        empty.migrate().await.expect("migrations");
        let empty = LocalBackend::new(empty, LocalRules::default());
        let mut plan_only = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            run(&empty, &input, &options, &|_| {}).await.expect("dry run");
            plan_only.push(t.elapsed());
        }
        if let Some(c) = counts {
            println!(
                "set: {} Alma users, {} CSV rows ({} + {} bytes) -> created {}, updated {}, unchanged {}, conflicts {}, rejected {}, merged {}",
                c.alma_records, c.legacy_rows, data.alma_json.len(), data.legacy_csv.len(),
                c.created, c.updated, c.unchanged, c.conflicts, c.rejected, c.merged
            );
        }
        (dry, plan_only)
    });
    let _ = std::fs::remove_dir_all(&dir);
    let (min, median) = stats(dry);
    let (pmin, pmedian) = stats(plan_only);
    println!("generate data set: {generated:.2?}");
    println!("dry run, SQLite with 40 partners ({runs} runs): min {min:.2?}, median {median:.2?}");
    println!("dry run, empty database ({runs} runs): min {pmin:.2?}, median {pmedian:.2?}");
}
