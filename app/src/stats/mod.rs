//! Statistics: the figures a library reports every year, computed from the
//! requests' histories (`request_events`), per side (borrowing, lending):
//! requests per year and month, by material type and partner, outcomes and
//! fill rate, turnaround (mean, median, 90th percentile) and the reasons
//! requests were cancelled or not filled, each with the year before beside
//! it. Everything of the capability is here: the definitions and the pure
//! computation (this module, shared by server and browser), the port
//! ([`StatisticsSource`], implemented on Kauko's database by
//! `server::stats`), the server function (`api`) and the page (`page`).
//!
//! **Definitions** (also written on the page, so a librarian can reconcile
//! them with Alma Analytics):
//! - A *request* counts in the year (and month, in UTC) it was created in
//!   Kauko, once, however many partners were asked in turn (Alma's "Num of
//!   Requests" counts one row per partner asked).
//! - *Filled*: borrowing, the item or copy reached the library or the
//!   patron (received, or lent to the patron, or the copy delivered);
//!   lending, the item was shipped or the copy sent. *Fill rate* = filled /
//!   requests of the year; requests still in progress count in the
//!   requests, not as filled.
//! - *Not filled* and *cancelled* are the requests that ended so, with the
//!   reason staff gave.
//! - *Turnaround* is measured in days (24 hours, to a tenth) between two
//!   events of a request's history, over the requests that reached both;
//!   the median of an even number is the mean of the middle two, the 90th
//!   percentile the smallest value at or above 90 % of them (nearest rank).
//! - A year's figures depend only on the requests created in it, so adding
//!   a later year never changes an earlier one.

pub mod api;
pub mod chart;
pub mod page;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::history::Side;
use crate::i18n::Lang;

/// How a request ended (so far).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Filled,
    Unfilled,
    Cancelled,
    InProgress,
}

/// The history events that mark a request's milestones, by state code.
pub mod milestones {
    /// Borrowing: sent to a partner.
    pub const BORROWING_SENT: [&str; 1] = ["REQUEST_SENT"];
    /// Borrowing: the partner shipped it.
    pub const BORROWING_SHIPPED: [&str; 2] = ["SHIPPED_PHYSICALLY", "SHIPPED_DIGITALLY"];
    /// Borrowing: it reached the library (or the patron).
    pub const BORROWING_RECEIVED: [&str; 3] =
        ["RECEIVED_PHYSICALLY", "RECEIVED_DIGITALLY", "LOANED"];
    /// Borrowing: ended unfilled.
    pub const BORROWING_UNFILLED: [&str; 3] = ["REJECTED", "EXPIRED", "LOCATE_FAILED"];
    /// Borrowing: ended cancelled.
    pub const BORROWING_CANCELLED: [&str; 3] = [
        "CANCELED_BY_PATRON",
        "CANCELED_BY_STAFF",
        "CANCELED_BY_PARTNER",
    ];
    /// Lending: accepted (will supply).
    pub const LENDING_SENT: [&str; 1] = ["WillSupply"];
    /// Lending: shipped, or the copy sent.
    pub const LENDING_SHIPPED: [&str; 2] = ["Loaned", "CopyCompleted"];
    /// Lending: the loan came back.
    pub const LENDING_RECEIVED: [&str; 1] = ["LoanCompleted"];
    pub const LENDING_UNFILLED: [&str; 1] = ["Unfilled"];
    pub const LENDING_CANCELLED: [&str; 1] = ["Cancelled"];
    /// The action that grants a renewal (both sides).
    pub const RENEWAL_GRANTED: &str = "grant_renewal";
    /// The action that sends a borrowing request to a partner.
    pub const SENT_TO_PARTNER: &str = "send_to_partner";

