//! The address of the page being shown, read the same way on the server
//! (the request's URI) and in the browser (`window.location`).
//!
//! Kauko's pages are rendered on the server and only their interactive
//! parts (islands, see `app/src/lib.rs`) run in the browser. Leptos's
//! router runs on the server only, so its hooks (`use_location`,
//! `use_query_map`, `use_params_map`) are not there for code inside an
//! island. These are: every page is a full page load, so the browser's
//! address is the address the server rendered.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The page's path, e.g. `/my/42`.
pub fn page_path() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|p| p.uri.path().to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        browser_location("pathname")
    }
}

/// The page's query string without its `?` (empty when there is none).
pub fn page_query() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.uri.query().map(str::to_owned))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        browser_location("search")
            .trim_start_matches('?')
            .to_owned()
    }
}

/// A part of `window.location` (`pathname` or `search`; empty outside a
/// browser).
#[cfg(not(feature = "ssr"))]
fn browser_location(part: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| match part {
                "pathname" => w.location().pathname().ok(),
                _ => w.location().search().ok(),
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = part;
        String::new()
    }
}

/// The page's query parameters, decoded.
pub fn query_map() -> ParamsMap {
    form_urlencoded::parse(page_query().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The page's query parameters as a signal, like the router's hook (they do
/// not change while the page is shown).
pub fn use_query_map() -> Signal<ParamsMap> {
    Signal::stored(query_map())
}

/// The last segment of the page's path, decoded: a route's `:id` or `:code`.
pub fn path_tail() -> String {
    last_segment(&page_path())
}

fn last_segment(path: &str) -> String {
    let tail = path.rsplit('/').next().unwrap_or_default();
    // Percent-decoded as a path is: `+` stays a `+`.
    percent_encoding::percent_decode_str(tail)
        .decode_utf8_lossy()
        .into_owned()
}

/// This page in another language: the same path and query, with `lang` set
/// (a request form opened from an OpenURL keeps its citation).
pub fn in_language(path: &str, query: &str, lang: &str) -> String {
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && *pair != "lang" && !pair.starts_with("lang="))
        .collect();
    if kept.is_empty() {
        format!("{path}?lang={lang}")
    } else {
        format!("{path}?{}&lang={lang}", kept.join("&"))
    }
}

/// Whether the page is `prefix` or under it (for `aria-current`).
pub fn is_under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_match_whole_segments() {
        assert!(is_under("/staff", "/staff"));
        assert!(is_under("/staff/fees", "/staff"));
        assert!(!is_under("/staffing", "/staff"));
        assert!(!is_under("/my", "/staff"));
    }

    #[test]
    fn another_language_keeps_the_query() {
        assert_eq!(in_language("/", "", "sv"), "/?lang=sv");
        assert_eq!(in_language("/my", "lang=fi", "en"), "/my?lang=en");
        assert_eq!(
            in_language("/request", "rft.atitle=A%26B&lang=fi&id=10.1%2Fx", "sv"),
            "/request?rft.atitle=A%26B&id=10.1%2Fx&lang=sv"
        );
        assert_eq!(
            in_language("/lend", "language=x", "en"),
            "/lend?language=x&lang=en"
        );
    }

    #[test]
    fn the_last_segment_is_decoded_as_a_path() {
        assert_eq!(last_segment("/my/42"), "42");
        assert_eq!(last_segment("/lend/HELKA%20A+B"), "HELKA A+B");
        assert_eq!(last_segment("/lend/%zz%"), "%zz%");
    }
}
