//! Kauko's domain ↔ Alma's objects: the citation crosswalk
//! (ill-domain.md §4), borrowing and lending requests, loans and partners.

use app::domain::{
    Address, BorrowingRequest, BorrowingStatus, Citation, CitationType, Format, IllLoan,
    NewBorrowingRequest, NewLendingRequest, Partner, PartnerProfile, PartnerStatus, PatronId,
    RequesterContact, ServiceType,
};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::records::BorrowingRecord;
use super::wire::{code, AlmaPartner, CodeIn, ItemLoan, RsRequest, RsRequestInput};

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|v| !v.trim().is_empty()).cloned()
}

/// Authors as one string, as Alma keeps them.
fn join_authors(authors: &[String]) -> Option<String> {
    let joined: Vec<&str> = authors
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .collect();
    (!joined.is_empty()).then(|| joined.join("; "))
}

/// Alma's `author` back into names ("A; B", also "A;B;" as real data has).
pub fn split_authors(author: &str) -> Vec<String> {
    author
        .split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `561-574` → (`561`, `574`); a single page → (`561`, none).
fn page_range(pages: &str) -> (Option<String>, Option<String>) {
    let mut parts = pages.splitn(2, ['-', '–']);
    let start = parts
        .next()
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace));
    let end = parts
        .next()
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace));
    (start.map(str::to_owned), end.map(str::to_owned))
}

pub fn format_code(f: Format) -> &'static str {
    match f {
        Format::Physical => "PHYSICAL",
        Format::Digital => "DIGITAL",
    }
}

fn format_from(code: Option<&str>) -> Option<Format> {
    match code? {
        "PHYSICAL" | "PHYSICAL_NON_RETURNABLE" => Some(Format::Physical),
        "DIGITAL" => Some(Format::Digital),
        _ => None,
    }
}

/// Fills the citation members of a create body (borrowing: `BK`/`CR`;
/// lending: `BOOK`/`JOURNAL`).
fn put_citation(input: &mut RsRequestInput, c: &Citation, lending: bool) {
    let kind = c.kind.unwrap_or(CitationType::Book);
    let citation_type = match (kind, lending) {
        (CitationType::Article, false) => "CR",
        (_, false) => "BK",
        (CitationType::Article, true) => "JOURNAL",
        (_, true) => "BOOK",
    };
    input.citation_type = Some(CodeIn::new(citation_type));
    let authors = join_authors(&c.authors);
    match kind {
        CitationType::Article => {
            input.title = Some(c.title.clone());
            input.journal_title = non_empty(&c.container_title);
        }
        CitationType::Book => {
            input.title = Some(c.title.clone());
        }
        CitationType::Chapter => {
            // The book is the title; the chapter has its own members.
            input.title = non_empty(&c.container_title).or_else(|| Some(c.title.clone()));
            input.chapter_title = Some(c.title.clone());
            input.chapter_author = authors.clone();
        }
    }
    input.author = authors;
    input.volume = non_empty(&c.volume);
    input.issue = non_empty(&c.issue);
    if let Some(pages) = non_empty(&c.pages) {
        let (start, end) = page_range(&pages);
        input.start_page = start;
        input.end_page = end;
        input.pages = Some(pages);
    }
    input.year = non_empty(&c.year);
    input.issn = non_empty(&c.issn);
    input.isbn = non_empty(&c.isbn);
    input.doi = non_empty(&c.doi);
    input.pmid = non_empty(&c.pmid);
    input.publisher = non_empty(&c.publisher);
    input.place_of_publication = non_empty(&c.place_of_publication);
    input.edition = non_empty(&c.edition);
    input.specific_edition = kind == CitationType::Book && input.edition.is_some();
}

/// The body of `POST /users/{id}/resource-sharing-requests`.
pub fn borrowing_input(request: &NewBorrowingRequest, owner: Option<&str>) -> RsRequestInput {
    let mut input = RsRequestInput {
        external_id: Some(request.external_id.clone()),
        owner: owner.map(str::to_owned),
        format: Some(CodeIn::new(format_code(request.format))),
        last_interest_date: request.needed_by,
        note: non_empty(&request.note),
        // Kauko's form asks copy requesters for their consent (the port
        // refuses copies without it); Alma requires `true` on every
        // borrowing request.
        agree_to_copyright_terms: Some(true),
        allow_other_formats: Some(false),
        ..Default::default()
    };
    if let Some(pickup) = non_empty(&request.pickup_location) {
        input.pickup_location_type = Some("LIBRARY".into());
        input.pickup_location = Some(CodeIn::new(pickup));
    }
    put_citation(&mut input, &request.citation, false);
    input
}

