//! The Alma adapter's own behaviour against the simulator, beyond the
//! port's contract: the shared call limiter, 429 backoff, a create that
//! times out (looked up, never re-sent), requests placed outside Kauko,
//! the per-patron cache, and Alma's failures mapped to typed errors.

mod support;

use std::time::Duration;

use app::domain::{BorrowingStatus, PatronId};
use server::alma_sim::{Fault, SimConfig};
use server::port::contract::{new_request, unique};
use server::port::PortError;
use support::alma::{sim_config, AlmaHarness};

fn patron() -> PatronId {
    PatronId(unique("patron"))
}

/// Creates a request straight in the simulator's Alma API, as Primo or
/// staff in Alma would: Kauko has no record of it.
async fn create_outside_kauko(h: &AlmaHarness, patron: &PatronId, title: &str) -> String {
    support::alma::place_in_alma(&h.sim.base_url, &patron.0, title).await
}

#[tokio::test]
async fn requests_placed_outside_kauko_are_found_through_user_requests() {
    let h = AlmaHarness::start_with(sim_config(), &[("KAUKO_ALMA_CACHE_SECONDS", "0")]).await;
    let me = patron();
    let ours = h
        .port
        .create_borrowing_request(&me, new_request(&unique("K")))
        .await
        .unwrap();
    // Alma's creation times are sometimes whole seconds: keep them apart.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let elsewhere = create_outside_kauko(&h, &me, "Placed in Primo  ").await;
    let listed = h.port.list_borrowing_requests(&me).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [elsewhere.as_str(), ours.id.as_str()], "newest first");
    // Alma's text comes back as Alma has it.
    assert_eq!(listed[0].citation.title, "Placed in Primo  ");
    // And it can be cancelled like Kauko's own.
    let cancelled = h
        .port
        .cancel_borrowing_request(&me, &elsewhere)
        .await
        .unwrap();
    assert_eq!(cancelled.status, BorrowingStatus::CancelledByPatron);
    assert!(h
        .port
        .list_borrowing_requests(&patron())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_create_that_times_out_is_looked_up_not_sent_again() {
    let sim = SimConfig {
        create_delay: Duration::from_millis(2500),
        ..sim_config()
    };
    let h = AlmaHarness::start_with(sim, &[("KAUKO_ALMA_WRITE_TIMEOUT_SECONDS", "1")]).await;
    let me = patron();
    let ext = unique("K");
    let created = h
        .port
        .create_borrowing_request(&me, new_request(&ext))
        .await
        .expect("found by its external id after the timeout");
    assert_eq!(created.external_id, ext);
    let creates = h
        .sim
        .state
        .stats()
        .calls_by_route
        .iter()
        .filter(|(route, _)| {
            route.starts_with("POST") && route.contains("resource-sharing-requests")
        })
        .map(|(_, n)| *n)
        .sum::<u64>();
    assert_eq!(creates, 1, "the create was sent once");
    let listed = h.port.list_borrowing_requests(&me).await.unwrap();
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn all_calls_stay_under_kaukos_limit_and_429_is_retried() {
    // Kauko allows itself 5 calls a second; the institution's threshold is 6.
    let sim = SimConfig {
        threshold_per_second: 6,
        ..sim_config()
    };
    let h = AlmaHarness::start_with(
        sim,
        &[
            ("KAUKO_ALMA_MAX_CALLS_PER_SECOND", "5"),
            ("KAUKO_ALMA_CACHE_SECONDS", "0"),
        ],
    )
    .await;
    let patrons: Vec<_> = (0..12).map(|_| patron()).collect();
    let loads = patrons.iter().map(|p| h.port.list_loans(p));
    let started = std::time::Instant::now();
    for result in futures::future::join_all(loads).await {
        assert!(result.unwrap().is_empty());
    }
    let elapsed = started.elapsed();
    let stats = h.sim.state.stats();
    assert!(stats.calls >= 12, "{stats:?}");
    // Kauko's own limit (5 a second, evenly spaced): n calls take at least
    // (n - 1) / 5 seconds. At the institution's 6 they would take 1/6 less,
    // so this fails if Kauko only stayed under the simulator's threshold.
    let least = Duration::from_millis(200) * (stats.calls as u32 - 1);
    assert!(
        elapsed >= least.mul_f64(0.95),
        "{} calls in {elapsed:?}: faster than Kauko's 5 a second (at least {least:?})",
        stats.calls
    );
    // Arrival jitter at the simulator can put one more call in a window.
    assert!(
        stats.max_calls_in_any_second <= 6,
        "Kauko went over its limit: {stats:?}"
    );
    assert_eq!(stats.throttled, 0, "{stats:?}");

    // Another application uses up the institution's threshold for a moment:
    // Kauko backs off and succeeds.
    h.sim.state.set_fault(Fault::Throttle);
    let port = h.port.clone();
    let me = patron();
    let call = tokio::spawn(async move { port.list_loans(&me).await });
    tokio::time::sleep(Duration::from_millis(700)).await;
    h.sim.state.set_fault(Fault::None);
    assert!(call.await.unwrap().unwrap().is_empty());
    assert!(h.sim.state.stats().throttled >= 1);

    // Throttled for good: RateLimited, a transient error.
    h.sim.state.set_fault(Fault::Throttle);
    let err = h.port.list_loans(&patron()).await.unwrap_err();
    assert_eq!(err, PortError::RateLimited);
    assert!(err.is_transient());
}

#[tokio::test]
async fn reads_are_cached_per_patron_and_own_changes_clear_them() {
    let h = AlmaHarness::start().await;
    let me = patron();
    assert!(h
        .port
        .list_borrowing_requests(&me)
        .await
        .unwrap()
        .is_empty());
    let before = h.sim.state.stats().calls;
    assert!(h
        .port
        .list_borrowing_requests(&me)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        h.sim.state.stats().calls,
        before,
        "the second read is cached"
    );
    // Another patron is not served from my cache.
    h.port.list_borrowing_requests(&patron()).await.unwrap();
    assert!(h.sim.state.stats().calls > before);
    // My own new request is listed at once, cache or not.
    let created = h
        .port
        .create_borrowing_request(&me, new_request(&unique("K")))
        .await
        .unwrap();
    let listed = h.port.list_borrowing_requests(&me).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.id);
}

#[tokio::test]
async fn failures_are_typed() {
    let h = AlmaHarness::start_with(
        sim_config(),
        &[
            ("KAUKO_ALMA_CACHE_SECONDS", "0"),
            ("KAUKO_ALMA_READ_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    let me = patron();
    for (fault, expect) in [
        (Fault::Unavailable, "unavailable"),
        (Fault::ServerError, "unavailable"),
        (Fault::Slow(Duration::from_secs(3)), "unavailable"),
    ] {
        h.sim.state.set_fault(fault);
        let err = h.port.list_loans(&me).await.unwrap_err();
        assert!(
            matches!((&err, expect), (PortError::Unavailable(_), "unavailable")),
            "{err:?}"
        );
        assert!(err.is_transient());
    }
    h.sim.state.set_fault(Fault::None);
    h.port.ping().await.unwrap();

    // A wrong key: Alma answers in XML whatever was asked.
    let wrong = AlmaHarness::start_with(sim_config(), &[("KAUKO_ALMA_API_KEY", "wrong")]).await;
    let err = wrong.port.list_loans(&me).await.unwrap_err();
    assert!(matches!(err, PortError::Unauthorized(_)), "{err:?}");
    assert!(!err.is_transient());

    // Alma down altogether.
    let addr = h.sim.addr;
    let state = h.sim.state.clone();
    let AlmaHarness { sim, port, .. } = h;
    sim.stop().await;
    let err = port.list_loans(&me).await.unwrap_err();
    assert!(matches!(err, PortError::Unavailable(_)), "{err:?}");
    // Back on the same address with the same institution: works again.
    let _sim = server::alma_sim::AlmaSim::start_with_state(addr, state)
        .await
        .unwrap();
    assert!(port.list_loans(&me).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_flood_waits_at_the_limiter_only_so_long_then_hears_busy() {
    // One call a second, and at most 300 ms in the queue for it.
    let h = AlmaHarness::start_with(
        sim_config(),
        &[
            ("KAUKO_ALMA_MAX_CALLS_PER_SECOND", "1"),
            ("KAUKO_ALMA_MAX_WAIT_MILLISECONDS", "300"),
            ("KAUKO_ALMA_CACHE_SECONDS", "0"),
        ],
    )
    .await;
    let patrons: Vec<_> = (0..10).map(|_| patron()).collect();
    let started = std::time::Instant::now();
    let loads = patrons.iter().map(|p| h.port.list_loans(p));
    let results = futures::future::join_all(loads).await;
    let elapsed = started.elapsed();
    let busy = results
        .iter()
        .filter(|r| **r == Err(PortError::RateLimited))
        .count();
    let served = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(busy + served, 10, "{results:?}");
    // Without the bound all ten would be served, one a second (10 s).
    assert!(busy >= 3, "the queue is told busy: {results:?}");
    assert!(
        elapsed < Duration::from_millis(2500),
        "nobody waited in the queue without end: {elapsed:?}"
    );
    // A refused turn is never sent: Alma saw no more than the budget
    // allowed in the time (a patron's first look is several calls).
    let calls = h.sim.state.stats().calls;
    assert!(
        calls as f64 <= elapsed.as_secs_f64().ceil() + 1.0,
        "{calls} calls in {elapsed:?} at one a second"
    );
}
