//! NCBI E-utilities `esummary.fcgi?db=pubmed&retmode=json`: the record
//! keyed by its PMID into a [`Citation`] (ill-domain.md §3.2). Unknown ids
//! come back (HTTP 200) as a record with only `uid` and `error`.

use app::domain::{Citation, CitationType};
use serde_json::Value;

use super::text::{self, text};
use super::Unreadable;

/// The citation for `pmid` in an esummary answer; `None` when PubMed
/// does not know it.
pub fn parse_esummary(body: &[u8], pmid: &str) -> Result<Option<Citation>, Unreadable> {
    let v: Value = serde_json::from_slice(body).map_err(Unreadable::json)?;
    let result = &v["result"];
    if !result.is_object() {
        if v["error"].is_string() || v["esummaryresult"].is_array() {
            return Ok(None);
        }
        return Err(Unreadable::new("no `result` object"));
    }
    let record = &result[pmid];
    if !record.is_object() || record["error"].is_string() {
        return Ok(None);
    }
    if text(&record["title"]).is_none() && text(&record["booktitle"]).is_none() {
        return Ok(None);
    }
    Ok(Some(record_citation(record, pmid)))
}

fn record_citation(r: &Value, pmid: &str) -> Citation {
    let book = text(&r["booktitle"]).or_else(|| text(&r["bookname"]));
    let kind = match (&book, text(&r["chapter"])) {
        (Some(_), Some(_)) => CitationType::Chapter,
        (Some(_), None) if text(&r["title"]).is_none() => CitationType::Book,
        (Some(_), None) => CitationType::Chapter,
        (None, _) => CitationType::Article,
    };
    let mut title = text(&r["title"])
        .or_else(|| book.clone())
        .unwrap_or_default();
    // PubMed ends titles with a period; a citation does not need it.
    if title.ends_with('.') && !title.ends_with("..") {
        title.pop();
    }
    let container_title = match kind {
        CitationType::Article => text(&r["fulljournalname"]).or_else(|| text(&r["source"])),
        CitationType::Chapter => book,
        CitationType::Book => None,
    };
    let authors = r["authors"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|a| {
                    let name = text(&a["name"])?;
                    Some(if a["authtype"].as_str() == Some("CollectiveName") {
                        name
                    } else {
                        text::pubmed_name(&name)
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let doi = r["articleids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|id| id["idtype"].as_str() == Some("doi"))
        .filter_map(|id| id["value"].as_str())
        .chain(
            r["elocationid"]
                .as_str()
                .into_iter()
                .flat_map(|e| e.split(&[' ', ';'][..]))
                .filter(|part| part.starts_with("10.")),
        )
        .find_map(app::domain::identifiers::normalize_doi);
    Citation {
        kind: Some(kind),
        title,
        container_title,
        authors,
        volume: text(&r["volume"]),
        issue: text(&r["issue"]),
        pages: text(&r["pages"]).and_then(|p| text::pages(&p)),
        year: ["pubdate", "sortpubdate", "epubdate"]
            .iter()
            .find_map(|k| text(&r[*k]).and_then(|d| text::year(&d))),
        publisher: text(&r["publishername"]),
        place_of_publication: text(&r["publisherlocation"]),
        edition: None,
        issn: ["issn", "essn"]
            .iter()
            .find_map(|k| r[*k].as_str().and_then(text::issn)),
        isbn: None,
        doi,
        pmid: Some(pmid.to_owned()),
    }
}