/// The citation Alma holds.
pub fn citation_from(r: &RsRequest) -> Citation {
    let kind = match code(&r.citation_type) {
        Some("CR" | "E_CR" | "JOURNAL" | "ARTICLE") => Some(CitationType::Article),
        Some(_) if non_empty(&r.chapter_title).is_some() => Some(CitationType::Chapter),
        Some("BK" | "E_BK" | "BOOK") => Some(CitationType::Book),
        _ => None,
    };
    let (title, container_title) = match kind {
        Some(CitationType::Article) => (r.title.clone(), non_empty(&r.journal_title)),
        Some(CitationType::Chapter) => (r.chapter_title.clone(), non_empty(&r.title)),
        _ => (r.title.clone(), non_empty(&r.journal_title)),
    };
    let author = match kind {
        Some(CitationType::Chapter) => non_empty(&r.chapter_author).or(non_empty(&r.author)),
        _ => non_empty(&r.author),
    };
    let pages =
        non_empty(&r.pages).or_else(
            || match (non_empty(&r.start_page), non_empty(&r.end_page)) {
                (Some(s), Some(e)) => Some(format!("{s}-{e}")),
                (Some(s), None) => Some(s),
                _ => None,
            },
        );
    Citation {
        kind,
        title: title.unwrap_or_default(),
        container_title,
        authors: author.as_deref().map(split_authors).unwrap_or_default(),
        volume: non_empty(&r.volume),
        issue: non_empty(&r.issue),
        pages,
        year: non_empty(&r.year),
        publisher: non_empty(&r.publisher),
        place_of_publication: non_empty(&r.place_of_publication),
        edition: non_empty(&r.edition),
        issn: non_empty(&r.issn),
        isbn: non_empty(&r.isbn),
        doi: non_empty(&r.doi),
        pmid: non_empty(&r.pmid),
    }
}

/// What Alma's object lacks is taken from what Kauko sent.
pub fn fill_gaps(mut c: Citation, sent: &Citation) -> Citation {
    fn fill(mine: &mut Option<String>, sent: &Option<String>) {
        if mine.is_none() {
            mine.clone_from(sent);
        }
    }
    if c.kind.is_none() {
        c.kind = sent.kind;
    }
    if c.title.trim().is_empty() {
        c.title.clone_from(&sent.title);
    }
    if c.authors.is_empty() {
        c.authors.clone_from(&sent.authors);
    }
    fill(&mut c.container_title, &sent.container_title);
    fill(&mut c.volume, &sent.volume);
    fill(&mut c.issue, &sent.issue);
    fill(&mut c.pages, &sent.pages);
    fill(&mut c.year, &sent.year);
    fill(&mut c.publisher, &sent.publisher);
    fill(&mut c.place_of_publication, &sent.place_of_publication);
    fill(&mut c.edition, &sent.edition);
    fill(&mut c.issn, &sent.issn);
    fill(&mut c.isbn, &sent.isbn);
    fill(&mut c.doi, &sent.doi);
    fill(&mut c.pmid, &sent.pmid);
    c
}

/// Alma's RS request as Kauko's borrowing request. `record` is what Kauko
/// noted at create (when it created the request); `id` is the id asked for.
pub fn borrowing_from(
    r: &RsRequest,
    id: &str,
    patron: &PatronId,
    record: Option<&BorrowingRecord>,
) -> BorrowingRequest {
    let sent = record.map(|rec| &rec.request);
    let mut citation = citation_from(r);
    if let Some(sent) = sent {
        citation = fill_gaps(citation, &sent.citation);
    }
    let status = code(&r.status)
        .map(BorrowingStatus::from_code)
        .or_else(|| {
            record
                .and_then(|rec| rec.status.as_deref())
                .map(BorrowingStatus::from_code)
        })
        .unwrap_or(BorrowingStatus::RequestCreated);
    // Kauko's own record, when there is one, says when the patron sent it
    // to the millisecond; Alma's times are sometimes whole seconds (or only
    // a date), which would order requests sent in one second at random.
    let created_at = record
        .map(|rec| rec.created_at)
        .or(r.created_time)
        .or_else(|| {
            r.created_date
                .map(|d| d.and_time(Default::default()).and_utc())
        })
        .unwrap_or_else(Utc::now);
    let updated_at = r
        .last_modified_time
        .or_else(|| {
            r.last_modified_date
                .map(|d| d.and_time(Default::default()).and_utc())
        })
        .unwrap_or(created_at)
        .max(created_at);
    let format = format_from(code(&r.format))
        .or(sent.map(|s| s.format))
        .unwrap_or(if citation.kind.is_some_and(|k| k.is_copy()) {
            Format::Digital
        } else {
            Format::Physical
        });
    BorrowingRequest {
        id: non_empty(&r.request_id).unwrap_or_else(|| id.to_owned()),
        external_id: non_empty(&r.external_id)
            .or(record.map(|rec| rec.external_id.clone()))
            .unwrap_or_default(),
        patron_id: patron.clone(),
        citation,
        format,
        pickup_location: code(&r.pickup_location)
            .map(str::to_owned)
            .or(sent.and_then(|s| s.pickup_location.clone())),
        needed_by: r.last_interest_date.or(sent.and_then(|s| s.needed_by)),
        note: non_empty(&r.note).or(sent.and_then(|s| s.note.clone())),
        status,
        created_at,
        updated_at,
    }
}

