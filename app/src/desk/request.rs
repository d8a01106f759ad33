//! `/staff/borrowing/<id>` and `/staff/lending/<id>`: a request's page for
//! staff: the citation, who asked, the partner, the whole history, notes,
//! and a control for each action the state allows. An action taken on a
//! page that someone else has changed meanwhile is refused; the page then
//! says what changed and shows the request as it is.

use crate::page_url::{path_tail, use_query_map};
use chrono::NaiveDate;
use leptos::prelude::*;

use super::api::{desk_act, desk_load, desk_note, desk_partners, ActOutcome};
use super::queue::{side_path, state_key};
use super::{ActInput, ActionOffer, DeskRequest, NoteInput};
use crate::components::page::PageTitle;
use crate::domain::history::{Actor, Audience, RequestEvent, Side};
use crate::domain::FieldError;
use crate::fees::api::FeesRecordCharge;
use crate::fees::charge::{offered as charge_offered, ChargeForm};
use crate::i18n::{t, t_args};
use crate::pages::coming::StaffOnly;
use crate::site::{tr, use_i18n};

#[island(lazy)]
pub fn BorrowingRequestPage() -> impl IntoView {
    view! { <StaffOnly title="desk.request.title" path="/staff/borrowing"><RequestDesk side=Side::Borrowing/></StaffOnly> }
}

#[island(lazy)]
pub fn LendingRequestPage() -> impl IntoView {
    view! { <StaffOnly title="desk.request.title" path="/staff/lending"><RequestDesk side=Side::Lending/></StaffOnly> }
}

/// What the page says after an action.
#[derive(Clone, Debug, PartialEq)]
enum Said {
    Done,
    Changed(Vec<RequestEvent>),
    NotAllowed,
    Failed,
}

