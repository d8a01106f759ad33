//! Yearly figures from Alma Analytics for the statistics page: fetched
//! from a report through the API (`POST /staff/statistics/import-alma`,
//! with `alma.url` and `alma.api_key`) or read from an uploaded export of
//! such a report, XML or CSV (`POST /staff/statistics/import`). Both are
//! plain forms that come back to the page with what was imported or why
//! not.
//!
//! The report needs a year column (a heading with "Year") and measure
//! columns whose headings say the side ("Borrowing"/"Lending", or the side
//! picked in the form) and the measure: "… Num of Requests" or "… Filled"
//! ("Non-fulfilled" and other columns are left out). Rows of one year are
//! summed (a report by month gives the year).

use std::collections::BTreeMap;
use std::time::Duration;

use app::domain::history::Side;
use app::stats::ImportedFigure;
use app::viewer::Viewer;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{header, Response, StatusCode};
use axum::{Extension, Form};

use super::analytics::{join, parse_page, AnalyticsClient, Column, Report, Value};
use super::SqlStatistics;
use crate::web::AppState;

/// The figures a report holds, or the translation key of why none.
pub fn figures_from_report(
    report: &Report,
    side: Option<Side>,
    source: &str,
) -> Result<Vec<ImportedFigure>, &'static str> {
    let year_col = report
        .columns
        .iter()
        .position(|c| {
            let h = c.heading.to_lowercase();
            h.contains("year") || h.contains("vuosi") || h == "år"
        })
        .ok_or("stats.import.no_year")?;
    let mut measures: Vec<(usize, Side, &'static str)> = Vec::new();
    for (i, c) in report.columns.iter().enumerate() {
        if i == year_col {
            continue;
        }
        let h = c.heading.to_lowercase();
        if h.contains("non-") || h.contains("not ") || h.contains("days") {
            continue;
        }
        let Some(col_side) = (if h.contains("lending") {
            Some(Side::Lending)
        } else if h.contains("borrowing") {
            Some(Side::Borrowing)
        } else {
            side
        }) else {
            continue;
        };
        let measure = if h.contains("filled") {
            "filled"
        } else if h.contains("request") {
            "requests"
        } else {
            continue;
        };
        measures.push((i, col_side, measure));
    }
    if measures.is_empty() {
        return Err("stats.import.nothing");
    }
    let mut sums = BTreeMap::<(i32, &str, &str), f64>::new();
    for row in &report.rows {
        let year = match row.get(year_col).and_then(Option::as_ref) {
            Some(Value::Integer(y)) => i32::try_from(*y).ok(),
            Some(Value::Double(y)) => Some(*y as i32),
            Some(Value::Text(t)) => t.get(..4).and_then(|y| y.parse().ok()),
            Some(Value::Date(d)) => Some(chrono::Datelike::year(d)),
            Some(Value::Timestamp(t)) => Some(chrono::Datelike::year(t)),
            None => None,
        };
        let Some(year) = year.filter(|y| (1900..=2100).contains(y)) else {
            continue;
        };
        for (i, s, m) in &measures {
            if let Some(n) = row.get(*i).and_then(Option::as_ref).and_then(Value::number) {
                *sums.entry((year, s.code(), m)).or_default() += n;
            }
        }
    }
    if sums.is_empty() {
        return Err("stats.import.nothing");
    }
    Ok(sums
        .into_iter()
        .filter_map(|((year, side, measure), value)| {
            Some(ImportedFigure {
                side: Side::from_code(side)?,
                year,
                measure: measure.to_owned(),
                value: value.round().max(0.0) as u64,
                source: source.to_owned(),
            })
        })
        .collect())
}

/// A CSV export read as a report (the first line holds the headings).
pub fn report_from_csv(text: &str) -> Result<Report, &'static str> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headings = reader
        .headers()
        .map_err(|_| "stats.import.unreadable")?
        .clone();
    let columns = headings
        .iter()
        .enumerate()
        .map(|(i, h)| Column {
            name: format!("Column{i}"),
            heading: h.trim().to_owned(),
            sql_type: "varchar".into(),
        })
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|_| "stats.import.unreadable")?;
        rows.push(
            (0..headings.len())
                .map(|i| {
                    record
                        .get(i)
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| Value::Text(v.replace(['\u{a0}', ' '], "").replace(',', ".")))
                })
                .collect(),
        );
    }
    Ok(Report { columns, rows })
}

fn back(query: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(
            header::LOCATION,
            format!("/staff/statistics?{query}#imported"),
        )
        .body(Body::empty())
        .unwrap_or_default()
}

async fn store(state: &AppState, figures: &[ImportedFigure], by: &Viewer) -> Response<Body> {
    match SqlStatistics::new(state.db.clone())
        .store_imported(figures, &by.user_id)
        .await
    {
        Ok(()) => {
            tracing::info!(
                figures = figures.len(),
                "figures imported from Alma Analytics"
            );
            back(&format!("imported={}", figures.len()))
        }
        Err(e) => {
            tracing::error!(error = %e, "storing imported figures failed");
            back("import_error=stats.import.failed")
        }
    }
}

fn side_of(value: &str) -> Option<Side> {
    Side::from_code(value.trim())
}

/// `POST /staff/statistics/import`: an uploaded Analytics export.
pub async fn upload(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    mut form: Multipart,
) -> Response<Body> {
    let by = match crate::auth::guard::staff_only(viewer) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut side = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("side") => side = field.text().await.ok().as_deref().and_then(side_of),
            Some("file") => {
                let name = field.file_name().unwrap_or("export").to_owned();
                match field.bytes().await {
                    Ok(b) => file = Some((name, b.to_vec())),
                    Err(_) => return back("import_error=stats.import.unreadable"),
                }
            }
            _ => {}
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return back("import_error=stats.import.no_file");
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return back("import_error=stats.import.unreadable");
    };
    let report = if text.trim_start().starts_with('<') {
        parse_page(&text)
            .map(|page| join(&[page]))
            .map_err(|_| "stats.import.unreadable")
    } else {
        report_from_csv(&text)
    };
    let name: String = name.chars().filter(|c| !c.is_control()).take(120).collect();
    match report.and_then(|r| figures_from_report(&r, side, &name)) {
        Ok(figures) => store(&state, &figures, &by).await,
        Err(key) => back(&format!("import_error={key}")),
    }
}

#[derive(serde::Deserialize)]
pub struct AlmaImport {
    path: String,
    #[serde(default)]
    side: String,
}

/// `POST /staff/statistics/import-alma`: a report fetched from Alma
/// Analytics.
pub async fn from_alma(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    Form(form): Form<AlmaImport>,
) -> Response<Body> {
    let by = match crate::auth::guard::staff_only(viewer) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let path = form.path.trim();
    if path.is_empty() || path.len() > 500 {
        return back("import_error=stats.import.no_path");
    }
    let alma = &state.config.alma;
    let (Some(url), Some(key)) = (alma.url.as_deref(), alma.api_key.as_deref()) else {
        return back("import_error=stats.import.no_alma");
    };
    let client = AnalyticsClient::new(
        url,
        key,
        Duration::from_secs(alma.read_timeout_seconds.max(30)),
    );
    let report = match client.report(path, 1000).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "importing from Alma Analytics failed");
            return back("import_error=stats.import.alma_failed");
        }
    };
    match figures_from_report(&report, side_of(&form.side), path) {
        Ok(figures) => store(&state, &figures, &by).await,
        Err(key) => back(&format!("import_error={key}")),
    }
}
