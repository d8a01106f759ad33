//! The lending form for other libraries over HTTP against Kauko in process
//! (local backend, demo partners; and the Alma adapter against the
//! simulator): a known partner's request goes to the library system once
//! per form, with the partner record's e-mail and delivery address; one
//! whose sender does not fit the record, or from an unknown, inactive or
//! non-lending partner, is held for staff review with its reason and gets
//! no e-mail; a request sent while the library system is down is stored
//! and arrives exactly once when it is back; problems come back per field;
//! a partner's own form prefills and locks its details; the hidden field
//! refuses software.

mod support;

use std::time::Duration;

use support::{start_kauko, Running};

async fn start() -> Running {
    start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en"),
    ])
    .await
}

fn lend_form<'a>(key: &'a str, library_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("idempotency_key", key),
        ("library_name", "Tampere University Library"),
        ("library_id", library_id),
        ("contact_name", "Kaisa Kaukopalvelu"),
        // The demo partner FI-TUNI (ISIL FI-Tay) has ill@fi-tuni.example.org
        // on record: a colleague in the same mail domain fits.
        ("email", "kaisa@fi-tuni.example.org"),
        ("kind", "book"),
        ("title", "Seitsemän veljestä"),
        ("authors", "Kivi, Aleksis"),
        ("isbn", "978-951-1-27445-2"),
        ("service", "loan"),
        ("delivery", "postal"),
        ("delivery_address", "Kalevantie 5\n33100 Tampere"),
        ("max_cost", "20 EUR"),
        ("note", "Urgent"),
    ]
}

/// The Alma API simulator with its demo data, and Kauko on the Alma
/// adapter talking to it (`extra` added).
async fn start_on_alma(extra: &[(&str, &str)]) -> (server::alma_sim::SimHandle, Running) {
    let sim = server::alma_sim::AlmaSim::start(support::alma::sim_config())
        .await
        .unwrap();
    server::alma_sim::demo::seed(&sim.state);
    let mut env = vec![
        ("KAUKO_BACKEND_KIND", "alma"),
        ("KAUKO_ALMA_URL", sim.base_url.as_str()),
        ("KAUKO_ALMA_API_KEY", support::alma::KEY),
        ("KAUKO_ALMA_RS_LIBRARY", "RES_SHARE"),
    ];
    env.extend_from_slice(extra);
    let k = start_kauko(&env).await;
    (sim, k)
}

async fn lending_at(k: &Running, partner: &str, key: &str) -> Option<app::domain::LendingRequest> {
    k.state
        .port
        .find_lending_request_by_external_id(partner, key)
        .await
        .unwrap()
}

