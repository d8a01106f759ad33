//! `/staff/partners/import`: staff upload Alma's library-type users and the
//! legacy ILL export, read a dry run's report (with a CSV download), and
//! only then apply it. A progress bar follows long runs.

use leptos::prelude::*;

use crate::components::page::PageTitle;
use crate::i18n::{t, t_args};
use crate::pages::coming::StaffOnly;
use crate::site::{tr, use_i18n};
use crate::staff_import::{
    import_apply, import_progress, import_report_csv, ImportPhase, ImportReport, ImportStatus,
    Outcome, ReportEntry, SourceKind,
};

/// The page, for staff only (the server answers 403 to patrons as well).
#[island(lazy)]
pub fn StaffImportPage() -> impl IntoView {
    view! { <StaffOnly title="import.title" path="/staff/partners/import"><ImportTool/></StaffOnly> }
}

/// A file input's bytes as base64 ("" when no file is chosen).
#[cfg(feature = "hydrate")]
async fn file_base64(input: Option<web_sys::HtmlInputElement>) -> Result<String, ()> {
    let Some(file) = input.and_then(|i| i.files()).and_then(|f| f.get(0)) else {
        return Ok(String::new());
    };
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| ())?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    Ok(crate::staff_import::base64_encode(&bytes))
}

/// `data:` URL of a CSV text (with a byte-order mark, for spreadsheets).
fn csv_data_url(csv: &str) -> String {
    let mut out = String::from("data:text/csv;charset=utf-8,%EF%BB%BF");
    for b in csv.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Asks for the run's status until it is finished.
fn poll(job: String, status: RwSignal<Option<ImportStatus>>, error: RwSignal<Option<String>>) {
    leptos::task::spawn_local(async move {
        match import_progress(job.clone()).await {
            Ok(s) => {
                let finished = s.finished();
                status.set(Some(s));
                if !finished {
                    set_timeout(
                        move || poll(job, status, error),
                        std::time::Duration::from_millis(400),
                    );
                }
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    });
}

#[component]
fn ImportTool() -> impl IntoView {
    let i18n = use_i18n();
    let alma_input = NodeRef::<leptos::html::Input>::new();
    let legacy_input = NodeRef::<leptos::html::Input>::new();
    let encoding = RwSignal::new("auto".to_owned());
    let delimiter = RwSignal::new("auto".to_owned());
    let status = RwSignal::new(None::<ImportStatus>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let csv_href = RwSignal::new(None::<String>);
    let filter = RwSignal::new("all".to_owned());

    // Once a run is done, fetch its CSV for the download link.
    Effect::new(move |_| {
        let Some(s) = status.get() else { return };
        if s.phase == ImportPhase::Done && csv_href.get_untracked().is_none() {
            let job = s.job.clone();
            leptos::task::spawn_local(async move {
                if let Ok(csv) = import_report_csv(job).await {
                    csv_href.set(Some(csv_data_url(&csv)));
                }
            });
        }
        if s.finished() {
            busy.set(false);
        }
    });

    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        csv_href.set(None);
        status.set(None);
        #[cfg(feature = "hydrate")]
        {
            let (alma, legacy) = (alma_input.get(), legacy_input.get());
            let (encoding, delimiter) = (encoding.get_untracked(), delimiter.get_untracked());
            busy.set(true);
            leptos::task::spawn_local(async move {
                let (Ok(alma), Ok(legacy)) = (file_base64(alma).await, file_base64(legacy).await)
                else {
                    error.set(Some(t(i18n.lang(), "import.error.read")));
                    busy.set(false);
                    return;
                };
                if alma.is_empty() && legacy.is_empty() {
                    error.set(Some(t(i18n.lang(), "import.error.no_files")));
                    busy.set(false);
                    return;
                }
                match crate::staff_import::import_start(alma, legacy, encoding, delimiter).await {
                    Ok(job) => poll(job, status, error),
                    Err(e) => {
                        error.set(Some(e.to_string()));
                        busy.set(false);
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (alma_input, legacy_input, i18n);
    };

    let apply = move |_| {
        let Some(s) = status.get_untracked() else {
            return;
        };
        error.set(None);
        csv_href.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            match import_apply(s.job).await {
                Ok(job) => poll(job, status, error),
                Err(e) => {
                    error.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };

    let progress = move || {
        status.get().filter(|s| !s.finished()).map(|s| {
            let phase = move || t(i18n.lang(), s.phase.label_key());
            let (value, max) = if s.total > 0 {
                (s.done.to_string(), s.total.to_string())
            } else {
                ("0".to_owned(), "1".to_owned())
            };
            view! {
                <div class="import-progress" role="status" aria-live="polite">
                    <label for="import-progress">{tr("import.progress")} ": " {phase}</label>
                    <progress id="import-progress" max=max value=value></progress>
                </div>
            }
            .into_any()
        })
    };

    let failure = move || {
        let run_error = status.get().and_then(|s| s.error);
        error.get().or(run_error).map(|e| {
            let text = move || t_args(i18n.lang(), "import.error.failed", &[("error", &e)]);
            view! { <p class="notice notice--error" role="alert">{text}</p> }.into_any()
        })
    };

    let report_view = move || {
        let s = status.get()?;
        let report = s.report.clone()?;
        let can_apply = !s.apply && !report.applied;
        Some(
            view! {
                <ReportView report=report filter=filter csv_href=csv_href/>
                {can_apply.then(|| view! {
                    <div class="import-apply">
                        <p id="apply-hint">{tr("import.apply_hint")}</p>
                        <button type="button" class="button" aria-describedby="apply-hint"
                            on:click=apply disabled=move || busy.get()>
                            {tr("import.apply")}
                        </button>
                    </div>
                })}
            }
            .into_any(),
        )
    };

    let form = view! {
        <form class="import-form" on:submit=start>
            <fieldset>
                <legend>{tr("import.files")}</legend>
                <p class="field">
                    <label for="alma-file">{tr("import.alma_file")}</label>
                    <input id="alma-file" name="alma" type="file" node_ref=alma_input
                        accept=".json,.xml,application/json,application/xml,text/xml"
                        aria-describedby="alma-help"/>
                    <span id="alma-help" class="hint">{tr("import.alma_help")}</span>
                </p>
                <p class="field">
                    <label for="legacy-file">{tr("import.legacy_file")}</label>
                    <input id="legacy-file" name="legacy" type="file" node_ref=legacy_input
                        accept=".csv,.txt,text/csv,text/plain" aria-describedby="legacy-help"/>
                    <span id="legacy-help" class="hint">{tr("import.legacy_help")}</span>
                </p>
            </fieldset>
            <p class="field">
                <label for="encoding">{tr("import.encoding")}</label>
                <select id="encoding" name="encoding"
                    on:change=move |ev| encoding.set(event_target_value(&ev))>
                    <option value="auto">{tr("import.encoding.auto")}</option>
                    <option value="utf8">{tr("import.encoding.utf8")}</option>
                    <option value="latin1">{tr("import.encoding.latin1")}</option>
                </select>
            </p>
            <p class="field">
                <label for="delimiter">{tr("import.delimiter")}</label>
                <select id="delimiter" name="delimiter"
                    on:change=move |ev| delimiter.set(event_target_value(&ev))>
                    <option value="auto">{tr("import.delimiter.auto")}</option>
                    <option value=";">{tr("import.delimiter.semicolon")}</option>
                    <option value=",">{tr("import.delimiter.comma")}</option>
                    <option value="tab">{tr("import.delimiter.tab")}</option>
                </select>
            </p>
            <p>
                <button type="submit" class="button" disabled=move || busy.get()>
                    {tr("import.dry_run")}
                </button>
            </p>
        </form>
    }
    .into_any();

    view! {
        <PageTitle key="import.title"/>
        <p class="lead">{tr("import.lead")}</p>
        {form}
        {progress}
        {failure}
        {report_view}
    }
}

fn source_text(lang: crate::i18n::Lang, e: &ReportEntry) -> String {
    e.sources
        .iter()
        .map(|s| {
            let key = match s.source {
                SourceKind::Alma => "import.source.alma",
                SourceKind::Legacy => "import.source.legacy",
            };
            let mut text = t_args(lang, key, &[("row", &s.row.to_string())]);
            if let Some(id) = &s.id {
                text.push_str(&format!(" ({id})"));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// What to say about one entry: its changes, conflicts or reason.
fn details(lang: crate::i18n::Lang, e: &ReportEntry) -> Vec<String> {
    let field = |f: &str| t(lang, &format!("import.field.{f}"));
    let none = t(lang, "import.none");
    let mut out = Vec::new();
    for c in &e.conflicts {
        out.push(format!(
            "{}: {}",
            field(&c.field),
            t_args(
                lang,
                "import.conflict_values",
                &[("alma", &c.alma), ("legacy", &c.legacy)]
            )
        ));
    }
    if e.outcome == Outcome::Updated {
        for c in &e.changes {
            out.push(format!(
                "{}: {}",
                field(&c.field),
                t_args(
                    lang,
                    "import.change_values",
                    &[
                        ("before", c.before.as_deref().unwrap_or(&none)),
                        ("after", c.after.as_deref().unwrap_or(&none)),
                    ]
                )
            ));
        }
    }
    if let Some(reason) = &e.reason {
        let mut text = t(lang, &format!("import.reason.{reason}"));
        if let Some(d) = &e.detail {
            text.push_str(&format!(" ({d})"));
        }
        out.push(text);
    }
    for w in &e.warnings {
        out.push(t(lang, &format!("import.warning.{w}")));
    }
    out
}

#[component]
fn ReportView(
    report: ImportReport,
    filter: RwSignal<String>,
    csv_href: RwSignal<Option<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let title = if report.applied {
        "import.report.title_applied"
    } else {
        "import.report.title_dry"
    };
    let c = report.counts.clone();
    let read = move || {
        t_args(
            i18n.lang(),
            "import.report.read",
            &[
                ("alma", &c.alma_records.to_string()),
                ("legacy", &c.legacy_rows.to_string()),
                ("merged", &c.merged.to_string()),
            ],
        )
    };
    let counts = report.counts.clone();
    let summary = Outcome::ALL
        .into_iter()
        .map(|o| {
            let n = counts.of(o);
            view! {
                <div class=format!("import-count import-count--{}", o.code())>
                    <dt>{tr(o.label_key())}</dt>
                    <dd>{n}</dd>
                </div>
            }
        })
        .collect_view();
    let entries = StoredValue::new(report.entries);
    let rows = move || {
        let wanted = filter.get();
        let lang = i18n.lang();
        entries.with_value(|entries| {
            entries
                .iter()
                .filter(|e| wanted == "all" || e.outcome.code() == wanted)
                .map(|e| {
                    let lines = details(lang, e)
                        .into_iter()
                        .map(|d| view! { <li>{d}</li> })
                        .collect_view();
                    view! {
                        <tr class=format!("import-row--{}", e.outcome.code())>
                            <td>{t(lang, e.outcome.label_key())}</td>
                            <td>{e.code.clone().unwrap_or_default()}</td>
                            <td>{e.name.clone().unwrap_or_default()}</td>
                            <td>{source_text(lang, e)}</td>
                            <td><ul class="import-details">{lines}</ul></td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let options = Outcome::ALL
        .into_iter()
        .map(|o| view! { <option value=o.code()>{tr(o.label_key())}</option> })
        .collect_view();
    // Built apart and type-erased: one nested view type is too deep to compile.
    let table = view! {
        <div class="table-scroll" role="region" aria-labelledby="import-report-title" tabindex="0">
            <table class="import-table">
                <caption class="visually-hidden">{tr("import.report.entries")}</caption>
                <thead>
                    <tr>
                        <th scope="col">{tr("import.col.outcome")}</th>
                        <th scope="col">{tr("import.col.code")}</th>
                        <th scope="col">{tr("import.col.name")}</th>
                        <th scope="col">{tr("import.col.sources")}</th>
                        <th scope="col">{tr("import.col.details")}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any();
    view! {
        <section class="import-report" aria-labelledby="import-report-title">
            <h2 id="import-report-title">{tr(title)}</h2>
            <p>{read}</p>
            <dl class="import-summary">{summary}</dl>
            {move || csv_href.get().map(|href| view! {
                <p>
                    <a class="button" href=href download="kauko-partner-import.csv" rel="external">
                        {tr("import.report.csv")}
                    </a>
                </p>
            })}
            <p class="field">
                <label for="import-filter">{tr("import.report.filter")}</label>
                <select id="import-filter" on:change=move |ev| filter.set(event_target_value(&ev))>
                    <option value="all">{tr("import.report.all")}</option>
                    {options}
                </select>
            </p>
            {table}
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::staff_import::{FieldConflict, SourceRef};

    #[test]
    fn csv_links_encode_everything_but_plain_characters() {
        assert_eq!(
            csv_data_url("a,b\nÅ"),
            "data:text/csv;charset=utf-8,%EF%BB%BFa%2Cb%0A%C3%85"
        );
    }

    #[test]
    fn details_are_translated_with_their_values() {
        let e = ReportEntry {
            outcome: Outcome::Conflict,
            code: Some("KB".into()),
            name: None,
            sources: vec![SourceRef {
                source: SourceKind::Legacy,
                row: 7,
                id: Some("KB".into()),
            }],
            changes: vec![],
            conflicts: vec![FieldConflict {
                field: "email".into(),
                alma: "a@kb.se".into(),
                legacy: "b@kb.se".into(),
            }],
            reason: None,
            detail: None,
            warnings: vec!["legacy_code_differs".into()],
        };
        let fi = details(Lang::Fi, &e);
        assert_eq!(fi.len(), 2);
        assert!(
            fi[0].starts_with("Sähköposti: ")
                && fi[0].contains("a@kb.se")
                && fi[0].contains("b@kb.se"),
            "{fi:?}"
        );
        assert!(!fi[1].starts_with("import."), "{fi:?}");
        assert_eq!(source_text(Lang::En, &e), "CSV line 7 (KB)");
    }
}
