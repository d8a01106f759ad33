//! Letter templates: the shipped defaults (`defaults/{fi,sv,en}.txt`),
//! checking a template staff want to save, rendering, and the difference
//! from the default.
//!
//! One template gives both parts of a letter: it is rendered once as
//! text, and the HTML part is that text escaped as a whole (the values and
//! the template's own words alike, so a title like `<img src=x
//! onerror=…>` stays text and no template can inject markup), cut into
//! paragraphs, with its web addresses as links. The template engine is
//! minijinja in strict mode: an unknown placeholder is an error at save
//! and at render, never an empty gap.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use app::i18n::Lang;
use app::letters::{LetterKind, Rendered, TemplateError, TemplateText};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

/// The values a letter is rendered with, by placeholder name.
pub type Values = BTreeMap<String, Value>;

fn text_env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Escaping is done on the whole text (see above), not per value.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env
    })
}

/// The shipped templates, parsed once.
fn defaults() -> &'static HashMap<(LetterKind, Lang), TemplateText> {
    static DEFAULTS: OnceLock<HashMap<(LetterKind, Lang), TemplateText>> = OnceLock::new();
    DEFAULTS.get_or_init(|| {
        let mut all = HashMap::new();
        for (lang, source) in [
            (Lang::Fi, include_str!("defaults/fi.txt")),
            (Lang::Sv, include_str!("defaults/sv.txt")),
            (Lang::En, include_str!("defaults/en.txt")),
        ] {
            for (kind, text) in parse_defaults(source) {
                all.insert((kind, lang), text);
            }
        }
        all
    })
}

/// Reads a defaults file: `=== kind ===`, `Subject: …`, the body.
pub fn parse_defaults(source: &str) -> Vec<(LetterKind, TemplateText)> {
    let mut out: Vec<(LetterKind, TemplateText)> = Vec::new();
    let mut current: Option<(LetterKind, Option<String>, Vec<&str>)> = None;
    let finish = |c: Option<(LetterKind, Option<String>, Vec<&str>)>,
                  out: &mut Vec<(LetterKind, TemplateText)>| {
        if let Some((kind, subject, lines)) = c {
            out.push((
                kind,
                TemplateText {
                    subject: subject.unwrap_or_default(),
                    body: lines.join("\n").trim().to_owned(),
                },
            ));
        }
    };
    for line in source.lines() {
        if let Some(code) = line
            .strip_prefix("=== ")
            .and_then(|l| l.strip_suffix(" ==="))
        {
            finish(current.take(), &mut out);
            current = LetterKind::from_code(code.trim()).map(|k| (k, None, Vec::new()));
            continue;
        }
        match &mut current {
            None => {}
            Some((_, subject @ None, _)) => {
                if let Some(s) = line.strip_prefix("Subject: ") {
                    *subject = Some(s.trim().to_owned());
                }
            }
            Some((_, Some(_), lines)) => lines.push(line),
        }
    }
    finish(current, &mut out);
    out
}

/// The shipped template of a letter in a language.
pub fn default_text(kind: LetterKind, lang: Lang) -> TemplateText {
    defaults()
        .get(&(kind, lang))
        .cloned()
        .unwrap_or_else(|| TemplateText {
            subject: kind.code().to_owned(),
            body: String::new(),
        })
}

/// Whether a language's defaults hold this letter (tests).
pub fn has_default(kind: LetterKind, lang: Lang) -> bool {
    defaults().contains_key(&(kind, lang))
}

fn error(part: &str, line: Option<usize>, key: &str, detail: impl Into<String>) -> TemplateError {
    TemplateError {
        part: part.to_owned(),
        line,
        key: key.to_owned(),
        detail: detail.into(),
    }
}

fn syntax(part: &str, e: &minijinja::Error) -> TemplateError {
    error(
        part,
        e.line(),
        "letters.error.syntax",
        e.detail().unwrap_or("").to_owned(),
    )
}

/// The line (1-based) where `name` first appears inside `{{ … }}` or
/// `{% … %}`, for the error staff read.
fn line_of(source: &str, name: &str) -> Option<usize> {
    source
        .lines()
        .position(|l| {
            l.match_indices(name).any(|(i, _)| {
                let before = l[..i].chars().next_back();
                let after = l[i + name.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after) && (l[..i].contains("{{") || l[..i].contains("{%"))
            })
        })
        .map(|i| i + 1)
}

