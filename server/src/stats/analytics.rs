//! Alma Analytics: the report API (`GET /almaws/v1/analytics/reports`)
//! and its XML, for the years before Kauko and for what only Alma knows.
//!
//! A report comes in pages: the first (asked by `path`) carries a
//! `ResumptionToken` and the rowset's schema, the next ones are asked by
//! `token` until `IsFinished` is `true`; `limit` must be a multiple of 25
//! (25–1000). The rows are in the namespace
//! `urn:schemas-microsoft-com:xml-analysis:rowset` (usually as the default
//! namespace); each column is named in the schema (`ColumnN`, its heading
//! in `saw-sql:columnHeading`, its type in `saw-sql:type`); **an empty
//! value is left out of its row**, so rows are read by column name, never
//! by position. A report still being prepared answers with no rows, not
//! finished and no token: it is asked again after a pause.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

const ROWSET: &[u8] = b"urn:schemas-microsoft-com:xml-analysis:rowset";
const XSD: &[u8] = b"http://www.w3.org/2001/XMLSchema";
const SAW_SQL: &[u8] = b"urn:saw-sql";

/// A column of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// `Column0`, `Column1`, …
    pub name: String,
    /// The heading (`saw-sql:columnHeading`), else the name.
    pub heading: String,
    /// `saw-sql:type`: `varchar`, `integer`, `double`, `date`,
    /// `timestamp`, …
    pub sql_type: String,
}

/// A typed value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Integer(i64),
    Double(f64),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

impl Value {
    /// A value read as its column's type says (a value that does not fit
    /// stays text).
    pub fn typed(sql_type: &str, raw: &str) -> Value {
        let raw = raw.trim();
        let text = || Value::Text(raw.to_owned());
        match sql_type {
            "integer" | "int" | "smallint" | "bigint" => {
                raw.parse().map(Value::Integer).unwrap_or_else(|_| text())
            }
            "double" | "numeric" | "decimal" | "float" | "real" => {
                raw.parse().map(Value::Double).unwrap_or_else(|_| text())
            }
            "date" => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(Value::Date)
                .unwrap_or_else(|_| text()),
            "timestamp" => NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S")
                .map(Value::Timestamp)
                .unwrap_or_else(|_| text()),
            _ => text(),
        }
    }

    /// The value as a number, if it is one (a whole double included).
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Integer(n) => Some(*n as f64),
            Value::Double(d) => Some(*d),
            Value::Text(t) => t.trim().parse().ok(),
            _ => None,
        }
    }
}

/// One page of a report's answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub token: Option<String>,
    pub finished: bool,
    /// The schema's columns (the first page only).
    pub columns: Vec<Column>,
    /// Each row's values by column name (empty ones left out).
    pub rows: Vec<BTreeMap<String, String>>,
}

/// A whole report: its columns and its rows, typed, `None` where a value
/// was left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Option<Value>>>,
}

impl Report {
    /// The index of the column whose heading is `heading` (ignoring case
    /// and surrounding spaces).
    pub fn column(&self, heading: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.heading.trim().eq_ignore_ascii_case(heading.trim()))
    }
}

/// What went wrong with a report.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AnalyticsError {
    #[error("the report's XML could not be read: {0}")]
    Xml(String),
    /// Alma's error (e.g. "Path not found").
    #[error("Alma Analytics: {0}")]
    Alma(String),
    #[error("Alma Analytics could not be reached: {0}")]
    Http(String),
    #[error("the report was still being prepared after {0} tries")]
    NotReady(u32),
    #[error("the report has more than {0} pages")]
    TooLong(u32),
}

fn xml_error(e: impl std::fmt::Display) -> AnalyticsError {
    AnalyticsError::Xml(e.to_string())
}

