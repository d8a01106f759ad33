//! Languages and translated strings. Every visible string lives in
//! `app/locales/{fi,sv,en}.json`, and a unit test checks that all three
//! have the same keys. The server compiles the files in. The browser does
//! not: its WebAssembly would carry all three languages (about 29 KB
//! gzipped) to every patron. The server serves each catalogue at
//! `/i18n/{lang}.{part}.json?v={hash}` (cached for a year, the hash changes with
//! the text), names the page's catalogue in the page, and the browser
//! fetches it (preloaded beside the wasm) before it hydrates, only the
//! part its islands show ([`Part`]). Switching language loads the page
//! again.
//!
//! The language comes from, in order: `?lang=` in the URL, the `kauko_lang`
//! cookie, the browser's `Accept-Language`, and the configured default.

use std::collections::HashMap;
#[cfg(not(feature = "hydrate"))]
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Name of the cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "kauko_lang";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fi,
    Sv,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Fi, Lang::Sv, Lang::En];

    /// BCP 47 tag, as used in `<html lang>`, URLs and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fi => "fi",
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, for the language switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Fi => "Suomi",
            Lang::Sv => "Svenska",
            Lang::En => "English",
        }
    }

    /// Reads a language tag (`fi`, `sv-FI`, `EN-gb`); `None` for others.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Picks the language for a request. `query_lang` is the `lang` URL
/// parameter, `cookie_lang` the cookie's value.
pub fn negotiate(
    query_lang: Option<&str>,
    cookie_lang: Option<&str>,
    accept_language: Option<&str>,
    default: Lang,
) -> Lang {
    if let Some(lang) = query_lang.and_then(Lang::from_tag) {
        return lang;
    }
    if let Some(lang) = cookie_lang.and_then(Lang::from_tag) {
        return lang;
    }
    accept_language
        .and_then(from_accept_language)
        .unwrap_or(default)
}

/// The supported language the browser prefers most, by `q` weight.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for (pos, item) in header.split(',').enumerate() {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.trim().parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        // Earlier entries win ties: subtract a tiny amount per position.
        let weight = q - pos as f32 * 1e-4;
        if let Some(lang) = Lang::from_tag(tag) {
            if q > 0.0 && best.is_none_or(|(_, w)| weight > w) {
                best = Some((lang, weight));
            }
        }
    }
    best.map(|(lang, _)| lang)
}

/// Reads one cookie's value from a `Cookie` header.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Reads one parameter from a URL query string (no decoding needed for the
/// simple values Kauko reads this way).
pub fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v)
    })
}

type Catalog = HashMap<String, String>;

/// Which strings a catalogue the browser fetches holds. Only a page with
/// islands fetches one, and it needs only the strings its islands show:
/// the request form's (`/request`), the lending forms' (`/lend`,
/// `/lend/:code`), or, for the staff pages (under `/staff`), all of them.
/// The strings of a part are those whose keys start with one of its
/// prefixes in `app/locales/parts.json` (which `scripts/frontend-size.sh`
/// reads too). A test below checks that every key the islands' code names
/// is in its part, and in the browser a key missing from the page's part
/// is logged as a console error (which fails every end2end test).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Request,
    Lend,
    All,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Request, Part::Lend, Part::All];

    /// Its name in the catalogue's URL (`/i18n/fi.request.json`).
    pub fn name(self) -> &'static str {
        match self {
            Part::Request => "request",
            Part::Lend => "lend",
            Part::All => "all",
        }
    }

    #[cfg(feature = "ssr")]
    fn index(self) -> usize {
        self as usize
    }

    /// Whether the part holds the string of `key`.
    #[cfg(feature = "ssr")]
    pub fn holds(self, key: &str) -> bool {
        static PREFIXES: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
        if self == Part::All {
            return true;
        }
        PREFIXES
            .get_or_init(|| {
                serde_json::from_str(include_str!("../locales/parts.json"))
                    .expect("locales/parts.json maps part names to lists of key prefixes")
            })
            .get(self.name())
            .is_some_and(|prefixes| prefixes.iter().any(|p| key.starts_with(p.as_str())))
    }
}

