//! Every recorded Alma payload in `shared/fixtures/alma/` read with the Alma
//! adapter's types, and what Kauko makes of it.

use app::domain::{Address, CitationType, FieldError, PartnerProfile, PartnerStatus, ServiceType};
use chrono::{NaiveDate, TimeZone, Utc};
use server::adapters::alma::errors::{parse_errors, to_port_error, REJECTED_KEY};
use server::adapters::alma::mapping;
use server::adapters::alma::wire::{
    code, AlmaPartner, ItemLoans, RsRequest, RsRequestList, UserRequests,
};
use server::port::PortError;

mod support;

fn fixtures() -> std::path::PathBuf {
    support::shared_fixtures().join("alma")
}

fn fixture(name: &str) -> String {
    let path = fixtures().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_fixture_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "codetable_systemJobStatus.json",
            "error_mandatory_field.json",
            "error_mandatory_field.xml",
            "error_per_second_threshold.json",
            "error_unauthorized.xml",
            "fee_single_uio.json",
            "fees_empty.json",
            "fees_list_uio.json",
            "lending_request_shipped.json",
            "libraries_list_uio.json",
            "loans.json",
            "loans_empty.json",
            "partner_AATO_iso.json",
            "task_list_lending_requests_created.json",
            "user_requests.xml",
        ],
        "a new fixture needs a test here"
    );
}

/// Payloads of Alma APIs Kauko does not call yet (fees, libraries, code
/// tables: for fees and the staff desk): they parse, with the fields those
/// features will read, so a change in the recordings shows.
#[test]
fn payloads_for_later_features_have_their_fields() {
    let json = |name: &str| -> serde_json::Value { serde_json::from_str(&fixture(name)).unwrap() };
    let fee = json("fee_single_uio.json");
    assert!(fee["id"].is_string() && fee["balance"].is_number(), "{fee}");
    assert!(fee["type"]["value"].is_string() && fee["status"]["value"].is_string());
    let fees = json("fees_list_uio.json");
    let listed = fees["fee"].as_array().expect("fee list");
    assert_eq!(
        fees["total_record_count"].as_u64(),
        Some(listed.len() as u64)
    );
    assert!(listed.iter().all(|f| f["balance"].is_number()));
    assert_eq!(json("fees_empty.json")["total_record_count"], 0);
    let libraries = json("libraries_list_uio.json");
    let libraries = libraries["library"].as_array().expect("library list");
    assert!(libraries.iter().any(|l| l["code"] == "RES_SHARE"));
    let table = json("codetable_systemJobStatus.json");
    assert!(table["row"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["code"].is_string()));
}

#[test]
fn loans() {
    let loans: ItemLoans = serde_json::from_str(&fixture("loans.json")).unwrap();
    assert_eq!(loans.total_record_count, Some(2));
    assert_eq!(loans.item_loan.len(), 2);
    let first = &loans.item_loan[0];
    assert_eq!(first.loan_id.as_deref(), Some("1822301570002204"));
    assert_eq!(
        first.due_date,
        Some(Utc.with_ymd_and_hms(2018, 8, 14, 20, 0, 0).unwrap())
    );
    assert_eq!(
        first.location_code.as_ref().unwrap().desc.as_deref(),
        Some("UREAL Samling 42")
    );
    assert_eq!(code(&first.location_code), Some("k00475"));
    let policy = first.item_policy.as_ref().unwrap();
    assert_eq!(
        (policy.value.as_deref(), policy.desc.as_deref()),
        (None, None)
    );
    assert_eq!(code(&first.library), Some("1030310"));
    assert_eq!(first.call_number, None, "absent key");
    assert_eq!(first.renewable, None);
    assert_eq!(first.process_status.as_deref(), Some("RENEW"));

    let second = &loans.item_loan[1];
    assert_eq!(second.loan_id.as_deref(), Some("7378239410002204"));
    assert_eq!(
        second.loan_date.unwrap().timestamp_millis(),
        Utc.with_ymd_and_hms(2018, 7, 23, 20, 25, 26)
            .unwrap()
            .timestamp_millis()
            + 347,
        "milliseconds kept"
    );
    assert_eq!(second.call_number.as_deref(), Some("Ung 839.82 Vol:Ban"));
    assert_eq!(
        second.circ_desk.as_ref().unwrap().desc.as_deref(),
        Some("Utlånet Ureal")
    );

    let shown = mapping::loan_from(first, 1, None).unwrap();
    assert_eq!(shown.id, "1822301570002204");
    assert_eq!(shown.author.as_deref(), Some("Polkinghorne, John"));
    assert!(shown.title.starts_with("The particle play"));
    assert_eq!(
        shown.loan_date,
        Utc.with_ymd_and_hms(2013, 11, 18, 7, 0, 0).unwrap()
    );
    assert!(shown.renewable, "unknown renewability: let Alma decide");
    assert_eq!(shown.renewals, 1);
}

#[test]
fn an_empty_loan_list() {
    let loans: ItemLoans = serde_json::from_str(&fixture("loans_empty.json")).unwrap();
    assert_eq!(loans.total_record_count, Some(0));
    assert!(loans.item_loan.is_empty());
}

