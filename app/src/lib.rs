//! Kauko's Leptos app: the page shell, routes, components and server
//! functions, and the domain types shared by the server and the browser.

pub mod api;
pub mod components;
#[cfg(feature = "lazy-islands")]
pub mod desk;
pub mod domain;
#[cfg(feature = "lazy-islands")]
pub mod fees;
pub mod hydration;
pub mod i18n;
#[cfg(feature = "lazy-islands")]
pub mod letters;
pub mod lookup;
pub mod outbox;
pub mod page_url;
pub mod pages;
pub mod port;
pub mod settings;
pub mod site;
pub mod staff_import;
#[cfg(feature = "lazy-islands")]
pub mod stats;
pub mod viewer;

#[cfg(feature = "ssr")]
use leptos::prelude::*;

use crate::i18n::Lang;

/// The HTML document the server renders around the app (server side only;
/// the browser's modules hydrate islands and never render the shell).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use crate::hydration::IslandScripts;
    use crate::site::SiteInfo;
    use leptos_meta::{HashedStylesheet, MetaTags};
    let site = use_context::<SiteInfo>().unwrap_or_default();
    let lang = site::request_lang(&site);
    let viewer = viewer::request_viewer();
    // The browser gets only the strings the page's islands show
    // (app::i18n::Part).
    let part = PageKind::of(&page_url::page_path()).strings();
    let boot = site::boot_json(&site, lang, viewer, part);
    let catalog = i18n::catalog_url(lang, part);
    // The page's Content-Security-Policy names this response's nonce,
    // which Leptos puts on every script it writes.
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(value) = http::HeaderValue::from_str(&site::page_csp(&nonce)) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <script id="kauko-boot" type="application/json" inner_html=boot></script>
                // kauko.css, or kauko.<hash>.css when the build hashed it.
                <HashedStylesheet options=options.clone() id="kauko"/>
                <AutoReload options=options.clone()/>
                <IslandScripts options catalog/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: header, routed main content, footer (rendered by the
/// server only, as [`shell`]).
#[cfg(feature = "ssr")]
#[component]
pub fn App() -> impl IntoView {
    use crate::components::layout::{Footer, Header};
    use leptos_router::{
        components::{Route, Router, Routes},
        path, SsrMode, StaticSegment,
    };
    leptos_meta::provide_meta_context();
    site::provide_site();

    view! {
        <Router>
            <a class="skip-link" href="#main">{site::tr("skip.main")}</a>
            <Header/>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=StaticSegment("") view=pages::HomePage/>
                    <Route path=StaticSegment("request") view=pages::RequestPage/>
                    // In order (every page with data): the page's data is
                    // in the HTML as it arrives, so the page (and its
                    // cancel and renew forms) works before and without
                    // JavaScript, and each island hydrates what the server
                    // rendered (out of order, an island's late parts were
                    // not what its hydration expected). A page without an
                    // island is listed in `PageKind` below.
                    <Route path=StaticSegment("my") view=pages::MyRequestsPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/my/:id") view=pages::my_request::MyRequestPage ssr=SsrMode::InOrder/>
                    <Route path=StaticSegment("lend") view=pages::LendPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/lend/:code") view=pages::LendPartnerPage ssr=SsrMode::InOrder/>
                    <Route path=StaticSegment("staff") view=pages::StaffPage/>
                    <Route path=path!("/staff/borrowing") view=desk::queue::BorrowingQueuePage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/borrowing/:id") view=desk::request::BorrowingRequestPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/lending") view=desk::queue::LendingQueuePage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/lending/:id") view=desk::request::LendingRequestPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/partners/import") view=pages::staff_import::StaffImportPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/outbox") view=pages::staff_outbox::StaffOutboxPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/lending-review") view=pages::staff_review::StaffReviewPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/mail") view=pages::staff_mail::StaffMailPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/statistics") view=stats::page::StatisticsPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/letters") view=letters::page::LettersPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/staff/fees") view=fees::page::FeesPage ssr=SsrMode::InOrder/>
                    <Route path=StaticSegment("accessibility") view=pages::AccessibilityPage/>
                </Routes>
            </main>
            <Footer/>
        </Router>
    }
}

