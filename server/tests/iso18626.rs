//! ISO 18626: the real messages in `shared/fixtures/iso18626/` parse and
//! round-trip; every message Kauko writes validates against the v1.2
//! schema (with `xmllint`); hostile input gets an error confirmation; and
//! the receiving endpoint, on SQLite and PostgreSQL: a partner's request
//! becomes a lending request once however often it is sent, its actions and
//! a supplier's answers move requests through the state models with events
//! in their histories, and unknown partners, wrong secrets, unknown
//! requests and messages out of order are refused with the right error.

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use app::desk::{ActInput, StaffDesk};
use app::domain::history::{Actor, Side};
use app::domain::{
    Citation, CitationType, Format, NewBorrowingRequest, Partner, PartnerProfile, PatronId,
};
use server::adapters::local::{LocalBackend, LocalRules};
use server::desk::LocalDesk;
use server::iso18626::dialect::Dialect;
use server::iso18626::messages::{
    self, format_time, Action, AgencyId, BibliographicInfo, ErrorType, Header, Message,
    MessageInfo, MessageStatus, ReasonForMessage, Request, RequestingAgencyMessage, ServiceInfo,
    ServiceType, Status, StatusInfo, SupplyingAgencyMessage, YesNo,
};
use server::iso18626::receive::{Answer, Receiver};
use server::iso18626::store;
use server::port::contract::{partner, unique};
use server::port::ResourceSharing;
use server::storage::Db;

const KAUKO: &str = "ISIL:FI-KAUKO";
const TUNI: &str = "ISIL:FI-TUNI";

fn fixtures() -> PathBuf {
    support::shared_fixtures().join("iso18626")
}

