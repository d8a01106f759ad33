//! Pages whose capability is still being built say so plainly.

use leptos::prelude::*;

use crate::components::page::PageTitle;
use crate::site::tr;

#[component]
fn Coming(title: &'static str) -> impl IntoView {
    view! {
        <PageTitle key=title/>
        <p class="notice" role="status">{tr("coming.body")}</p>
    }
}

#[component]
pub fn RequestPage() -> impl IntoView {
    view! { <Coming title="page.request.title"/> }
}

#[component]
pub fn MyRequestsPage() -> impl IntoView {
    view! { <Coming title="page.my.title"/> }
}

#[component]
pub fn LendPage() -> impl IntoView {
    view! { <Coming title="page.lend.title"/> }
}

#[component]
pub fn StaffPage() -> impl IntoView {
    view! { <Coming title="page.staff.title"/> }
}
