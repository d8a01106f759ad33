//! A chart of one statistics table: horizontal bars (they fit a phone and
//! keep every label readable), drawn as SVG on the server, so the figures
//! are there before the page's script loads. Each chart is an image with
//! a title and a description, its values written beside the bars, a
//! legend in text, and the same numbers as a table behind a native
//! disclosure ("Show as table") and as a CSV file.

use leptos::prelude::*;

use super::{Cell, Label, Table};
use crate::i18n::{t, Lang};
use crate::site::{tr, use_i18n};

const WIDTH: f64 = 640.0;
const LABEL_W: f64 = 200.0;
const VALUE_W: f64 = 90.0;
const BAR_H: f64 = 14.0;
const GAP: f64 = 10.0;

/// A row label in the language.
pub fn label_text(lang: Lang, label: &Label) -> String {
    match label {
        Label::Key(k) => t(lang, k),
        Label::Text(s) => s.clone(),
    }
}

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The chart as SVG markup: for each row, one bar per series (a column of
/// the table), its value written beside it. Every text is escaped.
pub fn svg(lang: Lang, table: &Table, series: &[usize], title_id: &str, desc_id: &str) -> String {
    let max = table
        .rows
        .iter()
        .flat_map(|(_, cells)| {
            series
                .iter()
                .filter_map(|i| cells.get(*i))
                .map(|c| c.value())
        })
        .fold(0.0_f64, f64::max);
    let span = WIDTH - LABEL_W - VALUE_W;
    let row_h = BAR_H * series.len() as f64 + GAP;
    let height = table.rows.len() as f64 * row_h + GAP;
    // The description says in words what the bars show.
    let desc = table
        .rows
        .iter()
        .map(|(label, cells)| {
            let values: Vec<String> = series
                .iter()
                .filter_map(|i| {
                    Some(format!(
                        "{} {}",
                        t(lang, table.columns.get(*i)?),
                        cells.get(*i)?.show(lang)
                    ))
                })
                .collect();
            format!("{}: {}", label_text(lang, label), values.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" aria-labelledby=\"{title_id} {desc_id}\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"{title_id}\">{}</title><desc id=\"{desc_id}\">{}</desc>",
        escape(&t(lang, table.title)),
        escape(&desc)
    );
    for (r, (label, cells)) in table.rows.iter().enumerate() {
        let top = r as f64 * row_h + GAP / 2.0;
        let mut text = label_text(lang, label);
        if text.chars().count() > 28 {
            text = text.chars().take(27).collect::<String>() + "…";
        }
        out.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" class=\"chart__label\">{}</text>",
            LABEL_W - 8.0,
            top + BAR_H * series.len() as f64 / 2.0 + 4.0,
            escape(&text)
        ));
        for (s, i) in series.iter().enumerate() {
            let cell = cells.get(*i).copied().unwrap_or(Cell::Int(0));
            let w = if max > 0.0 {
                cell.value().max(0.0) / max * span
            } else {
                0.0
            };
            let y = top + s as f64 * BAR_H;
            out.push_str(&format!(
                "<rect x=\"{LABEL_W:.0}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.0}\" class=\"chart__bar chart__bar--{s}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"chart__value\">{}</text>",
                BAR_H - 2.0,
                LABEL_W + w + 4.0,
                y + BAR_H - 4.0,
                escape(&cell.show(lang))
            ));
        }
    }
    out.push_str("</svg>");
    out
}

/// A chart with its legend, its table and its CSV link. `series`: the
/// table's columns drawn as bars; `csv`: where its numbers download.
#[component]
pub fn Chart(table: Table, series: Vec<usize>, csv: String, prefix: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("{prefix}-{}", table.id);
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let empty = table.rows.is_empty();
    let table_view = {
        let table = table.clone();
        move || {
            let lang = i18n.lang();
            view! {
                <div class="table-scroll" tabindex="0" role="region" aria-label=t(lang, table.title)>
                    <table class="rows stats-table">
                        <caption class="visually-hidden">{t(lang, table.title)}</caption>
                        <thead><tr>
                            <th scope="col">{t(lang, "stats.col.item")}</th>
                            {table.columns.iter().map(|c| view! { <th scope="col" class="num">{t(lang, c)}</th> }).collect_view()}
                        </tr></thead>
                        <tbody>
                            {table.rows.iter().map(|(label, cells)| view! {
                                <tr>
                                    <th scope="row">{label_text(lang, label)}</th>
                                    {cells.iter().map(|c| view! { <td class="num">{c.show(lang)}</td> }).collect_view()}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
        }
    };
    let chart = {
        let table = table.clone();
        let series = series.clone();
        let (title_id, desc_id) = (title_id.clone(), desc_id.clone());
        move || svg(i18n.lang(), &table, &series, &title_id, &desc_id)
    };
    let legend = (series.len() > 1).then(|| {
        let names: Vec<&'static str> = series.iter().filter_map(|i| table.columns.get(*i).copied()).collect();
        view! {
            <ul class="chart-legend" aria-hidden="true">
                {names.into_iter().enumerate().map(|(s, key)| view! {
                    <li><span class=format!("chart-legend__swatch chart__bar--{s}")></span>{tr(key)}</li>
                }).collect_view()}
            </ul>
        }
    });
    view! {
        <figure class="stats-chart" id=id.clone()>
            <figcaption><h3 class="stats-chart__title">{tr(table.title)}</h3></figcaption>
            {if empty {
                view! { <p class="row-meta">{tr("stats.empty")}</p> }.into_any()
            } else {
                view! {
                    {legend}
                    <div class="chart-box" inner_html=chart></div>
                    <details class="stats-chart__table">
                        <summary>{tr("stats.show_table")}</summary>
                        {table_view}
                    </details>
                }.into_any()
            }}
            <p class="stats-chart__csv"><a href=csv download>{tr("stats.csv")}</a></p>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_escapes_what_people_wrote() {
        let table = Table {
            id: "cancelled",
            title: "stats.chart.cancel_reasons",
            columns: vec!["stats.col.this_year"],
            rows: vec![
                (
                    Label::Text("<script>alert(1)</script>".into()),
                    vec![Cell::Int(3)],
                ),
                (Label::Text("\"quoted\" & more".into()), vec![Cell::Int(1)]),
            ],
        };
        let svg = svg(Lang::En, &table, &[0], "t", "d");
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("&quot;quoted&quot; &amp; more"));
        assert_eq!(svg.matches("<rect").count(), 2);
        // The longest bar fills the span; the other is a third of it.
        assert!(svg.contains("width=\"350.0\""), "{svg}");
        assert!(svg.contains("width=\"116.7\""), "{svg}");
    }
}
