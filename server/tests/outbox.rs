//! The durable outbox on SQLite and PostgreSQL: a double submit is one
//! request; a library system that is down for a while gets each request
//! once when it is back (also when an answer was lost on the way); a
//! permanent error is not retried until staff ask; an expired lease (a
//! killed worker) is picked up again without a duplicate; two workers on
//! one database racing for the same rows deliver each exactly once; and
//! over HTTP a patron whose request could not be forwarded yet is told so,
//! sees it in My requests, and staff can retry it.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::domain::{
    BorrowingRequest, Citation, CitationType, FieldError, Format, IllLoan, LendingRequest,
    NewBorrowingRequest, NewLendingRequest, Partner, PartnerProfile, PartnerStatus, PatronId,
    RequesterContact, ServiceType,
};
use app::outbox::{DeliveryState, SubmissionOutbox, Submitted};
use async_trait::async_trait;
use server::adapters::local::{LocalBackend, LocalRules};
use server::outbox::{Outbox, OutboxSettings};
use server::port::{Page, PortError, PortResult, ResourceSharing};
use server::storage::Db;

/// What the test adapter does to creates, and what it saw.
#[derive(Default)]
struct Script {
    /// Creates that fail with `Unavailable` (nothing stored) first.
    fail: AtomicU32,
    /// Creates that are stored but whose answer is lost (`Unavailable`).
    lose_answer: AtomicU32,
    /// A permanent error for every create while set.
    refuse: Mutex<Option<PortError>>,
    /// How long each create takes.
    delay_ms: AtomicU32,
    /// Create calls per external id, failed ones included.
    creates: Mutex<HashMap<String, u32>>,
}

impl Script {
    fn creates_of(&self, key: &str) -> u32 {
        self.creates.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    fn total_creates(&self) -> u32 {
        self.creates.lock().unwrap().values().sum()
    }

    async fn before_create(&self, key: &str) -> PortResult<()> {
        *self
            .creates
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default() += 1;
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
        }
        let take = |n: &AtomicU32| {
            n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
                .is_ok()
        };
        if take(&self.fail) {
            return Err(PortError::Unavailable("test: library system down".into()));
        }
        if let Some(e) = self.refuse.lock().unwrap().clone() {
            return Err(e);
        }
        Ok(())
    }

    fn lost(&self) -> bool {
        self.lose_answer
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
            .is_ok()
    }
}

/// The local adapter, failing creates as the script says.
struct Flaky {
    inner: Arc<dyn ResourceSharing>,
    script: Arc<Script>,
}