/// The fixture messages (every `.xml`), or none (recorded as skipped) when
/// the shared fixtures are not here and not required.
fn fixture_messages() -> Vec<(String, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir(fixtures()) else {
        if support::required("KAUKO_TEST_REQUIRE_FIXTURES") {
            panic!("shared fixtures missing: {}", fixtures().display());
        }
        support::skip("ISO 18626 fixtures", "shared/fixtures/iso18626 not found");
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_fixture_message_parses_and_round_trips() {
    let all = fixture_messages();
    if all.is_empty() {
        return;
    }
    assert!(
        all.len() >= 15,
        "the fixture set has {} messages",
        all.len()
    );
    for (name, bytes) in &all {
        let envelope = messages::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        for dialect in ["1.2", "1.1"] {
            let written = messages::write(&envelope.message, dialect);
            let again = messages::parse(written.as_bytes())
                .unwrap_or_else(|e| panic!("{name} written again: {e}\n{written}"));
            assert_eq!(again.message, envelope.message, "{name} round-trips");
            assert_eq!(again.version.as_deref(), Some(dialect));
        }
    }
}

#[test]
fn fixture_details_are_read() {
    if fixture_messages().is_empty() {
        return;
    }
    let read =
        |name: &str| messages::parse(&std::fs::read(fixtures().join(name)).unwrap()).unwrap();
    // The full request (no wrapper, +0000 offsets, prefixed schemes).
    let r = read("request.xml");
    assert_eq!(r.version, None);
    let Message::Request(r) = r.message else {
        panic!("a request")
    };
    assert_eq!(r.header.supplying_agency_id.value, "agencyIdValue1");
    assert_eq!(
        r.header.supplying_agency_id.kind.scheme.as_deref(),
        Some("http://uri1")
    );
    assert!(
        messages::parse_time(&r.header.timestamp).is_some(),
        "+0000 is read"
    );
    assert!(r.service_info.is_some());
    // The prefixed CrossLink request.
    let c = read("request_prefixed_cancel_scenario_illmock.xml");
    assert_eq!(c.version.as_deref(), Some("1.2"));
    let Message::Request(c) = c.message else {
        panic!("a request")
    };
    assert_eq!(
        c.bibliographic_info.title.as_deref(),
        Some("Lord of the Rings")
    );
    assert_eq!(c.bibliographic_info.item_id("ISBN"), Some("1983"));
    assert_eq!(c.header.multiple_item_request_id, None, "empty is absent");
    assert_eq!(c.service_info.unwrap().note.as_deref(), Some("#CANCEL#"));
    // v1.1: no multipleItemRequestId; unqualified version.
    let v11 = read("request_v1_1_reshare_okapi_script.xml");
    assert_eq!(v11.version.as_deref(), Some("1.0"));
    let u = read("supplyingAgencyMessage_unfilled_notification_unqualified_version.xml");
    assert_eq!(u.version.as_deref(), Some("1.0"));
    let Message::SupplyingAgencyMessage(u) = u.message else {
        panic!()
    };
    assert_eq!(u.status_info.status, Status::Unfilled);
    assert_eq!(
        u.message_info.note.as_deref(),
        Some("can't find it after all")
    );
    // Templates' empty elements are absent.
    let t = read("supplyingAgencyMessage_v1_1_statusChange_template.xml");
    let Message::SupplyingAgencyMessage(t) = t.message else {
        panic!()
    };
    assert_eq!(t.status_info.last_change, None);
    assert_eq!(t.delivery_info.unwrap().date_sent, None);
    // A status outside the schema: read, and refused by the check.
    let bad = read("supplyingAgencyMessage_invalid_status_crosslink.xml");
    let err = bad.message.check().unwrap_err();
    assert_eq!(err.error_type, ErrorType::UnrecognisedDataValue);
    assert_eq!(err.error_value.as_deref(), Some("status: WeCouldLoan"));
    // Confirmations.
    let rc = read("requestConfirmation.xml");
    let c = rc.message.confirmation().unwrap();
    assert_eq!(c.header.message_status, Some(MessageStatus::OK));
    assert_eq!(
        c.error.as_ref().unwrap().error_type,
        ErrorType::UnsupportedActionType
    );
    let ram = read("requestingAgencyMessage_notification_crosslink.xml");
    let Message::RequestingAgencyMessage(ram) = ram.message else {
        panic!()
    };
    assert_eq!(ram.action, Action::Notification);
}

// ---------------------------------------------------------------- schema

/// `xmllint`, or none (recorded as SKIPPED; fails where required: CI).
fn xmllint() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("xmllint"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if support::required("KAUKO_TEST_REQUIRE_XMLLINT") {
            panic!("xmllint is required here (Debian: libxml2-utils, see scripts/toolchain.sh)");
        }
        support::skip(
            "XSD validation",
            "xmllint not found (Debian package libxml2-utils)",
        );
    }
    found
}

/// Validates documents against a schema of the fixtures: the failures.
fn validate(xmllint: &PathBuf, schema: &str, docs: &[(String, String)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, doc) in docs {
        let path = dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, doc).unwrap();
        let out = std::process::Command::new(xmllint)
            .arg("--noout")
            .arg("--nonet")
            .arg("--schema")
            .arg(fixtures().join(schema))
            .arg(&path)
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{name}: {}\n{doc}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    failures
}

fn header(requester: &str, supplier: &str, request_id: &str) -> Header {
    Header {
        supplying_agency_id: AgencyId::from_symbol(supplier),
        requesting_agency_id: AgencyId::from_symbol(requester),
        multiple_item_request_id: None,
        timestamp: format_time(chrono::Utc::now()),
        requesting_agency_request_id: request_id.into(),
        supplying_agency_request_id: None,
        authentication: None,
    }
}

fn iso_request(request_id: &str, title: &str) -> Message {
    let mut service = ServiceInfo::new(ServiceType::Loan);
    service.note = Some("Kurssikirja".into());
    service.need_before_date = Some(format_time(chrono::Utc::now() + chrono::Duration::days(30)));
    Message::Request(Request {
        header: header(TUNI, KAUKO, request_id),
        bibliographic_info: BibliographicInfo {
            title: Some(title.into()),
            author: Some("Linna, Väinö".into()),
            item_ids: vec![messages::ItemId {
                identifier: "9789510396230".into(),
                code: messages::SchemeValue::new("ISBN"),
            }],
            ..BibliographicInfo::default()
        },
        publication_info: None,
        service_info: Some(service),
        supplier_info: Vec::new(),
        requested_delivery_info: Vec::new(),
        requesting_agency_info: Some(messages::RequestingAgencyInfo {
            name: Some("Tampereen yliopiston kirjasto".into()),
            contact_name: None,
            addresses: vec![messages::Address::Electronic {
                kind: messages::SchemeValue::new("EMAIL"),
                data: "ill@tuni.example.org".into(),
            }],
        }),
        patron_info: None,
        billing_info: None,
    })
}

fn supplying(
    requester: &str,
    supplier: &str,
    request_id: &str,
    reason: ReasonForMessage,
    status: Status,
) -> SupplyingAgencyMessage {
    SupplyingAgencyMessage {
        header: header(requester, supplier, request_id),
        message_info: MessageInfo::new(reason),
        status_info: StatusInfo {
            status,
            expected_delivery_date: None,
            due_date: None,
            last_change: Some(format_time(chrono::Utc::now())),
        },
        delivery_info: None,
        return_info: None,
    }
}

fn requesting(request_id: &str, supplier_id: Option<&str>, action: Action) -> Message {
    let mut h = header(TUNI, KAUKO, request_id);
    h.supplying_agency_request_id = supplier_id.map(str::to_owned);
    Message::RequestingAgencyMessage(RequestingAgencyMessage {
        header: h,
        action,
        note: Some("Kiitos".into()),
    })
}

#[tokio::test]
async fn every_message_kauko_writes_validates_against_the_schema() {
    if fixture_messages().is_empty() {
        return;
    }
    let Some(xmllint) = xmllint() else { return };
    let mut docs: Vec<(String, String)> = Vec::new();
    let mut loaned = supplying(
        TUNI,
        KAUKO,
        "r1",
        ReasonForMessage::StatusChange,
        Status::Loaned,
    );
    loaned.status_info.due_date = Some(format_time(chrono::Utc::now()));
    loaned.delivery_info = Some(messages::DeliveryInfo {
        date_sent: Some(format_time(chrono::Utc::now())),
        item_id: Some("1234".into()),
        sent_via: Some(messages::SchemeValue::new("Mail")),
        ..Default::default()
    });
    loaned.message_info.offered_costs = Some(messages::Costs {
        currency_code: messages::SchemeValue::new("EUR"),
        monetary_value: "12.50".into(),
    });
    let mut unfilled = supplying(
        TUNI,
        KAUKO,
        "r1",
        ReasonForMessage::RequestResponse,
        Status::Unfilled,
    );
    unfilled.message_info.reason_unfilled = Some(messages::SchemeValue::new("NotHeld"));
    unfilled.message_info.note = Some("Ei kokoelmassa <ei> & \"ei\"".into());
    let mut renew = supplying(
        TUNI,
        KAUKO,
        "r1",
        ReasonForMessage::RenewResponse,
        Status::Loaned,
    );
    renew.message_info.answer_yes_no = Some(YesNo::Y);
    let messages: Vec<(&str, Message)> = vec![
        ("request", iso_request("r1", "Täällä Pohjantähden alla")),
        ("loaned", Message::SupplyingAgencyMessage(loaned)),
        ("unfilled", Message::SupplyingAgencyMessage(unfilled)),
        ("renew_answer", Message::SupplyingAgencyMessage(renew)),
        (
            "expect",
            Message::SupplyingAgencyMessage(supplying(
                TUNI,
                KAUKO,
                "r1",
                ReasonForMessage::RequestResponse,
                Status::ExpectToSupply,
            )),
        ),
        ("cancel", requesting("r1", Some("k1"), Action::Cancel)),
        (
            "shipped_return",
            requesting("r1", Some("k1"), Action::ShippedReturn),
        ),
    ];
    for (name, m) in &messages {
        docs.push((name.to_string(), Dialect::V1_2.write(m.clone())));
    }
    // The confirmations the endpoint answers with, OK and ERROR, for each
    // kind of message.
    let (db, _dir) = support::sqlite_db().await;
    let (receiver, _local) = setup(&db, None).await;
    for (name, m) in &messages {
        let answer = receiver
            .receive(Dialect::V1_2.write(m.clone()).as_bytes(), None)
            .await;
        docs.push((format!("answer_to_{name}"), answer.body));
    }
    for (name, bytes) in [
        ("answer_to_garbage", &b"<<<"[..]),
        ("answer_to_dtd", b"<!DOCTYPE x [<!ENTITY a 'a'>]><request/>"),
    ] {
        docs.push((name.into(), receiver.receive(bytes, None).await.body));
    }
    docs.push((
        "answer_to_too_large".into(),
        server::iso18626::receive::too_large().body,
    ));
    // The valid v1.2 fixtures, as Kauko writes them again.
    for (name, bytes) in fixture_messages() {
        let m = messages::parse(&bytes).unwrap().message;
        let valid_times = m.header().is_none_or(|h| h.timestamp.ends_with('Z'));
        if name.contains("crosslink") && valid_times && m.check().is_ok() {
            docs.push((format!("rewritten_{name}"), Dialect::V1_2.write(m)));
        }
    }
    assert!(docs.len() >= 18, "{} documents", docs.len());
    let failures = validate(&xmllint, "ISO-18626-v1_2.xsd", &docs);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "{} messages Kauko writes validate against ISO-18626-v1_2.xsd",
        docs.len()
    );
}