/// What Kauko would have sent for a request it finds in Alma without a
/// record of its own (the record is rebuilt from it).
pub fn borrowing_request_from_alma(r: &RsRequest, external_id: &str) -> NewBorrowingRequest {
    let citation = citation_from(r);
    let format =
        format_from(code(&r.format)).unwrap_or(if citation.kind.is_some_and(|k| k.is_copy()) {
            Format::Digital
        } else {
            Format::Physical
        });
    NewBorrowingRequest {
        external_id: external_id.to_owned(),
        citation,
        format,
        pickup_location: code(&r.pickup_location).map(str::to_owned),
        needed_by: r.last_interest_date,
        note: non_empty(&r.note),
        copyright_accepted: r.agree_to_copyright_terms.unwrap_or(false),
    }
}

/// A loan as Kauko shows it; `None` without an id or a due date.
pub fn loan_from(l: &ItemLoan, renewals: u32, request_id: Option<String>) -> Option<IllLoan> {
    let id = non_empty(&l.loan_id)?;
    let due_date = l.due_date?;
    Some(IllLoan {
        id,
        request_id,
        title: non_empty(&l.title).unwrap_or_default(),
        author: non_empty(&l.author),
        loan_date: l.loan_date.unwrap_or(due_date),
        due_date,
        // Without `expand=renewable` Alma leaves it null: let the patron
        // try, Alma answers 401822 when the loan cannot be renewed.
        renewable: l.renewable.unwrap_or(true),
        renewals,
        renewal_requested: false,
    })
}

// --- Lending -------------------------------------------------------------------

/// The body of `POST /partners/{code}/lending-requests`. What Alma has no
/// member for (the requester's library and contact, delivery address,
/// maximum cost) is added to the note for staff.
pub fn lending_input(request: &NewLendingRequest, owner: Option<&str>) -> RsRequestInput {
    let mut input = RsRequestInput {
        external_id: Some(request.external_id.clone()),
        owner: owner.map(str::to_owned),
        partner: Some(CodeIn::new(request.partner_code.clone())),
        format: Some(CodeIn::new(match request.service {
            ServiceType::Loan => "PHYSICAL",
            ServiceType::Copy => "DIGITAL",
        })),
        text_email: Some(request.requester.email.clone()),
        last_interest_date: request.needed_by,
        ..Default::default()
    };
    put_citation(&mut input, &request.citation, true);
    let mut note = Vec::new();
    if let Some(n) = non_empty(&request.note) {
        note.push(n);
    }
    let requester = match non_empty(&request.requester.contact_name) {
        Some(contact) => format!("{} ({contact})", request.requester.library_name),
        None => request.requester.library_name.clone(),
    };
    note.push(format!("Requester: {requester}"));
    if let Some(a) = non_empty(&request.delivery_address) {
        note.push(format!("Delivery address: {a}"));
    }
    if let Some(c) = non_empty(&request.max_cost) {
        note.push(format!("Maximum cost: {c}"));
    }
    input.note = Some(note.join("\n"));
    input
}

/// A lending request Kauko did not create, as far as Alma's object tells.
pub fn lending_from_alma(r: &RsRequest, partner_code: &str) -> NewLendingRequest {
    let format = code(&r.format);
    NewLendingRequest {
        external_id: non_empty(&r.external_id).unwrap_or_default(),
        partner_code: code(&r.partner).unwrap_or(partner_code).to_owned(),
        requester: RequesterContact {
            library_name: r
                .partner
                .as_ref()
                .and_then(|p| p.desc.clone())
                .unwrap_or_default(),
            contact_name: None,
            email: non_empty(&r.text_email).unwrap_or_default(),
        },
        citation: citation_from(r),
        service: if format == Some("DIGITAL") {
            ServiceType::Copy
        } else {
            ServiceType::Loan
        },
        delivery_address: None,
        max_cost: None,
        needed_by: r.last_interest_date,
        note: non_empty(&r.note),
    }
}

