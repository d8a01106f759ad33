use leptos::prelude::*;

use crate::components::page::PageTitle;
use crate::site::tr;

#[component]
pub fn AccessibilityPage() -> impl IntoView {
    view! {
        <PageTitle key="a11y.title"/>
        <p>{tr("a11y.p1")}</p>
        <p>{tr("a11y.p2")}</p>
        <p>{tr("a11y.p3")}</p>
    }
}