/// Checks a template before it is saved: it parses, names only this
/// letter's placeholders, and renders with sample values.
pub fn validate(kind: LetterKind, text: &TemplateText) -> Result<(), TemplateError> {
    if text.subject.trim().is_empty() {
        return Err(error("subject", None, "letters.error.empty", ""));
    }
    if text.body.trim().is_empty() {
        return Err(error("body", None, "letters.error.empty", ""));
    }
    if text.subject.contains('\n') {
        return Err(error("subject", Some(2), "letters.error.subject_line", ""));
    }
    let allowed = kind.placeholders();
    for (part, source) in [("subject", &text.subject), ("body", &text.body)] {
        let template = text_env()
            .template_from_str(source)
            .map_err(|e| syntax(part, &e))?;
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !allowed.contains(&v.as_str()) && text_env().globals().all(|(g, _)| g != v))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            return Err(error(
                part,
                line_of(source, name),
                "letters.error.placeholder",
                name.clone(),
            ));
        }
    }
    render(kind, text, &sample_values(kind, Lang::En)).map(|_| ())
}

/// Renders a letter: the subject (one line), the HTML document and the
/// plain text.
pub fn render(
    kind: LetterKind,
    text: &TemplateText,
    values: &Values,
) -> Result<Rendered, TemplateError> {
    let mut ctx = values.clone();
    // Every placeholder is defined (empty when unknown), so `{% if %}`
    // works and a strict engine still refuses names outside the list.
    for name in kind.placeholders() {
        ctx.entry(name.to_owned())
            .or_insert_with(|| Value::from(""));
    }
    let run = |env: &Environment<'static>, part: &str, source: &str| {
        env.template_from_str(source)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| syntax(part, &e))
    };
    let subject = run(text_env(), "subject", &text.subject)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let plain = tidy(&run(text_env(), "body", &text.body)?);
    Ok(Rendered {
        subject,
        html: html_body(&escape_html(&plain)),
        text: plain,
    })
}

/// Trims trailing spaces and runs of blank lines.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in text.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Paragraphs and line breaks of the escaped text as HTML, with its web
/// addresses as links.
fn html_body(escaped: &str) -> String {
    let paragraphs: Vec<String> = tidy(escaped)
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(linkify).collect();
            format!("<p>{}</p>", lines.join("<br>\n"))
        })
        .collect();
    paragraphs.join("\n")
}

/// `https://…` runs (already escaped) become links.
fn linkify(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("https://").or_else(|| rest.find("http://")) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '<')
            .unwrap_or(tail.len());
        let mut url = &tail[..end];
        while url.ends_with(['.', ',', ')', ';', ':']) && !url.ends_with("&quot;") {
            url = &url[..url.len() - 1];
        }
        out.push_str(&format!("<a href=\"{url}\">{url}</a>"));
        rest = &tail[url.len()..];
    }
    out.push_str(rest);
    out
}

/// The whole HTML document of a letter.
pub fn html_document(lang_code: &str, subject_escaped: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang_code}\"><head><meta charset=\"utf-8\"><title>{subject_escaped}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.5; max-width: 40em\">\n{body}\n</body></html>\n"
    )
}

/// Escapes text for HTML (the subject in the document's title).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// A unified diff of `current` against the shipped `default` (empty when
/// they are the same).
pub fn diff(default: &TemplateText, current: &TemplateText) -> String {
    let whole = |t: &TemplateText| format!("Subject: {}\n\n{}\n", t.subject, t.body);
    let (a, b) = (whole(default), whole(current));
    if a == b {
        return String::new();
    }
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(2)
        .header("default", "current")
        .to_string()
}

/// A date as a letter in `lang` writes it (`4.12.2026`, `2026-12-04`,
/// `4 December 2026`).
pub fn format_date(lang: Lang, date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    match lang {
        Lang::Fi => format!("{}.{}.{}", date.day(), date.month(), date.year()),
        Lang::Sv => date.format("%Y-%m-%d").to_string(),
        Lang::En => format!(
            "{} {} {}",
            date.day(),
            [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December"
            ][date.month0() as usize],
            date.year()
        ),
    }
}