#[tokio::test]
async fn known_partners_are_sent_once_and_unknown_libraries_held_for_review() {
    let k = start().await;
    // Known by its ISIL (any case): sent to the library system.
    let key = "lend-http-known-0001";
    let (status, body) = k.call("lend/submit", "", &lend_form(key, "fi-tay")).await;
    assert_eq!(status, 200, "{body}");
    let reference = body["Sent"]["reference"]
        .as_str()
        .unwrap_or_else(|| panic!("sent: {body}"))
        .to_owned();
    let (_, again) = k.call("lend/submit", "", &lend_form(key, "fi-tay")).await;
    assert_eq!(
        again["Sent"]["reference"],
        reference.as_str(),
        "one request per form"
    );
    let sent = lending_at(&k, "FI-TUNI", key)
        .await
        .expect("at the library system");
    // Replies and the item go where the partner record says, not where
    // the form said.
    assert_eq!(sent.request.requester.email, "ill@fi-tuni.example.org");
    assert_eq!(
        sent.request.requester.library_name,
        "Tampereen yliopiston kirjasto"
    );
    assert_eq!(sent.request.citation.title, "Seitsemän veljestä");
    assert_eq!(
        sent.request.delivery_address.as_deref(),
        Some("PL 1 / 00014 Tampere / FI"),
        "the partner record's address"
    );
    assert_eq!(sent.request.note.as_deref(), Some("Urgent"));

    // Not a partner: held, not refused.
    let held_key = "lend-http-held-0001";
    let (_, body) = k
        .call("lend/submit", "", &lend_form(held_key, "FI-XYZ"))
        .await;
    assert!(body["Held"]["reference"].is_string(), "{body}");
    let rejected_key = "lend-http-held-0002";
    let mut no_id = lend_form(rejected_key, "");
    no_id[1].1 = "A library nobody knows";
    let (_, body) = k.call("lend/submit", "", &no_id).await;
    assert!(body["Held"]["reference"].is_string(), "{body}");

    // The review is for staff only.
    let (status, _) = k.call("staff/lending/held", "", &[]).await;
    assert_eq!(status, 401);
    let aino = k.sign_in_as("aino.virtanen", "Aino Virtanen", false).await;
    let (status, _) = k.call("staff/lending/held", &aino, &[]).await;
    assert_eq!(status, 403);
    let (status, _) = k
        .call(
            "staff/lending/accept",
            &aino,
            &[("id", held_key), ("partner_code", "FI-OULU")],
        )
        .await;
    assert_eq!(status, 403);
    let staff = k.sign_in_as("staff", "Staff Member", true).await;
    let (status, held) = k.call("staff/lending/held", &staff, &[]).await;
    assert_eq!(status, 200, "{held}");
    let held = held.as_array().unwrap();
    assert_eq!(held.len(), 2, "{held:?}");
    assert_eq!(held[0]["request"]["partner_code"], "FI-XYZ");
    assert_eq!(
        held[0]["entry"]["hold_reason"],
        "review.reason.unknown_library"
    );
    assert_eq!(
        held[1]["request"]["requester"]["library_name"],
        "A library nobody knows"
    );

    let (_, r) = k
        .call(
            "staff/lending/accept",
            &staff,
            &[("id", held_key), ("partner_code", "NO-SUCH")],
        )
        .await;
    assert_eq!(r, "review.error.unknown_partner");
    let (status, r) = k
        .call(
            "staff/lending/accept",
            &staff,
            &[("id", held_key), ("partner_code", "FI-OULU")],
        )
        .await;
    assert_eq!((status, r), (200, serde_json::Value::Null));
    let mut delivered = None;
    for _ in 0..100 {
        delivered = lending_at(&k, "FI-OULU", held_key).await;
        if delivered.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        delivered.is_some(),
        "accepted, then delivered by the worker"
    );

    let (_, r) = k
        .call(
            "staff/lending/reject",
            &staff,
            &[("id", rejected_key), ("reason", " ")],
        )
        .await;
    assert_eq!(r, "review.error.reason");
    let (_, r) = k
        .call(
            "staff/lending/reject",
            &staff,
            &[("id", rejected_key), ("reason", "Not a library")],
        )
        .await;
    assert_eq!(r, serde_json::Value::Null);
    let (_, held) = k.call("staff/lending/held", &staff, &[]).await;
    assert_eq!(held.as_array().unwrap().len(), 0);
    let entry = k.state.outbox.entry(rejected_key).await.unwrap().unwrap();
    assert_eq!(entry.decision.as_deref(), Some("Not a library"));

    // The review page itself is for staff.
    let (status, page) = k.page("/staff/lending-review?lang=en", &staff).await;
    assert_eq!(status, 200);
    assert!(page.contains("Lending requests to review"));
}

