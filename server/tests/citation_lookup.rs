//! The whole lookup path against the loopback fake upstream: routing (DOI →
//! Crossref or DataCite, PMID → PubMed, ISBN → Open Library), the contact
//! parameters each service asks for, error mapping (404, 429, timeout,
//! garbage, 500, refused connection), the database cache and its TTL (on
//! SQLite, and once on PostgreSQL), the rate limiter, and Unpaywall.

mod support;

use std::time::{Duration, Instant};

use app::domain::identifiers::Identifier;
use app::domain::CitationType;
use app::lookup::{CitationLookup, LookupError, Service};
use server::citation::Lookup;
use server::config::Config;
use server::storage::Db;
use support::upstream::{Fault, Upstream};

const EMAIL: &str = "ill@library.example.fi";

fn config(up: &Upstream, extra: &[(&str, &str)]) -> Config {
    let mut env = up.env();
    env.push(("KAUKO_LOOKUP_CONTACT_EMAIL".into(), EMAIL.into()));
    for (k, v) in extra {
        env.push((k.to_string(), v.to_string()));
    }
    Config::from_sources("", env).unwrap()
}

struct Setup {
    up: Upstream,
    lookup: Lookup,
    _db: Db,
    _dir: tempfile::TempDir,
}

async fn setup(extra: &[(&str, &str)]) -> Setup {
    let up = Upstream::start().await;
    let (db, dir) = support::sqlite_db().await;
    let lookup = Lookup::from_config(&config(&up, extra), &db);
    Setup {
        up,
        lookup,
        _db: db,
        _dir: dir,
    }
}

fn doi(d: &str) -> Identifier {
    Identifier::Doi(d.into())
}

const OWN_DOI: &str = "10.5555/12345678";

#[tokio::test]
async fn a_doi_comes_from_crossref_with_mailto_and_is_cached() {
    let s = setup(&[]).await;
    let found = s.lookup.lookup(&doi(OWN_DOI)).await.unwrap();
    assert_eq!(found.source, Service::Crossref);
    assert_eq!(
        found.citation.title,
        "Toward a Unified Theory of High-Energy Metaphysics: Silly String Theory"
    );
    let hits = s.up.hits("crossref");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path, "/works/10.5555/12345678");
    assert!(
        hits[0].query.contains("mailto=ill%40library.example.fi"),
        "{}",
        hits[0].query
    );

    // The second lookup is answered from the database.
    let again = s.lookup.lookup(&doi(OWN_DOI)).await.unwrap();
    assert_eq!(again, found);
    assert_eq!(s.up.hit_count("crossref"), 1);
}

#[tokio::test]
async fn a_datacite_doi_is_found_after_crossref_says_404() {
    let s = setup(&[]).await;
    let found = s.lookup.lookup(&doi("10.5072/kauko-test")).await.unwrap();
    assert_eq!(found.source, Service::Datacite);
    assert_eq!(
        found.citation.title,
        "Interlibrary loan in practice: A handbook"
    );
    assert_eq!(s.up.hit_count("crossref"), 1);
    assert_eq!(s.up.hits("datacite")[0].path, "/dois/10.5072/kauko-test");
    if s.up.has("datacite", "10.5061/dryad.8515") {
        let found = s.lookup.lookup(&doi("10.5061/dryad.8515")).await.unwrap();
        assert_eq!(found.source, Service::Datacite);
        assert_eq!(found.citation.publisher.as_deref(), Some("Dryad"));
    }
}

#[tokio::test]
async fn a_doi_nobody_knows_is_not_found_at_crossref() {
    let s = setup(&[]).await;
    let e = s
        .lookup
        .lookup(&doi("10.9999/nobody-knows"))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        LookupError::NotFound {
            service: Service::Crossref
        }
    );
    assert_eq!(e.to_string(), "Crossref does not know this identifier");
    assert_eq!(
        (s.up.hit_count("crossref"), s.up.hit_count("datacite")),
        (1, 1)
    );
    // Failures are not cached: the next try asks again.
    let _ = s.lookup.lookup(&doi("10.9999/nobody-knows")).await;
    assert_eq!(s.up.hit_count("crossref"), 2);
}

