//! Pages whose capability is still being built say so plainly, and the
//! staff front page, which lists the staff tools that are ready.

use leptos::prelude::*;

use crate::components::page::PageTitle;
use crate::site::tr;
use crate::viewer::{login_href, use_viewer};

/// Shown instead of a page that needs sign-in (after client-side
/// navigation; full page loads are redirected by the server).
#[component]
pub fn SignInNeeded(title: &'static str, path: &'static str) -> impl IntoView {
    view! {
        <PageTitle key=title/>
        <p>{tr("auth.sign_in_needed")}</p>
        <p><a class="button" href=login_href(path) rel="external">{tr("auth.sign_in")}</a></p>
    }
}

/// A staff page's gate: a signed-out visitor is asked to sign in, a patron
/// is told the page is not for them (the server answers 403 as well), and
/// staff get the page itself.
#[component]
pub fn StaffOnly(title: &'static str, path: &'static str, children: Children) -> impl IntoView {
    match use_viewer() {
        None => view! { <SignInNeeded title=title path=path/> }.into_any(),
        Some(v) if !v.staff => view! {
            <PageTitle key="forbidden.title"/>
            <p>{tr("forbidden.body")}</p>
        }
        .into_any(),
        Some(_) => children().into_any(),
    }
}

#[component]
pub fn StaffPage() -> impl IntoView {
    view! { <StaffOnly title="page.staff.title" path="/staff"><StaffTools/></StaffOnly> }
}

/// The staff front page: each tool that is ready, and what is still coming.
#[component]
fn StaffTools() -> impl IntoView {
    view! {
        <PageTitle key="page.staff.title"/>
        <p class="lead">{tr("staff.lead")}</p>
        <ul class="cards">
            <li class="card">
                <h2><a href="/staff/borrowing">{tr("desk.borrowing.title")}</a></h2>
                <p>{tr("staff.borrowing.body")}</p>
            </li>
            <li class="card">
                <h2><a href="/staff/lending">{tr("desk.lending.title")}</a></h2>
                <p>{tr("staff.lending.body")}</p>
            </li>
            <li class="card">
                <h2><a href="/staff/partners/import">{tr("import.title")}</a></h2>
                <p>{tr("staff.import.body")}</p>
            </li>
            <li class="card">
                <h2><a href="/staff/outbox">{tr("outbox.title")}</a></h2>
                <p>{tr("staff.outbox.body")}</p>
            </li>
            <li class="card">
                <h2><a href="/staff/lending-review">{tr("review.title")}</a></h2>
                <p>{tr("staff.review.body")}</p>
            </li>
            <li class="card">
                <h2><a href="/staff/mail">{tr("mail.title")}</a></h2>
                <p>{tr("staff.mail.body")}</p>
            </li>
            <li class="card">
                <h2><a href="/staff/statistics">{tr("stats.title")}</a></h2>
                <p>{tr("staff.stats.body")}</p>
            </li>
            <li class="card">
                <h2><a href="/staff/letters">{tr("letters.title")}</a></h2>
                <p>{tr("staff.letters.body")}</p>
            </li>
            <li class="card">
                <h2><a href="/staff/fees">{tr("fees.title")}</a></h2>
                <p>{tr("staff.fees.body")}</p>
            </li>
        </ul>
        <p class="notice" role="status">{tr("staff.coming")}</p>
    }
}
