//! What the app knows about the site it runs in (the library's name, the
//! default language) and the language of the current page. The server
//! provides [`SiteInfo`] as context; the browser reads the same facts from a
//! JSON block the server wrote into the page, so hydration renders the same.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::i18n::{self, Lang};
use crate::viewer::{Viewer, ViewerContext};

/// A text in each of Kauko's languages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedText {
    pub fi: String,
    pub sv: String,
    pub en: String,
}

impl LocalizedText {
    pub fn get(&self, lang: Lang) -> &str {
        let text = match lang {
            Lang::Fi => &self.fi,
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
        };
        if text.is_empty() {
            [&self.en, &self.fi, &self.sv]
                .into_iter()
                .find(|t| !t.is_empty())
                .map_or("", |t| t.as_str())
        } else {
            text
        }
    }
}

/// A place where patrons collect physical items, from configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupLocation {
    pub code: String,
    pub name: LocalizedText,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub library_name: LocalizedText,
    pub default_lang: Lang,
    /// Where patrons can collect loans; the request form offers these.
    #[serde(default)]
    pub pickup_locations: Vec<PickupLocation>,
}

impl SiteInfo {
    /// The name of a pickup location in a language (the code when unknown).
    pub fn pickup_name(&self, code: &str, lang: Lang) -> String {
        self.pickup_locations
            .iter()
            .find(|p| p.code == code)
            .map_or_else(|| code.to_owned(), |p| p.name.get(lang).to_owned())
    }
}

