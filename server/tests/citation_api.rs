//! The public citation API through a running Kauko against the loopback
//! fake upstream: identifiers and OpenURLs in, JSON out; clear 4xx for bad
//! input, 404/502/503/504 for upstream trouble; CORS for widgets; no
//! sign-in needed; the OpenAPI description parses and names the path.

mod support;

use std::time::Duration;

use serde_json::Value;
use server::config::Config;
use server::web;
use support::upstream::{Fault, Upstream};

struct Kauko {
    base: String,
    client: reqwest::Client,
    up: Upstream,
    _dir: tempfile::TempDir,
}

async fn start(extra: &[(&str, &str)]) -> Kauko {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut env = up.env();
    env.push(("KAUKO_SERVER_PUBLIC_URL".to_owned(), base.clone()));
    env.extend([
        (
            "KAUKO_DATABASE_URL".to_owned(),
            format!("sqlite://{}/kauko.db", dir.path().display()),
        ),
        (
            "KAUKO_SERVER_SITE_ROOT".to_owned(),
            dir.path().display().to_string(),
        ),
        (
            "KAUKO_LOOKUP_CONTACT_EMAIL".to_owned(),
            "ill@library.example.fi".to_owned(),
        ),
    ]);
    if !extra
        .iter()
        .any(|(k, _)| *k == "KAUKO_LOOKUP_MAX_LOOKUPS_PER_MINUTE")
    {
        env.push((
            "KAUKO_LOOKUP_MAX_LOOKUPS_PER_MINUTE".to_owned(),
            "100000".to_owned(),
        ));
    }
    for (k, v) in extra {
        env.push((k.to_string(), v.to_string()));
    }
    let config = Config::from_sources("", env).unwrap();
    let state = server::build_state(config).await.unwrap();
    tokio::spawn(web::serve(
        listener,
        web::router(state),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Kauko {
        base,
        client,
        up,
        _dir: dir,
    }
}

impl Kauko {
    /// GET /api/v1/citation?<query>: status, CORS header, JSON body.
    async fn citation(&self, query: &str) -> (u16, Option<String>, Value) {
        let res = self
            .client
            .get(format!("{}/api/v1/citation?{query}", self.base))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let cors = res
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned());
        let content_type = res
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(content_type, "application/json", "{query}");
        (status, cors, res.json().await.unwrap())
    }

    async fn error(&self, query: &str) -> (u16, String, String) {
        let (status, cors, body) = self.citation(query).await;
        assert_eq!(cors.as_deref(), Some("*"), "{query}");
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        assert!(!message.is_empty(), "{query}: no message in {body}");
        (
            status,
            body["error"].as_str().unwrap_or_default().to_owned(),
            message,
        )
    }
}

#[tokio::test]
async fn a_doi_gives_the_citation_with_open_access_and_cors() {
    let k = start(&[]).await;
    let (status, cors, body) = k.citation("id=https://doi.org/10.5555/12345678").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cors.as_deref(), Some("*"));
    assert_eq!(body["source"], "crossref");
    let c = &body["citation"];
    assert_eq!(c["kind"], "article");
    assert_eq!(
        c["title"],
        "Toward a Unified Theory of High-Energy Metaphysics: Silly String Theory"
    );
    assert_eq!(c["container_title"], "Journal of Psychoceramics");
    assert_eq!(c["authors"][0], "Carberry, Josiah");
    assert_eq!(c["pages"], "1-3");
    assert_eq!(c["year"], "2008");
    assert_eq!(
        body["identifiers"],
        serde_json::json!([{"scheme": "doi", "value": "10.5555/12345678"}])
    );
    assert_eq!(
        body["open_access"]["url"],
        "https://repository.example.org/123"
    );
    assert_eq!(body["open_access"]["version"], "acceptedVersion");
    assert_eq!(body["warnings"], serde_json::json!([]));
    // Cached: the second call does not reach Crossref or Unpaywall.
    let (status, _, again) = k.citation("id=doi:10.5555/12345678").await;
    assert_eq!(status, 200);
    assert_eq!(again, body);
    assert_eq!(
        (k.up.hit_count("crossref"), k.up.hit_count("unpaywall")),
        (1, 1)
    );
}

