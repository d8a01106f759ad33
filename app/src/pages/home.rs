use leptos::prelude::*;

use crate::components::page::PageTitle;
use crate::site::tr;

#[component]
pub fn HomePage() -> impl IntoView {
    let card = |href: &'static str, title: &'static str, body: &'static str| {
        view! {
            <li class="card">
                <h2><a href=href>{tr(title)}</a></h2>
                <p>{tr(body)}</p>
            </li>
        }
    };
    view! {
        <PageTitle key="home.title"/>
        <p class="lead">{tr("home.lead")}</p>
        <ul class="cards">
            {card("/request", "home.request.title", "home.request.body")}
            {card("/my", "home.my.title", "home.my.body")}
            {card("/lend", "home.lend.title", "home.lend.body")}
            {card("/staff", "home.staff.title", "home.staff.body")}
        </ul>
    }
}
