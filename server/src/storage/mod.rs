//! Kauko's database: SQLite by default (a file, created and migrated at
//! start), PostgreSQL when several server instances share one. Queries are
//! written once in SQL both understand (`$1` placeholders, TEXT and BIGINT
//! columns) and run through sqlx's `Any` driver; migrations are kept per
//! dialect so they can diverge where they must.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::config::{redact_url, ConfigError, DatabaseConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// A pool on Kauko's database.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub kind: DbKind,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects (creating a SQLite file and its folder when needed) and runs
    /// the migrations. Errors name the `database.url` key.
    pub async fn open(config: &DatabaseConfig) -> Result<Self, ConfigError> {
        let db = Self::connect(
            &config.url,
            config.max_connections,
            Duration::from_secs(config.connect_timeout_seconds),
        )
        .await?;
        db.migrate().await.map_err(|e| {
            ConfigError::new(
                "database.url",
                format!("migrating {} failed: {e}", redact_url(&config.url)),
            )
        })?;
        Ok(db)
    }

    pub async fn connect(
        url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        sqlx::any::install_default_drivers();
        let fail = |e: &dyn std::fmt::Display| {
            ConfigError::new(
                "database.url",
                format!("cannot connect to {}: {e}", redact_url(url)),
            )
        };
        let (kind, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let file = path.split('?').next().unwrap_or(path);
            if file != ":memory:" && !file.is_empty() {
                if let Some(parent) = std::path::Path::new(file)
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
                }
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = if path.contains("mode=") {
                format!("sqlite://{path}")
            } else {
                format!("sqlite://{path}{sep}mode=rwc")
            };
            (DbKind::Sqlite, url)
        } else {
            (DbKind::Postgres, url.to_owned())
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if kind == DbKind::Sqlite { max_connections.min(8) } else { max_connections })
            .acquire_timeout(timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if kind == DbKind::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| fail(&e))?;
        Ok(Self { pool, kind })
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), waiting up to the busy timeout for another
    /// writer; a deferred transaction that has read first cannot wait and
    /// fails with "database is locked" when another writer got in between.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.kind {
            DbKind::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            DbKind::Postgres => self.pool.begin().await,
        }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.kind {
            DbKind::Sqlite => {
                SQLITE_MIGRATIONS.run(&self.pool).await?;
                // Gives SQLite's planner statistics where they are stale
                // (PostgreSQL's autovacuum does this by itself), so the
                // desk's queues pick their indexes.
                let _ = sqlx::query("PRAGMA optimize").execute(&self.pool).await;
                Ok(())
            }
            DbKind::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }

    /// Refreshes the planner's statistics (after a bulk load).
    pub async fn analyze(&self) -> Result<(), sqlx::Error> {
        sqlx::query("ANALYZE").execute(&self.pool).await.map(|_| ())
    }

    /// A round trip to the database (for readiness checks).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        let row: AnyRow = sqlx::query("SELECT 1 AS one").fetch_one(&self.pool).await?;
        let one: i64 = row
            .try_get::<i64, _>("one")
            .or_else(|_| row.try_get::<i32, _>("one").map(i64::from))?;
        if one == 1 {
            Ok(())
        } else {
            Err(sqlx::Error::Protocol("SELECT 1 did not return 1".into()))
        }
    }
}

/// Timestamps are stored as RFC 3339 text in UTC with microseconds, so that
/// text order is time order in both databases.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn parse_ts(s: &str) -> Result<chrono::DateTime<chrono::Utc>, sqlx::Error> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| sqlx::Error::Decode(format!("bad timestamp {s:?}: {e}").into()))
}

pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, sqlx::Error> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| sqlx::Error::Decode(format!("bad date {s:?}: {e}").into()))
}

pub fn json_col<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}
