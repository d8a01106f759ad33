//! Every real payload in `shared/fixtures/{crossref,datacite,pubmed,
//! openlibrary,unpaywall}` (and the project's own small ones in
//! `tests/fixtures/`) parses into the citation written out here, field by
//! field. Hostile bodies give an error, never a panic.

use app::domain::{Citation, CitationType};
use app::lookup::OpenAccessCopy;
use server::citation::{crossref, datacite, openlibrary, pubmed, unpaywall};

mod support;

use support::shared_fixtures;
const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A shared fixture; outside CI a missing ../shared skips with a notice.
fn shared(path: &str) -> Option<Vec<u8>> {
    match std::fs::read(shared_fixtures().join(path)) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            if support::required("KAUKO_TEST_REQUIRE_FIXTURES") {
                panic!("shared fixture {path} is required here: {e}");
            }
            support::skip(&format!("shared fixture {path}"), &e.to_string());
            None
        }
    }
}

fn own(name: &str) -> Vec<u8> {
    std::fs::read(format!("{OWN}/{name}")).unwrap()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| n.to_string()).collect()
}

/// The fixtures each test below covers, to catch new files nobody checks.
const COVERED: &[&str] = &[
    "crossref/journal_article_10.1021_acs.orglett.9b00971.json",
    "crossref/book_chapter_10.1007_978-3-0348-8720-5_13.json",
    "crossref/book_10.1007_978-3-319-53923-2.json",
    "crossref/edited_book_10.1039_9781788019972.json",
    "crossref/single_name_authors_10.1038_d41586-020-02761-z.json",
    "crossref/proceedings_article_10.1145_3184558.3186235.json",
    "datacite/conference_paper_10.4230_lipics.tqc.2013.93.json",
    "datacite/dataset_10.1594_pangaea.807217.json",
    "datacite/dataset_10.5061_dryad.8515.json",
    "pubmed/esummary_28806736.json",
    "openlibrary/api_books_jscmd_data_ISBN_9780980200447.json",
    "openlibrary/isbn_edition_9780980200447.json",
    "openlibrary/isbn_edition_9780141346830.json",
    "unpaywall/closed_10.1088_0022-3727_48_43_435001.json",
    "unpaywall/oa_publisher_10.1088_0004-6256_135_4_1201.json",
    "unpaywall/oa_repository_10.1080_21645515.2017.1330236.json",
];

#[test]
fn every_shared_payload_is_covered() {
    for dir in ["crossref", "datacite", "pubmed", "openlibrary", "unpaywall"] {
        let Ok(entries) = std::fs::read_dir(shared_fixtures().join(dir)) else {
            assert!(
                !support::required("KAUKO_TEST_REQUIRE_FIXTURES"),
                "shared fixtures in {dir} are required here"
            );
            support::skip(&format!("shared fixtures in {dir}"), "not found");
            continue;
        };
        for entry in entries.flatten() {
            let name = format!("{dir}/{}", entry.file_name().to_string_lossy());
            assert!(
                COVERED.contains(&name.as_str()),
                "{name} has no expected values here"
            );
        }
    }
}

#[test]
fn crossref_journal_article() {
    let Some(body) = shared(COVERED[0]) else {
        return;
    };
    assert_eq!(
        crossref::parse_work(&body).unwrap(),
        Citation {
            kind: Some(CitationType::Article),
            title: "A General Copper-Catalyzed Synthesis of Ynamides from 1,2-Dichloroenamides"
                .into(),
            container_title: s("Organic Letters"),
            authors: names(&[
                "Mansfield, Steven J.",
                "Smith, Russell C.",
                "Yong, Jonathan R. J.",
                "Garry, Olivia L.",
                "Anderson, Edward A."
            ]),
            volume: s("21"),
            issue: s("8"),
            pages: s("2918-2922"),
            year: s("2019"),
            publisher: s("American Chemical Society (ACS)"),
            place_of_publication: None,
            edition: None,
            issn: s("1523-7060"),
            isbn: None,
            doi: s("10.1021/acs.orglett.9b00971"),
            pmid: None,
        }
    );
}

#[test]
fn crossref_book_chapter() {
    let Some(body) = shared(COVERED[1]) else {
        return;
    };
    assert_eq!(
        crossref::parse_work(&body).unwrap(),
        Citation {
            kind: Some(CitationType::Chapter),
            title: "Differentiability with Respect to Initial Data for a Scalar Conservation Law"
                .into(),
            container_title: s("Hyperbolic Problems: Theory, Numerics, Applications"),
            authors: names(&["Bouchut, François", "James, François"]),
            pages: s("113-118"),
            year: s("1999"),
            publisher: s("Birkhäuser Basel"),
            place_of_publication: s("Basel"),
            isbn: s("9783034897426"),
            doi: s("10.1007/978-3-0348-8720-5_13"),
            ..Default::default()
        }
    );
}

