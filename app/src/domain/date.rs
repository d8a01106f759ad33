//! Calendar dates as the patron pages carry and show them: `YYYY-MM-DD` on
//! the wire and in links, and each language's way of writing a date.
//!
//! chrono's own text parsing and `strftime` formatting handle any pattern,
//! and the browser's wasm would carry all of it for these few dates (issue
//! 14), so the patron pages' types read and write dates here instead. The
//! wire format is the one chrono's serde uses (`2026-03-05`), so either side
//! reads what the other wrote.

use chrono::{Datelike, NaiveDate};
use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

use crate::i18n::Lang;

/// Reads `YYYY-MM-DD` (month and day may have one digit); `None` for
/// anything else or a date that does not exist.
pub fn parse_ymd(text: &str) -> Option<NaiveDate> {
    let mut parts = text.trim().split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.next().is_some()
        || !digits(year, 4..=4)
        || !digits(month, 1..=2)
        || !digits(day, 1..=2)
    {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

/// What a wire date that [`parse_ymd`] cannot read is told.
const NOT_A_DATE: &str = "expected a date as YYYY-MM-DD";

/// Writes `YYYY-MM-DD`.
pub fn format_ymd(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date as people write it in each language: `5.3.2026`, `2026-03-05`,
/// `5 Mar 2026`.
pub fn format_date(lang: Lang, date: NaiveDate) -> String {
    match lang {
        Lang::Fi => format!("{}.{}.{}", date.day(), date.month(), date.year()),
        Lang::Sv => format_ymd(date),
        Lang::En => format!(
            "{} {} {:04}",
            date.day(),
            MONTHS_EN[date.month0() as usize],
            date.year()
        ),
    }
}

/// `#[serde(with = "crate::domain::date::ymd")]` for a `NaiveDate`.
pub mod ymd {
    use super::*;

    pub fn serialize<S: Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_ymd(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(d)?;
        parse_ymd(&text).ok_or_else(|| D::Error::custom(NOT_A_DATE))
    }
}

/// `#[serde(with = "crate::domain::date::ymd_opt")]` for an
/// `Option<NaiveDate>` (`null` for none).
pub mod ymd_opt {
    use super::*;

    pub fn serialize<S: Serializer>(date: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => s.serialize_str(&format_ymd(*date)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse_ymd(&text)
                .map(Some)
                .ok_or_else(|| D::Error::custom(NOT_A_DATE)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn reads_what_chrono_reads_for_these_dates() {
        for text in [
            "2026-03-05",
            "2026-12-31",
            "2024-02-29",
            "0999-01-01",
            "2026-3-5",
        ] {
            assert_eq!(
                parse_ymd(text),
                NaiveDate::parse_from_str(text, "%Y-%m-%d").ok(),
                "{text}"
            );
        }
        for bad in [
            "",
            "2026",
            "2026-03",
            "2026-02-30",
            "2026-13-01",
            "26-03-05",
            "2026-03-05-1",
            "2026-03-x5",
            "2026-003-05",
            "+2026-03-05",
            "2026/03/05",
        ] {
            assert_eq!(parse_ymd(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_what_chrono_writes() {
        for date in [d(2026, 3, 5), d(2026, 12, 31), d(999, 1, 1)] {
            assert_eq!(format_ymd(date), date.format("%Y-%m-%d").to_string());
            assert_eq!(
                format_date(Lang::Sv, date),
                date.format("%Y-%m-%d").to_string()
            );
            assert_eq!(
                format_date(Lang::En, date),
                date.format("%-d %b %Y").to_string()
            );
        }
        for month in 1..=12 {
            let date = d(2026, month, 1);
            assert_eq!(
                format_date(Lang::En, date),
                date.format("%-d %b %Y").to_string()
            );
        }
        let d = d(2026, 3, 5);
        assert_eq!(format_date(Lang::Fi, d), "5.3.2026");
        assert_eq!(format_date(Lang::Sv, d), "2026-03-05");
        assert_eq!(format_date(Lang::En, d), "5 Mar 2026");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        #[serde(with = "ymd")]
        on: NaiveDate,
        #[serde(with = "ymd_opt")]
        due: Option<NaiveDate>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct ChronoRow {
        on: NaiveDate,
        due: Option<NaiveDate>,
    }

    #[test]
    fn the_wire_format_is_chronos() {
        let row = Row {
            on: d(2026, 3, 5),
            due: Some(d(2026, 4, 1)),
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(json, r#"{"on":"2026-03-05","due":"2026-04-01"}"#);
        let chrono: ChronoRow = serde_json::from_str(&json).unwrap();
        assert_eq!((chrono.on, chrono.due), (row.on, row.due));
        assert_eq!(serde_json::to_string(&chrono).unwrap(), json);
        let none = r#"{"on":"2026-03-05","due":null}"#;
        assert_eq!(serde_json::from_str::<Row>(none).unwrap().due, None);
        let err = serde_json::from_str::<Row>(r#"{"on":"5.3.2026","due":null}"#).unwrap_err();
        assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
    }
}
