//! Every request's history, on SQLite and PostgreSQL: each change writes
//! exactly one event in the same transaction (also when changes race), the
//! table refuses updates and deletes, and requests that existed before the
//! history get one "created" event from the migration.

mod support;

use std::time::Duration;

use app::domain::history::{Actor, Side};
use app::domain::{BorrowingStatus, PatronId};
use server::adapters::local::{LocalBackend, LocalRules};
use server::port::contract::{new_request, unique};
use server::port::{PortError, Refusal, ResourceSharing};
use server::storage::Db;

async fn on_sqlite() -> (Db, tempfile::TempDir) {
    support::sqlite_db().await
}

async fn scenario(db: Db) {
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let me = PatronId(unique("patron"));
    let created = local
        .create_borrowing_request(&me, new_request(&unique("hist")))
        .await
        .unwrap();
    let events = server::history::of_request(&db, Side::Borrowing, &created.id)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "created");
    assert_eq!(events[0].actor, Actor::Patron(me.0.clone()));
    assert_eq!(events[0].from_state, None);
    assert_eq!(events[0].to_state, "REQUEST_CREATED_BOR");

    // Staff move it on: one event each, with who and from where.
    local
        .set_status_by(
            &created.id,
            &BorrowingStatus::RequestSent,
            Actor::Staff("staff".into()),
            "send_to_partner",
        )
        .await
        .unwrap();
    let events = server::history::of_request(&db, Side::Borrowing, &created.id)
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].actor, Actor::Staff("staff".into()));
    assert_eq!(events[1].from_state.as_deref(), Some("REQUEST_CREATED_BOR"));
    assert_eq!(events[1].to_state, "REQUEST_SENT");
    assert!(events[0].seq < events[1].seq);

    // A refused change writes nothing.
    let other = local
        .create_borrowing_request(&me, new_request(&unique("hist")))
        .await
        .unwrap();
    local
        .cancel_borrowing_request(&me, &other.id)
        .await
        .unwrap();
    assert_eq!(
        local.cancel_borrowing_request(&me, &other.id).await,
        Err(PortError::Refused(Refusal::NotCancellable))
    );
    let events = server::history::of_request(&db, Side::Borrowing, &other.id)
        .await
        .unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["created", "cancel"]);

    // The table refuses to forget or rewrite.
    for sql in [
        "UPDATE request_events SET note = 'rewritten'",
        "DELETE FROM request_events",
    ] {
        let refused = sqlx::query(sql).execute(&db.pool).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 4);

    // Racing changes: every change that happened has exactly one event;
    // a change based on a stale read is refused, never applied unrecorded.
    let raced = local
        .create_borrowing_request(&me, new_request(&unique("hist")))
        .await
        .unwrap();
    let targets = [
        BorrowingStatus::RequestSent,
        BorrowingStatus::Rejected,
        BorrowingStatus::CancelledByStaff,
        BorrowingStatus::ReadyToSend,
        BorrowingStatus::LocateFailed,
        BorrowingStatus::WillSupply,
    ];
    let tries = targets
        .iter()
        .map(|t| local.set_status_by(&raced.id, t, Actor::Staff("staff".into()), "race"));
    let results = futures::future::join_all(tries).await;
    let applied = results.iter().filter(|r| r.is_ok()).count();
    for r in &results {
        assert!(
            matches!(
                r,
                Ok(())
                    | Err(PortError::Refused(Refusal::ChangedMeanwhile))
                    | Err(PortError::Unavailable(_))
                    | Err(PortError::Other(_))
            ),
            "{r:?}"
        );
    }
    assert!(applied >= 1);
    let events = server::history::of_request(&db, Side::Borrowing, &raced.id)
        .await
        .unwrap();
    assert_eq!(
        events.len(),
        applied + 1,
        "one event per change: {results:?}"
    );
    // The events chain: each starts where the one before ended, and the
    // last is the request's state.
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].from_state.as_deref(),
            Some(pair[0].to_state.as_str())
        );
    }
    let now = local.get_borrowing_request(&me, &raced.id).await.unwrap();
    assert_eq!(events.last().unwrap().to_state, now.status.code());

    // A lending request's history starts with the partner's request.
    local
        .create_partner(server::port::contract::partner(
            "FI-HIST",
            "Historiakirjasto",
        ))
        .await
        .unwrap();
    let lending = app::domain::NewLendingRequest {
        external_id: unique("lend"),
        partner_code: "FI-HIST".into(),
        requester: app::domain::RequesterContact {
            library_name: "Historiakirjasto".into(),
            contact_name: None,
            email: "ill@partner.example.org".into(),
        },
        citation: app::domain::Citation {
            kind: Some(app::domain::CitationType::Book),
            title: "Suomen historia".into(),
            ..Default::default()
        },
        service: app::domain::ServiceType::Loan,
        delivery_address: Some("PL 1, 00014 Helsinki".into()),
        max_cost: None,
        needed_by: None,
        note: None,
    };
    let lent = local.create_lending_request(lending).await.unwrap();
    let events = server::history::of_request(&db, Side::Lending, &lent.id)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, Actor::Partner("FI-HIST".into()));
}