#[tokio::test]
async fn a_partner_marked_alma_gets_v1_1_shaped_messages_and_kauko_reads_alma() {
    let mut expect = supplying(
        TUNI,
        KAUKO,
        "r1",
        ReasonForMessage::RequestResponse,
        Status::ExpectToSupply,
    );
    expect.message_info.offered_costs = Some(messages::Costs {
        currency_code: messages::SchemeValue::new("EUR"),
        monetary_value: "10".into(),
    });
    let written = Dialect::Alma.write(Message::SupplyingAgencyMessage(expect.clone()));
    assert!(written.contains("ill:version=\"1.1\""), "{written}");
    assert!(!written.contains("multipleItemRequestId"), "{written}");
    assert!(
        !written.contains("ExpectToSupply"),
        "Alma gets WillSupply: {written}"
    );
    assert!(written.contains("<note>Cost: 10 EUR</note>"), "{written}");
    let v12 = Dialect::V1_2.write(Message::SupplyingAgencyMessage(expect));
    assert!(v12.contains("<multipleItemRequestId/>") && v12.contains("ExpectToSupply"));
    // The v1.1 shape validates against ISO 18626:2021-2 (the v1.1 schema
    // is not public; 2021 made multipleItemRequestId optional again, but
    // also turned bibliographicItemId's two elements around, so the
    // request here has none).
    if let (false, Some(xmllint)) = (fixture_messages().is_empty(), xmllint()) {
        let mut request = iso_request("r2", "Seitsemän veljestä");
        if let Message::Request(r) = &mut request {
            r.bibliographic_info.item_ids.clear();
        }
        let request = Dialect::Alma.write(request);
        assert!(!request.contains("multipleItemRequestId"));
        let failures = validate(
            &xmllint,
            "ISO-18626-2021-2.xsd",
            &[("alma_request".into(), request)],
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
    // Kauko accepts Alma's: a v1.1 request from a partner marked Alma.
    let (db, _dir) = support::sqlite_db().await;
    let (receiver, local) = setup(&db, None).await;
    store::set_peer(&db, "FI-TUNI", Dialect::Alma, None)
        .await
        .unwrap();
    let alma = Dialect::Alma.write(iso_request("alma-1", "Seitsemän veljestä"));
    let answer = receiver.receive(alma.as_bytes(), None).await;
    assert_ok(&answer);
    assert!(
        answer.body.contains("ill:version=\"1.1\""),
        "answered in Alma's dialect"
    );
    assert!(!answer.body.contains("multipleItemRequestId"));
    let found = local
        .find_lending_request_by_external_id("FI-TUNI", &format!("iso18626:{TUNI}:alma-1"))
        .await
        .unwrap();
    assert!(found.is_some());
}

// --------------------------------------------------------------- receiving

/// A local backend with two partners: FI-TUNI speaks ISO 18626, FI-OULU
/// e-mail. The receiver is Kauko as ISIL:FI-KAUKO.
async fn setup(db: &Db, secret: Option<&str>) -> (Receiver, Arc<LocalBackend>) {
    let local = Arc::new(LocalBackend::new(db.clone(), LocalRules::default()));
    let tuni = Partner {
        profile: PartnerProfile::Iso18626 {
            symbol: TUNI.into(),
            url: Some("http://127.0.0.1:9/iso18626".into()),
        },
        ..partner("FI-TUNI", "Tampereen yliopisto")
    };
    local.create_partner(tuni).await.unwrap();
    local
        .create_partner(partner("FI-OULU", "Oulun yliopisto"))
        .await
        .unwrap();
    if let Some(s) = secret {
        store::set_peer(db, "FI-TUNI", Dialect::V1_2, Some(s))
            .await
            .unwrap();
    }
    let port: Arc<dyn ResourceSharing> = local.clone();
    (Receiver::new(db.clone(), port, KAUKO), local)
}

fn confirmation_of(answer: &Answer) -> messages::Confirmation {
    messages::parse(answer.body.as_bytes())
        .unwrap_or_else(|e| panic!("{e}: {}", answer.body))
        .message
        .confirmation()
        .cloned()
        .unwrap_or_else(|| panic!("not a confirmation: {}", answer.body))
}

fn assert_ok(answer: &Answer) {
    let c = confirmation_of(answer);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        c.header.message_status,
        Some(MessageStatus::OK),
        "{}",
        answer.body
    );
    assert!(c.error.is_none(), "{}", answer.body);
}

fn assert_error(answer: &Answer, status: u16, error_type: ErrorType, value_has: &str) {
    let c = confirmation_of(answer);
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(
        c.header.message_status,
        Some(MessageStatus::ERROR),
        "{}",
        answer.body
    );
    let e = c
        .error
        .unwrap_or_else(|| panic!("no errorData: {}", answer.body));
    assert_eq!(e.error_type, error_type, "{}", answer.body);
    assert!(
        e.error_value
            .as_deref()
            .unwrap_or_default()
            .contains(value_has),
        "{value_has:?} in {}",
        answer.body
    );
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

async fn lending_state(local: &LocalBackend, id: &str) -> String {
    let desk = LocalDesk::new(local.db().clone());
    desk.request(Side::Lending, id).await.unwrap().state
}

async fn supplier_side(db: Db) {
    let (receiver, local) = setup(&db, None).await;
    let send = |m: &Message| Dialect::V1_2.write(m.clone());

    // A request from a known partner: a lending request, created once
    // however often it comes.
    let request = send(&iso_request("tuni-1", "Täällä Pohjantähden alla"));
    let first = receiver.receive(request.as_bytes(), None).await;
    assert_ok(&first);
    let c = confirmation_of(&first);
    assert_eq!(
        c.header.requesting_agency_request_id.as_deref(),
        Some("tuni-1")
    );
    let again = receiver.receive(request.as_bytes(), None).await;
    assert_eq!(again, first, "the same answer again");
    let found = local
        .find_lending_request_by_external_id("FI-TUNI", &format!("iso18626:{TUNI}:tuni-1"))
        .await
        .unwrap()
        .expect("a lending request");
    assert_eq!(found.request.requester.email, "ill@tuni.example.org");
    assert_eq!(
        found.request.citation.isbn.as_deref(),
        Some("9789510396230")
    );
    assert_eq!(found.request.note.as_deref(), Some("Kurssikirja"));
    let id = found.id.clone();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM lending_requests").await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM request_events WHERE action = 'created'"
        )
        .await,
        1
    );
    // The same request with other whitespace is the same message.
    let reformatted = request.replace("\n  ", "\n\t");
    assert_eq!(receiver.receive(reformatted.as_bytes(), None).await, first);

    // Out of order: a renewal before anything was lent.
    let renew = send(&requesting("tuni-1", Some(&id), Action::Renew));
    let refused = receiver.receive(renew.as_bytes(), None).await;
    assert_error(&refused, 200, ErrorType::UnsupportedActionType, "Renew");
    assert_eq!(lending_state(&local, &id).await, "RequestReceived");

    // An unknown request, by either id.
    let unknown = send(&requesting("tuni-404", None, Action::Cancel));
    assert_error(
        &receiver.receive(unknown.as_bytes(), None).await,
        200,
        ErrorType::UnrecognisedDataValue,
        "requestingAgencyRequestId: tuni-404",
    );
    let unknown = send(&requesting("tuni-1", Some("nope"), Action::Cancel));
    assert_error(
        &receiver.receive(unknown.as_bytes(), None).await,
        200,
        ErrorType::UnrecognisedDataValue,
        "supplyingAgencyRequestId: nope",
    );
    // An unsupported action.
    let forward = send(&requesting("tuni-1", Some(&id), Action::ShippedForward));
    assert_error(
        &receiver.receive(forward.as_bytes(), None).await,
        200,
        ErrorType::UnsupportedActionType,
        "ShippedForward",
    );

    // A note: written to the history, no change; found by the partner's id.
    let note = send(&requesting("tuni-1", None, Action::Notification));
    assert_ok(&receiver.receive(note.as_bytes(), None).await);
    // Cancel: applied through the state model, once.
    let cancel = send(&requesting("tuni-1", Some(&id), Action::Cancel));
    let answer = receiver.receive(cancel.as_bytes(), None).await;
    assert_ok(&answer);
    assert_eq!(confirmation_of(&answer).action, Some(Action::Cancel));
    assert_eq!(receiver.receive(cancel.as_bytes(), None).await, answer);
    assert_eq!(lending_state(&local, &id).await, "Cancelled");
    let events = server::history::of_request(&db, Side::Lending, &id)
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    // The refusals are in the history too (staff see what the partner
    // tried), changing nothing.
    assert_eq!(
        actions,
        [
            "created",
            "iso_refused",
            "iso_refused",
            "iso_message",
            "cancel"
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.actor == Actor::Partner("FI-TUNI".into())));
    assert_eq!(
        events[1].note.as_deref(),
        Some("Renew: Renew: not possible while the request is RequestReceived")
    );
    assert_eq!(events[1].to_state, "RequestReceived");
    assert_eq!(events[4].from_state.as_deref(), Some("RequestReceived"));
    assert_eq!(events[3].note.as_deref(), Some("Notification: Kiitos"));
    // A second, different cancel: already cancelled, nothing changes.
    let late = send(&requesting("tuni-1", Some(&id), Action::Cancel));
    assert_ok(&receiver.receive(late.as_bytes(), None).await);
    assert_eq!(lending_state(&local, &id).await, "Cancelled");

    // A cancellation asked once the item is out: answered (a CancelResponse
    // N follows from the sender), the loan goes on.
    let second = send(&iso_request("tuni-2", "Kalevala"));
    assert_ok(&receiver.receive(second.as_bytes(), None).await);
    let lent = local
        .find_lending_request_by_external_id("FI-TUNI", &format!("iso18626:{TUNI}:tuni-2"))
        .await
        .unwrap()
        .unwrap();
    let desk = LocalDesk::new(db.clone());
    for (action, due) in [
        ("accept", None),
        (
            "ship",
            Some(chrono::Utc::now().date_naive() + chrono::Duration::days(28)),
        ),
    ] {
        let now = desk.request(Side::Lending, &lent.id).await.unwrap();
        desk.act(
            Side::Lending,
            "staff",
            ActInput {
                id: lent.id.clone(),
                action: action.into(),
                version: now.version,
                due_date: due,
                ..ActInput::default()
            },
        )
        .await
        .unwrap();
    }
    let cancel = send(&requesting("tuni-2", Some(&lent.id), Action::Cancel));
    assert_ok(&receiver.receive(cancel.as_bytes(), None).await);
    assert_eq!(lending_state(&local, &lent.id).await, "Loaned");
    let last = desk
        .request(Side::Lending, &lent.id)
        .await
        .unwrap()
        .events
        .pop()
        .unwrap();
    assert_eq!(
        (last.action.as_str(), &last.actor),
        ("refuse_cancel", &Actor::Kauko)
    );

    // The exchange is logged.
    let log = store::of_request(&db, Side::Lending, &id).await.unwrap();
    assert!(log
        .iter()
        .any(|m| m.kind == "request" && m.state == "applied"));
    assert!(log
        .iter()
        .any(|m| m.summary.as_deref() == Some("Renew") && m.state == "refused"));
}

