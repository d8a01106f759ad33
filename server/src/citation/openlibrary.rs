//! Open Library by ISBN (ill-domain.md §3.4). Kauko asks the Books API
//! (`/api/books?bibkeys=ISBN:…&format=json&jscmd=data`, author names
//! included; `{}` when unknown) and, when that has nothing, the edition
//! record (`/isbn/{isbn}.json`, authors as `/authors/…` keys whose names
//! take one more call each).

use app::domain::{Citation, CitationType};
use serde_json::Value;

use super::text::{self, text, texts};
use super::Unreadable;

/// The book in a Books API answer; `None` for `{}` (unknown ISBN).
pub fn parse_books(body: &[u8], isbn: &str) -> Result<Option<Citation>, Unreadable> {
    let v: Value = serde_json::from_slice(body).map_err(Unreadable::json)?;
    let Some(map) = v.as_object() else {
        return Err(Unreadable::new("not a JSON object"));
    };
    // The key echoes the bibkey as sent; take any when it was spelled
    // differently.
    let Some(book) = map
        .get(&format!("ISBN:{isbn}"))
        .or_else(|| map.values().next())
    else {
        return Ok(None);
    };
    if !book.is_object() {
        return Err(Unreadable::new("the book is not an object"));
    }
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| text(&x["name"]).or_else(|| text(x)))
            .collect()
    };
    let authors = names(&book["authors"])
        .iter()
        .map(|n| text::invert_name(n))
        .collect();
    Ok(Some(book_citation(
        book,
        isbn,
        authors,
        names(&book["publishers"]),
        names(&book["publish_places"]),
    )))
}

/// An edition record: the citation (without author names) and the author
/// keys (`/authors/OL…A`) to resolve.
pub fn parse_edition(body: &[u8], isbn: &str) -> Result<(Citation, Vec<String>), Unreadable> {
    let v: Value = serde_json::from_slice(body).map_err(Unreadable::json)?;
    if !v.is_object() || text(&v["title"]).is_none() {
        return Err(Unreadable::new("no edition title"));
    }
    let keys = v["authors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["key"].as_str().or_else(|| a["author"]["key"].as_str()))
        .filter(|k| k.starts_with("/authors/") && k.len() < 64)
        .map(str::to_owned)
        .collect();
    let citation = book_citation(
        &v,
        isbn,
        Vec::new(),
        texts(&v["publishers"]),
        texts(&v["publish_places"]),
    );
    Ok((citation, keys))
}

/// An author record's name, as "Family, Given".
pub fn parse_author(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    text(&v["personal_name"])
        .or_else(|| text(&v["name"]))
        .map(|n| text::invert_name(&n))
}

fn book_citation(
    book: &Value,
    isbn: &str,
    authors: Vec<String>,
    publishers: Vec<String>,
    places: Vec<String>,
) -> Citation {
    let mut title = text(&book["title"]).unwrap_or_default();
    if let Some(sub) = text(&book["subtitle"]) {
        title = format!("{title}: {sub}");
    }
    Citation {
        kind: Some(CitationType::Book),
        title,
        container_title: None,
        authors,
        volume: None,
        issue: None,
        pages: None,
        year: text(&book["publish_date"]).and_then(|d| text::year(&d)),
        publisher: publishers.into_iter().next(),
        place_of_publication: places.into_iter().next(),
        edition: text(&book["edition_name"]),
        issn: None,
        // The ISBN asked for: `identifiers.isbn_13` mixes editions.
        isbn: text::isbn(isbn),
        doi: None,
        pmid: None,
    }
}