#[tokio::test]
async fn a_pmid_comes_from_esummary_with_tool_and_email() {
    let s = setup(&[("KAUKO_NCBI_API_KEY", "k3y")]).await;
    let found = s
        .lookup
        .lookup(&Identifier::Pmid("123".into()))
        .await
        .unwrap();
    assert_eq!(found.source, Service::Pubmed);
    assert_eq!(found.citation.kind, Some(CitationType::Chapter));
    assert_eq!(found.citation.pmid.as_deref(), Some("123"));
    let hit = &s.up.hits("ncbi")[0];
    assert_eq!(hit.path, "/esummary.fcgi");
    for part in [
        "db=pubmed",
        "id=123",
        "retmode=json",
        "tool=kauko",
        "email=ill%40library.example.fi",
        "api_key=k3y",
    ] {
        assert!(hit.query.contains(part), "{part} missing in {}", hit.query);
    }
    let e = s
        .lookup
        .lookup(&Identifier::Pmid("99999999".into()))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        LookupError::NotFound {
            service: Service::Pubmed
        }
    );
    if s.up.has("ncbi", "28806736") {
        let found = s
            .lookup
            .lookup(&Identifier::Pmid("28806736".into()))
            .await
            .unwrap();
        assert_eq!(
            found.citation.doi.as_deref(),
            Some("10.1371/journal.pone.0182390")
        );
    }
}

#[tokio::test]
async fn an_isbn_comes_from_open_library_books_then_editions() {
    let s = setup(&[]).await;
    if !s.up.has("openlibrary", "books:9780980200447") {
        assert!(
            !support::required("KAUKO_TEST_REQUIRE_FIXTURES"),
            "shared Open Library fixtures are required here"
        );
        support::skip("shared Open Library fixtures", "not found");
        return;
    }
    let found = s
        .lookup
        .lookup(&Identifier::Isbn("9780980200447".into()))
        .await
        .unwrap();
    assert_eq!(found.source, Service::Openlibrary);
    assert_eq!(found.citation.title, "Slow reading");
    assert_eq!(found.citation.authors, ["Miedema, John"]);
    assert_eq!(
        s.up.hits("openlibrary")[0].query,
        "bibkeys=ISBN%3A9780980200447&format=json&jscmd=data"
    );

    // Not in the Books API: the edition record, then the author's name.
    s.up.reset_hits();
    let found = s
        .lookup
        .lookup(&Identifier::Isbn("9780141346830".into()))
        .await
        .unwrap();
    assert_eq!(
        found.citation.title,
        "Percy Jackson and the Battle of the Labyrinth"
    );
    assert_eq!(found.citation.authors, ["Riordan, Rick"]);
    let paths: Vec<String> =
        s.up.hits("openlibrary")
            .into_iter()
            .map(|h| h.path)
            .collect();
    assert_eq!(
        paths,
        [
            "/api/books",
            "/isbn/9780141346830.json",
            "/authors/OL30765A.json"
        ]
    );

    let e = s
        .lookup
        .lookup(&Identifier::Isbn("9780306406157".into()))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        LookupError::NotFound {
            service: Service::Openlibrary
        }
    );
}