#[async_trait]
impl ResourceSharing for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }
    async fn ping(&self) -> PortResult<()> {
        self.inner.ping().await
    }
    async fn create_borrowing_request(
        &self,
        patron: &PatronId,
        request: NewBorrowingRequest,
    ) -> PortResult<BorrowingRequest> {
        self.script.before_create(&request.external_id).await?;
        let created = self.inner.create_borrowing_request(patron, request).await?;
        if self.script.lost() {
            return Err(PortError::Unavailable("test: answer lost".into()));
        }
        Ok(created)
    }
    async fn get_borrowing_request(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<BorrowingRequest> {
        self.inner.get_borrowing_request(patron, id).await
    }
    async fn find_borrowing_request_by_external_id(
        &self,
        patron: &PatronId,
        external_id: &str,
    ) -> PortResult<Option<BorrowingRequest>> {
        self.inner
            .find_borrowing_request_by_external_id(patron, external_id)
            .await
    }
    async fn cancel_borrowing_request(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<BorrowingRequest> {
        self.inner.cancel_borrowing_request(patron, id).await
    }
    async fn list_borrowing_requests(
        &self,
        patron: &PatronId,
    ) -> PortResult<Vec<BorrowingRequest>> {
        self.inner.list_borrowing_requests(patron).await
    }
    async fn list_loans(&self, patron: &PatronId) -> PortResult<Vec<IllLoan>> {
        self.inner.list_loans(patron).await
    }
    async fn renew_loan(&self, patron: &PatronId, loan_id: &str) -> PortResult<IllLoan> {
        self.inner.renew_loan(patron, loan_id).await
    }
    async fn create_lending_request(
        &self,
        request: NewLendingRequest,
    ) -> PortResult<LendingRequest> {
        self.script.before_create(&request.external_id).await?;
        let created = self.inner.create_lending_request(request).await?;
        if self.script.lost() {
            return Err(PortError::Unavailable("test: answer lost".into()));
        }
        Ok(created)
    }
    async fn get_lending_request(
        &self,
        partner_code: &str,
        id: &str,
    ) -> PortResult<LendingRequest> {
        self.inner.get_lending_request(partner_code, id).await
    }
    async fn find_lending_request_by_external_id(
        &self,
        partner_code: &str,
        external_id: &str,
    ) -> PortResult<Option<LendingRequest>> {
        self.inner
            .find_lending_request_by_external_id(partner_code, external_id)
            .await
    }
    async fn list_partners(&self, offset: u64, limit: u64) -> PortResult<Page<Partner>> {
        self.inner.list_partners(offset, limit).await
    }
    async fn get_partner(&self, code: &str) -> PortResult<Partner> {
        self.inner.get_partner(code).await
    }
    async fn create_partner(&self, partner: Partner) -> PortResult<Partner> {
        self.inner.create_partner(partner).await
    }
    async fn update_partner(&self, partner: Partner) -> PortResult<Partner> {
        self.inner.update_partner(partner).await
    }
}

fn fast() -> OutboxSettings {
    OutboxSettings {
        poll_interval: Duration::from_millis(20),
        lease: Duration::from_secs(5),
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(80),
        inline_wait: Duration::from_millis(500),
        batch: 16,
        sender_match: Default::default(),
    }
}

/// An outbox on `db` delivering through a scripted local adapter.
struct Rig {
    local: Arc<dyn ResourceSharing>,
    script: Arc<Script>,
    outbox: Arc<Outbox>,
}

impl Rig {
    fn new(db: &Db, settings: OutboxSettings) -> Self {
        Self::sharing(db, settings, Arc::new(Script::default()))
    }

    fn sharing(db: &Db, settings: OutboxSettings, script: Arc<Script>) -> Self {
        let local: Arc<dyn ResourceSharing> =
            Arc::new(LocalBackend::new(db.clone(), LocalRules::default()));
        let port: Arc<dyn ResourceSharing> = Arc::new(Flaky {
            inner: local.clone(),
            script: script.clone(),
        });
        Self {
            local,
            script,
            outbox: Outbox::new(db.clone(), port, settings),
        }
    }

    async fn requests_with(&self, patron: &PatronId, key: &str) -> usize {
        self.local
            .list_borrowing_requests(patron)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.external_id == key)
            .count()
    }

    async fn state(&self, key: &str) -> DeliveryState {
        self.outbox.entry(key).await.unwrap().unwrap().state
    }

    /// Lets the worker run until the row is no longer pending (at most 5 s).
    async fn settle(&self, key: &str) -> DeliveryState {
        for _ in 0..250 {
            self.outbox.run_due().await.unwrap();
            let state = self.state(key).await;
            if state != DeliveryState::Pending {
                return state;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{key} still pending after 5 s");
    }
}

fn patron() -> PatronId {
    PatronId("aino.virtanen".into())
}

fn book(key: &str, title: &str) -> NewBorrowingRequest {
    NewBorrowingRequest {
        external_id: key.into(),
        citation: Citation {
            kind: Some(CitationType::Book),
            title: title.into(),
            ..Default::default()
        },
        format: Format::Physical,
        pickup_location: Some("MAIN".into()),
        needed_by: None,
        note: None,
        copyright_accepted: false,
    }
}

fn lending(key: &str, partner: &str) -> NewLendingRequest {
    NewLendingRequest {
        external_id: key.into(),
        partner_code: partner.into(),
        requester: RequesterContact {
            library_name: "Tampere University Library".into(),
            contact_name: Some("Kaisa Kaukopalvelu".into()),
            email: "ill@tuni.example.fi".into(),
        },
        citation: Citation {
            kind: Some(CitationType::Book),
            title: "Seitsemän veljestä".into(),
            ..Default::default()
        },
        service: ServiceType::Loan,
        delivery_address: Some("Kalevantie 5, 33100 Tampere".into()),
        max_cost: None,
        needed_by: None,
        note: None,
    }
}

fn partner(code: &str) -> Partner {
    Partner {
        code: code.into(),
        name: "Tampere University Library".into(),
        status: PartnerStatus::Active,
        profile: PartnerProfile::Email {
            email: "ill@tuni.example.fi".into(),
        },
        isil: Some("FI-TAY".into()),
        email: Some("ill@tuni.example.fi".into()),
        phone: None,
        address: app::domain::Address {
            lines: vec!["Kalevantie 5".into()],
            postal_code: Some("33100".into()),
            city: Some("Tampere".into()),
            country: Some("FI".into()),
        },
        lending_supported: true,
        borrowing_supported: true,
        instructions: None,
        language: None,
        notes: None,
    }
}

/// Runs a scenario on SQLite and on PostgreSQL.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (db, dir) = crate::support::sqlite_db().await;
                super::$name(db, crate::Second::Sqlite(dir)).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(url) = crate::support::postgres_url().await else {
                    return;
                };
                let db = server::storage::Db::connect(&url, 4, std::time::Duration::from_secs(5))
                    .await
                    .unwrap();
                db.migrate().await.unwrap();
                super::$name(db, crate::Second::Postgres(url)).await;
            }
        }
    )*};
}

