//! The borrowing-request form's calls: fill a citation in from an
//! identifier, and submit. What the browser sends is checked again here;
//! the patron always comes from the session.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::identifiers::{is_valid_issn, normalize_doi, normalize_isbn, Identifier};
use crate::domain::{
    BorrowingRequest, Citation, CitationType, FieldError, Format, NewBorrowingRequest, PatronStatus,
};
use crate::lookup::{Found, OpenAccessCopy};

/// The form as the browser holds it: every field as typed (a missing one is
/// empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    /// Made when the form is shown; the same key twice is one request.
    /// (This and `needed_by` and `note` are left out when empty: the
    /// lending form, which embeds this one, has its own.)
    #[serde(skip_serializing_if = "String::is_empty")]
    pub idempotency_key: String,
    pub kind: String,
    pub title: String,
    /// Authors separated by semicolons.
    pub authors: String,
    pub container_title: String,
    pub volume: String,
    pub issue: String,
    pub pages: String,
    pub year: String,
    pub publisher: String,
    pub edition: String,
    pub issn: String,
    pub isbn: String,
    pub doi: String,
    pub pmid: String,
    /// `PHYSICAL` or `DIGITAL`.
    pub format: String,
    pub pickup_location: String,
    /// `YYYY-MM-DD`, or empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub needed_by: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(deserialize_with = "form_bool")]
    pub copyright: bool,
    /// The patron saw the duplicate warning and wants it anyway.
    #[serde(deserialize_with = "form_bool")]
    pub confirm_duplicate: bool,
}

/// A check box as a form sends it (`true`, `on`, `1`; absent is false),
/// or a JSON boolean.
pub fn form_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Bool(bool),
        Text(String),
    }
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Text(t) => matches!(t.as_str(), "true" | "on" | "1"),
    })
}

/// The form's text fields by the names its inputs have.
pub(crate) const TEXT_FIELDS: [(
    &str,
    fn(&RequestForm) -> &String,
    fn(&mut RequestForm) -> &mut String,
); 19] = [
    (
        "idempotency_key",
        |f| &f.idempotency_key,
        |f| &mut f.idempotency_key,
    ),
    ("kind", |f| &f.kind, |f| &mut f.kind),
    ("title", |f| &f.title, |f| &mut f.title),
    ("authors", |f| &f.authors, |f| &mut f.authors),
    (
        "container_title",
        |f| &f.container_title,
        |f| &mut f.container_title,
    ),
    ("volume", |f| &f.volume, |f| &mut f.volume),
    ("issue", |f| &f.issue, |f| &mut f.issue),
    ("pages", |f| &f.pages, |f| &mut f.pages),
    ("year", |f| &f.year, |f| &mut f.year),
    ("publisher", |f| &f.publisher, |f| &mut f.publisher),
    ("edition", |f| &f.edition, |f| &mut f.edition),
    ("issn", |f| &f.issn, |f| &mut f.issn),
    ("isbn", |f| &f.isbn, |f| &mut f.isbn),
    ("doi", |f| &f.doi, |f| &mut f.doi),
    ("pmid", |f| &f.pmid, |f| &mut f.pmid),
    ("format", |f| &f.format, |f| &mut f.format),
    (
        "pickup_location",
        |f| &f.pickup_location,
        |f| &mut f.pickup_location,
    ),
    ("needed_by", |f| &f.needed_by, |f| &mut f.needed_by),
    ("note", |f| &f.note, |f| &mut f.note),
];

/// What a form sent without JavaScript is answered with: the page again,
/// at a URL that carries what was typed and what was wrong (`posted=1`),
/// or the confirmation (`sent=`). The page reads it back the same on the
/// server and in the browser.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostedForm {
    pub form: RequestForm,
    pub errors: Vec<FieldError>,
    /// The patron's active requests for the same work (their numbers).
    pub duplicates: Vec<String>,
    /// A translation key: the form could not be sent at all.
    pub failed: Option<String>,
}

/// A request sent without JavaScript: its number, and whether the library
/// system has it yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentForm {
    pub id: String,
    pub delivered: bool,
}