    /// The milestone codes of a side: sent, shipped, received, unfilled,
    /// cancelled.
    pub fn of(side: super::Side) -> [&'static [&'static str]; 5] {
        match side {
            super::Side::Borrowing => [
                &BORROWING_SENT,
                &BORROWING_SHIPPED,
                &BORROWING_RECEIVED,
                &BORROWING_UNFILLED,
                &BORROWING_CANCELLED,
            ],
            super::Side::Lending => [
                &LENDING_SENT,
                &LENDING_SHIPPED,
                &LENDING_RECEIVED,
                &LENDING_UNFILLED,
                &LENDING_CANCELLED,
            ],
        }
    }
}

/// One request as the statistics read it: when it was created, and the
/// first time its history reached each milestone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub created: DateTime<Utc>,
    /// `book`, `article`, `chapter`, … (none: not known).
    pub kind: Option<String>,
    /// Borrowing: the partner it went to last; lending: the requesting
    /// library.
    pub partner: Option<String>,
    pub sent: Option<DateTime<Utc>>,
    pub shipped: Option<DateTime<Utc>>,
    pub received: Option<DateTime<Utc>>,
    /// Whether the history reached an unfilled or a cancelled state, with
    /// the note given then.
    pub unfilled: bool,
    pub cancelled: bool,
    pub reason: Option<String>,
    pub renewals: u32,
}

impl RequestSummary {
    /// Filled wins over a later end (an item that came and went).
    pub fn outcome(&self, side: Side) -> Outcome {
        let filled = match side {
            Side::Borrowing => self.received.is_some(),
            Side::Lending => self.shipped.is_some(),
        };
        if filled {
            Outcome::Filled
        } else if self.cancelled {
            Outcome::Cancelled
        } else if self.unfilled {
            Outcome::Unfilled
        } else {
            Outcome::InProgress
        }
    }
}

/// A count this year and the year before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub now: u64,
    pub before: u64,
}

impl Count {
    /// The change from the year before, in per cent (none when there was
    /// nothing the year before).
    pub fn change(&self) -> Option<f64> {
        (self.before > 0)
            .then(|| (self.now as f64 - self.before as f64) / self.before as f64 * 100.0)
    }
}

/// The turnaround of one stretch of the process, in days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turnaround {
    /// The stretch's translation key (`stats.segment.…`).
    pub segment: String,
    /// Requests that went through it.
    pub n: u64,
    pub mean: f64,
    pub median: f64,
    pub p90: f64,
}

/// One side's figures for a year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SideFigures {
    pub side: Side,
    pub requests: Count,
    /// January to December.
    pub months: Vec<Count>,
    /// By material type (`book`, `article`, `chapter`, `other`).
    pub kinds: Vec<(String, Count)>,
    /// The partners with most requests this year (at most
    /// [`TOP_PARTNERS`]), then `""` for all the others together.
    pub partners: Vec<(String, u64)>,
    pub filled: Count,
    pub unfilled: Count,
    pub cancelled: Count,
    pub in_progress: Count,
    pub renewals: Count,
    pub turnaround: Vec<Turnaround>,
    /// Reasons given, most frequent first.
    pub unfilled_reasons: Vec<(String, u64)>,
    pub cancel_reasons: Vec<(String, u64)>,
}

impl SideFigures {
    /// Filled / requests this year, in per cent.
    pub fn fill_rate(&self) -> Option<f64> {
        rate(self.filled.now, self.requests.now)
    }

    pub fn fill_rate_before(&self) -> Option<f64> {
        rate(self.filled.before, self.requests.before)
    }
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64 * 100.0)
}

/// The figures of a year, both sides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    pub year: i32,
    /// Years that have requests, newest first (for the period picker).
    pub years: Vec<i32>,
    pub borrowing: SideFigures,
    pub lending: SideFigures,
    /// Yearly figures imported from Alma Analytics (kept apart).
    pub imported: Vec<ImportedFigure>,
}

/// A yearly figure imported from Alma Analytics (its API or an export),
/// for the years before Kauko. Alma's definitions apply (its "Num of
/// Requests" counts a row per partner asked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedFigure {
    pub side: Side,
    pub year: i32,
    /// `requests` or `filled`.
    pub measure: String,
    pub value: u64,
    /// Where it came from: the report's path or the file's name.
    pub source: String,
}

