//! The staff desk on the local backend, on SQLite and PostgreSQL: a
//! borrowing request run from submitted to closed (the patron's loan, a
//! renewal asked and granted), a lending request answered, the queues'
//! counts, filters and paging, refusals that write nothing, and two staff
//! members (and two instances) acting on one request at once: exactly one
//! change, one event, and the other told what changed.

mod support;

use app::desk::{ActInput, BulkItem, DeskError, NoteInput, QueueQuery, StaffDesk};
use app::domain::history::{Actor, Audience, Side};
use app::domain::{
    Citation, CitationType, Format, NewBorrowingRequest, NewLendingRequest, PatronId,
    RequesterContact, ServiceType,
};
use chrono::{Duration, NaiveDate, Utc};
use server::adapters::local::{LocalBackend, LocalRules};
use server::desk::LocalDesk;
use server::port::contract::{partner, unique};
use server::port::ResourceSharing;
use server::storage::{Db, DbKind};
use support::step;

fn book(title: &str) -> NewBorrowingRequest {
    NewBorrowingRequest {
        external_id: unique("desk"),
        citation: Citation {
            kind: Some(CitationType::Book),
            title: title.into(),
            authors: vec!["Linna, Väinö".into()],
            ..Default::default()
        },
        format: Format::Physical,
        pickup_location: Some("MAIN".into()),
        needed_by: None,
        note: None,
        copyright_accepted: false,
    }
}

fn lending(partner: &str, title: &str) -> NewLendingRequest {
    NewLendingRequest {
        external_id: unique("lend"),
        partner_code: partner.into(),
        requester: RequesterContact {
            library_name: "Tampereen yliopiston kirjasto".into(),
            contact_name: None,
            email: "ill@tuni.example.org".into(),
        },
        citation: Citation {
            kind: Some(CitationType::Book),
            title: title.into(),
            ..Default::default()
        },
        service: ServiceType::Loan,
        delivery_address: Some("PL 617, 33014 Tampere".into()),
        max_cost: None,
        needed_by: None,
        note: None,
    }
}