impl RequestForm {
    /// The query string of `/request` that shows this form again with its
    /// problems (see [`PostedForm`]).
    pub fn posted_query(
        &self,
        errors: &[FieldError],
        duplicates: &[String],
        failed: Option<&str>,
    ) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("posted", "1");
        for (name, get, _) in TEXT_FIELDS {
            let value = get(self);
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        if self.copyright {
            q.append_pair("copyright", "true");
        }
        for e in errors {
            q.append_pair("error", &format!("{}:{}", e.field, e.key));
        }
        for id in duplicates {
            q.append_pair("duplicate", id);
        }
        if let Some(key) = failed {
            q.append_pair("failed", key);
        }
        q.finish()
    }
}

/// The pairs of a query string, decoded.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// An `error=field:key` pair of a form sent back, if its key is one of the
/// error catalogue's (the URL cannot put other text on the page).
pub(crate) fn posted_error(value: &str) -> Option<FieldError> {
    let (field, key) = value.split_once(':')?;
    let known = key.starts_with("error.")
        || key.starts_with("request.error.")
        || key.starts_with("lend.error.");
    (known
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'))
    .then(|| FieldError::new(field, key))
}

/// Reads `/request`'s query: a form sent back with its problems, if it is
/// one (`posted=1`).
pub fn posted_form(query: &str) -> Option<PostedForm> {
    let pairs = query_pairs(query);
    if !pairs.iter().any(|(k, v)| k == "posted" && v == "1") {
        return None;
    }
    let mut posted = PostedForm::default();
    for (k, v) in pairs {
        if let Some((_, _, set)) = TEXT_FIELDS.iter().find(|(name, _, _)| *name == k) {
            *set(&mut posted.form) = v;
            continue;
        }
        match k.as_str() {
            "copyright" => posted.form.copyright = matches!(v.as_str(), "true" | "on" | "1"),
            "error" => posted.errors.extend(posted_error(&v)),
            "duplicate"
                if (1..=64).contains(&v.len())
                    && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                posted.duplicates.push(v)
            }
            "failed" if v.starts_with("request.error.") => posted.failed = Some(v),
            _ => {}
        }
    }
    Some(posted)
}

/// Reads `/request`'s query: the confirmation of a request sent without
/// JavaScript (`sent=…&delivered=1`), if it is one.
pub fn sent_form(query: &str) -> Option<SentForm> {
    let mut sent = None;
    let mut delivered = false;
    for (k, v) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        match k.as_ref() {
            "sent" if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                sent = Some(v.into_owned())
            }
            "delivered" => delivered = v == "1",
            _ => {}
        }
    }
    sent.map(|id| SentForm { id, delivered })
}

fn opt(s: &str) -> Option<String> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

