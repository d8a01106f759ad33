//! Demo data for `kauko alma-sim --demo`: the demo patrons `aino.virtanen`
//! and `bertil.lind` with borrowing requests in several statuses and loans
//! from loaned requests, and three partners (an EMAIL profile, an ISO 18626
//! one shaped like Alma's real partner records, one whose code has a `:`).

use chrono::{Duration, Utc};
use serde_json::{json, Map, Value};

use super::state::{Data, User};
use super::{NewSimLoan, SimState};

/// The demo patrons.
pub const PATRONS: [&str; 2] = ["aino.virtanen", "bertil.lind"];

/// What [`seed`] created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoSeed {
    pub rs_requests: Vec<String>,
    pub loans: Vec<String>,
    pub partners: Vec<String>,
}

fn fields(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn book(title: &str, author: &str, isbn: &str, year: &str) -> Map<String, Value> {
    fields(&[
        ("format", json!("PHYSICAL")),
        ("citation_type", json!("BK")),
        ("title", json!(title)),
        ("author", json!(author)),
        ("isbn", json!(isbn)),
        ("year", json!(year)),
        ("pickup_location_type", json!("LIBRARY")),
        ("pickup_location", json!("MAIN")),
        ("agree_to_copyright_terms", json!(true)),
    ])
}

fn article(
    title: &str,
    journal: &str,
    author: &str,
    year: &str,
    volume: &str,
) -> Map<String, Value> {
    fields(&[
        ("format", json!("DIGITAL")),
        ("citation_type", json!("CR")),
        ("title", json!(title)),
        ("journal_title", json!(journal)),
        ("author", json!(author)),
        ("year", json!(year)),
        ("volume", json!(volume)),
        ("agree_to_copyright_terms", json!(true)),
    ])
}

fn partners() -> Vec<Value> {
    vec![
        json!({
            "partner_details": {
                "code": "FI-TAMK-EMAIL",
                "name": "Tampere University Library ILL",
                "status": "ACTIVE",
                "system_type": {"value": "OTHER", "desc": "Other"},
                "profile_details": {
                    "profile_type": "EMAIL",
                    "email_details": {
                        "email": "ill@tuni.example.fi",
                        "resending_overdue_message_interval": 7
                    }
                },
                "avg_supply_time": 5,
                "delivery_delay": 2,
                "currency": "EUR",
                "borrowing_supported": true,
                "borrowing_workflow": "DEFAULT_BOR_WF",
                "lending_supported": true,
                "lending_workflow": "DEFAULT_LEND_WF"
            },
            "contact_info": {
                "address": [],
                "email": [{
                    "email_address": "ill@tuni.example.fi",
                    "description": null,
                    "email_type": ["claimMail", "orderMail"],
                    "preferred": true
                }],
                "phone": []
            },
            "note": [],
            "link": null
        }),
        json!({
            "partner_details": {
                "code": "NLSE",
                "name": "Kungliga biblioteket (LIBRIS)",
                "status": "ACTIVE",
                "profile_details": {
                    "profile_type": "ISO_18626",
                    "iso_18626_details": {
                        "alternative_document_delivery": false,
                        "ill_server": "https://iso18626.libris.example.se/",
                        "iso_symbol": "SE:KB",
                        "send_requester_information": false,
                        "shared_barcodes": true,
                        "return_info": false,
                        "resending_overdue_message_interval": 14
                    }
                },
                "system_type": {"value": "LIBRIS", "desc": "LIBRIS"},
                "avg_supply_time": 4,
                "delivery_delay": 4,
                "currency": "SEK",
                "borrowing_supported": true,
                "borrowing_workflow": "ISO_Borrowing",
                "lending_supported": true,
                "lending_workflow": "ISO_Lending",
                "auto_cancel_supported": false,
                "auto_claim_supported": false,
                "locate_profile": {"value": "LIBRIS", "desc": "LIBRIS Locate Profile"},
                "holding_code": "KB"
            },
            "contact_info": {
                "address": [{
                    "line1": "Fjärrlån / Interlibrary loans",
                    "line2": "Box 5039",
                    "line3": null,
                    "line4": null,
                    "line5": null,
                    "city": "Stockholm",
                    "state_province": null,
                    "postal_code": "102 41",
                    "country": {"value": "SWE", "desc": "Sweden"},
                    "start_date": "2022-08-16Z",
                    "address_type": ["billing", "claim", "order", "payment", "returns", "shipping"],
                    "preferred": true
                }],
                "phone": [{
                    "phone_number": "+46 10 709 30 00",
                    "phone_type": ["claimPhone", "orderPhone"],
                    "preferred": false,
                    "preferredSMS": null
                }],
                "email": [{
                    "email_address": "fjarrlan@kb.example.se",
                    "description": null,
                    "email_type": ["claimMail", "orderMail", "queriesMail"],
                    "preferred": false
                }]
            },
            "note": [],
            "link": null
        }),
        json!({
            "partner_details": {
                "code": "NLNZ:WLC",
                "name": "Wellington City Libraries",
                "status": "ACTIVE",
                "system_type": {"value": "NCIP", "desc": "NCIP"},
                "profile_details": {
                    "profile_type": "NCIP_P2P",
                    "ncip_p2p_details": {
                        "alternative_document_delivery": false,
                        "general_user_id_type": "BARCODE",
                        "ill_server": "https://ncip.wcl.example.nz/ncip",
                        "ncip_p2p_user_name": "kauko-ill",
                        "ncip_p2p_password": "demo-secret-not-for-browsers",
                        "institution_code": "NLNZ",
                        "partner_symbol": "NLNZ:WLC",
                        "request_expiry_type": {"value": "NO_EXPIRY", "desc": "No expiry"},
                        "send_requester_information": true,
                        "email_address": "ill@wcl.example.nz"
                    }
                },
                "avg_supply_time": 10,
                "delivery_delay": 7,
                "currency": "NZD",
                "borrowing_supported": false,
                "lending_supported": true,
                "lending_workflow": "DEFAULT_LEND_WF"
            },
            "contact_info": {"address": [], "email": [], "phone": []},
            "note": [],
            "link": null
        }),
    ]
}

/// Seeds the demo data into `state` (meant for an empty one).
pub fn seed(state: &SimState) -> DemoSeed {
    let mut out = DemoSeed::default();
    let library = state.config().rs_library;
    let mut data = state.data();
    for p in partners() {
        let code = p["partner_details"]["code"].as_str().unwrap().to_string();
        data.partners.insert(code.clone(), p);
        out.partners.push(code);
    }
    data.users.insert(
        PATRONS[0].into(),
        User {
            first_name: "Aino".into(),
            last_name: "Virtanen".into(),
            email: Some("aino.virtanen@example.fi".into()),
        },
    );
    data.users.insert(
        PATRONS[1].into(),
        User {
            first_name: "Bertil".into(),
            last_name: "Lind".into(),
            email: Some("bertil.lind@example.fi".into()),
        },
    );
    // (patron, status, citation, days ago). Citation strings keep real
    // mess: trailing spaces, odd years.
    let requests: Vec<(&str, &str, Map<String, Value>, i64)> = vec![
        (
            PATRONS[0],
            "REQUEST_CREATED_BOR",
            book(
                "Sources of the self : the making of the modern identity",
                "Taylor, Charles",
                "0674824253",
                "1989",
            ),
            0,
        ),
        (
            PATRONS[0],
            "SHIPPED_PHYSICALLY",
            book(
                "Kalevala : the land of heroes ",
                "Lönnrot, Elias",
                "9780199538867",
                "2008",
            ),
            9,
        ),
        (
            PATRONS[0],
            "RECEIVED_DIGITALLY",
            article(
                "Life is pretty meaningful",
                "American Psychologist",
                "Heintzelman, Samantha J.; King, Laura A.",
                "2014",
                "Vol: 69  Iss: 6  ",
            ),
            12,
        ),
        (
            PATRONS[0],
            "CANCELED_BY_PATRON",
            book(
                "The particle play",
                "Polkinghorne, John",
                "0716711389",
                "1979",
            ),
            20,
        ),
        (
            PATRONS[1],
            "REQUEST_CREATED_BOR",
            article(
                "CRISPR-Cas9 therapies in experimental mouse models of cancer",
                "Future Oncology",
                "Estêvão, Diogo;Rios Costa, Natália;",
                "20188",
                "Vol: 14  Iss: 20  ",
            ),
            1,
        ),
        (
            PATRONS[1],
            "SHIPPED_PHYSICALLY",
            book(
                "Fänrik Ståls sägner",
                "Runeberg, Johan Ludvig",
                "9789515831026",
                "1/1/2000",
            ),
            8,
        ),
        (
            PATRONS[1],
            "RECEIVED_DIGITALLY",
            article(
                "Gene and Cell Doping: The New Frontier - Beyond Myth or Reality",
                "Medicine and sport science",
                "Neuberger, Elmo W I;Simon, Perikles;",
                "2017",
                "Vol: 62  ",
            ),
            15,
        ),
        (
            PATRONS[1],
            "CANCELED_BY_PATRON",
            book("Bananboken", "Vollset, K.", "8205283741", "2000"),
            30,
        ),
    ];
    for (patron, status, citation, days) in requests {
        let id = add_request(&mut data, &library, patron, status, citation, days);
        out.rs_requests.push(id);
    }
    let loaned: [(&str, &str, &str, bool); 4] = [
        (PATRONS[0], "Seitsemän veljestä", "Kivi, Aleksis", true),
        (
            PATRONS[0],
            "Rare maps of the Baltic",
            "Nordenskiöld, A. E.",
            false,
        ),
        (PATRONS[1], "Tuntematon sotilas", "Linna, Väinö", true),
        (
            PATRONS[1],
            "Manuscripts of Turku Academy",
            "Porthan, H. G.",
            false,
        ),
    ];
    for (i, (patron, title, author, renewable)) in loaned.into_iter().enumerate() {
        let citation = book(title, author, &format!("95100{i:05}"), "1999");
        let id = add_request(&mut data, &library, patron, "LOANED", citation, 25);
        out.rs_requests.push(id.clone());
        let loan = data.insert_loan(NewSimLoan {
            user_id: patron.into(),
            title: title.into(),
            author: Some(author.into()),
            due_in_days: if renewable { 21 } else { 7 },
            renewable,
            rs_request_id: Some(id),
        });
        out.loans.push(loan);
    }
    out
}

fn add_request(
    data: &mut Data,
    library: &str,
    patron: &str,
    status: &str,
    mut citation: Map<String, Value>,
    days_ago: i64,
) -> String {
    citation.insert("owner".into(), json!(library));
    let external = format!("KAUKO-DEMO-{:04}", data.next_seq());
    let partner = (status != "REQUEST_CREATED_BOR").then(|| "FI-TAMK-EMAIL".to_string());
    let mut r = data.new_request(
        false,
        Some(patron.into()),
        external,
        status,
        partner,
        citation,
    );
    r.created = Utc::now() - Duration::days(days_ago);
    r.modified = Utc::now() - Duration::days(days_ago / 2);
    data.insert_borrowing(r)
}
