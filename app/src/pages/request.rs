//! The borrowing-request form: one box for a DOI, PubMed ID or ISBN that
//! fills the citation in, an OpenURL entry from discovery, an open-access
//! check, a duplicate warning, and the blank form for whatever no database
//! knows.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::form::{
    posted_form, sent_form, ExistingRequest, LookupCitation, LookupOutcome, RequestForm,
    SubmitOutcome, SubmitRequest,
};
use crate::components::field::{FieldErrorText, TextField};
use crate::components::page::PageTitle;
use crate::domain::identifiers::{parse_identifier, Identifier, IdentifierError};
use crate::domain::{Citation, CitationType, FieldError};
use crate::i18n::{t, t_args};
use crate::lookup::OpenAccessCopy;
use crate::site::{tr, use_i18n, I18n};
use crate::viewer::use_viewer;

/// Every field of the form as its own signal.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub(crate) key: RwSignal<String>,
    pub(crate) kind: RwSignal<String>,
    pub(crate) title: RwSignal<String>,
    pub(crate) authors: RwSignal<String>,
    pub(crate) container_title: RwSignal<String>,
    pub(crate) volume: RwSignal<String>,
    pub(crate) issue: RwSignal<String>,
    pub(crate) pages: RwSignal<String>,
    pub(crate) year: RwSignal<String>,
    pub(crate) publisher: RwSignal<String>,
    pub(crate) edition: RwSignal<String>,
    pub(crate) issn: RwSignal<String>,
    pub(crate) isbn: RwSignal<String>,
    pub(crate) doi: RwSignal<String>,
    pub(crate) pmid: RwSignal<String>,
    pub(crate) format: RwSignal<String>,
    pub(crate) pickup_location: RwSignal<String>,
    pub(crate) needed_by: RwSignal<String>,
    pub(crate) note: RwSignal<String>,
    pub(crate) copyright: RwSignal<bool>,
}

impl Fields {
    pub(crate) fn new(initial: RequestForm) -> Self {
        let s = RwSignal::new;
        Self {
            key: s(initial.idempotency_key),
            kind: s(initial.kind),
            title: s(initial.title),
            authors: s(initial.authors),
            container_title: s(initial.container_title),
            volume: s(initial.volume),
            issue: s(initial.issue),
            pages: s(initial.pages),
            year: s(initial.year),
            publisher: s(initial.publisher),
            edition: s(initial.edition),
            issn: s(initial.issn),
            isbn: s(initial.isbn),
            doi: s(initial.doi),
            pmid: s(initial.pmid),
            format: s(initial.format),
            pickup_location: s(initial.pickup_location),
            needed_by: s(initial.needed_by),
            note: s(initial.note),
            copyright: RwSignal::new(initial.copyright),
        }
    }

    fn strings(&self) -> [(RwSignal<String>, fn(&mut RequestForm) -> &mut String); 19] {
        [
            (self.key, |f| &mut f.idempotency_key),
            (self.kind, |f| &mut f.kind),
            (self.title, |f| &mut f.title),
            (self.authors, |f| &mut f.authors),
            (self.container_title, |f| &mut f.container_title),
            (self.volume, |f| &mut f.volume),
            (self.issue, |f| &mut f.issue),
            (self.pages, |f| &mut f.pages),
            (self.year, |f| &mut f.year),
            (self.publisher, |f| &mut f.publisher),
            (self.edition, |f| &mut f.edition),
            (self.issn, |f| &mut f.issn),
            (self.isbn, |f| &mut f.isbn),
            (self.doi, |f| &mut f.doi),
            (self.pmid, |f| &mut f.pmid),
            (self.format, |f| &mut f.format),
            (self.pickup_location, |f| &mut f.pickup_location),
            (self.needed_by, |f| &mut f.needed_by),
            (self.note, |f| &mut f.note),
        ]
    }

    pub(crate) fn snapshot(&self) -> RequestForm {
        let mut form = RequestForm {
            copyright: self.copyright.get_untracked(),
            ..Default::default()
        };
        for (signal, field) in self.strings() {
            *field(&mut form) = signal.get_untracked();
        }
        form
    }

    pub(crate) fn set(&self, form: &mut RequestForm) {
        for (signal, field) in self.strings() {
            let value = std::mem::take(field(form));
            if signal.get_untracked() != value {
                signal.set(value);
            }
        }
        self.copyright.set(form.copyright);
    }