#[test]
fn crossref_book_ignores_the_series() {
    let Some(body) = shared(COVERED[2]) else {
        return;
    };
    assert_eq!(
        crossref::parse_work(&body).unwrap(),
        Citation {
            kind: Some(CitationType::Book),
            title: "Applications of Quantum Dynamics in Chemistry".into(),
            // `container-title` and `ISSN` are the series (Lecture Notes in
            // Chemistry), not a journal.
            container_title: None,
            authors: names(&[
                "Gatti, Fabien",
                "Lasorne, Benjamin",
                "Meyer, Hans-Dieter",
                "Nauts, André"
            ]),
            year: s("2017"),
            publisher: s("Springer International Publishing"),
            place_of_publication: s("Cham"),
            issn: None,
            isbn: s("9783319539218"),
            doi: s("10.1007/978-3-319-53923-2"),
            ..Default::default()
        }
    );
}

#[test]
fn crossref_edited_book_uses_editors_and_subtitle() {
    let Some(body) = shared(COVERED[3]) else {
        return;
    };
    assert_eq!(
        crossref::parse_work(&body).unwrap(),
        Citation {
            kind: Some(CitationType::Book),
            title: "Long-lived Nuclear Spin Order: Theory and Applications".into(),
            authors: names(&["Pileio, Giuseppe"]),
            year: s("2020"),
            publisher: s("Royal Society of Chemistry"),
            place_of_publication: s("Cambridge"),
            isbn: s("9781788015684"),
            doi: s("10.1039/9781788019972"),
            ..Default::default()
        }
    );
}

#[test]
fn crossref_single_name_authors() {
    let Some(body) = shared(COVERED[4]) else {
        return;
    };
    assert_eq!(
        crossref::parse_work(&body).unwrap(),
        Citation {
            kind: Some(CitationType::Article),
            title: "Attention science: some people have only one name".into(),
            container_title: s("Nature"),
            authors: names(&["Sheherazade", "Ardiantiono"]),
            year: s("2020"),
            publisher: s("Springer Science and Business Media LLC"),
            issn: s("0028-0836"),
            doi: s("10.1038/d41586-020-02761-z"),
            ..Default::default()
        }
    );
}

#[test]
fn crossref_proceedings_article() {
    let Some(body) = shared(COVERED[5]) else {
        return;
    };
    assert_eq!(
        crossref::parse_work(&body).unwrap(),
        Citation {
            kind: Some(CitationType::Article),
            title: "DL-Learner Structured Machine Learning on Semantic Web Data".into(),
            // The doubled space is collapsed.
            container_title: s(
                "Companion of the The Web Conference 2018 on The Web Conference 2018 - WWW '18"
            ),
            authors: names(&[
                "Bühmann, Lorenz",
                "Lehmann, Jens",
                "Westphal, Patrick",
                "Bin, Simon"
            ]),
            year: s("2018"),
            publisher: s("ACM Press"),
            place_of_publication: s("New York, New York, USA"),
            isbn: s("9781450356404"),
            doi: s("10.1145/3184558.3186235"),
            ..Default::default()
        }
    );
}

#[test]
fn crossref_own_fixture_markup_organisation_and_en_dash() {
    assert_eq!(
        crossref::parse_work(&own("crossref_10.5555_12345678.json")).unwrap(),
        Citation {
            kind: Some(CitationType::Article),
            title: "Toward a Unified Theory of High-Energy Metaphysics: Silly String Theory".into(),
            container_title: s("Journal of Psychoceramics"),
            authors: names(&["Carberry, Josiah", "The Kauko Consortium"]),
            volume: s("5"),
            issue: s("11"),
            pages: s("1-3"),
            year: s("2008"),
            publisher: s("Society of Psychoceramics"),
            issn: s("0264-3561"),
            doi: s("10.5555/12345678"),
            ..Default::default()
        }
    );
}

