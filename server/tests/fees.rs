//! Fees and invoices on SQLite and PostgreSQL: lines written from the
//! request history by the rule valid that day, once (two instances reading
//! at once); bad rules refused; a rule changed later leaves old lines
//! alone, and the database refuses to edit a line; adjustments and
//! waivers are new lines; invoice runs are the same when run again or by
//! two instances at once, list the customers that cannot be invoiced, and
//! their totals are the rows' sums; credit notes reverse chosen lines once;
//! the reconciliation explains every billable event. Golden files for the
//! SAP profile (CSV, and XLSX read back) and Finvoice, which validates
//! against the Finvoice 3.0 schema; the Finnish check digits against the
//! shared fixtures.

mod support;

use std::path::PathBuf;

use app::domain::history::Side;
use app::domain::partner::Partner;
use app::domain::{
    Citation, CitationType, Format, NewBorrowingRequest, NewLendingRequest, PatronId,
    RequesterContact, ServiceType,
};
use app::fees::{
    amounts, Amounts, Billable, ChargeError, Conditions, Customer, CustomerError, FeeLine,
    FeeOffice, Invoice, InvoiceKind, LedgerError, LineChange, LineKind, NewRule, PartnerGroup,
    Payer, RuleError, Scope, StatedCharge, Urgency,
};
use app::i18n::Lang;
use chrono::{Duration, NaiveDate, Utc};
use server::adapters::local::{LocalBackend, LocalRules};
use server::config::{Config, FeesConfig};
use server::desk::LocalDesk;
use server::fees::{export, finvoice, store, Fees};
use server::port::contract::{new_request, partner, unique};
use server::port::ResourceSharing;
use server::storage::Db;
use support::step;

