//! The lending form for other libraries over HTTP against Kauko in process
//! (local backend, demo partners): a known partner's request goes to the
//! library system once per form; an unknown library's is held for staff
//! review and accepted or rejected; problems come back per field; a
//! partner's own form prefills and locks its details; the hidden field
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
        ("form[idempotency_key]", key),
        ("form[library_name]", "Tampere University Library"),
        ("form[library_id]", library_id),
        ("form[contact_name]", "Kaisa Kaukopalvelu"),
        ("form[email]", "ill@tuni.example.fi"),
        ("form[citation][kind]", "book"),
        ("form[citation][title]", "Seitsemän veljestä"),
        ("form[citation][authors]", "Kivi, Aleksis"),
        ("form[citation][isbn]", "978-951-1-27445-2"),
        ("form[service]", "loan"),
        ("form[delivery]", "postal"),
        ("form[delivery_address]", "Kalevantie 5\n33100 Tampere"),
        ("form[max_cost]", "20 EUR"),
        ("form[note]", "Urgent"),
    ]
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
    assert_eq!(sent.request.requester.email, "ill@tuni.example.fi");
    assert_eq!(sent.request.citation.title, "Seitsemän veljestä");
    assert_eq!(
        sent.request.delivery_address.as_deref(),
        Some("Kalevantie 5 / 33100 Tampere")
    );

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
    form.retain(|(name, _)| *name != "form[citation][title]");
    let long = "x".repeat(3000);
    form.iter_mut().for_each(|(name, value)| match *name {
        "form[email]" => *value = "ill at tuni",
        "form[delivery]" => *value = "email",
        "form[note]" => *value = &long,
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
    bot.push(("form[website]", "http://spam.example"));
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
    form.push(("form[partner]", "FI-TUNI"));
    form[1].1 = "Someone Else";
    let (_, body) = k.call("lend/submit", "", &form).await;
    assert!(body["Sent"]["reference"].is_string(), "{body}");
    let sent = lending_at(&k, "FI-TUNI", key).await.unwrap();
    assert_eq!(
        sent.request.requester.library_name,
        "Tampereen yliopiston kirjasto"
    );
    let mut unknown = lend_form("lend-http-partner-0002", "");
    unknown.push(("form[partner]", "NO-SUCH"));
    let (_, body) = k.call("lend/submit", "", &unknown).await;
    assert_eq!(
        body["Invalid"][0]["key"], "error.lend.unknown_partner",
        "{body}"
    );
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
    // Behind a trusted proxy: the client is the first X-Forwarded-For entry.
    let k = start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_LENDING_MAX_REQUESTS_PER_MINUTE", "2"),
        ("KAUKO_LENDING_TRUST_FORWARDED_FOR", "true"),
    ])
    .await;
    let a = "203.0.113.5, 10.0.0.1";
    for key in ["lend-rate-a-0001", "lend-rate-a-0002"] {
        let body = submit_from(&k, a, key).await;
        assert!(body["Sent"]["reference"].is_string(), "{body}");
    }
    let body = submit_from(&k, a, "lend-rate-a-0003").await;
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
    let body = submit_from(&k, "198.51.100.7", "lend-rate-b-0001").await;
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
