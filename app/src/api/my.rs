//! The My requests page's calls: the patron's requests and ILL loans, and
//! the two things a patron can do to them (cancel a request, renew a loan).
//! Whether an action is offered, and why not, is decided here from the
//! library's rules, so the page only shows what the server says.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{BorrowingRequest, CitationType, Format, IllLoan, PatronStatus};
use crate::port::{PortError, Refusal};
use crate::settings::RequestRules;

/// A request as the patron sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    pub id: String,
    pub title: String,
    pub authors: Option<String>,
    pub kind: Option<CitationType>,
    pub status: PatronStatus,
    #[serde(with = "crate::domain::date::ymd")]
    pub requested: NaiveDate,
    pub format: Format,
    pub pickup_location: Option<String>,
    pub cancellable: bool,
    /// Why cancelling is not offered (a translation key), for active ones.
    pub not_cancellable_key: Option<String>,
    /// Kauko has it but the library system does not yet (received, being
    /// forwarded); `id` is then Kauko's reference.
    #[serde(default)]
    pub received: bool,
    /// Received, but the library system refused it for good: the staff
    /// have it (with the error) and will be in touch.
    #[serde(default)]
    pub not_forwarded: bool,
}

/// An ILL loan as the patron sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoanRow {
    pub id: String,
    pub title: String,
    pub author: Option<String>,
    #[serde(with = "crate::domain::date::ymd")]
    pub loaned: NaiveDate,
    #[serde(with = "crate::domain::date::ymd")]
    pub due: NaiveDate,
    pub overdue: bool,
    pub renewals: u32,
    pub renewable: bool,
    /// Why renewing is not offered (a translation key).
    pub not_renewable_key: Option<String>,
    /// A renewal asked for and not answered yet.
    #[serde(default)]
    pub renewal_asked: bool,
}

/// What can be shown of the patron's requests and loans. Each part fails on
/// its own (with a translation key), so one broken call hides nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequests {
    /// Submissions Kauko holds that the library system does not have yet
    /// (shown first among the active ones, also when the library system
    /// cannot be asked).
    #[serde(default)]
    pub received: Vec<RequestRow>,
    pub active: Result<Vec<RequestRow>, String>,
    pub history: Result<Vec<RequestRow>, String>,
    pub loans: Result<Vec<LoanRow>, String>,
    /// How old the lists are, in minutes, when they come from the
    /// adapter's copy (Alma's mirror) and that copy is stale; none when
    /// they are current.
    #[serde(default)]
    pub age_minutes: Option<i64>,
    /// The copy is stale: the page asks for a fresh one (`fresh = true`).
    #[serde(default)]
    pub stale: bool,
    /// The library system could not be asked the last time: the lists may
    /// be out of date.
    #[serde(default)]
    pub unreachable: bool,
}

/// The result of cancelling or renewing: a translation key and, for a
/// renewal, the new due date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionResult {
    pub ok: bool,
    pub message_key: String,
    #[serde(default, with = "crate::domain::date::ymd_opt")]
    pub due: Option<NaiveDate>,
}

impl ActionResult {
    /// The query that shows this result on the page a form without
    /// JavaScript returns to (`notice=…&ok=1&due=…`).
    pub fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("notice", &self.message_key);
        q.append_pair("ok", if self.ok { "1" } else { "0" });
        if let Some(due) = self.due {
            q.append_pair("due", &crate::domain::date::format_ymd(due));
        }
        q.finish()
    }

    /// Reads [`ActionResult::query`] back; only the keys of My requests'
    /// messages and refusals, so the URL cannot put other text on the
    /// page.
    pub fn from_query(query: &str) -> Option<Self> {
        let mut result = None::<Self>;
        let mut ok = false;
        let mut due = None;
        for (k, v) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            match k.as_ref() {
                "notice"
                    if (v.starts_with("my.") || v.starts_with("refusal."))
                        && v.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') =>
                {
                    result = Some(Self {
                        ok: false,
                        message_key: v.into_owned(),
                        due: None,
                    })
                }
                "ok" => ok = v == "1",
                "due" => due = crate::domain::date::parse_ymd(&v),
                _ => {}
            }
        }
        result.map(|r| Self { ok, due, ..r })
    }
}

