//! The fees' server functions: staff only. Each takes the staff member
//! from the session, reads the form, and calls the [`FeeOffice`](super::FeeOffice)
//! the server provides. A refusal comes back as a translation key with its
//! values, for the page to show by the field.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use super::{Customer, FeeLine, FeeRule, Invoice, InvoiceRun, Reconciliation};

/// Why the server refused what staff sent: a translation key and values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub key: String,
    pub args: Vec<(String, String)>,
}

impl Refusal {
    pub fn new(key: &str) -> Self {
        Refusal {
            key: key.to_owned(),
            args: Vec::new(),
        }
    }
}

/// What came of an action: done (with the new id or number), or refused.
pub type Outcome = Result<String, Refusal>;

fn date(text: &str) -> Result<NaiveDate, Refusal> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| Refusal::new("fees.error.date"))
}

/// A period's two dates, as the run and the reconciliation take them.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn period(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), Refusal> {
    Ok((date(from)?, date(to)?))
}

fn optional_date(text: Option<String>) -> Result<Option<NaiveDate>, Refusal> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => date(t).map(Some),
    }
}

fn blank_to_none(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A rule from the form's fields.
#[allow(clippy::too_many_arguments)]
pub fn rule_from_form(
    name: String,
    billable: String,
    scope: String,
    partner: Option<String>,
    amount: String,
    currency: String,
    vat_applies: Option<String>,
    vat_rate: Option<String>,
    valid_from: String,
    valid_to: Option<String>,
    conditions: [Option<String>; 3],
) -> Result<super::NewRule, Refusal> {
    let [material, urgency, patron_group] = conditions.map(blank_to_none);
    let conditions = super::Conditions {
        material: material
            .map(|m| {
                super::CitationType::from_code(&m)
                    .ok_or_else(|| Refusal::new("fees.error.material"))
            })
            .transpose()?,
        urgency: urgency
            .map(|u| {
                super::Urgency::from_code(&u).ok_or_else(|| Refusal::new("fees.error.urgency"))
            })
            .transpose()?,
        patron_group,
    };
    let billable =
        super::Billable::from_code(&billable).ok_or_else(|| Refusal::new("fees.error.billable"))?;
    let scope = match scope.as_str() {
        "everyone" => super::Scope::Everyone,
        "partner" => match blank_to_none(partner) {
            Some(p) => super::Scope::Partner(p),
            None => return Err(Refusal::new("fees.error.partner_missing")),
        },
        g => super::Scope::Group(
            super::PartnerGroup::from_code(g).ok_or_else(|| Refusal::new("fees.error.scope"))?,
        ),
    };
    let amount_cents =
        super::parse_cents(&amount).ok_or_else(|| Refusal::new("fees.error.amount"))?;
    let vat_applies = vat_applies.is_some_and(|v| v == "on" || v == "true");
    let vat_basis_points = if vat_applies {
        super::parse_rate(vat_rate.as_deref().unwrap_or(""))
            .ok_or_else(|| Refusal::new("fees.error.vat"))?
    } else {
        0
    };
    Ok(super::NewRule {
        name: name.trim().to_owned(),
        billable,
        scope,
        conditions,
        amount_cents,
        currency: currency.trim().to_ascii_uppercase(),
        vat_applies,
        vat_basis_points,
        valid_from: date(&valid_from)?,
        valid_to: optional_date(valid_to)?,
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    use http::StatusCode;
    use leptos::prelude::*;

    use crate::api::ssr::fail;
    use crate::fees::FeeOffice;

    pub fn office() -> Result<Arc<dyn FeeOffice>, ServerFnError> {
        use_context::<Arc<dyn FeeOffice>>().ok_or_else(|| fail(StatusCode::NOT_FOUND, "no fees"))
    }

    pub fn error(e: String) -> ServerFnError {
        leptos::logging::error!("fees: {e}");
        fail(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
    }
}

#[server(endpoint = "staff/fees/rules", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn fees_rules() -> Result<Vec<FeeRule>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::office()?.rules().await.map_err(ssr::error)
}

#[server(endpoint = "staff/fees/add-rule", output = crate::api::codec::Answer)]
#[allow(clippy::too_many_arguments)]
pub async fn fees_add_rule(
    name: String,
    billable: String,
    scope: String,
    partner: Option<String>,
    amount: String,
    currency: String,
    vat_applies: Option<String>,
    vat_rate: Option<String>,
    valid_from: String,
    valid_to: Option<String>,
    material: Option<String>,
    urgency: Option<String>,
    patron_group: Option<String>,
) -> Result<Outcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    let rule = match rule_from_form(
        name,
        billable,
        scope,
        partner,
        amount,
        currency,
        vat_applies,
        vat_rate,
        valid_from,
        valid_to,
        [material, urgency, patron_group],
    ) {
        Ok(r) => r,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(
        match ssr::office()?
            .add_rule(rule, &staff.user_id)
            .await
            .map_err(ssr::error)?
        {
            Ok(id) => Ok(id.to_string()),
            Err(e) => Err(Refusal {
                key: e.key().to_owned(),
                args: e
                    .args()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            }),
        },
    )
}

#[server(endpoint = "staff/fees/end-rule", output = crate::api::codec::Answer)]
pub async fn fees_end_rule(id: i64, day: String) -> Result<Outcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    let day = match date(&day) {
        Ok(d) => d,
        Err(r) => return Ok(Err(r)),
    };
    Ok(
        match ssr::office()?
            .end_rule(id, day, &staff.user_id)
            .await
            .map_err(ssr::error)?
        {
            Ok(()) => Ok(id.to_string()),
            Err(e) => Err(Refusal::new(e.key())),
        },
    )
}

#[server(endpoint = "staff/fees/lines", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn fees_lines(all: bool) -> Result<Vec<FeeLine>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::office()?.lines(all).await.map_err(ssr::error)
}

/// Adjusts (`change` = `adjust`, with the right `amount`) or waives an open
/// line, with the reason; the answer is the new line's id.
#[server(endpoint = "staff/fees/change-line", output = crate::api::codec::Answer)]
pub async fn fees_change_line(
    line: String,
    change: String,
    amount: Option<String>,
    reason: String,
) -> Result<Outcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    let change = match change.as_str() {
        "waive" => super::LineChange::Waive,
        _ => match amount.as_deref().and_then(super::parse_cents) {
            Some(c) => super::LineChange::Adjust { unit_cents: c },
            None => return Ok(Err(Refusal::new("fees.error.amount"))),
        },
    };
    Ok(
        match ssr::office()?
            .change_line(&line, change, &reason, &staff.user_id)
            .await
            .map_err(ssr::error)?
        {
            Ok(id) => Ok(id),
            Err(e) => Err(Refusal::new(e.key())),
        },
    )
}