fn config() -> Config {
    Config::from_sources(
        "",
        [("KAUKO_FEES_SETTLE_MILLISECONDS", "0")].map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap()
}

fn lending(partner: &str, title: &str, service: ServiceType) -> NewLendingRequest {
    NewLendingRequest {
        external_id: unique("fees"),
        partner_code: partner.into(),
        requester: RequesterContact {
            library_name: partner.into(),
            contact_name: None,
            email: "ill@partner.example.org".into(),
        },
        citation: Citation {
            kind: Some(CitationType::Book),
            title: title.into(),
            ..Default::default()
        },
        service,
        delivery_address: None,
        max_cost: None,
        needed_by: None,
        note: None,
    }
}

fn rule(
    name: &str,
    billable: Billable,
    scope: Scope,
    cents: i64,
    vat: Option<i64>,
    from: NaiveDate,
) -> NewRule {
    NewRule {
        name: name.into(),
        billable,
        scope,
        conditions: Conditions::default(),
        amount_cents: cents,
        currency: "EUR".into(),
        vat_applies: vat.is_some(),
        vat_basis_points: vat.unwrap_or(0),
        valid_from: from,
        valid_to: None,
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

async fn lines_of(db: &Db, request: &str) -> Vec<FeeLine> {
    store::lines_of_request(db, "lending", request)
        .await
        .unwrap()
}

/// Plans with two instances at once, as two Kauko processes would.
async fn plan_both(a: &Fees, b: &Fees) -> usize {
    let (x, y) = tokio::join!(a.plan(), b.plan());
    x.unwrap() + y.unwrap()
}

async fn fees_follow_the_history(db: Db) {
    let config = config();
    let fees = Fees::new(db.clone(), &config);
    let other = Fees::new(db.clone(), &config);
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let desk = LocalDesk::new(db.clone());
    local
        .create_partner(partner("FI-TUNI", "Tampereen yliopisto"))
        .await
        .unwrap();
    let lund = Partner {
        address: app::domain::partner::Address {
            lines: vec!["Box 134".into()],
            postal_code: Some("221 00".into()),
            city: Some("Lund".into()),
            country: Some("SE".into()),
        },
        ..partner("SE-LU", "Lunds universitetsbibliotek")
    };
    local.create_partner(lund).await.unwrap();
    let today = Utc::now().date_naive();
    let since = today - Duration::days(30);

    // Rules, and rules refused.
    let everyone = store::add_rule(
        &db,
        rule(
            "Kaukolaina",
            Billable::LendingLoan,
            Scope::Everyone,
            1500,
            Some(2550),
            since,
        ),
        "staff-anna",
    )
    .await
    .unwrap()
    .unwrap();
    store::add_rule(
        &db,
        rule(
            "Pohjoismaat",
            Billable::LendingLoan,
            Scope::Group(PartnerGroup::Nordic),
            2000,
            Some(2550),
            since,
        ),
        "staff-anna",
    )
    .await
    .unwrap()
    .unwrap();
    store::add_rule(
        &db,
        rule(
            "Kopio",
            Billable::LendingCopy,
            Scope::Everyone,
            800,
            None,
            since,
        ),
        "staff-anna",
    )
    .await
    .unwrap()
    .unwrap();
    let refused = |r: NewRule| {
        let db = db.clone();
        async move {
            store::add_rule(&db, r, "staff-anna")
                .await
                .unwrap()
                .unwrap_err()
        }
    };
    assert_eq!(
        refused(rule(
            "Miinus",
            Billable::LendingLost,
            Scope::Everyone,
            -1,
            None,
            since
        ))
        .await,
        RuleError::NegativeAmount
    );
    assert_eq!(
        refused(rule(
            "Päällekkäin",
            Billable::LendingLoan,
            Scope::Everyone,
            100,
            None,
            today
        ))
        .await,
        RuleError::Overlaps {
            id: everyone,
            name: "Kaukolaina".into()
        }
    );
    assert_eq!(
        refused(rule(
            "Tuntematon",
            Billable::LendingLoan,
            Scope::Partner("XX-NONE".into()),
            100,
            None,
            today
        ))
        .await,
        RuleError::UnknownPartner("XX-NONE".into())
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM fee_rules").await,
        3,
        "refused rules are not stored"
    );

    // A loan to Tampere, a loan to Lund, a copy, and a loan lost (no rule).
    let l = Side::Lending;
    let due = today + Duration::days(60);
    let mut ids = Vec::new();
    for (code, title, service) in [
        ("FI-TUNI", "Kalevala", ServiceType::Loan),
        ("SE-LU", "Kanteletar", ServiceType::Loan),
        ("FI-TUNI", "Artikkeli", ServiceType::Copy),
        ("FI-TUNI", "Harvinainen", ServiceType::Loan),
    ] {
        let id = local
            .create_lending_request(lending(code, title, service))
            .await
            .unwrap()
            .id;
        step(&desk, l, &id, "accept", |_| {}).await;
        match service {
            ServiceType::Loan => step(&desk, l, &id, "ship", |i| i.due_date = Some(due)).await,
            ServiceType::Copy => {
                step(&desk, l, &id, "send_copy", |i| {
                    i.link = Some("https://kauko.example.fi/copies/x".into())
                })
                .await
            }
        }
        ids.push(id);
    }
    step(&desk, l, &ids[3], "close_without_return", |_| {}).await;
    assert_eq!(
        plan_both(&fees, &other).await,
        4,
        "four lines (three loans, a copy), two instances"
    );
    assert_eq!(plan_both(&fees, &other).await, 0, "read again: nothing new");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM fee_lines").await, 4);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM fee_skips WHERE reason = 'no_rule'"
        )
        .await,
        1,
        "losing the loan had no rule"
    );

    let tampere = &lines_of(&db, &ids[0]).await[0];
    assert_eq!(
        (tampere.customer.as_str(), tampere.payer, tampere.kind),
        ("FI-TUNI", Payer::Partner, LineKind::Charge)
    );
    assert_eq!(
        tampere.amounts,
        Amounts {
            net: 1500,
            vat: 383,
            gross: 1883
        },
        "25.5 % of 15,00 is 3,825: 3,83"
    );
    assert_eq!(tampere.description, "Kalevala");
    let lund_line = lines_of(&db, &ids[1]).await[0].clone();
    assert_eq!(
        lund_line.amounts.net, 2000,
        "the Nordic group's rule wins over everyone's"
    );
    let copy = lines_of(&db, &ids[2]).await[0].clone();
    assert_eq!(
        copy.amounts,
        Amounts {
            net: 800,
            vat: 0,
            gross: 800
        }
    );

    // A rule changed later leaves the lines as they were; the database
    // refuses an edit.
    store::end_rule(&db, everyone, today, "staff-anna")
        .await
        .unwrap()
        .unwrap();
    store::add_rule(
        &db,
        rule(
            "Kaukolaina 2027",
            Billable::LendingLoan,
            Scope::Everyone,
            9900,
            Some(2550),
            today + Duration::days(1),
        ),
        "staff-anna",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(lines_of(&db, &ids[0]).await[0].amounts.net, 1500);
    assert!(
        sqlx::query("UPDATE fee_lines SET net_cents = 1 WHERE id = $1")
            .bind(&tampere.id)
            .execute(&db.pool)
            .await
            .is_err(),
        "a line cannot be edited"
    );
    assert!(
        sqlx::query("DELETE FROM fee_lines WHERE id = $1")
            .bind(&tampere.id)
            .execute(&db.pool)
            .await
            .is_err(),
        "nor deleted"
    );

    // Lund's line adjusted to 18,00, the copy waived: new lines.
    let adj = store::change_line(
        &db,
        &lund_line.id,
        LineChange::Adjust { unit_cents: 1800 },
        "Sopimushinta",
        "staff-anna",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        store::change_line(&db, &copy.id, LineChange::Waive, " ", "staff-anna")
            .await
            .unwrap(),
        Err(LedgerError::ReasonMissing)
    );
    store::change_line(
        &db,
        &copy.id,
        LineChange::Waive,
        "Vaihtokopio",
        "staff-anna",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        store::change_line(&db, &copy.id, LineChange::Waive, "Taas", "staff-anna")
            .await
            .unwrap(),
        Err(LedgerError::NotOpenCharge),
        "waived once"
    );
    let lund_lines = lines_of(&db, &ids[1]).await;
    assert_eq!(lund_lines.len(), 2);
    let adjustment = lund_lines.iter().find(|l| l.id == adj).unwrap();
    assert_eq!(
        (
            adjustment.kind,
            adjustment.amounts.net,
            adjustment.refers_to.as_deref()
        ),
        (LineKind::Adjustment, -200, Some(lund_line.id.as_str()))
    );
    let open: Vec<_> = store::lines(&db, false)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert!(!open.contains(&copy.id), "a waived line is not open");

    // Customers: a malformed business id is refused; Tampere has none yet.
    let mut tuni = Customer {
        code: "FI-TUNI".into(),
        name: "Tampereen yliopisto".into(),
        business_id: Some("1234567-8".into()),
        street: Some("Kalevantie 4".into()),
        postcode: Some("33100".into()),
        town: Some("Tampere".into()),
        country: Some("FI".into()),
        lang: Some("fi".into()),
        e_invoice: true,
        ovt: Some("003712345671".into()),
        intermediator: Some("003721291126".into()),
        ..Default::default()
    };
    assert_eq!(
        store::save_customer(&db, tuni.clone()).await.unwrap(),
        Err(CustomerError::BadBusinessId)
    );

    // The first run: Lund is invoiced (charge + adjustment); Tampere
    // cannot be (no business id), its lines stay open.
    let a = fees.run(since, today, "staff-anna").await.unwrap().unwrap();
    assert_eq!(a.invoices.len(), 1, "{a:?}");
    assert_eq!(a.cannot_invoice.len(), 1);
    assert_eq!(a.cannot_invoice[0].customer, "FI-TUNI");
    assert_eq!(
        a.cannot_invoice[0].missing,
        vec![app::fees::Missing::BusinessId]
    );
    assert_eq!(
        a.cannot_invoice[0].lines, 2,
        "two loans; the waived copy is not invoiced"
    );
    let lund_invoice = fees.invoice(&a.invoices[0].id).await.unwrap().unwrap();
    assert_eq!(lund_invoice.customer.code, "SE-LU");
    assert_eq!(lund_invoice.lines.len(), 2);
    assert_eq!(
        lund_invoice.totals,
        Amounts {
            net: 1800,
            vat: 510 - 51,
            gross: 1800 + 459
        }
    );
    let sum = lund_invoice
        .lines
        .iter()
        .fold(Amounts::default(), |s, l| s + l.amounts);
    assert_eq!(sum, lund_invoice.totals, "totals are the rows' sums");
    assert!(app::fees::reference_valid(&lund_invoice.reference));
    assert_eq!(
        lund_invoice.reference,
        app::fees::reference(&lund_invoice.number).unwrap()
    );

    // The same run again: the same run, no new invoice.
    let again = fees
        .run(since, today, "staff-bertil")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, a);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM fee_invoices").await, 1);

    // Tampere's details fixed; the next run, by two instances at once.
    tuni.business_id = Some("1234567-1".into());
    store::save_customer(&db, tuni).await.unwrap().unwrap();
    let (x, y) = tokio::join!(
        fees.run(today, today, "staff-anna"),
        other.run(today, today, "staff-bertil")
    );
    let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
    assert_eq!(x.id, y.id, "one run");
    assert_eq!(x.invoices, y.invoices);
    assert_eq!(x.invoices.len(), 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM fee_invoices").await,
        2,
        "two invoices in all"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM fee_lines WHERE invoice_id IS NULL AND kind <> 'waiver' AND id NOT IN (SELECT refers_to FROM fee_lines WHERE kind = 'waiver')").await, 0);
    let tampere_invoice = fees.invoice(&x.invoices[0].id).await.unwrap().unwrap();
    let mut on_invoice: Vec<_> = tampere_invoice.lines.iter().map(|l| l.id.clone()).collect();
    on_invoice.sort();
    let mut expected = vec![
        tampere.id.clone(),
        lines_of(&db, &ids[3]).await[0].id.clone(),
    ];
    expected.sort();
    assert_eq!(on_invoice, expected);
    assert_ne!(tampere_invoice.number, lund_invoice.number);

    // An invoiced line can only be credited: once.
    assert_eq!(
        store::change_line(
            &db,
            &tampere.id,
            LineChange::Waive,
            "Myöhässä",
            "staff-anna"
        )
        .await
        .unwrap(),
        Err(LedgerError::AlreadyInvoiced)
    );
    let note = fees
        .credit(
            &tampere_invoice.id,
            std::slice::from_ref(&tampere.id),
            "Palautettu ajoissa",
            "staff-anna",
        )
        .await
        .unwrap()
        .unwrap();
    let note = fees.invoice(&note).await.unwrap().unwrap();
    assert_eq!(note.kind, InvoiceKind::CreditNote);
    assert_eq!(
        note.credits_number.as_deref(),
        Some(tampere_invoice.number.as_str())
    );
    assert_eq!(
        note.totals,
        Amounts {
            net: -1500,
            vat: -383,
            gross: -1883
        }
    );
    assert_eq!(
        fees.credit(
            &tampere_invoice.id,
            std::slice::from_ref(&tampere.id),
            "Taas",
            "staff-anna"
        )
        .await
        .unwrap(),
        Err(LedgerError::AlreadyCredited)
    );

    // Every billable event explained.
    let r = fees.reconcile(since, today).await.unwrap();
    assert_eq!(r.events, 5);
    assert_eq!(r.charged, 4);
    assert_eq!(r.no_rule, vec![ids[3].clone()]);
    assert!(r.unexplained.is_empty() && r.pending.is_empty(), "{r:?}");
    assert_eq!(r.waived.gross, 800);
    assert_eq!(r.invoiced.gross, 1883 + 1883 + 2259);
    assert_eq!(r.credited.gross, -1883);
    assert_eq!(r.adjusted.net, -200);
}

#[tokio::test]
async fn fees_follow_the_history_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    fees_follow_the_history(db).await;
}

#[tokio::test]
async fn fees_follow_the_history_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    fees_follow_the_history(db).await;
}