/// The imported measures, in the order shown.
pub const IMPORTED_MEASURES: [(Side, &str, &str); 4] = [
    (
        Side::Borrowing,
        "requests",
        "stats.imported.borrowing_requests",
    ),
    (Side::Borrowing, "filled", "stats.imported.borrowing_filled"),
    (Side::Lending, "requests", "stats.imported.lending_requests"),
    (Side::Lending, "filled", "stats.imported.lending_filled"),
];

/// The imported figures as a table: a row per year (newest first), a
/// column per measure.
pub fn imported_table(figures: &[ImportedFigure]) -> Table {
    let mut years: Vec<i32> = figures.iter().map(|f| f.year).collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    Table {
        id: "imported",
        title: "stats.imported.title",
        columns: IMPORTED_MEASURES.iter().map(|m| m.2).collect(),
        rows: years
            .into_iter()
            .map(|y| {
                let cells = IMPORTED_MEASURES
                    .iter()
                    .map(|(side, measure, _)| {
                        figures
                            .iter()
                            .find(|f| f.year == y && f.side == *side && f.measure == *measure)
                            .map_or(Cell::Missing, |f| Cell::Int(f.value))
                    })
                    .collect();
                (Label::Text(y.to_string()), cells)
            })
            .collect(),
    }
}

/// Partners named one by one; the rest are summed.
pub const TOP_PARTNERS: usize = 10;

/// The material types shown (anything else is `other`).
const KINDS: [&str; 3] = ["book", "article", "chapter"];

fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 86_400.0
}

/// Mean, median and 90th percentile (nearest rank) of `values`.
pub fn spread(mut values: Vec<f64>) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    // Nearest rank: the ceil(0.9 n)-th smallest.
    let rank = (n * 9).div_ceil(10).max(1);
    Some((mean, median, values[rank - 1]))
}