/// The text the browser fetches: `lang`'s strings of `part` (worked out
/// once).
#[cfg(feature = "ssr")]
pub fn catalog_text(lang: Lang, part: Part) -> &'static str {
    static TEXTS: OnceLock<[[String; 3]; 3]> = OnceLock::new();
    if part == Part::All {
        return catalog_json(lang);
    }
    &TEXTS.get_or_init(|| {
        Part::ALL.map(|part| {
            Lang::ALL.map(|l| {
                if part == Part::All {
                    return String::new(); // catalog_json
                }
                let all: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(catalog_json(l)).unwrap_or_default();
                let held: serde_json::Map<String, serde_json::Value> =
                    all.into_iter().filter(|(k, _)| part.holds(k)).collect();
                serde_json::to_string(&held).unwrap_or_else(|_| "{}".into())
            })
        })
    })[part.index()][lang.index()]
}

/// The catalogue of `lang` as the JSON text in `app/locales` (the server's
/// own lookups read it; the browser never carries it).
#[cfg(feature = "ssr")]
pub fn catalog_json(lang: Lang) -> &'static str {
    match lang {
        Lang::Fi => include_str!("../locales/fi.json"),
        Lang::Sv => include_str!("../locales/sv.json"),
        Lang::En => include_str!("../locales/en.json"),
    }
}

/// A short fingerprint of a catalogue's text (FNV-1a, 64 bits, in hex):
/// the `v` of its URL, so a changed text gets a new URL and browsers may
/// cache each URL for ever.
/// Worked out once per language and part (every page names the
/// catalogues' URLs).
#[cfg(feature = "ssr")]
pub fn catalog_version(lang: Lang, part: Part) -> &'static str {
    static VERSIONS: OnceLock<[[String; 3]; 3]> = OnceLock::new();
    let versions = VERSIONS.get_or_init(|| {
        Part::ALL.map(|part| {
            Lang::ALL.map(|l| {
                let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
                for byte in catalog_text(l, part).bytes() {
                    hash ^= u64::from(byte);
                    hash = hash.wrapping_mul(0x0100_0000_01b3);
                }
                format!("{hash:016x}")
            })
        })
    });
    &versions[part.index()][lang.index()]
}

/// Where the browser fetches a catalogue: `/i18n/fi.request.json`,
/// `/i18n/fi.lend.json` or `/i18n/fi.all.json`, with its version.
#[cfg(feature = "ssr")]
pub fn catalog_url(lang: Lang, part: Part) -> String {
    format!(
        "/i18n/{}.{}.json?v={}",
        lang.code(),
        part.name(),
        catalog_version(lang, part)
    )
}

#[cfg(not(feature = "hydrate"))]
fn catalogs() -> &'static [Catalog; 3] {
    static CATALOGS: OnceLock<[Catalog; 3]> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        Lang::ALL.map(|lang| {
            serde_json::from_str(catalog_json(lang))
                .unwrap_or_else(|e| panic!("locales/{}.json is not valid JSON: {e}", lang.code()))
        })
    })
}

/// The string for `key` in `lang`, if that catalogue has it.
#[cfg(not(feature = "hydrate"))]
fn lookup(lang: Lang, key: &str) -> Option<String> {
    catalogs()[lang.index()].get(key).cloned()
}