impl RequestForm {
    /// The form's fields from a citation (the kind decides the format).
    pub fn fill_from(&mut self, c: &Citation, only_empty: bool) {
        let set = |field: &mut String, value: Option<&str>| {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                if !only_empty || field.trim().is_empty() {
                    *field = v.trim().to_owned();
                }
            }
        };
        set(&mut self.kind, c.kind.map(CitationType::code));
        set(&mut self.title, Some(&c.title));
        set(&mut self.authors, c.authors_joined().as_deref());
        set(&mut self.container_title, c.container_title.as_deref());
        set(&mut self.volume, c.volume.as_deref());
        set(&mut self.issue, c.issue.as_deref());
        set(&mut self.pages, c.pages.as_deref());
        set(&mut self.year, c.year.as_deref());
        set(&mut self.publisher, c.publisher.as_deref());
        set(&mut self.edition, c.edition.as_deref());
        set(&mut self.issn, c.issn.as_deref());
        set(&mut self.isbn, c.isbn.as_deref());
        set(&mut self.doi, c.doi.as_deref());
        set(&mut self.pmid, c.pmid.as_deref());
    }

    pub fn citation_type(&self) -> Option<CitationType> {
        CitationType::from_code(&self.kind)
    }

    /// The citation part of the form, with every problem of it added to
    /// `errors` (shared by the patron's form and the lending form).
    pub fn checked_citation(&self, errors: &mut Vec<FieldError>) -> Citation {
        let kind = self.citation_type();
        let doi = opt(&self.doi).map(|d| match normalize_doi(&d) {
            Some(n) => n,
            None => {
                errors.push(FieldError::new("doi", "error.field.doi"));
                d
            }
        });
        let isbn = opt(&self.isbn).map(|i| match normalize_isbn(&i) {
            Ok(n) => n,
            Err(e) => {
                errors.push(FieldError::new("isbn", e.key()));
                i
            }
        });
        let issn = opt(&self.issn);
        if issn.as_deref().is_some_and(|i| !is_valid_issn(i)) {
            errors.push(FieldError::new("issn", "error.field.issn"));
        }
        let pmid = opt(&self.pmid);
        if pmid
            .as_deref()
            .is_some_and(|p| p.len() > 10 || !p.chars().all(|c| c.is_ascii_digit()))
        {
            errors.push(FieldError::new("pmid", "error.field.pmid"));
        }
        let citation = Citation {
            kind,
            title: opt(&self.title).unwrap_or_default(),
            container_title: opt(&self.container_title)
                .filter(|_| kind != Some(CitationType::Book)),
            authors: self.authors.split(';').filter_map(opt).collect(),
            volume: opt(&self.volume),
            issue: opt(&self.issue),
            pages: opt(&self.pages),
            year: opt(&self.year),
            publisher: opt(&self.publisher),
            place_of_publication: None,
            edition: opt(&self.edition),
            issn,
            isbn,
            doi,
            pmid,
        };
        if let Err(e) = citation.validate() {
            errors.extend(e);
        }
        citation
    }

    /// The request the form describes, or every problem with its field.
    pub fn to_request(&self, today: NaiveDate) -> Result<NewBorrowingRequest, Vec<FieldError>> {
        let kind = self.citation_type();
        let mut errors = Vec::new();
        let citation = self.checked_citation(&mut errors);
        let format = match (kind, self.format.as_str()) {
            (Some(CitationType::Book), _) => Format::Physical,
            (_, "PHYSICAL") => Format::Physical,
            _ => Format::Digital,
        };
        let pickup_location = opt(&self.pickup_location);
        if format == Format::Physical && pickup_location.is_none() {
            errors.push(FieldError::new("pickup_location", "error.field.pickup"));
        }
        let needed_by = checked_date(&self.needed_by, today, &mut errors);
        let note = opt(&self.note);
        if note
            .as_deref()
            .is_some_and(|n| n.chars().count() > crate::domain::citation::MAX_FIELD_CHARS)
        {
            errors.push(FieldError::new("note", "error.field.too_long"));
        }
        if kind.is_some_and(CitationType::is_copy) && !self.copyright {
            errors.push(FieldError::new("copyright", "error.copyright.required"));
        }
        let external_id = self.idempotency_key.trim();
        if !key_ok(external_id) {
            errors.push(FieldError::new("idempotency_key", "error.form.stale"));
        }
        // One message per field, in the form's order.
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert(e.field.clone()));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewBorrowingRequest {
            external_id: external_id.to_owned(),
            citation,
            format,
            pickup_location: pickup_location.filter(|_| format == Format::Physical),
            needed_by,
            note,
            copyright_accepted: self.copyright,
        })
    }
}

/// A "not needed after" date: empty, or `YYYY-MM-DD` not in the past.
pub fn checked_date(
    text: &str,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    let d = opt(text)?;
    match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
        Ok(date) if date < today => {
            errors.push(FieldError::new("needed_by", "error.field.date_past"));
            None
        }
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(FieldError::new("needed_by", "error.field.date"));
            None
        }
    }
}

/// Whether an idempotency key is one a form made (8–64 letters, digits
/// and dashes).
pub fn key_ok(key: &str) -> bool {
    (8..=64).contains(&key.len()) && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The text of a field with runs of white space made one, or `None`.
pub fn opt_text(s: &str) -> Option<String> {
    opt(s)
}

/// One of the patron's active requests that asks for the same work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingRequest {
    pub id: String,
    pub title: String,
    pub status: PatronStatus,
    #[serde(with = "crate::domain::date::ymd")]
    pub created: NaiveDate,
}

/// What filling in from an identifier gave.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupOutcome {
    pub identifier: Option<Identifier>,
    pub found: Option<Found>,
    /// Why nothing was found: a translation key taking `{service}`.
    pub error_key: Option<String>,
    pub error_service: Option<String>,
    pub open_access: Option<OpenAccessCopy>,
    pub duplicates: Vec<ExistingRequest>,
}

/// What submitting gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubmitOutcome {
    Created {
        id: String,
    },
    /// Stored, but the library system has not taken it yet (it is down or
    /// slow): it is forwarded as soon as it answers.
    Received {
        reference: String,
    },
    Invalid(Vec<FieldError>),
    /// The patron has active requests for the same work; submit again with
    /// `confirm_duplicate` to go ahead.
    Duplicate(Vec<ExistingRequest>),
}