/// Counts of texts, most frequent first (then alphabetically).
fn tally<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<(String, u64)> {
    let mut map = std::collections::BTreeMap::<String, u64>::new();
    for t in texts {
        *map.entry(t.trim().to_owned()).or_default() += 1;
    }
    let mut out: Vec<_> = map.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// One side's figures for `year` from the summaries of the requests
/// created in `year` and in the year before (others are ignored).
pub fn figures(side: Side, year: i32, requests: &[RequestSummary]) -> SideFigures {
    let now: Vec<&RequestSummary> = requests
        .iter()
        .filter(|r| r.created.year() == year)
        .collect();
    let before: Vec<&RequestSummary> = requests
        .iter()
        .filter(|r| r.created.year() == year - 1)
        .collect();
    let count = |f: &dyn Fn(&RequestSummary) -> bool| Count {
        now: now.iter().filter(|r| f(r)).count() as u64,
        before: before.iter().filter(|r| f(r)).count() as u64,
    };
    let kind_of = |r: &RequestSummary| {
        r.kind
            .as_deref()
            .filter(|k| KINDS.contains(k))
            .unwrap_or("other")
            .to_owned()
    };
    let mut kinds: Vec<(String, Count)> = KINDS
        .iter()
        .chain(std::iter::once(&"other"))
        .map(|k| ((*k).to_owned(), count(&|r| kind_of(r) == *k)))
        .collect();
    kinds.retain(|(k, c)| KINDS.contains(&k.as_str()) || c.now + c.before > 0);

    let mut partners = tally(now.iter().filter_map(|r| r.partner.as_deref()));
    if partners.len() > TOP_PARTNERS {
        let rest: u64 = partners[TOP_PARTNERS..].iter().map(|p| p.1).sum();
        partners.truncate(TOP_PARTNERS);
        partners.push((String::new(), rest));
    }

    let outcome = |o: Outcome| count(&|r| r.outcome(side) == o);
    let stretch = |key: &str,
                   from: fn(&RequestSummary) -> Option<DateTime<Utc>>,
                   to: fn(&RequestSummary) -> Option<DateTime<Utc>>| {
        let values: Vec<f64> = now
            .iter()
            .filter_map(|r| Some(days(from(r)?, to(r)?)))
            .collect();
        let n = values.len() as u64;
        spread(values).map(|(mean, median, p90)| Turnaround {
            segment: key.to_owned(),
            n,
            mean,
            median,
            p90,
        })
    };
    let turnaround = match side {
        Side::Borrowing => vec![
            stretch(
                "stats.segment.created_shipped",
                |r| Some(r.created),
                |r| r.shipped,
            ),
            stretch(
                "stats.segment.shipped_received",
                |r| r.shipped,
                |r| r.received,
            ),
            stretch(
                "stats.segment.created_received",
                |r| Some(r.created),
                |r| r.received,
            ),
        ],
        Side::Lending => vec![
            stretch(
                "stats.segment.created_accepted",
                |r| Some(r.created),
                |r| r.sent,
            ),
            stretch(
                "stats.segment.created_shipped",
                |r| Some(r.created),
                |r| r.shipped,
            ),
            stretch(
                "stats.segment.shipped_returned",
                |r| r.shipped,
                |r| r.received,
            ),
        ],
    }
    .into_iter()
    .flatten()
    .collect();

    let reasons = |o: Outcome| {
        tally(
            now.iter()
                .filter(|r| r.outcome(side) == o)
                .filter_map(|r| r.reason.as_deref()),
        )
    };
    SideFigures {
        side,
        requests: count(&|_| true),
        months: (1..=12)
            .map(|m| count(&|r| r.created.month() == m))
            .collect(),
        kinds,
        partners,
        filled: outcome(Outcome::Filled),
        unfilled: outcome(Outcome::Unfilled),
        cancelled: outcome(Outcome::Cancelled),
        in_progress: outcome(Outcome::InProgress),
        renewals: Count {
            now: now.iter().map(|r| u64::from(r.renewals)).sum(),
            before: before.iter().map(|r| u64::from(r.renewals)).sum(),
        },
        turnaround,
        unfilled_reasons: reasons(Outcome::Unfilled),
        cancel_reasons: reasons(Outcome::Cancelled),
    }
}

/// The statistics port: the summaries of one side's requests created in
/// `[from_year, to_year]`, and the years that have requests.
#[async_trait::async_trait]
pub trait StatisticsSource: Send + Sync {
    async fn summaries(
        &self,
        side: Side,
        from_year: i32,
        to_year: i32,
    ) -> Result<Vec<RequestSummary>, String>;

    async fn years(&self) -> Result<Vec<i32>, String>;

    /// The figures imported from Alma Analytics.
    async fn imported(&self) -> Result<Vec<ImportedFigure>, String>;
}

/// The figures of `year` (none: the current year) from a source.
#[cfg(feature = "ssr")]
pub async fn load(source: &dyn StatisticsSource, year: Option<i32>) -> Result<Statistics, String> {
    let year = year
        .filter(|y| (1900..=9999).contains(y))
        .unwrap_or_else(|| Utc::now().year());
    // The reads are independent, a year and a side each: asked at once
    // (SQLite in WAL mode and PostgreSQL both serve readers side by side).
    let (mut borrowing, borrowing_now, mut lending, lending_now, mut years, imported) = futures::try_join!(
        source.summaries(Side::Borrowing, year - 1, year - 1),
        source.summaries(Side::Borrowing, year, year),
        source.summaries(Side::Lending, year - 1, year - 1),
        source.summaries(Side::Lending, year, year),
        source.years(),
        source.imported(),
    )?;
    borrowing.extend(borrowing_now);
    lending.extend(lending_now);
    if !years.contains(&year) {
        years.push(year);
    }
    years.sort_unstable_by(|a, b| b.cmp(a));
    Ok(Statistics {
        year,
        years,
        borrowing: figures(Side::Borrowing, year, &borrowing),
        lending: figures(Side::Lending, year, &lending),
        imported,
    })
}

/// A number in the language's format: `1 234,5` (fi, sv: a no-break space
/// between thousands, a decimal comma), `1,234.5` (en).
pub fn number(lang: Lang, value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (group, point) = match lang {
        Lang::En => (",", "."),
        Lang::Fi | Lang::Sv => ("\u{a0}", ","),
    };
    let digits: Vec<char> = int.chars().collect();
    let mut out = String::new();
    if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('\u{2212}');
    }
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(group);
        }
        out.push(*c);
    }
    if !frac.is_empty() {
        out.push_str(point);
        out.push_str(frac);
    }
    out
}