/// The browser's catalogues: only those fetched so far.
#[cfg(feature = "hydrate")]
mod loaded {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        static LOADED: RefCell<[Option<Catalog>; 3]> = const { RefCell::new([None, None, None]) };
    }

    pub fn lookup(lang: Lang, key: &str) -> Option<String> {
        LOADED.with_borrow(|c| c[lang.index()].as_ref()?.get(key).cloned())
    }

    pub fn is_loaded(lang: Lang) -> bool {
        LOADED.with_borrow(|c| c[lang.index()].is_some())
    }

    /// A string the page's island asked for that its part lacks: a bug
    /// (the key's prefix is missing from `app/locales/parts.json`), shown
    /// as the key and logged, which fails any end2end test that meets it.
    pub fn missing(lang: Lang, key: &str) {
        if is_loaded(lang) {
            leptos::logging::error!(
                "kauko: the page's strings lack '{key}' (app/locales/parts.json)"
            );
        }
    }

    pub fn install(lang: Lang, json: &str) -> bool {
        match serde_json::from_str::<Catalog>(json) {
            Ok(catalog) => {
                LOADED.with_borrow_mut(|c| c[lang.index()] = Some(catalog));
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(feature = "hydrate")]
use loaded::lookup;

/// Fetches the catalogue of `lang` from `url` unless the browser has it;
/// `false` when it could not be fetched or read.
#[cfg(feature = "hydrate")]
pub async fn ensure_loaded(lang: Lang, url: &str) -> bool {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    if loaded::is_loaded(lang) {
        return true;
    }
    async fn text(url: &str) -> Option<String> {
        let window = web_sys::window()?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
        if !response.ok() {
            return None;
        }
        JsFuture::from(response.text().ok()?)
            .await
            .ok()?
            .as_string()
    }
    // One retry: a phone's connection can drop a request.
    for _ in 0..2 {
        if let Some(json) = text(url).await {
            return loaded::install(lang, &json);
        }
    }
    false
}

/// The string for `key` in `lang`; English when missing there, else the key
/// itself (so a missing translation shows up, and tests catch it).
pub fn t(lang: Lang, key: &str) -> String {
    lookup(lang, key)
        .or_else(|| lookup(Lang::En, key))
        .unwrap_or_else(|| {
            #[cfg(feature = "hydrate")]
            loaded::missing(lang, key);
            key.to_owned()
        })
}

/// Like [`t`], replacing each `{name}` with its value.
pub fn t_args(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut text = t(lang, key);
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// All keys of the English catalogue (for tests and tooling).
#[cfg(not(feature = "hydrate"))]
pub fn keys() -> Vec<&'static str> {
    let mut keys: Vec<_> = catalogs()[Lang::En.index()]
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Whether `lang` has its own string for `key`.
#[cfg(not(feature = "hydrate"))]
pub fn has_key(lang: Lang, key: &str) -> bool {
    catalogs()[lang.index()].contains_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CitationType, PatronStatus};

    /// The keys (and key prefixes, as in `format!("citation.type.{k}")`)
    /// that the code of `file` (a path from `app/src`, its tests left out)
    /// names.
    fn keys_named_in(file: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let all = keys();
        let mut named = Vec::new();
        for (at, _) in code.match_indices('"') {
            let rest = &code[at + 1..];
            let end = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "_.".contains(c)))
                .unwrap_or(rest.len());
            let (word, next) = (&rest[..end], rest[end..].chars().next());
            let is_key = next == Some('"') && all.contains(&word);
            let is_prefix =
                next == Some('{') && word.ends_with('.') && all.iter().any(|k| k.starts_with(word));
            if is_key || is_prefix {
                named.push(word.to_owned());
            }
        }
        named
    }

    /// A page's islands show only the strings of its part, so every key
    /// their code names must be in it: one left out would show as the key
    /// once the island hydrates. The files are each island's own and the
    /// modules whose labels and errors it shows. (In the browser, a key
    /// missing from the page's part is also a console error, which fails
    /// the end2end test that meets it.)
    #[test]
    fn each_islands_part_holds_every_key_its_code_names() {
        let request = [
            "pages/request.rs",
            "components/field.rs",
            "components/page.rs",
            "api/form.rs",
            "lookup.rs",
            "port.rs",
            "domain/citation.rs",
            "domain/identifiers.rs",
            "domain/status.rs",
            // Keys the server hands back to the form (a field Alma
            // refused, the outbox's own checks).
            "../../server/src/adapters/alma/errors.rs",
            "../../server/src/outbox/mod.rs",
        ];
        let lend = ["pages/lend.rs", "api/lend.rs", "domain/lending_intake.rs"];
        for (part, files) in [
            (Part::Request, request.to_vec()),
            (Part::Lend, [&request[..], &lend[..]].concat()),
        ] {
            let mut seen = 0;
            for file in files {
                for key in keys_named_in(file) {
                    seen += 1;
                    assert!(part.holds(&key), "{part:?} lacks {key} ({file})");
                }
            }
            assert!(seen > 100, "{part:?}: only {seen} keys found");
        }
        // And the parts leave out what their pages never show.
        for key in [
            "my.overview",
            "home.title",
            "desk.borrowing.title",
            "letters.title",
        ] {
            assert!(
                catalog_json(Lang::En).contains(&format!("\"{key}\"")),
                "{key}"
            );
            assert!(!Part::Request.holds(key) && !Part::Lend.holds(key), "{key}");
            assert!(Part::All.holds(key));
        }
        let request = catalog_text(Lang::Fi, Part::Request);
        assert!(request.contains("\"request.submit\"") && !request.contains("\"lend.submit\""));
        assert!(catalog_text(Lang::Fi, Part::Lend).contains("\"lend.submit\""));
    }

    #[test]
    fn all_catalogues_have_the_same_non_empty_keys() {
        for lang in Lang::ALL {
            let cat = &catalogs()[lang.index()];
            let mut missing: Vec<_> = keys()
                .into_iter()
                .filter(|k| !cat.contains_key(*k))
                .collect();
            let mut extra: Vec<_> = cat.keys().filter(|k| !has_key(Lang::En, k)).collect();
            missing.sort();
            extra.sort();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            assert!(
                extra.is_empty(),
                "{} has keys English lacks: {extra:?}",
                lang.code()
            );
            let empty: Vec<_> = cat
                .iter()
                .filter(|(_, v)| v.trim().is_empty())
                .map(|(k, _)| k)
                .collect();
            assert!(
                empty.is_empty(),
                "{} has empty strings: {empty:?}",
                lang.code()
            );
        }
    }

    #[test]
    fn domain_labels_are_translated() {
        for lang in Lang::ALL {
            for status in PatronStatus::ALL {
                assert!(
                    has_key(lang, status.label_key()),
                    "{:?} {}",
                    lang,
                    status.label_key()
                );
            }
            for kind in CitationType::ALL {
                assert!(has_key(lang, kind.label_key()));
            }
        }
        assert_eq!(t(Lang::Fi, "status.submitted"), "Lähetetty");
        assert_eq!(t(Lang::Sv, "status.submitted"), "Skickad");
        assert_eq!(t(Lang::En, "status.submitted"), "Submitted");
    }

    #[test]
    fn negotiation_order_is_query_cookie_header_default() {
        assert_eq!(
            negotiate(Some("sv"), Some("en"), Some("fi"), Lang::Fi),
            Lang::Sv
        );
        assert_eq!(
            negotiate(Some("de"), Some("en"), Some("fi"), Lang::Fi),
            Lang::En
        );
        assert_eq!(
            negotiate(None, None, Some("de-DE,sv;q=0.8,en;q=0.9"), Lang::Fi),
            Lang::En
        );
        assert_eq!(negotiate(None, None, Some("sv-FI"), Lang::Fi), Lang::Sv);
        assert_eq!(
            negotiate(None, None, Some("de, fr;q=0.5"), Lang::Sv),
            Lang::Sv
        );
        assert_eq!(
            negotiate(None, None, Some("en;q=0, fi;q=0.1"), Lang::Sv),
            Lang::Fi
        );
        assert_eq!(negotiate(None, None, None, Lang::En), Lang::En);
    }

    #[test]
    fn cookies_queries_and_arguments() {
        assert_eq!(
            cookie_value("a=1; kauko_lang=sv; b=2", LANG_COOKIE),
            Some("sv")
        );
        assert_eq!(cookie_value("a=1", LANG_COOKIE), None);
        assert_eq!(query_value("x=1&lang=en", "lang"), Some("en"));
        assert_eq!(
            t_args(Lang::En, "notfound.body", &[("path", "/x")]).contains("/x"),
            true
        );
        assert_eq!(t(Lang::Fi, "no.such.key"), "no.such.key");
    }
}