/// What a page's `<head>` loads for the browser (app/src/hydration.rs),
/// by the page's path. Kept beside the routes above: a page with a lazy
/// island listed wrongly here would load the patron's module, which lacks
/// that island's code (the page's script then logs an error, which fails
/// every end2end test of the page).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PageKind {
    /// No islands (the home page, My requests and a request's page, the
    /// accessibility statement, the staff's start page): no WebAssembly,
    /// no strings.
    Static,
    /// The request form, the patrons' one island: the patron's module and
    /// the request form's strings. Also any address no route knows (the
    /// not-found page holds no island, so its script loads nothing).
    Patron,
    /// The lending forms (`/lend`, `/lend/:code`): the full module with
    /// their lazy islands and the lending forms' strings.
    Lend,
    /// A staff page (`/staff/…`): the full module with its lazy island and
    /// all the strings.
    Staff,
}

impl PageKind {
    /// The kind of the page at `path`.
    pub fn of(path: &str) -> Self {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
        };
        if matches!(path, "/" | "/accessibility" | "/staff" | "/my") || under("/my") {
            Self::Static
        } else if under("/staff") {
            Self::Staff
        } else if path == "/lend" || under("/lend") {
            Self::Lend
        } else {
            Self::Patron
        }
    }

    /// Whether the page has islands, so its `<head>` preloads a module and
    /// the strings.
    pub fn has_islands(self) -> bool {
        self != Self::Static
    }

    /// Whether the page's islands are lazy ones (`#[island(lazy)]`, in the
    /// full module only).
    pub fn has_lazy_islands(self) -> bool {
        matches!(self, Self::Lend | Self::Staff)
    }

    /// The strings the page's islands show (app::i18n::Part).
    pub fn strings(self) -> i18n::Part {
        match self {
            Self::Staff => i18n::Part::All,
            Self::Lend => i18n::Part::Lend,
            Self::Static | Self::Patron => i18n::Part::Request,
        }
    }
}

/// Pages a test or tool can walk: every route of the shell.
pub const SHELL_PATHS: [&str; 6] = ["/", "/request", "/my", "/lend", "/staff", "/accessibility"];

/// The default language when nothing in the request says otherwise.
pub const DEFAULT_LANG: Lang = Lang::Fi;

#[cfg(test)]
mod tests {
    use super::PageKind;

    #[test]
    fn each_page_loads_what_its_islands_need() {
        for static_page in ["/", "/accessibility", "/staff", "/my", "/my/42"] {
            assert_eq!(PageKind::of(static_page), PageKind::Static, "{static_page}");
            assert!(!PageKind::of(static_page).has_islands());
        }
        assert_eq!(PageKind::of("/request"), PageKind::Patron);
        assert!(!PageKind::of("/request").has_lazy_islands());
        for lend in ["/lend", "/lend/FI-TUNI"] {
            assert_eq!(PageKind::of(lend), PageKind::Lend, "{lend}");
            assert!(PageKind::of(lend).has_lazy_islands());
            assert_eq!(PageKind::of(lend).strings(), crate::i18n::Part::Lend);
        }
        for staff in [
            "/staff/borrowing",
            "/staff/borrowing/7",
            "/staff/fees",
            "/staff/partners/import",
        ] {
            assert_eq!(PageKind::of(staff), PageKind::Staff, "{staff}");
            assert!(PageKind::of(staff).has_lazy_islands());
            assert_eq!(PageKind::of(staff).strings(), crate::i18n::Part::All);
        }
        // A look-alike is not one of them.
        assert_eq!(PageKind::of("/lending"), PageKind::Patron);
        assert_eq!(PageKind::of("/staffroom"), PageKind::Patron);
        assert_eq!(PageKind::of("/myself"), PageKind::Patron);
    }
}