    /// Fills the citation in (everything, or only the empty fields).
    pub(crate) fn fill(&self, citation: &Citation, only_empty: bool) {
        let mut form = self.snapshot();
        form.fill_from(citation, only_empty);
        self.set(&mut form);
    }

    fn kind(&self) -> Option<CitationType> {
        CitationType::from_code(&self.kind.get())
    }
}

/// What the page was opened with: an OpenURL from discovery, or `?id=`.
struct Entry {
    citation: Option<Citation>,
    identifier: Option<String>,
}

fn entry_from_query(query: &str) -> Entry {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let direct = pairs
        .iter()
        .find(|(k, v)| k == "id" && parse_identifier(v).is_ok())
        .map(|(_, v)| v.clone());
    let openurl =
        crate::domain::openurl::parse_openurl(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let identifier = direct.or_else(|| {
        openurl
            .as_ref()
            .and_then(|o| o.identifiers.first())
            .map(|id| match id {
                Identifier::Doi(d) => d.clone(),
                Identifier::Pmid(p) => format!("pmid:{p}"),
                Identifier::Isbn(i) => i.clone(),
            })
    });
    Entry {
        citation: openurl.map(|o| o.citation).filter(|c| !c.title.is_empty()),
        identifier,
    }
}

/// A fresh idempotency key (browser only): 128 random bits as hex.
pub(crate) fn new_key() -> String {
    #[cfg(feature = "hydrate")]
    {
        let mut bytes = [0u8; 16];
        let filled = web_sys::window()
            .and_then(|w| w.crypto().ok())
            .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
        if !filled {
            for b in bytes.iter_mut() {
                *b = (js_sys::Math::random() * 256.0) as u8;
            }
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

/// Moves keyboard and screen-reader focus to an element once it is drawn.
#[cfg(feature = "hydrate")]
pub(crate) fn focus_later<E>(node: NodeRef<E>)
where
    E: leptos::html::ElementType,
    E::Output: wasm_bindgen::JsCast + Clone + 'static,
{
    request_animation_frame(move || {
        if let Some(el) = node.get_untracked() {
            use wasm_bindgen::JsCast;
            let _ = el.unchecked_ref::<web_sys::HtmlElement>().focus();
        }
    });
}

#[cfg(not(feature = "hydrate"))]
pub(crate) fn focus_later<E>(_node: NodeRef<E>)
where
    E: leptos::html::ElementType,
{
}

/// What the form starts with, worked out on the server from the page's
/// address (an OpenURL or `?id=` from discovery, or a form sent without
/// JavaScript coming back) and handed to the form's island, so the
/// browser needs no OpenURL or query parsing of its own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FormStart {
    initial: RequestForm,
    errors: Vec<FieldError>,
    /// The patron's active requests for the same work (their numbers).
    duplicates: Vec<String>,
    /// A translation key: the form could not be sent.
    failed: Option<String>,
    /// The request's number, and whether the library system has it yet.
    created: Option<(String, bool)>,
    /// An identifier to look up at once.
    identifier: Option<String>,
    from_discovery: bool,
}

impl FormStart {
    /// The start for a page opened with this query string.
    fn from_query(query: &str, pickups: &[(String, String)]) -> Self {
        // Sent without JavaScript, the form comes back here (see
        // `submit_request`): as the confirmation, or with what was typed
        // and what was wrong.
        let posted = posted_form(query);
        let sent = sent_form(query);
        let entry = if posted.is_some() {
            Entry {
                citation: None,
                identifier: None,
            }
        } else {
            entry_from_query(query)
        };
        let mut initial = RequestForm {
            kind: "article".into(),
            format: "DIGITAL".into(),
            ..Default::default()
        };
        let from_discovery = entry.citation.is_some();
        if let Some(c) = &entry.citation {
            initial.fill_from(c, false);
        }
        if let [(only, _)] = pickups {
            initial.pickup_location = only.clone();
        }
        let mut start = FormStart {
            from_discovery,
            identifier: entry.identifier,
            created: sent.map(|s| (s.id, s.delivered)),
            ..Default::default()
        };
        if let Some(p) = posted {
            initial = p.form;
            initial.confirm_duplicate = false;
            start.errors = p.errors;
            start.duplicates = p.duplicates;
            start.failed = p.failed;
        }
        // The server writes a key into the page, so a form sent before (or
        // without) JavaScript is one request however often it is sent; the
        // browser makes its own when it takes over.
        #[cfg(feature = "ssr")]
        if initial.idempotency_key.is_empty() {
            initial.idempotency_key = crate::api::form::new_server_key();
        }
        start.initial = initial;
        start
    }
}

/// `/request`: the form, for a signed-in patron.
#[component]
pub fn RequestPage() -> impl IntoView {
    if use_viewer().is_none() {
        return view! { <super::coming::SignInNeeded title="page.request.title" path="/request"/> }
            .into_any();
    }
    let start = FormStart::from_query(
        &crate::page_url::page_query(),
        &use_i18n().pickup_locations(),
    );
    view! { <RequestFormIsland start/> }.into_any()
}

/// The form itself: the part of the page that runs in the browser.
#[island]
fn RequestFormIsland(start: FormStart) -> impl IntoView {
    let i18n = use_i18n();
    let FormStart {
        initial,
        errors,
        duplicates: posted_duplicates,
        failed,
        created,
        identifier,
        from_discovery,
    } = start;
    let fields = Fields::new(initial.clone());
    let errors = RwSignal::new(errors);
    let open_access = RwSignal::new(None::<OpenAccessCopy>);
    let duplicates = RwSignal::new(Vec::<ExistingRequest>::new());
    let duplicate_blocked = RwSignal::new(!posted_duplicates.is_empty());
    let posted_duplicates = RwSignal::new(posted_duplicates);
    let submit_error = RwSignal::new(failed);
    // The confirmation: the request's number, and whether the library
    // system has it yet (false: received, being forwarded).
    let created = RwSignal::new(created);
    let lookup = IdentifierLookup::new(
        fields,
        identifier.clone().unwrap_or_default(),
        move |outcome| {
            open_access.set(outcome.open_access.clone());
            duplicates.set(outcome.duplicates.clone());
        },
    );
    let submit = ServerAction::<SubmitRequest>::new();
    let summary_ref = NodeRef::<leptos::html::Div>::new();
    let done_ref = NodeRef::<leptos::html::H2>::new();
    let duplicate_ref = NodeRef::<leptos::html::Div>::new();

    // In the browser: a fresh idempotency key for this form, and a lookup
    // of the identifier a discovery link brought.
    Effect::new(move |_| {
        if fields.key.get_untracked().is_empty() {
            fields.key.set(new_key());
        }
    });
    let auto_lookup = identifier;
    Effect::new(move |_| {
        if let Some(id) = auto_lookup.clone() {
            lookup.only_empty.set_value(from_discovery);
            lookup.action.dispatch(LookupCitation { input: id });
        }
    });

    let send = move |confirm_duplicate: bool| {
        let mut form = fields.snapshot();
        if form.idempotency_key.is_empty() {
            form.idempotency_key = new_key();
            fields.key.set(form.idempotency_key.clone());
        }
        form.confirm_duplicate = confirm_duplicate;
        submit_error.set(None);
        submit.dispatch(SubmitRequest { form });
    };

    Effect::new(move |_| {
        let Some(result) = submit.value().get() else {
            return;
        };
        match result {
            Ok(SubmitOutcome::Created { id }) => {
                errors.set(vec![]);
                duplicate_blocked.set(false);
                created.set(Some((id, true)));
                focus_later(done_ref);
            }
            Ok(SubmitOutcome::Received { reference }) => {
                errors.set(vec![]);
                duplicate_blocked.set(false);
                created.set(Some((reference, false)));
                focus_later(done_ref);
            }
            Ok(SubmitOutcome::Invalid(list)) => {
                errors.set(list);
                focus_later(summary_ref);
            }
            Ok(SubmitOutcome::Duplicate(list)) => {
                errors.set(vec![]);
                duplicates.set(list);
                duplicate_blocked.set(true);
                focus_later(duplicate_ref);
            }
            Err(e) => {
                let key = if e.to_string().contains("sign in required") {
                    "request.error.signed_out"
                } else {
                    "request.error.send"
                };
                submit_error.set(Some(key.to_owned()));
                focus_later(summary_ref);
            }
        }
    });

    let default_pickup = StoredValue::new(initial.pickup_location.clone());
    let start_over = move |_| {
        let mut form = RequestForm {
            kind: "article".into(),
            format: "DIGITAL".into(),
            idempotency_key: new_key(),
            pickup_location: default_pickup.get_value(),
            ..Default::default()
        };
        fields.set(&mut form);
        lookup.clear();
        open_access.set(None);
        duplicates.set(vec![]);
        created.set(None);
    };

    let form_view = move || {
        view! {
            <p class="lead">{tr("request.lead")}</p>
            {from_discovery.then(|| view! { <p class="notice" role="status">{tr("request.from_discovery")}</p> })}
            // Without JavaScript the browser posts the form to the server
            // function itself, which answers with a page (see
            // `submit_request`); with it, the form is sent from here.
            <form class="request-form" method="post" action="/api/requests/submit" novalidate on:submit=move |ev| {
                ev.prevent_default();
                send(false);
            }>
                <input type="hidden" name="idempotency_key" value=fields.key.get_untracked() prop:value=move || fields.key.get()/>
                <ErrorSummary errors submit_error node_ref=summary_ref/>
                <IdentifierBox lookup/>
                <OpenAccessNotice open_access/>
                <DuplicateNotice duplicates ids=posted_duplicates blocked=duplicate_blocked node_ref=duplicate_ref on_confirm=Callback::new(move |_| send(true))/>
                <KindChoice fields/>
                <CitationFields fields errors/>
                <DeliveryFields fields errors/>
                <div class="form-actions">
                    <button type="submit" class="button" disabled=move || submit.pending().get()>
                        {move || if submit.pending().get() { t(i18n.lang(), "request.sending") } else { t(i18n.lang(), "request.submit") }}
                    </button>
                </div>
            </form>
        }
        .into_any()
    };

    view! {
        <PageTitle key="page.request.title"/>
        <Show when=move || created.get().is_some() fallback=form_view>
            <section class="confirmation" aria-labelledby="done-title">
                <h2 id="done-title" tabindex="-1" node_ref=done_ref>
                    {move || t(i18n.lang(), if created.get().is_some_and(|c| c.1) { "request.done.title" } else { "request.received.title" })}
                </h2>
                <p>
                    {move || {
                        let (id, delivered) = created.get().unwrap_or_default();
                        let key = if delivered { "request.done.reference" } else { "request.received.reference" };
                        t_args(i18n.lang(), key, &[("id", &id)])
                    }}
                </p>
                <Show when=move || created.get().is_some_and(|c| !c.1)>
                    <p class="notice" role="status">{tr("request.received.body")}</p>
                </Show>
                <h3>{tr("request.done.next_title")}</h3>
                <p>{tr("request.done.next")}</p>
                <p class="confirmation__actions">
                    <a class="button" href="/my">{tr("request.done.my")}</a>
                    <button type="button" class="button button--secondary" on:click=start_over>
                        {tr("request.done.another")}
                    </button>
                </p>
            </section>
        </Show>
    }
    .into_any()
}

/// The errors of the last submission as a list of links to their fields.
#[component]
pub(crate) fn ErrorSummary(
    errors: RwSignal<Vec<FieldError>>,
    submit_error: RwSignal<Option<String>>,
    node_ref: NodeRef<leptos::html::Div>,
) -> impl IntoView {
    let i18n = use_i18n();
    let shown = move || !errors.with(Vec::is_empty) || submit_error.with(Option::is_some);
    view! {
        <div class="error-summary" role="alert" tabindex="-1" node_ref=node_ref hidden=move || !shown()>
            <Show when=shown>
                <h2>{tr("form.errors_title")}</h2>
                {move || submit_error.get().map(|key| view! { <p>{move || t(i18n.lang(), &key)}</p> })}
                <ul>
                    {move || {
                        errors
                            .get()
                            .into_iter()
                            .map(|e| {
                                let href = format!("#{}", field_anchor(&e.field));
                                let label = field_label_key(&e.field);
                                view! {
                                    <li>
                                        <a href=href rel="external">
                                            {move || format!("{}: {}", t(i18n.lang(), label), t(i18n.lang(), &e.key))}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </Show>
        </div>
    }
    .into_any()
}

/// The element an error's link jumps to.
fn field_anchor(field: &str) -> &str {
    match field {
        "kind" => "kind-article",
        "format" => "format-DIGITAL",
        "delivery" => "delivery-postal",
        "idempotency_key" => "identifier",
        other => other,
    }
}

fn field_label_key(field: &str) -> &'static str {
    match field {
        "kind" => "request.kind.legend",
        "title" => "request.field.title",
        "authors" => "request.field.authors",
        "container_title" => "request.field.container",
        "volume" => "request.field.volume",
        "issue" => "request.field.issue",
        "pages" => "request.field.pages",
        "year" => "request.field.year",
        "publisher" => "request.field.publisher",
        "edition" => "request.field.edition",
        "issn" => "request.field.issn",
        "isbn" => "request.field.isbn",
        "doi" => "request.field.doi",
        "pmid" => "request.field.pmid",
        "pickup_location" => "request.field.pickup",
        "needed_by" => "request.field.needed_by",
        "note" => "request.field.note",
        "copyright" => "request.field.copyright",
        "library_name" => "lend.field.library_name",
        "library_id" => "lend.field.library_id",
        "contact_name" => "lend.field.contact_name",
        "email" => "lend.field.email",
        "delivery" => "lend.delivery.legend",
        "delivery_address" => "lend.field.delivery_address",
        "max_cost" => "lend.field.max_cost",
        _ => "request.field.form",
    }
}

/// The identifier box's state and its lookup ("Fill in"), shared by the
/// patron's form and the libraries' form: a found citation fills the
/// fields, and the status line says from where, or why not.
#[derive(Clone, Copy)]
pub(crate) struct IdentifierLookup {
    pub identifier: RwSignal<String>,
    pub error: RwSignal<Option<String>>,
    pub status: RwSignal<Option<String>>,
    pub action: ServerAction<LookupCitation>,
    /// The next result fills only empty fields (a discovery link's own
    /// citation is kept).
    pub only_empty: StoredValue<bool>,
    i18n: I18n,
}

impl IdentifierLookup {
    /// `on_outcome` sees every answer, after the fields are filled.
    pub fn new(
        fields: Fields,
        initial: String,
        on_outcome: impl Fn(&LookupOutcome) + Send + Sync + 'static,
    ) -> Self {
        let i18n = use_i18n();
        let this = Self {
            identifier: RwSignal::new(initial),
            error: RwSignal::new(None),
            status: RwSignal::new(None),
            action: ServerAction::<LookupCitation>::new(),
            only_empty: StoredValue::new(false),
            i18n,
        };
        Effect::new(move |_| {
            let Some(result) = this.action.value().get() else {
                return;
            };
            let lang = i18n.lang();
            match result {
                Ok(outcome) => {
                    if let Some(found) = &outcome.found {
                        fields.fill(&found.citation, this.only_empty.get_value());
                        this.status.set(Some(t_args(
                            lang,
                            "lookup.filled",
                            &[("service", found.source.display_name())],
                        )));
                    } else if let Some(key) = &outcome.error_key {
                        let service = outcome.error_service.clone().unwrap_or_default();
                        this.status
                            .set(Some(t_args(lang, key, &[("service", &service)])));
                    }
                    on_outcome(&outcome);
                }
                Err(_) => this.status.set(Some(t(lang, "lookup.error.failed"))),
            }
        });
        this
    }

    /// Looks the typed identifier up, or says what is wrong with it.
    pub fn run(self) {
        let text = self.identifier.get_untracked();
        match parse_identifier(&text) {
            Err(e) => {
                self.error.set(Some(e.key().to_owned()));
                self.status.set(None);
            }
            Ok(_) => {
                self.error.set(None);
                self.only_empty.set_value(false);
                self.status
                    .set(Some(t(self.i18n.lang(), "lookup.searching")));
                self.action.dispatch(LookupCitation { input: text });
            }
        }
    }

    /// Empties the box for another request.
    pub fn clear(self) {
        self.identifier.set(String::new());
        self.status.set(None);
    }
}

#[component]
pub(crate) fn IdentifierBox(lookup: IdentifierLookup) -> impl IntoView {
    let i18n = use_i18n();
    let IdentifierLookup {
        identifier,
        error: identifier_error,
        status: lookup_status,
        ..
    } = lookup;
    let run_lookup = move || lookup.run();
    let pending = lookup.action.pending();
    // Instant feedback while typing: a wrong ISBN check digit is said at
    // once; other problems wait for "Fill in".
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        let now = match parse_identifier(&text) {
            Err(IdentifierError::IsbnChecksum) => {
                Some(IdentifierError::IsbnChecksum.key().to_owned())
            }
            _ => None,
        };
        identifier_error.set(now);
        identifier.set(text);
    };
    let describedby = move || {
        if identifier_error.with(Option::is_some) {
            "identifier-hint identifier-error"
        } else {
            "identifier-hint"
        }
    };
    view! {
        <section class="lookup" aria-labelledby="lookup-title">
            <h2 id="lookup-title">{tr("lookup.title")}</h2>
            <label for="identifier">{tr("lookup.label")}</label>
            <p id="identifier-hint" class="hint">{tr("lookup.hint")}</p>
            <div class="lookup__row">
                <input
                    id="identifier"
                    name="identifier"
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || identifier.get()
                    on:input=on_input
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            run_lookup();
                        }
                    }
                    aria-invalid=move || identifier_error.with(Option::is_some).then_some("true")
                    aria-describedby=describedby
                />
                <button type="button" class="button" on:click=move |_| run_lookup() disabled=move || pending.get()>
                    {tr("lookup.button")}
                </button>
            </div>
            <div aria-live="polite">
                {move || identifier_error.get().map(|key| view! {
                    <p id="identifier-error" class="field-error">
                        <span class="field-error__mark" aria-hidden="true">"⚠ "</span>
                        {move || t(i18n.lang(), &key)}
                    </p>
                })}
            </div>
            <p class="lookup__status" role="status">
                {move || if pending.get() { Some(t(i18n.lang(), "lookup.searching")) } else { lookup_status.get() }}
            </p>
        </section>
    }
    .into_any()
}

#[component]
pub(crate) fn OpenAccessNotice(open_access: RwSignal<Option<OpenAccessCopy>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        open_access.get().map(|copy| {
            let version_key = match copy.version.as_deref() {
                Some("publishedVersion") => "oa.version.published",
                Some("acceptedVersion") => "oa.version.accepted",
                Some("submittedVersion") => "oa.version.submitted",
                _ => "oa.version.unknown",
            };
            let host_key = match copy.host_type.as_deref() {
                Some("repository") => "oa.host.repository",
                _ => "oa.host.publisher",
            };
            view! {
                <section class="oa" aria-labelledby="oa-title">
                    <h2 id="oa-title">{tr("oa.title")}</h2>
                    <p>{move || format!("{} {}", t(i18n.lang(), version_key), t(i18n.lang(), host_key))}</p>
                    <p><a href=copy.url.clone() class="oa__link" rel="noopener noreferrer" target="_blank">
                        {tr("oa.open")}<span class="visually-hidden">{tr("oa.new_window")}</span>
                    </a></p>
                    <p class="hint">{tr("oa.still")}</p>
                </section>
            }
        })
    }
}

#[component]
fn DuplicateNotice(
    duplicates: RwSignal<Vec<ExistingRequest>>,
    /// The numbers of the patron's requests for the same work, when the
    /// form came back without JavaScript.
    ids: RwSignal<Vec<String>>,
    blocked: RwSignal<bool>,
    node_ref: NodeRef<leptos::html::Div>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="warning" tabindex="-1" node_ref=node_ref hidden=move || duplicates.with(Vec::is_empty) && ids.with(Vec::is_empty)>
            <Show when=move || !duplicates.with(Vec::is_empty) || !ids.with(Vec::is_empty)>
                <h2>{tr("duplicate.title")}</h2>
                <p>{tr("duplicate.body")}</p>
                <ul>
                    {move || duplicates.get().into_iter().map(|d| {
                        let status = d.status.label_key();
                        let date = crate::domain::date::format_date(i18n.lang(), d.created);
                        view! { <li><strong>{d.title.clone()}</strong>" – "{move || t(i18n.lang(), status)}" – "{date}</li> }
                    }).collect_view()}
                    {move || duplicates.with(Vec::is_empty).then(|| ids.get().into_iter().map(|id| {
                        view! { <li><a href=format!("/my/{id}")>{id.clone()}</a></li> }
                    }).collect_view())}
                </ul>
                <p><a href="/my">{tr("duplicate.see")}</a></p>
                <Show when=move || blocked.get()>
                    // A submit button too: without JavaScript it sends the
                    // form again with the confirmation.
                    <button type="submit" name="confirm_duplicate" value="true" class="button button--secondary"
                        on:click=move |ev| { ev.prevent_default(); on_confirm.run(()) }>
                        {tr("duplicate.send_anyway")}
                    </button>
                </Show>
            </Show>
        </div>
    }
    .into_any()
}

#[component]
pub(crate) fn KindChoice(fields: Fields) -> impl IntoView {
    let option = move |kind: CitationType| {
        let id = format!("kind-{}", kind.code());
        view! {
            <div class="choice">
                <input
                    type="radio"
                    id=id.clone()
                    name="kind"
                    value=kind.code()
                    checked=fields.kind.get_untracked() == kind.code()
                    prop:checked=move || fields.kind.get() == kind.code()
                    on:change=move |_| fields.kind.set(kind.code().to_owned())
                />
                <label for=id>{tr(kind.label_key())}</label>
            </div>
        }
    };
    view! {
        <fieldset class="choices">
            <legend>{tr("request.kind.legend")}</legend>
            {CitationType::ALL.into_iter().map(option).collect_view()}
        </fieldset>
    }
    .into_any()
}

#[component]
pub(crate) fn CitationFields(fields: Fields, errors: RwSignal<Vec<FieldError>>) -> impl IntoView {
    let i18n = use_i18n();
    let kind = move || fields.kind();
    let is = move |k: CitationType| move || kind() == Some(k);
    let title_label = Signal::derive(move || {
        t(
            i18n.lang(),
            match kind() {
                Some(CitationType::Book) => "request.field.title_book",
                Some(CitationType::Chapter) => "request.field.title_chapter",
                _ => "request.field.title_article",
            },
        )
    });
    let container_label = Signal::derive(move || {
        t(
            i18n.lang(),
            if kind() == Some(CitationType::Chapter) {
                "request.field.container_book"
            } else {
                "request.field.container_journal"
            },
        )
    });
    let label = move |key: &'static str| Signal::derive(move || t(i18n.lang(), key));
    view! {
        <fieldset class="group">
            <legend>{tr("request.details.legend")}</legend>
            <TextField name="title" label=title_label value=fields.title errors required=true/>
            <Show when=move || kind() != Some(CitationType::Book)>
                <TextField name="container_title" label=container_label value=fields.container_title errors required=Signal::derive(is(CitationType::Article))/>
            </Show>
            <TextField name="authors" label=label("request.field.authors") value=fields.authors errors hint="request.hint.authors"/>
            <div class="field-row">
                <TextField name="year" label=label("request.field.year") value=fields.year errors inputmode="numeric" class="field--short"/>
                <Show when=is(CitationType::Article)>
                    <TextField name="volume" label=label("request.field.volume") value=fields.volume errors class="field--short"/>
                    <TextField name="issue" label=label("request.field.issue") value=fields.issue errors class="field--short"/>
                </Show>
                <Show when=move || kind() != Some(CitationType::Book)>
                    <TextField name="pages" label=label("request.field.pages") value=fields.pages errors class="field--short"/>
                </Show>
            </div>
            <Show when=move || kind() != Some(CitationType::Article)>
                <TextField name="publisher" label=label("request.field.publisher") value=fields.publisher errors/>
                <TextField name="edition" label=label("request.field.edition") value=fields.edition errors class="field--short"/>
                <TextField name="isbn" label=label("request.field.isbn") value=fields.isbn errors hint="request.hint.isbn"/>
            </Show>
            <Show when=is(CitationType::Article)>
                <TextField name="issn" label=label("request.field.issn") value=fields.issn errors hint="request.hint.issn"/>
                <TextField name="pmid" label=label("request.field.pmid") value=fields.pmid errors inputmode="numeric"/>
            </Show>
            <TextField name="doi" label=label("request.field.doi") value=fields.doi errors hint="request.hint.doi"/>
        </fieldset>
    }
    .into_any()
}

#[component]
fn DeliveryFields(fields: Fields, errors: RwSignal<Vec<FieldError>>) -> impl IntoView {
    let i18n = use_i18n();
    let is_copy = move || fields.kind().is_some_and(CitationType::is_copy);
    let physical = move || !is_copy() || fields.format.get() == "PHYSICAL";
    let label = move |key: &'static str| Signal::derive(move || t(i18n.lang(), key));
    let format_option = move |code: &'static str, key: &'static str| {
        let id = format!("format-{code}");
        view! {
            <div class="choice">
                <input type="radio" id=id.clone() name="format" value=code
                    checked=fields.format.get_untracked() == code
                    prop:checked=move || fields.format.get() == code
                    on:change=move |_| fields.format.set(code.to_owned())/>
                <label for=id>{tr(key)}</label>
            </div>
        }
    };
    let pickup_invalid =
        move || crate::components::field::error_of(errors, "pickup_location").is_some();
    let copyright_invalid =
        move || crate::components::field::error_of(errors, "copyright").is_some();
    view! {
        <fieldset class="group">
            <legend>{tr("request.delivery.legend")}</legend>
            <Show when=is_copy>
                <fieldset class="choices">
                    <legend>{tr("request.format.legend")}</legend>
                    {format_option("DIGITAL", "request.format.digital")}
                    {format_option("PHYSICAL", "request.format.physical")}
                </fieldset>
            </Show>
            <Show when=physical>
                <div class="field">
                    <label for="pickup_location">{tr("request.field.pickup")}" "<span class="field__required">{tr("form.required")}</span></label>
                    <select id="pickup_location" name="pickup_location"
                        aria-required="true"
                        aria-invalid=move || pickup_invalid().then_some("true")
                        aria-describedby=move || pickup_invalid().then_some("pickup_location-error")
                        on:change=move |ev| fields.pickup_location.set(event_target_value(&ev))
                        prop:value=move || fields.pickup_location.get()>
                        <option value="">{tr("request.pickup.choose")}</option>
                        {move || i18n.pickup_locations().into_iter().map(|(code, name)| {
                            let selected = fields.pickup_location.get_untracked() == code;
                            view! { <option value=code selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                    <FieldErrorText name="pickup_location" errors/>
                </div>
            </Show>
            <TextField name="needed_by" label=label("request.field.needed_by") value=fields.needed_by errors input_type="date" hint="request.hint.needed_by" class="field--short"/>
            <TextField name="note" label=label("request.field.note") value=fields.note errors multiline=true/>
            <Show when=is_copy>
                <div class="field field--check">
                    <input type="checkbox" id="copyright" name="copyright" value="true"
                        checked=fields.copyright.get_untracked()
                        prop:checked=move || fields.copyright.get()
                        on:change=move |ev| fields.copyright.set(event_target_checked(&ev))
                        aria-required="true"
                        aria-invalid=move || copyright_invalid().then_some("true")
                        aria-describedby=move || if copyright_invalid() { "copyright-text copyright-error" } else { "copyright-text" }/>
                    <label for="copyright">{tr("request.field.copyright")}</label>
                    <p id="copyright-text" class="hint">{tr("request.copyright.text")}</p>
                    <FieldErrorText name="copyright" errors/>
                </div>
            </Show>
        </fieldset>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direct_identifier_link_is_looked_up() {
        let e = entry_from_query("?id=10.1037%2Fa0035049");
        assert_eq!(e.identifier.as_deref(), Some("10.1037/a0035049"));
        assert!(e.citation.is_none());
    }

    #[test]
    fn an_openurl_prefills_the_form_and_keeps_its_doi() {
        let e = entry_from_query(
            "url_ver=Z39.88-2004&rft.genre=article&rft.atitle=Life%20is%20pretty%20meaningful&rft.jtitle=American%20Psychologist&rft.date=2014&rft_id=info%3Adoi%2F10.1037%2Fa0035049",
        );
        let c = e.citation.unwrap();
        assert_eq!(c.title, "Life is pretty meaningful");
        assert_eq!(c.container_title.as_deref(), Some("American Psychologist"));
        assert_eq!(e.identifier.as_deref(), Some("10.1037/a0035049"));
    }

    #[test]
    fn an_empty_query_gives_a_blank_form() {
        let e = entry_from_query("");
        assert!(e.citation.is_none() && e.identifier.is_none());
    }
}