/// Rules with conditions: the material, the urgency (needed within
/// `fees.urgent_days`) and, for patron fees, the patron's group from their
/// sign-in each pick their own rule; the most specific wins.
/// The fees, the local backend and its desk on `db`, with Tampere as a
/// partner; today, and a day a month back for rules to start on.
async fn with_tampere(
    db: &Db,
) -> (
    std::sync::Arc<Fees>,
    LocalBackend,
    LocalDesk,
    NaiveDate,
    NaiveDate,
) {
    let fees = Fees::new(db.clone(), &config());
    let local = LocalBackend::new(db.clone(), LocalRules::default());
    let desk = LocalDesk::new(db.clone());
    local
        .create_partner(partner("FI-TUNI", "Tampereen yliopisto"))
        .await
        .unwrap();
    let today = Utc::now().date_naive();
    (fees, local, desk, today, today - Duration::days(30))
}

async fn rule_conditions(db: Db) {
    let (fees, local, desk, today, since) = with_tampere(&db).await;
    let with = |name: &str, billable, cents, conditions: Conditions| NewRule {
        conditions,
        ..rule(name, billable, Scope::Everyone, cents, None, since)
    };
    let mut ids = std::collections::HashMap::new();
    for r in [
        with("Kopio", Billable::LendingCopy, 800, Conditions::default()),
        with(
            "Artikkeli",
            Billable::LendingCopy,
            600,
            Conditions {
                material: Some(CitationType::Article),
                ..Default::default()
            },
        ),
        with(
            "Kiire",
            Billable::LendingCopy,
            2000,
            Conditions {
                urgency: Some(Urgency::Urgent),
                ..Default::default()
            },
        ),
        with("Nouto", Billable::PatronPickup, 300, Conditions::default()),
        with(
            "Henkilökunta",
            Billable::PatronPickup,
            0,
            Conditions {
                patron_group: Some("staff-members".into()),
                ..Default::default()
            },
        ),
    ] {
        let name = r.name.clone();
        let id = store::add_rule(&db, r, "staff-anna")
            .await
            .unwrap()
            .unwrap();
        ids.insert(name, id);
    }
    // A patron group on a fee a partner pays is refused; the same
    // conditions twice overlap.
    assert_eq!(
        store::add_rule(
            &db,
            with(
                "Ryhmä",
                Billable::LendingCopy,
                100,
                Conditions {
                    patron_group: Some("students".into()),
                    ..Default::default()
                },
            ),
            "staff-anna",
        )
        .await
        .unwrap(),
        Err(RuleError::BadPatronGroup)
    );
    assert!(matches!(
        store::add_rule(
            &db,
            with(
                "Artikkeli 2",
                Billable::LendingCopy,
                700,
                Conditions {
                    material: Some(CitationType::Article),
                    ..Default::default()
                },
            ),
            "staff-anna",
        )
        .await
        .unwrap(),
        Err(RuleError::Overlaps { .. })
    ));

    // Three copies: an article, an urgent book chapter, a book needed
    // later.
    let mut copies = Vec::new();
    for (kind, needed_by) in [
        (CitationType::Article, None),
        (CitationType::Chapter, Some(today + Duration::days(3))),
        (CitationType::Book, Some(today + Duration::days(30))),
    ] {
        let mut request = lending("FI-TUNI", "Kopio", ServiceType::Copy);
        request.citation.kind = Some(kind);
        if kind != CitationType::Book {
            request.citation.container_title = Some("Sananjalka".into());
        }
        request.needed_by = needed_by;
        let id = local.create_lending_request(request).await.unwrap().id;
        step(&desk, Side::Lending, &id, "accept", |_| {}).await;
        step(&desk, Side::Lending, &id, "send_copy", |i| {
            i.link = Some("https://kauko.example.fi/copies/x".into())
        })
        .await;
        copies.push(id);
    }

    // Two patrons collect a loan: a student, and a staff member (their
    // groups from the sign-in).
    let mut pickups = Vec::new();
    for (patron, groups) in [
        ("cond.student", vec!["students".to_owned()]),
        (
            "cond.staff",
            vec!["staff-members".to_owned(), "library".to_owned()],
        ),
    ] {
        server::letters::store::remember_patron(
            &db,
            patron,
            server::letters::store::PatronDetails {
                groups: Some(&groups),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let id = local
            .create_borrowing_request(
                &PatronId(patron.into()),
                NewBorrowingRequest {
                    citation: Citation {
                        kind: Some(CitationType::Book),
                        title: "Seitsemän veljestä".into(),
                        ..Default::default()
                    },
                    format: Format::Physical,
                    needed_by: None,
                    ..new_request(&unique("cond"))
                },
            )
            .await
            .unwrap()
            .id;
        support::through_to_loan(&desk, &id, "FI-TUNI", Some(today + Duration::days(28))).await;
        pickups.push(id);
    }

    assert_eq!(fees.plan().await.unwrap(), 5, "five billable events");
    let priced = |side: &'static str, id: String| {
        let db = db.clone();
        async move {
            let lines = store::lines_of_request(&db, side, &id).await.unwrap();
            assert_eq!(lines.len(), 1, "{side} {id}: {lines:?}");
            (lines[0].rule_id.unwrap(), lines[0].amounts.net)
        }
    };
    assert_eq!(
        priced("lending", copies[0].clone()).await,
        (ids["Artikkeli"], 600),
        "an article"
    );
    assert_eq!(
        priced("lending", copies[1].clone()).await,
        (ids["Kiire"], 2000),
        "needed within 7 days: urgent"
    );
    assert_eq!(
        priced("lending", copies[2].clone()).await,
        (ids["Kopio"], 800),
        "a book needed in a month: the general rule"
    );
    assert_eq!(
        priced("borrowing", pickups[0].clone()).await,
        (ids["Nouto"], 300),
        "a student"
    );
    assert_eq!(
        priced("borrowing", pickups[1].clone()).await,
        (ids["Henkilökunta"], 0),
        "staff members' group"
    );
}

#[tokio::test]
async fn rule_conditions_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    rule_conditions(db).await;
}