impl Default for SiteInfo {
    fn default() -> Self {
        Self {
            library_name: LocalizedText::default(),
            default_lang: crate::DEFAULT_LANG,
            pickup_locations: Vec::new(),
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Boot {
    lang: Lang,
    site: SiteInfo,
    #[serde(default)]
    viewer: Option<Viewer>,
    /// Where the browser fetches the page's strings, in its language.
    #[serde(default)]
    catalog: String,
}

/// The JSON block the browser reads at hydration, safe inside `<script>`.
#[cfg(feature = "ssr")]
pub fn boot_json(site: &SiteInfo, lang: Lang, viewer: Option<Viewer>, part: i18n::Part) -> String {
    let json = serde_json::to_string(&Boot {
        lang,
        site: site.clone(),
        viewer,
        catalog: i18n::catalog_url(lang, part),
    })
    .unwrap_or_else(|_| "{}".into());
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The language of the current request (server side), from `?lang=`, the
/// cookie, `Accept-Language` and the default, in that order.
#[cfg(feature = "ssr")]
pub fn request_lang(site: &SiteInfo) -> Lang {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return site.default_lang;
    };
    lang_of_request(&parts.uri, &parts.headers, site.default_lang)
}

/// The language a request asks for (used by the server's middleware too).
pub fn lang_of_request(uri: &http::Uri, headers: &http::HeaderMap, default: Lang) -> Lang {
    let header = |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let query = uri.query().and_then(|q| i18n::query_value(q, "lang"));
    let cookie =
        header(http::header::COOKIE).and_then(|c| i18n::cookie_value(c, i18n::LANG_COOKIE));
    i18n::negotiate(
        query,
        cookie,
        header(http::header::ACCEPT_LANGUAGE),
        default,
    )
}

#[cfg(not(feature = "ssr"))]
pub fn request_lang(site: &SiteInfo) -> Lang {
    site.default_lang
}

/// The language and site facts of this page, shared by every component.
/// The language is fixed for the page's life: the language switcher loads
/// the page again in the other language (`page_url::in_language`).
#[derive(Clone, Copy)]
pub struct I18n {
    lang: Lang,
    site: StoredValue<SiteInfo>,
}

impl I18n {
    pub fn lang(self) -> Lang {
        self.lang
    }

    /// A translated string, as a view's text.
    pub fn t(self, key: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
        move || i18n::t(self.lang, key)
    }

    pub fn library_name(self) -> impl Fn() -> String + Copy + Send + Sync + 'static {
        move || {
            self.site
                .with_value(|s| s.library_name.get(self.lang).to_owned())
        }
    }

    /// The configured pickup locations (code, name in the current language).
    pub fn pickup_locations(self) -> Vec<(String, String)> {
        let lang = self.lang;
        self.site.with_value(|s| {
            s.pickup_locations
                .iter()
                .map(|p| (p.code.clone(), p.name.get(lang).to_owned()))
                .collect()
        })
    }

    /// A pickup location's name in the current language.
    pub fn pickup_name(self, code: &str) -> String {
        let lang = self.lang;
        self.site.with_value(|s| s.pickup_name(code, lang))
    }
}

pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

/// Shorthand for a reactive translated string in a view.
pub fn tr(key: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    use_i18n().t(key)
}

/// Makes [`I18n`] available to the app's components.
pub fn provide_site() {
    #[cfg(feature = "ssr")]
    let (lang, site, viewer) = {
        let site = use_context::<SiteInfo>().unwrap_or_default();
        (request_lang(&site), site, crate::viewer::request_viewer())
    };
    #[cfg(not(feature = "ssr"))]
    let (lang, site, viewer) = browser::read_boot()
        .map(|b| (b.lang, b.site, b.viewer))
        .unwrap_or_default();
    provide_context(I18n {
        lang,
        site: StoredValue::new(site),
    });
    provide_context(ViewerContext(StoredValue::new(viewer)));
}

#[cfg(not(feature = "ssr"))]
mod browser {
    use super::*;

    pub(super) fn read_boot() -> Option<Boot> {
        #[cfg(feature = "hydrate")]
        {
            let text = web_sys::window()?
                .document()?
                .get_element_by_id("kauko-boot")?
                .text_content()?;
            serde_json::from_str(&text).ok()
        }
        #[cfg(not(feature = "hydrate"))]
        None
    }
}

/// Fetches the strings of the page's language (named in the page by the
/// server) before the browser hydrates; `false` if they could not be had.
#[cfg(feature = "hydrate")]
pub async fn load_page_strings() -> bool {
    let Some(boot) = browser::read_boot() else {
        return false;
    };
    !boot.catalog.is_empty() && i18n::ensure_loaded(boot.lang, &boot.catalog).await
}

#[cfg(feature = "ssr")]
/// The Content-Security-Policy of a rendered page: scripts only from our
/// origin or carrying this response's nonce (Leptos puts it on its
/// hydration and streaming scripts), WebAssembly allowed to compile, no
/// inline styles, no plugins, no framing by other sites.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_json_cannot_close_the_script_element() {
        let site = SiteInfo {
            library_name: LocalizedText {
                fi: "</script><b>".into(),
                sv: String::new(),
                en: "A & B".into(),
            },
            default_lang: Lang::Sv,
            pickup_locations: vec![],
        };
        let json = boot_json(&site, Lang::En, None, i18n::Part::Request);
        assert!(!json.contains('<') && !json.contains('>'));
        let back: Boot = serde_json::from_str(&json).unwrap();
        assert_eq!(back.site, site);
        assert_eq!(back.lang, Lang::En);
        assert_eq!(site.library_name.get(Lang::Sv), "A & B");
    }

    #[test]
    fn request_language_from_uri_cookie_and_header() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::ACCEPT_LANGUAGE,
            "sv-FI,sv;q=0.9".parse().unwrap(),
        );
        let uri: http::Uri = "/my?x=1".parse().unwrap();
        assert_eq!(lang_of_request(&uri, &headers, Lang::Fi), Lang::Sv);
        headers.insert(http::header::COOKIE, "kauko_lang=en".parse().unwrap());
        assert_eq!(lang_of_request(&uri, &headers, Lang::Fi), Lang::En);
        let uri: http::Uri = "/my?lang=fi".parse().unwrap();
        assert_eq!(lang_of_request(&uri, &headers, Lang::Sv), Lang::Fi);
    }
}
