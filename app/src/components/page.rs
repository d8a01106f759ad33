//! A page's heading and document title, kept in step.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::site::use_i18n;

/// Sets `<title>` to "Page – Kauko – Library" and renders the `<h1>`.
#[component]
pub fn PageTitle(key: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let title = i18n.t(key);
    let app = i18n.t("app.name");
    let library = i18n.library_name();
    let full = move || {
        let library = library();
        let text = if library.is_empty() {
            format!("{} – {}", title(), app())
        } else {
            format!("{} – {} – {}", title(), app(), library)
        };
        // leptos_meta writes the server-rendered <title> text unescaped; in
        // the browser it sets document.title, which needs no escaping.
        if cfg!(feature = "ssr") {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        } else {
            text
        }
    };
    // On the server the title is fixed text: leptos_meta reads it while
    // leptos_axum finishes the response, when this page's reactive values
    // (the language) may already be disposed; reading them then panicked
    // under load ("already been disposed"). In the browser it follows the
    // language.
    #[cfg(feature = "ssr")]
    let text = leptos::prelude::TextProp::from(full());
    #[cfg(not(feature = "ssr"))]
    let text = leptos::prelude::TextProp::from(full);
    view! {
        <Title text=text/>
        <h1>{title}</h1>
    }
}
