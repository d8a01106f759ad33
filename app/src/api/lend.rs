//! The lending form for other libraries (`/lend`, `/lend/<partner-code>`)
//! and the staff review of requests from libraries that are not known
//! partners. No sign-in: every field is checked here, whatever the browser
//! did, and the request goes into the outbox keyed by the form's
//! idempotency key.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::form::{checked_date, key_ok, opt_text, RequestForm};
use crate::domain::{FieldError, NewLendingRequest, Partner, RequesterContact, ServiceType};

/// Longest text accepted in a one-line field.
pub const MAX_LINE_CHARS: usize = 200;
/// Longest text accepted in the address and note.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The form as the browser holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LendForm {
    /// Made when the form is shown; the same key twice is one request.
    pub idempotency_key: String,
    /// The partner of a per-partner form (`/lend/<code>`); its details are
    /// taken from the partner record, not from what was sent.
    pub partner: String,
    pub library_name: String,
    /// ISIL (e.g. `FI-TAY`) or our partner code for the library.
    pub library_id: String,
    pub contact_name: String,
    pub email: String,
    /// The citation (only its citation fields are read). Its fields come
    /// flat, beside the others, as the page's form sends them.
    #[serde(flatten)]
    pub citation: RequestForm,
    /// `loan` or `copy`.
    pub service: String,
    /// `postal` or `email`.
    pub delivery: String,
    pub delivery_address: String,
    pub max_cost: String,
    pub needed_by: String,
    pub note: String,
    /// A field people never see (it is hidden); software that fills every
    /// field fills it too.
    pub website: String,
}

/// Whether text looks like an e-mail address (one `@`, a dot in the
/// domain, no spaces, at most 254 characters).
pub fn is_email(text: &str) -> bool {
    let t = text.trim();
    let Some((local, domain)) = t.split_once('@') else {
        return false;
    };
    t.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !t.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether text is an ISIL (ISO 15511): a prefix of 1–4 letters, a dash,
/// then letters, digits, `-`, `/` or `:`; at most 16 characters.
pub fn is_isil(text: &str) -> bool {
    let Some((prefix, rest)) = text.split_once('-') else {
        return false;
    };
    text.len() <= 16
        && (1..=4).contains(&prefix.len())
        && prefix.chars().all(|c| c.is_ascii_alphabetic())
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | ':'))
}

/// Whether an identifier is meant as an ISIL (two letters and a dash,
/// like `FI-…`), so it must be a valid one.
fn looks_like_isil(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic() && b[2] == b'-'
}

/// Every field of the form with its size limit (characters).
fn limits(form: &LendForm) -> Vec<(&'static str, &str, usize)> {
    let c = &form.citation;
    vec![
        ("library_name", form.library_name.as_str(), MAX_LINE_CHARS),
        ("library_id", &form.library_id, 64),
        ("contact_name", &form.contact_name, MAX_LINE_CHARS),
        ("email", &form.email, 254),
        ("title", &c.title, crate::domain::citation::MAX_FIELD_CHARS),
        (
            "authors",
            &c.authors,
            crate::domain::citation::MAX_FIELD_CHARS,
        ),
        (
            "container_title",
            &c.container_title,
            crate::domain::citation::MAX_FIELD_CHARS,
        ),
        ("volume", &c.volume, 50),
        ("issue", &c.issue, 50),
        ("pages", &c.pages, 50),
        ("year", &c.year, 20),
        ("publisher", &c.publisher, MAX_LINE_CHARS),
        ("edition", &c.edition, 50),
        ("issn", &c.issn, 20),
        ("isbn", &c.isbn, 30),
        ("doi", &c.doi, 300),
        ("pmid", &c.pmid, 20),
        ("delivery_address", &form.delivery_address, MAX_TEXT_CHARS),
        ("max_cost", &form.max_cost, 50),
        ("needed_by", &form.needed_by, 10),
        ("note", &form.note, MAX_TEXT_CHARS),
    ]
}

