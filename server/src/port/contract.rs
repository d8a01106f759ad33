//! The port's contract: what every adapter must do, written once. An
//! adapter's test file supplies a [`Harness`] and expands
//! [`port_contract_tests!`](crate::port_contract_tests), which makes one
//! test per check below.

use std::sync::Arc;

use app::domain::{
    Address, BorrowingStatus, Citation, CitationType, Format, NewBorrowingRequest,
    NewLendingRequest, Partner, PartnerProfile, PartnerStatus, PatronId, PatronStatus,
    RequesterContact, ServiceType,
};
use async_trait::async_trait;
use chrono::{Duration, Utc};

use super::{PortError, Refusal, ResourceSharing};

/// What a test needs beyond the port: the actions staff or a lending
/// library take in the library system.
#[async_trait]
pub trait Harness: Send + Sync {
    fn port(&self) -> Arc<dyn ResourceSharing>;
    /// Moves a request to a status, as staff or the partner would.
    async fn set_status(&self, request_id: &str, status: BorrowingStatus);
    /// Checks an item out to the patron as an ILL loan due in `days`.
    async fn check_out(&self, patron: &PatronId, title: &str, days: i64, renewable: bool)
        -> String;
    /// The renewals a loan allows (the library's rule).
    fn max_renewals(&self) -> u32;
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub fn article() -> Citation {
    Citation {
        kind: Some(CitationType::Article),
        title: "Life is pretty meaningful".into(),
        container_title: Some("American Psychologist".into()),
        authors: vec!["Heintzelman, Samantha J.".into(), "King, Laura A.".into()],
        volume: Some("69".into()),
        issue: Some("6".into()),
        pages: Some("561-574".into()),
        year: Some("2014".into()),
        issn: Some("0003-066X".into()),
        doi: Some("10.1037/a0035049".into()),
        ..Default::default()
    }
}

pub fn new_request(external_id: &str) -> NewBorrowingRequest {
    NewBorrowingRequest {
        external_id: external_id.to_owned(),
        citation: article(),
        format: Format::Digital,
        pickup_location: Some("MAIN".into()),
        needed_by: Some(chrono::NaiveDate::from_ymd_opt(2030, 12, 31).unwrap()),
        note: Some("Chapter 2 would be enough <b>thanks</b>".into()),
        copyright_accepted: true,
    }
}

pub fn partner(code: &str, name: &str) -> Partner {
    Partner {
        code: code.to_owned(),
        name: name.to_owned(),
        status: PartnerStatus::Active,
        profile: PartnerProfile::Email {
            email: "ill@partner.example.org".into(),
        },
        isil: Some("FI-Xyz".into()),
        email: Some("ill@partner.example.org".into()),
        phone: None,
        address: Address {
            lines: vec!["PL 1".into()],
            postal_code: Some("00014".into()),
            city: Some("Helsinki".into()),
            country: Some("FI".into()),
        },
        lending_supported: true,
        borrowing_supported: true,
        instructions: None,
        language: None,
        notes: None,
    }
}

fn patron() -> PatronId {
    PatronId(unique("patron"))
}

pub async fn create_then_get_round_trips(h: &dyn Harness) {
    let port = h.port();
    let me = patron();
    let ext = unique("K");
    let created = port
        .create_borrowing_request(&me, new_request(&ext))
        .await
        .unwrap();
    assert!(!created.id.is_empty());
    assert_eq!(created.external_id, ext);
    assert_eq!(created.patron_id, me);
    assert_eq!(created.citation, article());
    assert_eq!(created.format, Format::Digital);
    assert_eq!(created.pickup_location.as_deref(), Some("MAIN"));
    assert_eq!(
        created.needed_by,
        chrono::NaiveDate::from_ymd_opt(2030, 12, 31)
    );
    assert_eq!(
        created.note.as_deref(),
        Some("Chapter 2 would be enough <b>thanks</b>")
    );
    assert!(
        matches!(
            created.status.patron_status(),
            PatronStatus::Submitted | PatronStatus::InProcess
        ),
        "a new request is submitted or in process, not {:?}",
        created.status
    );
    let fetched = port.get_borrowing_request(&me, &created.id).await.unwrap();
    assert_eq!(fetched.id, created.id);
    assert_eq!(fetched.citation, created.citation);
}

pub async fn external_id_is_unique_and_findable(h: &dyn Harness) {
    let port = h.port();
    let me = patron();
    let ext = unique("K");
    let created = port
        .create_borrowing_request(&me, new_request(&ext))
        .await
        .unwrap();
    let again = port.create_borrowing_request(&me, new_request(&ext)).await;
    assert!(matches!(again, Err(PortError::Duplicate(_))), "{again:?}");
    let found = port
        .find_borrowing_request_by_external_id(&me, &ext)
        .await
        .unwrap()
        .expect("found by external id");
    assert_eq!(found.id, created.id);
    assert_eq!(
        port.find_borrowing_request_by_external_id(&me, &unique("none"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        port.list_borrowing_requests(&me).await.unwrap().len(),
        1,
        "the duplicate left nothing behind"
    );
}

pub async fn patrons_see_only_their_own_requests(h: &dyn Harness) {
    let port = h.port();
    let (me, other) = (patron(), patron());
    let mine = port
        .create_borrowing_request(&me, new_request(&unique("K")))
        .await
        .unwrap();
    let theirs = port
        .create_borrowing_request(&other, new_request(&unique("K")))
        .await
        .unwrap();
    assert_eq!(
        port.get_borrowing_request(&me, &theirs.id).await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        port.cancel_borrowing_request(&me, &theirs.id).await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        port.find_borrowing_request_by_external_id(&me, &theirs.external_id)
            .await
            .unwrap(),
        None
    );
    let listed: Vec<_> = port
        .list_borrowing_requests(&me)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, vec![mine.id]);
    assert_eq!(
        port.get_borrowing_request(&other, &theirs.id)
            .await
            .unwrap()
            .status
            .patron_status()
            .is_final(),
        false
    );
}

pub async fn list_is_newest_first(h: &dyn Harness) {
    let port = h.port();
    let me = patron();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            port.create_borrowing_request(&me, new_request(&unique("K")))
                .await
                .unwrap()
                .id,
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    ids.reverse();
    let listed: Vec<_> = port
        .list_borrowing_requests(&me)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, ids);
    assert!(port
        .list_borrowing_requests(&patron())
        .await
        .unwrap()
        .is_empty());
}

pub async fn cancel_only_before_processing(h: &dyn Harness) {
    let port = h.port();
    let me = patron();
    let fresh = port
        .create_borrowing_request(&me, new_request(&unique("K")))
        .await
        .unwrap();
    // Bring it to the first cancellable state whatever the adapter started with.
    h.set_status(&fresh.id, BorrowingStatus::RequestCreated)
        .await;
    let cancelled = port.cancel_borrowing_request(&me, &fresh.id).await.unwrap();
    assert_eq!(cancelled.status.patron_status(), PatronStatus::Cancelled);
    assert!(cancelled.status.is_final());
    assert_eq!(
        port.get_borrowing_request(&me, &fresh.id)
            .await
            .unwrap()
            .status
            .patron_status(),
        PatronStatus::Cancelled
    );
    assert_eq!(
        port.cancel_borrowing_request(&me, &fresh.id).await,
        Err(PortError::Refused(Refusal::NotCancellable))
    );

    let shipped = port
        .create_borrowing_request(&me, new_request(&unique("K")))
        .await
        .unwrap();
    h.set_status(&shipped.id, BorrowingStatus::ShippedPhysically)
        .await;
    assert_eq!(
        port.cancel_borrowing_request(&me, &shipped.id).await,
        Err(PortError::Refused(Refusal::NotCancellable))
    );
    assert_eq!(
        port.get_borrowing_request(&me, &shipped.id)
            .await
            .unwrap()
            .status,
        BorrowingStatus::ShippedPhysically
    );
    assert_eq!(
        port.cancel_borrowing_request(&me, "no-such-request").await,
        Err(PortError::NotFound)
    );
}

pub async fn invalid_requests_name_their_fields(h: &dyn Harness) {
    let port = h.port();
    let me = patron();
    let mut bad = new_request(&unique("K"));
    bad.citation.title = "  ".into();
    bad.copyright_accepted = false;
    let Err(PortError::Invalid(errors)) = port.create_borrowing_request(&me, bad).await else {
        panic!("an article without a title or copyright consent is invalid");
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(
        fields.contains(&"title") && fields.contains(&"copyright"),
        "{fields:?}"
    );
    assert!(port.list_borrowing_requests(&me).await.unwrap().is_empty());

    let mut book = new_request(&unique("K"));
    book.citation = Citation {
        kind: Some(CitationType::Book),
        title: "Sources of the self".into(),
        ..Default::default()
    };
    book.format = Format::Physical;
    book.copyright_accepted = false;
    assert!(
        port.create_borrowing_request(&me, book).await.is_ok(),
        "a book loan needs no copyright declaration"
    );
}

pub async fn loans_list_and_renew(h: &dyn Harness) {
    let port = h.port();
    let (me, other) = (patron(), patron());
    let later = h.check_out(&me, "Later book", 20, true).await;
    let sooner = h.check_out(&me, "Sooner book", 5, true).await;
    let fixed = h.check_out(&me, "Not renewable", 10, false).await;
    let loans = port.list_loans(&me).await.unwrap();
    let ids: Vec<_> = loans.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        ids,
        [sooner.as_str(), fixed.as_str(), later.as_str()],
        "soonest due first"
    );
    assert!(port.list_loans(&other).await.unwrap().is_empty());

    let before = loans[0].due_date;
    let renewed = port.renew_loan(&me, &sooner).await.unwrap();
    assert!(renewed.due_date > before, "renewal moves the due date on");
    assert_eq!(renewed.renewals, 1);
    assert_eq!(
        port.renew_loan(&me, &fixed).await,
        Err(PortError::Refused(Refusal::NotRenewable))
    );
    assert_eq!(
        port.renew_loan(&other, &sooner).await,
        Err(PortError::NotFound)
    );
    for _ in 1..h.max_renewals() {
        port.renew_loan(&me, &sooner).await.unwrap();
    }
    assert_eq!(
        port.renew_loan(&me, &sooner).await,
        Err(PortError::Refused(Refusal::RenewalLimitReached))
    );
    let due_now = port
        .list_loans(&me)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.id == sooner)
        .unwrap()
        .due_date;
    assert!(due_now > Utc::now() + Duration::days(5));
}

