//! Primo records (PNX) → an OpenURL 1.0 KEV query for Kauko's request form.
//!
//! This is Kauko's one mapping from a Primo record to a citation. The
//! Primo widget (`frontend/primo/kauko-primo.js`) sends the record's fields
//! named in [`FIELDS`] to `GET /primo/request` (`addata.atitle=…&addata.au=…`);
//! the server reads them with [`Pnx::from_query`], maps them with
//! [`to_openurl`] and sends the browser on to `/request?<KEV>`, Kauko's
//! existing OpenURL entry (which looks up DOIs and PMIDs, checks open
//! access and duplicates). The same [`Pnx`] is read from Primo's JSON with
//! [`Pnx::from_json`] (tests run every recorded record through it).
//!
//! | OpenURL key | from (first that has a value) |
//! |---|---|
//! | `rft.genre` | `addata.genre` → `article`, `book`, `bookitem`, `journal`, `dissertation`…; else from `addata.ristype` / `display.type` |
//! | `rft_val_fmt` | `…:fmt:kev:mtx:journal` for articles and journals, `…:book` otherwise |
//! | `rft.atitle` | `addata.atitle` (articles, chapters) |
//! | `rft.jtitle` | `addata.jtitle`, `addata.stitle`, `addata.addtitle` (articles, journals) |
//! | `rft.btitle` | `addata.btitle` (books, chapters); for a book without one, `display.title` |
//! | `rft.title` | `display.title` when no other title is known (brief records) |
//! | `rft.au` | every `addata.au`; without any, `addata.aulast` + `addata.aufirst`; without those, every `display.creator` |
//! | `rft.aucorp` | every `addata.aucorp` |
//! | `rft.volume`, `rft.issue` | `addata.volume`, `addata.issue` |
//! | `rft.spage`, `rft.epage` | `addata.spage`, `addata.epage`; else `rft.pages` from `addata.pages` (a trailing `-` dropped) |
//! | `rft.date` | `addata.date`, `addata.risdate`, `display.creationdate`, `sort.creationdate` |
//! | `rft.issn`, `rft.eissn` | `addata.issn`, `addata.eissn` (first) |
//! | `rft.isbn` | every `addata.isbn`, then `addata.eisbn` |
//! | `rft_id` | `info:doi/` + `addata.doi`, `info:pmid/` + `addata.pmid` |
//! | `rft.pub`, `rft.place`, `rft.edition` | `addata.pub`, `addata.cop`, `addata.edition` (first) |
//!
//! Values are trimmed, Primo's `$$X` subfield markers cut (`Darwin,
//! Charles$$QDarwin` → `Darwin, Charles`), long values shortened to
//! [`MAX_VALUE_CHARS`], and every value is percent-encoded
//! (`application/x-www-form-urlencoded`), so `&`, `#`, `+` and non-ASCII
//! text arrive as they were.

use std::collections::BTreeMap;

/// The PNX fields the widget sends and the mapping reads
/// (`section.key`). `frontend/primo/kauko-primo.js` carries the same list
/// (a test compares them).
pub const FIELDS: [&str; 33] = [
    "addata.genre",
    "addata.ristype",
    "addata.format",
    "addata.atitle",
    "addata.btitle",
    "addata.jtitle",
    "addata.stitle",
    "addata.addtitle",
    "addata.au",
    "addata.aulast",
    "addata.aufirst",
    "addata.aucorp",
    "addata.volume",
    "addata.issue",
    "addata.spage",
    "addata.epage",
    "addata.pages",
    "addata.date",
    "addata.risdate",
    "addata.issn",
    "addata.eissn",
    "addata.isbn",
    "addata.eisbn",
    "addata.doi",
    "addata.pmid",
    "addata.pub",
    "addata.cop",
    "addata.edition",
    "display.title",
    "display.creator",
    "display.type",
    "display.creationdate",
    "sort.creationdate",
];

/// Longest value kept from a record field (characters).
pub const MAX_VALUE_CHARS: usize = 500;
/// Most values kept of one field (authors, ISBNs).
pub const MAX_VALUES: usize = 12;

/// A Primo record's fields, `section.key` → values (only [`FIELDS`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pnx {
    fields: BTreeMap<String, Vec<String>>,
}