#[tokio::test]
async fn rule_conditions_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    rule_conditions(db).await;
}

/// Amounts recorded with the history: the lending library's charge on a
/// borrowing request goes to the patron, damage to a loan we lent goes to
/// the borrowing library, each by its rule with the rule's amount added,
/// once with two instances planning. An amount in another currency than
/// the rule's is explained, not priced; refused input stores nothing; the
/// database refuses to change a recorded amount.
async fn stated_charges(db: Db) {
    let (fees, local, desk, today, since) = with_tampere(&db).await;
    let other = Fees::new(db.clone(), &config());
    let office: &dyn FeeOffice = &*fees;
    for r in [
        rule(
            "Välitetty maksu",
            Billable::PartnerCharge,
            Scope::Everyone,
            200,
            None,
            since,
        ),
        rule(
            "Vaurio",
            Billable::LendingDamaged,
            Scope::Everyone,
            500,
            Some(2550),
            since,
        ),
    ] {
        store::add_rule(&db, r, "staff-anna")
            .await
            .unwrap()
            .unwrap();
    }
    let charges = || count(&db, "SELECT COUNT(*) FROM event_charges");

    // Borrowing: refused until the request was sent to a partner.
    let patron = "charge.patron";
    let borrowing = local
        .create_borrowing_request(&PatronId(patron.into()), new_request(&unique("charge")))
        .await
        .unwrap()
        .id;
    let charge = StatedCharge::parse("12,50", " eur", " INV-7 ").unwrap();
    assert_eq!(
        charge,
        StatedCharge {
            amount_cents: 1250,
            currency: "EUR".into(),
            reference: "INV-7".into(),
        }
    );
    assert_eq!(
        office
            .record_charge(Side::Borrowing, &borrowing, charge.clone(), "staff-anna")
            .await
            .unwrap(),
        Err(ChargeError::NotSent)
    );
    assert_eq!(
        office
            .record_charge(
                Side::Borrowing,
                "no-such-request",
                charge.clone(),
                "staff-anna"
            )
            .await
            .unwrap(),
        Err(ChargeError::NoSuchRequest)
    );
    assert_eq!(charges().await, 0, "refused: nothing stored");
    step(&desk, Side::Borrowing, &borrowing, "send_to_partner", |i| {
        i.partner = Some("FI-TUNI".into())
    })
    .await;
    office
        .record_charge(Side::Borrowing, &borrowing, charge, "staff-anna")
        .await
        .unwrap()
        .unwrap();
    // A second charge, in Swedish crowns: the rule is in euros.
    office
        .record_charge(
            Side::Borrowing,
            &borrowing,
            StatedCharge::parse("100", "SEK", "").unwrap(),
            "staff-anna",
        )
        .await
        .unwrap()
        .unwrap();
    let history = server::history::of_request(&db, Side::Borrowing, &borrowing)
        .await
        .unwrap();
    let recorded: Vec<_> = history
        .iter()
        .filter(|e| e.action == "partner_charge")
        .collect();
    assert_eq!(recorded.len(), 2, "{history:?}");
    assert_eq!(recorded[0].note.as_deref(), Some("12,50 EUR · INV-7"));
    assert_eq!(
        recorded[0].audience,
        Some(app::domain::history::Audience::Internal),
        "the amount is for staff"
    );
    assert_eq!(
        recorded[0].from_state.as_deref(),
        Some(recorded[0].to_state.as_str())
    );
    assert_eq!(recorded[0].partner.as_deref(), Some("FI-TUNI"));
    assert!(
        app::domain::history::patron_timeline(&history)
            .iter()
            .all(|s| s.note.is_none()),
        "the patron's timeline does not show it"
    );

    // Lending: refused until something was shipped.
    let lent = local
        .create_lending_request(lending("FI-TUNI", "Kalevala", ServiceType::Loan))
        .await
        .unwrap()
        .id;
    step(&desk, Side::Lending, &lent, "accept", |_| {}).await;
    let damage = StatedCharge::parse("40", "EUR", "Kansi revennyt").unwrap();
    assert_eq!(
        office
            .record_charge(Side::Lending, &lent, damage.clone(), "staff-anna")
            .await
            .unwrap(),
        Err(ChargeError::NotShipped)
    );
    step(&desk, Side::Lending, &lent, "ship", |i| {
        i.due_date = Some(today + Duration::days(28))
    })
    .await;
    office
        .record_charge(Side::Lending, &lent, damage, "staff-anna")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(charges().await, 3);

    // Priced once by two instances: the euro charge and the damage; the
    // shipping has no rule, the crowns another currency.
    assert_eq!(plan_both(&fees, &other).await, 2);
    assert_eq!(plan_both(&fees, &other).await, 0, "nothing twice");
    let patron_lines = store::lines_of_request(&db, "borrowing", &borrowing)
        .await
        .unwrap();
    assert_eq!(patron_lines.len(), 1, "{patron_lines:?}");
    let l = &patron_lines[0];
    assert_eq!((l.payer, l.customer.as_str()), (Payer::Patron, patron));
    assert_eq!(l.billable, Some(Billable::PartnerCharge));
    assert_eq!(
        l.unit_cents, 1450,
        "the partner's 12,50 plus the rule's 2,00"
    );
    assert_eq!(l.amounts, amounts(1450, 1, 0));
    assert!(l.description.ends_with("(INV-7)"), "{}", l.description);
    let partner_lines = lines_of(&db, &lent).await;
    assert_eq!(partner_lines.len(), 1, "{partner_lines:?}");
    let l = &partner_lines[0];
    assert_eq!((l.payer, l.customer.as_str()), (Payer::Partner, "FI-TUNI"));
    assert_eq!(l.billable, Some(Billable::LendingDamaged));
    assert_eq!(l.amounts, amounts(4500, 1, 2550));
    assert_eq!(l.amounts.gross, 5648, "45,00 € + 25,5 % VAT");

    let r = fees.reconcile(since, today).await.unwrap();
    assert_eq!((r.events, r.charged), (4, 2), "{r:?}");
    assert_eq!(r.other_currency, vec![borrowing.clone()]);
    assert_eq!(r.no_rule, vec![lent.clone()], "the shipping");
    assert!(r.unexplained.is_empty() && r.pending.is_empty(), "{r:?}");

    assert!(
        sqlx::query("UPDATE event_charges SET amount_cents = 1")
            .execute(&db.pool)
            .await
            .is_err(),
        "a recorded amount is never changed"
    );
    assert!(sqlx::query("DELETE FROM event_charges")
        .execute(&db.pool)
        .await
        .is_err());
}