#[test]
fn a_shipped_lending_request_of_2025() {
    let r: RsRequest = serde_json::from_str(&fixture("lending_request_shipped.json")).unwrap();
    assert_eq!(r.request_id.as_deref(), Some("35889547910004146"));
    assert_eq!(code(&r.status), Some("SHIPPED_PHYSICALLY"));
    assert_eq!(
        r.status.as_ref().unwrap().desc.as_deref(),
        Some("Shipped Physically")
    );
    assert_eq!(code(&r.owner), Some("AS1"));
    let partner = r.partner.as_ref().unwrap();
    assert_eq!(code(&r.partner), Some("ANC"));
    assert_eq!(partner.desc.as_deref(), Some("ANCA-TEST"));
    assert_eq!(
        partner.link.as_deref(),
        Some("https://api-eu.hosted.exlibrisgroup.com/almaws/v1/partners/ANC")
    );
    assert_eq!(r.created_date, NaiveDate::from_ymd_opt(2025, 8, 20));
    assert_eq!(r.last_modified_date, NaiveDate::from_ymd_opt(2025, 9, 18));
    assert_eq!(
        r.created_time.unwrap().timestamp_millis(),
        Utc.with_ymd_and_hms(2025, 8, 20, 5, 42, 24)
            .unwrap()
            .timestamp_millis()
            + 143
    );
    let cost = r.shipping_cost.as_ref().unwrap();
    assert_eq!(cost.sum.as_ref().and_then(|s| s.as_i64()), Some(0));
    assert_eq!(code(&cost.currency), Some("ILS"));
    assert_eq!(code(&r.user_request), None, "{{}}");
    assert_eq!(code(&r.copyright_status), None, "{{}}");
    let los = r.level_of_service.as_ref().unwrap();
    assert_eq!((los.code(), los.desc.as_deref()), (None, Some("")));
    assert_eq!(code(&r.supplied_format), Some("PHYSICAL"));
    assert_eq!(r.printed, Some(false));
    assert!(r.rs_note.is_empty());
    assert_eq!(r.requested_media.as_deref(), Some("7"));

    let asked = mapping::lending_from_alma(&r, "ANC");
    assert_eq!(asked.external_id, "test primo 200825");
    assert_eq!(asked.partner_code, "ANC");
    assert_eq!(asked.requester.email, "requester@example.com");
    assert_eq!(asked.requester.library_name, "ANCA-TEST");
    assert_eq!(asked.service, ServiceType::Loan);
    assert_eq!(asked.citation.kind, Some(CitationType::Book));
    assert_eq!(asked.citation.title, "test 200825");
    assert_eq!(asked.citation.authors, ["testing"]);
    assert_eq!(
        asked.citation.year.as_deref(),
        Some("1/1/2000"),
        "free text kept"
    );
    assert_eq!(
        mapping::alma_created_at(&r),
        r.created_time,
        "the time, not just the date"
    );
}

#[test]
fn the_lending_task_list_of_2018() {
    let list: RsRequestList =
        serde_json::from_str(&fixture("task_list_lending_requests_created.json")).unwrap();
    assert_eq!(list.total_record_count, Some(3));
    let ids: Vec<_> = list
        .user_resource_sharing_request
        .iter()
        .map(|r| r.request_id.as_deref().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["7186914460002204", "7286023250002204", "7186808330002204"]
    );
    let r = &list.user_resource_sharing_request[0];
    assert_eq!(code(&r.status), Some("REQUEST_CREATED_LEND"));
    assert_eq!(code(&r.format), Some("PHYSICAL_NON_RETURNABLE"));
    assert_eq!(code(&r.citation_type), Some("JOURNAL"));
    assert_eq!(r.requester, None);
    assert_eq!(code(&r.user_request), None, "value and link null");
    assert_eq!(code(&r.supplied_format), None);
    assert_eq!(r.shipping_cost.as_ref().unwrap().sum, None, "no sum");
    assert_eq!(r.created_date, NaiveDate::from_ymd_opt(2018, 10, 10));
    assert_eq!(r.note, None);

    let asked = mapping::lending_from_alma(r, "NO-1082101");
    assert_eq!(asked.service, ServiceType::Loan);
    let c = &asked.citation;
    assert_eq!(c.kind, Some(CitationType::Article));
    assert_eq!(
        c.title,
        "CRISPR-Cas9 therapies in experimental mouse models of cancer"
    );
    assert_eq!(c.container_title.as_deref(), Some("Future Oncology"));
    assert_eq!(
        c.authors,
        [
            "Estêvão, Diogo",
            "Rios Costa, Natália",
            "da Costa, Rui Gil",
            "Medeiros, Rui"
        ]
    );
    assert_eq!(c.year.as_deref(), Some("20188"), "dirty data kept as sent");
    assert_eq!(c.volume.as_deref(), Some("Vol: 14  Iss: 20  "));
    assert_eq!(c.doi.as_deref(), Some("10.2217/fon-2018-0028 "));
    assert_eq!(c.pages.as_deref(), Some("2083-2095 "));
    assert_eq!(c.isbn, None);
    assert_eq!(
        list.user_resource_sharing_request[1]
            .place_of_publication
            .as_deref(),
        Some("Basel %3B")
    );
}

