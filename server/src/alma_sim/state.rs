//! The simulated institution: users, borrowing and lending requests, the
//! user requests linked to borrowing requests, loans, partners, the API
//! meter and the fault switch. All behind one `Arc`, so a stopped simulator's
//! state can be served again.
//!
//! Status progression is computed lazily: whenever the data is locked, every
//! borrowing request that has waited `progress_every` since its last step
//! takes the next one (several if several intervals passed). Each step is
//! anchored at the previous one, so the outcome depends only on elapsed time.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{Fault, NewSimLoan, SimConfig, SimStats};

/// Which of Alma's two renderings of absent members a record uses: the 2018
/// one with every member present as `null`, or the 2025 one that leaves them
/// out (`{}`, `{"desc": ""}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NullStyle {
    Nulls,
    Omit,
}

/// An RS request, borrowing (a user's) or lending (a partner's).
#[derive(Clone, Debug)]
pub(crate) struct RsRequest {
    pub id: String,
    pub lending: bool,
    /// The requester of a borrowing request.
    pub user_id: Option<String>,
    pub external_id: String,
    pub status: String,
    pub partner: Option<String>,
    /// Input members as sent: strings, booleans and numbers unchanged;
    /// code-table members (`format`, `citation_type`, …) reduced to their code.
    pub fields: Map<String, Value>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub user_request_id: Option<String>,
    pub style: NullStyle,
    /// When the status last changed (progression counts from here).
    pub anchor: Instant,
    pub shipping_cost: Option<f64>,
    pub printed: bool,
    pub reported: bool,
    pub loan_id: Option<String>,
}

impl RsRequest {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    pub fn format(&self) -> &str {
        self.field("format").unwrap_or("PHYSICAL")
    }

