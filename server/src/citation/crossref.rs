//! Crossref's REST API, `GET /works/{doi}`: the envelope
//! `{status, message-type: "work", message: {...}}` into a [`Citation`]
//! (crosswalk in `shared/reference/ill-domain.md` §3.1 and §4).

use app::domain::{Citation, CitationType};
use serde_json::Value;

use super::text::{self, first_text, person, text};
use super::Unreadable;

/// The citation in a `/works/{doi}` answer.
pub fn parse_work(body: &[u8]) -> Result<Citation, Unreadable> {
    let v: Value = serde_json::from_slice(body).map_err(Unreadable::json)?;
    let work = &v["message"];
    if !work.is_object() {
        return Err(Unreadable::new("no `message` object"));
    }
    Ok(work_citation(work))
}

/// Crossref's `type` as Kauko's kind: articles and papers are copies of an
/// article, books are loans, chapters and book parts are copies.
pub fn kind_of(crossref_type: &str) -> Option<CitationType> {
    match crossref_type {
        "book" | "monograph" | "edited-book" | "reference-book" | "book-set" | "book-series"
        | "dissertation" => Some(CitationType::Book),
        "book-chapter" | "book-section" | "book-part" | "book-track" | "reference-entry" => {
            Some(CitationType::Chapter)
        }
        "journal-article"
        | "proceedings-article"
        | "posted-content"
        | "report"
        | "peer-review"
        | "component"
        | "dataset"
        | "journal-issue"
        | "standard"
        | "other" => Some(CitationType::Article),
        _ => None,
    }
}

fn work_citation(work: &Value) -> Citation {
    let kind = work["type"].as_str().and_then(kind_of);
    let mut title = first_text(&work["title"]).unwrap_or_default();
    if let Some(subtitle) = first_text(&work["subtitle"]) {
        if !title.to_lowercase().contains(&subtitle.to_lowercase()) {
            title = if title.is_empty() {
                subtitle
            } else {
                format!("{title}: {subtitle}")
            };
        }
    }
    // For books `container-title` and `ISSN` describe the series.
    let is_book = kind == Some(CitationType::Book);
    let container_title = if is_book {
        None
    } else {
        first_text(&work["container-title"])
    };
    let mut authors = people(&work["author"]);
    if authors.is_empty() {
        authors = people(&work["editor"]);
    }
    let issn = if matches!(kind, Some(CitationType::Book | CitationType::Chapter)) {
        None
    } else {
        typed_first(&work["issn-type"], &work["ISSN"], "print", text::issn)
    };
    let isbn = typed_first(&work["isbn-type"], &work["ISBN"], "print", text::isbn);
    let year = [
        "issued",
        "published-print",
        "published-online",
        "published",
        "created",
    ]
    .iter()
    .find_map(|k| {
        work[*k]["date-parts"][0][0]
            .as_i64()
            .filter(|y| (1000..=2999).contains(y))
            .map(|y| y.to_string())
    });
    Citation {
        kind,
        title,
        container_title,
        authors,
        volume: text(&work["volume"]),
        issue: text(&work["issue"]),
        pages: text(&work["page"])
            .or_else(|| text(&work["article-number"]))
            .and_then(|p| text::pages(&p)),
        year,
        publisher: text(&work["publisher"]),
        place_of_publication: text(&work["publisher-location"]),
        edition: text(&work["edition-number"]),
        issn,
        isbn,
        doi: work["DOI"]
            .as_str()
            .and_then(app::domain::identifiers::normalize_doi),
        pmid: None,
    }
}

/// Authors or editors as "Family, Given" (organisations by `name`).
fn people(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|people| {
            people
                .iter()
                .filter_map(|p| {
                    person(text(&p["family"]), text(&p["given"])).or_else(|| text(&p["name"]))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The value of the preferred type from `issn-type`/`isbn-type`, else the
/// first valid one of the plain list, normalised.
fn typed_first(
    typed: &Value,
    plain: &Value,
    preferred: &str,
    normalise: fn(&str) -> Option<String>,
) -> Option<String> {
    let typed_values = typed.as_array().cloned().unwrap_or_default();
    typed_values
        .iter()
        .filter(|t| t["type"].as_str() == Some(preferred))
        .chain(typed_values.iter())
        .filter_map(|t| t["value"].as_str())
        .chain(
            plain
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        )
        .find_map(normalise)
}