/// The lending form's own text fields by the names its inputs have (the
/// citation's are [`super::form::TEXT_FIELDS`]).
const LEND_FIELDS: [(
    &str,
    fn(&LendForm) -> &String,
    fn(&mut LendForm) -> &mut String,
); 11] = [
    (
        "idempotency_key",
        |f| &f.idempotency_key,
        |f| &mut f.idempotency_key,
    ),
    ("library_name", |f| &f.library_name, |f| &mut f.library_name),
    ("library_id", |f| &f.library_id, |f| &mut f.library_id),
    ("contact_name", |f| &f.contact_name, |f| &mut f.contact_name),
    ("email", |f| &f.email, |f| &mut f.email),
    ("service", |f| &f.service, |f| &mut f.service),
    ("delivery", |f| &f.delivery, |f| &mut f.delivery),
    (
        "delivery_address",
        |f| &f.delivery_address,
        |f| &mut f.delivery_address,
    ),
    ("max_cost", |f| &f.max_cost, |f| &mut f.max_cost),
    ("needed_by", |f| &f.needed_by, |f| &mut f.needed_by),
    ("note", |f| &f.note, |f| &mut f.note),
];

/// The citation fields the lending form has (not the patron's own).
fn lend_citation_field(name: &str) -> bool {
    !matches!(
        name,
        "idempotency_key" | "needed_by" | "note" | "format" | "pickup_location"
    )
}

/// A lending form sent back without JavaScript (see
/// [`super::form::PostedForm`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostedLendForm {
    pub form: LendForm,
    pub errors: Vec<FieldError>,
    pub failed: Option<String>,
}

impl LendForm {
    /// The query string that shows this form again with its problems
    /// (the hidden field is not repeated).
    pub fn posted_query(&self, errors: &[FieldError], failed: Option<&str>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("posted", "1");
        for (name, get, _) in LEND_FIELDS {
            if !get(self).is_empty() {
                q.append_pair(name, get(self));
            }
        }
        for (name, get, _) in super::form::TEXT_FIELDS {
            if lend_citation_field(name) && !get(&self.citation).is_empty() {
                q.append_pair(name, get(&self.citation));
            }
        }
        for e in errors {
            q.append_pair("error", &format!("{}:{}", e.field, e.key));
        }
        if let Some(key) = failed {
            q.append_pair("failed", key);
        }
        q.finish()
    }

    /// Where the form is: `/lend`, or a partner's `/lend/{code}`.
    pub fn page(&self) -> String {
        let code = self.partner.trim();
        if code.is_empty() {
            "/lend".to_owned()
        } else {
            let encoded: String = form_urlencoded::byte_serialize(code.as_bytes()).collect();
            format!("/lend/{encoded}")
        }
    }
}

/// Reads a lending page's query: a form sent back with its problems, if it
/// is one (`posted=1`).
pub fn posted_lend_form(query: &str) -> Option<PostedLendForm> {
    let pairs = super::form::query_pairs(query);
    if !pairs.iter().any(|(k, v)| k == "posted" && v == "1") {
        return None;
    }
    let mut posted = PostedLendForm::default();
    for (k, v) in pairs {
        if let Some((_, _, set)) = LEND_FIELDS.iter().find(|(name, _, _)| *name == k) {
            *set(&mut posted.form) = v;
        } else if let Some((_, _, set)) = super::form::TEXT_FIELDS
            .iter()
            .find(|(name, _, _)| *name == k && lend_citation_field(name))
        {
            *set(&mut posted.form.citation) = v;
        } else if k == "error" {
            posted.errors.extend(super::form::posted_error(&v));
        } else if k == "failed" && (v.starts_with("lend.error.") || v.starts_with("error.lend.")) {
            posted.failed = Some(v);
        }
    }
    Some(posted)
}

