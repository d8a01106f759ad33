//! Demo data for a fresh database: a few partners, two patrons' requests in
//! various states and their loans, so every page has something to show.
//! Runs only when `demo.seed` is on and the database has no partners yet.

use app::domain::{
    BorrowingStatus, Citation, CitationType, Format, NewBorrowingRequest, NewLendingRequest,
    PatronId, RequesterContact, ServiceType,
};
use chrono::{Duration, Utc};

use crate::adapters::local::LocalBackend;
use crate::port::{contract, PortError, ResourceSharing};

/// The demo patrons' library-system user ids.
pub const DEMO_PATRONS: [&str; 2] = ["aino.virtanen", "bertil.lind"];

/// What the seeding did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    pub partners: usize,
    pub requests: usize,
    pub loans: usize,
}

fn book(title: &str, author: &str, isbn: &str, year: &str) -> Citation {
    Citation {
        kind: Some(CitationType::Book),
        title: title.into(),
        authors: vec![author.into()],
        isbn: Some(isbn.into()),
        year: Some(year.into()),
        ..Default::default()
    }
}

/// Seeds an empty database; does nothing (and says so) when there is data.
pub async fn seed_demo(local: &LocalBackend) -> Result<Seeded, PortError> {
    if local.list_partners(0, 1).await?.total > 0 {
        return Ok(Seeded::default());
    }
    let mut seeded = Seeded::default();
    for (code, name, isil, city) in [
        (
            "FI-HELKA",
            "Helsingin yliopiston kirjasto",
            "FI-HY",
            "Helsinki",
        ),
        (
            "FI-TUNI",
            "Tampereen yliopiston kirjasto",
            "FI-Tay",
            "Tampere",
        ),
        ("FI-OULU", "Oulun yliopiston kirjasto", "FI-Oy", "Oulu"),
        ("SE-LIBRIS:KB", "Kungliga biblioteket", "SE-S", "Stockholm"),
        ("DE-GBV:7", "SUB Göttingen", "DE-7", "Göttingen"),
    ] {
        let mut p = contract::partner(code, name);
        p.isil = Some(isil.into());
        p.address.city = Some(city.into());
        p.address.country = Some(code[..2].into());
        p.email = Some(format!(
            "ill@{}.example.org",
            code.to_ascii_lowercase().replace([':', '_'], "-")
        ));
        if code == "FI-TUNI" {
            p.instructions = Some(
                "Lähettäkää kopiot PDF-tiedostoina. / Please send copies as PDF files.".into(),
            );
        }
        local.create_partner(p).await?;
        seeded.partners += 1;
    }

    let [aino, bertil] = DEMO_PATRONS.map(|p| PatronId(p.to_owned()));
    let requests: [(&PatronId, Citation, Format, BorrowingStatus); 6] = [
        (
            &aino,
            contract::article(),
            Format::Digital,
            BorrowingStatus::RequestCreated,
        ),
        (
            &aino,
            book(
                "Sources of the self: the making of the modern identity",
                "Taylor, Charles",
                "9780674824256",
                "1989",
            ),
            Format::Physical,
            BorrowingStatus::RequestSent,
        ),
        (
            &aino,
            book(
                "Suomen kielen historia",
                "Häkkinen, Kaisa",
                "9789510182443",
                "1994",
            ),
            Format::Physical,
            BorrowingStatus::ReceivedPhysically,
        ),
        (
            &aino,
            Citation {
                kind: Some(CitationType::Chapter),
                title: "Resource sharing in the age of Alma".into(),
                container_title: Some("Library systems reader".into()),
                authors: vec!["Lind, Bertil".into()],
                pages: Some("45-67".into()),
                year: Some("2021".into()),
                ..Default::default()
            },
            Format::Digital,
            BorrowingStatus::Rejected,
        ),
        (
            &bertil,
            book("Fjärrlånets historia", "Ek, Maria", "9789170000004", "2005"),
            Format::Physical,
            BorrowingStatus::PendingApproval,
        ),
        (
            &bertil,
            book(
                "The Interlibrary Loan Practices Handbook",
                "Knox, Cherié L.",
                "9780838909546",
                "2011",
            ),
            Format::Physical,
            BorrowingStatus::Completed,
        ),
    ];
    for (i, (patron, citation, format, status)) in requests.into_iter().enumerate() {
        let created = local
            .create_borrowing_request(
                patron,
                NewBorrowingRequest {
                    external_id: format!("DEMO-{:04}", i + 1),
                    citation,
                    format,
                    pickup_location: Some("MAIN".into()),
                    needed_by: None,
                    note: None,
                    copyright_accepted: true,
                },
            )
            .await?;
        local.set_status(&created.id, &status).await?;
        seeded.requests += 1;
    }
    let now = Utc::now();
    local
        .check_out(
            &aino,
            None,
            "Kalevala: kriittinen editio",
            Some("Lönnrot, Elias"),
            now + Duration::days(12),
            true,
        )
        .await?;
    local
        .check_out(
            &aino,
            None,
            "Rare maps of the Baltic",
            None,
            now + Duration::days(3),
            false,
        )
        .await?;
    local
        .check_out(
            &bertil,
            None,
            "Library networks in the Nordic countries",
            Some("Nordic group"),
            now + Duration::days(20),
            true,
        )
        .await?;
    seeded.loans = 3;
    // Two other libraries' requests for the lending desk.
    for (i, (partner, library, title, service)) in [
        (
            "FI-TUNI",
            "Tampereen yliopiston kirjasto",
            "Maamme-kirja",
            ServiceType::Loan,
        ),
        (
            "FI-OULU",
            "Oulun yliopiston kirjasto",
            "Life is pretty meaningful",
            ServiceType::Copy,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        local
            .create_lending_request(NewLendingRequest {
                external_id: format!("DEMO-LEND-{:04}", i + 1),
                partner_code: partner.into(),
                requester: RequesterContact {
                    library_name: library.into(),
                    contact_name: None,
                    email: format!("ill@{}.example.org", partner.to_ascii_lowercase()),
                },
                citation: if service == ServiceType::Copy {
                    contract::article()
                } else {
                    book(title, "Topelius, Zacharias", "9789510000006", "1875")
                },
                service,
                delivery_address: Some(format!("{library}, kaukopalvelu")),
                max_cost: None,
                needed_by: None,
                note: None,
            })
            .await?;
        seeded.requests += 1;
    }
    Ok(seeded)
}