/// When Alma says the request was created.
pub fn alma_created_at(r: &RsRequest) -> Option<DateTime<Utc>> {
    r.created_time.or_else(|| {
        r.created_date
            .map(|d| d.and_time(Default::default()).and_utc())
    })
}

// --- Partners --------------------------------------------------------------------

/// Notes Kauko writes on a partner start with these, so that they are told
/// apart from each other and from staff's notes.
pub const INSTRUCTIONS_PREFIX: &str = "[Kauko instructions] ";
pub const NOTES_PREFIX: &str = "[Kauko notes] ";

/// The entry Kauko reads of a contact list: the preferred one, else the
/// first.
fn chosen(preferred: impl Iterator<Item = Option<bool>>) -> Option<usize> {
    let flags: Vec<Option<bool>> = preferred.collect();
    if flags.is_empty() {
        return None;
    }
    Some(flags.iter().position(|p| *p == Some(true)).unwrap_or(0))
}

/// The partner's profile. Profile types Kauko does not manage (NCIP,
/// RAPID, ...) read as an e-mail profile with `email_details.email`
/// (usually empty); an update that leaves it so keeps Alma's profile.
fn partner_profile(p: &AlmaPartner) -> PartnerProfile {
    let profile = p.details.profile_details.clone().unwrap_or_default();
    let iso = |d: Option<super::wire::IsoDetails>| {
        let d = d.unwrap_or_default();
        PartnerProfile::Iso18626 {
            symbol: d.iso_symbol.unwrap_or_default(),
            url: non_empty(&d.ill_server),
        }
    };
    match profile.profile_type.as_deref() {
        Some("ISO_18626") => iso(profile.iso_18626_details),
        Some("ISO") => iso(profile.iso_details),
        _ => PartnerProfile::Email {
            email: profile
                .email_details
                .and_then(|d| d.email)
                .unwrap_or_default(),
        },
    }
}

/// Alma's partner record as Kauko's partner. Only these members are read:
/// credentials and everything else stay in the raw record.
pub fn partner_from(p: &AlmaPartner) -> Partner {
    let d = &p.details;
    let contact = &p.contact_info;
    let email = chosen(contact.email.iter().map(|e| e.preferred))
        .and_then(|i| non_empty(&contact.email[i].email_address));
    let phone = chosen(contact.phone.iter().map(|e| e.preferred))
        .and_then(|i| non_empty(&contact.phone[i].phone_number));
    let address = chosen(contact.address.iter().map(|a| a.preferred))
        .map(|i| {
            let a = &contact.address[i];
            Address {
                lines: a.lines(),
                postal_code: non_empty(&a.postal_code),
                city: non_empty(&a.city),
                country: code(&a.country).map(str::to_owned),
            }
        })
        .unwrap_or_default();
    let note_with = |prefix: &str| {
        p.notes
            .iter()
            .filter_map(|n| n.content.as_deref()?.strip_prefix(prefix))
            .map(str::to_owned)
            .next()
    };
    Partner {
        code: d.code.clone().unwrap_or_default(),
        name: d.name.clone().unwrap_or_default(),
        status: if d
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("INACTIVE"))
        {
            PartnerStatus::Inactive
        } else {
            PartnerStatus::Active
        },
        profile: partner_profile(p),
        isil: non_empty(&d.alternate_symbol),
        email,
        phone,
        address,
        lending_supported: d.lending_supported.unwrap_or(false),
        borrowing_supported: d.borrowing_supported.unwrap_or(false),
        instructions: note_with(INSTRUCTIONS_PREFIX),
        language: None,
        notes: note_with(NOTES_PREFIX),
    }
}

fn object<'a>(parent: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = parent
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("an object")
}

fn array<'a>(parent: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let slot = parent
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut().expect("an array")
}

fn set_opt(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    match value {
        Some(v) => {
            map.insert(key.to_owned(), Value::String(v.clone()));
        }
        None => {
            map.remove(key);
        }
    }
}

fn preferred_index(list: &[Value]) -> Option<usize> {
    chosen(
        list.iter()
            .map(|v| v.get("preferred").and_then(Value::as_bool)),
    )
}