async fn refusals(db: Db) {
    let (receiver, _local) = setup(&db, Some("s3cret")).await;
    let request = |requester: &str, supplier: &str, code: Option<&str>| {
        let mut m = iso_request(&unique("r"), "Pohjantähti");
        let h = m.header_mut().unwrap();
        h.requesting_agency_id = AgencyId::from_symbol(requester);
        h.supplying_agency_id = AgencyId::from_symbol(supplier);
        h.authentication = code.map(|c| messages::Authentication {
            account_id: None,
            security_code: Some(c.into()),
        });
        Dialect::V1_2.write(m)
    };
    // Unknown agency; a partner that speaks e-mail is no ISO partner.
    for who in ["ISIL:FI-NOPE", "ISIL:FI-Xyz"] {
        let answer = receiver
            .receive(request(who, KAUKO, Some("s3cret")).as_bytes(), None)
            .await;
        assert_error(
            &answer,
            403,
            ErrorType::UnrecognisedDataValue,
            "is not a partner",
        );
    }
    // Addressed to another library.
    let answer = receiver
        .receive(request(TUNI, "ISIL:FI-HY", Some("s3cret")).as_bytes(), None)
        .await;
    assert_error(
        &answer,
        200,
        ErrorType::UnrecognisedDataValue,
        "supplyingAgencyId: ISIL:FI-HY",
    );
    // The secret: missing, wrong, in the message, or as a bearer token.
    let answer = receiver
        .receive(request(TUNI, KAUKO, None).as_bytes(), None)
        .await;
    assert_error(
        &answer,
        403,
        ErrorType::UnrecognisedDataValue,
        "requestingAgencyAuthentication",
    );
    let answer = receiver
        .receive(request(TUNI, KAUKO, Some("guess")).as_bytes(), None)
        .await;
    assert_error(
        &answer,
        403,
        ErrorType::UnrecognisedDataValue,
        "requestingAgencyAuthentication",
    );
    assert_ok(
        &receiver
            .receive(request(TUNI, KAUKO, Some("s3cret")).as_bytes(), None)
            .await,
    );
    assert_ok(
        &receiver
            .receive(request(TUNI, KAUKO, None).as_bytes(), Some("s3cret"))
            .await,
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM lending_requests").await, 2);

    // Malformed and hostile input: an error confirmation, never a panic.
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><request xmlns="http://illtransactions.org/2013/iso18626">&lol2;</request>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><request>&x;</request>"#;
    let huge = format!(
        "<request xmlns=\"http://illtransactions.org/2013/iso18626\"><note>{}</note></request>",
        "x".repeat(server::iso18626::xml::MAX_BYTES)
    );
    let deep = "<request>".repeat(1000);
    for (what, bytes, has) in [
        ("not XML", &b"hello"[..], "not well-formed"),
        ("cut off", b"<request><header>", "ends inside"),
        ("entity expansion", bomb.as_bytes(), "DTD"),
        ("external entity", external.as_bytes(), "DTD"),
        ("undeclared entity", b"<request>&lol;</request>", "&lol;"),
        ("huge", huge.as_bytes(), "larger than"),
        ("deep", deep.as_bytes(), "deeper"),
        ("not UTF-8", b"<request>\xff\xfe</request>", "UTF-8"),
        (
            "no header",
            b"<request xmlns=\"http://illtransactions.org/2013/iso18626\"/>",
            "<header>",
        ),
    ] {
        let answer = receiver.receive(bytes, None).await;
        let c = confirmation_of(&answer);
        assert_eq!(
            c.header.message_status,
            Some(MessageStatus::ERROR),
            "{what}"
        );
        let e = c.error.unwrap();
        assert_eq!(e.error_type, ErrorType::BadlyFormedMessage, "{what}");
        assert!(
            e.error_value.unwrap().contains(has),
            "{what}: {}",
            answer.body
        );
    }
    let unknown = receiver
        .receive(
            b"<shippingNotice xmlns=\"http://illtransactions.org/2013/iso18626\"/>",
            None,
        )
        .await;
    assert_error(
        &unknown,
        200,
        ErrorType::UnrecognisedDataElement,
        "shippingNotice",
    );
    let answer = receiver
        .receive(b"<supplyingAgencyMessage><header>", None)
        .await;
    assert!(matches!(
        messages::parse(answer.body.as_bytes()).unwrap().message,
        Message::SupplyingAgencyMessageConfirmation(_)
    ));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM lending_requests").await, 2);
}

/// Kauko borrowing from FI-TUNI: the supplier's messages move the request.
async fn requester_side(db: Db) {
    let (receiver, local) = setup(&db, None).await;
    let desk = LocalDesk::new(db.clone());
    let patron = PatronId(unique("patron"));
    let r = local
        .create_borrowing_request(
            &patron,
            NewBorrowingRequest {
                external_id: unique("iso"),
                citation: Citation {
                    kind: Some(CitationType::Book),
                    title: "Tuntematon sotilas".into(),
                    ..Default::default()
                },
                format: Format::Physical,
                pickup_location: Some("MAIN".into()),
                needed_by: None,
                note: None,
                copyright_accepted: false,
            },
        )
        .await
        .unwrap();
    let id = r.id.clone();
    let state = || async { desk.request(Side::Borrowing, &id).await.unwrap().state };
    // Not sent to this partner yet: unknown to it.
    let msg = |reason, status| {
        Dialect::V1_2.write(Message::SupplyingAgencyMessage(supplying(
            KAUKO, TUNI, &id, reason, status,
        )))
    };
    let will = msg(ReasonForMessage::RequestResponse, Status::WillSupply);
    assert_error(
        &receiver.receive(will.as_bytes(), None).await,
        200,
        ErrorType::UnrecognisedDataValue,
        "requestingAgencyRequestId",
    );
    let now = desk.request(Side::Borrowing, &id).await.unwrap();
    desk.act(
        Side::Borrowing,
        "staff-anna",
        ActInput {
            id: id.clone(),
            action: "send_to_partner".into(),
            version: now.version,
            partner: Some("FI-TUNI".into()),
            ..ActInput::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(state().await, "REQUEST_SENT");
    // Out of order: the loan completed before it was lent.
    let done = msg(ReasonForMessage::StatusChange, Status::LoanCompleted);
    assert_error(
        &receiver.receive(done.as_bytes(), None).await,
        200,
        ErrorType::UnrecognisedDataValue,
        "status: LoanCompleted",
    );
    let answer = receiver.receive(will.as_bytes(), None).await;
    assert_ok(&answer);
    assert_eq!(
        confirmation_of(&answer).reason_for_message,
        Some(ReasonForMessage::RequestResponse)
    );
    assert_eq!(state().await, "WILL_SUPPLY");
    // The same again: answered alike, applied once.
    assert_eq!(receiver.receive(will.as_bytes(), None).await, answer);
    let mut loaned = supplying(
        KAUKO,
        TUNI,
        &id,
        ReasonForMessage::StatusChange,
        Status::Loaned,
    );
    loaned.status_info.due_date = Some("2027-01-31T20:00:00Z".into());
    loaned.message_info.note = Some("Ei kotilainaan".into());
    // The lender's charge for the delivery: recorded for the fee ledger.
    loaned.delivery_info = Some(server::iso18626::messages::DeliveryInfo {
        date_sent: None,
        delivery_costs: Some(server::iso18626::messages::Costs {
            currency_code: server::iso18626::messages::SchemeValue::new("EUR"),
            monetary_value: "12.50".into(),
        }),
        ..Default::default()
    });
    let loaned = Dialect::V1_2.write(Message::SupplyingAgencyMessage(loaned));
    assert_ok(&receiver.receive(loaned.as_bytes(), None).await);
    assert_eq!(state().await, "SHIPPED_PHYSICALLY");
    assert_ok(&receiver.receive(loaned.as_bytes(), None).await);
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM event_charges WHERE request_id = '{id}' AND amount_cents = 1250 AND currency = 'EUR'"
            )
        )
        .await,
        1,
        "the lender's charge, once though the message came twice"
    );
    // An unsupported reason.
    let odd = loaned.replace(">StatusChange<", ">Gossip<");
    assert_error(
        &receiver.receive(odd.as_bytes(), None).await,
        200,
        ErrorType::UnsupportedReasonForMessageType,
        "Gossip",
    );
    let events = desk.request(Side::Borrowing, &id).await.unwrap().events;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "created",
            "send_to_partner",
            "iso_refused",
            "partner_will_supply",
            "shipped_physically",
            "partner_charge"
        ]
    );
    let charge = events.last().unwrap();
    assert_eq!(charge.actor, Actor::Partner("FI-TUNI".into()));
    assert_eq!(charge.note.as_deref(), Some("12,50 EUR"));
    let last = &events[events.len() - 2];
    assert_eq!(last.actor, Actor::Partner("FI-TUNI".into()));
    assert_eq!(
        last.note.as_deref(),
        Some("Ei kotilainaan — due 2027-01-31")
    );
    assert_eq!(
        store::of_request(&db, Side::Borrowing, &id)
            .await
            .unwrap()
            .len(),
        3,
        "the messages found to be about it are logged (the refused one too)"
    );
}