#[tokio::test]
async fn stated_charges_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    stated_charges(db).await;
}

#[tokio::test]
async fn stated_charges_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    stated_charges(db).await;
}

// --- Files ---------------------------------------------------------------

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/fees")
}

fn golden(name: &str, actual: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var("KAUKO_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (KAUKO_UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{} differs:\n{}",
        path.display(),
        String::from_utf8_lossy(actual)
    );
}

fn line(
    id: &str,
    billable: Billable,
    title: &str,
    unit: i64,
    quantity: i64,
    vat: i64,
    kind: LineKind,
) -> FeeLine {
    FeeLine {
        id: id.into(),
        kind,
        payer: Payer::Partner,
        customer: "FI-TUNI".into(),
        side: "lending".into(),
        request_id: format!("req-{id}"),
        billable: Some(billable),
        refers_to: None,
        rule_id: Some(1),
        description: title.into(),
        quantity,
        unit_cents: unit,
        vat_basis_points: vat,
        amounts: app::fees::amounts(unit, quantity, vat),
        currency: "EUR".into(),
        reason: None,
        created_by: "kauko".into(),
        created_at: "2026-11-30T10:00:00.000000Z".into(),
        invoice_id: Some("INV-1".into()),
    }
}

/// A fixed invoice: a loan, a copy without VAT, an adjustment; a title
/// with characters XML and spreadsheets treat specially.
fn sample_invoice() -> Invoice {
    let lines = vec![
        line(
            "FL-0000000000000001",
            Billable::LendingLoan,
            "Kalevala & <Kanteletar> \"1835\"",
            1500,
            1,
            2550,
            LineKind::Charge,
        ),
        line(
            "FL-0000000000000002",
            Billable::LendingCopy,
            "=HYPERLINK(\"http://x\")",
            800,
            1,
            0,
            LineKind::Charge,
        ),
        line(
            "FL-0000000000000003",
            Billable::LendingLoan,
            "Kalevala & <Kanteletar> \"1835\"",
            -200,
            1,
            2550,
            LineKind::Adjustment,
        ),
    ];
    let totals = lines.iter().fold(Amounts::default(), |s, l| s + l.amounts);
    Invoice {
        id: "INV-1".into(),
        run_id: Some("RUN-2026-11-01-2026-11-30".into()),
        kind: InvoiceKind::Invoice,
        number: "202600001".into(),
        reference: app::fees::reference("202600001").unwrap(),
        customer: Customer {
            code: "FI-TUNI".into(),
            payer: Some(Payer::Partner),
            name: "Tampereen yliopisto".into(),
            business_id: Some("1234567-1".into()),
            ovt: Some("003712345671".into()),
            intermediator: Some("003721291126".into()),
            street: Some("Kalevantie 4".into()),
            postcode: Some("33100".into()),
            town: Some("Tampere".into()),
            country: Some("FI".into()),
            email: Some("laskut@tuni.example.fi".into()),
            lang: Some("fi".into()),
            e_invoice: true,
        },
        payer: Payer::Partner,
        date: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 14).unwrap(),
        currency: "EUR".into(),
        totals,
        credits: None,
        credits_number: None,
        lines,
        created_by: "staff-anna".into(),
    }
}

