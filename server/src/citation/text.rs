//! Small helpers the service parsers share: reading JSON leniently,
//! cleaning titles (HTML/JATS tags, entities, white space), writing names
//! as "Family, Given", and normalising pages, years, ISSNs and ISBNs.

use serde_json::Value;

/// A string at `v` (numbers are written out); `None` when absent or blank.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => nonempty(clean_text(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first non-blank string of an array (or the value itself).
pub fn first_text(v: &Value) -> Option<String> {
    match v {
        Value::Array(items) => items.iter().find_map(text),
        other => text(other),
    }
}

/// The strings of an array (or the one string), non-blank ones only.
pub fn texts(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(text).collect(),
        other => text(other).into_iter().collect(),
    }
}

pub fn nonempty(s: String) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else if t.len() == s.len() {
        Some(s)
    } else {
        Some(t.to_owned())
    }
}

/// Markup stripped (`<i>`, `<jats:sub>`, `<mml:math>` …), the common
/// entities decoded and white space collapsed.
pub fn clean_text(s: &str) -> String {
    let mut stripped = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' if !in_tag => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                // A tag separates words only if the source had a space.
            }
            _ if !in_tag => stripped.push(c),
            _ => {}
        }
    }
    if in_tag {
        // An unclosed `<` was text after all ("a < b").
        return collapse(&decode_entities(s));
    }
    collapse(&decode_entities(&stripped))
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|end| {
            let name = &after[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => {
                    let code = if let Some(hex) =
                        name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        name.strip_prefix('#').and_then(|d| d.parse::<u32>().ok())
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// "Family, Given", or the one name there is.
pub fn person(family: Option<String>, given: Option<String>) -> Option<String> {
    match (family, given) {
        (Some(f), Some(g)) => Some(format!("{f}, {g}")),
        (Some(f), None) => Some(f),
        (None, Some(g)) => Some(g),
        (None, None) => None,
    }
}

/// A display name ("John Miedema") as "Miedema, John"; names that already
/// have a comma, or are one word, are kept.
pub fn invert_name(name: &str) -> String {
    let name = collapse(name);
    if name.contains(',') {
        return name;
    }
    let words: Vec<&str> = name.split(' ').collect();
    let suffix = |w: &str| {
        matches!(
            w.trim_end_matches('.').to_ascii_lowercase().as_str(),
            "jr" | "sr" | "ii" | "iii" | "iv"
        )
    };
    match words.as_slice() {
        [] | [_] => name,
        [rest @ .., family, last] if suffix(last) && !rest.is_empty() => {
            format!("{family}, {}, {last}", rest.join(" "))
        }
        [given @ .., family] => format!("{family}, {}", given.join(" ")),
    }
}

/// PubMed's "Nicholas SE" as "Nicholas, SE" (initials are the last word
/// when it is all capitals); anything else is kept.
pub fn pubmed_name(name: &str) -> String {
    let name = collapse(name);
    match name.rsplit_once(' ') {
        Some((family, initials))
            if !initials.is_empty()
                && initials.chars().count() <= 4
                && initials.chars().all(|c| c.is_uppercase()) =>
        {
            format!("{family}, {initials}")
        }
        _ => name,
    }
}

/// Pages with dashes made plain (`787–806` → `787-806`); PubMed's
/// shortened end pages written out (`141-8` → `141-148`).
pub fn pages(p: &str) -> Option<String> {
    let p = collapse(&p.replace(['\u{2013}', '\u{2014}', '\u{2010}', '\u{2212}'], "-"));
    let p = p.replace(" - ", "-");
    if p.is_empty() {
        return None;
    }
    if let Some((start, end)) = p.split_once('-') {
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        if digits(start) && digits(end) && end.len() < start.len() {
            let full = format!("{}{end}", &start[..start.len() - end.len()]);
            return Some(format!("{start}-{full}"));
        }
    }
    Some(p)
}

/// The ISBN-13 of an ISBN (hyphens allowed), or `None` when it is not one.
pub fn isbn(s: &str) -> Option<String> {
    app::domain::identifiers::normalize_isbn(s).ok()
}

pub use app::domain::openurl::{normalize_issn as issn, year_of as year};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_lose_markup_and_entities() {
        assert_eq!(
            clean_text("Synthesis of <i>N</i>-aryl  <jats:sub>2</jats:sub> &amp; more\n"),
            "Synthesis of N-aryl 2 & more"
        );
        assert_eq!(clean_text("a < b"), "a < b");
        assert_eq!(
            clean_text("&#946;-cells &#x3B2; &bogus; &"),
            "β-cells β &bogus; &"
        );
    }

    #[test]
    fn names_and_pages() {
        assert_eq!(invert_name("John Miedema"), "Miedema, John");
        assert_eq!(
            invert_name("Martin Luther King Jr."),
            "King, Martin Luther, Jr."
        );
        assert_eq!(invert_name("Plato"), "Plato");
        assert_eq!(invert_name("Miedema, John"), "Miedema, John");
        assert_eq!(pubmed_name("Nicholas SE"), "Nicholas, SE");
        assert_eq!(pubmed_name("van der Berg AB"), "van der Berg, AB");
        assert_eq!(
            pubmed_name("GBD 2016 Collaborators"),
            "GBD 2016 Collaborators"
        );
        assert_eq!(pages("141-8").as_deref(), Some("141-148"));
        assert_eq!(pages("787\u{2013}806").as_deref(), Some("787-806"));
        assert_eq!(pages("e0182390").as_deref(), Some("e0182390"));
        assert_eq!(pages(" "), None);
    }
}
