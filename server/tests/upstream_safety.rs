//! What outside services can and cannot make Kauko do: an identifier is
//! one encoded path segment on the service's host (a DOI `10.1/../../x`
//! does not reach `/x`), a service's redirect to another host is not
//! followed, and no configured secret (NCBI's `api_key`, the contact
//! address, Alma's API key) reaches a log line or an error text on any
//! failure path. Against loopback servers that record what they receive.

mod support;

use std::sync::{Arc, Mutex};

use app::domain::identifiers::Identifier;
use app::lookup::CitationLookup;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use server::citation::Lookup;
use server::config::Config;

/// A loopback server that records the raw path of each request and
/// answers 404, or with `redirect_to` a 302 there.
#[derive(Clone)]
struct Recorder {
    base: String,
    paths: Arc<Mutex<Vec<String>>>,
}

async fn recorder(redirect_to: Option<String>) -> Recorder {
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = paths.clone();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let seen = seen.clone();
        let redirect_to = redirect_to.clone();
        async move {
            seen.lock().unwrap().push(uri.path().to_owned());
            let r: Response = match redirect_to {
                Some(to) => (
                    StatusCode::FOUND,
                    [("location", format!("{to}{}", uri.path()))],
                )
                    .into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            };
            r
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Recorder { base, paths }
}

impl Recorder {
    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

fn lookup_at(urls: &[(&str, String)], extra: &[(&str, &str)], db: &server::storage::Db) -> Lookup {
    let mut env: Vec<(String, String)> = urls
        .iter()
        .map(|(service, url)| (format!("KAUKO_{service}_URL"), url.clone()))
        .collect();
    env.push((
        "KAUKO_LOOKUP_CONTACT_EMAIL".into(),
        "ill@library.example.fi".into(),
    ));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Lookup::from_config(&Config::from_sources("", env).unwrap(), db)
}

#[tokio::test]
async fn identifiers_are_single_path_segments_on_the_services_host() {
    let rec = recorder(None).await;
    let (db, _dir) = support::sqlite_db().await;
    let urls = ["CROSSREF", "DATACITE", "NCBI", "OPENLIBRARY", "UNPAYWALL"]
        .map(|s| (s, format!("{}/{}", rec.base, s.to_ascii_lowercase())));
    let lookup = lookup_at(&urls, &[], &db);
    for doi in ["10.1/../../x", "10.1/..%2f..%2fx", "10.1234/./../admin"] {
        let _ = lookup.lookup(&Identifier::Doi(doi.into())).await;
        let _ = lookup.open_access(doi).await;
    }
    let paths = rec.paths();
    assert!(!paths.is_empty(), "the services were asked");
    for path in &paths {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        assert!(
            !segments
                .iter()
                .any(|s| *s == ".." || *s == "." || s.eq_ignore_ascii_case("%2e%2e")),
            "no dot segment reaches the host: {path}"
        );
        let expected = match segments[0] {
            "crossref" | "datacite" => 3, // /crossref/works/<doi>
            "unpaywall" => 2,             // /unpaywall/<doi>
            other => panic!("unexpected service path {path} ({other})"),
        };
        assert_eq!(segments.len(), expected, "the DOI is one segment: {path}");
    }
    assert!(
        paths.contains(&"/crossref/works/10.1%2F..%2F..%2Fx".to_owned()),
        "{paths:?}"
    );
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let elsewhere = recorder(None).await;
    let service = recorder(Some(elsewhere.base.clone())).await;
    let (db, _dir) = support::sqlite_db().await;
    let urls = ["CROSSREF", "DATACITE", "NCBI", "OPENLIBRARY", "UNPAYWALL"]
        .map(|s| (s, format!("{}/{}", service.base, s.to_ascii_lowercase())));
    let lookup = lookup_at(&urls, &[], &db);
    let _ = lookup
        .lookup(&Identifier::Doi("10.5555/12345678".into()))
        .await;
    let _ = lookup.lookup(&Identifier::Pmid("12345".into())).await;
    let _ = lookup
        .lookup(&Identifier::Isbn("9789511274452".into()))
        .await;
    assert!(!service.paths().is_empty(), "the service was asked");
    assert_eq!(
        elsewhere.paths(),
        Vec::<String>::new(),
        "nothing reached the other host"
    );
}

/// Log lines written while `f` runs (every level).
async fn logs_of<F: std::future::Future<Output = ()>>(f: F) -> String {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    f.await;
    drop(guard);
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn no_secret_reaches_a_log_line_or_an_error() {
    const NCBI_KEY: &str = "ncbi-secret-4f9a";
    const CONTACT: &str = "secret-contact@library.example.fi";
    const ALMA_KEY: &str = "alma-secret-7c21";
    // Nothing listens here: every call fails to connect.
    let closed = format!("http://127.0.0.1:{}", support::free_port());
    // And here every call answers 500.
    let failing = {
        let app = axum::Router::new().fallback(|| async { StatusCode::INTERNAL_SERVER_ERROR });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    };
    let (db, dir) = support::sqlite_db().await;
    let mut errors = Vec::new();
    let logs = logs_of(async {
        for base in [&closed, &failing] {
            let urls = ["CROSSREF", "DATACITE", "NCBI", "OPENLIBRARY", "UNPAYWALL"]
                .map(|s| (s, format!("{base}/{}", s.to_ascii_lowercase())));
            let lookup = lookup_at(
                &urls,
                &[
                    ("KAUKO_NCBI_API_KEY", NCBI_KEY),
                    ("KAUKO_LOOKUP_CONTACT_EMAIL", CONTACT),
                ],
                &db,
            );
            for id in [
                Identifier::Pmid("12345".into()),
                Identifier::Doi("10.5555/12345678".into()),
                Identifier::Isbn("9789511274452".into()),
            ] {
                if let Err(e) = lookup.lookup(&id).await {
                    errors.push(format!("{e} {e:?}"));
                }
            }
            if let Err(e) = lookup.open_access("10.5555/12345678").await {
                errors.push(format!("{e} {e:?}"));
            }
            // Alma, with its key, unreachable or failing.
            let config =
                support::alma::alma_config(base, dir.path(), &[("KAUKO_ALMA_API_KEY", ALMA_KEY)]);
            let port = server::adapters::from_config(&config, &db).unwrap();
            if let Err(e) = port.get_partner("FI-TUNI").await {
                errors.push(format!("{e} {e:?}"));
            }
            let patron = app::domain::PatronId("aino".into());
            if let Err(e) = port.list_borrowing_requests(&patron).await {
                errors.push(format!("{e} {e:?}"));
            }
        }
    })
    .await;
    assert!(logs.lines().count() > 3, "the failures were logged: {logs}");
    for secret in [NCBI_KEY, CONTACT, ALMA_KEY] {
        for line in logs.lines() {
            assert!(!line.contains(secret), "{secret} in a log line: {line}");
        }
        for e in &errors {
            assert!(!e.contains(secret), "{secret} in an error: {e}");
        }
    }
}