impl Pnx {
    /// From the widget's query pairs (`addata.au=…`, repeated for several
    /// values). Unknown keys are ignored.
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut pnx = Pnx::default();
        for (key, value) in pairs {
            pnx.push(key, value);
        }
        pnx
    }

    /// From Primo's JSON: a full record (`{"pnx": {…}, "delivery": …}`), a
    /// bare PNX (`{"addata": …, "display": …}`), or a brief search result
    /// of the older API (`{"title": …, "creator": […], "date": …,
    /// "@TYPE": …}`). Values may be arrays or single strings.
    pub fn from_json(record: &serde_json::Value) -> Self {
        let mut pnx = Pnx::default();
        let body = record.get("pnx").unwrap_or(record);
        for field in FIELDS {
            let (section, key) = field.split_once('.').unwrap_or((field, ""));
            if let Some(v) = body.get(section).and_then(|s| s.get(key)) {
                for value in values_of(v) {
                    pnx.push(field, &value);
                }
            }
        }
        if body.get("display").is_none() && body.get("addata").is_none() {
            // The older brief format.
            for (from, to) in [
                ("title", "display.title"),
                ("creator", "display.creator"),
                ("date", "display.creationdate"),
                ("@TYPE", "display.type"),
            ] {
                if let Some(v) = body.get(from) {
                    for value in values_of(v) {
                        pnx.push(to, &value);
                    }
                }
            }
        }
        pnx
    }

    fn push(&mut self, key: &str, value: &str) {
        let Some(field) = FIELDS.iter().find(|f| **f == key) else {
            return;
        };
        let value = clean(value);
        if value.is_empty() {
            return;
        }
        let values = self.fields.entry((*field).to_owned()).or_default();
        if values.len() < MAX_VALUES && !values.contains(&value) {
            values.push(value);
        }
    }

    /// Every value of a field.
    pub fn all(&self, field: &str) -> &[String] {
        self.fields.get(field).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The first value of a field.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.all(field).first().map(String::as_str)
    }

    fn first_of(&self, fields: &[&str]) -> Option<&str> {
        fields.iter().find_map(|f| self.get(f))
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The OpenURL genre the record is: `article`, `journal`, `book`,
    /// `bookitem`, `dissertation`, `report`, `proceeding`, or `book` when
    /// nothing says.
    pub fn genre(&self) -> &'static str {
        let from = |value: &str| -> Option<&'static str> {
            Some(match value.to_ascii_lowercase().as_str() {
                "article" | "journal_article" | "review" | "newspaper_article"
                | "text_resource" | "jour" | "magazinearticle" | "preprint" => "article",
                "journal" | "journals" | "newspaper" | "serial" => "journal",
                "bookitem" | "chapter" | "book_chapter" | "book-chapter" | "chap"
                | "reference_entry" => "bookitem",
                "book" | "books" | "ebook" | "book_s" => "book",
                "dissertation" | "thesis" | "thes" | "dissertations" => "dissertation",
                "report" | "rprt" => "report",
                "proceeding" | "conference_proceeding" | "conference" | "conf" => "proceeding",
                _ => return None,
            })
        };
        let genre = self
            .all("addata.genre")
            .iter()
            .chain(self.all("addata.ristype"))
            .chain(self.all("display.type"))
            .find_map(|v| from(v))
            .unwrap_or("book");
        // A "chapter" with no chapter title is the whole book; an
        // "article" record with only a journal title is the journal.
        match genre {
            "bookitem" if self.get("addata.atitle").is_none() => "book",
            _ => genre,
        }
    }

    fn authors(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            let name = name.trim().trim_end_matches([',', ';']).trim();
            if !name.is_empty() && !out.iter().any(|a| a.eq_ignore_ascii_case(name)) {
                out.push(name.to_owned());
            }
        };
        if !self.all("addata.au").is_empty() {
            self.all("addata.au").iter().for_each(|a| add(a));
        } else if let Some(last) = self.get("addata.aulast") {
            match self.get("addata.aufirst") {
                Some(first) => add(&format!("{last}, {}", first.trim_end_matches([',', '.']))),
                None => add(last),
            }
        } else if self.all("addata.aucorp").is_empty() {
            for creator in self.all("display.creator") {
                for name in creator.split(';') {
                    add(name);
                }
            }
        }
        out
    }
}

