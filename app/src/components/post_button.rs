//! A button that acts on one item and works before and without JavaScript:
//! a small form posted to the server function, which answers a plain form
//! with the page again (see `api::ssr::plain_form`); once the page is
//! hydrated, the press is handled here instead and the form is not sent.

use leptos::prelude::*;

#[component]
pub fn PostButton(
    /// The server function's URL, e.g. `/api/me/renew`.
    action: &'static str,
    /// The item's id, sent as `id`.
    id: String,
    class: &'static str,
    #[prop(into)] disabled: Signal<bool>,
    #[prop(optional)] describedby: Option<String>,
    on_press: Callback<()>,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="post" action=action class="inline-form">
            <input type="hidden" name="id" value=id/>
            <button type="submit" class=class aria-describedby=describedby disabled=move || disabled.get()
                on:click=move |ev| {
                    ev.prevent_default();
                    on_press.run(());
                }>
                {children()}
            </button>
        </form>
    }
}