async fn event_count(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM request_events")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn borrowing_flow(db: Db) {
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let desk = LocalDesk::new(db.clone());
    local
        .create_partner(partner("FI-TUNI", "Tampereen yliopisto"))
        .await
        .unwrap();
    let me = PatronId(unique("patron"));
    let r = local
        .create_borrowing_request(&me, book("Täällä Pohjantähden alla"))
        .await
        .unwrap();
    let id = r.id.clone();
    let b = Side::Borrowing;

    // Refusals write nothing: not in this state, a missing or unknown
    // partner, a stale version.
    let before = event_count(&db).await;
    let v = desk.request(b, &id).await.unwrap().version;
    let try_act = |action: &str, partner: Option<&str>, version: i64| ActInput {
        id: id.clone(),
        action: action.into(),
        version,
        partner: partner.map(str::to_owned),
        ..ActInput::default()
    };
    assert_eq!(
        desk.act(b, "s", try_act("received", None, v)).await,
        Err(DeskError::NotAllowed)
    );
    assert_eq!(
        desk.act(b, "s", try_act("cancel", None, v)).await,
        Err(DeskError::NotAllowed),
        "the patron's action"
    );
    assert_eq!(
        desk.act(b, "s", try_act("nonsense", None, v)).await,
        Err(DeskError::NotAllowed)
    );
    assert!(
        matches!(desk.act(b, "s", try_act("send_to_partner", None, v)).await, Err(DeskError::Invalid(e)) if e[0].field == "partner")
    );
    assert!(
        matches!(desk.act(b, "s", try_act("send_to_partner", Some("FI-NOPE"), v)).await, Err(DeskError::Invalid(e)) if e[0].key == "desk.error.partner_unknown")
    );
    assert!(matches!(
        desk.act(b, "s", try_act("send_to_partner", Some("FI-TUNI"), v + 7))
            .await,
        Err(DeskError::ChangedMeanwhile { .. })
    ));
    assert_eq!(event_count(&db).await, before, "refusals write no event");

    // Submitted → sent → will supply → shipped → received → on loan.
    step(&desk, b, &id, "send_to_partner", |i| {
        i.partner = Some("FI-TUNI".into())
    })
    .await;
    let seen = local.get_borrowing_request(&me, &id).await.unwrap();
    assert_eq!(seen.status.code(), "REQUEST_SENT");
    step(&desk, b, &id, "partner_will_supply", |_| {}).await;
    step(&desk, b, &id, "shipped_physically", |_| {}).await;
    step(&desk, b, &id, "received", |_| {}).await;
    let due = Utc::now().date_naive() + Duration::days(28);
    step(&desk, b, &id, "lend_to_patron", |i| i.due_date = Some(due)).await;

    // The patron sees the loan, asks to renew; the due date waits for the
    // lender.
    let loans = local.list_loans(&me).await.unwrap();
    assert_eq!(loans.len(), 1, "lending to the patron creates one ILL loan");
    assert_eq!(loans[0].request_id.as_deref(), Some(id.as_str()));
    assert_eq!(loans[0].due_date.date_naive(), due);
    let asked = local.renew_loan(&me, &loans[0].id).await.unwrap();
    assert!(asked.renewal_requested);
    assert_eq!(
        asked.due_date, loans[0].due_date,
        "asking does not move the due date"
    );
    let again = local.renew_loan(&me, &loans[0].id).await.unwrap();
    assert!(again.renewal_requested, "asking twice asks once");
    let now = desk.request(b, &id).await.unwrap();
    assert_eq!(now.state, "RENEW_REQUESTED");
    assert_eq!(
        now.events
            .iter()
            .filter(|e| e.action == "ask_renewal")
            .count(),
        1
    );
    assert_eq!(
        now.events.last().unwrap().actor,
        Actor::Patron(me.0.clone())
    );
    let later = due + Duration::days(14);
    step(&desk, b, &id, "grant_renewal", |i| i.due_date = Some(later)).await;
    let loan = &local.list_loans(&me).await.unwrap()[0];
    assert_eq!(loan.due_date.date_naive(), later);
    assert_eq!(loan.renewals, 1);
    assert!(!loan.renewal_requested);

    // A note to the patron, an internal one.
    desk.note(
        b,
        "staff-anna",
        NoteInput {
            id: id.clone(),
            text: "Palautathan ajoissa".into(),
            to_patron: true,
        },
    )
    .await
    .unwrap();
    desk.note(
        b,
        "staff-anna",
        NoteInput {
            id: id.clone(),
            text: "Kumppani hidas".into(),
            to_patron: false,
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        desk.note(
            b,
            "s",
            NoteInput {
                id: id.clone(),
                text: "  ".into(),
                to_patron: false
            }
        )
        .await,
        Err(DeskError::Invalid(_))
    ));

    // Returned, back to the partner, closed.
    step(&desk, b, &id, "returned_by_patron", |_| {}).await;
    assert!(
        local.list_loans(&me).await.unwrap().is_empty(),
        "the loan is returned"
    );
    step(&desk, b, &id, "return_to_partner", |_| {}).await;
    step(&desk, b, &id, "close", |_| {}).await;
    let done = desk.request(b, &id).await.unwrap();
    assert_eq!(done.state, "REQUEST_COMPLETED_BOR");
    assert!(done.actions.is_empty(), "an ended request offers nothing");
    let actions: Vec<_> = done.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "created",
            "send_to_partner",
            "partner_will_supply",
            "shipped_physically",
            "received",
            "lend_to_patron",
            "ask_renewal",
            "grant_renewal",
            "note",
            "note",
            "returned_by_patron",
            "return_to_partner",
            "close"
        ]
    );
    for pair in done.events.windows(2) {
        assert_eq!(
            pair[1].from_state.as_deref(),
            Some(pair[0].to_state.as_str()),
            "the history chains"
        );
    }
    let notes: Vec<_> = done
        .events
        .iter()
        .filter_map(|e| e.audience.map(|a| (e.note.clone().unwrap(), a)))
        .collect();
    assert!(notes.contains(&("Palautathan ajoissa".into(), Audience::Patron)));
    assert!(notes.contains(&("Kumppani hidas".into(), Audience::Internal)));
    assert_eq!(done.events[1].partner.as_deref(), Some("FI-TUNI"));
    assert_eq!(done.events[1].actor, Actor::Staff("staff-anna".into()));

    // The patron's timeline leaves the internal note out.
    let steps = app::domain::history::patron_timeline(&done.events);
    assert!(steps
        .iter()
        .any(|s| s.note.as_deref() == Some("Palautathan ajoissa")));
    assert!(!format!("{steps:?}").contains("Kumppani hidas"));
}