#[tokio::test]
async fn the_supplier_side_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    supplier_side(db).await;
}

#[tokio::test]
async fn the_supplier_side_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    supplier_side(db).await;
}

#[tokio::test]
async fn refusals_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    refusals(db).await;
}

#[tokio::test]
async fn refusals_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    refusals(db).await;
}

#[tokio::test]
async fn the_requester_side_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    requester_side(db).await;
}

#[tokio::test]
async fn the_requester_side_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    requester_side(db).await;
}

/// Over HTTP: partners post without an Origin; the cross-site guard lets
/// exactly this path through.
#[tokio::test]
async fn partners_post_to_the_endpoint_without_an_origin() {
    let kauko = support::start_kauko(&[("KAUKO_ISO18626_SYMBOL", KAUKO)]).await;
    let tuni = Partner {
        profile: PartnerProfile::Iso18626 {
            symbol: TUNI.into(),
            url: None,
        },
        ..partner("FI-TUNI", "Tampereen yliopisto")
    };
    kauko.state.port.create_partner(tuni).await.unwrap();
    let body = Dialect::V1_2.write(iso_request("http-1", "Sinuhe egyptiläinen"));
    let res = kauko
        .client
        .post(format!("{}/iso18626", kauko.base))
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    assert_ok(&Answer {
        status: 200,
        body: res.text().await.unwrap(),
    });
    // Too large: an error confirmation, not a dropped connection.
    let res = kauko
        .client
        .post(format!("{}/iso18626", kauko.base))
        .body(vec![b' '; server::iso18626::xml::MAX_BYTES + 10])
        .send()
        .await
        .unwrap();
    let answer = Answer {
        status: res.status().as_u16(),
        body: res.text().await.unwrap(),
    };
    assert_error(&answer, 200, ErrorType::BadlyFormedMessage, "larger than");
    // Every other POST still needs Kauko's origin.
    for path in ["/iso18626/", "/iso18626/x", "/api/x", "/ISO18626"] {
        let res = kauko
            .client
            .post(format!("{}{path}", kauko.base))
            .body("<request/>")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{path}");
        assert_eq!(
            res.text().await.unwrap(),
            "cross-site request refused",
            "{path}"
        );
    }
    // A GET is not a message.
    let (status, _) = kauko.page("/iso18626", "").await;
    assert_eq!(status, 405);
}

