//! On a request's desk page: the form that records an amount with the
//! request's history, for the ledger to pass on ([`super::StatedCharge`]).
//! A borrowing request sent to a partner takes the lending library's
//! charge (the patron pays it); a lending request that was shipped takes
//! damage to the loan (the borrowing library pays it). A plain form post,
//! so it works before the page's code has loaded.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::api::{FeesRecordCharge, Refusal};
use crate::domain::history::{RequestEvent, Side};
use crate::i18n::t_args;
use crate::site::{tr, use_i18n};

/// Whether a request may carry such an amount now: borrowing once sent to a
/// partner, lending once something was shipped.
pub fn offered(side: Side, partner: Option<&str>, events: &[RequestEvent]) -> bool {
    match side {
        Side::Borrowing => partner.is_some(),
        Side::Lending => events
            .iter()
            .any(|e| super::Billable::is_shipping(e.side.code(), &e.action)),
    }
}

#[component]
pub fn ChargeForm(side: Side, id: String, record: ServerAction<FeesRecordCharge>) -> impl IntoView {
    let i18n = use_i18n();
    let (title, reference) = match side {
        Side::Borrowing => ("fees.charge.partner_title", "fees.charge.partner_reference"),
        Side::Lending => ("fees.charge.damage_title", "fees.charge.damage_reference"),
    };
    let hint = match side {
        Side::Borrowing => "fees.charge.partner_hint",
        Side::Lending => "fees.charge.damage_hint",
    };
    let said = move || {
        record.value().get().map(|v| match v {
            Ok(Ok(_)) => view! { <p class="notice notice--ok" role="status">{tr("fees.charge.recorded")}</p> }.into_any(),
            Ok(Err(Refusal { key, args })) => {
                let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let text = t_args(i18n.lang(), &key, &args);
                view! { <p class="notice notice--error" role="alert">{text}</p> }.into_any()
            }
            Err(_) => view! { <p class="notice notice--error" role="alert">{tr("fees.error.try_again")}</p> }.into_any(),
        })
    };
    view! {
        <section aria-labelledby="desk-charge">
            <h2 id="desk-charge">{tr(title)}</h2>
            <p id="charge-hint" class="hint">{tr(hint)}</p>
            <ActionForm action=record attr:class="filters" attr:aria-describedby="charge-hint">
                <input type="hidden" name="side" value=side.code()/>
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="charge-amount">{tr("fees.charge.amount")}</label>
                    <input id="charge-amount" name="amount" inputmode="decimal" required/>
                </div>
                <div class="field">
                    <label for="charge-currency">{tr("fees.rules.currency")}</label>
                    <input id="charge-currency" name="currency" value="EUR" maxlength="3" required/>
                </div>
                <div class="field">
                    <label for="charge-reference">{tr(reference)}</label>
                    <input id="charge-reference" name="reference" maxlength="200"/>
                </div>
                <div class="filters__buttons">
                    <button type="submit" class="button button--secondary">{tr("fees.charge.record")}</button>
                </div>
            </ActionForm>
            <div class="notice-area">{said}</div>
        </section>
    }
}