/// How to open a second, independent pool on the same database (another
/// Kauko instance).
pub enum Second {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Second {
    async fn open(&self) -> Db {
        let url = match self {
            Second::Sqlite(dir) => format!("sqlite://{}/kauko.db", dir.path().display()),
            Second::Postgres(url) => url.clone(),
        };
        Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap()
    }
}

on_both!(
    double_submit_is_one_request,
    down_for_a_while_then_back_is_delivered_once,
    a_lost_answer_is_looked_up_not_created_again,
    a_permanent_error_is_not_retried,
    an_expired_lease_is_picked_up_without_a_duplicate,
    two_workers_racing_deliver_each_row_exactly_once,
    lending_requests_go_through_the_outbox_and_review,
);

async fn double_submit_is_one_request(db: Db, _second: Second) {
    let rig = Rig::new(&db, fast());
    rig.script.delay_ms.store(50, Ordering::SeqCst);
    let key = "double-submit-0001";
    let request = book(key, "Kalevala");
    // Two clicks at once, then a retry after the answer.
    let aino = patron();
    let (a, b) = tokio::join!(
        rig.outbox.submit_borrowing(&aino, request.clone()),
        rig.outbox.submit_borrowing(&aino, request.clone()),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let Submitted::Delivered { id, reference } = &a else {
        panic!("delivered at once: {a:?}")
    };
    assert_eq!(a, b, "both clicks get the same request");
    let again = rig
        .outbox
        .submit_borrowing(&patron(), request.clone())
        .await
        .unwrap();
    assert_eq!(
        again,
        Submitted::Delivered {
            id: id.clone(),
            reference: reference.clone()
        }
    );
    assert_eq!(rig.script.creates_of(key), 1);
    assert_eq!(rig.requests_with(&patron(), key).await, 1);
    // Another patron cannot use (or see) that key.
    let other = rig
        .outbox
        .submit_borrowing(&PatronId("bertil.lind".into()), request)
        .await;
    assert_eq!(other, Err(app::outbox::OutboxError::KeyTaken));
}

async fn down_for_a_while_then_back_is_delivered_once(db: Db, _second: Second) {
    let rig = Rig::new(&db, fast());
    rig.script.fail.store(3, Ordering::SeqCst);
    let key = "down-then-back-0001";
    let first = rig
        .outbox
        .submit_borrowing(&patron(), book(key, "Kalevala"))
        .await
        .unwrap();
    let Submitted::Pending { reference } = first else {
        panic!("received, being forwarded: {first:?}")
    };
    // Meanwhile the patron sees it, and staff see why it waits.
    let pending = rig.outbox.pending_for_patron(&patron()).await.unwrap();
    assert_eq!(
        (pending.len(), pending[0].reference.as_str()),
        (1, reference.as_str())
    );
    let stuck = rig.outbox.stuck().await.unwrap();
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].attempts, 1);
    assert!(
        stuck[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("library system down")),
        "{stuck:?}"
    );
    assert!(stuck[0].next_attempt_at.is_some());