// ------------------------------------------------ two Kaukos on loopback

/// Two Kauko instances: `a` borrows, `b` lends; each has the other as an
/// ISO 18626 partner at its loopback address. `b` runs on PostgreSQL when
/// it is there (so both databases take part), else on SQLite.
struct Pair {
    a: support::Running,
    b: support::Running,
    a_desk: LocalDesk,
    b_desk: LocalDesk,
}

const A: &str = "ISIL:FI-A";
const B: &str = "ISIL:FI-B";

async fn pair(b_on_postgres: bool, b_url_override: Option<String>) -> Option<Pair> {
    let pg = if b_on_postgres {
        Some(support::postgres_url().await?)
    } else {
        None
    };
    let a = support::start_kauko(&[("KAUKO_ISO18626_SYMBOL", A)]).await;
    let mut b_env = vec![("KAUKO_ISO18626_SYMBOL", B)];
    if let Some(url) = &pg {
        b_env.push(("KAUKO_DATABASE_URL", url.as_str()));
    }
    let b = support::start_kauko(&b_env).await;
    let record = |code: &str, symbol: &str, url: String| Partner {
        profile: PartnerProfile::Iso18626 {
            symbol: symbol.into(),
            url: Some(url),
        },
        ..partner(code, code)
    };
    a.state
        .port
        .create_partner(record(
            "FI-B",
            B,
            b_url_override.unwrap_or_else(|| format!("{}/iso18626", b.base)),
        ))
        .await
        .unwrap();
    b.state
        .port
        .create_partner(record("FI-A", A, format!("{}/iso18626", a.base)))
        .await
        .unwrap();
    Some(Pair {
        a_desk: LocalDesk::new(a.state.db.clone()),
        b_desk: LocalDesk::new(b.state.db.clone()),
        a,
        b,
    })
}

async fn act(
    desk: &LocalDesk,
    side: Side,
    id: &str,
    action: &str,
    fill: impl FnOnce(&mut ActInput),
) {
    let now = desk.request(side, id).await.unwrap();
    let mut input = ActInput {
        id: id.into(),
        action: action.into(),
        version: now.version,
        seen_seq: now.events.last().map_or(0, |e| e.seq),
        ..ActInput::default()
    };
    fill(&mut input);
    desk.act(side, "staff", input)
        .await
        .unwrap_or_else(|e| panic!("{action}: {e:?}"));
}