/// A whole number in the language's format.
pub fn int(lang: Lang, value: u64) -> String {
    number(lang, value as f64, 0)
}

/// A per cent figure: `12,5 %` (fi, sv), `12.5%` (en).
pub fn percent(lang: Lang, value: f64) -> String {
    let n = number(lang, value, 1);
    match lang {
        Lang::En => format!("{n}%"),
        Lang::Fi | Lang::Sv => format!("{n}\u{a0}%"),
    }
}

/// A change in per cent with its sign: `+21,0 %`, `−5,0 %`.
pub fn change(lang: Lang, value: f64) -> String {
    let sign = if value > 0.0 && number(lang, value, 1) != number(lang, 0.0, 1) {
        "+"
    } else {
        ""
    };
    format!("{sign}{}", percent(lang, value))
}

/// One of the page's tables: the numbers behind a chart, for the table
/// view and the CSV export alike.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The chart's id (`months`, `kinds`, …), also the CSV file's name.
    pub id: &'static str,
    /// Translation keys of the title and the columns.
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<(Label, Vec<Cell>)>,
}

/// A row's label: a translation key or a text as it is (a partner code, a
/// reason).
#[derive(Clone, Debug, PartialEq)]
pub enum Label {
    Key(String),
    Text(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Int(u64),
    /// Days, to a tenth.
    Days(f64),
    /// Per cent (none: no base).
    Percent(Option<f64>),
    /// No figure.
    Missing,
}

impl Cell {
    /// As shown on the page.
    pub fn show(self, lang: Lang) -> String {
        match self {
            Cell::Int(n) => int(lang, n),
            Cell::Days(d) => number(lang, d, 1),
            Cell::Percent(Some(p)) => percent(lang, p),
            Cell::Percent(None) | Cell::Missing => "–".into(),
        }
    }

    /// As written in CSV: plain numbers with a decimal point.
    pub fn plain(self) -> String {
        match self {
            Cell::Int(n) => n.to_string(),
            Cell::Days(d) => format!("{d:.1}"),
            Cell::Percent(Some(p)) => format!("{p:.1}"),
            Cell::Percent(None) | Cell::Missing => String::new(),
        }
    }