/// Whether a request asks for the same work as a citation (same DOI, PMID
/// or ISBN).
pub fn same_work(existing: &Citation, wanted: &Citation) -> bool {
    let eq = |a: &Option<String>, b: &Option<String>, norm: fn(&str) -> Option<String>| match (
        a.as_deref().and_then(norm),
        b.as_deref().and_then(norm),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    };
    eq(&existing.doi, &wanted.doi, normalize_doi)
        || eq(&existing.pmid, &wanted.pmid, |p| Some(p.trim().to_owned()))
        || eq(&existing.isbn, &wanted.isbn, |i| normalize_isbn(i).ok())
}

fn existing(r: &BorrowingRequest) -> ExistingRequest {
    ExistingRequest {
        id: r.id.clone(),
        title: r.citation.title.clone(),
        status: r.status.patron_status(),
        created: r.created_at.date_naive(),
    }
}

/// The patron's active requests for the same work as `wanted`.
pub fn duplicates_of(requests: &[BorrowingRequest], wanted: &Citation) -> Vec<ExistingRequest> {
    requests
        .iter()
        .filter(|r| !r.status.is_final() && same_work(&r.citation, wanted))
        .map(existing)
        .collect()
}

/// Fills a citation in from a DOI, PMID or ISBN, checks for a free copy
/// (DOIs) and, for a signed-in patron, for their own active requests for
/// the same work. Open to everyone, like the citation API: the lending form
/// for other libraries uses it too.
/// The limit on look-ups per client, which the server provides as context.
#[derive(Clone)]
pub struct LookupLimit(pub std::sync::Arc<dyn super::lend::SubmitLimiter>);

#[server(endpoint = "requests/lookup", input = crate::api::codec::JsonOrForm, output = crate::api::codec::Answer)]
pub async fn lookup_citation(input: String) -> Result<LookupOutcome, ServerFnError> {
    use crate::domain::identifiers::parse_identifier;
    let patron = crate::viewer::request_viewer().map(|v| crate::domain::PatronId(v.user_id));
    let mut outcome = LookupOutcome::default();
    // Look-ups use shared quotas at the metadata services: so many a
    // minute per patron, or per address for those not signed in.
    if let Some(LookupLimit(limiter)) = use_context::<LookupLimit>() {
        let client = match &patron {
            Some(p) => format!("patron:{}", p.0),
            None => use_context::<http::request::Parts>()
                .and_then(|p| p.extensions.get::<super::lend::ClientAddr>().cloned())
                .map(|c| c.0)
                .unwrap_or_default(),
        };
        if !limiter.allow(&client) {
            outcome.error_key = Some("lookup.error.too_many".to_owned());
            return Ok(outcome);
        }
    }
    let id = match parse_identifier(&input) {
        Ok(id) => id,
        Err(e) => {
            outcome.error_key = Some(e.key().to_owned());
            return Ok(outcome);
        }
    };
    outcome.identifier = Some(id.clone());
    let lookup = super::ssr::lookup()?;
    let mut wanted = Citation::default();
    match &id {
        Identifier::Doi(d) => wanted.doi = Some(d.clone()),
        Identifier::Pmid(p) => wanted.pmid = Some(p.clone()),
        Identifier::Isbn(i) => wanted.isbn = Some(i.clone()),
    }
    match lookup.lookup(&id).await {
        Ok(found) => {
            if let Some(doi) = &found.citation.doi {
                wanted.doi = Some(doi.clone());
            }
            outcome.found = Some(found);
        }
        Err(e) => {
            leptos::logging::warn!("citation lookup failed: {e}");
            outcome.error_key = Some(e.message_key().to_owned());
            outcome.error_service = Some(e.service().display_name().to_owned());
        }
    }
    if let Some(doi) = wanted.doi.clone() {
        match lookup.open_access(&doi).await {
            Ok(copy) => outcome.open_access = copy,
            Err(e) => leptos::logging::warn!("open-access check failed: {e}"),
        }
    }
    if let Some(patron) = patron {
        if let Ok(requests) = super::ssr::port()?.list_borrowing_requests(&patron).await {
            outcome.duplicates = duplicates_of(&requests, &wanted);
        }
    }
    Ok(outcome)
}

