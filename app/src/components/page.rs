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
    view! {
        <Title text=full/>
        <h1>{title}</h1>
    }
}