#[tokio::test]
async fn problems_come_back_per_field_and_software_is_refused() {
    let k = start().await;
    let mut form = lend_form("lend-http-bad-0001", "FI-T Y");
    form.retain(|(name, _)| *name != "title");
    let long = "x".repeat(3000);
    form.iter_mut().for_each(|(name, value)| match *name {
        "email" => *value = "ill at tuni",
        "delivery" => *value = "email",
        "note" => *value = &long,
        _ => {}
    });
    let (status, body) = k.call("lend/submit", "", &form).await;
    assert_eq!(status, 200);
    let fields: Vec<_> = body["Invalid"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["key"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("note", "error.field.too_long"),
            ("library_id", "error.lend.isil"),
            ("email", "error.field.email"),
            ("title", "error.field.required"),
            ("delivery", "error.lend.loan_by_post"),
            ("delivery_address", "error.field.email"),
        ]
    );

    // The hidden field filled: refused as a whole, nothing stored.
    let mut bot = lend_form("lend-http-bot-0001", "FI-Tay");
    bot.push(("website", "http://spam.example"));
    let (_, body) = k.call("lend/submit", "", &bot).await;
    assert_eq!(body["Refused"], "error.lend.bot");
    assert!(k
        .state
        .outbox
        .entry("lend-http-bot-0001")
        .await
        .unwrap()
        .is_none());
    assert!(k
        .state
        .outbox
        .entry("lend-http-bad-0001")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_partners_own_form_prefills_locks_and_shows_instructions() {
    let k = start().await;
    let (status, body) = k.page("/lend/FI-TUNI?lang=en", "").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Tampereen yliopiston kirjasto"),
        "the partner's name"
    );
    assert!(
        body.contains("Please send copies as PDF files."),
        "its instructions"
    );
    assert!(
        body.contains("ill@fi-tuni.example.org"),
        "its e-mail prefilled"
    );
    assert!(
        !body.contains("id=\"library_name\""),
        "its details are locked"
    );
    let (_, body) = k.page("/lend?lang=en", "").await;
    assert!(
        body.contains("id=\"library_name\""),
        "the general form asks"
    );
    let (_, body) = k.page("/lend/NO-SUCH?lang=en", "").await;
    assert!(body.contains("There is no partner library at this address"));

    // What the browser sends for the locked details does not count.
    let key = "lend-http-partner-0001";
    let mut form = lend_form(key, "FI-HY");
    form.push(("partner", "FI-TUNI"));
    form[1].1 = "Someone Else";
    let (_, body) = k.call("lend/submit", "", &form).await;
    assert!(body["Sent"]["reference"].is_string(), "{body}");
    let sent = lending_at(&k, "FI-TUNI", key).await.unwrap();
    assert_eq!(
        sent.request.requester.library_name,
        "Tampereen yliopiston kirjasto"
    );
    // An address that is no partner's: stored and held, not refused.
    let mut unknown = lend_form("lend-http-partner-0002", "");
    unknown.push(("partner", "NO-SUCH"));
    let (_, body) = k.call("lend/submit", "", &unknown).await;
    assert!(body["Held"]["reference"].is_string(), "{body}");
}

/// The mail folder's messages (none written yet: empty).
fn mails(k: &Running) -> Vec<String> {
    let Some(folder) = k.state.mailer.folder() else {
        return Vec::new();
    };
    std::fs::read_dir(folder)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn no_one_can_speak_for_a_partner_library() {
    let k = start().await;
    // Partners the form must not deliver for, whatever the sender says.
    let mut inactive = server::port::contract::partner("FI-SLEEP", "Nukkuva kirjasto");
    inactive.status = app::domain::PartnerStatus::Inactive;
    inactive.email = Some("ill@sleep.example.fi".into());
    inactive.address.city = Some("Turku".into());
    let mut no_lending = server::port::contract::partner("FI-BORROW", "Lainaava kirjasto");
    no_lending.lending_supported = false;
    no_lending.email = Some("ill@borrow.example.fi".into());
    no_lending.address.city = Some("Vaasa".into());
    k.state.port.create_partner(inactive).await.unwrap();
    k.state.port.create_partner(no_lending).await.unwrap();

    let cases = [
        // (key, identifier, sender, reason, matched partner)
        (
            "lend-speak-0001",
            "FI-Tay",
            "ill@evil.example",
            "review.reason.email_mismatch",
            Some("FI-TUNI"),
        ),
        (
            "lend-speak-0002",
            "FI-TUNI",
            "ill@fi-tuni.example.org.evil.example",
            "review.reason.email_mismatch",
            Some("FI-TUNI"),
        ),
        (
            "lend-speak-0003",
            "FI-SLEEP",
            "ill@sleep.example.fi",
            "review.reason.partner_inactive",
            Some("FI-SLEEP"),
        ),
        (
            "lend-speak-0004",
            "FI-BORROW",
            "ill@borrow.example.fi",
            "review.reason.partner_does_not_lend",
            Some("FI-BORROW"),
        ),
        (
            "lend-speak-0005",
            "FI-NOBODY",
            "ill@nobody.example.fi",
            "review.reason.unknown_library",
            None,
        ),
    ];
    for (key, id, sender, reason, partner) in cases {
        let mut form = lend_form(key, id);
        form.iter_mut().for_each(|(name, value)| {
            if *name == "email" {
                *value = sender;
            }
        });
        let (status, body) = k.call("lend/submit", "", &form).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["Held"]["reference"].is_string(), "{key}: {body}");
        let entry = k.state.outbox.entry(key).await.unwrap().unwrap();
        assert_eq!(entry.state, app::outbox::DeliveryState::Review, "{key}");
        assert_eq!(entry.hold_reason.as_deref(), Some(reason), "{key}");
        assert_eq!(entry.hold_partner.as_deref(), partner, "{key}");
        for code in ["FI-TUNI", "FI-SLEEP", "FI-BORROW", ""] {
            assert!(
                lending_at(&k, code, key).await.is_none(),
                "{key} not delivered"
            );
        }
    }
    // Staff see why; the page says it in words.
    let staff = k.sign_in_as("staff", "Staff Member", true).await;
    let (_, held) = k.call("staff/lending/held", &staff, &[]).await;
    assert_eq!(held.as_array().unwrap().len(), cases.len(), "{held}");
    let (_, page) = k.page("/staff/lending-review?lang=en", &staff).await;
    assert!(page.contains("does not match the partner record"), "{page}");
    assert!(page.contains("The partner record is inactive."));

    // A sender who fits gets the only e-mail, at the record's address.
    let (_, body) = k
        .call("lend/submit", "", &lend_form("lend-speak-0009", "FI-TAY"))
        .await;
    let reference = body["Sent"]["reference"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = mails(&k);
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent_now = mails(&k);
    assert_eq!(
        sent_now.len(),
        1,
        "one confirmation, none for the held ones: {sent:?}"
    );
    assert!(
        sent_now[0].contains("To: ill@fi-tuni.example.org"),
        "{}",
        sent_now[0]
    );
    assert!(sent_now[0].contains(&reference));
    assert!(
        !sent_now[0].contains("kaisa@"),
        "the sender's address is not echoed"
    );

    // Staff accept a held one for its partner: delivered with the record's
    // details, not the sender's.
    let (_, r) = k
        .call(
            "staff/lending/accept",
            &staff,
            &[("id", "lend-speak-0001"), ("partner_code", "FI-TUNI")],
        )
        .await;
    assert_eq!(r, serde_json::Value::Null);
    let mut delivered = None;
    for _ in 0..100 {
        delivered = lending_at(&k, "FI-TUNI", "lend-speak-0001").await;
        if delivered.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered = delivered.expect("accepted, then delivered");
    assert_eq!(delivered.request.requester.email, "ill@fi-tuni.example.org");
}

#[tokio::test]
async fn a_request_sent_while_the_library_system_is_down_arrives_exactly_once() {
    use server::alma_sim::Fault;
    let (sim, k) = start_on_alma(&[
        ("KAUKO_OUTBOX_FIRST_BACKOFF_MILLISECONDS", "200"),
        ("KAUKO_OUTBOX_MAX_BACKOFF_SECONDS", "1"),
        ("KAUKO_OUTBOX_POLL_INTERVAL_MILLISECONDS", "100"),
        ("KAUKO_OUTBOX_INLINE_WAIT_MILLISECONDS", "1000"),
    ])
    .await;
    sim.state.set_fault(Fault::Unavailable);
    sim.state.reset_stats();
    // The simulator's partner FI-TAMK-EMAIL has ill@tuni.example.fi on
    // record (and no postal address: a copy by e-mail).
    let key = "lend-alma-down-0001";
    let mut form = lend_form(key, "fi-tamk-email");
    form.iter_mut().for_each(|(name, value)| match *name {
        "email" => *value = "ill@tuni.example.fi",
        "service" => *value = "copy",
        "delivery" => *value = "email",
        "delivery_address" => *value = "ill@tuni.example.fi",
        _ => {}
    });
    let (status, body) = k.call("lend/submit", "", &form).await;
    assert_eq!(
        status, 200,
        "stored, not refused, while Alma is down: {body}"
    );
    let reference = body["Received"]["reference"]
        .as_str()
        .unwrap_or_else(|| panic!("received: {body}"))
        .to_owned();
    // The same form again (the library was unsure): the same submission.
    let (_, again) = k.call("lend/submit", "", &form).await;
    assert_eq!(
        again["Received"]["reference"],
        reference.as_str(),
        "{again}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.state.stats().creates_handled, 0, "Alma was down");
    sim.state.set_fault(Fault::None);
    let mut state = None;
    for _ in 0..200 {
        state = k.state.outbox.entry(key).await.unwrap().map(|e| e.state);
        if state == Some(app::outbox::DeliveryState::Delivered) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, Some(app::outbox::DeliveryState::Delivered));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = sim.state.stats();
    assert_eq!(
        stats.creates_handled, 1,
        "exactly one create after Alma came back: {stats:?}"
    );
    let dump: serde_json::Value =
        reqwest::get(format!("{}/sim/state", sim.base_url.trim_end_matches('/')))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let arrived = dump["lending_requests"]
        .as_array()
        .unwrap_or_else(|| panic!("{dump}"))
        .iter()
        .filter(|r| r["external_id"] == key)
        .count();
    assert_eq!(arrived, 1, "one lending request in Alma");
}

/// Sends the form as a client at `forwarded_for` (`X-Forwarded-For`).
async fn submit_from(k: &Running, forwarded_for: &str, key: &str) -> serde_json::Value {
    let res = k
        .client
        .post(format!("{}/api/lend/submit", k.base))
        .header("origin", &k.base)
        .header("x-forwarded-for", forwarded_for)
        .form(&lend_form(key, "FI-TAY"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn each_address_may_send_only_so_many_requests_a_minute() {
    // Behind one trusted proxy: the client is the entry the proxy appended
    // (the rightmost); what the client wrote before it does not count, so
    // a fresh invented address per request does not buy a fresh allowance.
    let k = start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_LENDING_MAX_REQUESTS_PER_MINUTE", "2"),
        ("KAUKO_LENDING_TRUSTED_PROXIES", "1"),
    ])
    .await;
    for (i, key) in ["lend-rate-a-0001", "lend-rate-a-0002"].iter().enumerate() {
        let body = submit_from(&k, &format!("192.0.2.{i}, 203.0.113.5"), key).await;
        assert!(
            body["Received"]["reference"].is_string() || body["Sent"]["reference"].is_string(),
            "{body}"
        );
    }
    let body = submit_from(&k, "192.0.2.99, 203.0.113.5", "lend-rate-a-0003").await;
    assert_eq!(body["Refused"], "error.lend.rate_limited", "{body}");
    assert!(
        k.state
            .outbox
            .entry("lend-rate-a-0003")
            .await
            .unwrap()
            .is_none(),
        "a refused request is not stored"
    );
    let body = submit_from(&k, "203.0.113.5, 198.51.100.7", "lend-rate-b-0001").await;
    assert!(
        body["Sent"]["reference"].is_string(),
        "another address has its own allowance: {body}"
    );

    // Without a trusted proxy the header is the client's to invent, so it
    // does not count: the connection's address does.
    let k = start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_LENDING_MAX_REQUESTS_PER_MINUTE", "2"),
    ])
    .await;
    for (i, who) in ["192.0.2.1", "192.0.2.2"].iter().enumerate() {
        let body = submit_from(&k, who, &format!("lend-rate-c-000{i}")).await;
        assert!(body["Sent"]["reference"].is_string(), "{body}");
    }
    let body = submit_from(&k, "192.0.2.3", "lend-rate-c-0009").await;
    assert_eq!(body["Refused"], "error.lend.rate_limited", "{body}");
}

#[tokio::test]
async fn partner_forms_are_answered_from_kaukos_copy_of_the_partner_list() {
    let (sim, k) = start_on_alma(&[("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en")]).await;
    sim.state.reset_stats();
    let (status, page) = k.page("/lend/FI-TAMK-EMAIL", "").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Tampere University Library ILL"),
        "the partner's form"
    );
    let first = sim.state.stats().calls;
    assert!(first >= 1, "the list was read once");
    // Anyone may open forms, also for codes nobody has: no more Alma calls.
    for i in 0..30 {
        let (_, page) = k.page(&format!("/lend/NO-SUCH-{i}"), "").await;
        assert!(page.contains("There is no partner library at this address"));
        let _ = k.page("/lend/FI-TAMK-EMAIL", "").await;
        let _ = k
            .call("lend/partner", "", &[("code", "FI-TAMK-EMAIL")])
            .await;
    }
    assert_eq!(sim.state.stats().calls, first, "{:?}", sim.state.stats());
}

#[tokio::test]
async fn the_lending_form_works_without_javascript() {
    let k = start().await;
    // The page posts by itself, with a key the server made.
    let (_, page) = k.page("/lend?lang=en", "").await;
    assert!(page.contains(r#"method="post" action="/api/lend/submit""#));
    // A mistake: the form again with what was typed (the library's name,
    // the title, the note) and the error; nothing stored.
    let mut bad = lend_form("lend-nojs-0001", "FI-Tay");
    bad.retain(|(name, _)| *name != "email");
    let (status, to) = k.post_plain("lend/submit", "", "/lend", &bad).await;
    assert_eq!(status, 303);
    assert!(to.starts_with("/lend?posted=1&"), "{to}");
    assert!(lending_at(&k, "FI-TUNI", "lend-nojs-0001").await.is_none());
    let (_, again) = k.page(&format!("{to}&lang=en"), "").await;
    assert!(again.contains(r#"value="Tampere University Library""#));
    assert!(again.contains(r#"value="Seitsemän veljestä""#));
    assert!(again.contains("Urgent</textarea>"));
    assert!(again.contains("email-error"), "the error under the field");
    // Sent: the confirmation, and one request however often it is sent.
    let good = lend_form("lend-nojs-0001", "FI-Tay");
    let (status, to) = k.post_plain("lend/submit", "", "/lend", &good).await;
    assert_eq!(status, 303);
    assert!(
        to.starts_with("/lend?sent=") && to.ends_with("&how=sent"),
        "{to}"
    );
    let (_, same) = k.post_plain("lend/submit", "", "/lend", &good).await;
    assert_eq!(same, to);
    let sent = lending_at(&k, "FI-TUNI", "lend-nojs-0001")
        .await
        .expect("sent");
    assert_eq!(sent.request.note.as_deref(), Some("Urgent"));
    let (_, done) = k.page(&format!("{to}&lang=en"), "").await;
    assert!(done.contains("done-title"), "the confirmation");
    // A partner's own form returns to that form.
    let mut partner = lend_form("lend-nojs-0002", "");
    partner.push(("partner", "FI-TUNI"));
    partner.retain(|(name, _)| *name != "title");
    let (_, to) = k
        .post_plain("lend/submit", "", "/lend/FI-TUNI", &partner)
        .await;
    assert!(to.starts_with("/lend/FI-TUNI?posted=1&"), "{to}");
}