/// A lending request sent without JavaScript: its reference and the
/// confirmation's key (`sent=…&how=sent|received|held`).
pub fn sent_lend_form(query: &str) -> Option<(String, &'static str)> {
    let pairs = super::form::query_pairs(query);
    let reference = pairs.iter().find_map(|(k, v)| {
        (k == "sent" && !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .then(|| v.clone())
    })?;
    let key = match pairs
        .iter()
        .find(|(k, _)| k == "how")
        .map(|(_, v)| v.as_str())
    {
        Some("sent") => "lend.done.sent",
        Some("held") => "lend.done.held",
        _ => "lend.done.received",
    };
    Some((reference, key))
}

impl LendForm {
    /// Whether the hidden field was filled (by software, not a person).
    pub fn is_bot(&self) -> bool {
        !self.website.trim().is_empty()
    }

    /// The request the form describes (its partner code is what the
    /// library gave as its identifier, to be matched against the partners),
    /// or every problem with its field.
    pub fn to_request(&self, today: NaiveDate) -> Result<NewLendingRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let too_long: Vec<&str> = limits(self)
            .into_iter()
            .filter(|(_, text, max)| text.chars().count() > *max)
            .map(|(field, _, _)| field)
            .collect();
        for field in &too_long {
            errors.push(FieldError::new(field, "error.field.too_long"));
        }
        let library_name = opt_text(&self.library_name);
        if library_name.is_none() && self.partner.trim().is_empty() {
            errors.push(FieldError::new("library_name", "error.field.required"));
        }
        let library_id = opt_text(&self.library_id).unwrap_or_default();
        if library_id.chars().any(|c| c.is_whitespace())
            || (looks_like_isil(&library_id) && !is_isil(&library_id))
        {
            errors.push(FieldError::new("library_id", "error.lend.isil"));
        }
        let email = self.email.trim().to_owned();
        if email.is_empty() {
            errors.push(FieldError::new("email", "error.field.required"));
        } else if !is_email(&email) {
            errors.push(FieldError::new("email", "error.field.email"));
        }
        let citation = self.citation.checked_citation(&mut errors);
        let service = match self.service.as_str() {
            "copy" => ServiceType::Copy,
            _ => ServiceType::Loan,
        };
        let delivery_address = opt_text(&self.delivery_address.replace(['\r', '\n'], " / "));
        let by_email = self.delivery == "email";
        if service == ServiceType::Loan && by_email {
            errors.push(FieldError::new("delivery", "error.lend.loan_by_post"));
        }
        match &delivery_address {
            None => errors.push(FieldError::new("delivery_address", "error.field.required")),
            Some(a) if by_email && !is_email(a) => {
                errors.push(FieldError::new("delivery_address", "error.field.email"))
            }
            _ => {}
        }
        let needed_by = checked_date(&self.needed_by, today, &mut errors);
        let key = self.idempotency_key.trim();
        if !key_ok(key) {
            errors.push(FieldError::new("idempotency_key", "error.form.stale"));
        }
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert(e.field.clone()));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewLendingRequest {
            external_id: key.to_owned(),
            partner_code: library_id,
            requester: RequesterContact {
                library_name: library_name.unwrap_or_default(),
                contact_name: opt_text(&self.contact_name),
                email,
            },
            citation,
            service,
            delivery_address: delivery_address.map(|a| {
                if by_email {
                    format!("e-mail: {a}")
                } else {
                    a
                }
            }),
            max_cost: opt_text(&self.max_cost),
            needed_by,
            note: opt_text(&self.note),
        })
    }
}

/// The client's address, as the server put it in the request's
/// extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub String);

/// Refuses submissions from one client address beyond a rate; the server
/// provides it as context.
pub trait SubmitLimiter: Send + Sync {
    fn allow(&self, client: &str) -> bool;
}

/// Sends the requesting library its confirmation (in Finnish and English)
/// at the address on its partner record, once its request is delivered;
/// the server's outbox calls it. Failures are logged, not shown: the
/// request itself is safe in the outbox.
#[async_trait::async_trait]
pub trait LendingMail: Send + Sync {
    /// `request_id`: the request's id in the library system (Kauko's
    /// database on the local backend).
    async fn confirm(&self, request: &NewLendingRequest, reference: &str, request_id: &str);
}