    assert_eq!(rig.settle(key).await, DeliveryState::Delivered);
    let entry = rig.outbox.entry(key).await.unwrap().unwrap();
    assert_eq!(entry.attempts, 4, "three failures, then delivered");
    assert_eq!(rig.script.creates_of(key), 4);
    assert_eq!(rig.requests_with(&patron(), key).await, 1);
    assert!(rig
        .outbox
        .pending_for_patron(&patron())
        .await
        .unwrap()
        .is_empty());
    assert!(rig.outbox.stuck().await.unwrap().is_empty());
    // Nothing more happens to it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rig.outbox.drain().await.unwrap(), 0);
    assert_eq!(rig.script.creates_of(key), 4);
}

async fn a_lost_answer_is_looked_up_not_created_again(db: Db, _second: Second) {
    let rig = Rig::new(&db, fast());
    // The library system stores the request, but its answer never arrives.
    rig.script.lose_answer.store(1, Ordering::SeqCst);
    let key = "lost-answer-0001";
    let first = rig
        .outbox
        .submit_borrowing(&patron(), book(key, "Kalevala"))
        .await
        .unwrap();
    assert!(matches!(first, Submitted::Pending { .. }), "{first:?}");
    assert_eq!(rig.settle(key).await, DeliveryState::Delivered);
    assert_eq!(rig.script.creates_of(key), 1, "looked up, not re-created");
    let stored = rig
        .local
        .find_borrowing_request_by_external_id(&patron(), key)
        .await
        .unwrap()
        .unwrap();
    let entry = rig.outbox.entry(key).await.unwrap().unwrap();
    assert_eq!(entry.delivered_id.as_deref(), Some(stored.id.as_str()));
    assert_eq!(rig.requests_with(&patron(), key).await, 1);
}

async fn a_permanent_error_is_not_retried(db: Db, _second: Second) {
    let rig = Rig::new(&db, fast());
    *rig.script.refuse.lock().unwrap() = Some(PortError::Invalid(vec![FieldError::new(
        "pickup_location",
        "error.field.pickup",
    )]));
    let key = "permanent-0001";
    let first = rig
        .outbox
        .submit_borrowing(&patron(), book(key, "Kalevala"))
        .await
        .unwrap();
    let Submitted::Failed { error, .. } = first else {
        panic!("failed: {first:?}")
    };
    assert_eq!(
        error,
        PortError::Invalid(vec![FieldError::new(
            "pickup_location",
            "error.field.pickup"
        )])
    );
    // Well past any backoff: still failed, tried once.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(rig.outbox.drain().await.unwrap(), 0);
    assert_eq!(rig.state(key).await, DeliveryState::Failed);
    assert_eq!(rig.script.creates_of(key), 1);
    let stuck = rig.outbox.stuck().await.unwrap();
    assert_eq!(stuck.len(), 1);
    assert!(stuck[0]
        .last_error
        .as_deref()
        .is_some_and(|e| e.starts_with("invalid input")));

    // Staff fix the cause and retry it.
    *rig.script.refuse.lock().unwrap() = None;
    rig.outbox.retry_now(key).await.unwrap();
    assert_eq!(rig.settle(key).await, DeliveryState::Delivered);
    assert_eq!(rig.script.creates_of(key), 2);
    assert_eq!(rig.requests_with(&patron(), key).await, 1);
    assert!(matches!(
        rig.outbox.retry_now(key).await,
        Err(app::outbox::OutboxError::WrongState(_))
    ));
    assert_eq!(
        rig.outbox.retry_now("no-such-key").await,
        Err(app::outbox::OutboxError::NotFound)
    );
}

