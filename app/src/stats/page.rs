//! `/staff/statistics?year=YYYY`: a year's figures for borrowing and
//! lending, each beside the year before, as charts (SVG, drawn on the
//! server) with a table behind each and its CSV file, and the definitions
//! of every figure. The year is picked in a plain GET form, so the page
//! works before (and without) its script and a link keeps the year.

use crate::page_url::use_query_map;
use leptos::prelude::*;

use super::api::stats_load;
use super::chart::Chart;
use super::{change, imported_table, percent, Count, ImportedFigure, SideFigures, Statistics};
use crate::components::page::PageTitle;
use crate::domain::history::Side;
use crate::i18n::t;
use crate::pages::coming::StaffOnly;
use crate::site::{tr, use_i18n};

#[island(lazy)]
pub fn StatisticsPage() -> impl IntoView {
    view! { <StaffOnly title="stats.title" path="/staff/statistics"><StatisticsView/></StaffOnly> }
}

#[component]
fn StatisticsView() -> impl IntoView {
    let query = use_query_map();
    let year = move || query.with(|q| q.get("year").and_then(|y| y.trim().parse::<i32>().ok()));
    let data = Resource::new(year, stats_load);
    view! {
        <PageTitle key="stats.title"/>
        <p class="lead">{tr("stats.lead")}</p>
        <Suspense fallback=move || view! { <p role="status">{tr("stats.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(s) => view! { <Figures s/> }.into_any(),
                    Err(_) => view! { <p class="notice notice--error" role="alert">{tr("stats.error")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Figures(s: Statistics) -> impl IntoView {
    let year = s.year;
    view! {
        <form class="filters" method="get" action="/staff/statistics">
            <div class="field">
                <label for="stats-year">{tr("stats.year")}</label>
                <select id="stats-year" name="year">
                    {s.years.iter().map(|y| view! { <option value=y.to_string() selected=*y == year>{y.to_string()}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="button">{tr("stats.show")}</button>
        </form>
        <nav aria-label=move || t(use_i18n().lang(), "stats.sides")>
            <ul class="inline-list">
                <li><a href="#borrowing">{tr("stats.borrowing")}</a></li>
                <li><a href="#lending">{tr("stats.lending")}</a></li>
                <li><a href="#imported">{tr("stats.imported.title")}</a></li>
                <li><a href="#definitions">{tr("stats.definitions")}</a></li>
            </ul>
        </nav>
        <SideSection f=s.borrowing year/>
        <SideSection f=s.lending year/>
        <Imported figures=s.imported/>
        <Definitions/>
    }
    .into_any()
}

/// A headline figure with its change from the year before.
#[component]
fn Headline(key: &'static str, value: String, change_text: Option<String>) -> impl IntoView {
    view! {
        <div class="stat">
            <dt>{tr(key)}</dt>
            <dd>
                <span class="stat__value">{value}</span>
                {change_text.map(|c| view! { " "<span class="stat__change">{c}</span> })}
            </dd>
        </div>
    }
}

#[component]
fn SideSection(f: SideFigures, year: i32) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang();
    let (id, title) = match f.side {
        Side::Borrowing => ("borrowing", "stats.borrowing"),
        Side::Lending => ("lending", "stats.lending"),
    };
    let before = year - 1;
    let yoy = move |c: Count| {
        c.change()
            .map(|p| t_year(lang, "stats.vs_year", before, &change(lang, p)))
    };
    let fill = f
        .fill_rate()
        .map_or_else(|| "–".into(), |p| percent(lang, p));
    let fill_before = f
        .fill_rate_before()
        .map(|p| t_year(lang, "stats.fill_before", before, &percent(lang, p)));
    let series = |id: &str| -> Vec<usize> {
        match id {
            "partners" | "unfilled" | "cancelled" => vec![0],
            "turnaround" => vec![0, 2],
            _ => vec![0, 1],
        }
    };
    let tables = f.tables();
    view! {
        <section class="stats-side" aria-labelledby=format!("{id}-title") id=id>
            <h2 id=format!("{id}-title")>{tr(title)}" "{year.to_string()}</h2>
            <dl class="stats-headline">
                <Headline key="stats.row.requests" value=super::int(lang, f.requests.now) change_text=yoy(f.requests)/>
                <Headline key="stats.row.filled" value=super::int(lang, f.filled.now) change_text=yoy(f.filled)/>
                <Headline key="stats.row.fill_rate" value=fill change_text=fill_before/>
            </dl>
            <div class="stats-charts">
                {tables.into_iter().map(|table| {
                    let csv = format!("/staff/statistics/{id}/{}.csv?year={year}", table.id);
                    let series = series(table.id);
                    view! { <Chart table series csv prefix=id/> }
                }).collect_view()}
            </div>
        </section>
    }
    .into_any()
}

/// A string with `{year}` and `{value}` filled in.
fn t_year(lang: crate::i18n::Lang, key: &str, year: i32, value: &str) -> String {
    crate::i18n::t_args(lang, key, &[("year", &year.to_string()), ("value", value)])
}

/// What an import said (`?imported=N` or `?import_error=key`): only the
/// keys the import gives.
fn import_said(imported: Option<String>, error: Option<String>) -> Option<(bool, String)> {
    const ERRORS: [&str; 8] = [
        "stats.import.no_year",
        "stats.import.nothing",
        "stats.import.unreadable",
        "stats.import.no_file",
        "stats.import.no_path",
        "stats.import.no_alma",
        "stats.import.alma_failed",
        "stats.import.failed",
    ];
    if let Some(n) = imported.and_then(|n| n.parse::<u32>().ok()) {
        return Some((true, n.to_string()));
    }
    error
        .and_then(|e| ERRORS.into_iter().find(|k| *k == e))
        .map(|k| (false, k.to_owned()))
}

/// Figures imported from Alma Analytics (years before Kauko), kept apart
/// and labelled, and the forms that import them.
#[component]
fn Imported(figures: Vec<ImportedFigure>) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let said = move || query.with(|q| import_said(q.get("imported"), q.get("import_error")));
    let sources: Vec<String> = {
        let mut s: Vec<String> = figures.iter().map(|f| f.source.clone()).collect();
        s.sort();
        s.dedup();
        s
    };
    let table = imported_table(&figures);
    let empty = figures.is_empty();
    view! {
        <section aria-labelledby="imported-title" id="imported">
            <h2 id="imported-title">{tr("stats.imported.title")}</h2>
            <p>{tr("stats.imported.lead")}</p>
            {move || said().map(|(ok, v)| if ok {
                view! { <p role="status" class="notice notice--ok">{crate::i18n::t_args(i18n.lang(), "stats.import.done", &[("count", &v)])}</p> }.into_any()
            } else {
                view! { <p role="alert" class="notice notice--error">{t(i18n.lang(), &v)}</p> }.into_any()
            })}
            {(!empty).then(|| view! {
                <Chart table series=vec![0, 2] csv="/staff/statistics/alma/imported.csv".to_owned() prefix="alma"/>
                <p class="row-meta">{tr("stats.imported.sources")}" "{sources.join("; ")}</p>
            })}
            <details class="action-detail">
                <summary>{tr("stats.import.alma")}</summary>
                <form method="post" action="/staff/statistics/import-alma">
                    <div class="field">
                        <label for="import-path">{tr("stats.import.path")}</label>
                        <p class="hint" id="import-path-hint">{tr("stats.import.path_hint")}</p>
                        <input id="import-path" name="path" type="text" required aria-describedby="import-path-hint"/>
                    </div>
                    <ImportSide id="import-alma-side"/>
                    <button type="submit" class="button">{tr("stats.import.fetch")}</button>
                </form>
            </details>
            <details class="action-detail">
                <summary>{tr("stats.import.file")}</summary>
                <form method="post" action="/staff/statistics/import" enctype="multipart/form-data">
                    <div class="field">
                        <label for="import-file">{tr("stats.import.file_label")}</label>
                        <input id="import-file" name="file" type="file" required accept=".xml,.csv,text/csv,application/xml"/>
                    </div>
                    <ImportSide id="import-file-side"/>
                    <button type="submit" class="button">{tr("stats.import.upload")}</button>
                </form>
            </details>
        </section>
    }
    .into_any()
}

/// Which side a report's columns are, when their headings do not say.
#[component]
fn ImportSide(id: &'static str) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{tr("stats.import.side")}</label>
            <select id=id name="side">
                <option value="">{tr("stats.import.side_headings")}</option>
                <option value="borrowing">{tr("stats.borrowing")}</option>
                <option value="lending">{tr("stats.lending")}</option>
            </select>
        </div>
    }
}

/// What each figure means, so it can be reconciled with Alma Analytics.
#[component]
fn Definitions() -> impl IntoView {
    const KEYS: [&str; 7] = [
        "stats.def.request",
        "stats.def.month",
        "stats.def.filled",
        "stats.def.fill_rate",
        "stats.def.ended",
        "stats.def.turnaround",
        "stats.def.partner",
    ];
    view! {
        <section aria-labelledby="definitions-title" id="definitions">
            <h2 id="definitions-title">{tr("stats.definitions")}</h2>
            <ul class="definitions">
                {KEYS.into_iter().map(|k| view! { <li>{tr(k)}</li> }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
