//! Kauko's Leptos app: the page shell, routes, components and server
//! functions, and the domain types shared by the server and the browser.

pub mod api;
pub mod components;
pub mod desk;
pub mod domain;
pub mod fees;
pub mod hydration;
pub mod i18n;
pub mod letters;
pub mod lookup;
pub mod outbox;
pub mod page_url;
pub mod pages;
pub mod port;
pub mod settings;
pub mod site;
pub mod staff_import;
pub mod stats;
pub mod viewer;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode, StaticSegment,
};

use crate::components::layout::{Footer, Header};
use crate::hydration::IslandScripts;
use crate::i18n::Lang;
use crate::site::{provide_site, SiteInfo};

/// The HTML document the server renders around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let site = use_context::<SiteInfo>().unwrap_or_default();
    let lang = site::request_lang(&site);
    #[cfg(feature = "ssr")]
    let viewer = viewer::request_viewer();
    #[cfg(not(feature = "ssr"))]
    let viewer: Option<viewer::Viewer> = None;
    // The browser gets only the strings the page's islands show
    // (app::i18n::Part).
    #[cfg(feature = "ssr")]
    let (boot, catalog) = {
        let part = site::request_strings();
        (
            site::boot_json(&site, lang, viewer, part),
            i18n::catalog_url(lang, part),
        )
    };
    #[cfg(not(feature = "ssr"))]
    let (boot, catalog) = {
        let _ = viewer;
        (String::new(), String::new())
    };
    // The page's Content-Security-Policy names this response's nonce,
    // which Leptos puts on every script it writes.
    #[cfg(feature = "ssr")]
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

/// The application: header, routed main content, footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_site();

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
                    // island is listed in `page_has_islands` below.
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

/// Whether the page at `path` has islands (code for the browser), so its
/// `<head>` preloads the WebAssembly module (app/src/hydration.rs). Kept
/// beside the routes above: a page listed wrongly only loads a little
/// slower (the page's script itself looks for islands).
pub(crate) fn page_has_islands(path: &str) -> bool {
    let without =
        matches!(path, "/" | "/accessibility" | "/staff" | "/my") || path.starts_with("/my/");
    !without
}

/// Whether a page's islands are lazy ones (`#[island(lazy)]`, split off
/// into chunks): the lending forms and the staff pages.
#[cfg(feature = "ssr")]
pub(crate) fn page_has_lazy_islands(path: &str) -> bool {
    path == "/lend" || path.starts_with("/lend/") || path.starts_with("/staff/")
}

/// Pages a test or tool can walk: every route of the shell.
pub const SHELL_PATHS: [&str; 6] = ["/", "/request", "/my", "/lend", "/staff", "/accessibility"];

/// The default language when nothing in the request says otherwise.
pub const DEFAULT_LANG: Lang = Lang::Fi;
