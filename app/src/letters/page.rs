//! `/staff/letters`: every letter with its trigger, its switch and Alma's
//! letter for the same notice, and the delivery log; `?kind=…&letter_lang=…`
//! opens one letter's template in one language (`lang` stays the page's
//! own language): edit, preview (with a request's
//! data or a sample), save, the versions with restore, and the difference
//! from the shipped default.

use crate::page_url::use_query_map;
use leptos::prelude::*;

use super::api::{
    letters_detail, letters_list, letters_log, LettersPreview, LettersRestore, LettersRetry,
    LettersSave, LettersSwitch, SaveOutcome,
};
use super::{
    LetterDetail, LetterKind, LetterState, LetterSummary, Recipient, SentLetter, TemplateError,
};
use crate::components::page::PageTitle;
use crate::components::table::ScrollTable;
use crate::i18n::{t, t_args, Lang};
use crate::pages::coming::StaffOnly;
use crate::site::{tr, use_i18n};

#[island(lazy)]
pub fn LettersPage() -> impl IntoView {
    view! { <StaffOnly title="letters.title" path="/staff/letters"><LettersView/></StaffOnly> }
}

#[component]
fn LettersView() -> impl IntoView {
    let query = use_query_map();
    let kind = move || query.with(|q| q.get("kind").and_then(|k| LetterKind::from_code(&k)));
    move || match kind() {
        Some(kind) => {
            let lang = query.with(|q| q.get("letter_lang").and_then(|l| Lang::from_tag(&l)));
            let lang = lang.unwrap_or_else(|| use_i18n().lang());
            let request = query
                .with(|q| q.get("request"))
                .filter(|r| !r.trim().is_empty());
            view! { <Editor kind lang request/> }.into_any()
        }
        None => {
            let failed = query.with(|q| q.get("failed").is_some_and(|f| f == "1"));
            view! { <Overview failed/> }.into_any()
        }
    }
}

/// "2026-11-29T01:02:03.123456Z" → "2026-11-29 01:02 UTC".
fn short_time(ts: &str) -> String {
    match (ts.get(..10), ts.get(11..16)) {
        (Some(d), Some(t)) => format!("{d} {t} UTC"),
        _ => ts.to_owned(),
    }
}

fn editor_href(kind: LetterKind, lang: Lang) -> String {
    format!(
        "/staff/letters?kind={}&letter_lang={}",
        kind.code(),
        lang.code()
    )
}