#[tokio::test]
async fn each_change_writes_one_event_on_sqlite() {
    let (db, _dir) = on_sqlite().await;
    scenario(db).await;
}

#[tokio::test]
async fn each_change_writes_one_event_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    scenario(db).await;
}

/// Migrates `db` up to (not including) the history, adds requests the old
/// way, then migrates the rest: each request gets its "created" event.
async fn backfill(db: Db, dir: &str) {
    let all = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .unwrap();
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .unwrap();
    before.migrations = std::borrow::Cow::Owned(
        all.migrations
            .iter()
            .filter(|m| m.version < 20261203000002)
            .cloned()
            .collect(),
    );
    before.run(&db.pool).await.unwrap();
    for (i, status) in ["REQUEST_CREATED_BOR", "LOANED"].iter().enumerate() {
        sqlx::query(
            "INSERT INTO borrowing_requests (id, patron_id, external_id, citation, format, status, created_at, updated_at) \
             VALUES ($1, 'aino', $2, '{}', 'PHYSICAL', $3, $4, $4)",
        )
        .bind(format!("old-{i}"))
        .bind(format!("old-ext-{i}"))
        .bind(status.to_string())
        .bind(format!("2026-01-0{}T10:00:00.000000Z", i + 1))
        .execute(&db.pool)
        .await
        .unwrap();
    }
    sqlx::query("INSERT INTO lending_requests (id, external_id, partner_code, body, status, created_at) VALUES ('old-l', 'old-l-ext', 'FI-TUNI', '{}', 'REQUEST_CREATED_LEND', '2026-01-03T10:00:00.000000Z')")
        .execute(&db.pool)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    for (side, id, state) in [
        (Side::Borrowing, "old-0", "REQUEST_CREATED_BOR"),
        (Side::Borrowing, "old-1", "LOANED"),
        (Side::Lending, "old-l", "REQUEST_CREATED_LEND"),
    ] {
        let events = server::history::of_request(&db, side, id).await.unwrap();
        assert_eq!(events.len(), 1, "{id}");
        assert_eq!(events[0].action, "created");
        assert_eq!(events[0].to_state, state);
    }
}

#[tokio::test]
async fn existing_requests_get_their_created_event_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kauko.db", dir.path().display());
    let db = Db::connect(&url, 2, Duration::from_secs(5)).await.unwrap();
    backfill(
        db,
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"),
    )
    .await;
}

#[tokio::test]
async fn existing_requests_get_their_created_event_on_postgres() {
    let Some(url) = support::postgres_url().await else {
        return;
    };
    let db = Db::connect(&url, 2, Duration::from_secs(5)).await.unwrap();
    backfill(
        db,
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"),
    )
    .await;
}