impl Pair {
    /// Both sides send what they have (twice over, so answers to answers
    /// go too).
    async fn exchange(&self) {
        // The instances' own workers run too: wait until both have planned
        // every event and have nothing pending (in flight included), twice
        // in a row.
        let mut quiet = 0;
        for _ in 0..500 {
            self.a.state.iso18626.drain().await.unwrap();
            self.b.state.iso18626.drain().await.unwrap();
            if idle(&self.a.state.db).await && idle(&self.b.state.db).await {
                quiet += 1;
                if quiet == 2 {
                    return;
                }
            } else {
                quiet = 0;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the two instances did not settle");
    }

    async fn a_state(&self, id: &str) -> String {
        self.a_desk
            .request(Side::Borrowing, id)
            .await
            .unwrap()
            .state
    }

    async fn b_state(&self, id: &str) -> String {
        self.b_desk.request(Side::Lending, id).await.unwrap().state
    }

    /// A patron's request at `a`, sent to `b` by staff; `b`'s lending id.
    async fn send(&self, patron: &PatronId, title: &str, format: Format) -> (String, String) {
        let r = self
            .a
            .state
            .port
            .create_borrowing_request(
                patron,
                NewBorrowingRequest {
                    external_id: unique("pair"),
                    citation: Citation {
                        kind: Some(CitationType::Book),
                        title: title.into(),
                        authors: vec!["Kivi, Aleksis".into()],
                        isbn: Some("9789510396230".into()),
                        ..Default::default()
                    },
                    format,
                    pickup_location: Some("MAIN".into()),
                    needed_by: None,
                    note: Some("Kurssikirja".into()),
                    copyright_accepted: format == Format::Digital,
                },
            )
            .await
            .unwrap();
        act(
            &self.a_desk,
            Side::Borrowing,
            &r.id,
            "send_to_partner",
            |i| i.partner = Some("FI-B".into()),
        )
        .await;
        assert_eq!(self.a_state(&r.id).await, "REQUEST_SENT");
        self.exchange().await;
        let lent = self
            .b
            .state
            .port
            .find_lending_request_by_external_id("FI-A", &format!("iso18626:{A}:{}", r.id))
            .await
            .unwrap()
            .unwrap_or_else(|| {
                panic!(
                    "b has the request; a sent: {:?}",
                    futures_log(&self.a.state.db)
                )
            });
        assert_eq!(lent.request.citation.title, title);
        assert_eq!(lent.request.citation.isbn.as_deref(), Some("9789510396230"));
        assert_eq!(lent.request.note.as_deref(), Some("Kurssikirja"));
        assert_eq!(
            lent.request.service,
            if format == Format::Physical {
                app::domain::ServiceType::Loan
            } else {
                app::domain::ServiceType::Copy
            }
        );
        assert_eq!(self.b_state(&lent.id).await, "RequestReceived");
        (r.id, lent.id)
    }
}

/// Nothing left to plan or send (a message waiting out a backoff counts
/// as left).
async fn idle(db: &Db) -> bool {
    let pending = count(
        db,
        "SELECT COUNT(*) FROM iso18626_messages WHERE direction = 'out' AND state = 'pending'",
    )
    .await;
    let cursor = count(db, "SELECT seq FROM iso18626_cursor WHERE name = 'history'").await;
    let last = count(db, "SELECT COALESCE(MAX(seq), 0) FROM request_events").await;
    pending == 0 && cursor >= last
}

fn futures_log(db: &Db) -> Vec<(String, Option<String>)> {
    let db = db.clone();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                store::with_partner(&db, "FI-B")
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| (m.state, m.error))
                    .collect()
            })
    })
    .join()
    .unwrap()
}

fn due(days: i64) -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::days(days)).date_naive()
}

async fn loopback_cycles(b_on_postgres: bool) {
    let Some(p) = pair(b_on_postgres, None).await else {
        return;
    };
    let patron = PatronId(unique("patron"));

    // A loan, every state on both sides.
    let (a_id, b_id) = p
        .send(&patron, "Seitsemän veljestä", Format::Physical)
        .await;
    act(&p.b_desk, Side::Lending, &b_id, "accept", |_| {}).await;
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "WillSupply");
    assert_eq!(p.a_state(&a_id).await, "WILL_SUPPLY");
    act(&p.b_desk, Side::Lending, &b_id, "ship", |i| {
        i.due_date = Some(due(28))
    })
    .await;
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "Loaned");
    assert_eq!(p.a_state(&a_id).await, "SHIPPED_PHYSICALLY");
    act(&p.a_desk, Side::Borrowing, &a_id, "received", |_| {}).await;
    act(&p.a_desk, Side::Borrowing, &a_id, "lend_to_patron", |i| {
        i.due_date = Some(due(21))
    })
    .await;
    p.exchange().await;
    assert_eq!(p.a_state(&a_id).await, "LOANED");
    assert_eq!(p.b_state(&b_id).await, "Loaned", "Received is news only");
    // The patron asks for more time; the lender grants it.
    let loan = p.a.state.port.list_loans(&patron).await.unwrap().remove(0);
    p.a.state.port.renew_loan(&patron, &loan.id).await.unwrap();
    assert_eq!(p.a_state(&a_id).await, "RENEW_REQUESTED");
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "RenewRequested");
    act(&p.b_desk, Side::Lending, &b_id, "grant_renewal", |i| {
        i.due_date = Some(due(56))
    })
    .await;
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "Loaned");
    assert_eq!(p.a_state(&a_id).await, "LOANED");
    let renewed = p.a.state.port.list_loans(&patron).await.unwrap().remove(0);
    assert_eq!(
        renewed.due_date.date_naive(),
        due(56),
        "the lender's new due date"
    );
    assert_eq!(renewed.renewals, 1);
    // The lender wants it back.
    act(&p.b_desk, Side::Lending, &b_id, "recall", |_| {}).await;
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "Recalled");
    assert_eq!(p.a_state(&a_id).await, "RECALLED_BOR");
    // Back to the lender, and done.
    act(
        &p.a_desk,
        Side::Borrowing,
        &a_id,
        "returned_by_patron",
        |_| {},
    )
    .await;
    act(
        &p.a_desk,
        Side::Borrowing,
        &a_id,
        "return_to_partner",
        |_| {},
    )
    .await;
    p.exchange().await;
    assert_eq!(p.a_state(&a_id).await, "RETURNED_TO_PARTNER");
    act(&p.b_desk, Side::Lending, &b_id, "returned", |_| {}).await;
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "LoanCompleted");
    assert_eq!(p.a_state(&a_id).await, "REQUEST_COMPLETED_BOR");
    // Every message went once and was confirmed.
    let sent_a = store::with_partner(&p.a.state.db, "FI-B").await.unwrap();
    let out_a: Vec<String> = sent_a
        .iter()
        .filter(|m| m.direction == "out" && m.request_id.as_deref() == Some(a_id.as_str()))
        .map(|m| format!("{} {}", m.summary.clone().unwrap_or_default(), m.state))
        .collect();
    assert_eq!(
        out_a,
        [
            "request sent",
            "Received sent",
            "Renew sent",
            "ShippedReturn sent"
        ]
    );
    let sent_b = store::with_partner(&p.b.state.db, "FI-A").await.unwrap();
    let out_b: Vec<String> = sent_b
        .iter()
        .filter(|m| m.direction == "out" && m.request_id.as_deref() == Some(b_id.as_str()))
        .map(|m| format!("{} {}", m.summary.clone().unwrap_or_default(), m.state))
        .collect();
    assert_eq!(
        out_b,
        [
            "RequestResponse WillSupply sent",
            "StatusChange Loaned sent",
            "RenewResponse Loaned sent",
            "StatusChange Recalled sent",
            "StatusChange LoanCompleted sent"
        ]
    );
    let a_events = p
        .a_desk
        .request(Side::Borrowing, &a_id)
        .await
        .unwrap()
        .events;
    let by_partner: Vec<&str> = a_events
        .iter()
        .filter(|e| e.actor == Actor::Partner("FI-B".into()))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        by_partner,
        [
            "partner_will_supply",
            "shipped_physically",
            "grant_renewal",
            "recall",
            "close"
        ]
    );
    // Staff see the exchange in the timelines: each message confirmed.
    let sent: Vec<String> = a_events
        .iter()
        .filter(|e| e.action == "iso_sent")
        .map(|e| e.note.clone().unwrap_or_default())
        .collect();
    assert_eq!(sent, ["request", "Received", "Renew", "ShippedReturn"]);
    assert!(a_events
        .iter()
        .filter(|e| e.action == "iso_sent")
        .all(|e| e.actor == Actor::Kauko && e.from_state.as_deref() == Some(e.to_state.as_str())));
    let b_events = p.b_desk.request(Side::Lending, &b_id).await.unwrap().events;
    assert_eq!(
        b_events.iter().filter(|e| e.action == "iso_sent").count(),
        5
    );
    // No partner letters to a partner that speaks ISO 18626.
    p.b.state.letters.plan().await.unwrap();
    let letters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM letters WHERE side = 'lending'")
        .fetch_one(&p.b.state.db.pool)
        .await
        .unwrap();
    assert_eq!(letters, 0, "the messages carry what letters would");

    // A copy.
    let (a_id, b_id) = p.send(&patron, "Nummisuutarit", Format::Digital).await;
    act(&p.b_desk, Side::Lending, &b_id, "accept", |_| {}).await;
    act(&p.b_desk, Side::Lending, &b_id, "send_copy", |i| {
        i.link = Some("https://b.example.org/copies/xyz".into())
    })
    .await;
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "CopyCompleted");
    assert_eq!(p.a_state(&a_id).await, "SHIPPED_DIGITALLY");
    let note = p
        .a_desk
        .request(Side::Borrowing, &a_id)
        .await
        .unwrap()
        .events
        .last()
        .unwrap()
        .note
        .clone();
    assert_eq!(note.as_deref(), Some("https://b.example.org/copies/xyz"));
    act(&p.a_desk, Side::Borrowing, &a_id, "copy_delivered", |_| {}).await;
    assert_eq!(p.a_state(&a_id).await, "REQUEST_COMPLETED_BOR");

    // A cancellation: staff cancel, the lender confirms.
    let (a_id, b_id) = p.send(&patron, "Kullervo", Format::Physical).await;
    act(&p.a_desk, Side::Borrowing, &a_id, "cancel_by_staff", |i| {
        i.reason = Some("Ei enää tarvita".into())
    })
    .await;
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "Cancelled");
    assert_eq!(p.a_state(&a_id).await, "CANCELED_BY_STAFF");
    let b_out = store::of_request(&p.b.state.db, Side::Lending, &b_id)
        .await
        .unwrap();
    assert!(b_out.iter().any(|m| m.direction == "out"
        && m.summary.as_deref() == Some("CancelResponse Cancelled")
        && m.state == "sent"));

    // Unfilled.
    let (a_id, b_id) = p.send(&patron, "Lea", Format::Physical).await;
    act(&p.b_desk, Side::Lending, &b_id, "cannot_supply", |i| {
        i.reason = Some("Lainassa".into())
    })
    .await;
    p.exchange().await;
    assert_eq!(p.b_state(&b_id).await, "Unfilled");
    assert_eq!(p.a_state(&a_id).await, "LOCATE_FAILED");
    let last = p
        .a_desk
        .request(Side::Borrowing, &a_id)
        .await
        .unwrap()
        .events
        .pop()
        .unwrap();
    assert_eq!(last.action, "partner_cannot_supply");
    assert_eq!(last.note.as_deref(), Some("NotAvailable — Lainassa"));
}