pub async fn lending_requests(h: &dyn Harness) {
    let port = h.port();
    let code = unique("LEND");
    port.create_partner(partner(&code, "Lending Partner"))
        .await
        .unwrap();
    let request = NewLendingRequest {
        external_id: unique("L"),
        partner_code: code.clone(),
        requester: RequesterContact {
            library_name: "Partner library".into(),
            contact_name: Some("Liisa".into()),
            email: "ill@partner.example.org".into(),
        },
        citation: Citation {
            kind: Some(CitationType::Book),
            title: "Introduction to Library Science".into(),
            isbn: Some("9780123456786".into()),
            ..Default::default()
        },
        service: ServiceType::Loan,
        delivery_address: Some("PL 1, 00014 Helsinki".into()),
        max_cost: Some("20 EUR".into()),
        needed_by: None,
        note: None,
    };
    let created = port.create_lending_request(request.clone()).await.unwrap();
    assert_eq!(created.request, request, "everything asked is kept");
    assert!(!created.id.is_empty());
    let fetched = port.get_lending_request(&code, &created.id).await.unwrap();
    assert_eq!(fetched, created);
    assert!(matches!(
        port.create_lending_request(request.clone()).await,
        Err(PortError::Duplicate(_))
    ));
    let mut unknown = request.clone();
    unknown.external_id = unique("L");
    unknown.partner_code = unique("NOPE");
    assert_eq!(
        port.create_lending_request(unknown).await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        port.get_lending_request(&code, "no-such").await,
        Err(PortError::NotFound)
    );
    let mut bad = request;
    bad.external_id = unique("L");
    bad.requester.email = "not an address".into();
    assert!(matches!(
        port.create_lending_request(bad).await,
        Err(PortError::Invalid(_))
    ));
}