#[component]
fn Overview(failed: bool) -> impl IntoView {
    let list = Resource::new(|| (), |_| letters_list());
    let log = Resource::new(move || failed, letters_log);
    let switch = ServerAction::<LettersSwitch>::new();
    let retry = ServerAction::<LettersRetry>::new();
    Effect::new(move |_| {
        if switch.value().get().is_some() {
            list.refetch();
        }
    });
    Effect::new(move |_| {
        if retry.value().get().is_some() {
            log.refetch();
        }
    });
    view! {
        <PageTitle key="letters.title"/>
        <p class="lead">{tr("letters.lead")}</p>
        <Suspense fallback=move || view! { <p role="status">{tr("letters.loading")}</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) => view! { <LetterTable rows switch/> }.into_any(),
                    Err(_) => view! { <p class="notice notice--error" role="alert">{tr("letters.error")}</p> }.into_any(),
                }
            })}
        </Suspense>
        <section aria-labelledby="letters-log">
            <h2 id="letters-log">{tr("letters.log.title")}</h2>
            <p>
                {if failed {
                    view! { <a href="/staff/letters">{tr("letters.log.all")}</a> }.into_any()
                } else {
                    view! { <a href="/staff/letters?failed=1">{tr("letters.log.failed_only")}</a> }.into_any()
                }}
            </p>
            <Suspense fallback=move || view! { <p role="status">{tr("letters.loading")}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(rows) if rows.is_empty() => view! { <p>{tr("letters.log.empty")}</p> }.into_any(),
                        Ok(rows) => view! { <LogTable rows retry/> }.into_any(),
                        Err(_) => view! { <p class="notice notice--error" role="alert">{tr("letters.error")}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

#[component]
fn LetterTable(rows: Vec<LetterSummary>, switch: ServerAction<LettersSwitch>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ScrollTable id="letters-caption" caption="letters.table.caption">
            <thead>
                <tr>
                    <th scope="col">{tr("letters.col.letter")}</th>
                    <th scope="col">{tr("letters.col.trigger")}</th>
                    <th scope="col">{tr("letters.col.state")}</th>
                    <th scope="col">{tr("letters.col.alma")}</th>
                    <th scope="col">{tr("letters.col.sent")}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let kind = row.kind;
                    let name_key = kind.name_key();
                    let label_key = name_key.clone();
                    let name = move || t(i18n.lang(), &name_key);
                    let trigger_key = kind.trigger_key();
                    let to_key = match kind.recipient() {
                        Recipient::Patron => "letters.to.patron",
                        Recipient::Partner => "letters.to.partner",
                    };
                    let on = row.enabled;
                    let state_key = if on { "letters.on" } else { "letters.off" };
                    let button_key = if on { "letters.switch_off" } else { "letters.switch_on" };
                    let edited = row.edited.iter().map(|l| l.code()).collect::<Vec<_>>().join(", ");
                    let alma = row.alma.clone();
                    let pending = switch.pending();
                    view! {
                        <tr data-letter=kind.code()>
                            <td>
                                <a href=editor_href(kind, i18n.lang())>{name}</a>
                                <br/><span class="row-meta">{tr(to_key)}</span>
                                {(!edited.is_empty()).then(|| view! {
                                    <br/><span class="row-meta">{tr("letters.edited")}" "{edited.clone()}</span>
                                })}
                            </td>
                            <td>{move || t(i18n.lang(), &trigger_key)}</td>
                            <td>
                                <span class=if on { "status status--on" } else { "status status--off" }>{tr(state_key)}</span>
                                " "
                                <button type="button" class="button button--secondary"
                                    aria-label=move || format!("{}: {}", t(i18n.lang(), button_key), t(i18n.lang(), &label_key))
                                    disabled=move || pending.get()
                                    on:click=move |_| { switch.dispatch(LettersSwitch { kind: kind.code().to_owned(), on: !on }); }>
                                    {tr(button_key)}
                                </button>
                            </td>
                            <td>
                                {match alma {
                                    Some((code, alma_on)) => view! {
                                        <code>{code}</code><br/>
                                        <span class="row-meta">{tr(if alma_on { "letters.alma.on" } else { "letters.alma.off" })}</span>
                                    }.into_any(),
                                    None => view! { "–" }.into_any(),
                                }}
                            </td>
                            <td>{row.sent}{(row.failed > 0).then(|| view! { " / " <strong>{move || t_args(i18n.lang(), "letters.failed_count", &[("n", &row.failed.to_string())])}</strong> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </ScrollTable>
    }
    .into_any()
}

#[component]
fn LogTable(rows: Vec<SentLetter>, retry: ServerAction<LettersRetry>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ScrollTable id="letters-log-caption" caption="letters.log.title" caption_hidden=true>
            <thead>
                <tr>
                    <th scope="col">{tr("letters.col.when")}</th>
                    <th scope="col">{tr("letters.col.letter")}</th>
                    <th scope="col">{tr("letters.col.to")}</th>
                    <th scope="col">{tr("letters.col.state")}</th>
                    <th scope="col">{tr("letters.col.answer")}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|l| {
                    let name_key = l.kind.name_key();
                    let request_href = match l.side {
                        crate::domain::history::Side::Borrowing => format!("/staff/borrowing/{}", l.request_id),
                        crate::domain::history::Side::Lending => format!("/staff/lending/{}", l.request_id),
                    };
                    let id = l.id.clone();
                    let failed = l.state == LetterState::Failed;
                    let pending = retry.pending();
                    view! {
                        <tr data-letter-id=l.id.clone()>
                            <td>{short_time(l.sent_at.as_deref().unwrap_or(&l.created_at))}</td>
                            <td>
                                {move || t(i18n.lang(), &name_key)}
                                <br/><a class="row-meta" href=request_href>{l.subject.clone()}</a>
                                <br/><span class="row-meta">{l.lang.clone()}" · "{l.version.clone()}</span>
                            </td>
                            <td>{l.recipient.clone()}</td>
                            <td>{tr_state(l.state)}" ("{l.attempts}")"</td>
                            <td class="outbox-error">
                                {l.last_error.clone().unwrap_or_else(|| "–".into())}
                                {failed.then(|| view! {
                                    <br/>
                                    <button type="button" class="button button--secondary"
                                        disabled=move || pending.get()
                                        on:click=move |_| { retry.dispatch(LettersRetry { id: id.clone() }); }>
                                        {tr("letters.retry")}
                                    </button>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </ScrollTable>
    }
    .into_any()
}

fn tr_state(state: LetterState) -> impl Fn() -> String + Copy {
    tr(match state {
        LetterState::Pending => "letters.state.pending",
        LetterState::Sent => "letters.state.sent",
        LetterState::Failed => "letters.state.failed",
        LetterState::NoAddress => "letters.state.no_address",
    })
}

fn error_text(lang: Lang, e: &TemplateError) -> String {
    let what = t_args(lang, &e.key, &[("detail", &e.detail)]);
    let part = t(
        lang,
        if e.part == "subject" {
            "letters.subject"
        } else {
            "letters.body"
        },
    );
    match e.line {
        Some(line) => t_args(
            lang,
            "letters.error.at",
            &[
                ("part", &part),
                ("line", &line.to_string()),
                ("what", &what),
            ],
        ),
        None => format!("{part}: {what}"),
    }
}

#[component]
fn Editor(kind: LetterKind, lang: Lang, request: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let request_for_load = request.clone();
    let detail = Resource::new(
        move || (kind, lang, request_for_load.clone()),
        |(kind, lang, request)| {
            letters_detail(kind.code().to_owned(), lang.code().to_owned(), request)
        },
    );
    let name_key = kind.name_key();
    let trigger_key = kind.trigger_key();
    // Outside the form, which is drawn anew when a save reloads the letter.
    let notice = RwSignal::new(None::<(bool, String)>);
    view! {
        <p><a href="/staff/letters">{tr("letters.back")}</a></p>
        // The document's title: the letters page's, like every staff page
        // (the heading below names the letter).
        <PageTitle key="letters.title"/>
        <h2 id="letter-title">{move || t(i18n.lang(), &name_key)}</h2>
        <p class="lead">{move || t(i18n.lang(), &trigger_key)}</p>
        <nav aria-label=move || t(i18n.lang(), "letters.languages")>
            <ul class="inline-list">
                {Lang::ALL.into_iter().map(|l| view! {
                    <li>
                        <a href=editor_href(kind, l) aria-current=(l == lang).then_some("page")>{l.native_name()}</a>
                    </li>
                }).collect_view()}
            </ul>
        </nav>
        <p role="status" class="notice notice--ok" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| n.0))>
            {move || notice.get().filter(|n| n.0).map(|n| n.1)}
        </p>
        <p role="alert" class="notice notice--error" hidden=move || !notice.with(|n| n.as_ref().is_some_and(|n| !n.0))>
            {move || notice.get().filter(|n| !n.0).map(|n| n.1)}
        </p>
        <Suspense fallback=move || view! { <p role="status">{tr("letters.loading")}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <EditorForm d detail notice/> }.into_any(),
                    Err(_) => view! { <p class="notice notice--error" role="alert">{tr("letters.error")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn EditorForm(
    d: LetterDetail,
    detail: Resource<Result<LetterDetail, ServerFnError>>,
    notice: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let kind = d.kind;
    let lang = d.lang;
    let subject = RwSignal::new(d.current.subject.clone());
    let body = RwSignal::new(d.current.body.clone());
    let request = RwSignal::new(d.preview_request.clone().unwrap_or_default());
    let shown = RwSignal::new(d.clone());
    let preview = ServerAction::<LettersPreview>::new();
    let save = ServerAction::<LettersSave>::new();
    let restore = ServerAction::<LettersRestore>::new();
    Effect::new(move |_| {
        if let Some(Ok(d)) = preview.value().get() {
            shown.set(d);
        }
    });
    Effect::new(move |_| {
        let Some(result) = save.value().get() else {
            return;
        };
        let l = i18n.lang();
        notice.set(Some(match result {
            Ok(SaveOutcome::Saved(v)) => {
                detail.refetch();
                (
                    true,
                    t_args(l, "letters.saved", &[("version", &v.to_string())]),
                )
            }
            Ok(SaveOutcome::Refused(e)) => (false, error_text(l, &e)),
            Err(_) => (false, t(l, "letters.error")),
        }));
    });
    Effect::new(move |_| {
        let Some(result) = restore.value().get() else {
            return;
        };
        let l = i18n.lang();
        notice.set(Some(match result {
            Ok(v) => {
                detail.refetch();
                (
                    true,
                    t_args(l, "letters.saved", &[("version", &v.to_string())]),
                )
            }
            Err(_) => (false, t(l, "letters.error")),
        }));
    });
    let do_preview = move || {
        preview.dispatch(LettersPreview {
            kind: kind.code().to_owned(),
            lang: lang.code().to_owned(),
            request: Some(request.get_untracked()),
            subject: subject.get_untracked(),
            body: body.get_untracked(),
        });
    };
    let placeholders = d
        .placeholders
        .iter()
        .map(|p| format!("{{{{ {p} }}}}"))
        .collect::<Vec<_>>()
        .join("  ");
    view! {
        <p>
            {tr(if d.enabled { "letters.on" } else { "letters.off" })}
            {d.alma.clone().map(|(code, on)| view! {
                " · "{tr("letters.col.alma")}": "<code>{code}</code>" "{tr(if on { "letters.alma.on" } else { "letters.alma.off" })}
            })}
        </p>
        <form class="letter-form" on:submit=move |ev| {
            ev.prevent_default();
            save.dispatch(LettersSave {
                kind: kind.code().to_owned(),
                lang: lang.code().to_owned(),
                subject: subject.get_untracked(),
                body: body.get_untracked(),
            });
        }>
            <div class="field">
                <label for="letter-subject">{tr("letters.subject")}</label>
                <input id="letter-subject" name="subject" type="text" required
                    prop:value=move || subject.get()
                    on:input=move |ev| subject.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="letter-body">{tr("letters.body")}</label>
                <textarea id="letter-body" name="body" rows="18" required aria-describedby="letter-placeholders"
                    prop:value=move || body.get()
                    on:input=move |ev| body.set(event_target_value(&ev))>{d.current.body.clone()}</textarea>
                <p id="letter-placeholders" class="hint">{tr("letters.placeholders")}" "<code>{placeholders}</code></p>
            </div>
            <div class="field">
                <label for="letter-request">{tr("letters.preview_request")}</label>
                <input id="letter-request" type="text" autocomplete="off"
                    prop:value=move || request.get()
                    on:input=move |ev| request.set(event_target_value(&ev))/>
            </div>
            <div class="actions">
                <button type="button" class="button button--secondary" disabled=move || preview.pending().get()
                    on:click=move |_| do_preview()>{tr("letters.preview")}</button>
                <button type="submit" class="button" disabled=move || save.pending().get()>{tr("letters.save")}</button>
            </div>
        </form>
        <section aria-labelledby="letter-preview">
            <h2 id="letter-preview">{tr("letters.preview_title")}</h2>
            {move || {
                let d = shown.get();
                let whose = match d.preview_request.clone() {
                    Some(r) => t_args(i18n.lang(), "letters.preview_of", &[("request", &r)]),
                    None => t(i18n.lang(), "letters.preview_sample"),
                };
                match d.preview {
                    Ok(r) => view! {
                        <p class="row-meta">{whose}</p>
                        <p><strong>{tr("letters.subject")}": "</strong><span data-preview-subject="">{r.subject.clone()}</span></p>
                        <iframe class="letter-preview" title=move || t(i18n.lang(), "letters.preview_title")
                            sandbox="" srcdoc=format!("<!DOCTYPE html><html lang=\"{}\"><meta charset=\"utf-8\"><title>{}</title><body style=\"font-family:sans-serif\">{}</body></html>", d.lang.code(), r.subject.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"), r.html)></iframe>
                        <details>
                            <summary>{tr("letters.text_part")}</summary>
                            <pre class="letter__text" data-preview-text="">{r.text.clone()}</pre>
                        </details>
                    }.into_any(),
                    Err(e) => view! {
                        <p class="notice notice--error" role="alert">{move || error_text(i18n.lang(), &e)}</p>
                    }.into_any(),
                }
            }}
        </section>
        <section aria-labelledby="letter-diff">
            <h2 id="letter-diff">{tr("letters.diff")}</h2>
            {if d.diff.is_empty() {
                view! { <p>{tr("letters.diff_none")}</p> }.into_any()
            } else {
                view! { <pre class="letter__diff">{d.diff.clone()}</pre> }.into_any()
            }}
        </section>
        <section aria-labelledby="letter-versions">
            <h2 id="letter-versions">{tr("letters.versions")}</h2>
            <ul class="versions">
                {d.versions.iter().map(|v| {
                    let version = v.version;
                    let label = move || t_args(i18n.lang(), "letters.restore_label", &[("version", &version.to_string())]);
                    view! {
                        <li>
                            {format!("v{} · {} · {}", v.version, short_time(&v.saved_at), v.saved_by)}" "
                            <button type="button" class="button button--secondary" aria-label=label
                                disabled=move || restore.pending().get()
                                on:click=move |_| { restore.dispatch(LettersRestore { kind: kind.code().to_owned(), lang: lang.code().to_owned(), version }); }>
                                {tr("letters.restore")}
                            </button>
                        </li>
                    }
                }).collect_view()}
                <li>
                    {tr("letters.default_version")}" "
                    <button type="button" class="button button--secondary"
                        disabled=move || restore.pending().get()
                        on:click=move |_| { restore.dispatch(LettersRestore { kind: kind.code().to_owned(), lang: lang.code().to_owned(), version: 0 }); }>
                        {tr("letters.restore_default")}
                    </button>
                </li>
            </ul>
        </section>
    }
    .into_any()
}