/// Stores the request in the outbox and tries to deliver it to the library
/// system at once. The same idempotency key twice (a double click, a retry)
/// gives the same request. When the library system does not answer within
/// the outbox's inline wait, the patron is told it was received and is
/// being forwarded.
///
/// The form's fields come flat (`title=…&copyright=true`), as the page's
/// `<form method="post">` sends them without JavaScript; such a call is
/// answered with a redirect to the confirmation, or to the form again with
/// what was typed and what was wrong (see [`PostedForm`]).
#[server(endpoint = "requests/submit", input = crate::api::codec::JsonOrForm, output = crate::api::codec::Answer)]
pub async fn submit_request(
    #[server(flatten)] form: RequestForm,
) -> Result<SubmitOutcome, ServerFnError> {
    let plain = super::ssr::plain_form();
    let mut form = form;
    if plain && !key_ok(form.idempotency_key.trim()) {
        // The page rendered by the server carries a key; should it be
        // missing, the request still goes (once: the redirect below).
        form.idempotency_key = new_server_key();
    }
    let outcome = submit_request_inner(&form).await;
    if plain {
        let to = match &outcome {
            Ok(SubmitOutcome::Created { id }) => format!("/request?sent={id}&delivered=1"),
            Ok(SubmitOutcome::Received { reference }) => {
                format!("/request?sent={reference}&delivered=0")
            }
            Ok(SubmitOutcome::Invalid(errors)) => {
                format!("/request?{}", form.posted_query(errors, &[], None))
            }
            Ok(SubmitOutcome::Duplicate(list)) => {
                let ids: Vec<String> = list.iter().map(|r| r.id.clone()).collect();
                format!("/request?{}", form.posted_query(&[], &ids, None))
            }
            Err(e) => {
                let key = if e.to_string().contains("sign in required") {
                    "request.error.signed_out"
                } else {
                    "request.error.send"
                };
                format!("/request?{}", form.posted_query(&[], &[], Some(key)))
            }
        };
        super::ssr::redirect_form(&to);
    }
    outcome
}

/// A fresh idempotency key made on the server (for a page it renders).
#[cfg(feature = "ssr")]
pub fn new_server_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(feature = "ssr")]
async fn submit_request_inner(form: &RequestForm) -> Result<SubmitOutcome, ServerFnError> {
    use crate::outbox::{SubmissionKind, Submitted};
    use crate::port::PortError;
    let patron = super::ssr::require_patron()?;
    let request = match form.to_request(chrono::Utc::now().date_naive()) {
        Ok(r) => r,
        Err(errors) => return Ok(SubmitOutcome::Invalid(errors)),
    };
    if let Err(PortError::Invalid(errors)) = crate::port::validate_borrowing_request(&request) {
        return Ok(SubmitOutcome::Invalid(errors));
    }
    let outbox = super::ssr::outbox()?;
    let known = outbox
        .find(
            SubmissionKind::Borrowing,
            patron.as_str(),
            &request.external_id,
        )
        .await
        .map_err(super::ssr::outbox_error)?;
    if known.is_none() && !form.confirm_duplicate {
        // When the library system cannot be asked, the request is taken
        // anyway: losing it would be worse than a duplicate.
        let port = super::ssr::port()?;
        match port.list_borrowing_requests(&patron).await {
            Ok(requests) => {
                let duplicates = duplicates_of(&requests, &request.citation);
                if !duplicates.is_empty() {
                    return Ok(SubmitOutcome::Duplicate(duplicates));
                }
            }
            Err(e) => leptos::logging::warn!("duplicate check skipped: {e}"),
        }
    }
    match outbox
        .submit_borrowing(&patron, request)
        .await
        .map_err(super::ssr::outbox_error)?
    {
        Submitted::Delivered { id, .. } => Ok(SubmitOutcome::Created { id }),
        Submitted::Pending { reference } => Ok(SubmitOutcome::Received { reference }),
        Submitted::Failed {
            error: PortError::Invalid(errors),
            ..
        } => Ok(SubmitOutcome::Invalid(errors)),
        Submitted::Failed { error, .. } => Err(super::ssr::port_error(error)),
        Submitted::Held { reference } | Submitted::Rejected { reference, .. } => {
            Ok(SubmitOutcome::Received { reference })
        }
    }
}

