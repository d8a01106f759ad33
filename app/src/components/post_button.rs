//! A button that acts on one item: a small form posted to the server
//! function, which answers a plain form with the page it came from and the
//! result in its address (see `api::ssr::plain_form`). Works with and
//! without JavaScript alike.

use leptos::prelude::*;

#[component]
pub fn PostButton(
    /// The server function's URL, e.g. `/api/me/renew`.
    action: &'static str,
    /// The item's id, sent as `id`.
    id: String,
    class: &'static str,
    #[prop(optional)] describedby: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="post" action=action class="inline-form">
            <input type="hidden" name="id" value=id/>
            <button type="submit" class=class aria-describedby=describedby>
                {children()}
            </button>
        </form>
    }
}