async fn refusing_a_renewal(db: Db) {
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let desk = LocalDesk::new(db.clone());
    local
        .create_partner(partner("FI-OY", "Oulun yliopisto"))
        .await
        .unwrap();
    let me = PatronId(unique("patron"));
    let id = local
        .create_borrowing_request(&me, book("Seitsemän veljestä"))
        .await
        .unwrap()
        .id;
    let b = Side::Borrowing;
    support::through_to_loan(&desk, &id, "FI-OY", NaiveDate::from_ymd_opt(2031, 1, 1)).await;
    let loan = local.list_loans(&me).await.unwrap().remove(0);
    local.renew_loan(&me, &loan.id).await.unwrap();
    let now = desk.request(b, &id).await.unwrap();
    let no_reason = ActInput {
        id: id.clone(),
        action: "refuse_renewal".into(),
        version: now.version,
        ..ActInput::default()
    };
    assert!(
        matches!(desk.act(b, "s", no_reason).await, Err(DeskError::Invalid(e)) if e[0].field == "reason")
    );
    step(&desk, b, &id, "refuse_renewal", |i| {
        i.reason = Some("Varattu toiselle".into())
    })
    .await;
    let loan = local.list_loans(&me).await.unwrap().remove(0);
    assert!(!loan.renewal_requested && !loan.renewable);
    assert_eq!(
        loan.due_date.date_naive(),
        NaiveDate::from_ymd_opt(2031, 1, 1).unwrap()
    );
    let last = desk.request(b, &id).await.unwrap().events.pop().unwrap();
    assert_eq!(last.note.as_deref(), Some("Varattu toiselle"));
    assert_eq!(
        last.audience,
        Some(Audience::Patron),
        "the patron reads why"
    );
}

async fn lending_flow(db: Db) {
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let desk = LocalDesk::new(db.clone());
    local
        .create_partner(partner("FI-TUNI", "Tampereen yliopisto"))
        .await
        .unwrap();
    let l = Side::Lending;
    let id = local
        .create_lending_request(lending("FI-TUNI", "Kalevala"))
        .await
        .unwrap()
        .id;
    let r = desk.request(l, &id).await.unwrap();
    assert_eq!(r.state, "RequestReceived");
    assert_eq!(r.who, "Tampereen yliopiston kirjasto");
    let offered: Vec<_> = r.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(offered, ["accept", "cannot_supply"]);
    step(&desk, l, &id, "accept", |_| {}).await;
    let due = NaiveDate::from_ymd_opt(2031, 2, 1).unwrap();
    step(&desk, l, &id, "ship", |i| i.due_date = Some(due)).await;
    let r = desk.request(l, &id).await.unwrap();
    assert_eq!((r.state.as_str(), r.due_date), ("Loaned", Some(due)));
    step(&desk, l, &id, "returned", |_| {}).await;
    assert_eq!(desk.request(l, &id).await.unwrap().state, "LoanCompleted");

    // A copy: the link goes into the history for the requesting library.
    let copy = local
        .create_lending_request(lending("FI-TUNI", "Artikkeli"))
        .await
        .unwrap()
        .id;
    step(&desk, l, &copy, "accept", |_| {}).await;
    let now = desk.request(l, &copy).await.unwrap();
    let bad = ActInput {
        id: copy.clone(),
        action: "send_copy".into(),
        version: now.version,
        link: Some("javascript:alert(1)".into()),
        ..ActInput::default()
    };
    assert!(
        matches!(desk.act(l, "s", bad).await, Err(DeskError::Invalid(e)) if e[0].field == "link")
    );
    step(&desk, l, &copy, "send_copy", |i| {
        i.link = Some("https://files.example.org/copy.pdf".into())
    })
    .await;
    let r = desk.request(l, &copy).await.unwrap();
    assert_eq!(r.state, "CopyCompleted");
    assert_eq!(
        r.events.last().unwrap().note.as_deref(),
        Some("https://files.example.org/copy.pdf")
    );

    // Cannot supply needs a reason.
    let no = local
        .create_lending_request(lending("FI-TUNI", "Harvinainen"))
        .await
        .unwrap()
        .id;
    step(&desk, l, &no, "cannot_supply", |i| {
        i.reason = Some("Ei lainata kotimaahan".into())
    })
    .await;
    assert_eq!(desk.request(l, &no).await.unwrap().state, "Unfilled");
}

