//! The Alma mirror (issue 16): My requests from Kauko's database, a
//! background sync that writes each change Alma made into the history
//! once, and one call budget for every instance on one database. Against
//! the Alma API simulator on loopback; SQLite and PostgreSQL.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::PatronId;
use server::adapters::alma::sync::Step;
use server::adapters::alma::{AlmaBackend, AlmaSettings};
use server::alma_sim::{AlmaSim, Fault, NewSimLoan, SimHandle};
use server::port::ResourceSharing;
use server::storage::Db;
use sqlx::Row;

use support::alma::{alma_config, sim_config};

const RS_READ: &str = "GET /users/{id}/resource-sharing-requests/{id}";

/// An instance of the Alma adapter on `db` (`extra`: configuration; the
/// lending task list is not read unless `extra` says so).
fn instance(sim: &SimHandle, db: &Db, extra: &[(&str, &str)]) -> Arc<AlmaBackend> {
    let dir = tempfile::tempdir().unwrap();
    let mut vars = vec![("KAUKO_ALMA_LENDING_SYNC_SECONDS", "0")];
    vars.extend_from_slice(extra);
    let config = alma_config(&sim.base_url, dir.path(), &vars);
    Arc::new(AlmaBackend::new(db.clone(), AlmaSettings::from_config(&config).unwrap()).unwrap())
}

/// An RS request placed in Alma outside Kauko (as through Primo); its id.
async fn place(sim: &SimHandle, patron: &str, title: &str) -> String {
    support::alma::place_in_alma(&sim.base_url, patron, title).await
}

/// Runs sync steps until nothing is due (at most `limit` steps).
async fn drain(alma: &AlmaBackend, limit: usize) -> usize {
    let mut steps = 0;
    while steps < limit {
        match alma.sync_step().await.unwrap() {
            Step::Idle => break,
            _ => steps += 1,
        }
    }
    steps
}

/// The events of a request: (actor kind, action, from, to).
async fn events(db: &Db, request_id: &str) -> Vec<(String, String, Option<String>, String)> {
    sqlx::query(
        "SELECT actor_kind, action, from_state, to_state FROM request_events \
         WHERE side = 'borrowing' AND request_id = $1 ORDER BY seq",
    )
    .bind(request_id.to_owned())
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get("actor_kind"),
            r.get("action"),
            r.get("from_state"),
            r.get("to_state"),
        )
    })
    .collect()
}

async fn both_databases<F, Fut>(test: F)
where
    F: Fn(Db, Db, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // SQLite: two pools on one file, as two instances would have.
    let (a, dir) = support::sqlite_db().await;
    let url = format!("sqlite://{}/kauko.db", dir.path().display());
    let b = Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap();
    test(a, b, "sqlite".into()).await;
    drop(dir);
    if let Some(url) = support::postgres_url().await {
        let a = Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap();
        a.migrate().await.unwrap();
        let b = Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap();
        test(a, b, "postgres".into()).await;
    }
}