/// Kauko's copy of the partner list, refreshed now and then; the server
/// provides it as context, so the public form's partner look-ups do not
/// reach the library system on every call.
#[async_trait::async_trait]
pub trait PartnerLookup: Send + Sync {
    /// The partner with this code or ISIL.
    async fn partner(&self, code: &str) -> Result<Option<Partner>, crate::port::PortError>;
}

/// What a partner's own form shows of the partner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerDetails {
    pub code: String,
    pub name: String,
    pub isil: Option<String>,
    pub email: Option<String>,
    pub instructions: Option<String>,
}

impl From<&Partner> for PartnerDetails {
    fn from(p: &Partner) -> Self {
        Self {
            code: p.code.clone(),
            name: p.name.clone(),
            isil: p.isil.clone(),
            email: p.email.clone(),
            instructions: p.instructions.clone(),
        }
    }
}

/// What sending the form gave. Every accepted request has a reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LendOutcome {
    /// The library system has it.
    Sent {
        reference: String,
    },
    /// Stored; forwarded as soon as the library system answers.
    Received {
        reference: String,
    },
    /// From a library that is not a known partner: staff look at it first.
    Held {
        reference: String,
    },
    Invalid(Vec<FieldError>),
    /// Refused as a whole (a translation key): too many requests, or the
    /// hidden field was filled.
    Refused(String),
}

/// The partner a per-partner form is for; `None` for an unknown code, an
/// inactive partner or one the library does not lend to. Answered from
/// Kauko's copy of the partner list (see [`PartnerLookup`]).
#[server(endpoint = "lend/partner", input = crate::api::codec::JsonOrForm, output = crate::api::codec::Answer)]
pub async fn lend_partner(code: String) -> Result<Option<PartnerDetails>, ServerFnError> {
    if code.len() > 255 {
        return Ok(None);
    }
    let found = super::ssr::partners()?.partner(&code).await;
    match found {
        Ok(Some(p)) if p.status == crate::domain::PartnerStatus::Active && p.lending_supported => {
            Ok(Some(PartnerDetails::from(&p)))
        }
        Ok(_) => Ok(None),
        Err(e) => Err(super::ssr::port_error(e)),
    }
}

/// Sends another library's request: checked, then stored in the outbox,
/// always, before anything else is asked. Delivering it matches the
/// library's identifier to a partner record; a partner's request goes to
/// the library system with the record's e-mail and delivery address, and
/// one that fits no record (unknown, inactive, not lending, another sender
/// address) waits for staff review with the reason. The confirmation
/// e-mail goes only to the address on record, once the request is
/// delivered; a held one gets none.
///
/// Without JavaScript the page's form posts here with its fields flat; it
/// is answered with a redirect to the page's confirmation or to the form
/// again with what was typed and what was wrong.
#[server(endpoint = "lend/submit", input = crate::api::codec::JsonOrForm, output = crate::api::codec::Answer)]
pub async fn submit_lending(
    #[server(flatten)] form: LendForm,
) -> Result<LendOutcome, ServerFnError> {
    let plain = super::ssr::plain_form();
    let mut form = form;
    if plain && !key_ok(form.idempotency_key.trim()) {
        form.idempotency_key = super::form::new_server_key();
    }
    let outcome = submit_lending_inner(&form).await;
    if plain {
        let page = form.page();
        let to = match &outcome {
            Ok(LendOutcome::Sent { reference }) => format!("{page}?sent={reference}&how=sent"),
            Ok(LendOutcome::Received { reference }) => {
                format!("{page}?sent={reference}&how=received")
            }
            Ok(LendOutcome::Held { reference }) => format!("{page}?sent={reference}&how=held"),
            Ok(LendOutcome::Invalid(errors)) => {
                format!("{page}?{}", form.posted_query(errors, None))
            }
            Ok(LendOutcome::Refused(key)) => {
                format!("{page}?{}", form.posted_query(&[], Some(key)))
            }
            Err(_) => format!("{page}?{}", form.posted_query(&[], Some("lend.error.send"))),
        };
        super::ssr::redirect_form(&to);
    }
    outcome
}