// The page's code sends these arguments as JSON, a form without
// JavaScript as its fields (app::api::codec::JsonOrForm).
crate::api::codec::json_or_form!(LookupCitation, SubmitRequest);

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn article_form() -> RequestForm {
        RequestForm {
            idempotency_key: "3f1c0a4e-5b7d-4e1a-9c2b-7d8e9f0a1b2c".into(),
            kind: "article".into(),
            title: "  Life is   pretty meaningful ".into(),
            authors: "Heintzelman, Samantha J.; King, Laura A.;".into(),
            container_title: "American Psychologist".into(),
            year: "2014".into(),
            doi: "https://doi.org/10.1037/A0035049".into(),
            issn: "0003-066X".into(),
            copyright: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_filled_article_form_becomes_a_digital_request() {
        let r = article_form().to_request(today()).unwrap();
        assert_eq!(r.citation.title, "Life is pretty meaningful");
        assert_eq!(
            r.citation.authors,
            ["Heintzelman, Samantha J.", "King, Laura A."]
        );
        assert_eq!(r.citation.doi.as_deref(), Some("10.1037/a0035049"));
        assert_eq!(r.format, Format::Digital);
        assert_eq!(r.pickup_location, None);
        assert_eq!(r.external_id, "3f1c0a4e-5b7d-4e1a-9c2b-7d8e9f0a1b2c");
    }

    #[test]
    fn each_problem_is_tied_to_its_field() {
        let mut f = article_form();
        f.copyright = false;
        f.isbn = "978-0-00-000000-1".into();
        f.issn = "1234-5678".into();
        f.needed_by = "2026-11-01".into();
        f.title = " ".into();
        let errors = f.to_request(today()).unwrap_err();
        let fields: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.key.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("isbn", "error.identifier.isbn_checksum"),
                ("issn", "error.field.issn"),
                ("title", "error.field.required"),
                ("needed_by", "error.field.date_past"),
                ("copyright", "error.copyright.required"),
            ]
        );
    }

    #[test]
    fn books_are_loans_and_need_a_pickup_location() {
        let f = RequestForm {
            idempotency_key: "k-12345678".into(),
            kind: "book".into(),
            title: "Deep learning".into(),
            container_title: "ignored for books".into(),
            format: "DIGITAL".into(),
            ..Default::default()
        };
        assert_eq!(
            f.to_request(today()).unwrap_err(),
            vec![FieldError::new("pickup_location", "error.field.pickup")]
        );
        let r = RequestForm {
            pickup_location: "MAIN".into(),
            ..f
        }
        .to_request(today())
        .unwrap();
        assert_eq!(r.format, Format::Physical);
        assert_eq!(r.pickup_location.as_deref(), Some("MAIN"));
        assert_eq!(r.citation.container_title, None);
        assert!(!r.copyright_accepted);
    }

    #[test]
    fn a_missing_or_odd_idempotency_key_is_refused() {
        let mut f = article_form();
        f.idempotency_key = "x".into();
        assert_eq!(
            f.to_request(today()).unwrap_err(),
            vec![FieldError::new("idempotency_key", "error.form.stale")]
        );
    }

    #[test]
    fn filling_in_keeps_what_the_patron_typed_when_asked() {
        let found = Citation {
            kind: Some(CitationType::Article),
            title: "Found title".into(),
            container_title: Some("Journal".into()),
            year: Some("2020".into()),
            ..Default::default()
        };
        let mut f = RequestForm {
            title: "My title".into(),
            ..Default::default()
        };
        f.fill_from(&found, true);
        assert_eq!(
            (f.title.as_str(), f.year.as_str(), f.kind.as_str()),
            ("My title", "2020", "article")
        );
        f.fill_from(&found, false);
        assert_eq!(f.title, "Found title");
    }

    #[test]
    fn duplicates_match_on_any_shared_identifier() {
        let a = Citation {
            doi: Some("10.1037/a0035049".into()),
            ..Default::default()
        };
        let b = Citation {
            doi: Some("https://doi.org/10.1037/A0035049".into()),
            ..Default::default()
        };
        assert!(same_work(&a, &b));
        let isbn10 = Citation {
            isbn: Some("0-306-40615-2".into()),
            ..Default::default()
        };
        let isbn13 = Citation {
            isbn: Some("9780306406157".into()),
            ..Default::default()
        };
        assert!(same_work(&isbn10, &isbn13));
        assert!(!same_work(&a, &isbn13));
        assert!(!same_work(&Citation::default(), &Citation::default()));
    }
}