fn values_of(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        serde_json::Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// Trims, cuts Primo's `$$X` subfields (keeping the first part, or the
/// `$$V` value of a `$$V…$$O…` pair), collapses white space and shortens.
fn clean(value: &str) -> String {
    let value = match value.strip_prefix("$$V") {
        Some(rest) => rest,
        None => value,
    };
    let main = value.split("$$").next().unwrap_or(value);
    let mut out = String::with_capacity(main.len());
    for word in main.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > MAX_VALUE_CHARS {
        out = out.chars().take(MAX_VALUE_CHARS).collect();
    }
    out
}

/// The record as an OpenURL 1.0 KEV query (without `?`), every value
/// percent-encoded. An empty record gives only the context keys.
pub fn to_openurl(pnx: &Pnx) -> String {
    let genre = pnx.genre();
    let journal_like = matches!(genre, "article" | "journal");
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("url_ver", "Z39.88-2004");
    q.append_pair("ctx_ver", "Z39.88-2004");
    q.append_pair("rfr_id", "info:sid/primo.exlibrisgroup.com:kauko");
    q.append_pair(
        "rft_val_fmt",
        if journal_like {
            "info:ofi/fmt:kev:mtx:journal"
        } else {
            "info:ofi/fmt:kev:mtx:book"
        },
    );
    if pnx.is_empty() {
        return q.finish();
    }
    q.append_pair("rft.genre", genre);
    let atitle = pnx.get("addata.atitle");
    let display_title = pnx.get("display.title");
    if journal_like {
        if let Some(a) = atitle {
            q.append_pair("rft.atitle", a);
        }
        let jtitle = pnx
            .first_of(&["addata.jtitle", "addata.stitle", "addata.addtitle"])
            .or(if atitle.is_some() {
                None
            } else {
                display_title
            });
        match jtitle {
            Some(j) => {
                q.append_pair("rft.jtitle", j);
            }
            None => {
                if let Some(t) = display_title {
                    q.append_pair("rft.title", t);
                }
            }
        }
    } else {
        let btitle = pnx.get("addata.btitle");
        if genre == "bookitem" {
            if let Some(a) = atitle {
                q.append_pair("rft.atitle", a);
            }
            if let Some(b) = btitle.or(pnx.get("addata.jtitle")) {
                q.append_pair("rft.btitle", b);
            } else if let Some(t) = display_title.filter(|t| Some(*t) != atitle) {
                q.append_pair("rft.btitle", t);
            }
        } else if let Some(b) = btitle.or(display_title).or(atitle) {
            q.append_pair("rft.btitle", b);
        }
    }
    for author in pnx.authors() {
        q.append_pair("rft.au", &author);
    }
    for corp in pnx.all("addata.aucorp") {
        q.append_pair("rft.aucorp", corp);
    }
    for (from, to) in [
        ("addata.volume", "rft.volume"),
        ("addata.issue", "rft.issue"),
    ] {
        if let Some(v) = pnx.get(from) {
            q.append_pair(to, v);
        }
    }
    match (pnx.get("addata.spage"), pnx.get("addata.epage")) {
        (Some(s), e) => {
            q.append_pair("rft.spage", s);
            if let Some(e) = e {
                q.append_pair("rft.epage", e);
            }
        }
        (None, _) => {
            if let Some(p) = pnx.get("addata.pages") {
                let p = p.trim_end_matches(['-', '\u{2013}']).trim();
                if !p.is_empty() {
                    q.append_pair("rft.pages", p);
                }
            }
        }
    }
    if let Some(date) = pnx.first_of(&[
        "addata.date",
        "addata.risdate",
        "display.creationdate",
        "sort.creationdate",
    ]) {
        q.append_pair("rft.date", date);
    }
    if let Some(issn) = pnx.get("addata.issn") {
        q.append_pair("rft.issn", issn);
    }
    if let Some(eissn) = pnx.get("addata.eissn") {
        q.append_pair("rft.eissn", eissn);
    }
    for isbn in pnx.all("addata.isbn").iter().chain(pnx.all("addata.eisbn")) {
        q.append_pair("rft.isbn", isbn);
    }
    if let Some(doi) = pnx.get("addata.doi") {
        q.append_pair("rft_id", &format!("info:doi/{doi}"));
    }
    if let Some(pmid) = pnx.get("addata.pmid") {
        q.append_pair("rft_id", &format!("info:pmid/{pmid}"));
    }
    for (from, to) in [
        ("addata.pub", "rft.pub"),
        ("addata.cop", "rft.place"),
        ("addata.edition", "rft.edition"),
    ] {
        if let Some(v) = pnx.get(from) {
            q.append_pair(to, v);
        }
    }
    q.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::openurl::parse_openurl;
    use crate::domain::CitationType;

    fn parsed(pnx: &Pnx) -> crate::domain::Citation {
        let kev = to_openurl(pnx);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(kev.as_bytes())
            .into_owned()
            .collect();
        parse_openurl(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .expect("a citation")
            .citation
    }

    #[test]
    fn an_article_with_awkward_characters_survives_the_round_trip() {
        let pnx = Pnx::from_query([
            ("addata.genre", "article"),
            (
                "addata.atitle",
                "Fish & chips #1: 50% + more? Åbo/Turku — “quoted”",
            ),
            ("addata.jtitle", "Acta A&B"),
            ("addata.au", "Ström, Åsa"),
            ("addata.au", "Ng, K."),
            ("addata.au", "Müller-Lüdenscheidt, Jörg"),
            ("addata.volume", "3"),
            ("addata.spage", "10"),
            ("addata.epage", "20"),
            ("addata.date", "2020-05-01"),
            ("addata.issn", "1234-5679"),
            ("addata.doi", "10.1000/a&b#c"),
            ("unknown.key", "ignored"),
        ]);
        let kev = to_openurl(&pnx);
        assert!(!kev.contains('#'), "{kev}");
        assert!(!kev.contains("& "), "{kev}");
        let c = parsed(&pnx);
        assert_eq!(c.kind, Some(CitationType::Article));
        assert_eq!(c.title, "Fish & chips #1: 50% + more? Åbo/Turku — “quoted”");
        assert_eq!(c.container_title.as_deref(), Some("Acta A&B"));
        assert_eq!(
            c.authors,
            ["Ström, Åsa", "Ng, K.", "Müller-Lüdenscheidt, Jörg"]
        );
        assert_eq!(c.pages.as_deref(), Some("10-20"));
        assert_eq!(c.year.as_deref(), Some("2020"));
        assert_eq!(c.doi.as_deref(), Some("10.1000/a&b#c"));
        assert_eq!(c.issn.as_deref(), Some("1234-5679"));
    }

    #[test]
    fn a_record_without_addata_uses_display() {
        let pnx = Pnx::from_json(&serde_json::json!({
            "pnx": {"display": {"title": ["Kalevala"], "creator": ["Lönnrot, Elias$$QLönnrot"], "type": ["book"], "creationdate": ["1849"]}}
        }));
        let c = parsed(&pnx);
        assert_eq!(c.kind, Some(CitationType::Book));
        assert_eq!(c.title, "Kalevala");
        assert_eq!(c.authors, ["Lönnrot, Elias"]);
        assert_eq!(c.year.as_deref(), Some("1849"));
    }

    #[test]
    fn an_empty_record_gives_only_the_context() {
        let kev = to_openurl(&Pnx::from_json(&serde_json::json!({})));
        assert!(!kev.contains("rft."), "{kev}");
        assert!(kev.contains("url_ver=Z39.88-2004"));
    }

    #[test]
    fn values_are_cleaned_and_bounded() {
        let long = "x".repeat(MAX_VALUE_CHARS + 50);
        let pnx = Pnx::from_query([
            ("addata.btitle", "  Two   spaces  "),
            ("addata.pub", long.as_str()),
            ("addata.au", ""),
        ]);
        assert_eq!(pnx.get("addata.btitle"), Some("Two spaces"));
        assert_eq!(
            pnx.get("addata.pub").map(|p| p.chars().count()),
            Some(MAX_VALUE_CHARS)
        );
        assert!(pnx.all("addata.au").is_empty());
    }
}