#[tokio::test]
async fn pmids_and_isbns() {
    let k = start(&[]).await;
    let (status, _, body) = k.citation("id=pmid:123").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "pubmed");
    assert_eq!(body["citation"]["kind"], "chapter");
    assert_eq!(body["citation"]["pages"], "141-148");
    assert_eq!(
        body["identifiers"],
        serde_json::json!([{"scheme": "doi", "value": "10.5555/chapter.123"}, {"scheme": "pmid", "value": "123"}])
    );
    if k.up.has("openlibrary", "books:9780980200447") {
        let (status, _, body) = k.citation("id=978-0-9802004-4-7").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["source"], "openlibrary");
        assert_eq!(body["citation"]["kind"], "book");
        assert_eq!(
            body["citation"]["authors"],
            serde_json::json!(["Miedema, John"])
        );
        assert_eq!(body["open_access"], Value::Null);
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_400() {
    let k = start(&[]).await;
    for (query, code, words) in [
        ("", "missing_parameters", "identifier"),
        ("lang=en", "missing_parameters", "OpenURL"),
        ("id=", "empty_identifier", "empty"),
        (
            "id=hello%20world",
            "unrecognised_identifier",
            "\"hello world\" is not a DOI",
        ),
        ("id=978-0-980-20044-8", "isbn_checksum", "check digit"),
        ("id=0-674-82425-4", "isbn_checksum", "check digit"),
        (
            "sid=google&genre=article&url_ver=Z39.88-2004&foo=bar",
            "no_citation",
            "OpenURL",
        ),
        (
            "id=12345678%C3%A9",
            "unrecognised_identifier",
            "is not a DOI",
        ),
    ] {
        let (status, error, message) = k.error(query).await;
        assert_eq!((status, error.as_str()), (400, code), "{query}: {message}");
        assert!(message.contains(words), "{query}: {message}");
    }
    assert_eq!(
        k.up.hit_count("crossref") + k.up.hit_count("ncbi") + k.up.hit_count("openlibrary"),
        0
    );
}

#[tokio::test]
async fn upstream_trouble_gets_404_502_503_504() {
    let k = start(&[("KAUKO_LOOKUP_TIMEOUT_MILLISECONDS", "400")]).await;
    let (status, error, message) = k.error("id=10.9999/nobody").await;
    assert_eq!((status, error.as_str()), (404, "not_found"));
    assert_eq!(message, "Crossref does not know this identifier.");
    for (fault, status, code, text) in [
        (
            Fault::NotFound,
            404,
            "not_found",
            "PubMed does not know this identifier.",
        ),
        (
            Fault::TooManyRequests,
            503,
            "upstream_rate_limited",
            "PubMed is busy",
        ),
        (
            Fault::Slow(Duration::from_millis(1500)),
            504,
            "upstream_timeout",
            "PubMed did not answer in time",
        ),
        (
            Fault::Garbage,
            502,
            "upstream_bad_response",
            "PubMed sent an answer Kauko could not read.",
        ),
        (
            Fault::ServerError,
            503,
            "upstream_unavailable",
            "PubMed is unavailable",
        ),
    ] {
        k.up.set_fault("ncbi", Some(fault));
        let (got_status, _, body) = k.citation("id=123").await;
        assert_eq!(
            (got_status, body["error"].as_str().unwrap()),
            (status, code),
            "{fault:?}: {body}"
        );
        assert_eq!(body["service"], "pubmed");
        assert!(
            body["message"].as_str().unwrap().starts_with(text),
            "{body}"
        );
    }
    k.up.set_fault("ncbi", Some(Fault::TooManyRequests));
    let res = k
        .client
        .get(format!("{}/api/v1/citation?id=123", k.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("retry-after").unwrap(), "2");
}

#[tokio::test]
async fn an_openurl_without_identifier_is_returned_as_it_is() {
    let k = start(&[]).await;
    let (status, _, body) = k
        .citation("url_ver=Z39.88-2004&rft.genre=book&rft.btitle=Smart+Testing&rft.aucorp=American+Federation+of+Teachers&rft.date=2006&rft.pub=Am.+Fed.+Teach")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "openurl");
    assert_eq!(body["citation"]["kind"], "book");
    assert_eq!(body["citation"]["title"], "Smart Testing");
    assert_eq!(
        body["citation"]["authors"],
        serde_json::json!(["American Federation of Teachers"])
    );
    assert_eq!(body["citation"]["year"], "2006");
    assert_eq!(body["identifiers"], serde_json::json!([]));
    assert_eq!(body["open_access"], Value::Null);
}

