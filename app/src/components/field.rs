//! Form fields with their label, hint and error tied together for screen
//! readers: the error is named by `aria-describedby`, marked with
//! `aria-invalid`, and says what is wrong in words (not only in colour). It
//! stays until the field is submitted again.

use leptos::prelude::*;

use crate::domain::FieldError;
use crate::site::use_i18n;

/// The translation key of a field's error, if it has one.
pub fn error_of(errors: RwSignal<Vec<FieldError>>, name: &str) -> Option<String> {
    errors.with(|es| es.iter().find(|e| e.field == name).map(|e| e.key.clone()))
}

/// The ids a field's `aria-describedby` lists: its hint and its error.
fn described_by(name: &str, hint: bool, error: bool) -> Option<String> {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{name}-hint"));
    }
    if error {
        ids.push(format!("{name}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// The error line under a field ("Error: …"), or nothing.
#[component]
pub fn FieldErrorText(name: &'static str, errors: RwSignal<Vec<FieldError>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        error_of(errors, name).map(|key| {
            view! {
                <p id=format!("{name}-error") class="field-error">
                    <span class="field-error__mark" aria-hidden="true">"⚠ "</span>
                    <span class="visually-hidden">{i18n.t("form.error_prefix")}" "</span>
                    {move || crate::i18n::t(i18n.lang(), &key)}
                </p>
            }
        })
    }
}

/// Text as HTML (for a textarea's content).
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A labelled text input (or textarea) bound to a string signal. The
/// server's page carries the value too (an attribute), so the form works
/// before and without JavaScript.
#[component]
pub fn TextField(
    /// The field's name: its id, and the name errors use.
    name: &'static str,
    #[prop(into)] label: Signal<String>,
    value: RwSignal<String>,
    errors: RwSignal<Vec<FieldError>>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] required: Signal<bool>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] class: Option<&'static str>,
) -> impl IntoView {
    let i18n = use_i18n();
    let invalid = move || error_of(errors, name).is_some();
    let describedby = move || described_by(name, hint.is_some(), invalid());
    let on_input = move |ev| value.set(event_target_value(&ev));
    let control = if multiline {
        view! {
            <textarea
                id=name
                name=name
                rows="4"
                // The server's page shows the value (a form sent back
                // without JavaScript keeps what was typed).
                inner_html=escape_text(&value.get_untracked())
                prop:value=move || value.get()
                on:input=on_input
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=describedby
                aria-required=move || required.get().then_some("true")
            ></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=name
                name=name
                type=input_type
                autocomplete=autocomplete
                inputmode=inputmode
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=on_input
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=describedby
                aria-required=move || required.get().then_some("true")
            />
        }
        .into_any()
    };
    view! {
        <div class=move || format!("field {}", class.unwrap_or_default())>
            <label for=name>
                {move || label.get()}
                {move || required.get().then(|| view! { <span class="field__required">" "{i18n.t("form.required")}</span> })}
            </label>
            {hint.map(|key| view! { <p id=format!("{name}-hint") class="hint">{i18n.t(key)}</p> })}
            {control}
            <FieldErrorText name errors/>
        </div>
    }
}