#[tokio::test]
async fn two_kaukos_run_a_loan_a_copy_a_cancellation_and_an_unfilled_on_sqlite() {
    loopback_cycles(false).await;
}

#[tokio::test]
async fn two_kaukos_run_a_loan_a_copy_a_cancellation_and_an_unfilled_with_postgres() {
    loopback_cycles(true).await;
}

/// The partner down: the request waits, is tried again, and goes once.
#[tokio::test]
async fn messages_wait_for_a_partner_that_is_down_and_go_once() {
    let dead = format!("http://127.0.0.1:{}/iso18626", support::free_port());
    let p = pair(false, Some(dead)).await.unwrap();
    let patron = PatronId(unique("patron"));
    let r =
        p.a.state
            .port
            .create_borrowing_request(
                &patron,
                NewBorrowingRequest {
                    external_id: unique("down"),
                    citation: Citation {
                        kind: Some(CitationType::Book),
                        title: "Kanteletar".into(),
                        ..Default::default()
                    },
                    format: Format::Physical,
                    pickup_location: None,
                    needed_by: None,
                    note: None,
                    copyright_accepted: false,
                },
            )
            .await
            .unwrap();
    act(&p.a_desk, Side::Borrowing, &r.id, "send_to_partner", |i| {
        i.partner = Some("FI-B".into())
    })
    .await;
    // The first try (by this drain or the instance's own worker) fails.
    let mut log = Vec::new();
    for _ in 0..250 {
        p.a.state.iso18626.drain().await.unwrap();
        log = store::of_request(&p.a.state.db, Side::Borrowing, &r.id)
            .await
            .unwrap();
        if log.first().is_some_and(|m| m.error.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, "pending", "waits: {:?}", log[0].error);
    assert!(log[0].error.is_some(), "the failure is kept for staff");
    let waiting = p
        .a_desk
        .request(Side::Borrowing, &r.id)
        .await
        .unwrap()
        .events;
    assert_eq!(
        waiting.iter().filter(|e| e.action == "iso_waiting").count(),
        1,
        "the first failed try shows in the timeline"
    );
    assert!(log[0].attempts >= 1);
    // The partner is back (its address corrected); the wait is over.
    let mut record = p.a.state.port.get_partner("FI-B").await.unwrap();
    record.profile = PartnerProfile::Iso18626 {
        symbol: B.into(),
        url: Some(format!("{}/iso18626", p.b.base)),
    };
    p.a.state.port.update_partner(record).await.unwrap();
    sqlx::query("UPDATE iso18626_messages SET next_attempt_at = $1")
        .bind(server::storage::ts(chrono::Utc::now()))
        .execute(&p.a.state.db.pool)
        .await
        .unwrap();
    p.exchange().await;
    p.exchange().await;
    let log = store::of_request(&p.a.state.db, Side::Borrowing, &r.id)
        .await
        .unwrap();
    assert_eq!(log[0].state, "sent");
    assert!(log[0].attempts >= 2);
    let lent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lending_requests")
        .fetch_one(&p.b.state.db.pool)
        .await
        .unwrap();
    assert_eq!(lent, 1, "went once");
    // Sending the same bytes again (a lost answer) applies nothing new.
    let body = log[0].body.clone();
    let answer =
        p.a.client
            .post(format!("{}/iso18626", p.b.base))
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(
        answer.contains("<messageStatus>OK</messageStatus>"),
        "{answer}"
    );
    let lent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lending_requests")
        .fetch_one(&p.b.state.db.pool)
        .await
        .unwrap();
    assert_eq!(lent, 1);
}
