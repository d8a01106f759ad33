//! The frame around every page: header with the service's and library's
//! names, language switcher and main navigation, and the footer.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::i18n::Lang;
use crate::site::{tr, use_i18n};
use crate::viewer::{login_href, use_viewer};

#[component]
pub fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
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
                    <li><A href="/request">{tr("nav.request")}</A></li>
                    <li><A href="/my">{tr("nav.my_requests")}</A></li>
                    <li><A href="/lend">{tr("nav.lend")}</A></li>
                    // rel="external": a full page load, so the staff pages
                    // arrive with every string (a patron page has only the
                    // patron part; app::i18n::Part).
                    <li><a href="/staff" rel="external" aria-current=move || {
                        let path = location.pathname.get();
                        (path == "/staff" || path.starts_with("/staff/")).then_some("page")
                    }>{tr("nav.staff")}</a></li>
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
            let location = use_location();
            let href = move || {
                let search = location.search.get();
                let query = if search.is_empty() || search.starts_with('?') {
                    search
                } else {
                    format!("?{search}")
                };
                login_href(&format!("{}{}", location.pathname.get(), query))
            };
            // rel="external": a full page load, through the identity provider.
            view! { <a class="account account__button" href=href rel="external">{tr("auth.sign_in")}</a> }.into_any()
        }
    }
}

/// Links to the same page in each language. Without JavaScript they load
/// the page with `?lang=`; after hydration they switch in place.
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let links = Lang::ALL
        .into_iter()
        .map(|lang| {
            let href = move || format!("{}?lang={}", location.pathname.get(), lang.code());
            let current = move || i18n.lang() == lang;
            view! {
                <li>
                    <a
                        href=href
                        hreflang=lang.code()
                        lang=lang.code()
                        rel="alternate"
                        aria-current=move || current().then_some("true")
                        on:click=move |ev| {
                            ev.prevent_default();
                            i18n.switch(lang);
                        }
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