#[test]
fn datacite_conference_paper_with_container() {
    let Some(body) = shared(COVERED[6]) else {
        return;
    };
    assert_eq!(
        datacite::parse_doi(&body).unwrap(),
        Citation {
            kind: Some(CitationType::Article),
            title: "The Minimum Size of Qubit Unextendible Product Bases".into(),
            container_title: s("LIPIcs, Volume 22, TQC 2013"),
            authors: names(&["Johnston, Nathaniel"]),
            volume: s("22"),
            pages: s("93-105"),
            year: s("2013"),
            publisher: s("Schloss Dagstuhl – Leibniz-Zentrum für Informatik"),
            issn: s("1868-8969"),
            isbn: s("9783939897552"),
            doi: s("10.4230/lipics.tqc.2013.93"),
            ..Default::default()
        }
    );
}

#[test]
fn datacite_datasets() {
    let Some(body) = shared(COVERED[7]) else {
        return;
    };
    assert_eq!(
        datacite::parse_doi(&body).unwrap(),
        Citation {
            // A dataset is none of article, book, chapter: the patron picks.
            kind: None,
            title: "Component parts of the World Heat Flow Data Collection".into(),
            authors: names(&["MacDonald, D"]),
            year: s("2009"),
            publisher: s("PANGAEA - Data Publisher for Earth & Environmental Science"),
            doi: s("10.1594/pangaea.807217"),
            ..Default::default()
        }
    );
    let Some(body) = shared(COVERED[8]) else {
        return;
    };
    assert_eq!(
        datacite::parse_doi(&body).unwrap(),
        Citation {
            kind: None,
            title: "Data from: A new malaria agent in African hominids.".into(),
            authors: names(&[
                "Ollomo, Benjamin",
                "Durand, Patrick",
                "Prugnolle, Franck",
                "Douzery, Emmanuel J. P.",
                "Arnathau, Céline",
                "Nkoghe, Dieudonné",
                "Leroy, Eric",
                "Renaud, François"
            ]),
            year: s("2011"),
            publisher: s("Dryad"),
            doi: s("10.5061/dryad.8515"),
            ..Default::default()
        }
    );
}

#[test]
fn datacite_own_fixture_publisher_object_subtitle_organisation() {
    assert_eq!(
        datacite::parse_doi(&own("datacite_10.5072_kauko-test.json")).unwrap(),
        Citation {
            kind: Some(CitationType::Book),
            title: "Interlibrary loan in practice: A handbook".into(),
            authors: names(&["Kirjasto, Aino", "National Library of Finland"]),
            year: s("2024"),
            publisher: s("Kauko Press"),
            doi: s("10.5072/kauko-test"),
            ..Default::default()
        }
    );
}

#[test]
fn pubmed_esummary_article() {
    let Some(body) = shared(COVERED[9]) else {
        return;
    };
    assert_eq!(
        pubmed::parse_esummary(&body, "28806736").unwrap(),
        Some(Citation {
            kind: Some(CitationType::Article),
            title: "Unravelling the interplay of sphingolipids and TGF-β signaling in the human corneal stroma".into(),
            container_title: s("PloS one"),
            authors: names(&["Nicholas, SE", "Rowsey, TG", "Priyadarsini, S", "Mandal, NA", "Karamichos, D"]),
            volume: s("12"),
            issue: s("8"),
            pages: s("e0182390"),
            year: s("2017"),
            issn: s("1932-6203"),
            doi: s("10.1371/journal.pone.0182390"),
            pmid: s("28806736"),
            ..Default::default()
        })
    );
    // Another PMID is not in this answer.
    assert_eq!(pubmed::parse_esummary(&body, "1").unwrap(), None);
}