fn fees_config() -> FeesConfig {
    config().fees
}

#[test]
fn the_sap_file_follows_its_profile_as_csv_and_xlsx() {
    let inv = sample_invoice();
    let cfg = fees_config();
    let csv = export::csv(std::slice::from_ref(&inv), &cfg, Lang::Fi).unwrap();
    golden("sap.csv", &csv);
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(
        text.contains("FL-0000000000000003"),
        "every line carries its id"
    );

    // The XLSX read back has the same cells (amounts as numbers).
    let xlsx = export::xlsx(std::slice::from_ref(&inv), &cfg, Lang::Fi).unwrap();
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let sheet = book.worksheet_range("Laskut").unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(text.as_bytes());
    let csv_rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let xlsx_rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Float(f) => app::fees::format_cents((f * 100.0).round() as i64, ','),
                    Data::String(s) => app::domain::csv::spreadsheet_safe(s).into_owned(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    assert_eq!(xlsx_rows, csv_rows);
    assert_eq!(xlsx_rows.len(), 4, "a heading and three lines");

    // A finance office's own profile.
    let custom = FeesConfig {
        sap_columns: vec![
            "line_id:Rivi".into(),
            "gross:Summa".into(),
            "cost_centre".into(),
        ],
        sap_delimiter: ",".into(),
        sap_decimal: ".".into(),
        ..fees_config()
    };
    let mut hostile = inv;
    hostile.customer.name = "=HYPERLINK(\"http://x\")".into();
    let custom = FeesConfig {
        sap_columns: [custom.sap_columns, vec!["customer_name".into()]].concat(),
        ..custom
    };
    let csv = String::from_utf8(export::csv(&[hostile], &custom, Lang::Fi).unwrap()[3..].to_vec())
        .unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("Rivi,Summa,cost_centre,customer_name")
    );
    assert_eq!(
        csv.lines().nth(1),
        Some("FL-0000000000000001,18.83,7300,\"'=HYPERLINK(\"\"http://x\"\")\""),
        "a formula stays text"
    );
    let bad = FeesConfig {
        sap_columns: vec!["salary".into()],
        ..fees_config()
    };
    assert!(export::check_profile(&bad).unwrap_err().contains("salary"));
}