async fn an_expired_lease_is_picked_up_without_a_duplicate(db: Db, _second: Second) {
    let settings = OutboxSettings {
        lease: Duration::from_millis(400),
        ..fast()
    };
    let rig = Rig::new(&db, settings);
    // Worker A claims two rows and dies: the first after its create reached
    // the library system, the second before.
    let reached = "lease-reached-0001";
    let not_reached = "lease-lost-0001";
    for key in [reached, not_reached] {
        rig.outbox
            .enqueue_borrowing(&patron(), &book(key, key))
            .await
            .unwrap();
        assert!(rig.outbox.claim(key, true).await.unwrap().is_some());
        assert!(
            rig.outbox.claim(key, true).await.unwrap().is_none(),
            "a live lease cannot be claimed twice"
        );
    }
    let direct = rig
        .local
        .create_borrowing_request(&patron(), book(reached, reached))
        .await
        .unwrap();
    // Worker B (a restarted process) leaves them alone while the lease lives.
    assert_eq!(rig.outbox.run_due().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(rig.outbox.run_due().await.unwrap(), 2);
    for key in [reached, not_reached] {
        assert_eq!(rig.state(key).await, DeliveryState::Delivered, "{key}");
        assert_eq!(rig.requests_with(&patron(), key).await, 1, "{key}");
    }
    assert_eq!(rig.script.creates_of(reached), 0, "found, not created");
    assert_eq!(rig.script.creates_of(not_reached), 1);
    let entry = rig.outbox.entry(reached).await.unwrap().unwrap();
    assert_eq!(entry.delivered_id.as_deref(), Some(direct.id.as_str()));
}

async fn two_workers_racing_deliver_each_row_exactly_once(db: Db, second: Second) {
    const ROWS: usize = 120;
    let script = Arc::new(Script::default());
    script.delay_ms.store(2, Ordering::SeqCst);
    let settings = OutboxSettings { batch: 8, ..fast() };
    let a = Rig::sharing(&db, settings.clone(), script.clone());
    let other_pool = second.open().await;
    let b = Rig::sharing(&other_pool, settings, script.clone());
    let keys: Vec<String> = (0..ROWS).map(|i| format!("race-{i:04}-abcdef")).collect();
    for key in &keys {
        a.outbox
            .enqueue_borrowing(&patron(), &book(key, key))
            .await
            .unwrap();
    }
    // Both instances' workers run at once until nothing is left.
    // They run until nothing is due (at most a minute, however loaded the
    // machine): what is counted is the deliveries, below, not the tries.
    let worker = |outbox: Arc<Outbox>| async move {
        let mut tried = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            let n = outbox.drain().await.unwrap();
            tried += n;
            if n == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if outbox.run_due().await.unwrap() == 0 {
                    break;
                }
                tried += 1;
            }
        }
        tried
    };
    let (ta, tb) = tokio::join!(
        tokio::spawn(worker(a.outbox.clone())),
        tokio::spawn(worker(b.outbox.clone()))
    );
    let (ta, tb) = (ta.unwrap(), tb.unwrap());
    eprintln!("worker a tried {ta}, worker b {tb}");
    for key in &keys {
        assert_eq!(script.creates_of(key), 1, "{key} created once");
        assert_eq!(a.state(key).await, DeliveryState::Delivered, "{key}");
    }
    assert_eq!(script.total_creates() as usize, ROWS);
    let all = a.local.list_borrowing_requests(&patron()).await.unwrap();
    assert_eq!(all.len(), ROWS);
}