    /// The value a chart draws.
    pub fn value(self) -> f64 {
        match self {
            Cell::Int(n) => n as f64,
            Cell::Days(d) => d,
            Cell::Percent(p) => p.unwrap_or(0.0),
            Cell::Missing => 0.0,
        }
    }
}

/// The month names' keys.
pub const MONTHS: [&str; 12] = [
    "stats.month.1",
    "stats.month.2",
    "stats.month.3",
    "stats.month.4",
    "stats.month.5",
    "stats.month.6",
    "stats.month.7",
    "stats.month.8",
    "stats.month.9",
    "stats.month.10",
    "stats.month.11",
    "stats.month.12",
];

impl SideFigures {
    /// The tables (and so the charts and CSV files) of this side.
    pub fn tables(&self) -> Vec<Table> {
        let yoy = |c: Count| {
            vec![
                Cell::Int(c.now),
                Cell::Int(c.before),
                Cell::Percent(c.change()),
            ]
        };
        let yoy_cols = vec![
            "stats.col.this_year",
            "stats.col.year_before",
            "stats.col.change",
        ];
        let mut tables = vec![
            Table {
                id: "outcomes",
                title: "stats.chart.outcomes",
                columns: yoy_cols.clone(),
                rows: [
                    ("stats.row.requests", self.requests),
                    ("stats.row.filled", self.filled),
                    ("stats.row.unfilled", self.unfilled),
                    ("stats.row.cancelled", self.cancelled),
                    ("stats.row.in_progress", self.in_progress),
                    ("stats.row.renewals", self.renewals),
                ]
                .into_iter()
                .map(|(k, c)| (Label::Key(k.into()), yoy(c)))
                .chain(std::iter::once((
                    Label::Key("stats.row.fill_rate".into()),
                    vec![
                        Cell::Percent(self.fill_rate()),
                        Cell::Percent(self.fill_rate_before()),
                        Cell::Percent(None),
                    ],
                )))
                .collect(),
            },
            Table {
                id: "months",
                title: "stats.chart.months",
                columns: yoy_cols.clone(),
                rows: self
                    .months
                    .iter()
                    .zip(MONTHS)
                    .map(|(c, k)| (Label::Key(k.into()), yoy(*c)))
                    .collect(),
            },
            Table {
                id: "kinds",
                title: "stats.chart.kinds",
                columns: yoy_cols,
                rows: self
                    .kinds
                    .iter()
                    .map(|(k, c)| (Label::Key(format!("stats.kind.{k}")), yoy(*c)))
                    .collect(),
            },
            Table {
                id: "partners",
                title: match self.side {
                    Side::Borrowing => "stats.chart.partners",
                    Side::Lending => "stats.chart.libraries",
                },
                columns: vec!["stats.col.this_year"],
                rows: self
                    .partners
                    .iter()
                    .map(|(p, n)| {
                        let label = if p.is_empty() {
                            Label::Key("stats.partner.others".into())
                        } else {
                            Label::Text(p.clone())
                        };
                        (label, vec![Cell::Int(*n)])
                    })
                    .collect(),
            },
            Table {
                id: "turnaround",
                title: "stats.chart.turnaround",
                columns: vec![
                    "stats.col.median",
                    "stats.col.mean",
                    "stats.col.p90",
                    "stats.col.n",
                ],
                rows: self
                    .turnaround
                    .iter()
                    .map(|t| {
                        (
                            Label::Key(t.segment.clone()),
                            vec![
                                Cell::Days(t.median),
                                Cell::Days(t.mean),
                                Cell::Days(t.p90),
                                Cell::Int(t.n),
                            ],
                        )
                    })
                    .collect(),
            },
        ];
        for (id, title, reasons) in [
            (
                "unfilled",
                "stats.chart.unfilled_reasons",
                &self.unfilled_reasons,
            ),
            (
                "cancelled",
                "stats.chart.cancel_reasons",
                &self.cancel_reasons,
            ),
        ] {
            tables.push(Table {
                id,
                title,
                columns: vec!["stats.col.this_year"],
                rows: reasons
                    .iter()
                    .map(|(r, n)| (Label::Text(r.clone()), vec![Cell::Int(*n)]))
                    .collect(),
            });
        }
        tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn summary(created: DateTime<Utc>) -> RequestSummary {
        RequestSummary {
            created,
            kind: Some("book".into()),
            partner: None,
            sent: None,
            shipped: None,
            received: None,
            unfilled: false,
            cancelled: false,
            reason: None,
            renewals: 0,
        }
    }

    #[test]
    fn spread_is_mean_median_and_nearest_rank_p90() {
        assert_eq!(spread(vec![]), None);
        assert_eq!(spread(vec![4.0]), Some((4.0, 4.0, 4.0)));
        let (mean, median, p90) = spread((1..=10).map(f64::from).collect()).unwrap();
        assert_eq!((mean, median, p90), (5.5, 5.5, 9.0));
        let (_, median, p90) = spread((1..=11).rev().map(f64::from).collect()).unwrap();
        assert_eq!((median, p90), (6.0, 10.0));
    }

    #[test]
    fn a_year_counts_its_own_requests_beside_the_year_before() {
        let mut all = Vec::new();
        for m in 1..=12 {
            all.push(summary(at(2025, m, 10, 12)));
        }
        for m in 1..=6 {
            all.push(summary(at(2024, m, 10, 12)));
        }
        // A later year's requests change nothing of 2025.
        let before = figures(Side::Borrowing, 2025, &all);
        all.push(summary(at(2026, 1, 1, 0)));
        assert_eq!(figures(Side::Borrowing, 2025, &all), before);
        assert_eq!(before.requests, Count { now: 12, before: 6 });
        assert_eq!(before.requests.change(), Some(100.0));
        assert_eq!(before.months[0], Count { now: 1, before: 1 });
        assert_eq!(before.months[11], Count { now: 1, before: 0 });
        assert_eq!(before.in_progress.now, 12);
        assert_eq!(before.fill_rate(), Some(0.0));
    }

    #[test]
    fn filled_wins_and_turnaround_is_in_days() {
        let mut r = summary(at(2025, 3, 1, 0));
        r.sent = Some(at(2025, 3, 1, 12));
        r.shipped = Some(at(2025, 3, 3, 0));
        r.received = Some(at(2025, 3, 5, 0));
        r.cancelled = true;
        assert_eq!(r.outcome(Side::Borrowing), Outcome::Filled);
        let f = figures(Side::Borrowing, 2025, &[r]);
        assert_eq!(f.filled.now, 1);
        assert_eq!(f.turnaround[0].median, 2.0);
        assert_eq!(f.turnaround[1].median, 2.0);
        assert_eq!(f.turnaround[2].mean, 4.0);
    }

    #[test]
    fn partners_beyond_the_top_are_summed() {
        let all: Vec<_> = (0..15)
            .map(|i| {
                let mut r = summary(at(2025, 1, 1, 0));
                r.partner = Some(format!("P{:02}", i % 12));
                r
            })
            .collect();
        let f = figures(Side::Lending, 2025, &all);
        assert_eq!(f.partners.len(), TOP_PARTNERS + 1);
        assert_eq!(f.partners[0], ("P00".into(), 2));
        assert_eq!(f.partners.last().unwrap(), &(String::new(), 2));
        assert_eq!(f.partners.iter().map(|p| p.1).sum::<u64>(), 15);
    }

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(number(Lang::Fi, 1234.5, 1), "1\u{a0}234,5");
        assert_eq!(number(Lang::En, 1234.5, 1), "1,234.5");
        assert_eq!(number(Lang::Sv, 1_234_567.0, 0), "1\u{a0}234\u{a0}567");
        assert_eq!(number(Lang::Fi, -21.0, 1), "\u{2212}21,0");
        assert_eq!(number(Lang::En, -0.01, 1), "0.0");
        assert_eq!(percent(Lang::Fi, 12.5), "12,5\u{a0}%");
        assert_eq!(percent(Lang::En, 12.5), "12.5%");
        assert_eq!(change(Lang::En, 21.0), "+21.0%");
        assert_eq!(change(Lang::Fi, -5.0), "\u{2212}5,0\u{a0}%");
        assert_eq!(change(Lang::En, 0.0), "0.0%");
        assert_eq!(int(Lang::En, 999), "999");
        assert_eq!(int(Lang::En, 1000), "1,000");
    }

    #[test]
    fn every_table_has_a_cell_per_column() {
        let mut r = summary(at(2025, 3, 1, 0));
        r.cancelled = true;
        r.reason = Some("ei tarvita".into());
        let f = figures(Side::Borrowing, 2025, &[r]);
        for t in f.tables() {
            for (_, cells) in &t.rows {
                assert_eq!(cells.len(), t.columns.len(), "{}", t.id);
            }
        }
        assert_eq!(f.cancel_reasons, vec![("ei tarvita".to_owned(), 1)]);
    }
}