#[test]
fn user_requests_in_xml() {
    let r = UserRequests::from_xml(&fixture("user_requests.xml")).unwrap();
    assert_eq!(r.total_record_count, Some(2));
    let ids: Vec<_> = r
        .user_request
        .iter()
        .map(|u| u.request_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["36187952390002486", "36187952470002486"]);
    for u in &r.user_request {
        assert_eq!(u.request_type.as_deref(), Some("HOLD"));
        assert_eq!(u.user_primary_id.as_deref(), Some("mkadel1"));
        let sub = u.request_sub_type.as_ref().unwrap();
        assert_eq!(sub.code(), Some("PATRON_PHYSICAL"));
        assert_eq!(sub.desc.as_deref(), Some("Patron physical item request"));
        assert_eq!(
            u.request_status.as_deref(),
            Some("In Process"),
            "a label in XML"
        );
        assert_eq!(u.title.as_deref(), Some("MLA handbook."));
        assert!(
            u.resource_sharing.is_none(),
            "holds, not resource-sharing requests"
        );
    }
    assert_eq!(
        r.user_request[1].request_time.unwrap().timestamp_millis(),
        Utc.with_ymd_and_hms(2021, 6, 25, 13, 37, 26)
            .unwrap()
            .timestamp_millis()
            + 617
    );
}

#[test]
fn an_iso_partner() {
    let raw: serde_json::Value = serde_json::from_str(&fixture("partner_AATO_iso.json")).unwrap();
    let alma = AlmaPartner::from_value(raw.clone()).unwrap();
    assert_eq!(alma.details.avg_supply_time, Some(4));
    assert_eq!(alma.details.currency.as_deref(), Some("AUD"));
    assert_eq!(code(&alma.details.system_type), Some("LADD"));
    let p = mapping::partner_from(&alma);
    assert_eq!(p.code, "AATO");
    assert_eq!(p.name, "Australian Taxation Office");
    assert_eq!(p.status, PartnerStatus::Inactive);
    assert_eq!(
        p.profile,
        PartnerProfile::Iso18626 {
            symbol: "NLA:AATO".into(),
            url: Some("nla.vdxhost.com".into()),
        }
    );
    assert_eq!(p.isil, None);
    assert_eq!(p.email.as_deref(), Some("library-NAT@ato.gov.au"));
    assert_eq!(p.phone.as_deref(), Some("(02) 62161500"));
    assert_eq!(
        p.address,
        Address {
            lines: vec![
                "ATO Library & Information Services".into(),
                "26 Narellan St".into()
            ],
            postal_code: Some("2600".into()),
            city: Some("Canberra".into()),
            country: Some("AUS".into()),
        }
    );
    assert!(p.lending_supported && p.borrowing_supported);
    assert_eq!(
        (p.instructions.as_deref(), p.notes.as_deref()),
        (None, None)
    );

    // Renaming it leaves Alma's ISO profile, port and everything else alone.
    let mut renamed = p.clone();
    renamed.name = "ATO Library".into();
    let mut patched = raw.clone();
    mapping::patch_partner(&mut patched, &renamed);
    assert_eq!(
        mapping::partner_from(&AlmaPartner::from_value(patched.clone()).unwrap()),
        renamed
    );
    assert_eq!(patched["partner_details"]["name"], "ATO Library");
    let mut unchanged = patched.clone();
    unchanged["partner_details"]["name"] = raw["partner_details"]["name"].clone();
    assert_eq!(unchanged, raw, "only the name changed");
}

fn error_of(name: &str, status: u16) -> PortError {
    let errors = parse_errors(&fixture(name)).unwrap_or_else(|| panic!("{name} holds errors"));
    to_port_error(status, &errors)
}

#[test]
fn errors() {
    for name in ["error_mandatory_field.json", "error_mandatory_field.xml"] {
        let errors = parse_errors(&fixture(name)).unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "401664");
        assert_eq!(errors[0].message, "Mandatory field is missing: library");
        assert!(errors[0]
            .tracking_id
            .as_deref()
            .is_some_and(|t| t.starts_with("E0")));
        assert_eq!(
            error_of(name, 400),
            PortError::Invalid(vec![FieldError::new("pickup_location", REJECTED_KEY)])
        );
    }

    let throttled = parse_errors(&fixture("error_per_second_threshold.json")).unwrap();
    assert_eq!(throttled[0].code, "PER_SECOND_THRESHOLD");
    assert_eq!(throttled[0].tracking_id, None);
    assert_eq!(
        error_of("error_per_second_threshold.json", 429),
        PortError::RateLimited
    );

    let unauthorized = parse_errors(&fixture("error_unauthorized.xml")).unwrap();
    assert_eq!(unauthorized[0].code, "UNAUTHORIZED");
    for status in [400, 401, 403] {
        assert_eq!(
            error_of("error_unauthorized.xml", status),
            PortError::Unauthorized(
                "UNAUTHORIZED: API-key not defined or not configured to allow this API.".into()
            )
        );
    }
}