async fn lending_requests_go_through_the_outbox_and_review(db: Db, _second: Second) {
    let rig = Rig::new(&db, fast());
    rig.local.create_partner(partner("TUNI")).await.unwrap();
    // A known partner: delivered at once, once.
    let known = lending("lend-known-0001", "TUNI");
    let first = rig
        .outbox
        .submit_lending(known.clone(), false)
        .await
        .unwrap();
    assert!(matches!(first, Submitted::Delivered { .. }), "{first:?}");
    let again = rig.outbox.submit_lending(known, false).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(rig.script.creates_of("lend-known-0001"), 1);

    // A lost answer is found by external id.
    rig.script.lose_answer.store(1, Ordering::SeqCst);
    let lost = lending("lend-lost-0001", "TUNI");
    rig.outbox.submit_lending(lost, false).await.unwrap();
    assert_eq!(rig.settle("lend-lost-0001").await, DeliveryState::Delivered);
    assert_eq!(rig.script.creates_of("lend-lost-0001"), 1);

    // An unknown library is held for review, then accepted or rejected.
    let held = rig
        .outbox
        .submit_lending(lending("lend-held-0001", ""), true)
        .await
        .unwrap();
    assert!(matches!(held, Submitted::Held { .. }), "{held:?}");
    rig.outbox
        .submit_lending(lending("lend-held-0002", ""), true)
        .await
        .unwrap();
    assert_eq!(rig.outbox.drain().await.unwrap(), 0, "held, not delivered");
    let list = rig.outbox.held().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].request.requester.email, "ill@tuni.example.fi");
    rig.outbox.accept("lend-held-0001", "TUNI").await.unwrap();
    assert_eq!(rig.settle("lend-held-0001").await, DeliveryState::Delivered);
    let entry = rig.outbox.entry("lend-held-0001").await.unwrap().unwrap();
    let delivered = rig
        .local
        .get_lending_request("TUNI", entry.delivered_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(delivered.request.external_id, "lend-held-0001");
    assert_eq!(delivered.request.partner_code, "TUNI");
    rig.outbox
        .reject("lend-held-0002", "not a library")
        .await
        .unwrap();
    let rejected = rig.outbox.entry("lend-held-0002").await.unwrap().unwrap();
    assert_eq!(
        (rejected.state, rejected.decision.as_deref()),
        (DeliveryState::Rejected, Some("not a library"))
    );
    assert!(rig.outbox.held().await.unwrap().is_empty());
    assert!(rig.outbox.accept("lend-held-0002", "TUNI").await.is_err());
    assert_eq!(rig.script.creates_of("lend-held-0002"), 0);

    // A code no partner has: stored, then held for staff with the reason
    // (never lost, never delivered as someone's request).
    let unknown = rig
        .outbox
        .submit_lending(lending("lend-unknown-0001", "NOPE"), false)
        .await
        .unwrap();
    assert!(matches!(unknown, Submitted::Held { .. }), "{unknown:?}");
    let entry = rig
        .outbox
        .entry("lend-unknown-0001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        entry.hold_reason.as_deref(),
        Some("review.reason.unknown_library")
    );
    assert_eq!(rig.script.creates_of("lend-unknown-0001"), 0);
}

// --- Over HTTP ---------------------------------------------------------------

fn article_form<'a>(key: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("idempotency_key", key),
        ("kind", "article"),
        ("title", title),
        ("container_title", "Journal of Outboxes"),
        ("year", "2026"),
        ("format", "DIGITAL"),
        ("copyright", "true"),
    ]
}

/// Kauko in process, quick to retry, its library system down until the
/// test changes the script.
async fn start_with_library_system_down() -> (support::Running, Arc<Script>) {
    start_with_library_system_down_backoff("50").await
}