#[cfg(feature = "ssr")]
async fn submit_lending_inner(form: &LendForm) -> Result<LendOutcome, ServerFnError> {
    use crate::outbox::Submitted;
    use crate::port::PortError;
    if form.is_bot() {
        leptos::logging::warn!("lending form: hidden field filled; refused");
        return Ok(LendOutcome::Refused("error.lend.bot".into()));
    }
    if let Some(limiter) = use_context::<std::sync::Arc<dyn SubmitLimiter>>() {
        let client = use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<ClientAddr>().cloned())
            .map(|c| c.0)
            .unwrap_or_default();
        if !limiter.allow(&client) {
            return Ok(LendOutcome::Refused("error.lend.rate_limited".into()));
        }
    }
    let mut request = match form.to_request(chrono::Utc::now().date_naive()) {
        Ok(r) => r,
        Err(errors) => return Ok(LendOutcome::Invalid(errors)),
    };
    let partner = form.partner.trim();
    if !partner.is_empty() {
        // A partner's own form: the partner it is for (its record decides
        // the rest while the request is delivered).
        request.partner_code = partner.chars().take(255).collect();
        if request.requester.library_name.is_empty() {
            request.requester.library_name = request.partner_code.clone();
        }
    }
    if let Err(PortError::Invalid(errors)) = crate::port::validate_lending_request(&request) {
        return Ok(LendOutcome::Invalid(errors));
    }
    let outcome = super::ssr::outbox()?
        .submit_lending(request, false)
        .await
        .map_err(super::ssr::outbox_error)?;
    Ok(match outcome {
        Submitted::Delivered { reference, .. } => LendOutcome::Sent { reference },
        Submitted::Pending { reference } => LendOutcome::Received { reference },
        Submitted::Held { reference } | Submitted::Rejected { reference, .. } => {
            LendOutcome::Held { reference }
        }
        Submitted::Failed {
            error: PortError::Invalid(errors),
            ..
        } => LendOutcome::Invalid(errors),
        // Stored, and staff see why the library system refused it.
        Submitted::Failed { reference, .. } => LendOutcome::Received { reference },
    })
}

/// Lending requests from libraries that are not known partners (staff).
#[server(endpoint = "staff/lending/held", output = crate::api::codec::Answer)]
pub async fn lending_held() -> Result<Vec<crate::outbox::HeldLendingRequest>, ServerFnError> {
    super::ssr::require_staff()?;
    super::ssr::outbox()?
        .held()
        .await
        .map_err(super::ssr::outbox_error)
}

/// Accepts a held request as coming from this partner (staff): it is
/// delivered through the outbox. `Some(key)` explains a refusal.
#[server(endpoint = "staff/lending/accept", output = crate::api::codec::Answer)]
pub async fn lending_accept(
    id: String,
    partner_code: String,
) -> Result<Option<String>, ServerFnError> {
    use crate::port::PortError;
    super::ssr::require_staff()?;
    let code = partner_code.trim();
    match super::ssr::port()?.get_partner(code).await {
        Ok(_) => {}
        Err(PortError::NotFound) => return Ok(Some("review.error.unknown_partner".into())),
        Err(e) => return Err(super::ssr::port_error(e)),
    }
    super::ssr::outbox()?
        .accept(&id, code)
        .await
        .map_err(super::ssr::outbox_error)?;
    Ok(None)
}

/// Rejects a held request, with a reason (staff).
#[server(endpoint = "staff/lending/reject", output = crate::api::codec::Answer)]
pub async fn lending_reject(id: String, reason: String) -> Result<Option<String>, ServerFnError> {
    super::ssr::require_staff()?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_TEXT_CHARS {
        return Ok(Some("review.error.reason".into()));
    }
    super::ssr::outbox()?
        .reject(&id, reason)
        .await
        .map_err(super::ssr::outbox_error)?;
    Ok(None)
}