/// Values for a preview without a request, and for checking a template.
pub fn sample_values(kind: LetterKind, lang: Lang) -> Values {
    let date = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| format_date(lang, d))
            .unwrap_or_default()
    };
    let mut v = Values::new();
    let mut set = |k: &str, val: Value| {
        v.insert(k.to_owned(), val);
    };
    set("library", Value::from("Helsingin yliopiston kirjasto"));
    set("reference", Value::from("K7M2-XQ9D"));
    set(
        "title",
        Value::from("Suomen kielen etymologinen sanakirja: osa 3"),
    );
    set("author", Value::from("Toivonen, Y. H."));
    set(
        "request_url",
        Value::from("https://kauko.example.fi/my/sample"),
    );
    set(
        "recipient_name",
        Value::from(match kind.recipient() {
            app::letters::Recipient::Patron => "Maija Meikäläinen",
            app::letters::Recipient::Partner => "Tampereen yliopiston kirjasto",
        }),
    );
    set("date", Value::from(date("2026-12-04")));
    set("reason", Value::from("Ei lainata kaukolainaksi / Not lent"));
    set("pickup_location", Value::from("Kaisa-talo"));
    set("pickup_until", Value::from(date("2026-12-18")));
    set(
        "link",
        Value::from("https://kauko.example.fi/copies/0f3c9a"),
    );
    set("link_until", Value::from(date("2027-01-03")));
    set("due_date", Value::from(date("2027-01-15")));
    set(
        "message",
        Value::from("Riittääkö sinulle myös vuoden 2019 painos?"),
    );
    set("service", Value::from("loan"));
    set("granted", Value::from(true));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letter_has_a_default_in_every_language() {
        for kind in LetterKind::ALL {
            for lang in Lang::ALL {
                assert!(has_default(kind, lang), "{} {lang:?}", kind.code());
                let t = default_text(kind, lang);
                validate(kind, &t).unwrap_or_else(|e| panic!("{} {lang:?}: {e:?}", kind.code()));
            }
        }
    }

    fn names(kind: LetterKind, t: &TemplateText) -> Vec<String> {
        let mut all: Vec<String> = [&t.subject, &t.body]
            .iter()
            .flat_map(|s| {
                text_env()
                    .template_from_str(s)
                    .map(|t| t.undeclared_variables(false))
                    .unwrap_or_default()
            })
            .collect();
        all.sort();
        all.dedup();
        assert!(all
            .iter()
            .all(|n| kind.placeholders().contains(&n.as_str())));
        all
    }

    #[test]
    fn the_languages_name_the_same_placeholders() {
        for kind in LetterKind::ALL {
            let en = names(kind, &default_text(kind, Lang::En));
            for lang in [Lang::Fi, Lang::Sv] {
                assert_eq!(
                    names(kind, &default_text(kind, lang)),
                    en,
                    "{} in {lang:?}",
                    kind.code()
                );
            }
            assert!(en.contains(&"request_url".to_owned()), "{}", kind.code());
        }
    }

    #[test]
    fn a_template_that_does_not_parse_or_names_an_unknown_placeholder_is_refused() {
        let kind = LetterKind::PatronReceived;
        let bad = TemplateText {
            subject: "Hei".into(),
            body: "Rivi yksi\nRivi kaksi {{ title \nRivi kolme".into(),
        };
        let e = validate(kind, &bad).unwrap_err();
        assert_eq!(e.key, "letters.error.syntax");
        assert_eq!(e.part, "body");
        assert!(e.line.is_some());
        let unknown = TemplateText {
            subject: "Hei".into(),
            body: "Rivi yksi\nNouda {{ pickup_location }}".into(),
        };
        let e = validate(kind, &unknown).unwrap_err();
        assert_eq!(e.key, "letters.error.placeholder");
        assert_eq!(e.detail, "pickup_location");
        assert_eq!(e.line, Some(2));
        // The same name is fine where the letter knows it.
        validate(LetterKind::PatronReadyForPickup, &unknown).unwrap();
    }

    #[test]
    fn a_title_with_markup_is_text_in_the_html_part() {
        let mut values = sample_values(LetterKind::PatronReceived, Lang::Fi);
        values.insert(
            "title".into(),
            Value::from("<img src=x onerror=alert(1)> & \"quotes\""),
        );
        for kind in LetterKind::ALL {
            for lang in Lang::ALL {
                let r = render(kind, &default_text(kind, lang), &values).unwrap();
                assert!(!r.html.contains("<img"), "{}", kind.code());
                if r.text.contains("onerror") {
                    assert!(r.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
                }
            }
        }
    }

    #[test]
    fn addresses_become_links_and_paragraphs_stay() {
        let r = render(
            LetterKind::PatronQuery,
            &TemplateText {
                subject: "Q".into(),
                body: "Yksi\nkaksi\n\nKatso {{ request_url }}.".into(),
            },
            &sample_values(LetterKind::PatronQuery, Lang::Fi),
        )
        .unwrap();
        assert_eq!(
            r.html,
            "<p>Yksi<br>\nkaksi</p>\n<p>Katso <a href=\"https://kauko.example.fi/my/sample\">https://kauko.example.fi/my/sample</a>.</p>"
        );
        assert_eq!(
            r.text,
            "Yksi\nkaksi\n\nKatso https://kauko.example.fi/my/sample.\n"
        );
    }

    #[test]
    fn the_diff_shows_what_staff_changed() {
        let d = default_text(LetterKind::PatronQuery, Lang::En);
        assert_eq!(diff(&d, &d), "");
        let mut c = d.clone();
        c.body = c.body.replace("Our staff", "Our friendly staff");
        let out = diff(&d, &c);
        assert!(out.contains("+Our friendly staff"), "{out}");
        assert!(out.contains("-Our staff"), "{out}");
    }
}