/// With this first backoff (milliseconds) between automatic tries.
async fn start_with_library_system_down_backoff(
    first_backoff_ms: &str,
) -> (support::Running, Arc<Script>) {
    let script = Arc::new(Script::default());
    script.fail.store(u32::MAX, Ordering::SeqCst);
    let wrap_script = script.clone();
    let k = support::start_kauko_with(
        &[
            ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en"),
            ("KAUKO_OUTBOX_INLINE_WAIT_MILLISECONDS", "300"),
            ("KAUKO_OUTBOX_POLL_INTERVAL_MILLISECONDS", "20"),
            ("KAUKO_OUTBOX_FIRST_BACKOFF_MILLISECONDS", first_backoff_ms),
            ("KAUKO_OUTBOX_MAX_BACKOFF_SECONDS", "3600"),
        ],
        move |port| {
            Arc::new(Flaky {
                inner: port,
                script: wrap_script,
            })
        },
    )
    .await;
    (k, script)
}

#[tokio::test]
async fn a_patron_is_told_received_and_staff_can_retry() {
    // The next automatic try is an hour away: only staff's retry can
    // deliver it within the test.
    let (k, script) = start_with_library_system_down_backoff("3600000").await;
    let aino = k.sign_in_as("aino.virtanen", "Aino Virtanen", false).await;
    let key = "http-outbox-0123456789";
    let form = article_form(key, "Outboxes considered durable");
    let (status, body) = k.call("requests/submit", &aino, &form).await;
    assert_eq!(status, 200, "{body}");
    let reference = body["Received"]["reference"]
        .as_str()
        .unwrap_or_else(|| panic!("received: {body}"))
        .to_owned();

    // My requests lists it as received, being forwarded.
    let (status, page) = k.page("/my?lang=en", &aino).await;
    assert_eq!(status, 200);
    assert!(page.contains("Outboxes considered durable"), "listed");
    assert!(
        page.contains("Received, being forwarded"),
        "with its status"
    );

    // Staff only: patrons get 403.
    let (status, _) = k.call("staff/outbox/list", &aino, &[]).await;
    assert_eq!(status, 403);
    let staff = k.sign_in_as("staff", "Staff Member", true).await;
    let (status, list) = k.call("staff/outbox/list", &staff, &[]).await;
    assert_eq!(status, 200, "{list}");
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == reference.as_str())
        .unwrap_or_else(|| panic!("{list}"))
        .clone();
    assert!(row["attempts"].as_u64().unwrap() >= 1);
    assert!(row["last_error"]
        .as_str()
        .unwrap()
        .contains("library system down"));

    // The library system is back; staff do not wait for the backoff.
    script.fail.store(0, Ordering::SeqCst);
    let (status, _) = k.call("staff/outbox/retry", &aino, &[("id", key)]).await;
    assert_eq!(status, 403);
    let entry = k.state.outbox.entry(key).await.unwrap().unwrap();
    assert_eq!(entry.state, app::outbox::DeliveryState::Pending);
    let due = entry.next_attempt_at.clone().unwrap();
    assert!(
        due > server::storage::ts(chrono::Utc::now() + chrono::Duration::minutes(30)),
        "not due for a long while: {due}"
    );
    let (status, r) = k.call("staff/outbox/retry", &staff, &[("id", key)]).await;
    assert_eq!(status, 200, "{r}");
    let mut delivered = 0;
    for _ in 0..100 {
        delivered = k
            .state
            .port
            .list_borrowing_requests(&PatronId("aino.virtanen".into()))
            .await
            .unwrap()
            .iter()
            .filter(|r| r.external_id == key)
            .count();
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivered, 1);
    // The same form again: the request, not a second one.
    let (_, again) = k.call("requests/submit", &aino, &form).await;
    assert!(again["Created"]["id"].is_string(), "{again}");
    let mine = k
        .state
        .port
        .list_borrowing_requests(&PatronId("aino.virtanen".into()))
        .await
        .unwrap();
    assert_eq!(mine.iter().filter(|r| r.external_id == key).count(), 1);
}