#[tokio::test]
async fn a_change_in_alma_becomes_one_event_and_shows_in_my_requests() {
    both_databases(|db_a, db_b, which| async move {
        let sim = AlmaSim::start(sim_config()).await.unwrap();
        let fast = [("KAUKO_ALMA_SYNC_ACTIVE_SECONDS", "1")];
        let a = instance(&sim, &db_a, &fast);
        let b = instance(&sim, &db_b, &fast);
        let patron = PatronId("mirror.patron".into());
        let first = place(&sim, &patron.0, "Mirrored book one").await;
        let second = place(&sim, &patron.0, "Mirrored book two").await;

        // The first look reads Alma and fills the mirror: one `created`
        // event per request, by the library system (placed outside Kauko).
        let listed = a.list_borrowing_requests(&patron).await.unwrap();
        assert_eq!(listed.len(), 2, "{which}");
        for id in [&first, &second] {
            assert_eq!(
                events(&db_a, id).await,
                vec![(
                    "library_system".into(),
                    "created".into(),
                    None,
                    "REQUEST_CREATED_BOR".into()
                )],
                "{which}"
            );
        }

        // Warm: My requests costs Alma nothing.
        sim.state.reset_stats();
        for _ in 0..5 {
            let snap = a.snapshot(&patron).await.unwrap().expect("a snapshot");
            assert_eq!(snap.requests.len(), 2);
            assert!(!snap.freshness.unwrap().stale);
            assert_eq!(a.list_borrowing_requests(&patron).await.unwrap().len(), 2);
        }
        assert_eq!(sim.state.stats().calls, 0, "{which}: warm views call Alma");

        // Alma staff move a request behind Kauko's back; both instances
        // sync at once.
        assert!(sim.state.set_status(&first, "SHIPPED_PHYSICALLY"));
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (sa, sb) = tokio::join!(drain(&a, 50), drain(&b, 50));
        assert!(sa + sb >= 1, "{which}: the sync read something");
        let snap = a.snapshot(&patron).await.unwrap().unwrap();
        let seen = snap.requests.iter().find(|r| r.id == first).unwrap();
        assert_eq!(seen.status.code(), "SHIPPED_PHYSICALLY", "{which}");
        let changes = |e: &Vec<(String, String, Option<String>, String)>| {
            e.iter()
                .filter(|(_, action, _, _)| action == "alma_status")
                .count()
        };
        let history = events(&db_a, &first).await;
        assert_eq!(changes(&history), 1, "{which}: {history:?}");
        assert_eq!(
            history.last().unwrap(),
            &(
                "library_system".to_owned(),
                "alma_status".to_owned(),
                Some("REQUEST_CREATED_BOR".to_owned()),
                "SHIPPED_PHYSICALLY".to_owned()
            )
        );
        assert_eq!(changes(&events(&db_a, &second).await), 0, "{which}");
        // Statistics count the Alma requests from the mirror and its
        // history: two requests this year, one shipped by its partner.
        let year = chrono::Datelike::year(&chrono::Utc::now());
        let stats = app::stats::load(&server::stats::SqlStatistics::new(db_a.clone()), Some(year))
            .await
            .unwrap();
        assert_eq!(stats.borrowing.requests.now, 2, "{which}");

        // A restart keeps the mirror and writes nothing twice.
        drop((a, b));
        let c = instance(&sim, &db_b, &fast);
        sim.state.reset_stats();
        assert_eq!(c.list_borrowing_requests(&patron).await.unwrap().len(), 2);
        assert_eq!(sim.state.stats().calls, 0, "{which}: the mirror survived");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        drain(&c, 50).await;
        assert_eq!(changes(&events(&db_a, &first).await), 1, "{which}");
        assert_eq!(events(&db_a, &second).await.len(), 1, "{which}");
        sim.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_request_closed_long_ago_is_no_longer_read() {
    let (db, _dir) = support::sqlite_db().await;
    let sim = AlmaSim::start(sim_config()).await.unwrap();
    let a = instance(
        &sim,
        &db,
        &[
            ("KAUKO_ALMA_SYNC_ACTIVE_SECONDS", "1"),
            ("KAUKO_ALMA_SYNC_CLOSED_SECONDS", "1"),
            ("KAUKO_ALMA_SYNC_FORGET_DAYS", "0"),
        ],
    );
    let patron = PatronId("closing.patron".into());
    let id = place(&sim, &patron.0, "Soon cancelled").await;
    a.list_borrowing_requests(&patron).await.unwrap();
    assert!(sim.state.set_status(&id, "CANCELED_BY_STAFF"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    drain(&a, 20).await;
    let history = events(&db, &id).await;
    assert_eq!(
        history.last().unwrap().3,
        "CANCELED_BY_STAFF",
        "{history:?}"
    );
    // Closed (and forgotten at once): never read again, though its
    // patron is still looked at.
    sim.state.reset_stats();
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        drain(&a, 20).await;
    }
    let stats = sim.state.stats();
    assert_eq!(stats.calls_by_route.get(RS_READ), None, "{stats:?}");
    assert!(stats.calls > 0, "the patron is still read: {stats:?}");
    sim.stop().await;
}

#[tokio::test]
async fn with_alma_down_my_requests_serves_the_mirror_and_says_so() {
    let (db, _dir) = support::sqlite_db().await;
    let sim = AlmaSim::start(sim_config()).await.unwrap();
    // Every look is stale: each one asks Alma first.
    let a = instance(
        &sim,
        &db,
        &[
            ("KAUKO_ALMA_MIRROR_STALE_SECONDS", "0"),
            ("KAUKO_ALMA_SYNC_ACTIVE_SECONDS", "1"),
            ("KAUKO_ALMA_MAX_CALLS_PER_SECOND", "10"),
        ],
    );
    let patron = PatronId("down.patron".into());
    for n in 0..3 {
        place(&sim, &patron.0, &format!("Book {n}")).await;
    }
    sim.state.add_loan(NewSimLoan {
        user_id: patron.0.clone(),
        title: "A loan".into(),
        author: None,
        due_in_days: 14,
        renewable: true,
        rs_request_id: None,
    });
    assert_eq!(a.list_borrowing_requests(&patron).await.unwrap().len(), 3);
    assert_eq!(a.list_loans(&patron).await.unwrap().len(), 1);

    sim.state.set_fault(Fault::Unavailable);
    assert_eq!(a.list_borrowing_requests(&patron).await.unwrap().len(), 3);
    assert_eq!(a.list_loans(&patron).await.unwrap().len(), 1);
    assert!(a.refresh(&patron).await.is_err());
    let snap = a.snapshot(&patron).await.unwrap().unwrap();
    assert_eq!(snap.requests.len(), 3);
    let freshness = snap.freshness.unwrap();
    assert!(freshness.unreachable && freshness.stale, "{freshness:?}");

    // The sync keeps trying, within its share: 30 % of 10 a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sim.state.reset_stats();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        a.sync_step().await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let calls = sim.state.stats().calls;
    assert!(
        calls as f64 <= 3.0 * elapsed + 2.0,
        "{calls} calls in {elapsed:.1} s while Alma was down"
    );

    // Back: the next look is current again.
    sim.state.set_fault(Fault::None);
    a.refresh(&patron).await.unwrap();
    let freshness = a
        .snapshot(&patron)
        .await
        .unwrap()
        .unwrap()
        .freshness
        .unwrap();
    assert!(!freshness.unreachable, "{freshness:?}");
    sim.stop().await;
}

#[tokio::test]
async fn the_sync_keeps_to_its_share_of_the_budget() {
    let (db, _dir) = support::sqlite_db().await;
    let sim = AlmaSim::start(sim_config()).await.unwrap();
    let a = instance(
        &sim,
        &db,
        &[
            ("KAUKO_ALMA_SYNC_ACTIVE_SECONDS", "1"),
            ("KAUKO_ALMA_MAX_CALLS_PER_SECOND", "10"),
            ("KAUKO_ALMA_SYNC_SHARE_PERCENT", "30"),
        ],
    );
    let patron = PatronId("busy.patron".into());
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(place(&sim, &patron.0, &format!("Book {n}")).await);
    }
    a.list_borrowing_requests(&patron).await.unwrap();
    // Every request moves in Alma: the sync has twelve to read.
    for id in &ids {
        assert!(sim.state.set_status(id, "SHIPPED_PHYSICALLY"));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sim.state.reset_stats();
    let before = a.stats();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if a.sync_step().await.unwrap() == Step::Idle {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let calls = sim.state.stats().calls;
    let after = a.stats();
    assert_eq!(
        after.sync_calls - before.sync_calls,
        calls,
        "all of them the sync's"
    );
    // 3 a second (350 ms apart): at most one more for the window's edge.
    assert!(
        calls as f64 <= 3.0 * elapsed + 1.0 && calls >= 3,
        "{calls} sync calls in {elapsed:.2} s"
    );
    sim.stop().await;
}

#[tokio::test]
async fn two_instances_on_one_postgres_never_exceed_the_threshold() {
    let Some(url) = support::postgres_url().await else {
        return;
    };
    const LIMIT: u32 = 10;
    let sim = AlmaSim::start(sim_config()).await.unwrap();
    let patrons: Vec<PatronId> = (0..8)
        .map(|i| PatronId(format!("budget.patron.{i}")))
        .collect();
    for p in &patrons {
        for n in 0..2 {
            place(&sim, &p.0, &format!("Book {n}")).await;
        }
    }
    // Alma's threshold from now on is Kauko's limit.
    sim.state.update_config(|c| c.threshold_per_second = LIMIT);
    let extra = [
        ("KAUKO_ALMA_MAX_CALLS_PER_SECOND", "10"),
        ("KAUKO_ALMA_MAX_WAIT_MILLISECONDS", "30000"),
    ];
    let db_a = Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap();
    db_a.migrate().await.unwrap();
    let db_b = Db::connect(&url, 4, Duration::from_secs(5)).await.unwrap();
    let a = instance(&sim, &db_a, &extra);
    let b = instance(&sim, &db_b, &extra);
    sim.state.reset_stats();
    // Every patron's first look, half on each instance, all at once:
    // about 40 calls, each instance alone allowed 10 a second.
    let looks = patrons.iter().enumerate().map(|(i, p)| {
        let port = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            let (requests, loans) =
                tokio::join!(port.list_borrowing_requests(p), port.list_loans(p));
            (requests.unwrap().len(), loans.unwrap().len())
        }
    });
    let answers = futures::future::join_all(looks).await;
    assert!(answers.iter().all(|(r, _)| *r == 2), "{answers:?}");
    let stats = sim.state.stats();
    assert!(stats.calls >= 8 * 4, "{stats:?}");
    assert_eq!(stats.throttled, 0, "{stats:?}");
    assert!(
        stats.max_calls_in_any_second <= u64::from(LIMIT),
        "{} calls in one second (threshold {LIMIT})",
        stats.max_calls_in_any_second
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_patron_looking_at_my_requests_is_read_first() {
    let (db, _dir) = support::sqlite_db().await;
    let sim = AlmaSim::start(sim_config()).await.unwrap();
    let a = instance(&sim, &db, &[("KAUKO_ALMA_SYNC_ACTIVE_SECONDS", "1")]);
    let (early, looking) = (
        PatronId("early.patron".into()),
        PatronId("looking.patron".into()),
    );
    for p in [&early, &looking] {
        place(&sim, &p.0, "A book").await;
        a.list_borrowing_requests(p).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Both are due, `early` longer; `looking` opens My requests.
    a.snapshot(&looking).await.unwrap().expect("mirrored");
    assert_eq!(a.mirror().claim_patron().await.unwrap(), Some(looking));
    assert_eq!(a.mirror().claim_patron().await.unwrap(), Some(early));
    // Both claimed: another instance finds nothing to take.
    assert_eq!(a.mirror().claim_patron().await.unwrap(), None);
    sim.stop().await;
}

#[tokio::test]
async fn the_sync_spots_changes_through_the_patrons_listing_and_reads_only_those() {
    both_databases(|db, _, which| async move {
        let sim = AlmaSim::start(sim_config()).await.unwrap();
        let a = instance(&sim, &db, &[("KAUKO_ALMA_SYNC_ACTIVE_SECONDS", "1")]);
        let patron = PatronId("listing.patron".into());
        let mut ids = Vec::new();
        for n in 0..4 {
            ids.push(place(&sim, &patron.0, &format!("Listed book {n}")).await);
        }
        assert_eq!(a.list_borrowing_requests(&patron).await.unwrap().len(), 4);

        // One request moves in Alma; the patron's next pass lists their
        // user requests, sees that one's status differ from the last pass
        // and reads that request alone.
        assert!(sim.state.set_status(&ids[2], "SHIPPED_PHYSICALLY"));
        tokio::time::sleep(Duration::from_millis(1100)).await;
        sim.state.reset_stats();
        assert_eq!(a.sync_step().await.unwrap(), Step::Patron, "{which}");
        let stats = sim.state.stats();
        assert_eq!(
            stats.calls_by_route.get(RS_READ),
            Some(&1),
            "{which}: {stats:?}"
        );
        let history = events(&db, &ids[2]).await;
        assert_eq!(
            history.last().unwrap().3,
            "SHIPPED_PHYSICALLY",
            "{which}: {history:?}"
        );
        let snap = a.snapshot(&patron).await.unwrap().unwrap();
        let seen = snap.requests.iter().find(|r| r.id == ids[2]).unwrap();
        assert_eq!(seen.status.code(), "SHIPPED_PHYSICALLY", "{which}");
        // Read just now and listed: not read on its own before its
        // backstop (a day); the patron's passes watch it.
        let due: Option<String> =
            sqlx::query_scalar("SELECT due_at FROM alma_mirror_requests WHERE request_id = $1")
                .bind(ids[2].clone())
                .fetch_one(&db.pool)
                .await
                .unwrap();
        let hour = server::storage::ts(chrono::Utc::now() + chrono::Duration::hours(1));
        assert!(due.as_deref() > Some(hour.as_str()), "{which}: due {due:?}");

        // Nothing changed since: the next pass reads no request at all,
        // and the unchanged ones are not due on their own either.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        sim.state.reset_stats();
        let steps = drain(&a, 20).await;
        let stats = sim.state.stats();
        assert!(steps >= 1, "{which}");
        assert_eq!(
            stats.calls_by_route.get(RS_READ),
            None,
            "{which}: {stats:?}"
        );

        // A request that closes leaves the active listing: read once, its
        // close recorded once.
        assert!(sim.state.set_status(&ids[0], "CANCELED_BY_STAFF"));
        tokio::time::sleep(Duration::from_millis(1100)).await;
        sim.state.reset_stats();
        drain(&a, 20).await;
        let stats = sim.state.stats();
        assert_eq!(
            stats.calls_by_route.get(RS_READ),
            Some(&1),
            "{which}: {stats:?}"
        );
        let closed = events(&db, &ids[0]).await;
        assert_eq!(closed.last().unwrap().3, "CANCELED_BY_STAFF", "{which}");
        assert_eq!(
            closed.iter().filter(|e| e.1 == "alma_status").count(),
            1,
            "{which}: {closed:?}"
        );
        sim.stop().await;
    })
    .await;
}

/// A lending request placed in the simulator for `partner`, as a partner
/// library (or Alma's own intake) would; its id.
async fn lend(a: &AlmaBackend, partner: &str, title: &str, needed_by: Option<&str>) -> String {
    a.create_lending_request(app::domain::NewLendingRequest {
        external_id: format!("L-{title}"),
        partner_code: partner.into(),
        requester: app::domain::RequesterContact {
            library_name: "Partner library".into(),
            contact_name: None,
            email: "ill@partner.example.org".into(),
        },
        citation: app::domain::Citation {
            kind: Some(app::domain::CitationType::Book),
            title: title.into(),
            ..Default::default()
        },
        service: app::domain::ServiceType::Loan,
        delivery_address: None,
        max_cost: None,
        needed_by: needed_by.map(|d| d.parse().unwrap()),
        note: None,
    })
    .await
    .unwrap()
    .id
}

async fn lending_events(db: &Db) -> Vec<(String, String, String)> {
    sqlx::query(
        "SELECT request_id, action, to_state FROM request_events WHERE side = 'lending' ORDER BY seq",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get("request_id"), r.get("action"), r.get("to_state")))
    .collect()
}

#[tokio::test]
async fn lending_moved_in_alma_is_read_from_the_task_list_and_billed_once() {
    both_databases(|db_a, db_b, which| async move {
        let sim = AlmaSim::start(sim_config()).await.unwrap();
        server::alma_sim::demo::seed(&sim.state);
        let lending = [("KAUKO_ALMA_LENDING_SYNC_SECONDS", "1")];
        let a = instance(&sim, &db_a, &lending);
        let b = instance(&sim, &db_b, &lending);
        let loan = lend(&a, "NLSE", &format!("Lent book {which}"), None).await;
        let waiting = lend(&a, "NLSE", &format!("Waiting book {which}"), None).await;

        // A pass: both listed as created, one `created` event each.
        let pass = a.sync_lending().await.unwrap();
        assert_eq!((pass.listed, pass.events), (2, 2), "{which}: {pass:?}");

        // Alma staff ship one; two instances read the task list at once:
        // one `ship` event.
        assert!(sim.state.set_status(&loan, "SHIPPED_PHYSICALLY"));
        let (pa, pb) = tokio::join!(a.sync_lending(), b.sync_lending());
        assert_eq!(
            pa.unwrap().events + pb.unwrap().events,
            1,
            "{which}: the change written once"
        );
        assert_eq!(
            lending_events(&db_a).await,
            vec![
                (loan.clone(), "created".into(), "RequestReceived".into()),
                (waiting.clone(), "created".into(), "RequestReceived".into()),
                (loan.clone(), "ship".into(), "Loaned".into()),
            ],
            "{which}: in Kauko's lending states"
        );

        // The fee ledger prices the shipment, once, for the partner.
        let config = server::config::Config::from_sources(
            "",
            [("KAUKO_FEES_SETTLE_MILLISECONDS", "0")].map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .unwrap();
        let fees = server::fees::Fees::new(db_a.clone(), &config);
        server::fees::store::add_rule(
            &db_a,
            app::fees::NewRule {
                name: "Kaukolaina".into(),
                billable: app::fees::Billable::LendingLoan,
                scope: app::fees::Scope::Everyone,
                conditions: app::fees::Conditions::default(),
                amount_cents: 1500,
                currency: "EUR".into(),
                vat_applies: false,
                vat_basis_points: 0,
                valid_from: chrono::Utc::now().date_naive() - chrono::Duration::days(1),
                valid_to: None,
            },
            "staff-anna",
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(fees.plan().await.unwrap(), 1, "{which}");
        let lines = server::fees::store::lines_of_request(&db_a, "lending", &loan)
            .await
            .unwrap();
        assert_eq!(lines.len(), 1, "{which}");
        assert_eq!(
            (lines[0].customer.as_str(), lines[0].amounts.net),
            ("NLSE", 1500),
            "{which}"
        );
        assert!(lines[0].description.starts_with("Lent book"), "{which}");
        assert_eq!(a.sync_lending().await.unwrap().events, 0, "{which}");
        assert_eq!(fees.plan().await.unwrap(), 0, "{which}: nothing twice");

        // Returned: it leaves the lists and is read itself; completed, it
        // is not followed any more.
        assert!(sim.state.set_status(&loan, "RETURNED_BY_PARTNER"));
        let pass = a.sync_lending().await.unwrap();
        assert_eq!((pass.read, pass.events), (1, 1), "{which}: {pass:?}");
        assert!(sim.state.set_status(&loan, "REQUEST_COMPLETED"));
        assert_eq!(a.sync_lending().await.unwrap().events, 1, "{which}");
        sim.state.reset_stats();
        let pass = a.sync_lending().await.unwrap();
        assert_eq!(pass.read, 0, "{which}: completed, not read: {pass:?}");
        let stats = sim.state.stats();
        assert_eq!(
            stats.calls, 3,
            "{which}: one task list per status, nothing else: {stats:?}"
        );

        // Statistics count Alma's lending requests as Kauko's: two this
        // year, one shipped (filled) and returned.
        let year = chrono::Datelike::year(&chrono::Utc::now());
        let stats = app::stats::load(&server::stats::SqlStatistics::new(db_a.clone()), Some(year))
            .await
            .unwrap();
        assert_eq!(
            (stats.lending.requests.now, stats.lending.filled.now),
            (2, 1),
            "{which}"
        );

        // The sync runs a pass when one is due, on one instance at a time.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (sa, sb) = tokio::join!(a.sync_step(), b.sync_step());
        let lending_steps = [sa.unwrap(), sb.unwrap()]
            .iter()
            .filter(|s| **s == Step::Lending)
            .count();
        assert_eq!(lending_steps, 1, "{which}");
        sim.stop().await;
    })
    .await;
}
