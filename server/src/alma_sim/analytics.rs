//! Alma Analytics' report API in the simulator:
//! `GET /almaws/v1/analytics/reports?path=…&limit=…` (the first page, with
//! a `ResumptionToken` and the rowset's schema) and `?token=…&limit=…` (the
//! next pages) until `IsFinished` is `true`, as Alma answers it: XML only,
//! the rowset in its default namespace, `Column0` a constant `0`, **an
//! empty value left out of its row**, `limit` a multiple of 25 from 25 to
//! 1000 (else Alma's error), an unknown path answered with "Path not
//! found", and, when a report is set to, a few "still loading" answers
//! (no rows, no token, not finished) before the first page.
//!
//! Reports are added with `POST /sim/analytics` (JSON: `path`, `columns`
//! of `{heading, type}`, `rows` of values or nulls, `loading_polls`); a
//! demo report of borrowing and lending per year (before Kauko) is there
//! from the start.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::state::SimState;

/// A report's column.
#[derive(Clone, Debug, Deserialize)]
pub struct SimColumn {
    pub heading: String,
    #[serde(rename = "type")]
    pub sql_type: String,
}

/// A report to serve.
#[derive(Clone, Debug, Deserialize)]
pub struct SimReport {
    pub path: String,
    pub columns: Vec<SimColumn>,
    pub rows: Vec<Vec<Option<String>>>,
    /// How many first asks answer "still loading".
    #[serde(default)]
    pub loading_polls: u32,
}

/// The reports and the pages handed out.
#[derive(Default)]
pub struct Reports {
    by_path: HashMap<String, SimReport>,
    /// Token → (path, the next row).
    tokens: HashMap<String, (String, usize)>,
    next_token: u64,
}

/// The demo report's path.
pub const DEMO_PATH: &str = "/shared/Kauko/Resource sharing per year";

impl Reports {
    pub fn with_demo() -> Self {
        let mut r = Reports::default();
        let col = |heading: &str, t: &str| SimColumn {
            heading: heading.into(),
            sql_type: t.into(),
        };
        // Figures of the years before Kauko (lending fell 21 %, 20 % and
        // 5 %; borrowing 9 %, 8 % and 6 %), as a library's yearly report.
        let years = [
            ("2019", "5200", "4680", "3100", "2790"),
            ("2020", "4108", "3620", "2821", "2510"),
            ("2021", "3286", "2950", "2595", "2330"),
            ("2022", "3122", "2800", "2439", "2200"),
        ];
        r.add(SimReport {
            path: DEMO_PATH.into(),
            columns: vec![
                col("Year", "varchar"),
                col("Lending Num of Requests", "double"),
                col("Lending Num of Requests Filled", "double"),
                col("Borrowing Num of Requests", "double"),
                col("Borrowing Num of Requests Filled", "double"),
            ],
            rows: years
                .iter()
                .map(|(y, l, lf, b, bf)| {
                    [y, l, lf, b, bf]
                        .iter()
                        .map(|v| Some(v.to_string()))
                        .collect()
                })
                .collect(),
            loading_polls: 0,
        });
        r
    }

    pub fn add(&mut self, report: SimReport) {
        self.by_path.insert(report.path.clone(), report);
    }
}

#[derive(Deserialize)]
pub struct Params {
    path: Option<String>,
    token: Option<String>,
    limit: Option<String>,
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/xml;charset=UTF-8")],
        body,
    )
        .into_response()
}

fn alma_error(message: &str) -> Response {
    xml(
        StatusCode::BAD_REQUEST,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><web_service_result xmlns=\"http://com/exlibris/urm/general/xmlbeans\"><errorsExist>true</errorsExist><errorList><error><errorCode>INTERNAL_SERVER_ERROR</errorCode><errorMessage>{}</errorMessage><trackingId>E01-SIM</trackingId></error></errorList></web_service_result>",
            quick_xml::escape::escape(message)
        ),
    )
}

