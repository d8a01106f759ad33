//! The staff pages' tables.

use leptos::prelude::*;

use crate::site::tr;

/// A table that scrolls sideways on its own on a small screen: a region
/// named by the table's caption and focusable, so a keyboard can scroll it
/// (WCAG 2.1.1) and a screen reader announces what it holds. `children`
/// are the table's head and body.
#[component]
pub fn ScrollTable(
    /// The caption's id, unique on the page.
    #[prop(into)]
    id: String,
    /// The caption's translation key.
    caption: &'static str,
    /// The caption for screen readers only (a heading above says it).
    #[prop(optional)]
    caption_hidden: bool,
    /// More classes for the table.
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let table_class = if class.is_empty() {
        "import-table".to_owned()
    } else {
        format!("import-table {class}")
    };
    let labelled_by = id.clone();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-labelledby=labelled_by>
            <table class=table_class>
                <caption id=id class=caption_hidden.then_some("visually-hidden")>{tr(caption)}</caption>
                {children()}
            </table>
        </div>
    }
}