// The page's code sends these arguments as JSON, a form without
// JavaScript as its fields (app::api::codec::JsonOrForm).
crate::api::codec::json_or_form!(LendPartner, SubmitLending);

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn form() -> LendForm {
        LendForm {
            idempotency_key: "0123456789abcdef".into(),
            library_name: " Tampere University   Library ".into(),
            library_id: "FI-TAY".into(),
            contact_name: "Kaisa".into(),
            email: "ill@tuni.example.fi".into(),
            citation: RequestForm {
                kind: "book".into(),
                title: "Seitsemän veljestä".into(),
                isbn: "978-951-1-27445-2".into(),
                ..Default::default()
            },
            service: "loan".into(),
            delivery: "postal".into(),
            delivery_address: "Kalevantie 5\n33100 Tampere".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_filled_form_becomes_a_lending_request() {
        let r = form().to_request(today()).unwrap();
        assert_eq!(r.partner_code, "FI-TAY");
        assert_eq!(r.requester.library_name, "Tampere University Library");
        assert_eq!(
            r.delivery_address.as_deref(),
            Some("Kalevantie 5 / 33100 Tampere")
        );
        assert_eq!(r.service, ServiceType::Loan);
        assert_eq!(r.external_id, "0123456789abcdef");
    }

    #[test]
    fn each_problem_is_tied_to_its_field() {
        let mut f = form();
        f.library_name = " ".into();
        f.library_id = "FI-".into();
        f.email = "ill at tuni".into();
        f.delivery = "email".into();
        f.delivery_address = "not an address".into();
        f.note = "x".repeat(MAX_TEXT_CHARS + 1);
        f.citation.title = String::new();
        let errors = f.to_request(today()).unwrap_err();
        let fields: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.key.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("note", "error.field.too_long"),
                ("library_name", "error.field.required"),
                ("library_id", "error.lend.isil"),
                ("email", "error.field.email"),
                ("title", "error.field.required"),
                ("delivery", "error.lend.loan_by_post"),
                ("delivery_address", "error.field.email"),
            ]
        );
    }

    #[test]
    fn emails_and_isils_are_checked() {
        for ok in ["a@b.fi", "ill.service+x@library.example.fi"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "", "a@b", "@b.fi", "a b@c.fi", "a@b@c.fi", "a@.fi", "a@b.fi.",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        for ok in ["FI-TAY", "DE-101", "US-DLC", "FI-HY/K", "O-A1B2"] {
            assert!(is_isil(ok), "{ok}");
        }
        for bad in [
            "FI",
            "FI-",
            "FIN12-X",
            "FI-ABCDEFGHIJKLMN",
            "FI-T Y",
            "12-AB",
        ] {
            assert!(!is_isil(bad), "{bad}");
        }
        // A partner code that is no ISIL is fine; one that looks like an
        // ISIL must be one.
        let mut f = form();
        f.library_id = "NLNZ:WLC".into();
        assert!(f.to_request(today()).is_ok());
        f.library_id = "FI-T@Y".into();
        assert_eq!(
            f.to_request(today()).unwrap_err(),
            vec![FieldError::new("library_id", "error.lend.isil")]
        );
    }

    #[test]
    fn copies_can_go_by_email_and_the_hidden_field_marks_bots() {
        let mut f = form();
        f.service = "copy".into();
        f.delivery = "email".into();
        f.delivery_address = "docs@tuni.example.fi".into();
        let r = f.to_request(today()).unwrap();
        assert_eq!(
            r.delivery_address.as_deref(),
            Some("e-mail: docs@tuni.example.fi")
        );
        assert!(!f.is_bot());
        f.website = "http://spam.example".into();
        assert!(f.is_bot());
    }
}