/// Where a form sent without JavaScript from My requests or a request's
/// page returns: that page (from the Referer, only `/my` or `/my/{id}`),
/// with the result to show.
#[cfg(feature = "ssr")]
fn answer_plain_form(result: &Result<ActionResult, ServerFnError>) {
    if !super::ssr::plain_form() {
        return;
    }
    let back = use_context::<http::request::Parts>()
        .and_then(|p| p.headers.get(http::header::REFERER).cloned())
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .and_then(|referer| {
            let after_scheme = referer
                .split_once("://")
                .map_or(referer.as_str(), |(_, r)| r);
            let path = after_scheme.find('/').map(|i| &after_scheme[i..])?;
            let path = path.split(['?', '#']).next()?.to_owned();
            let ok = path == "/my"
                || path.strip_prefix("/my/").is_some_and(|id| {
                    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            ok.then_some(path)
        })
        .unwrap_or_else(|| "/my".to_owned());
    let shown = match result {
        Ok(r) => r.clone(),
        Err(_) => ActionResult {
            ok: false,
            message_key: "my.error.action".into(),
            due: None,
        },
    };
    super::ssr::redirect_form(&format!("{back}?{}", shown.query()));
}

/// The patron-facing explanation of a port failure.
pub fn failure_key(e: &PortError) -> &'static str {
    match e {
        PortError::Unavailable(_) => "my.error.unavailable",
        PortError::RateLimited => "my.error.busy",
        PortError::Refused(r) => r.message_key(),
        PortError::NotFound => "my.error.not_found",
        PortError::Unauthorized(_)
        | PortError::Other(_)
        | PortError::Invalid(_)
        | PortError::Duplicate(_) => "my.error.backend",
    }
}

pub fn request_row(r: &BorrowingRequest, rules: &RequestRules) -> RequestRow {
    let status = r.status.patron_status();
    let cancellable = !status.is_final() && rules.may_cancel(&r.status);
    RequestRow {
        id: r.id.clone(),
        title: r.citation.title.clone(),
        authors: r.citation.authors_joined(),
        kind: r.citation.kind,
        status,
        requested: r.created_at.date_naive(),
        format: r.format,
        pickup_location: r.pickup_location.clone(),
        cancellable,
        not_cancellable_key: (!cancellable && !status.is_final())
            .then(|| Refusal::NotCancellable.message_key().to_owned()),
        received: false,
        not_forwarded: false,
    }
}

/// A submission still in Kauko's outbox, as a row of the active requests.
pub fn received_row(p: &crate::outbox::PendingSubmission) -> RequestRow {
    RequestRow {
        id: p.reference.clone(),
        title: p.title.clone(),
        authors: p.authors.clone(),
        kind: p.kind,
        status: PatronStatus::Submitted,
        requested: p.created,
        format: p.format,
        pickup_location: p.pickup_location.clone(),
        // Still only in Kauko: the patron may withdraw it (one the library
        // system refused shows what staff will do instead).
        cancellable: !p.failed,
        not_cancellable_key: p.failed.then(|| "my.not_forwarded.help".to_owned()),
        received: true,
        not_forwarded: p.failed,
    }
}

pub fn loan_row(l: &IllLoan, rules: &RequestRules, today: NaiveDate) -> LoanRow {
    let not_renewable = if l.renewal_requested {
        None
    } else if !l.renewable {
        Some(Refusal::NotRenewable)
    } else if l.renewals >= rules.max_renewals {
        Some(Refusal::RenewalLimitReached)
    } else {
        None
    };
    let due = l.due_date.date_naive();
    LoanRow {
        id: l.id.clone(),
        title: l.title.clone(),
        author: l.author.clone(),
        loaned: l.loan_date.date_naive(),
        due,
        overdue: due < today,
        renewals: l.renewals,
        renewable: not_renewable.is_none() && !l.renewal_requested,
        not_renewable_key: if l.renewal_requested {
            Some("my.renew.asked".to_owned())
        } else {
            not_renewable.map(|r| r.message_key().to_owned())
        },
        renewal_asked: l.renewal_requested,
    }
}

/// The signed-in patron's requests (active and history) and loans: from
/// the adapter's copy when it keeps one (at once, with its age when
/// stale), read again from the library system first when `fresh`.
#[server(endpoint = "me/requests", output = crate::api::codec::Answer)]
pub async fn load_my_requests(#[server(default)] fresh: bool) -> Result<MyRequests, ServerFnError> {
    let patron = super::ssr::require_patron()?;
    let port = super::ssr::port()?;
    let rules = super::ssr::rules();
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let outbox = super::ssr::outbox().ok();
    // Read again just now: current, whatever the copy's threshold.
    let refreshed = fresh
        && match port.refresh(&patron).await {
            Ok(()) => true,
            Err(e) => {
                leptos::logging::warn!("my requests: refresh: {e}");
                false
            }
        };
    let snapshot = match port.snapshot(&patron).await {
        Ok(s) => s,
        Err(e) => {
            leptos::logging::warn!("my requests: snapshot: {e}");
            None
        }
    };
    let freshness = snapshot.as_ref().and_then(|s| s.freshness);
    let (requests, loans) = match snapshot {
        Some(s) => (Ok(s.requests), Ok(s.loans)),
        None => futures::join!(
            port.list_borrowing_requests(&patron),
            port.list_loans(&patron)
        ),
    };
    let received = match &outbox {
        Some(outbox) => match outbox.pending_for_patron(&patron).await {
            Ok(list) => list.iter().map(received_row).collect(),
            Err(e) => {
                leptos::logging::warn!("my requests: outbox: {e}");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let log = |what: &str, e: &PortError| leptos::logging::warn!("my requests: {what}: {e}");
    let (active, history) = match requests {
        Ok(list) => {
            let (history, active): (Vec<_>, Vec<_>) = list
                .iter()
                .map(|r| request_row(r, &rules))
                .partition(|r| r.status.is_final());
            (Ok(active), Ok(history))
        }
        Err(e) => {
            log("requests", &e);
            let key = failure_key(&e).to_owned();
            (Err(key.clone()), Err(key))
        }
    };
    let loans = loans
        .map(|list| list.iter().map(|l| loan_row(l, &rules, today)).collect())
        .map_err(|e| {
            log("loans", &e);
            failure_key(&e).to_owned()
        });
    let stale = !refreshed && freshness.is_some_and(|f| f.stale || f.unreachable);
    Ok(MyRequests {
        received,
        active,
        history,
        loans,
        age_minutes: freshness
            .filter(|_| stale)
            .map(|f| (now - f.as_of).num_minutes().max(0)),
        stale,
        unreachable: freshness.is_some_and(|f| f.unreachable),
    })
}

/// Cancels one of the patron's requests, when the rules allow; one that is
/// still waiting in Kauko's outbox is withdrawn there.
#[server(endpoint = "me/cancel", output = crate::api::codec::Answer)]
pub async fn cancel_request(id: String) -> Result<ActionResult, ServerFnError> {
    let result = cancel_inner(id).await;
    answer_plain_form(&result);
    result
}

#[cfg(feature = "ssr")]
async fn cancel_inner(id: String) -> Result<ActionResult, ServerFnError> {
    let patron = super::ssr::require_patron()?;
    let port = super::ssr::port()?;
    let rules = super::ssr::rules();
    let refused = |e: PortError| ActionResult {
        ok: false,
        message_key: failure_key(&e).to_owned(),
        due: None,
    };
    // A submission still waiting in Kauko (its id is the reference shown):
    // withdrawn there, and never delivered.
    if super::ssr::outbox()?
        .cancel_waiting(&patron, &id)
        .await
        .map_err(super::ssr::outbox_error)?
    {
        return Ok(ActionResult {
            ok: true,
            message_key: "my.cancelled".into(),
            due: None,
        });
    }
    let request = match port.get_borrowing_request(&patron, &id).await {
        Ok(r) => r,
        Err(e) => return Ok(refused(e)),
    };
    if !rules.may_cancel(&request.status) {
        return Ok(refused(PortError::Refused(Refusal::NotCancellable)));
    }
    Ok(match port.cancel_borrowing_request(&patron, &id).await {
        Ok(_) => ActionResult {
            ok: true,
            message_key: "my.cancelled".into(),
            due: None,
        },
        Err(e) => refused(e),
    })
}

/// Renews one of the patron's ILL loans, when the lender allows.
#[server(endpoint = "me/renew", output = crate::api::codec::Answer)]
pub async fn renew_loan(id: String) -> Result<ActionResult, ServerFnError> {
    let result = renew_inner(id).await;
    answer_plain_form(&result);
    result
}

#[cfg(feature = "ssr")]
async fn renew_inner(id: String) -> Result<ActionResult, ServerFnError> {
    let patron = super::ssr::require_patron()?;
    let port = super::ssr::port()?;
    Ok(match port.renew_loan(&patron, &id).await {
        // Where renewing is a request to the lending library, the patron
        // is told it was asked; the due date moves when it is granted.
        Ok(loan) if loan.renewal_requested => ActionResult {
            ok: true,
            message_key: "my.renew.asked_ok".into(),
            due: None,
        },
        Ok(loan) => ActionResult {
            ok: true,
            message_key: "my.renewed".into(),
            due: Some(loan.due_date.date_naive()),
        },
        Err(e) => ActionResult {
            ok: false,
            message_key: failure_key(&e).to_owned(),
            due: None,
        },
    })
}

/// Requests' histories (the server reads them from its database).
#[async_trait::async_trait]
pub trait RequestHistory: Send + Sync {
    async fn events(
        &self,
        side: crate::domain::history::Side,
        request_id: &str,
    ) -> Result<Vec<crate::domain::history::RequestEvent>, String>;

    /// The letters sent about a request, oldest first.
    async fn letters(
        &self,
        _side: crate::domain::history::Side,
        _request_id: &str,
    ) -> Result<Vec<PatronLetter>, String> {
        Ok(Vec::new())
    }
}

/// A letter sent to the patron about a request, as they read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatronLetter {
    /// RFC 3339, UTC.
    pub sent_at: String,
    pub subject: String,
    pub text: String,
}

/// One request's page for the patron: the request, its history in their
/// words, what happens next, and the loan it became.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequest {
    pub row: RequestRow,
    pub citation: crate::domain::Citation,
    pub timeline: Vec<crate::domain::history::PatronStep>,
    /// Translation key of what happens next.
    pub next_key: String,
    pub loan: Option<LoanRow>,
    /// The letters Kauko sent about it.
    pub letters: Vec<PatronLetter>,
}

/// What the patron can expect next, by status.
pub fn next_key(status: PatronStatus) -> &'static str {
    match status {
        PatronStatus::Submitted => "next.submitted",
        PatronStatus::InProcess => "next.in_process",
        PatronStatus::CancellationRequested => "next.cancellation_requested",
        PatronStatus::OnItsWay => "next.on_its_way",
        PatronStatus::ReadyForPickup => "next.ready_for_pickup",
        PatronStatus::AvailableOnline => "next.available_online",
        PatronStatus::OnLoan => "next.on_loan",
        PatronStatus::Recalled => "next.recalled",
        PatronStatus::Overdue => "next.overdue",
        PatronStatus::Completed | PatronStatus::NotFilled | PatronStatus::Cancelled => "next.done",
    }
}

/// One of the signed-in patron's requests (another patron's is "not
/// found", like one that does not exist).
#[server(endpoint = "me/request", output = crate::api::codec::Answer)]
pub async fn load_my_request(id: String) -> Result<MyRequest, ServerFnError> {
    use crate::domain::history::{patron_timeline, Side};
    let patron = super::ssr::require_patron()?;
    let port = super::ssr::port()?;
    let rules = super::ssr::rules();
    let request = port
        .get_borrowing_request(&patron, &id)
        .await
        .map_err(super::ssr::port_error)?;
    let (events, letters) = match use_context::<std::sync::Arc<dyn RequestHistory>>() {
        Some(h) => (
            h.events(Side::Borrowing, &request.id)
                .await
                .unwrap_or_else(|e| {
                    leptos::logging::warn!("my request: history: {e}");
                    Vec::new()
                }),
            h.letters(Side::Borrowing, &request.id)
                .await
                .unwrap_or_else(|e| {
                    leptos::logging::warn!("my request: letters: {e}");
                    Vec::new()
                }),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let today = chrono::Utc::now().date_naive();
    let loan = port
        .list_loans(&patron)
        .await
        .ok()
        .and_then(|loans| {
            loans
                .into_iter()
                .find(|l| l.request_id.as_deref() == Some(request.id.as_str()))
        })
        .map(|l| loan_row(&l, &rules, today));
    let row = request_row(&request, &rules);
    Ok(MyRequest {
        next_key: next_key(row.status).to_owned(),
        citation: request.citation.clone(),
        timeline: patron_timeline(&events),
        row,
        loan,
        letters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BorrowingStatus, Citation, PatronId};
    use chrono::{TimeZone, Utc};

    fn request(status: BorrowingStatus) -> BorrowingRequest {
        BorrowingRequest {
            id: "r1".into(),
            external_id: "e1".into(),
            patron_id: PatronId("p".into()),
            citation: Citation {
                kind: Some(CitationType::Book),
                title: "T".into(),
                ..Default::default()
            },
            format: Format::Physical,
            pickup_location: Some("MAIN".into()),
            needed_by: None,
            note: None,
            status,
            created_at: Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap(),
            updated_at: Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn cancelling_is_offered_only_before_staff_start() {
        let rules = RequestRules::default();
        let row = request_row(&request(BorrowingStatus::RequestCreated), &rules);
        assert!(row.cancellable);
        assert_eq!(row.not_cancellable_key, None);
        let row = request_row(&request(BorrowingStatus::RequestSent), &rules);
        assert!(!row.cancellable);
        assert_eq!(
            row.not_cancellable_key.as_deref(),
            Some("refusal.not_cancellable")
        );
        let row = request_row(&request(BorrowingStatus::Completed), &rules);
        assert!(!row.cancellable);
        assert_eq!(
            row.not_cancellable_key, None,
            "history needs no explanation"
        );
    }

    #[test]
    fn renewing_says_why_not() {
        let rules = RequestRules::default();
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let mut loan = IllLoan {
            id: "l1".into(),
            request_id: None,
            title: "T".into(),
            author: None,
            loan_date: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            due_date: Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap(),
            renewable: true,
            renewals: 0,
            renewal_requested: false,
        };
        let row = loan_row(&loan, &rules, today);
        assert!(row.renewable && row.overdue);
        loan.renewals = 2;
        assert_eq!(
            loan_row(&loan, &rules, today).not_renewable_key.as_deref(),
            Some("refusal.renewal_limit")
        );
        loan.renewable = false;
        assert_eq!(
            loan_row(&loan, &rules, today).not_renewable_key.as_deref(),
            Some("refusal.not_renewable")
        );
    }

    #[test]
    fn every_failure_has_a_message() {
        for e in [
            PortError::Unavailable("x".into()),
            PortError::RateLimited,
            PortError::NotFound,
            PortError::Unauthorized("k".into()),
            PortError::Refused(Refusal::NotRenewable),
        ] {
            let key = failure_key(&e);
            for lang in crate::i18n::Lang::ALL {
                assert!(crate::i18n::has_key(lang, key), "{key} in {lang:?}");
            }
        }
    }
}
