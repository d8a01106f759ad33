//! What the storage benchmarks share: a size from the environment, a
//! fresh SQLite database, and a fresh PostgreSQL schema (dropped after),
//! when PostgreSQL answers.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use server::storage::Db;

/// A number from the environment, else `default`.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `bench` on a new SQLite database (migrated), then on a new
/// PostgreSQL schema (migrated, dropped after) if PostgreSQL answers.
pub async fn on_both<F, Fut>(bench: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let db = Db::connect(&url, 4, Duration::from_secs(5))
        .await
        .expect("sqlite");
    db.migrate().await.expect("migrations");
    println!("SQLite:");
    bench(db).await;

    match postgres_schema().await {
        Err(e) => println!("PostgreSQL: skipped (not reachable: {e})"),
        Ok(schema) => {
            let db = Db::connect(&schema.url, 4, Duration::from_secs(5))
                .await
                .expect("postgres");
            db.migrate().await.expect("migrations");
            println!("PostgreSQL:");
            bench(db.clone()).await;
            db.pool.close().await;
            schema.drop().await;
        }
    }
}

/// A new schema in the test PostgreSQL, for one benchmark.
pub struct PgSchema {
    /// A URL whose connections use the schema.
    pub url: String,
    name: String,
    admin: Db,
}

impl PgSchema {
    pub async fn drop(self) {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&self.admin.pool)
            .await
            .expect("drop");
    }
}

/// A new PostgreSQL schema, if PostgreSQL answers.
pub async fn postgres_schema() -> Result<PgSchema, String> {
    let base = std::env::var("KAUKO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin = Db::connect(&base, 1, Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;
    let name = format!("kauko_bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&admin.pool)
        .await
        .expect("schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(PgSchema {
        url: format!("{base}{sep}options[search_path]={name}"),
        name,
        admin,
    })
}

/// Refreshes the planner's statistics after filling.
pub async fn analyze(db: &Db) {
    match db.kind {
        server::storage::DbKind::Sqlite => db.analyze().await.expect("analyze"),
        server::storage::DbKind::Postgres => {
            sqlx::query("ANALYZE")
                .execute(&db.pool)
                .await
                .expect("analyze");
        }
    }
}