#[test]
fn pubmed_own_fixture_book_chapter_and_unknown_id() {
    assert_eq!(
        pubmed::parse_esummary(&own("esummary_123.json"), "123").unwrap(),
        Some(Citation {
            kind: Some(CitationType::Chapter),
            title: "A chapter on in vitro lending".into(),
            container_title: s("Handbook of Resource Sharing"),
            authors: names(&["Smith, JA", "Kauko Study Group"]),
            pages: s("141-148"),
            year: s("2015"),
            publisher: s("Kauko Press"),
            place_of_publication: s("Helsinki"),
            doi: s("10.5555/chapter.123"),
            pmid: s("123"),
            ..Default::default()
        })
    );
    let unknown = br#"{"header":{"type":"esummary","version":"0.3"},"result":{"uids":["99999999"],"99999999":{"uid":"99999999","error":"cannot get document summary"}}}"#;
    assert_eq!(pubmed::parse_esummary(unknown, "99999999").unwrap(), None);
    assert_eq!(
        pubmed::parse_esummary(br#"{"error":"Invalid uid"}"#, "x").unwrap(),
        None
    );
}

fn slow_reading(authors: &[&str]) -> Citation {
    Citation {
        kind: Some(CitationType::Book),
        title: "Slow reading".into(),
        authors: names(authors),
        year: s("2009"),
        publisher: s("Litwin Books"),
        place_of_publication: s("Duluth, Minn"),
        isbn: s("9780980200447"),
        ..Default::default()
    }
}

#[test]
fn openlibrary_books_api_and_editions() {
    let Some(body) = shared(COVERED[10]) else {
        return;
    };
    assert_eq!(
        openlibrary::parse_books(&body, "9780980200447").unwrap(),
        Some(slow_reading(&["Miedema, John"]))
    );
    assert_eq!(
        openlibrary::parse_books(b"{}", "9780980200447").unwrap(),
        None
    );

    let Some(body) = shared(COVERED[11]) else {
        return;
    };
    let (citation, authors) = openlibrary::parse_edition(&body, "9780980200447").unwrap();
    assert_eq!(citation, slow_reading(&[]));
    assert_eq!(authors, ["/authors/OL6548935A"]);

    let Some(body) = shared(COVERED[12]) else {
        return;
    };
    let (citation, authors) = openlibrary::parse_edition(&body, "9780141346830").unwrap();
    assert_eq!(
        citation,
        Citation {
            kind: Some(CitationType::Book),
            title: "Percy Jackson and the Battle of the Labyrinth".into(),
            year: s("2013"),
            publisher: s("Puffin"),
            isbn: s("9780141346830"),
            ..Default::default()
        }
    );
    assert_eq!(authors, ["/authors/OL30765A"]);
    assert_eq!(
        openlibrary::parse_author(br#"{"name": "Rick Riordan", "key": "/authors/OL30765A"}"#)
            .as_deref(),
        Some("Riordan, Rick")
    );
}

#[test]
fn unpaywall_closed_publisher_and_repository_copies() {
    let Some(body) = shared(COVERED[13]) else {
        return;
    };
    assert_eq!(unpaywall::parse(&body).unwrap(), None);
    let Some(body) = shared(COVERED[14]) else {
        return;
    };
    assert_eq!(
        unpaywall::parse(&body).unwrap(),
        Some(OpenAccessCopy {
            url: "http://iopscience.iop.org/article/10.1088/0004-6256/135/4/1201/pdf".into(),
            version: s("publishedVersion"),
            host_type: s("publisher"),
            license: None,
        })
    );
    let Some(body) = shared(COVERED[15]) else {
        return;
    };
    assert_eq!(
        unpaywall::parse(&body).unwrap(),
        Some(OpenAccessCopy {
            url: "http://europepmc.org/articles/pmc5718814?pdf=render".into(),
            version: s("publishedVersion"),
            host_type: s("repository"),
            license: s("cc-by-nc-nd"),
        })
    );
}

#[test]
fn unpaywall_own_fixture_best_location_from_the_list() {
    assert_eq!(
        unpaywall::parse(&own("unpaywall_10.5555_12345678.json")).unwrap(),
        Some(OpenAccessCopy {
            url: "https://repository.example.org/123".into(),
            version: s("acceptedVersion"),
            host_type: s("repository"),
            license: s("cc-by"),
        })
    );
}

#[test]
fn hostile_bodies_are_errors_not_panics() {
    let bodies: [&[u8]; 9] = [
        b"",
        b"null",
        b"[]",
        b"{\"message\": []}",
        b"{\"message\": {\"title\": 5, \"author\": [1, null, {\"family\": []}], \"issued\": {\"date-parts\": [[\"x\"]]}}}",
        b"{\"data\": {\"attributes\": {\"titles\": \"x\", \"creators\": {}, \"publisher\": [1]}}}",
        b"{\"result\": {\"uids\": [1], \"1\": {\"title\": [], \"authors\": 7}}}",
        b"{\"is_oa\": true, \"best_oa_location\": {\"url\": 12}}",
        b"\xff\xfe<html>",
    ];
    for body in bodies {
        let _ = crossref::parse_work(body);
        let _ = datacite::parse_doi(body);
        let _ = pubmed::parse_esummary(body, "1");
        let _ = openlibrary::parse_books(body, "9780980200447");
        let _ = openlibrary::parse_edition(body, "9780980200447");
        let _ = openlibrary::parse_author(body);
        let _ = unpaywall::parse(body);
    }
    assert!(crossref::parse_work(b"<html>").is_err());
    assert!(datacite::parse_doi(b"{}").is_err());
    assert!(pubmed::parse_esummary(b"[]", "1").is_err());
    assert!(unpaywall::parse(b"{}").is_err());
}
