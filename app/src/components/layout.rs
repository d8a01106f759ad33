//! The frame around every page: header with the service's and library's
//! names, language switcher and main navigation, and the footer. Rendered
//! on the server only (plain links and forms; app/src/hydration.rs).

use leptos::prelude::*;

use crate::i18n::Lang;
use crate::page_url::{in_language, is_under, page_path, page_query};
use crate::site::{tr, use_i18n};
use crate::viewer::{login_href, use_viewer};

#[component]
pub fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let path = page_path();
    let current = |section: &str| is_under(&path, section).then_some("page");
    view! {
        <header class="site-header">
            <div class="site-header__top">
                <a class="brand" href="/">
                    <span class="brand__name">{tr("app.name")}</span>
                    <span class="brand__library">{i18n.library_name()}</span>
                </a>
                <div class="site-header__tools">
                    <LanguageSwitcher/>
                    <Account/>
                </div>
            </div>
            <nav class="site-nav" aria-label=tr("nav.label")>
                <ul>
                    <li><a href="/request" aria-current=current("/request")>{tr("nav.request")}</a></li>
                    <li><a href="/my" aria-current=current("/my")>{tr("nav.my_requests")}</a></li>
                    <li><a href="/lend" aria-current=current("/lend")>{tr("nav.lend")}</a></li>
                    <li><a href="/staff" aria-current=current("/staff")>{tr("nav.staff")}</a></li>
                </ul>
            </nav>
        </header>
    }
}

/// "Sign in", or the signed-in user's name and "Sign out".
#[component]
pub fn Account() -> impl IntoView {
    let i18n = use_i18n();
    match use_viewer() {
        Some(viewer) => {
            let name = viewer.name.clone();
            let label =
                move || crate::i18n::t_args(i18n.lang(), "auth.signed_in_as", &[("name", &name)]);
            view! {
                <div class="account">
                    <span class="account__name">{label}</span>
                    <form method="post" action="/auth/logout">
                        <button type="submit" class="account__button">{tr("auth.sign_out")}</button>
                    </form>
                </div>
            }
            .into_any()
        }
        None => {
            let query = page_query();
            let query = if query.is_empty() {
                query
            } else {
                format!("?{query}")
            };
            let href = login_href(&format!("{}{}", page_path(), query));
            view! { <a class="account account__button" href=href>{tr("auth.sign_in")}</a> }
                .into_any()
        }
    }
}

/// Links to the same page in each language: they load the page with
/// `?lang=` (keeping the rest of its address), and the server remembers
/// the choice in a cookie.
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let (path, query) = (page_path(), page_query());
    let links = Lang::ALL
        .into_iter()
        .map(|lang| {
            let href = in_language(&path, &query, lang.code());
            let current = move || i18n.lang() == lang;
            view! {
                <li>
                    <a
                        href=href
                        hreflang=lang.code()
                        lang=lang.code()
                        rel="alternate"
                        aria-current=move || current().then_some("true")
                    >
                        {lang.native_name()}
                        <span class="visually-hidden" lang=move || i18n.lang().code()>
                            {move || if current() { format!(" {}", crate::i18n::t(i18n.lang(), "lang.current")) } else { String::new() }}
                        </span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="lang-switcher" aria-label=tr("lang.label")>
            <ul>{links}</ul>
        </nav>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <footer class="site-footer">
            <p>{tr("footer.powered")} " · " {i18n.library_name()}</p>
            <p><a href="/accessibility">{tr("footer.accessibility")}</a></p>
        </footer>
    }
}