pub async fn partners_crud_and_paging(h: &dyn Harness) {
    let port = h.port();
    let prefix = unique("P");
    // Codes may contain ':' (Alma partner codes such as NLNZ:WLC).
    let codes: Vec<String> = (0..5).map(|i| format!("{prefix}:{i}")).collect();
    for code in &codes {
        port.create_partner(partner(code, &format!("Library {code}")))
            .await
            .unwrap();
    }
    assert!(matches!(
        port.create_partner(partner(&codes[0], "Again")).await,
        Err(PortError::Duplicate(_))
    ));
    let got = port.get_partner(&codes[2]).await.unwrap();
    assert_eq!(got, partner(&codes[2], &format!("Library {}", codes[2])));

    let mut changed = got.clone();
    changed.name = "Renamed library".into();
    changed.profile = PartnerProfile::Iso18626 {
        symbol: "ISIL:FI-XYZ".into(),
        url: Some("https://ill.example.org/iso18626".into()),
    };
    assert_eq!(port.update_partner(changed.clone()).await.unwrap(), changed);
    assert_eq!(port.get_partner(&codes[2]).await.unwrap(), changed);
    assert_eq!(
        port.update_partner(partner(&unique("NOPE"), "x")).await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        port.get_partner(&unique("NOPE")).await,
        Err(PortError::NotFound)
    );
    assert!(matches!(
        port.create_partner(partner("", "No code")).await,
        Err(PortError::Invalid(_))
    ));

    // Walk all pages; our five appear once each, in code order.
    let mut seen = Vec::new();
    let mut offset = 0;
    let first = port.list_partners(0, 2).await.unwrap();
    assert!(first.items.len() <= 2);
    loop {
        let page = port.list_partners(offset, 2).await.unwrap();
        assert_eq!(page.total, first.total, "the total stays put while paging");
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u64;
        seen.extend(
            page.items
                .into_iter()
                .map(|p| p.code)
                .filter(|c| c.starts_with(&prefix)),
        );
    }
    assert_eq!(seen, codes);
    assert!(first.total >= 5);
}

pub async fn ping_answers(h: &dyn Harness) {
    h.port().ping().await.unwrap();
}

/// Expands to one `#[tokio::test]` per contract check, each with a fresh
/// harness from `$make` (an async expression).
#[macro_export]
macro_rules! port_contract_tests {
    ($make:expr) => {
        $crate::port_contract_tests!(@each $make;
            create_then_get_round_trips, external_id_is_unique_and_findable, patrons_see_only_their_own_requests,
            list_is_newest_first, cancel_only_before_processing, invalid_requests_name_their_fields,
            loans_list_and_renew, lending_requests, partners_crud_and_paging, ping_answers);
    };
    (@each $make:expr; $($check:ident),*) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some(harness) = $make.await else { return };
                $crate::port::contract::$check(&harness).await;
            }
        )*
    };
}
