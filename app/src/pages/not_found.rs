use leptos::prelude::*;

use crate::components::page::PageTitle;
use crate::site::{tr, use_i18n};

/// The translated 404 page; the server answers it with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    let path = crate::page_url::page_path();
    let body = move || crate::i18n::t_args(i18n.lang(), "notfound.body", &[("path", &path)]);
    view! {
        <PageTitle key="notfound.title"/>
        <p>{body}</p>
        <p><a href="/">{tr("notfound.home")}</a></p>
    }
}