/// Sets one member of a contact list (`email_address` of `email[]`, ...):
/// changes the entry Kauko reads, adds one when there is none, and empties
/// the list when the value is gone.
fn patch_contact(
    contact: &mut Map<String, Value>,
    list_key: &str,
    member: &str,
    type_key: &str,
    value: &Option<String>,
) {
    let list = array(contact, list_key);
    match value {
        None => list.clear(),
        Some(v) => match preferred_index(list) {
            Some(i) => {
                if !list[i].is_object() {
                    list[i] = Value::Object(Map::new());
                }
                list[i]
                    .as_object_mut()
                    .expect("an object")
                    .insert(member.to_owned(), Value::String(v.clone()));
            }
            None => list.push(json!({ member: v, "preferred": true, type_key: ["ALL"] })),
        },
    }
}

/// Writes Kauko's partner into Alma's record: only what differs from what
/// the record already says is touched, so credentials, unknown members and
/// staff notes stay as they are (Alma's PUT replaces the whole record).
pub fn patch_partner(raw: &mut Value, partner: &Partner) {
    let before = AlmaPartner::from_value(raw.clone())
        .map(|p| partner_from(&p))
        .ok();
    let same = |f: &dyn Fn(&Partner) -> bool| before.as_ref().is_some_and(f);
    if !raw.is_object() {
        *raw = Value::Object(Map::new());
    }
    let root = raw.as_object_mut().expect("an object");

    let details = object(root, "partner_details");
    details.insert("code".into(), Value::String(partner.code.clone()));
    details.insert("name".into(), Value::String(partner.name.clone()));
    details.insert(
        "status".into(),
        Value::String(
            match partner.status {
                PartnerStatus::Active => "ACTIVE",
                PartnerStatus::Inactive => "INACTIVE",
            }
            .into(),
        ),
    );
    details.insert(
        "lending_supported".into(),
        Value::Bool(partner.lending_supported),
    );
    details.insert(
        "borrowing_supported".into(),
        Value::Bool(partner.borrowing_supported),
    );
    if !same(&|b| b.isil == partner.isil) {
        set_opt(details, "alternate_symbol", &partner.isil);
    }
    if !same(&|b| b.profile == partner.profile) {
        let profile = object(details, "profile_details");
        let (kind, block) = match &partner.profile {
            PartnerProfile::Email { .. } => ("EMAIL", "email_details"),
            PartnerProfile::Iso18626 { .. } => ("ISO_18626", "iso_18626_details"),
        };
        profile.insert("profile_type".into(), Value::String(kind.into()));
        // Alma holds exactly one details block, the profile type's.
        profile.retain(|k, _| !k.ends_with("_details") || k == block);
        let details = object(profile, block);
        match &partner.profile {
            PartnerProfile::Email { email } => {
                details.insert("email".into(), Value::String(email.clone()));
            }
            PartnerProfile::Iso18626 { symbol, url } => {
                details.insert("iso_symbol".into(), Value::String(symbol.clone()));
                set_opt(details, "ill_server", url);
            }
        }
    }

    let contact = object(root, "contact_info");
    if !same(&|b| b.email == partner.email) {
        patch_contact(
            contact,
            "email",
            "email_address",
            "email_type",
            &partner.email,
        );
    }
    if !same(&|b| b.phone == partner.phone) {
        patch_contact(
            contact,
            "phone",
            "phone_number",
            "phone_type",
            &partner.phone,
        );
    }
    if !same(&|b| b.address == partner.address) {
        let list = array(contact, "address");
        if partner.address == Address::default() {
            list.clear();
        } else {
            let i = match preferred_index(list) {
                Some(i) => i,
                None => {
                    list.push(json!({ "preferred": true, "address_type": ["ALL"] }));
                    list.len() - 1
                }
            };
            if !list[i].is_object() {
                list[i] = Value::Object(Map::new());
            }
            let entry = list[i].as_object_mut().expect("an object");
            let a = &partner.address;
            let mut lines: Vec<String> = a.lines.iter().take(4).cloned().collect();
            if a.lines.len() > 4 {
                lines.push(a.lines[4..].join(", "));
            }
            for n in 0..5 {
                set_opt(entry, &format!("line{}", n + 1), &lines.get(n).cloned());
            }
            set_opt(entry, "postal_code", &a.postal_code);
            set_opt(entry, "city", &a.city);
            match &a.country {
                Some(c) => {
                    entry.insert("country".into(), json!({ "value": c }));
                }
                None => {
                    entry.remove("country");
                }
            }
        }
    }

    if !same(&|b| b.instructions == partner.instructions && b.notes == partner.notes) {
        let notes = array(root, "note");
        notes.retain(|n| {
            let content = n.get("content").and_then(Value::as_str).unwrap_or("");
            !content.starts_with(INSTRUCTIONS_PREFIX) && !content.starts_with(NOTES_PREFIX)
        });
        if let Some(text) = &partner.instructions {
            notes.push(json!({ "content": format!("{INSTRUCTIONS_PREFIX}{text}") }));
        }
        if let Some(text) = &partner.notes {
            notes.push(json!({ "content": format!("{NOTES_PREFIX}{text}") }));
        }
    }
}