#[tokio::test]
async fn each_fault_maps_to_its_error() {
    let s = setup(&[("KAUKO_LOOKUP_TIMEOUT_MILLISECONDS", "400")]).await;
    let cases = [
        (
            Fault::NotFound,
            LookupError::NotFound {
                service: Service::Pubmed,
            },
        ),
        (
            Fault::TooManyRequests,
            LookupError::RateLimited {
                service: Service::Pubmed,
            },
        ),
        (
            Fault::Slow(Duration::from_millis(1500)),
            LookupError::Timeout {
                service: Service::Pubmed,
            },
        ),
        (
            Fault::Garbage,
            LookupError::BadResponse {
                service: Service::Pubmed,
            },
        ),
        (
            Fault::ServerError,
            LookupError::Unavailable {
                service: Service::Pubmed,
            },
        ),
    ];
    for (fault, expected) in cases {
        s.up.set_fault("ncbi", Some(fault));
        let started = Instant::now();
        let e = s
            .lookup
            .lookup(&Identifier::Pmid("123".into()))
            .await
            .unwrap_err();
        assert_eq!(e, expected, "{fault:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{fault:?} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        LookupError::Timeout {
            service: Service::Pubmed
        }
        .to_string(),
        "PubMed did not answer in time"
    );
    // Crossref garbage is named as Crossref, not as DataCite.
    s.up.set_fault("crossref", Some(Fault::Garbage));
    assert_eq!(
        s.lookup.lookup(&doi(OWN_DOI)).await.unwrap_err(),
        LookupError::BadResponse {
            service: Service::Crossref
        }
    );
    // Once the service is healthy again, the lookup works (nothing bad cached).
    s.up.set_fault("ncbi", None);
    assert!(s
        .lookup
        .lookup(&Identifier::Pmid("123".into()))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_service_that_is_not_there_is_unavailable() {
    let closed = format!("http://127.0.0.1:{}", support::free_port());
    let s = setup(&[("KAUKO_CROSSREF_URL", &closed)]).await;
    assert_eq!(
        s.lookup.lookup(&doi(OWN_DOI)).await.unwrap_err(),
        LookupError::Unavailable {
            service: Service::Crossref
        }
    );
}

#[tokio::test]
async fn the_cache_expires_after_its_ttl() {
    let s = setup(&[("KAUKO_LOOKUP_CACHE_TTL_SECONDS", "1")]).await;
    s.lookup.lookup(&doi(OWN_DOI)).await.unwrap();
    s.lookup.lookup(&doi(OWN_DOI)).await.unwrap();
    assert_eq!(s.up.hit_count("crossref"), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    s.lookup.lookup(&doi(OWN_DOI)).await.unwrap();
    assert_eq!(s.up.hit_count("crossref"), 2);
}

#[tokio::test]
async fn the_cache_keeps_at_most_its_cap() {
    let s = setup(&[("KAUKO_LOOKUP_CACHE_MAX_ENTRIES", "3")]).await;
    for i in 0..12 {
        s.lookup
            .lookup(&doi(&format!("10.5555/bench-{i}")))
            .await
            .unwrap();
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM citation_cache")
        .fetch_one(&s._db.pool)
        .await
        .unwrap();
    assert!(rows <= 3, "{rows} entries kept, cap 3");
    // The newest stays: asked again, not fetched again.
    let hits = s.up.hit_count("crossref");
    s.lookup.lookup(&doi("10.5555/bench-11")).await.unwrap();
    assert_eq!(s.up.hit_count("crossref"), hits);
}

#[tokio::test]
async fn the_cache_works_on_postgresql() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    let up = Upstream::start().await;
    let lookup = Lookup::from_config(&config(&up, &[]), &db);
    let first = lookup.lookup(&doi(OWN_DOI)).await.unwrap();
    let second = lookup.lookup(&doi(OWN_DOI)).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(up.hit_count("crossref"), 1);
    // A second Lookup on the same database (another server instance) shares it.
    let other = Lookup::from_config(&config(&up, &[]), &db);
    assert_eq!(other.lookup(&doi(OWN_DOI)).await.unwrap(), first);
    assert_eq!(up.hit_count("crossref"), 1);
    assert_eq!(
        other
            .open_access(OWN_DOI)
            .await
            .unwrap()
            .unwrap()
            .version
            .as_deref(),
        Some("acceptedVersion")
    );
    assert_eq!(
        lookup
            .open_access(OWN_DOI)
            .await
            .unwrap()
            .unwrap()
            .license
            .as_deref(),
        Some("cc-by")
    );
    assert_eq!(up.hit_count("unpaywall"), 1);
}

#[tokio::test]
async fn the_rate_limiter_spaces_calls() {
    // 5 calls per second: one every 200 ms.
    let s = setup(&[("KAUKO_NCBI_MAX_CALLS_PER_SECOND", "5")]).await;
    let started = Instant::now();
    let lookups = (0..4).map(|i| {
        let id = Identifier::Pmid(format!("{}", 1000 + i));
        let lookup = &s.lookup;
        async move { lookup.lookup(&id).await }
    });
    let results = futures::future::join_all(lookups).await;
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(LookupError::NotFound { .. }))));
    let mut times: Vec<Instant> = s.up.hits("ncbi").into_iter().map(|h| h.at).collect();
    times.sort();
    assert_eq!(times.len(), 4);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(150),
            "calls only {gap:?} apart"
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(550));
}

