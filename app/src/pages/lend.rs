//! `/lend` and `/lend/<partner-code>`: the lending form for other
//! libraries. No sign-in. It shares the identifier box, the citation
//! fields and the error summary with the patron's request form; a
//! partner's own address prefills and locks the partner's details and shows
//! the partner's instructions.

use leptos::prelude::*;

use crate::api::form::RequestForm;
use crate::api::lend::{
    lend_partner, posted_lend_form, sent_lend_form, LendForm, LendOutcome, PartnerDetails,
    SubmitLending,
};
use crate::components::field::{FieldErrorText, TextField};
use crate::components::page::PageTitle;
use crate::domain::FieldError;
use crate::i18n::{t, t_args};
use crate::pages::request::{
    focus_later, new_key, CitationFields, ErrorSummary, Fields, IdentifierBox, IdentifierLookup,
    KindChoice,
};
use crate::site::{tr, use_i18n};

/// The general form.
#[island(lazy)]
pub fn LendPage() -> impl IntoView {
    view! {
        <PageTitle key="page.lend.title"/>
        <LendFormView partner=None/>
    }
    .into_any()
}

/// A partner's own form.
#[island(lazy)]
pub fn LendPartnerPage() -> impl IntoView {
    let tail = StoredValue::new(crate::page_url::path_tail());
    let code = move || tail.get_value();
    let partner = Resource::new(code, lend_partner);
    view! {
        <PageTitle key="page.lend.title"/>
        <Suspense fallback=move || view! { <p role="status">{tr("lend.loading")}</p> }>
            {move || Suspend::new(async move {
                match partner.await {
                    Ok(Some(p)) => view! { <LendFormView partner=Some(p)/> }.into_any(),
                    Ok(None) => view! {
                        <p class="notice" role="status">{tr("lend.unknown_partner")}</p>
                        <p><a href="/lend">{tr("lend.general_form")}</a></p>
                    }
                    .into_any(),
                    Err(_) => view! { <p class="notice notice--error" role="alert">{tr("lend.error.partner")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The library's own fields as signals.
#[derive(Clone, Copy)]
struct Library {
    name: RwSignal<String>,
    id: RwSignal<String>,
    contact: RwSignal<String>,
    email: RwSignal<String>,
    service: RwSignal<String>,
    delivery: RwSignal<String>,
    address: RwSignal<String>,
    max_cost: RwSignal<String>,
    website: RwSignal<String>,
}

/// What the confirmation says: the reference and which of the three ways
/// the request went.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Done {
    reference: String,
    key: &'static str,
}

#[component]
fn LendFormView(partner: Option<PartnerDetails>) -> impl IntoView {
    let i18n = use_i18n();
    // Sent without JavaScript, the form comes back here (see
    // `submit_lending`): as the confirmation, or with what was typed and
    // what was wrong. The server and the browser read the same URL.
    let query = crate::page_url::page_query();
    let posted = posted_lend_form(&query);
    let sent = sent_lend_form(&query);
    let mut citation = RequestForm {
        kind: "book".into(),
        format: "PHYSICAL".into(),
        ..Default::default()
    };
    if let Some(p) = &posted {
        let kind = p.form.citation.kind.clone();
        citation = RequestForm {
            format: "PHYSICAL".into(),
            idempotency_key: p.form.idempotency_key.clone(),
            needed_by: p.form.needed_by.clone(),
            note: p.form.note.clone(),
            ..p.form.citation.clone()
        };
        if kind.is_empty() {
            citation.kind = "book".into();
        }
    }
    // A key from the server, so the form works before JavaScript arrives.
    #[cfg(feature = "ssr")]
    if citation.idempotency_key.is_empty() {
        citation.idempotency_key = crate::api::form::new_server_key();
    }
    let fields = Fields::new(citation);
    let from = |typed: Option<&String>, default: Option<&String>| {
        RwSignal::new(
            typed
                .filter(|t| !t.is_empty())
                .or(default)
                .cloned()
                .unwrap_or_default(),
        )
    };
    let typed = posted.as_ref().map(|p| &p.form);
    let library = Library {
        name: from(
            typed.map(|f| &f.library_name),
            partner.as_ref().map(|p| &p.name),
        ),
        id: from(
            typed.map(|f| &f.library_id),
            partner.as_ref().map(|p| p.isil.as_ref().unwrap_or(&p.code)),
        ),
        contact: from(typed.map(|f| &f.contact_name), None),
        email: from(
            typed.map(|f| &f.email),
            partner.as_ref().and_then(|p| p.email.as_ref()),
        ),
        service: from(typed.map(|f| &f.service), Some(&"loan".to_owned())),
        delivery: from(typed.map(|f| &f.delivery), Some(&"postal".to_owned())),
        address: from(typed.map(|f| &f.delivery_address), None),
        max_cost: from(typed.map(|f| &f.max_cost), None),
        website: RwSignal::new(String::new()),
    };
    let partner_code = partner.as_ref().map(|p| p.code.clone()).unwrap_or_default();
    let locked = partner.is_some();
    let errors = RwSignal::new(
        posted
            .as_ref()
            .map(|p| p.errors.clone())
            .unwrap_or_default(),
    );
    let submit_error = RwSignal::new(posted.as_ref().and_then(|p| p.failed.clone()));
    let done = RwSignal::new(sent.map(|(reference, key)| Done { reference, key }));
    let lookup = IdentifierLookup::new(fields, String::new(), |_| {});
    let submit = ServerAction::<SubmitLending>::new();
    let summary_ref = NodeRef::<leptos::html::Div>::new();
    let done_ref = NodeRef::<leptos::html::H2>::new();

    Effect::new(move |_| {
        if fields.key.get_untracked().is_empty() {
            fields.key.set(new_key());
        }
    });

    let code_for_send = StoredValue::new(partner_code.clone());
    let send = move || {
        let mut citation = fields.snapshot();
        // The lending form's own key, date and note are sent once, as its
        // own fields.
        let needed_by = std::mem::take(&mut citation.needed_by);
        let note = std::mem::take(&mut citation.note);
        citation.idempotency_key.clear();
        let mut key = fields.key.get_untracked();
        if key.is_empty() {
            key = new_key();
            fields.key.set(key.clone());
        }
        let form = LendForm {
            idempotency_key: key,
            partner: code_for_send.get_value(),
            library_name: library.name.get_untracked(),
            library_id: library.id.get_untracked(),
            contact_name: library.contact.get_untracked(),
            email: library.email.get_untracked(),
            service: library.service.get_untracked(),
            delivery: library.delivery.get_untracked(),
            delivery_address: library.address.get_untracked(),
            max_cost: library.max_cost.get_untracked(),
            needed_by,
            note,
            website: library.website.get_untracked(),
            citation,
        };
        submit_error.set(None);
        submit.dispatch(SubmitLending { form });
    };

    Effect::new(move |_| {
        let Some(result) = submit.value().get() else {
            return;
        };
        let finished = |reference: String, key: &'static str| {
            errors.set(vec![]);
            done.set(Some(Done { reference, key }));
            focus_later(done_ref);
        };
        match result {
            Ok(LendOutcome::Sent { reference }) => finished(reference, "lend.done.sent"),
            Ok(LendOutcome::Received { reference }) => finished(reference, "lend.done.received"),
            Ok(LendOutcome::Held { reference }) => finished(reference, "lend.done.held"),
            Ok(LendOutcome::Invalid(list)) => {
                errors.set(list);
                focus_later(summary_ref);
            }
            Ok(LendOutcome::Refused(key)) => {
                errors.set(vec![]);
                submit_error.set(Some(key));
                focus_later(summary_ref);
            }
            Err(_) => {
                submit_error.set(Some("lend.error.send".to_owned()));
                focus_later(summary_ref);
            }
        }
    });

    // Built afresh each time the form is shown (a view is not Clone once
    // components are type-erased).
    let partner_card = move || {
        partner.clone().map(|p| {
        let instructions = p.instructions.clone();
        view! {
            <section class="partner-card" aria-labelledby="partner-title">
                <h2 id="partner-title">{tr("lend.partner.title")}</h2>
                <dl>
                    <dt>{tr("lend.field.library_name")}</dt><dd>{p.name.clone()}</dd>
                    <dt>{tr("lend.field.library_id")}</dt><dd>{p.isil.clone().unwrap_or_else(|| p.code.clone())}</dd>
                </dl>
                {instructions.map(|text| view! {
                    <h3>{tr("lend.partner.instructions")}</h3>
                    <p class="partner-card__instructions">{text}</p>
                })}
            </section>
        }
        })
    };

    let form_view = move || {
        view! {
            <p class="lead">{tr("lend.lead")}</p>
            {partner_card()}
            // Without JavaScript the browser posts the form to the server
            // function itself, which answers with a page (`submit_lending`).
            <form class="request-form" method="post" action="/api/lend/submit" novalidate on:submit=move |ev| {
                ev.prevent_default();
                send();
            }>
                <input type="hidden" name="idempotency_key" value=fields.key.get_untracked() prop:value=move || fields.key.get()/>
                <input type="hidden" name="partner" value=code_for_send.get_value()/>
                <ErrorSummary errors submit_error node_ref=summary_ref/>
                <LibraryFields library errors locked/>
                <IdentifierBox lookup/>
                <KindChoice fields/>
                <CitationFields fields errors/>
                <ServiceFields library fields errors/>
                <div class="form-actions">
                    <button type="submit" class="button" disabled=move || submit.pending().get()>
                        {move || if submit.pending().get() { t(i18n.lang(), "request.sending") } else { t(i18n.lang(), "lend.submit") }}
                    </button>
                </div>
            </form>
        }
        .into_any()
    };

    let start_over = move |_| {
        let mut form = RequestForm {
            kind: "book".into(),
            format: "PHYSICAL".into(),
            idempotency_key: new_key(),
            ..Default::default()
        };
        fields.set(&mut form);
        lookup.clear();
        done.set(None);
    };

    view! {
        <Show when=move || done.get().is_some() fallback=form_view>
            <section class="confirmation" aria-labelledby="done-title">
                <h2 id="done-title" tabindex="-1" node_ref=done_ref>{tr("lend.done.title")}</h2>
                <p class="reference">
                    {move || t_args(i18n.lang(), "lend.done.reference", &[("reference", &done.get().map(|d| d.reference).unwrap_or_default())])}
                </p>
                <p>{move || done.get().map(|d| t(i18n.lang(), d.key)).unwrap_or_default()}</p>
                <Show when=move || done.get().is_some_and(|d| d.key != "lend.done.held")>
                    <p>{tr("lend.done.mail")}</p>
                </Show>
                <p class="confirmation__actions">
                    <button type="button" class="button button--secondary" on:click=start_over>
                        {tr("lend.done.another")}
                    </button>
                </p>
            </section>
        </Show>
    }
    .into_any()
}

#[component]
fn LibraryFields(
    library: Library,
    errors: RwSignal<Vec<FieldError>>,
    locked: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let label = move |key: &'static str| Signal::derive(move || t(i18n.lang(), key));
    view! {
        <fieldset class="group">
            <legend>{tr("lend.library.legend")}</legend>
            {(!locked).then(|| view! {
                <TextField name="library_name" label=label("lend.field.library_name") value=library.name errors required=true autocomplete="organization"/>
                <TextField name="library_id" label=label("lend.field.library_id") value=library.id errors hint="lend.hint.library_id" class="field--short"/>
            })}
            <TextField name="contact_name" label=label("lend.field.contact_name") value=library.contact errors autocomplete="name"/>
            <TextField name="email" label=label("lend.field.email") value=library.email errors required=true input_type="email" autocomplete="email" hint="lend.hint.email"/>
            // Not for people: hidden from view and from screen readers.
            <div class="hp" aria-hidden="true">
                <label for="website">"Website"</label>
                <input id="website" name="website" type="text" tabindex="-1" autocomplete="off"
                    prop:value=move || library.website.get()
                    on:input=move |ev| library.website.set(event_target_value(&ev))/>
            </div>
        </fieldset>
    }
    .into_any()
}

#[component]
fn ServiceFields(
    library: Library,
    fields: Fields,
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let label = move |key: &'static str| Signal::derive(move || t(i18n.lang(), key));
    let choice = move |signal: RwSignal<String>,
                       group: &'static str,
                       code: &'static str,
                       key: &'static str| {
        let id = format!("{group}-{code}");
        view! {
            <div class="choice">
                <input type="radio" id=id.clone() name=group value=code
                    checked=signal.get_untracked() == code
                    prop:checked=move || signal.get() == code
                    on:change=move |_| signal.set(code.to_owned())/>
                <label for=id>{tr(key)}</label>
            </div>
        }
    };
    let address_label = Signal::derive(move || {
        t(
            i18n.lang(),
            if library.delivery.get() == "email" {
                "lend.field.delivery_email"
            } else {
                "lend.field.delivery_address"
            },
        )
    });
    let delivery_invalid = move || crate::components::field::error_of(errors, "delivery").is_some();
    view! {
        <fieldset class="group">
            <legend>{tr("lend.service.legend")}</legend>
            <fieldset class="choices">
                <legend>{tr("lend.service.type")}</legend>
                {choice(library.service, "service", "loan", "lend.service.loan")}
                {choice(library.service, "service", "copy", "lend.service.copy")}
            </fieldset>
            <fieldset class="choices" aria-invalid=move || delivery_invalid().then_some("true")
                aria-describedby=move || delivery_invalid().then_some("delivery-error")>
                <legend>{tr("lend.delivery.legend")}</legend>
                {choice(library.delivery, "delivery", "postal", "lend.delivery.postal")}
                {choice(library.delivery, "delivery", "email", "lend.delivery.email")}
                <FieldErrorText name="delivery" errors/>
            </fieldset>
            <TextField name="delivery_address" label=address_label value=library.address errors required=true multiline=true/>
            <TextField name="max_cost" label=label("lend.field.max_cost") value=library.max_cost errors hint="lend.hint.max_cost" class="field--short"/>
            <TextField name="needed_by" label=label("request.field.needed_by") value=fields.needed_by errors input_type="date" hint="request.hint.needed_by" class="field--short"/>
            <TextField name="note" label=label("lend.field.note") value=fields.note errors multiline=true/>
        </fieldset>
    }
    .into_any()
}
