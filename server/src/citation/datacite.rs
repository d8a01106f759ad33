//! DataCite's REST API, `GET /dois/{doi}` (JSON:API): `data.attributes`
//! into a [`Citation`] (ill-domain.md §3.3). `publisher` may be a string or
//! an object with `name`; `container` holds journal, volume and pages.

use app::domain::{Citation, CitationType};
use serde_json::Value;

use super::text::{self, person, text};
use super::Unreadable;

pub fn parse_doi(body: &[u8]) -> Result<Citation, Unreadable> {
    let v: Value = serde_json::from_slice(body).map_err(Unreadable::json)?;
    let a = &v["data"]["attributes"];
    if !a.is_object() {
        return Err(Unreadable::new("no `data.attributes` object"));
    }
    Ok(attributes_citation(a))
}

/// `types.resourceTypeGeneral` as Kauko's kind; datasets, software and
/// the like have none (the patron chooses).
pub fn kind_of(general: &str) -> Option<CitationType> {
    match general {
        "JournalArticle"
        | "ConferencePaper"
        | "Preprint"
        | "Text"
        | "Report"
        | "DataPaper"
        | "Journal"
        | "ConferenceProceeding"
        | "PeerReview"
        | "Standard" => Some(CitationType::Article),
        "Book" | "Dissertation" => Some(CitationType::Book),
        "BookChapter" => Some(CitationType::Chapter),
        _ => None,
    }
}

fn attributes_citation(a: &Value) -> Citation {
    let kind = a["types"]["resourceTypeGeneral"].as_str().and_then(kind_of);
    let titles = a["titles"].as_array().cloned().unwrap_or_default();
    fn typed(t: &Value) -> Option<&str> {
        t["titleType"].as_str().filter(|s| !s.is_empty())
    }
    let mut title = titles
        .iter()
        .filter(|t| typed(t).is_none())
        .chain(titles.iter())
        .find_map(|t| text(&t["title"]))
        .unwrap_or_default();
    if let Some(sub) = titles
        .iter()
        .filter(|t| typed(t) == Some("Subtitle"))
        .find_map(|t| text(&t["title"]))
    {
        title = format!("{title}: {sub}");
    }
    let authors = a["creators"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    let personal = c["nameType"].as_str() != Some("Organizational");
                    personal
                        .then(|| person(text(&c["familyName"]), text(&c["givenName"])))
                        .flatten()
                        .or_else(|| text(&c["name"]))
                })
                .collect()
        })
        .unwrap_or_default();
    let container = &a["container"];
    let container_title = (kind != Some(CitationType::Book))
        .then(|| text(&container["title"]))
        .flatten();
    let pages = match (text(&container["firstPage"]), text(&container["lastPage"])) {
        (Some(f), Some(l)) if f != l => Some(format!("{f}-{l}")),
        (Some(f), _) => Some(f),
        _ => None,
    }
    .and_then(|p| text::pages(&p));
    let related = a["relatedIdentifiers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let related_of = |kind: &str, normalise: fn(&str) -> Option<String>| {
        related
            .iter()
            .filter(|r| r["relatedIdentifierType"].as_str() == Some(kind))
            .filter(|r| r["relationType"].as_str() == Some("IsPartOf"))
            .filter_map(|r| r["relatedIdentifier"].as_str())
            .find_map(normalise)
    };
    let issn = (container["identifierType"].as_str() == Some("ISSN"))
        .then(|| container["identifier"].as_str().and_then(text::issn))
        .flatten()
        .or_else(|| related_of("ISSN", text::issn));
    let publisher = match &a["publisher"] {
        Value::Object(_) => text(&a["publisher"]["name"]),
        other => text(other),
    };
    Citation {
        kind,
        title,
        container_title,
        authors,
        volume: text(&container["volume"]),
        issue: text(&container["issue"]),
        pages,
        year: text(&a["publicationYear"]).and_then(|y| text::year(&y)),
        publisher,
        place_of_publication: None,
        edition: text(&a["version"]).filter(|_| kind == Some(CitationType::Book)),
        issn,
        isbn: related_of("ISBN", text::isbn),
        doi: a["doi"]
            .as_str()
            .and_then(app::domain::identifiers::normalize_doi),
        pmid: None,
    }
}