#[tokio::test]
async fn a_saturated_limiter_gives_up_after_the_timeout() {
    // 1 call per second and a 300 ms timeout: the third concurrent call
    // cannot get a slot in time.
    let s = setup(&[
        ("KAUKO_NCBI_MAX_CALLS_PER_SECOND", "1"),
        ("KAUKO_LOOKUP_TIMEOUT_MILLISECONDS", "300"),
    ])
    .await;
    let lookups = (0..3).map(|i| {
        let id = Identifier::Pmid(format!("{}", 2000 + i));
        let lookup = &s.lookup;
        async move { lookup.lookup(&id).await }
    });
    let results = futures::future::join_all(lookups).await;
    let limited = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(LookupError::RateLimited {
                    service: Service::Pubmed
                })
            )
        })
        .count();
    assert!(limited >= 2, "{results:?}");
    assert_eq!(s.up.hit_count("ncbi"), 3 - limited);
}

#[tokio::test]
async fn unpaywall_closed_open_unknown_and_without_email() {
    let s = setup(&[]).await;
    let copy = s.lookup.open_access(OWN_DOI).await.unwrap().unwrap();
    assert_eq!(copy.url, "https://repository.example.org/123");
    assert_eq!(copy.host_type.as_deref(), Some("repository"));
    let hit = &s.up.hits("unpaywall")[0];
    assert_eq!(hit.path, "/10.5555/12345678");
    assert_eq!(hit.query, "email=ill%40library.example.fi");
    // Cached.
    s.lookup.open_access(OWN_DOI).await.unwrap();
    assert_eq!(s.up.hit_count("unpaywall"), 1);
    // Unpaywall does not know it: no known copy.
    assert_eq!(s.lookup.open_access("10.9999/unknown").await.unwrap(), None);
    if s.up.has("unpaywall", "10.1088/0022-3727/48/43/435001") {
        assert_eq!(
            s.lookup
                .open_access("10.1088/0022-3727/48/43/435001")
                .await
                .unwrap(),
            None
        );
        let copy = s
            .lookup
            .open_access("10.1088/0004-6256/135/4/1201")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(copy.host_type.as_deref(), Some("publisher"));
        assert_eq!(copy.version.as_deref(), Some("publishedVersion"));
    }
    s.up.set_fault("unpaywall", Some(Fault::ServerError));
    assert_eq!(
        s.lookup.open_access("10.9999/other").await.unwrap_err(),
        LookupError::Unavailable {
            service: Service::Unpaywall
        }
    );

    // Without a contact address Unpaywall is not asked at all.
    let up = Upstream::start().await;
    let (db, _dir) = support::sqlite_db().await;
    let no_email = Lookup::from_config(&Config::from_sources("", up.env()).unwrap(), &db);
    assert_eq!(no_email.open_access(OWN_DOI).await.unwrap(), None);
    assert_eq!(up.hit_count("unpaywall"), 0);
    // …and Crossref gets no mailto.
    no_email.lookup(&doi(OWN_DOI)).await.unwrap();
    assert!(!up.hits("crossref")[0].query.contains("mailto"));
}
