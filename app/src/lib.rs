//! Kauko's Leptos app: the page shell, routes, components and server
//! functions, and the domain types shared by the server and the browser.

pub mod api;
pub mod components;
pub mod desk;
pub mod domain;
pub mod i18n;
pub mod lookup;
pub mod outbox;
pub mod pages;
pub mod port;
pub mod settings;
pub mod site;
pub mod staff_import;
pub mod viewer;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

use crate::components::layout::{Footer, Header};
use crate::i18n::Lang;
use crate::site::{provide_site, SiteInfo};

/// The HTML document the server renders around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let site = use_context::<SiteInfo>().unwrap_or_default();
    let lang = site::request_lang(&site);
    #[cfg(feature = "ssr")]
    let viewer = viewer::request_viewer();
    #[cfg(not(feature = "ssr"))]
    let viewer = None;
    let boot = site::boot_json(&site, lang, viewer);
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
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
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
        <Stylesheet id="kauko" href="/pkg/kauko.css"/>
        <Router>
            // rel="external": the router leaves the link to the browser, which
            // moves focus to <main> as a skip link must.
            <a class="skip-link" href="#main" rel="external">{site::tr("skip.main")}</a>
            <Header/>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=StaticSegment("") view=pages::HomePage/>
                    <Route path=StaticSegment("request") view=pages::RequestPage/>
                    <Route path=StaticSegment("my") view=pages::MyRequestsPage/>
                    <Route path=leptos_router::path!("/my/:id") view=pages::my_request::MyRequestPage/>
                    <Route path=StaticSegment("lend") view=pages::LendPage/>
                    <Route path=leptos_router::path!("/lend/:code") view=pages::LendPartnerPage/>
                    <Route path=StaticSegment("staff") view=pages::StaffPage/>
                    <Route path=leptos_router::path!("/staff/borrowing") view=desk::queue::BorrowingQueuePage/>
                    <Route path=leptos_router::path!("/staff/borrowing/:id") view=desk::request::BorrowingRequestPage/>
                    <Route path=leptos_router::path!("/staff/lending") view=desk::queue::LendingQueuePage/>
                    <Route path=leptos_router::path!("/staff/lending/:id") view=desk::request::LendingRequestPage/>
                    <Route path=leptos_router::path!("/staff/partners/import") view=pages::staff_import::StaffImportPage/>
                    <Route path=leptos_router::path!("/staff/outbox") view=pages::staff_outbox::StaffOutboxPage/>
                    <Route path=leptos_router::path!("/staff/lending-review") view=pages::staff_review::StaffReviewPage/>
                    <Route path=leptos_router::path!("/staff/mail") view=pages::staff_mail::StaffMailPage/>
                    <Route path=StaticSegment("accessibility") view=pages::AccessibilityPage/>
                </Routes>
            </main>
            <Footer/>
        </Router>
    }
}

/// Pages a test or tool can walk: every route of the shell.
pub const SHELL_PATHS: [&str; 6] = ["/", "/request", "/my", "/lend", "/staff", "/accessibility"];

/// The default language when nothing in the request says otherwise.
pub const DEFAULT_LANG: Lang = Lang::Fi;