#[component]
fn RequestDesk(side: Side) -> impl IntoView {
    let tail = StoredValue::new(path_tail());
    let id = move || tail.get_value();
    // An amount recorded with the history (fees) reloads the request too.
    let charge = ServerAction::<FeesRecordCharge>::new();
    let data = Resource::new(
        move || (id(), charge.version().get()),
        move |(id, _)| desk_load(side, id),
    );
    let partners = Resource::new(|| (), |_| desk_partners());
    // A copy sent as a file comes back here from a plain form post
    // (`?copy=sent` or the key of what went wrong).
    let query = use_query_map();
    let copy_said = move || query.with(|q| q.get("copy")).and_then(copy_outcome);
    let said = RwSignal::new(None::<Said>);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let act = Action::new(move |input: &ActInput| desk_act(side, input.clone()));
    let note = Action::new(move |input: &NoteInput| desk_note(side, input.clone()));
    let on_outcome = move |result: Result<ActOutcome, ServerFnError>| {
        errors.set(Vec::new());
        match result {
            Ok(ActOutcome::Done(_)) => said.set(Some(Said::Done)),
            Ok(ActOutcome::ChangedMeanwhile { changes, .. }) => {
                said.set(Some(Said::Changed(changes)))
            }
            Ok(ActOutcome::Invalid(e)) => {
                said.set(None);
                errors.set(e);
                return;
            }
            Ok(ActOutcome::NotAllowed) => said.set(Some(Said::NotAllowed)),
            Err(_) => said.set(Some(Said::Failed)),
        }
        data.refetch();
    };
    Effect::new(move |_| {
        if let Some(r) = act.value().get() {
            on_outcome(r);
        }
    });
    Effect::new(move |_| {
        if let Some(r) = note.value().get() {
            on_outcome(r);
        }
    });
    view! {
        <PageTitle key="desk.request.title"/>
        <p><a href=side_path(side)>{tr("desk.back")}</a></p>
        <div class="notice-area">
            {move || said.get().is_none().then(copy_said).flatten().map(|(ok, key)| if ok {
                view! { <p role="status" class="notice notice--ok">{tr(key)}</p> }.into_any()
            } else {
                view! { <p role="alert" class="notice notice--error">{tr(key)}</p> }.into_any()
            })}
            {move || said.get().map(|s| match s {
                Said::Done => view! { <p role="status" class="notice notice--ok">{tr("desk.done")}</p> }.into_any(),
                Said::Changed(changes) => view! {
                    <div role="alert" class="notice notice--error">
                        <p>{tr("desk.changed")}</p>
                        <ul>{changes.into_iter().map(|e| view! { <li><EventLine e/></li> }).collect_view()}</ul>
                    </div>
                }.into_any(),
                Said::NotAllowed => view! { <p role="alert" class="notice notice--error">{tr("desk.not_allowed")}</p> }.into_any(),
                Said::Failed => view! { <p role="alert" class="notice notice--error">{tr("desk.error.action")}</p> }.into_any(),
            })}
        </div>
        <Suspense fallback=move || view! { <p role="status">{tr("desk.loading")}</p> }>
            {move || Suspend::new(async move {
                let partners = partners.await.unwrap_or_default();
                match data.await {
                    Ok(r) => view! { <RequestBody r partners act note charge errors/> }.into_any(),
                    Err(_) => view! {
                        <p class="notice notice--error" role="alert">{tr("desk.error.not_found")}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What a copy upload's answer (`?copy=`) says: whether it went, and the
/// message's key (only the keys the upload gives).
fn copy_outcome(value: String) -> Option<(bool, &'static str)> {
    const REFUSALS: [&str; 7] = [
        "desk.error.copy_missing",
        "desk.error.copy_type",
        "desk.error.copy_size",
        "desk.error.copy_read",
        "desk.error.copy_store",
        "desk.changed",
        "desk.not_allowed",
    ];
    if value == "sent" {
        return Some((true, "desk.copy.sent"));
    }
    REFUSALS
        .into_iter()
        .find(|k| *k == value)
        .map(|k| (false, k))
}

#[component]
fn RequestBody(
    r: DeskRequest,
    partners: Vec<(String, String)>,
    act: Action<ActInput, Result<ActOutcome, ServerFnError>>,
    note: Action<NoteInput, Result<ActOutcome, ServerFnError>>,
    charge: ServerAction<FeesRecordCharge>,
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let c = &r.citation;
    let facts: Vec<(&'static str, Option<String>)> = vec![
        ("request.field.container", c.container_title.clone()),
        (
            "request.field.authors",
            (!c.authors.is_empty()).then(|| c.authors.join("; ")),
        ),
        ("request.field.year", c.year.clone()),
        ("request.field.volume", c.volume.clone()),
        ("request.field.pages", c.pages.clone()),
        ("request.field.publisher", c.publisher.clone()),
        ("request.field.isbn", c.isbn.clone()),
        ("request.field.issn", c.issn.clone()),
        ("request.field.doi", c.doi.clone()),
        ("request.field.pmid", c.pmid.clone()),
        (
            match r.side {
                Side::Borrowing => "desk.col.patron",
                Side::Lending => "desk.col.library",
            },
            Some(r.who.clone()),
        ),
        ("desk.email", r.who_email.clone()),
        (
            match r.side {
                Side::Borrowing => "request.field.pickup",
                Side::Lending => "desk.delivery",
            },
            r.pickup_location.clone(),
        ),
        (
            "request.field.needed_by",
            r.needed_by.map(|d| d.format("%Y-%m-%d").to_string()),
        ),
        ("request.field.note", r.request_note.clone()),
        ("desk.col.partner", r.partner.clone()),
        (
            "desk.due",
            r.due_date.map(|d| d.format("%Y-%m-%d").to_string()),
        ),
        ("desk.reference", Some(r.external_id.clone())),
    ];
    let state = state_key(&r.state);
    let seen_seq = r.events.iter().map(|e| e.seq).max().unwrap_or(0);
    let base = ActInput {
        id: r.id.clone(),
        version: r.version,
        seen_seq,
        ..ActInput::default()
    };
    let (simple, detailed): (Vec<ActionOffer>, Vec<ActionOffer>) =
        r.actions.iter().cloned().partition(|o| {
            !(o.needs.partner || o.needs.reason || o.needs.due_date || o.needs.link)
        });
    let default_due = r.suggested_due;
    let id = r.id.clone();
    let charge_form = charge_offered(r.side, r.partner.as_deref(), &r.events)
        .then(|| view! { <ChargeForm side=r.side id=r.id.clone() record=charge/> }.into_any());
    view! {
        <h2 class="request-page__title">{c.title.clone()}</h2>
        <p>{tr("desk.col.state")}": "<span class="status" data-state=r.state.clone()>{move || t(i18n.lang(), &state)}</span></p>
        <dl class="facts">
            {facts.into_iter().filter_map(|(k, v)| v.map(|v| view! { <dt>{tr(k)}</dt><dd>{v}</dd> })).collect_view()}
        </dl>
        <section aria-labelledby="desk-actions">
            <h2 id="desk-actions">{tr("desk.actions")}</h2>
            {r.actions.is_empty().then(|| view! { <p>{tr("desk.no_actions")}</p> })}
            <div class="actions">
                {simple
                    .into_iter()
                    .map(|o| {
                        let key = format!("action.{}", o.action);
                        let input = ActInput { action: o.action.clone(), ..base.clone() };
                        view! {
                            <button type="button" class="button" data-action=o.action.clone() disabled=move || act.pending().get()
                                on:click=move |_| { act.dispatch(input.clone()); }>
                                {move || t(i18n.lang(), &key)}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            {detailed
                .into_iter()
                .map(|o| view! { <DetailedAction offer=o base=base.clone() partners=partners.clone() default_due act errors/> }.into_any())
                .collect_view()}
        </section>
        {view! { <NoteForm id note errors/> }.into_any()}
        {charge_form}
        <section aria-labelledby="desk-history">
            <h2 id="desk-history">{tr("desk.history")}</h2>
            <ol class="timeline">
                {r.events.into_iter().map(|e| view! { <li class="timeline__step"><EventLine e/></li> }.into_any()).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

/// An action that needs more than a click: its fields and a button, behind
/// a disclosure.
#[component]
fn DetailedAction(
    offer: ActionOffer,
    base: ActInput,
    partners: Vec<(String, String)>,
    default_due: Option<NaiveDate>,
    act: Action<ActInput, Result<ActOutcome, ServerFnError>>,
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let key = format!("action.{}", offer.action);
    let action = offer.action.clone();
    let partner = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let due = RwSignal::new(
        default_due
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    );
    let link = RwSignal::new(String::new());
    let needs = offer.needs;
    let base_for_file = base.clone();
    let field_id = |f: &str| format!("{action}-{f}");
    let error_of = move |field: &'static str| {
        move || {
            errors.with(|e| {
                e.iter()
                    .find(|e| e.field == field)
                    .map(|e| t(i18n.lang(), &e.key))
            })
        }
    };
    let (p_id, r_id, d_id, l_id) = (
        field_id("partner"),
        field_id("reason"),
        field_id("due"),
        field_id("link"),
    );
    let submit = {
        let action = action.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text =
                |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
            act.dispatch(ActInput {
                action: action.clone(),
                partner: needs.partner.then(|| text(partner)).flatten(),
                reason: needs.reason.then(|| text(reason)).flatten(),
                due_date: needs
                    .due_date
                    .then(|| NaiveDate::parse_from_str(&due.get_untracked(), "%Y-%m-%d").ok())
                    .flatten(),
                link: needs.link.then(|| text(link)).flatten(),
                ..base.clone()
            });
        }
    };
    view! {
        <details class="action-detail" data-action=action.clone()>
            <summary>{move || t(i18n.lang(), &key)}</summary>
            <form on:submit=submit novalidate>
                {needs.partner.then(|| {
                    let id = p_id.clone();
                    view! {
                        <div class="field">
                            <label for=id.clone()>{tr("desk.partner")}</label>
                            <select id=id name="partner" required on:change=move |ev| partner.set(event_target_value(&ev))>
                                <option value="">{tr("desk.partner.choose")}</option>
                                {partners.into_iter().map(|(code, name)| view! { <option value=code.clone()>{format!("{name} ({code})")}</option> }).collect_view()}
                            </select>
                            <p class="field-error" role="alert">{error_of("partner")}</p>
                        </div>
                    }
                })}
                {needs.reason.then(|| {
                    let id = r_id.clone();
                    view! {
                        <div class="field">
                            <label for=id.clone()>{tr("desk.reason")}</label>
                            <textarea id=id name="reason" required rows="2" on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                            <p class="field-error" role="alert">{error_of("reason")}</p>
                        </div>
                    }
                })}
                {needs.due_date.then(|| {
                    let id = d_id.clone();
                    view! {
                        <div class="field">
                            <label for=id.clone()>{tr("desk.due")}</label>
                            <input id=id name="due_date" type="date" required prop:value=move || due.get() on:input=move |ev| due.set(event_target_value(&ev))/>
                            <p class="field-error" role="alert">{error_of("due_date")}</p>
                        </div>
                    }
                })}
                {needs.link.then(|| {
                    let id = l_id.clone();
                    view! {
                        <div class="field">
                            <label for=id.clone()>{tr("desk.link")}</label>
                            <input id=id name="link" type="url" required on:input=move |ev| link.set(event_target_value(&ev))/>
                            <p class="field-error" role="alert">{error_of("link")}</p>
                        </div>
                    }
                })}
                <button type="submit" class="button" disabled=move || act.pending().get()>{tr("desk.confirm")}</button>
            </form>
            {needs.link.then(|| view! { <CopyUpload base=base_for_file.clone()/> })}
        </details>
    }
    .into_any()
}

/// The copy as a file: a plain multipart form posted to the server (it
/// works before the page's script has loaded, and without it), which
/// records the step and comes back to this page.
#[component]
fn CopyUpload(base: ActInput) -> impl IntoView {
    view! {
        <form class="copy-upload" method="post" enctype="multipart/form-data"
            action=format!("/staff/lending/{}/copy", base.id)>
            <h3 class="copy-upload__title">{tr("desk.copy.or_file")}</h3>
            <input type="hidden" name="version" value=base.version.to_string()/>
            <input type="hidden" name="seen_seq" value=base.seen_seq.to_string()/>
            <div class="field">
                <label for="copy-file">{tr("desk.copy.file")}</label>
                <p class="hint" id="copy-file-hint">{tr("desk.copy.file_hint")}</p>
                <input id="copy-file" type="file" name="file" required aria-describedby="copy-file-hint"
                    accept="application/pdf,image/png,image/jpeg,image/tiff"/>
            </div>
            <button type="submit" class="button">{tr("desk.copy.send_file")}</button>
        </form>
    }
    .into_any()
}

#[component]
fn NoteForm(
    id: String,
    note: Action<NoteInput, Result<ActOutcome, ServerFnError>>,
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let text = RwSignal::new(String::new());
    let to_patron = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        note.dispatch(NoteInput {
            id: id.clone(),
            text: text.get_untracked(),
            to_patron: to_patron.get_untracked(),
        });
        text.set(String::new());
    };
    view! {
        <section aria-labelledby="desk-note">
            <h2 id="desk-note">{tr("desk.note")}</h2>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="note-text">{tr("desk.note.text")}</label>
                    <textarea id="note-text" rows="2" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <p class="field-error" role="alert">
                        {move || errors.with(|e| e.iter().find(|e| e.field == "text").map(|e| t(i18n.lang(), &e.key)))}
                    </p>
                </div>
                <div class="field field--check">
                    <input id="note-patron" type="checkbox" prop:checked=move || to_patron.get() on:change=move |ev| to_patron.set(event_target_checked(&ev))/>
                    <label for="note-patron">{tr("desk.note.to_patron")}</label>
                </div>
                <button type="submit" class="button button--secondary" disabled=move || note.pending().get()>{tr("desk.note.add")}</button>
            </form>
        </section>
    }
    .into_any()
}

/// One event: when, who, what, from which state to which, and its note.
#[component]
fn EventLine(e: RequestEvent) -> impl IntoView {
    let i18n = use_i18n();
    let when = e.at.get(..16).unwrap_or(&e.at).replace('T', " ");
    let who = match &e.actor {
        Actor::Patron(id) => ("desk.actor.patron", id.clone()),
        Actor::Staff(id) => ("desk.actor.staff", id.clone()),
        Actor::Partner(code) => ("desk.actor.partner", code.clone()),
        Actor::LibrarySystem => ("desk.actor.library_system", String::new()),
        Actor::Kauko => ("desk.actor.kauko", String::new()),
    };
    let action_key = format!("action.{}", e.action);
    let to_key = state_key(&e.to_state);
    let changed = e.from_state.as_deref() != Some(e.to_state.as_str());
    let audience = e.audience.map(|a| match a {
        Audience::Internal => "desk.note.internal",
        Audience::Patron => "desk.note.patron",
    });
    view! {
        <span class="timeline__date">{when}" UTC"</span>" "
        <span class="timeline__who">{move || t(i18n.lang(), who.0)}" "{who.1.clone()}</span>": "
        <span class="timeline__what">{move || t(i18n.lang(), &action_key)}</span>
        {changed.then(|| view! { " → "<span class="status">{move || t(i18n.lang(), &to_key)}</span> })}
        {e.partner.clone().map(|p| view! { " "<span class="row-meta">{move || t_args(i18n.lang(), "desk.with_partner", &[("partner", &p)])}</span> })}
        {e.note.clone().map(|n| view! {
            <blockquote class="timeline__note">
                {audience.map(|k| view! { <span class="badge">{tr(k)}</span>" " })}
                {n}
            </blockquote>
        })}
    }
    .into_any()
}