fn xmllint() -> Option<PathBuf> {
    ["/usr/bin/xmllint", "/usr/local/bin/xmllint"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

#[test]
fn finvoice_validates_against_the_schema_and_adds_up() {
    let inv = sample_invoice();
    let xml = finvoice::finvoice(&inv, &fees_config(), Lang::Fi).unwrap();
    let text = String::from_utf8(xml.clone()).unwrap();
    // The time stamp changes; the golden file has it fixed.
    let stable = fixed_timestamp(&text);
    golden("finvoice.xml", stable.as_bytes());
    assert!(
        text.contains("Kalevala &amp; &lt;Kanteletar&gt;"),
        "text is escaped"
    );
    assert!(
        text.contains("<InvoiceTotalVatIncludedAmount AmountCurrencyIdentifier=\"EUR\">24,32</InvoiceTotalVatIncludedAmount>"),
        "18,83 + 8,00 - 2,51: {text}"
    );

    // The arithmetic: rows add up to the totals.
    let amounts = |tag: &str| -> Vec<i64> {
        text.split(&format!("<{tag} "))
            .skip(1)
            .map(|s| {
                let v = s.split('>').nth(1).unwrap().split('<').next().unwrap();
                app::fees::parse_cents(v).unwrap()
            })
            .collect()
    };
    let row_total: i64 = amounts("RowAmount").iter().sum();
    assert_eq!(vec![row_total], amounts("InvoiceTotalVatIncludedAmount"));
    let row_vat: i64 = amounts("RowVatAmount").iter().sum();
    assert_eq!(vec![row_vat], amounts("InvoiceTotalVatAmount"));
    assert_eq!(row_total, inv.totals.gross);

    let schema = support::shared_fixtures().join("finvoice/Finvoice3.0.xsd");
    let Some(lint) = xmllint() else {
        assert!(
            !support::required("KAUKO_TEST_REQUIRE_XMLLINT"),
            "xmllint is required here (scripts/toolchain.sh installs libxml2-utils)"
        );
        support::skip("Finvoice schema validation", "xmllint not installed");
        return;
    };
    if !schema.exists() {
        assert!(
            !support::required("KAUKO_TEST_REQUIRE_FIXTURES"),
            "{} missing",
            schema.display()
        );
        support::skip("Finvoice schema validation", "shared fixtures missing");
        return;
    }
    // The shipped sample validates (the schema and the tool work), and so
    // do Kauko's invoice and credit note.
    let mut credit = sample_invoice();
    credit.kind = InvoiceKind::CreditNote;
    credit.credits_number = Some("202600001".into());
    credit.credits = Some("INV-1".into());
    for l in &mut credit.lines {
        l.quantity = -l.quantity;
        l.amounts = app::fees::amounts(l.unit_cents, l.quantity, l.vat_basis_points);
    }
    credit.totals = credit
        .lines
        .iter()
        .fold(Amounts::default(), |s, l| s + l.amounts);
    let credit_xml = finvoice::finvoice(&credit, &fees_config(), Lang::Sv).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("invoice.xml", xml), ("credit.xml", credit_xml)] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = std::process::Command::new(&lint)
            .args(["--noout", "--nonet", "--schema"])
            .arg(&schema)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The Finvoice text with its message time stamp replaced.
fn fixed_timestamp(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("<MessageTimeStamp>") {
                let indent = &l[..l.len() - l.trim_start().len()];
                format!("{indent}<MessageTimeStamp>(now)</MessageTimeStamp>")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn finnish_check_digits_follow_the_fixtures() {
    let path = support::shared_fixtures().join("finvoice/viitenumero_examples_bittisiirto.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            !support::required("KAUKO_TEST_REQUIRE_FIXTURES"),
            "{} missing",
            path.display()
        );
        support::skip("reference numbers", "shared fixtures missing");
        return;
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for r in v["fi_valid"].as_array().unwrap() {
        assert!(
            app::fees::reference_valid(r.as_str().unwrap()),
            "{r} is valid"
        );
        checked += 1;
    }
    for r in v["fi_invalid"].as_array().unwrap() {
        assert!(
            !app::fees::reference_valid(r.as_str().unwrap_or("")),
            "{r} is invalid"
        );
        checked += 1;
    }
    for f in v["fi_format"].as_array().unwrap() {
        assert_eq!(
            app::fees::reference_paper(f["input"].as_str().unwrap()),
            f["paper_format"].as_str().unwrap()
        );
        checked += 1;
    }
    for pair in v["fi_generate_base_to_paper_format"].as_array().unwrap() {
        let (base, full) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        assert_eq!(
            app::fees::reference(base).map(|r| app::fees::reference_paper(&r)),
            Some(full.to_owned()),
            "{base}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "{checked} cases");
    // Business ids (Y-tunnus): the check digit, modulo 11.
    assert!(app::fees::business_id_valid("0313471-7"));
    assert!(!app::fees::business_id_valid("0313471-8"));
}
