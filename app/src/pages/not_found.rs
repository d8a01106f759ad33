use leptos::prelude::*;
use leptos_router::hooks::use_location;

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
    let path = use_location().pathname;
    let body = move || crate::i18n::t_args(i18n.lang(), "notfound.body", &[("path", &path.get())]);
    view! {
        <PageTitle key="notfound.title"/>
        <p>{body}</p>
        <p><a href="/">{tr("notfound.home")}</a></p>
    }
}
