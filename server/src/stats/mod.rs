//! Statistics on Kauko's database: each request of a period with its
//! milestones (`request_milestones`, kept by a trigger on every history
//! event: first sent, shipped, received; ended unfilled or cancelled;
//! renewals), Kauko's own requests and, on Alma, those of the mirrors the
//! sync keeps; one JSON array per query, so the figures are computed from
//! a few thousand requests, not from every event; and the CSV export of
//! every chart's numbers (`GET /staff/statistics/{side}/{chart}.csv?year=YYYY`).
//!
//! The milestones change in the same transaction as the history, so the
//! figures cannot go stale; `summaries_from_history` works them out from
//! every event at once, and the tests check that both agree.

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

use crate::storage::{parse_ts, Db, DbKind};
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
        self.read(&history_sql(side), side, from_year, to_year)
            .await
    }

    /// Runs a summaries query (`sql`: one row per request) and reads its
    /// rows as one JSON array the database builds (`json_group_array`,
    /// `json_agg`): tens of thousands of requests cross the driver as one
    /// value instead of row by row, which was most of the page's time.
    async fn read(
        &self,
        sql: &str,
        side: Side,
        from_year: i32,
        to_year: i32,
    ) -> Result<Vec<RequestSummary>, String> {
        let columns =
            "q.created_at, q.kind, q.partner_code, q.sent_at, q.shipped_at, q.received_at, \
                       q.unfilled, q.cancelled, q.reason, q.renewals";
        let all = match self.db.kind {
            DbKind::Sqlite => format!("SELECT json_group_array(json_array({columns})) FROM ({sql}) q"),
            DbKind::Postgres => format!(
                "SELECT COALESCE(CAST(json_agg(json_build_array({columns})) AS TEXT), '[]') FROM ({sql}) q"
            ),
        };
        let json: String = sqlx::query_scalar(&all)
            .bind(side.code())
            .bind(format!("{from_year:04}-01-01"))
            .bind(format!("{:04}-01-01", to_year + 1))
            .fetch_one(&self.db.pool)
            .await
            .map_err(|e| e.to_string())?;
        type Row = (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            i64,
            Option<String>,
            i64,
        );
        let rows: Vec<Row> = serde_json::from_str(&json).map_err(|e| e.to_string())?;
        let when = |t: Option<String>| t.as_deref().map(parse_ts).transpose();
        rows.into_iter()
            .map(
                |(
                    created,
                    kind,
                    partner,
                    sent,
                    shipped,
                    received,
                    unfilled,
                    cancelled,
                    reason,
                    renewals,
                )| {
                    Ok(RequestSummary {
                        created: parse_ts(&created)?,
                        kind,
                        partner,
                        sent: when(sent)?,
                        shipped: when(shipped)?,
                        received: when(received)?,
                        unfilled: unfilled > 0,
                        cancelled: cancelled > 0,
                        reason,
                        renewals: u32::try_from(renewals).unwrap_or(0),
                    })
                },
            )
            .collect::<Result<Vec<_>, sqlx::Error>>()
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
fn milestones_sql(side: Side) -> String {
    request_tables(side)
        .map(|(table, id, only)| {
            format!(
                "SELECT r.created_at, r.kind, r.partner_code, m.sent_at, m.shipped_at, m.received_at, \
                   COALESCE(m.unfilled, 0) AS unfilled, COALESCE(m.cancelled, 0) AS cancelled, m.reason, \
                   COALESCE(m.renewals, 0) AS renewals \
                 FROM {table} r LEFT JOIN request_milestones m ON m.side = $1 AND m.request_id = r.{id} \
                 WHERE r.created_at >= $2 AND r.created_at < $3 {only}"
            )
        })
        .join(" UNION ALL ")
}

/// The same summaries worked out from every event of the period at once
/// (the definition the milestones table must agree with).
fn history_sql(side: Side) -> String {
    let [sent, shipped, received, unfilled, cancelled] = milestones::of(side);
    let ended = codes(&[unfilled, cancelled].concat());
    let first = |codes_of: &[&str]| {
        format!(
            "MIN(CASE WHEN e.to_state IN ({}) THEN e.at END)",
            codes(codes_of)
        )
    };
    request_tables(side)
        .map(|(table, id, only)| {
            format!(
                "SELECT r.created_at, r.kind, r.partner_code, \
                   {sent_at} AS sent_at, {shipped_at} AS shipped_at, {received_at} AS received_at, \
                   COALESCE(MAX(CASE WHEN e.to_state IN ({unfilled}) THEN 1 ELSE 0 END), 0) AS unfilled, \
                   COALESCE(MAX(CASE WHEN e.to_state IN ({cancelled}) THEN 1 ELSE 0 END), 0) AS cancelled, \
                   MAX(CASE WHEN e.to_state IN ({ended}) AND (e.from_state IS NULL OR e.from_state <> e.to_state) THEN e.note END) AS reason, \
                   COALESCE(SUM(CASE WHEN e.action = '{renewal}' THEN 1 ELSE 0 END), 0) AS renewals \
                 FROM {table} r LEFT JOIN request_events e ON e.side = $1 AND e.request_id = r.{id} \
                 WHERE r.created_at >= $2 AND r.created_at < $3 {only} \
                 GROUP BY r.{id}, r.created_at, r.kind, r.partner_code",
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
        self.read(&milestones_sql(side), side, from_year, to_year)
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