#[tokio::test]
async fn a_request_the_library_system_refuses_later_is_shown_as_not_accepted() {
    let (k, script) = start_with_library_system_down().await;
    let aino = k.sign_in_as("aino.virtanen", "Aino Virtanen", false).await;
    let key = "http-outbox-refused-0001";
    let form = article_form(key, "Refused after a while");
    let (_, body) = k.call("requests/submit", &aino, &form).await;
    assert!(body["Received"]["reference"].is_string(), "{body}");

    // Back, but it refuses this request for good.
    *script.refuse.lock().unwrap() = Some(PortError::Other("patron is blocked".into()));
    script.fail.store(0, Ordering::SeqCst);
    let mut state = None;
    for _ in 0..200 {
        state = k.state.outbox.entry(key).await.unwrap().map(|e| e.state);
        if state == Some(DeliveryState::Failed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(state, Some(DeliveryState::Failed));

    // The patron is not told it is still on its way.
    let (_, mine) = k.call("me/requests", &aino, &[]).await;
    let row = &mine["received"][0];
    assert_eq!(row["title"], "Refused after a while", "{mine}");
    assert_eq!(row["not_forwarded"], true, "{mine}");
    assert_eq!(row["not_cancellable_key"], "my.not_forwarded.help");
    let (status, page) = k.page("/my?lang=en", &aino).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Not accepted by the library system"),
        "status"
    );
    assert!(page.contains("will contact you"), "what happens next");
    assert!(!page.contains("Received, being forwarded"));
}

#[tokio::test]
async fn a_patron_withdraws_a_request_still_waiting_in_kauko() {
    // The next automatic try is an hour away.
    let (k, script) = start_with_library_system_down_backoff("3600000").await;
    let aino = k.sign_in_as("aino.virtanen", "Aino Virtanen", false).await;
    let key = "http-outbox-withdrawn-0001";
    let (_, body) = k
        .call(
            "requests/submit",
            &aino,
            &article_form(key, "Changed my mind"),
        )
        .await;
    let reference = body["Received"]["reference"]
        .as_str()
        .unwrap_or_else(|| panic!("received: {body}"))
        .to_owned();
    let (_, mine) = k.call("me/requests", &aino, &[]).await;
    assert_eq!(mine["received"][0]["cancellable"], true, "{mine}");
    assert_eq!(mine["received"][0]["id"], reference.as_str());

    // Someone else cannot withdraw it.
    let bertil = k.sign_in_as("bertil.lind", "Bertil Lind", false).await;
    let (_, r) = k.call("me/cancel", &bertil, &[("id", &reference)]).await;
    assert_eq!(r["ok"], false, "{r}");
    // Its patron can.
    let (_, r) = k.call("me/cancel", &aino, &[("id", &reference)]).await;
    assert_eq!(
        (r["ok"].clone(), r["message_key"].clone()),
        (true.into(), "my.cancelled".into()),
        "{r}"
    );
    let (_, mine) = k.call("me/requests", &aino, &[]).await;
    assert_eq!(mine["received"], serde_json::json!([]), "{mine}");

    // The library system comes back: it is never asked again.
    let tried = script.creates_of(key);
    script.fail.store(0, Ordering::SeqCst);
    let entry = k.state.outbox.entry(key).await.unwrap().unwrap();
    assert_eq!(entry.state, DeliveryState::Rejected);
    assert!(k.state.outbox.retry_now(key).await.is_err(), "not retried");
    k.state.outbox.drain().await.unwrap();
    assert_eq!(
        script.creates_of(key),
        tried,
        "no create after the withdrawal"
    );
    let requests = k
        .state
        .port
        .list_borrowing_requests(&PatronId("aino.virtanen".into()))
        .await
        .unwrap();
    assert!(
        requests.iter().all(|r| r.external_id != key),
        "not in the library system"
    );
}