#[tokio::test]
async fn an_openurl_with_a_doi_is_enriched_and_fills_gaps() {
    let k = start(&[]).await;
    // 0.1 form: `id=doi:` beside other keys. The link's title differs from
    // Crossref's (Crossref wins) and it has an edition Crossref lacks.
    let (status, _, body) = k
        .citation("sid=google&genre=article&atitle=Silly+string&title=J+Psychoceram&id=doi:10.5555/12345678&aulast=Carberry&rft.edition=2nd")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "crossref");
    let c = &body["citation"];
    assert_eq!(
        c["title"],
        "Toward a Unified Theory of High-Energy Metaphysics: Silly String Theory"
    );
    assert_eq!(c["container_title"], "Journal of Psychoceramics");
    assert_eq!(c["edition"], "2nd");
    assert_eq!(body["open_access"]["host_type"], "repository");

    // 1.0 form with a DOI Crossref does not know: the link's own fields,
    // and a warning saying which service did not know it.
    let (status, _, body) = k
        .citation("url_ver=Z39.88-2004&rft.genre=article&rft.atitle=Postural+Pseudoanemia&rft.jtitle=Mayo+Clinic+Proceedings&rft.issn=00256196&rft_id=info:doi/10.9999/unknown")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "openurl");
    assert_eq!(body["citation"]["title"], "Postural Pseudoanemia");
    assert_eq!(body["citation"]["issn"], "0025-6196");
    assert_eq!(body["citation"]["doi"], "10.9999/unknown");
    assert_eq!(body["warnings"][0]["error"], "not_found");
    assert_eq!(body["warnings"][0]["service"], "crossref");

    // A link with nothing but an unknown DOI fails like the identifier.
    let (status, error, _) = k
        .error("rft_id=info:doi/10.9999/unknown&url_ver=Z39.88-2004")
        .await;
    assert_eq!((status, error.as_str()), (404, "not_found"));
}

#[tokio::test]
async fn unpaywall_trouble_is_a_warning_not_a_failure() {
    let k = start(&[]).await;
    k.up.set_fault("unpaywall", Some(Fault::ServerError));
    let (status, _, body) = k.citation("id=10.5555/12345678").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["open_access"], Value::Null);
    assert_eq!(body["warnings"][0]["error"], "upstream_unavailable");
    assert_eq!(body["warnings"][0]["service"], "unpaywall");
}

#[tokio::test]
async fn the_api_needs_no_sign_in_and_answers_preflight() {
    let k = start(&[]).await;
    let res = k
        .client
        .get(format!("{}/api/v1/citation?id=10.5555/12345678", k.base))
        .header("cookie", "kauko_session=forged")
        .header("origin", "https://discovery.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = k
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/citation", k.base),
        )
        .header("origin", "https://discovery.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        res.headers().get("access-control-allow-origin").unwrap(),
        "*"
    );
}

#[tokio::test]
async fn the_openapi_description_is_served_and_parses() {
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml"))
            .unwrap();
    let k = start(&[]).await;
    let res = k
        .client
        .get(format!("{}/api/v1/openapi.yaml", k.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/yaml"
    );
    let served = res.text().await.unwrap();
    assert_eq!(served, file);
    let doc: serde_yaml::Value = serde_yaml::from_str(&served).unwrap();
    assert_eq!(doc["openapi"].as_str(), Some("3.1.0"));
    let get = &doc["paths"]["/api/v1/citation"]["get"];
    assert!(get.is_mapping(), "no GET /api/v1/citation");
    for status in ["200", "400", "404", "502", "503", "504"] {
        assert!(
            get["responses"][status].is_mapping(),
            "response {status} undocumented"
        );
    }
    // Every error code the server can send is in the schema's enum.
    let codes: Vec<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for code in [
        "missing_parameters",
        "empty_identifier",
        "unrecognised_identifier",
        "isbn_checksum",
        "no_citation",
        "not_found",
        "upstream_rate_limited",
        "upstream_timeout",
        "upstream_unavailable",
        "upstream_bad_response",
    ] {
        assert!(codes.contains(&code), "{code} missing in the OpenAPI enum");
    }
}

#[tokio::test]
async fn one_client_cannot_use_up_the_shared_quotas() {
    let k = start(&[("KAUKO_LOOKUP_MAX_LOOKUPS_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        let (status, _, _) = k.citation("id=10.5555/12345678").await;
        assert_eq!(status, 200);
    }
    let res = k
        .client
        .get(format!("{}/api/v1/citation?id=10.5555/12345678", k.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert_eq!(res.headers()["retry-after"], "60");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    // The form's autofill shares the limit: told, translated, to wait.
    let lookup = || {
        k.client
            .post(format!("{}/api/requests/lookup", k.base))
            .header("origin", &k.base)
    };
    // A form without JavaScript sends its fields, the page's own code JSON
    // (app::api::codec::JsonOrForm); broken JSON is refused, not a panic.
    for request in [
        lookup().form(&[("input", "10.5555/12345678")]),
        lookup().json(&serde_json::json!({ "input": "10.5555/12345678" })),
    ] {
        let body: Value = request.send().await.unwrap().json().await.unwrap();
        assert_eq!(body["error_key"], "lookup.error.too_many", "{body}");
    }
    let res = lookup()
        .header("content-type", "application/json")
        .body("{\"input\": ")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error() || res.status().is_server_error());
    assert_ne!(res.status().as_u16(), 429);
    let hits = k.up.hits("crossref").len();
    assert!(
        hits <= 1,
        "the refused look-ups never reached Crossref: {hits}"
    );
}