/// The body of `POST /partners` for a new partner.
pub fn new_partner_body(partner: &Partner) -> Value {
    let mut raw = json!({ "partner_details": { "system_type": { "value": "OTHER" } } });
    patch_partner(&mut raw, partner);
    raw
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::contract;
    use chrono::NaiveDate;

    fn body(input: &RsRequestInput) -> Value {
        serde_json::to_value(input).unwrap()
    }

    fn no_nulls(v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::Array(a) => a.iter().all(no_nulls),
            Value::Object(o) => o.values().all(no_nulls),
            _ => true,
        }
    }

    #[test]
    fn an_article_request_body() {
        let request = contract::new_request("K-1");
        let b = body(&borrowing_input(&request, Some("RES_SHARE")));
        assert_eq!(
            b,
            json!({
                "external_id": "K-1",
                "owner": "RES_SHARE",
                "format": { "value": "DIGITAL" },
                "citation_type": { "value": "CR" },
                "pickup_location_type": "LIBRARY",
                "pickup_location": { "value": "MAIN" },
                "last_interest_date": "2030-12-31Z",
                "agree_to_copyright_terms": true,
                "allow_other_formats": false,
                "note": "Chapter 2 would be enough <b>thanks</b>",
                "title": "Life is pretty meaningful",
                "journal_title": "American Psychologist",
                "author": "Heintzelman, Samantha J.; King, Laura A.",
                "volume": "69",
                "issue": "6",
                "pages": "561-574",
                "start_page": "561",
                "end_page": "574",
                "year": "2014",
                "issn": "0003-066X",
                "doi": "10.1037/a0035049"
            })
        );
        assert!(no_nulls(&b));
        assert!(b["owner"].is_string(), "owner is a plain string");
    }

    #[test]
    fn a_book_request_body_without_owner_or_pickup() {
        let mut request = contract::new_request("K-2");
        request.citation = Citation {
            kind: Some(CitationType::Book),
            title: "Sources of the self".into(),
            authors: vec!["Taylor, Charles".into()],
            isbn: Some("0674824253".into()),
            publisher: Some("Harvard University Press".into()),
            place_of_publication: Some("Cambridge, Mass.".into()),
            year: Some("1989".into()),
            ..Default::default()
        };
        request.format = Format::Physical;
        request.pickup_location = None;
        request.needed_by = None;
        request.note = None;
        let b = body(&borrowing_input(&request, None));
        assert_eq!(
            b,
            json!({
                "external_id": "K-2",
                "format": { "value": "PHYSICAL" },
                "citation_type": { "value": "BK" },
                "agree_to_copyright_terms": true,
                "allow_other_formats": false,
                "title": "Sources of the self",
                "author": "Taylor, Charles",
                "year": "1989",
                "isbn": "0674824253",
                "publisher": "Harvard University Press",
                "place_of_publication": "Cambridge, Mass."
            })
        );
    }

    /// Alma's answer to a create, as it would echo the body back.
    fn echoed(input: &RsRequestInput) -> RsRequest {
        let mut v = body(input);
        v["request_id"] = json!("RS-1");
        v["status"] =
            json!({ "value": "REQUEST_CREATED_BOR", "desc": "Created borrowing request" });
        v["created_time"] = json!("2026-11-28T10:00:00.123Z");
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn citations_round_trip_through_alma_for_every_kind() {
        let article = contract::article();
        let chapter = Citation {
            kind: Some(CitationType::Chapter),
            title: "The self in moral space".into(),
            container_title: Some("Sources of the self".into()),
            authors: vec!["Taylor, Charles".into()],
            pages: Some("25-52".into()),
            isbn: Some("0674824253".into()),
            ..Default::default()
        };
        let book = Citation {
            kind: Some(CitationType::Book),
            title: "Sources of the self".into(),
            edition: Some("2nd".into()),
            ..Default::default()
        };
        for c in [article, chapter, book] {
            let mut request = contract::new_request("K");
            request.citation = c.clone();
            let alma = echoed(&borrowing_input(&request, None));
            assert_eq!(citation_from(&alma), c);
        }
    }

    #[test]
    fn a_borrowing_request_from_alma_with_gaps_filled_from_the_record() {
        let me = PatronId("jane doe".into());
        let sent = contract::new_request("K-1");
        let mut alma = echoed(&borrowing_input(&sent, None));
        alma.note = None;
        alma.last_interest_date = None;
        alma.issn = None;
        let record = BorrowingRecord {
            external_id: "K-1".into(),
            request_id: Some("RS-1".into()),
            patron_id: me.clone(),
            request: sent.clone(),
            state: super::super::records::RecordState::Created,
            status: None,
            created_at: super::super::wire::parse_datetime("2026-11-28T10:00:00.987Z").unwrap(),
            updated_at: Utc::now(),
        };
        let r = borrowing_from(&alma, "RS-1", &me, Some(&record));
        assert_eq!(r.id, "RS-1");
        assert_eq!(r.external_id, "K-1");
        assert_eq!(r.citation, contract::article());
        assert_eq!(r.note, sent.note);
        assert_eq!(r.needed_by, NaiveDate::from_ymd_opt(2030, 12, 31));
        assert_eq!(r.pickup_location.as_deref(), Some("MAIN"));
        assert_eq!(r.format, Format::Digital);
        assert_eq!(r.status, BorrowingStatus::RequestCreated);
        // Kauko's own submission time, to the millisecond, wins over Alma's.
        assert_eq!(r.created_at, record.created_at);
        let r = borrowing_from(&alma, "RS-1", &me, None);
        assert_eq!(
            r.created_at,
            super::super::wire::parse_datetime("2026-11-28T10:00:00.123Z").unwrap()
        );
    }

    #[test]
    fn authors_split_back() {
        assert_eq!(
            split_authors("Estêvão, Diogo;Rios Costa, Natália;da Costa, Rui Gil;"),
            ["Estêvão, Diogo", "Rios Costa, Natália", "da Costa, Rui Gil"]
        );
        assert!(split_authors(" ; ").is_empty());
        assert_eq!(
            page_range("91-106 "),
            (Some("91".into()), Some("106".into()))
        );
        assert_eq!(page_range("e1234"), (Some("e1234".into()), None));
    }

    #[test]
    fn a_lending_request_body() {
        let request = NewLendingRequest {
            external_id: "L-1".into(),
            partner_code: "NLNZ:WLC".into(),
            requester: RequesterContact {
                library_name: "Partner library".into(),
                contact_name: Some("Liisa".into()),
                email: "ill@partner.example.org".into(),
            },
            citation: Citation {
                kind: Some(CitationType::Book),
                title: "Introduction to Library Science".into(),
                isbn: Some("9780123456786".into()),
                ..Default::default()
            },
            service: ServiceType::Loan,
            delivery_address: Some("PL 1, 00014 Helsinki".into()),
            max_cost: Some("20 EUR".into()),
            needed_by: None,
            note: None,
        };
        let b = body(&lending_input(&request, Some("RES_SHARE")));
        assert_eq!(
            b,
            json!({
                "external_id": "L-1",
                "owner": "RES_SHARE",
                "partner": { "value": "NLNZ:WLC" },
                "format": { "value": "PHYSICAL" },
                "citation_type": { "value": "BOOK" },
                "text_email": "ill@partner.example.org",
                "title": "Introduction to Library Science",
                "isbn": "9780123456786",
                "note": "Requester: Partner library (Liisa)\nDelivery address: PL 1, 00014 Helsinki\nMaximum cost: 20 EUR"
            })
        );
    }

    fn stored(body: Value) -> AlmaPartner {
        AlmaPartner::from_value(body).unwrap()
    }

    #[test]
    fn a_partner_round_trips_through_its_alma_record() {
        let mut p = contract::partner("NLNZ:WLC", "Wellington City Libraries");
        p.phone = Some("+358 1".into());
        p.instructions = Some("Send copies as PDF".into());
        p.notes = Some("Slow in summer".into());
        let body = new_partner_body(&p);
        assert_eq!(
            body["partner_details"]["system_type"],
            json!({ "value": "OTHER" })
        );
        assert_eq!(body["partner_details"]["status"], json!("ACTIVE"));
        assert_eq!(
            body["partner_details"]["profile_details"],
            json!({ "profile_type": "EMAIL", "email_details": { "email": "ill@partner.example.org" } })
        );
        assert_eq!(body["partner_details"]["alternate_symbol"], json!("FI-Xyz"));
        assert_eq!(body["contact_info"]["address"][0]["line1"], json!("PL 1"));
        assert_eq!(
            body["contact_info"]["address"][0]["country"],
            json!({ "value": "FI" })
        );
        assert_eq!(partner_from(&stored(body.clone())), p);

        // Changes come back exactly, whatever changed.
        let mut changed = p.clone();
        changed.name = "Renamed".into();
        changed.status = PartnerStatus::Inactive;
        changed.profile = PartnerProfile::Iso18626 {
            symbol: "ISIL:FI-XYZ".into(),
            url: Some("https://ill.example.org/iso18626".into()),
        };
        changed.isil = None;
        changed.email = None;
        changed.phone = Some("+358 2".into());
        changed.address = Address {
            lines: vec!["A".into(), "B".into()],
            postal_code: None,
            city: Some("Espoo".into()),
            country: None,
        };
        changed.instructions = None;
        let mut raw = body;
        patch_partner(&mut raw, &changed);
        assert_eq!(partner_from(&stored(raw.clone())), changed);
        let profile = &raw["partner_details"]["profile_details"];
        assert_eq!(profile["profile_type"], json!("ISO_18626"));
        assert!(profile.get("email_details").is_none(), "{profile}");
    }

    #[test]
    fn an_update_keeps_credentials_and_staff_data_but_never_shows_them() {
        let raw = json!({
            "partner_details": {
                "code": "RAPID1", "name": "Rapid partner", "status": "ACTIVE",
                "system_type": { "value": "RAPID", "desc": "Rapid" },
                "profile_details": {
                    "profile_type": "RAPID",
                    "rapid_details": { "rapid_user_name": "u", "rapid_password": "s3cret-pw" }
                },
                "borrowing_supported": true, "lending_supported": false,
                "avg_supply_time": 4, "currency": "EUR"
            },
            "contact_info": {
                "email": [
                    { "email_address": "other@x.org", "preferred": false, "email_type": ["claim_mail"] },
                    { "email_address": "ill@x.org", "preferred": true, "email_type": ["ALL"] }
                ],
                "address": [{ "line1": "Street 1", "city": "Turku", "state_province": "VS",
                              "country": { "value": "FI", "desc": "Finland" }, "preferred": true,
                              "address_type": ["shipping"] }]
            },
            "note": [{ "content": "staff: call first", "created_by": "admin" }],
            "link": "https://api-eu.hosted.exlibrisgroup.com/almaws/v1/partners/RAPID1"
        });
        let partner = partner_from(&stored(raw.clone()));
        let shown = serde_json::to_string(&partner).unwrap();
        assert!(
            !shown.contains("s3cret") && !shown.contains("rapid_user_name"),
            "{shown}"
        );
        assert_eq!(
            partner.email.as_deref(),
            Some("ill@x.org"),
            "the preferred one"
        );
        assert_eq!(
            partner.profile,
            PartnerProfile::Email {
                email: String::new()
            },
            "a profile Kauko does not manage"
        );
        assert_eq!(partner.address.lines, ["Street 1"]);
        assert_eq!(partner.notes, None, "staff notes are not Kauko's");

        let mut changed = partner.clone();
        changed.name = "Renamed".into();
        changed.email = Some("new@x.org".into());
        changed.notes = Some("Kauko's own".into());
        let mut patched = raw.clone();
        patch_partner(&mut patched, &changed);
        assert_eq!(partner_from(&stored(patched.clone())), changed);
        let d = &patched["partner_details"];
        assert_eq!(
            d["profile_details"]["rapid_details"]["rapid_password"],
            json!("s3cret-pw"),
            "credentials survive the update"
        );
        assert_eq!(d["profile_details"]["profile_type"], json!("RAPID"));
        assert_eq!(d["system_type"], raw["partner_details"]["system_type"]);
        assert_eq!(d["avg_supply_time"], json!(4));
        let emails = &patched["contact_info"]["email"];
        assert_eq!(emails[0]["email_address"], json!("other@x.org"));
        assert_eq!(emails[1]["email_address"], json!("new@x.org"));
        assert_eq!(emails[1]["email_type"], json!(["ALL"]));
        assert_eq!(
            patched["contact_info"]["address"],
            raw["contact_info"]["address"]
        );
        assert_eq!(patched["note"][0], raw["note"][0], "staff notes stay");
        assert_eq!(
            patched["note"][1]["content"],
            json!("[Kauko notes] Kauko's own")
        );
        assert_eq!(patched["link"], raw["link"]);
    }
}