fn page(report: &SimReport, from: usize, limit: usize, token: Option<&str>, first: bool) -> String {
    let to = (from + limit).min(report.rows.len());
    let finished = to >= report.rows.len();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><report><QueryResult>",
    );
    if let Some(t) = token.filter(|_| first) {
        out.push_str(&format!("<ResumptionToken>{t}</ResumptionToken>"));
    }
    out.push_str(&format!(
        "<IsFinished>{finished}</IsFinished><ResultXml><rowset xmlns=\"urn:schemas-microsoft-com:xml-analysis:rowset\">"
    ));
    if first {
        out.push_str("<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:saw-sql=\"urn:saw-sql\" targetNamespace=\"urn:schemas-microsoft-com:xml-analysis:rowset\"><xsd:complexType name=\"Row\"><xsd:sequence>");
        out.push_str("<xsd:element maxOccurs=\"1\" minOccurs=\"0\" name=\"Column0\" saw-sql:columnHeading=\"0\" saw-sql:type=\"integer\" type=\"xsd:int\"/>");
        for (i, c) in report.columns.iter().enumerate() {
            let xsd = match c.sql_type.as_str() {
                "integer" => "xsd:int",
                "double" => "xsd:double",
                "date" => "xsd:date",
                "timestamp" => "xsd:dateTime",
                _ => "xsd:string",
            };
            out.push_str(&format!(
                "<xsd:element maxOccurs=\"1\" minOccurs=\"0\" name=\"Column{}\" saw-sql:columnHeading=\"{}\" saw-sql:type=\"{}\" type=\"{xsd}\"/>",
                i + 1,
                quick_xml::escape::escape(&c.heading),
                quick_xml::escape::escape(&c.sql_type),
            ));
        }
        out.push_str("</xsd:sequence></xsd:complexType></xsd:schema>");
    }
    for row in &report.rows[from..to] {
        out.push_str("<Row><Column0>0</Column0>");
        for (i, value) in row.iter().enumerate() {
            // An empty value is left out.
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                out.push_str(&format!(
                    "<Column{n}>{}</Column{n}>",
                    quick_xml::escape::escape(v),
                    n = i + 1
                ));
            }
        }
        out.push_str("</Row>");
    }
    out.push_str("</rowset></ResultXml></QueryResult></report>");
    out
}

/// `GET /almaws/v1/analytics/reports`.
pub async fn reports(State(state): State<SimState>, Query(q): Query<Params>) -> Response {
    let limit = match q.limit.as_deref().map(str::parse::<usize>) {
        None => 25,
        Some(Ok(n)) if (25..=1000).contains(&n) && n % 25 == 0 => n,
        Some(_) => return alma_error("Limit must be a multiple of 25 between 25 and 1000"),
    };
    state.analytics(|r| {
        match (q.token, q.path) {
            (Some(token), _) => {
                let Some((path, from)) = r.tokens.get(&token).cloned() else {
                    return alma_error("Invalid token");
                };
                let Some(report) = r.by_path.get(&path) else {
                    return alma_error("Invalid token");
                };
                let body = page(report, from, limit, None, false);
                r.tokens.insert(token, (path, from + limit));
                xml(StatusCode::OK, body)
            }
            (None, Some(path)) => {
                let Some(report) = r.by_path.get_mut(&path) else {
                    return alma_error(&format!("Path not found ({path})"));
                };
                if report.loading_polls > 0 {
                    report.loading_polls -= 1;
                    return xml(
                        StatusCode::OK,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><report><QueryResult><IsFinished>false</IsFinished><ResultXml/></QueryResult></report>".into(),
                    );
                }
                r.next_token += 1;
                let token = format!("{:064X}", r.next_token);
                let body = page(report, 0, limit, Some(&token), true);
                r.tokens.insert(token, (path, limit));
                xml(StatusCode::OK, body)
            }
            (None, None) => alma_error("Either path or token is required"),
        }
    })
}

/// `POST /sim/analytics`: adds (or replaces) a report.
pub async fn add_report(
    State(state): State<SimState>,
    Json(report): Json<SimReport>,
) -> StatusCode {
    state.analytics(|r| r.add(report));
    StatusCode::NO_CONTENT
}