/// Reads one page of Alma's answer (or its error).
pub fn parse_page(xml: &str) -> Result<Page, AnalyticsError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut page = Page::default();
    // Local names of the open elements, and what the text belongs to.
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut row: Option<BTreeMap<String, String>> = None;
    let mut cell: Option<String> = None;
    let mut text = String::new();
    let mut error_message: Option<String> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(xml_error)?;
        let in_ns = |want: &[u8]| matches!(&ns, ResolveResult::Bound(n) if n.as_ref() == want);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name().as_ref().to_vec();
                let empty = matches!(event, Event::Empty(_));
                if in_ns(XSD) && local == b"element" {
                    let mut column = Column {
                        name: String::new(),
                        heading: String::new(),
                        sql_type: String::new(),
                    };
                    for attr in e.attributes() {
                        let attr = attr.map_err(xml_error)?;
                        let value = attr
                            .decode_and_unescape_value(reader.decoder())
                            .map_err(xml_error)?
                            .into_owned();
                        let (attr_ns, local) = reader.resolve_attribute(attr.key);
                        let saw =
                            matches!(&attr_ns, ResolveResult::Bound(n) if n.as_ref() == SAW_SQL);
                        match (saw, local.as_ref()) {
                            (false, b"name") => column.name = value,
                            (true, b"columnHeading") => column.heading = value,
                            (true, b"type") => column.sql_type = value,
                            _ => {}
                        }
                    }
                    if column.name.starts_with("Column") {
                        if column.heading.is_empty() {
                            column.heading = column.name.clone();
                        }
                        page.columns.push(column);
                    }
                } else if in_ns(ROWSET) && local == b"Row" {
                    row = (!empty).then(BTreeMap::new);
                    if empty {
                        page.rows.push(BTreeMap::new());
                    }
                } else if in_ns(ROWSET) && row.is_some() && local.starts_with(b"Column") {
                    if !empty {
                        cell = Some(String::from_utf8_lossy(&local).into_owned());
                        text.clear();
                    }
                } else if !empty {
                    text.clear();
                }
                if !empty {
                    path.push(local);
                }
            }
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(xml_error)?);
            }
            Event::GeneralRef(r) => {
                // An entity in text (`&amp;`, `&#233;`).
                let name = r.decode().map_err(xml_error)?;
                let resolved = match name.as_ref() {
                    "amp" => Some("&".to_owned()),
                    "lt" => Some("<".to_owned()),
                    "gt" => Some(">".to_owned()),
                    "quot" => Some("\"".to_owned()),
                    "apos" => Some("'".to_owned()),
                    _ => r.resolve_char_ref().ok().flatten().map(|c| c.to_string()),
                };
                if let Some(s) = resolved {
                    text.push_str(&s);
                }
            }
            Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c)),
            Event::End(e) => {
                let local = e.local_name().as_ref().to_vec();
                path.pop();
                let parent = path.last().map(Vec::as_slice);
                match local.as_slice() {
                    b"ResumptionToken" if parent == Some(b"QueryResult") => {
                        page.token = Some(text.trim().to_owned()).filter(|t| !t.is_empty())
                    }
                    b"IsFinished" if parent == Some(b"QueryResult") => {
                        page.finished = text.trim().eq_ignore_ascii_case("true")
                    }
                    b"errorMessage" => error_message = Some(text.trim().to_owned()),
                    b"Row" if in_ns(ROWSET) => {
                        if let Some(r) = row.take() {
                            page.rows.push(r);
                        }
                    }
                    _ => {
                        if let (Some(name), Some(r)) = (cell.take(), row.as_mut()) {
                            if name.as_bytes() == local.as_slice() {
                                r.insert(name, text.clone());
                            }
                        }
                    }
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(message) = error_message {
        return Err(AnalyticsError::Alma(message));
    }
    Ok(page)
}

/// A `limit` Alma takes: a multiple of 25 from 25 to 1000.
pub fn round_limit(rows: u32) -> u32 {
    rows.clamp(25, 1000).div_ceil(25) * 25
}

/// Joins the pages of a report: the first page's columns, every page's
/// rows, typed.
pub fn join(pages: &[Page]) -> Report {
    let columns = pages
        .iter()
        .find(|p| !p.columns.is_empty())
        .map(|p| p.columns.clone())
        .unwrap_or_default();
    let rows = pages
        .iter()
        .flat_map(|p| &p.rows)
        .map(|row| {
            columns
                .iter()
                .map(|c| row.get(&c.name).map(|raw| Value::typed(&c.sql_type, raw)))
                .collect()
        })
        .collect();
    Report { columns, rows }
}

/// Reads reports from Alma's API (`alma.url`, `alma.api_key`).
pub struct AnalyticsClient {
    http: reqwest::Client,
    base: String,
    api_key: String,
    /// How long to wait before asking again for a report being prepared.
    pub retry_pause: Duration,
}

/// At most this many pages (1000 rows each: a million rows).
const MAX_PAGES: u32 = 1000;
/// Tries for a report still being prepared.
const MAX_TRIES: u32 = 10;

impl AnalyticsClient {
    pub fn new(base: &str, api_key: &str, timeout: Duration) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            retry_pause: Duration::from_secs(2),
        }
    }

    async fn get(&self, query: &[(&str, String)]) -> Result<Page, AnalyticsError> {
        let response = self
            .http
            .get(format!("{}/almaws/v1/analytics/reports", self.base))
            .header("Authorization", format!("apikey {}", self.api_key))
            .header("Accept", "application/xml")
            .query(query)
            .send()
            .await
            .map_err(|e| AnalyticsError::Http(e.without_url().to_string()))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| AnalyticsError::Http(e.without_url().to_string()))?;
        match parse_page(&body) {
            Err(AnalyticsError::Xml(_)) if !status.is_success() => {
                Err(AnalyticsError::Http(format!("HTTP {}", status.as_u16())))
            }
            other => other,
        }
    }

    /// The whole report at `path`, page by page.
    pub async fn report(&self, path: &str, rows_per_page: u32) -> Result<Report, AnalyticsError> {
        let limit = round_limit(rows_per_page).to_string();
        let mut tries = 0;
        let first = loop {
            let page = self
                .get(&[
                    ("path", path.to_owned()),
                    ("limit", limit.clone()),
                    ("col_names", "true".into()),
                ])
                .await?;
            // Still being prepared: nothing, not finished, no token.
            if page.finished || page.token.is_some() || !page.rows.is_empty() {
                break page;
            }
            tries += 1;
            if tries >= MAX_TRIES {
                return Err(AnalyticsError::NotReady(tries));
            }
            tokio::time::sleep(self.retry_pause).await;
        };
        let token = first.token.clone();
        let mut finished = first.finished;
        let mut pages = vec![first];
        while !finished {
            let Some(token) = token.clone() else {
                return Err(AnalyticsError::Xml("a page without a token".into()));
            };
            if pages.len() as u32 >= MAX_PAGES {
                return Err(AnalyticsError::TooLong(MAX_PAGES));
            }
            let page = self
                .get(&[("token", token), ("limit", limit.clone())])
                .await?;
            finished = page.finished;
            pages.push(page);
        }
        Ok(join(&pages))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_multiples_of_25() {
        assert_eq!(round_limit(0), 25);
        assert_eq!(round_limit(25), 25);
        assert_eq!(round_limit(26), 50);
        assert_eq!(round_limit(999), 1000);
        assert_eq!(round_limit(5000), 1000);
        for n in 0..2000 {
            assert_eq!(round_limit(n) % 25, 0);
        }
    }

    #[test]
    fn values_are_typed_by_the_schema() {
        assert_eq!(Value::typed("integer", "42"), Value::Integer(42));
        assert_eq!(Value::typed("double", "1234.5"), Value::Double(1234.5));
        assert_eq!(
            Value::typed("date", "2016-08-15"),
            Value::Date(NaiveDate::from_ymd_opt(2016, 8, 15).unwrap())
        );
        assert!(matches!(
            Value::typed("timestamp", "2016-08-15T15:26:30"),
            Value::Timestamp(_)
        ));
        assert_eq!(Value::typed("integer", "n/a"), Value::Text("n/a".into()));
        assert_eq!(Value::typed("varchar", " 0 "), Value::Text("0".into()));
        assert_eq!(Value::Double(12.0).number(), Some(12.0));
    }
}
