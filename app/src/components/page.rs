//! A page's heading and document title, kept in step.

use leptos::prelude::*;

use crate::site::use_i18n;

/// Sets `<title>` to "Page – Kauko – Library" and renders the `<h1>`.
/// The title is written by the server; the page's language does not
/// change while it is shown (app/src/hydration.rs), so in the browser,
/// where a page title may be part of an island, only the heading remains.
#[component]
pub fn PageTitle(key: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let title = i18n.t(key);
    // On the server the title goes to leptos_meta when the component is
    // made (it is not part of the view: the page in the browser has only
    // the heading, so both render the same markup).
    #[cfg(feature = "ssr")]
    {
        let library = i18n.library_name()();
        let app = i18n.t("app.name")();
        let text = if library.is_empty() {
            format!("{} – {}", title(), app)
        } else {
            format!("{} – {} – {}", title(), app, library)
        };
        // leptos_meta writes the <title> text unescaped. It is fixed text:
        // leptos_meta reads it while leptos_axum finishes the response,
        // when this page's reactive values may already be disposed;
        // reading them then panicked under load ("already been disposed").
        let text = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let _ = leptos_meta::Title(leptos_meta::TitleProps::builder().text(text).build());
    }
    view! { <h1>{title}</h1> }
}