#[server(endpoint = "staff/fees/customers", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn fees_customers() -> Result<Vec<Customer>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::office()?.customers().await.map_err(ssr::error)
}

#[server(endpoint = "staff/fees/save-customer", output = crate::api::codec::Answer)]
#[allow(clippy::too_many_arguments)]
pub async fn fees_save_customer(
    code: String,
    name: String,
    business_id: Option<String>,
    ovt: Option<String>,
    intermediator: Option<String>,
    street: Option<String>,
    postcode: Option<String>,
    town: Option<String>,
    country: Option<String>,
    email: Option<String>,
    lang: Option<String>,
    e_invoice: Option<String>,
) -> Result<Outcome, ServerFnError> {
    crate::api::ssr::require_staff()?;
    let customer = Customer {
        code: code.trim().to_owned(),
        payer: None,
        name: name.trim().to_owned(),
        business_id: blank_to_none(business_id),
        ovt: blank_to_none(ovt).map(|o| o.replace(' ', "")),
        intermediator: blank_to_none(intermediator),
        street: blank_to_none(street),
        postcode: blank_to_none(postcode),
        town: blank_to_none(town),
        country: blank_to_none(country).map(|c| c.to_ascii_uppercase()),
        email: blank_to_none(email),
        lang: blank_to_none(lang),
        e_invoice: e_invoice.is_some_and(|v| v == "on" || v == "true"),
    };
    if customer.code.is_empty() {
        return Ok(Err(Refusal::new("fees.error.customer")));
    }
    let code = customer.code.clone();
    Ok(
        match ssr::office()?
            .save_customer(customer)
            .await
            .map_err(ssr::error)?
        {
            Ok(()) => Ok(code),
            Err(e) => Err(Refusal::new(e.key())),
        },
    )
}

/// Runs invoicing for a period; running the same period again gives the
/// same run. The answer is the run's id.
#[server(endpoint = "staff/fees/run", output = crate::api::codec::Answer)]
pub async fn fees_run(from: String, to: String) -> Result<Outcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    let (from, to) = match period(&from, &to) {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    Ok(
        match ssr::office()?
            .run(from, to, &staff.user_id)
            .await
            .map_err(ssr::error)?
        {
            Ok(run) => Ok(run.id),
            Err(e) => Err(Refusal::new(e.key())),
        },
    )
}

#[server(endpoint = "staff/fees/runs", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn fees_runs() -> Result<Vec<InvoiceRun>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::office()?.runs().await.map_err(ssr::error)
}

#[server(endpoint = "staff/fees/exports", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn fees_exports() -> Result<Vec<super::ExportRecord>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::office()?.exports().await.map_err(ssr::error)
}

#[server(endpoint = "staff/fees/invoice", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn fees_invoice(id: String) -> Result<Option<Invoice>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::office()?.invoice(&id).await.map_err(ssr::error)
}

/// A credit note reversing the chosen lines of an invoice; the answer is
/// the credit note's id.
#[server(endpoint = "staff/fees/credit", output = crate::api::codec::Answer)]
pub async fn fees_credit(
    invoice: String,
    lines: Vec<String>,
    reason: String,
) -> Result<Outcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    Ok(
        match ssr::office()?
            .credit(&invoice, lines, &reason, &staff.user_id)
            .await
            .map_err(ssr::error)?
        {
            Ok(id) => Ok(id),
            Err(e) => Err(Refusal::new(e.key())),
        },
    )
}

#[server(endpoint = "staff/fees/reconcile", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn fees_reconcile(
    from: String,
    to: String,
) -> Result<Result<Reconciliation, Refusal>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    let (from, to) = match period(&from, &to) {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    Ok(Ok(ssr::office()?
        .reconcile(from, to)
        .await
        .map_err(ssr::error)?))
}

/// Records the lending library's charge on a borrowing request, or damage
/// to a loan on a lending request (`side`), for the ledger to pass on.
#[server(endpoint = "staff/fees/record-charge", output = crate::api::codec::Answer)]
pub async fn fees_record_charge(
    side: String,
    id: String,
    amount: String,
    currency: String,
    reference: String,
) -> Result<Outcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    let Some(side) = crate::domain::history::Side::from_code(&side) else {
        return Ok(Err(Refusal::new("fees.error.no_request")));
    };
    let charge = match super::StatedCharge::parse(&amount, &currency, &reference) {
        Ok(c) => c,
        Err(e) => return Ok(Err(Refusal::new(e.key()))),
    };
    Ok(
        match ssr::office()?
            .record_charge(side, &id, charge, &staff.user_id)
            .await
            .map_err(ssr::error)?
        {
            Ok(()) => Ok(id),
            Err(e) => Err(Refusal::new(e.key())),
        },
    )
}