async fn queues(db: Db) {
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let desk = LocalDesk::new(db.clone());
    local
        .create_partner(partner("FI-TUNI", "Tampereen yliopisto"))
        .await
        .unwrap();
    let b = Side::Borrowing;
    let me = PatronId(unique("queue"));
    let mut ids = Vec::new();
    for i in 0..30 {
        let mut req = book(&format!("Kirja numero {i:02}"));
        if i % 3 == 0 {
            req.citation.kind = Some(CitationType::Article);
            req.citation.container_title = Some("Virittäjä".into());
            req.format = Format::Digital;
            req.copyright_accepted = true;
        }
        ids.push(local.create_borrowing_request(&me, req).await.unwrap().id);
    }
    for id in &ids[..5] {
        step(&desk, b, id, "send_to_partner", |i| {
            i.partner = Some("FI-TUNI".into())
        })
        .await;
    }
    let all = desk.queue(b, &QueueQuery::default()).await.unwrap();
    assert_eq!(all.total, 30);
    assert_eq!(all.rows.len(), 25, "a page");
    let count = |state: &str| all.counts.iter().find(|c| c.state == state).unwrap().count;
    assert_eq!(count("REQUEST_CREATED_BOR"), 25);
    assert_eq!(count("REQUEST_SENT"), 5);
    // The oldest waiting work first: the first created, untouched ones.
    assert_eq!(all.rows[0].id, ids[5]);
    let page2 = desk
        .queue(
            b,
            &QueueQuery {
                page: 1,
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page2.rows.len(), 5);
    assert_eq!(
        page2.rows.last().unwrap().id,
        ids[4],
        "the most recently changed last"
    );

    let sent = desk
        .queue(
            b,
            &QueueQuery {
                state: Some("REQUEST_SENT".into()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.total, 5);
    assert!(sent
        .rows
        .iter()
        .all(|r| r.partner.as_deref() == Some("FI-TUNI")));
    let needs = desk
        .queue(
            b,
            &QueueQuery {
                needs_action: true,
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        needs.total, 25,
        "sent requests wait for the partner, not staff"
    );
    let articles = desk
        .queue(
            b,
            &QueueQuery {
                kind: Some("article".into()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(articles.total, 10);
    let by_partner = desk
        .queue(
            b,
            &QueueQuery {
                partner: Some("FI-TUNI".into()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_partner.total, 5);
    let search = desk
        .queue(
            b,
            &QueueQuery {
                q: Some("NUMERO 07".into()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(search.total, 1, "title words, any case");
    let by_patron = desk
        .queue(
            b,
            &QueueQuery {
                q: Some(me.0.clone()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_patron.total, 30);
    let by_number = desk
        .queue(
            b,
            &QueueQuery {
                q: Some(ids[9][..12].to_owned()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_number.rows[0].id, ids[9]);
    let wild = desk
        .queue(
            b,
            &QueueQuery {
                q: Some("%".into()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(wild.total, 0, "a % is matched literally, not as a wildcard");
    let today = Utc::now().date_naive();
    let future = desk
        .queue(
            b,
            &QueueQuery {
                from: Some(today + Duration::days(1)),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(future.total, 0);
    let dated = desk
        .queue(
            b,
            &QueueQuery {
                from: Some(today),
                to: Some(today),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(dated.total, 30);

    // Marking several received at once: the ones in a state that allows
    // it are done, the others and a stale one skipped.
    for id in &ids[..3] {
        step(&desk, b, id, "shipped_physically", |_| {}).await;
    }
    let shipped = desk
        .queue(
            b,
            &QueueQuery {
                state: Some("SHIPPED_PHYSICALLY".into()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    let mut items: Vec<BulkItem> = shipped
        .rows
        .iter()
        .map(|r| BulkItem {
            id: r.id.clone(),
            version: r.version,
        })
        .collect();
    items[2].version -= 1;
    items.push(BulkItem {
        id: ids[20].clone(),
        version: 1,
    });
    let before = event_count(&db).await;
    let outcome = desk
        .act_many(b, "staff-anna", "received", items, None)
        .await
        .unwrap();
    assert_eq!(outcome.done.len(), 2);
    assert_eq!(outcome.skipped.len(), 2);
    assert_eq!(
        event_count(&db).await,
        before + 2,
        "one event per request done"
    );

    // Lending queue: the library system's creation code counts as
    // "request received".
    let l = Side::Lending;
    local
        .create_lending_request(lending("FI-TUNI", "Kanteletar"))
        .await
        .unwrap();
    let lq = desk
        .queue(
            l,
            &QueueQuery {
                state: Some("RequestReceived".into()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(lq.total, 1);
    assert_eq!(lq.rows[0].who, "Tampereen yliopiston kirjasto");
    let lq = desk
        .queue(
            l,
            &QueueQuery {
                q: Some("tampereen".into()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(lq.total, 1);
}

/// The title search: every word somewhere in the title, any order, any
/// case (also outside ASCII), as a literal run of characters; words of
/// three or more characters through the full-text index, which follows
/// the requests as they are added.
async fn title_search(db: Db) {
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let desk = LocalDesk::new(db.clone());
    let me = PatronId(unique("search"));
    for title in [
        "Äidinkielen opetuksen historia",
        "Suomen kielen historia, osa 2",
        "Kalevala: runot ja selitykset",
        "Kaksi 100% varmaa tapaa",
    ] {
        local
            .create_borrowing_request(&me, book(title))
            .await
            .unwrap();
    }
    let found = |q: &'static str| {
        let desk = &desk;
        async move {
            let queue = desk
                .queue(
                    Side::Borrowing,
                    &QueueQuery {
                        q: Some(q.into()),
                        ..QueueQuery::default()
                    },
                )
                .await
                .unwrap();
            let mut titles: Vec<String> = queue.rows.into_iter().map(|r| r.title).collect();
            titles.sort();
            titles
        }
    };
    assert_eq!(found("historia").await.len(), 2, "a word in two titles");
    assert_eq!(
        found("HISTORIA kielen").await,
        [
            "Suomen kielen historia, osa 2",
            "Äidinkielen opetuksen historia"
        ],
        "every word, any order, any case"
    );
    assert_eq!(
        found("äidinkiel").await,
        ["Äidinkielen opetuksen historia"],
        "case folded outside ASCII, and the start of a word"
    );
    assert_eq!(found("istori").await.len(), 2, "inside a word");
    assert_eq!(
        found("historia 2").await,
        ["Suomen kielen historia, osa 2"],
        "a short word narrows what the long one found"
    );
    assert_eq!(
        found("kielen kalevala").await.len(),
        0,
        "all words, not any"
    );
    assert_eq!(found("100%").await, ["Kaksi 100% varmaa tapaa"]);
    assert_eq!(
        found("\"runot").await.len(),
        0,
        "a quote is a character, not syntax"
    );
    assert_eq!(
        found("kielen OR kalevala").await.len(),
        0,
        "no query syntax"
    );
    assert_eq!(found("kalevala*").await.len(), 0, "no prefix syntax");
    // The index follows a title that changes.
    sqlx::query("UPDATE borrowing_requests SET title = 'Uusi nimi' WHERE title LIKE 'Kalevala%'")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(found("kalevala").await.len(), 0);
    assert_eq!(found("uusi nimi").await.len(), 1);
    // The search is served by an index, not by reading every title.
    let indexes: Vec<String> = match db.kind {
        DbKind::Sqlite => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE name IN ('borrowing_search', 'lending_search') ORDER BY name",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap(),
        DbKind::Postgres => sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE '%_trgm' ORDER BY indexname",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap(),
    };
    assert_eq!(
        indexes.len(),
        match db.kind {
            DbKind::Sqlite => 2,
            DbKind::Postgres => 3,
        },
        "{indexes:?}"
    );
}

#[tokio::test]
async fn title_search_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    title_search(db).await;
}

#[tokio::test]
async fn title_search_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    title_search(db).await;
}

/// Two staff members (on `a` and `b`, which may be two instances) act on
/// one request at once: one wins, the other is told what changed, and the
/// history has exactly one event for the change.
async fn collision(setup: &Db, a: &LocalDesk, b_desk: &LocalDesk) {
    let local = LocalBackend::new(setup.clone(), LocalRules::default());
    local
        .create_partner(partner("FI-RACE", "Kilpakirjasto"))
        .await
        .unwrap();
    let me = PatronId(unique("race"));
    for _ in 0..5 {
        let id = local
            .create_borrowing_request(&me, book("Kilpa"))
            .await
            .unwrap()
            .id;
        let seen = a.request(Side::Borrowing, &id).await.unwrap();
        let input = |action: &str| ActInput {
            id: id.clone(),
            action: action.into(),
            version: seen.version,
            seen_seq: seen.events.last().unwrap().seq,
            partner: Some("FI-RACE".into()),
            reason: Some("ei saatavilla".into()),
            ..ActInput::default()
        };
        let (one, two) = futures::join!(
            a.act(Side::Borrowing, "staff-anna", input("send_to_partner")),
            b_desk.act(Side::Borrowing, "staff-bertil", input("mark_unfilled"))
        );
        let results = [&one, &two];
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "exactly one applied: {one:?} / {two:?}");
        let lost = results.iter().find(|r| r.is_err()).unwrap();
        match lost {
            Err(DeskError::ChangedMeanwhile { changes, now }) => {
                assert_eq!(changes.len(), 1, "told exactly what changed");
                assert_eq!(now.version, seen.version + 1);
            }
            other => panic!("the loser is told it changed meanwhile: {other:?}"),
        }
        let after = a.request(Side::Borrowing, &id).await.unwrap();
        assert_eq!(after.events.len(), 2, "created + one change");
    }
}

#[tokio::test]
async fn a_borrowing_request_runs_from_submitted_to_closed_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    borrowing_flow(db.clone()).await;
    refusing_a_renewal(db).await;
}

#[tokio::test]
async fn a_borrowing_request_runs_from_submitted_to_closed_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    borrowing_flow(db.clone()).await;
    refusing_a_renewal(db).await;
}

#[tokio::test]
async fn staff_answer_a_lending_request_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    lending_flow(db).await;
}

#[tokio::test]
async fn staff_answer_a_lending_request_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    lending_flow(db).await;
}

#[tokio::test]
async fn queues_count_filter_and_page_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    queues(db).await;
}

#[tokio::test]
async fn queues_count_filter_and_page_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    queues(db).await;
}

#[tokio::test]
async fn two_staff_members_collide_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    let (a, b) = (LocalDesk::new(db.clone()), LocalDesk::new(db.clone()));
    collision(&db, &a, &b).await;
}

#[tokio::test]
async fn two_instances_collide_on_postgres() {
    let Some(url) = support::postgres_url().await else {
        return;
    };
    let one = Db::connect(&url, 4, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    one.migrate().await.unwrap();
    // A second pool: another instance of Kauko on the same database.
    let two = Db::connect(&url, 4, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let (a, b) = (LocalDesk::new(one.clone()), LocalDesk::new(two));
    collision(&one, &a, &b).await;
}

/// Over HTTP: the desk is staff only (401 signed out, 403 for a patron),
/// staff act through it, and a patron's request page shows only their own
/// request, with the history in their words and no internal note.
#[tokio::test]
async fn the_desk_is_for_staff_and_the_request_page_for_its_patron() {
    use serde_json::json;
    let kauko = support::start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en"),
    ])
    .await;
    let patron = kauko
        .sign_in_as("aino.virtanen", "Aino Virtanen", false)
        .await;
    let other = kauko.sign_in_as("bertil.lind", "Bertil Lind", false).await;
    let staff = kauko.sign_in_as("liisa.staff", "Liisa", true).await;
    let queue = json!({"side": "borrowing", "query": QueueQuery::default()});
    assert_eq!(
        kauko
            .call_json("staff/desk/queue", "", queue.clone())
            .await
            .0,
        401
    );
    assert_eq!(
        kauko
            .call_json("staff/desk/queue", &patron, queue.clone())
            .await
            .0,
        403
    );
    let (status, body) = kauko.call_json("staff/desk/queue", &staff, queue).await;
    assert_eq!(status, 200, "{body}");
    let row = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "Suomen kielen historia")
        .expect("a seeded request")
        .clone();
    let id = row["id"].as_str().unwrap().to_owned();
    let act = |action: &str, version: i64| {
        json!({"side": "borrowing", "input": {
        "id": id, "action": action, "version": version, "seen_seq": 0,
        "partner": null, "reason": null, "due_date": "2031-01-31", "link": null}})
    };
    assert_eq!(
        kauko
            .call_json("staff/desk/act", &patron, act("lend_to_patron", 1))
            .await
            .0,
        403
    );
    let version = row["version"].as_i64().unwrap();
    let (status, body) = kauko
        .call_json("staff/desk/act", &staff, act("lend_to_patron", version))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Done"]["state"], "LOANED", "{body}");
    let (_, body) = kauko
        .call_json("staff/desk/act", &staff, act("lend_to_patron", version))
        .await;
    assert!(
        body.get("ChangedMeanwhile").is_some(),
        "a stale page is refused: {body}"
    );
    let note = json!({"side": "borrowing", "input": {"id": id, "text": "sisäinen huomio", "to_patron": false}});
    assert_eq!(
        kauko.call_json("staff/desk/note", &staff, note).await.0,
        200
    );

    // The patron's page: theirs only.
    let (status, page) = kauko.page(&format!("/my/{id}"), &patron).await;
    assert_eq!(status, 200);
    assert!(page.contains("Suomen kielen historia"));
    assert!(page.contains("On loan"), "the timeline in patron words");
    assert!(
        !page.contains("sisäinen huomio"),
        "internal notes stay internal"
    );
    let (status, body) = kauko.call("me/request", &other, &[("id", &id)]).await;
    assert_eq!(status, 404, "another patron's request is not found: {body}");
    let (status, _) = kauko.call("me/request", &patron, &[("id", &id)]).await;
    assert_eq!(status, 200);
}

/// A copy sent as a file: only staff, from Kauko's own pages, can upload
/// it; a file that is not a PDF or an image, or an upload on a stale page,
/// is refused with nothing stored or changed; a good one is stored once,
/// recorded as "copy sent" with its download link, and the requesting
/// library downloads it (no account) as an attachment until it expires.
#[tokio::test]
async fn a_copy_is_sent_as_a_file_and_downloaded_by_the_library() {
    let kauko = support::start_kauko(&[("KAUKO_LENDING_COPY_MAX_MB", "1")]).await;
    let db = kauko.state.db.clone();
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let desk = LocalDesk::new(db.clone());
    let l = Side::Lending;
    local
        .create_partner(partner("FI-TUNI", "Tampereen yliopisto"))
        .await
        .unwrap();
    let id = local
        .create_lending_request(lending("FI-TUNI", "Artikkeli kopiona"))
        .await
        .unwrap()
        .id;
    step(&desk, l, &id, "accept", |_| {}).await;
    let patron = kauko.sign_in_as("aino.virtanen", "Aino", false).await;
    let staff = kauko.sign_in_as("liisa.staff", "Liisa", true).await;
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer\n%%EOF\n".to_vec();
    let copies = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM copy_files")
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    let upload = |cookie: String, origin: bool, body: Vec<u8>, name: &'static str| {
        let kauko = &kauko;
        let desk = &desk;
        let id = id.clone();
        async move {
            let now = desk.request(Side::Lending, &id).await.unwrap();
            let form = reqwest::multipart::Form::new()
                .text("version", now.version.to_string())
                .text("seen_seq", now.events.last().unwrap().seq.to_string())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(body).file_name(name),
                );
            let mut req = kauko
                .client
                .post(format!("{}/staff/lending/{id}/copy", kauko.base))
                .header("cookie", cookie)
                .multipart(form);
            if origin {
                req = req.header("origin", &kauko.base);
            }
            support::status_and_location(&req.send().await.unwrap())
        }
    };
    assert_eq!(
        upload(String::new(), true, pdf.clone(), "a.pdf").await.0,
        401
    );
    assert_eq!(upload(patron, true, pdf.clone(), "a.pdf").await.0, 403);
    assert_eq!(
        upload(staff.clone(), false, pdf.clone(), "a.pdf").await.0,
        403,
        "a cross-site post is refused"
    );
    let (status, to) = upload(
        staff.clone(),
        true,
        b"<html><script>alert(1)</script>".to_vec(),
        "a.pdf",
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (
            303,
            &*format!("/staff/lending/{id}?copy=desk.error.copy_type")
        )
    );
    let (_, to) = upload(staff.clone(), true, Vec::new(), "a.pdf").await;
    assert!(to.ends_with("?copy=desk.error.copy_missing"), "{to}");
    let mut big = pdf.clone();
    big.resize(1024 * 1024 + 1, b' ');
    let (_, to) = upload(staff.clone(), true, big, "big.pdf").await;
    assert!(to.ends_with("?copy=desk.error.copy_size"), "{to}");
    assert_eq!(copies().await, 0, "nothing refused is kept");
    assert_eq!(desk.request(l, &id).await.unwrap().state, "WillSupply");

    let (status, to) = upload(
        staff.clone(),
        true,
        pdf.clone(),
        "C:\\skannit\\Artikkeli \"1\".pdf",
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (303, &*format!("/staff/lending/{id}?copy=sent"))
    );
    assert_eq!(copies().await, 1);
    let done = desk.request(l, &id).await.unwrap();
    assert_eq!(done.state, "CopyCompleted");
    let event = done.events.last().unwrap();
    assert_eq!(event.action, "send_copy");
    assert_eq!(event.actor, Actor::Staff("liisa.staff".into()));
    let link = event.note.clone().unwrap();
    assert!(
        link.starts_with(&format!("{}/copies/", kauko.base)),
        "{link}"
    );
    // The page is no longer the one the form was on: a second upload from
    // it is refused and stores nothing.
    let (_, to) = upload(staff.clone(), true, pdf.clone(), "a.pdf").await;
    assert!(
        to.ends_with("?copy=desk.not_allowed") || to.ends_with("?copy=desk.changed"),
        "{to}"
    );
    assert_eq!(copies().await, 1);

    // The library downloads it without an account.
    let res = kauko.client.get(&link).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/pdf");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"Artikkeli 1.pdf\"; filename*=UTF-8''Artikkeli%201%2Epdf"
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(
        server::desk::copies::CopyStore::new(db.clone())
            .downloads(token)
            .await
            .unwrap(),
        1
    );
    let unknown = format!("{}/copies/{}", kauko.base, "0".repeat(64));
    assert_eq!(
        kauko
            .client
            .get(unknown)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    sqlx::query("UPDATE copy_files SET expires_at = '2020-01-01T00:00:00Z'")
        .execute(&db.pool)
        .await
        .unwrap();
    let gone = kauko.client.get(&link).send().await.unwrap();
    assert_eq!(gone.status().as_u16(), 410, "an expired copy is gone");
}
