//! Statistics on Kauko's database: each request of a period summarised from
//! its history in one grouped query per side (the milestones of
//! `app::stats::milestones` as the first time an event reached them), so
//! the figures are computed from a few thousand rows, not from every
//! event; and the CSV export of every chart's numbers
//! (`GET /staff/statistics/{side}/{chart}.csv?year=YYYY`).
//!
//! Nothing is precomputed: every figure is read from the append-only
//! history when asked, so it cannot go stale.

pub mod analytics;
pub mod import;

use std::sync::Arc;

use app::domain::history::Side;
use app::stats::{milestones, ImportedFigure, RequestSummary, StatisticsSource};
use app::viewer::Viewer;
use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Extension;
use sqlx::Row;

use crate::storage::{Db, DbKind};
use crate::web::AppState;

pub struct SqlStatistics {
    db: Db,
}

impl SqlStatistics {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The summaries grouped from the history at once (slower; what the
    /// milestones table must agree with).
    pub async fn summaries_from_history(
        &self,
        side: Side,
        from_year: i32,
        to_year: i32,
    ) -> Result<Vec<RequestSummary>, String> {
        self.read(&history_sql(side, self.db.kind), side, from_year, to_year)
            .await
    }

    async fn read(
        &self,
        sql: &str,
        side: Side,
        from_year: i32,
        to_year: i32,
    ) -> Result<Vec<RequestSummary>, String> {
        let rows = sqlx::query(sql)
            .bind(side.code())
            .bind(format!("{from_year:04}-01-01"))
            .bind(format!("{:04}-01-01", to_year + 1))
            .fetch_all(&self.db.pool)
            .await
            .map_err(|e| e.to_string())?;
        // Times arrive as microseconds since 1970 (worked out in SQL), so
        // tens of thousands of rows cost no text allocation or parsing.
        let at = |micros: i64| {
            chrono::DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| sqlx::Error::Decode(format!("bad time {micros}").into()))
        };
        let when = |row: &sqlx::any::AnyRow, col: &str| -> Result<_, sqlx::Error> {
            row.try_get::<Option<i64>, _>(col)?.map(at).transpose()
        };
        rows.iter()
            .map(|row| -> Result<RequestSummary, sqlx::Error> {
                Ok(RequestSummary {
                    created: at(row.try_get::<i64, _>("created_at")?)?,
                    kind: row.try_get("kind")?,
                    partner: row.try_get("partner_code")?,
                    sent: when(row, "sent_at")?,
                    shipped: when(row, "shipped_at")?,
                    received: when(row, "received_at")?,
                    unfilled: row.try_get::<i64, _>("unfilled")? > 0,
                    cancelled: row.try_get::<i64, _>("cancelled")? > 0,
                    reason: row.try_get("reason")?,
                    renewals: u32::try_from(row.try_get::<i64, _>("renewals")?).unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    }

    /// Stores imported figures; a year and measure imported again is
    /// replaced.
    pub async fn store_imported(
        &self,
        figures: &[ImportedFigure],
        by: &str,
    ) -> Result<(), sqlx::Error> {
        let now = crate::storage::ts(chrono::Utc::now());
        let mut tx = self.db.begin_write().await?;
        for f in figures {
            sqlx::query(
                "DELETE FROM imported_figures WHERE side = $1 AND year = $2 AND measure = $3",
            )
            .bind(f.side.code())
            .bind(i64::from(f.year))
            .bind(f.measure.clone())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO imported_figures (side, year, measure, value, source, imported_by, imported_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(f.side.code())
            .bind(i64::from(f.year))
            .bind(f.measure.clone())
            .bind(i64::try_from(f.value).unwrap_or(i64::MAX))
            .bind(f.source.clone())
            .bind(by.to_owned())
            .bind(now.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}

/// `'A', 'B'`: state codes (constants of the state models, never input).
fn codes(list: &[&str]) -> String {
    list.iter()
        .map(|c| format!("'{}'", c.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stored time (RFC 3339 text, UTC, microseconds: see
/// `storage::ts`) as microseconds since 1970, worked out by the database.
/// On SQLite, text of another length falls back to milliseconds.
fn micros(kind: DbKind, col: &str) -> String {
    match kind {
        DbKind::Sqlite => format!(
            "(CASE WHEN length({col}) = 27 \
               THEN unixepoch({col}) * 1000000 + CAST(substr({col}, 21, 6) AS INTEGER) \
               ELSE CAST(round((julianday({col}) - 2440587.5) * 86400000.0) AS INTEGER) * 1000 END)"
        ),
        DbKind::Postgres => {
            format!("CAST(EXTRACT(EPOCH FROM CAST({col} AS TIMESTAMPTZ)) * 1000000 AS BIGINT)")
        }
    }
}

/// Where a side's requests are: Kauko's own table, and on Alma the
/// mirror the sync keeps (whose history it writes): (table, id column,
/// extra condition).
fn request_tables(side: Side) -> [(&'static str, &'static str, &'static str); 2] {
    match side {
        Side::Borrowing => [
            ("borrowing_requests", "id", ""),
            ("alma_mirror_requests", "request_id", "AND r.gone = 0"),
        ],
        Side::Lending => [
            ("lending_requests", "id", ""),
            ("alma_mirror_lending", "request_id", ""),
        ],
    }
}

/// The summaries read from `request_milestones` (kept by a trigger on
/// every event; see its migration): one row per request, no grouping, in
/// no particular order (the figures do not depend on it).
fn milestones_sql(side: Side, kind: DbKind) -> String {
    request_tables(side)
        .map(|(table, id, only)| {
            format!(
                "SELECT {created} AS created_at, r.kind, r.partner_code, {sent} AS sent_at, \
                   {shipped} AS shipped_at, {received} AS received_at, \
                   COALESCE(m.unfilled, 0) AS unfilled, COALESCE(m.cancelled, 0) AS cancelled, m.reason, \
                   COALESCE(m.renewals, 0) AS renewals \
                 FROM {table} r LEFT JOIN request_milestones m ON m.side = $1 AND m.request_id = r.{id} \
                 WHERE r.created_at >= $2 AND r.created_at < $3 {only}",
                created = micros(kind, "r.created_at"),
                sent = micros(kind, "m.sent_at"),
                shipped = micros(kind, "m.shipped_at"),
                received = micros(kind, "m.received_at"),
            )
        })
        .join(" UNION ALL ")
}

/// The same summaries worked out from every event of the period at once
/// (the definition the milestones table must agree with).
fn history_sql(side: Side, kind: DbKind) -> String {
    let [sent, shipped, received, unfilled, cancelled] = milestones::of(side);
    let ended = codes(&[unfilled, cancelled].concat());
    let first = |codes_of: &[&str]| {
        micros(
            kind,
            &format!(
                "MIN(CASE WHEN e.to_state IN ({}) THEN e.at END)",
                codes(codes_of)
            ),
        )
    };
    request_tables(side)
        .map(|(table, id, only)| {
            format!(
                "SELECT {created} AS created_at, r.kind, r.partner_code, \
                   {sent_at} AS sent_at, {shipped_at} AS shipped_at, {received_at} AS received_at, \
                   COALESCE(MAX(CASE WHEN e.to_state IN ({unfilled}) THEN 1 ELSE 0 END), 0) AS unfilled, \
                   COALESCE(MAX(CASE WHEN e.to_state IN ({cancelled}) THEN 1 ELSE 0 END), 0) AS cancelled, \
                   MAX(CASE WHEN e.to_state IN ({ended}) AND (e.from_state IS NULL OR e.from_state <> e.to_state) THEN e.note END) AS reason, \
                   COALESCE(SUM(CASE WHEN e.action = '{renewal}' THEN 1 ELSE 0 END), 0) AS renewals \
                 FROM {table} r LEFT JOIN request_events e ON e.side = $1 AND e.request_id = r.{id} \
                 WHERE r.created_at >= $2 AND r.created_at < $3 {only} \
                 GROUP BY r.{id}, r.created_at, r.kind, r.partner_code",
                created = micros(kind, "r.created_at"),
                sent_at = first(sent),
                shipped_at = first(shipped),
                received_at = first(received),
                unfilled = codes(unfilled),
                cancelled = codes(cancelled),
                renewal = milestones::RENEWAL_GRANTED,
            )
        })
        .join(" UNION ALL ")
}

#[async_trait]
impl StatisticsSource for SqlStatistics {
    async fn summaries(
        &self,
        side: Side,
        from_year: i32,
        to_year: i32,
    ) -> Result<Vec<RequestSummary>, String> {
        self.read(
            &milestones_sql(side, self.db.kind),
            side,
            from_year,
            to_year,
        )
        .await
    }

    async fn years(&self) -> Result<Vec<i32>, String> {
        // The years that have requests, one index look-up per year (the
        // first request at or after each year's start) instead of reading
        // every request's date.
        let mut years = Vec::new();
        for table in [
            "borrowing_requests",
            "lending_requests",
            "alma_mirror_requests",
            "alma_mirror_lending",
        ] {
            let sql = format!("SELECT MIN(created_at) FROM {table} WHERE created_at >= $1");
            let mut from = String::from("0000");
            while let Some(first) = sqlx::query_scalar::<_, Option<String>>(&sql)
                .bind(from.clone())
                .fetch_one(&self.db.pool)
                .await
                .map_err(|e| e.to_string())?
            {
                let Some(year) = first.get(..4).and_then(|y| y.parse::<i32>().ok()) else {
                    break;
                };
                years.push(year);
                from = format!("{:04}-01-01", year + 1);
            }
        }
        years.sort_unstable_by(|a, b| b.cmp(a));
        years.dedup();
        Ok(years)
    }

    async fn imported(&self) -> Result<Vec<ImportedFigure>, String> {
        let rows = sqlx::query(
            "SELECT side, year, measure, value, source FROM imported_figures ORDER BY year DESC, side, measure",
        )
        .fetch_all(&self.db.pool)
        .await
        .map_err(|e| e.to_string())?;
        rows.iter()
            .map(|r| -> Result<Option<ImportedFigure>, sqlx::Error> {
                let side: String = r.try_get("side")?;
                Ok(Side::from_code(&side).map(|side| ImportedFigure {
                    side,
                    year: i32::try_from(r.try_get::<i64, _>("year").unwrap_or(0)).unwrap_or(0),
                    measure: r.try_get("measure").unwrap_or_default(),
                    value: u64::try_from(r.try_get::<i64, _>("value").unwrap_or(0)).unwrap_or(0),
                    source: r.try_get("source").unwrap_or_default(),
                }))
            })
            .filter_map(Result::transpose)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    }
}

#[derive(serde::Deserialize)]
pub struct CsvQuery {
    year: Option<i32>,
}

/// `GET /staff/statistics/{side}/{chart}.csv?year=YYYY`: a chart's numbers
/// (staff only), with the headings in the reader's language.
pub async fn csv(
    State(state): State<AppState>,
    Path((side, file)): Path<(String, String)>,
    Query(query): Query<CsvQuery>,
    viewer: Option<Extension<Viewer>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    if let Err(answer) = crate::auth::guard::staff_only(viewer) {
        return answer;
    }
    let Some(chart) = file.strip_suffix(".csv") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let stats = match app::stats::load(state.stats.as_ref(), query.year).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "statistics failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    // A side's chart, or (`alma/imported.csv`) the imported figures.
    let table = match (side.as_str(), Side::from_code(&side)) {
        ("alma", _) if chart == "imported" => Some(app::stats::imported_table(&stats.imported)),
        (_, Some(Side::Borrowing)) => stats.borrowing.tables().into_iter().find(|t| t.id == chart),
        (_, Some(Side::Lending)) => stats.lending.tables().into_iter().find(|t| t.id == chart),
        _ => None,
    };
    let Some(table) = table else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lang = app::site::lang_of_request(&uri, &headers, state.config.library.default_language);
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut heading = vec![app::i18n::t(lang, "stats.col.item")];
    heading.extend(table.columns.iter().map(|c| app::i18n::t(lang, c)));
    let mut rows = vec![heading];
    for (label, cells) in &table.rows {
        // A label a spreadsheet would read as a formula stays text (reasons
        // and partner names are typed by people).
        let label = app::stats::chart::label_text(lang, label);
        let mut row = vec![app::domain::csv::spreadsheet_safe(&label).into_owned()];
        row.extend(cells.iter().map(|c| c.plain()));
        rows.push(row);
    }
    for row in rows {
        if out.write_record(&row).is_err() {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let Ok(bytes) = out.into_inner() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // A byte-order mark, so spreadsheets read the file as UTF-8.
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(bytes);
    Response::builder()
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"kauko-{}-{}-{}.csv\"",
                side, table.id, stats.year
            ),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// The statistics source for the app's context.
pub fn source(db: &Db) -> Arc<dyn StatisticsSource> {
    Arc::new(SqlStatistics::new(db.clone()))
}