    pub fn title(&self) -> Option<&str> {
        self.field("title").or_else(|| self.field("journal_title"))
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Loan {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub author: Option<String>,
    pub barcode: String,
    pub mms_id: String,
    pub loan_date: DateTime<Utc>,
    pub due: DateTime<Utc>,
    pub renewable: bool,
    pub renewals: u32,
    pub last_renew: Option<DateTime<Utc>>,
    pub rs_request_id: Option<String>,
    pub returned: Option<DateTime<Utc>>,
    pub style: NullStyle,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct User {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
}

#[derive(Default)]
pub(crate) struct Data {
    pub users: BTreeMap<String, User>,
    /// Borrowing requests by request id.
    pub borrowing: BTreeMap<String, RsRequest>,
    /// Lending requests by request id.
    pub lending: BTreeMap<String, RsRequest>,
    /// User request id → borrowing request id.
    pub user_requests: BTreeMap<String, String>,
    pub loans: BTreeMap<String, Loan>,
    /// Partner records as stored (by code).
    pub partners: BTreeMap<String, Value>,
    seq: u64,
    /// Records made per kind, for alternating null styles.
    styles: [u64; 5],
}

/// Id kinds, the first digit of generated ids.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    Borrowing = 1,
    UserRequest = 2,
    Loan = 3,
    Lending = 4,
}

impl Data {
    /// A fresh Alma-like numeric id (`1` + counter + institution suffix).
    pub fn next_id(&mut self, kind: IdKind) -> String {
        self.seq += 1;
        format!("{}{:09}04146", kind as u8, self.seq)
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Alternates null styles between records of a kind.
    pub fn next_style(&mut self, kind: IdKind) -> NullStyle {
        let n = &mut self.styles[kind as usize];
        *n += 1;
        if *n % 2 == 1 {
            NullStyle::Nulls
        } else {
            NullStyle::Omit
        }
    }

    pub fn ensure_user(&mut self, user_id: &str) {
        self.users.entry(user_id.to_string()).or_default();
    }

    /// A new request in `status`, created now.
    pub fn new_request(
        &mut self,
        lending: bool,
        user_id: Option<String>,
        external_id: String,
        status: &str,
        partner: Option<String>,
        fields: Map<String, Value>,
    ) -> RsRequest {
        let kind = if lending {
            IdKind::Lending
        } else {
            IdKind::Borrowing
        };
        let id = self.next_id(kind);
        let style = self.next_style(kind);
        let now = Utc::now();
        RsRequest {
            id,
            lending,
            user_id,
            external_id,
            status: status.to_string(),
            partner,
            fields,
            created: now,
            modified: now,
            user_request_id: None,
            style,
            anchor: Instant::now(),
            shipping_cost: None,
            printed: false,
            reported: false,
            loan_id: None,
        }
    }

    /// Stores a borrowing request with its user request.
    pub fn insert_borrowing(&mut self, mut r: RsRequest) -> String {
        let ur = self.next_id(IdKind::UserRequest);
        r.user_request_id = Some(ur.clone());
        let id = r.id.clone();
        self.user_requests.insert(ur, id.clone());
        self.borrowing.insert(id.clone(), r);
        id
    }

    /// Moves borrowing requests along the workflow, `every` per step.
    pub fn advance(&mut self, now: Instant, every: Option<Duration>) {
        let Some(every) = every.filter(|d| !d.is_zero()) else {
            return;
        };
        let due: Vec<String> = self
            .borrowing
            .values()
            .filter(|r| next_step(&r.status, r.format()).is_some())
            .filter(|r| now.saturating_duration_since(r.anchor) >= every)
            .map(|r| r.id.clone())
            .collect();
        for id in due {
            loop {
                let Some(r) = self.borrowing.get(&id) else {
                    break;
                };
                let Some(next) = next_step(&r.status, r.format()) else {
                    break;
                };
                if now.saturating_duration_since(r.anchor) < every {
                    break;
                }
                let anchor = r.anchor + every;
                self.transition(&id, next);
                if let Some(r) = self.borrowing.get_mut(&id) {
                    r.anchor = anchor;
                }
            }
        }
    }

    /// Sets a borrowing request's status with its side effects: a partner
    /// is located at `READY_TO_SEND`, `LOANED` lends the item to the
    /// requester, returns complete the loan. Returns false for an unknown id.
    pub fn transition(&mut self, id: &str, status: &str) -> bool {
        let now = Utc::now();
        let first_partner = self.partners.keys().next().cloned();
        let Some(r) = self.borrowing.get_mut(id) else {
            return false;
        };
        r.status = status.to_string();
        r.modified = now;
        r.anchor = Instant::now();
        if r.partner.is_none() && !matches!(status, "REQUEST_CREATED_BOR" | "LOCATE_IN_PROCESS") {
            r.partner = first_partner;
        }
        match status {
            "LOANED" if r.loan_id.is_none() => {
                let r = r.clone();
                let loan = NewSimLoan {
                    user_id: r.user_id.clone().unwrap_or_default(),
                    title: r.title().unwrap_or("").to_string(),
                    author: r.field("author").map(str::to_string),
                    due_in_days: 28,
                    renewable: true,
                    rs_request_id: Some(r.id.clone()),
                };
                self.insert_loan(loan);
            }
            "RETURNED_BY_PATRON" | "RETURNED_TO_PARTNER" | "REQUEST_COMPLETED" => {
                if let Some(loan) = r.loan_id.clone().and_then(|l| self.loans.get_mut(&l)) {
                    loan.returned.get_or_insert(now);
                }
            }
            _ => {}
        }
        true
    }

    pub fn insert_loan(&mut self, new: NewSimLoan) -> String {
        let id = self.next_id(IdKind::Loan);
        let seq = self.seq;
        let style = self.next_style(IdKind::Loan);
        self.ensure_user(&new.user_id);
        let now = Utc::now();
        let mms_id = match new
            .rs_request_id
            .as_ref()
            .and_then(|r| self.borrowing.get(r))
        {
            Some(r) => r.field("mms_id").map(str::to_string),
            None => None,
        }
        .unwrap_or_else(|| format!("99{:010}04146", seq));
        let loan = Loan {
            id: id.clone(),
            user_id: new.user_id,
            title: new.title,
            author: new.author,
            barcode: format!("RS-{seq:08}"),
            mms_id,
            loan_date: now,
            due: now + chrono::Duration::days(new.due_in_days),
            renewable: new.renewable,
            renewals: 0,
            last_renew: None,
            rs_request_id: new.rs_request_id.clone(),
            returned: None,
            style,
        };
        if let Some(r) = new.rs_request_id.and_then(|r| self.borrowing.get_mut(&r)) {
            r.loan_id = Some(id.clone());
        }
        self.loans.insert(id.clone(), loan);
        id
    }
}

/// The next automatic workflow step after `status`, if any.
pub(crate) fn next_step(status: &str, format: &str) -> Option<&'static str> {
    let digital = format == "DIGITAL";
    Some(match status {
        "REQUEST_CREATED_BOR" => "LOCATE_IN_PROCESS",
        "LOCATE_IN_PROCESS" => "READY_TO_SEND",
        "READY_TO_SEND" => "REQUEST_SENT",
        "REQUEST_SENT" if digital => "SHIPPED_DIGITALLY",
        "REQUEST_SENT" => "SHIPPED_PHYSICALLY",
        "SHIPPED_DIGITALLY" => "RECEIVED_DIGITALLY",
        "SHIPPED_PHYSICALLY" => "RECEIVED_PHYSICALLY",
        "RECEIVED_PHYSICALLY" => "LOANED",
        _ => return None,
    })
}

/// Borrowing statuses after which the linked user request is history.
pub(crate) fn is_final(status: &str) -> bool {
    matches!(
        status,
        "LOANED"
            | "RECEIVED_DIGITALLY"
            | "RETURNED_BY_PATRON"
            | "RETURNED_TO_PARTNER"
            | "REQUEST_COMPLETED"
            | "REJECTED"
            | "EXPIRED"
            | "CANCELED_BY_PATRON"
            | "CANCELED_BY_STAFF"
            | "CANCELED_BY_PARTNER"
            | "DELETED"
            | "HISTORY"
    )
}

/// The per-call meter: the sliding window, the daily budget, statistics.
pub(crate) struct Meter {
    /// Admitted calls in the last second.
    window: VecDeque<Instant>,
    /// All calls in the last second (for `max_calls_in_any_second`).
    received: VecDeque<Instant>,
    pub stats: SimStats,
}

/// What the meter says about a call.
pub(crate) enum Admission {
    Admitted { remaining: u64 },
    OverThreshold,
    OverDailyBudget,
}

fn prune(q: &mut VecDeque<Instant>, now: Instant) {
    while q
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
    {
        q.pop_front();
    }
}

impl Meter {
    fn new(daily_budget: u64) -> Meter {
        Meter {
            window: VecDeque::new(),
            received: VecDeque::new(),
            stats: SimStats {
                remaining: daily_budget,
                ..SimStats::default()
            },
        }
    }

    /// Counts a received call.
    pub fn receive(&mut self, route: String) {
        let now = Instant::now();
        self.stats.calls += 1;
        *self.stats.calls_by_route.entry(route).or_default() += 1;
        prune(&mut self.received, now);
        self.received.push_back(now);
        self.stats.max_calls_in_any_second = self
            .stats
            .max_calls_in_any_second
            .max(self.received.len() as u64);
    }

    /// Admits an authenticated call or refuses it (429).
    pub fn admit(&mut self, threshold: u32, forced_throttle: bool) -> Admission {
        let now = Instant::now();
        prune(&mut self.window, now);
        if forced_throttle || self.window.len() >= threshold as usize {
            self.stats.throttled += 1;
            return Admission::OverThreshold;
        }
        if self.stats.remaining == 0 {
            self.stats.throttled += 1;
            return Admission::OverDailyBudget;
        }
        self.window.push_back(now);
        self.stats.remaining -= 1;
        Admission::Admitted {
            remaining: self.stats.remaining,
        }
    }
}

struct Inner {
    /// Alma Analytics reports by path, and the pages handed out.
    analytics: Mutex<super::analytics::Reports>,
    config: Mutex<SimConfig>,
    data: Mutex<Data>,
    meter: Mutex<Meter>,
    fault: Mutex<Fault>,
    link_base: Mutex<String>,
}

/// The simulated institution, shared by the servers that serve it.
#[derive(Clone)]
pub struct SimState(Arc<Inner>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SimState {
    pub fn new(config: SimConfig) -> SimState {
        SimState(Arc::new(Inner {
            analytics: Mutex::new(super::analytics::Reports::with_demo()),
            meter: Mutex::new(Meter::new(config.daily_budget)),
            config: Mutex::new(config),
            data: Mutex::new(Data::default()),
            fault: Mutex::new(Fault::None),
            link_base: Mutex::new("http://127.0.0.1".into()),
        }))
    }

    /// Runs `f` on the Analytics reports.
    pub fn analytics<T>(&self, f: impl FnOnce(&mut super::analytics::Reports) -> T) -> T {
        f(&mut lock(&self.0.analytics))
    }

    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.0.fault) = fault;
    }

    pub fn fault(&self) -> Fault {
        *lock(&self.0.fault)
    }

    /// Moves an RS request to `status_code` (a staff member or the partner
    /// acting): any code of the workflow code tables. For a borrowing request
    /// `LOANED` creates the loan and returns complete it; a lending request
    /// just takes the status. False for an unknown request or code.
    pub fn set_status(&self, request_id: &str, status_code: &str) -> bool {
        if super::render::status_desc(status_code).is_none() {
            return false;
        }
        let mut data = self.data();
        if let Some(r) = data.lending.get_mut(request_id) {
            r.status = status_code.to_string();
            r.modified = Utc::now();
            return true;
        }
        data.transition(request_id, status_code)
    }

    /// Lends an item to a user; returns the loan id.
    pub fn add_loan(&self, loan: NewSimLoan) -> String {
        self.data().insert_loan(loan)
    }

    /// Makes a user exist (matters with `strict_users`).
    pub fn add_user(&self, user_id: &str) {
        self.data().ensure_user(user_id);
    }

    pub fn stats(&self) -> SimStats {
        lock(&self.0.meter).stats.clone()
    }

    /// Counts a create call that reached its handler.
    pub fn count_create(&self) {
        lock(&self.0.meter).stats.creates_handled += 1;
    }

    /// Zeroes the counters and refills the daily budget.
    pub fn reset_stats(&self) {
        let budget = self.config().daily_budget;
        *lock(&self.0.meter) = Meter::new(budget);
    }

    pub fn config(&self) -> SimConfig {
        lock(&self.0.config).clone()
    }

    /// Changes the configuration. A new `daily_budget` refills the budget; a
    /// new `progress_every` applies from now (requests first take the steps
    /// already due under the old one).
    pub fn update_config(&self, f: impl FnOnce(&mut SimConfig)) {
        let mut data = self.data();
        let mut config = lock(&self.0.config);
        let before = config.clone();
        f(&mut config);
        if config.daily_budget != before.daily_budget {
            lock(&self.0.meter).stats.remaining = config.daily_budget;
        }
        if config.progress_every != before.progress_every {
            let now = Instant::now();
            for r in data.borrowing.values_mut() {
                r.anchor = now;
            }
        }
    }

    /// The data, with progression brought up to date.
    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        let every = lock(&self.0.config).progress_every;
        let mut data = lock(&self.0.data);
        data.advance(Instant::now(), every);
        data
    }

    pub(crate) fn meter(&self) -> MutexGuard<'_, Meter> {
        lock(&self.0.meter)
    }

    pub(crate) fn set_link_base(&self, base: &str) {
        *lock(&self.0.link_base) = base.to_string();
    }

    /// `http://host:port/almaws/v1`, for `link` members.
    pub(crate) fn api_base(&self) -> String {
        format!("{}/almaws/v1", lock(&self.0.link_base))
    }
}
