//! Kauko inside Primo (issue 20): the PNX → OpenURL mapping on every
//! recorded Primo record, the button's entry, the widget bundle, CORS, and
//! the status endpoint's JWT checks against a JWKS served on loopback with
//! keys made here.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use app::domain::openurl::parse_openurl;
use app::domain::pnx::{to_openurl, Pnx, FIELDS};
use app::domain::{Citation, CitationType, Format, NewBorrowingRequest, PatronId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

// ---------------------------------------------------------------- PNX

/// The records of one fixture file: a record, a bare PNX, or a search
/// answer's `docs`.
fn records_of(file: &Value) -> Vec<Value> {
    match file.get("docs").and_then(Value::as_array) {
        Some(docs) => docs.clone(),
        None => vec![file.clone()],
    }
}

fn citation_of(pnx: &Pnx) -> Citation {
    let kev = to_openurl(pnx);
    let pairs: Vec<(String, String)> = form_urlencoded::parse(kev.as_bytes())
        .into_owned()
        .collect();
    parse_openurl(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap_or_else(|| panic!("no citation from {kev}"))
        .citation
}

fn primo_fixtures() -> Option<Vec<(String, Value)>> {
    let dir = support::shared_fixtures().join("primo");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => {
            if support::required("KAUKO_TEST_REQUIRE_FIXTURES") {
                panic!(
                    "the Primo fixtures are required here ({}): {e}",
                    dir.display()
                );
            }
            support::skip("shared fixtures primo/", &e.to_string());
            return None;
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Some(
        files
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, serde_json::from_str(&text).unwrap())
            })
            .collect(),
    )
}

#[test]
fn every_recorded_primo_record_maps_to_a_citation_with_its_title() {
    let Some(files) = primo_fixtures() else {
        return;
    };
    let mut checked = 0;
    for (name, file) in &files {
        for (i, record) in records_of(file).iter().enumerate() {
            let pnx = Pnx::from_json(record);
            let c = citation_of(&pnx);
            let what = format!("{name}[{i}]");
            assert!(c.kind.is_some(), "{what}: no type");
            // Some title the patron recognises: the article's, the book's,
            // or the journal's.
            let shown = if c.title.is_empty() {
                c.container_title.clone().unwrap_or_default()
            } else {
                c.title.clone()
            };
            assert!(!shown.is_empty(), "{what}: no title in {c:?}");
            assert!(
                !shown.contains("$$"),
                "{what}: Primo subfields left: {shown}"
            );
            // Whatever DOI or PMID the record has arrives intact.
            let body = record.get("pnx").unwrap_or(record);
            if let Some(doi) = body.pointer("/addata/doi/0").and_then(Value::as_str) {
                assert_eq!(
                    c.doi.as_deref(),
                    Some(doi.to_ascii_lowercase().as_str()),
                    "{what}"
                );
            }
            if let Some(pmid) = body.pointer("/addata/pmid/0").and_then(Value::as_str) {
                assert_eq!(c.pmid.as_deref(), Some(pmid), "{what}");
            }
            checked += 1;
        }
    }
    // 9 single records, 10 + 50 search results.
    assert!(checked >= 60, "only {checked} records checked");
}

fn fixture(files: &[(String, Value)], name: &str) -> Citation {
    let file = &files.iter().find(|(n, _)| n == name).unwrap().1;
    citation_of(&Pnx::from_json(file))
}

#[test]
fn named_records_map_field_by_field() {
    let Some(files) = primo_fixtures() else {
        return;
    };
    let plos = fixture(&files, "record_cdi_article_doi_pmid_plos.json");
    assert_eq!(plos.kind, Some(CitationType::Article));
    assert!(plos
        .title
        .starts_with("DNA metabarcoding-based diet survey"));
    assert_eq!(plos.container_title.as_deref(), Some("PloS one"));
    assert_eq!(plos.authors.len(), 6);
    assert_eq!(plos.authors[0], "Kumari, Priyanka");
    assert_eq!(plos.volume.as_deref(), Some("14"));
    assert_eq!(plos.issue.as_deref(), Some("12"));
    assert_eq!(plos.pages.as_deref(), Some("e0226253"));
    assert_eq!(plos.year.as_deref(), Some("2019"));
    assert_eq!(plos.issn.as_deref(), Some("1932-6203"));
    assert_eq!(plos.doi.as_deref(), Some("10.1371/journal.pone.0226253"));
    assert_eq!(plos.pmid.as_deref(), Some("31830120"));

    let gale = fixture(&files, "record_cdi_article_no_doi_gale.json");
    assert_eq!(gale.kind, Some(CitationType::Article));
    assert_eq!(gale.title, "Otter");
    assert_eq!(
        gale.container_title.as_deref(),
        Some("Michigan quarterly review")
    );
    assert_eq!(gale.pages.as_deref(), Some("367"));
    assert_eq!(gale.doi, None);

    let chapter = fixture(&files, "record_cdi_book_chapter_isbn_oup.json");
    assert_eq!(chapter.kind, Some(CitationType::Chapter));
    assert_eq!(chapter.title, "otter");
    assert_eq!(
        chapter.container_title.as_deref(),
        Some("Oxford Dictionary of Word Origins")
    );
    assert_eq!(chapter.isbn.as_deref(), Some("9780198868750"));
    assert_eq!(chapter.edition.as_deref(), Some("3"));

    let book = fixture(&files, "record_ve_book_isbn_umn.json");
    assert_eq!(book.kind, Some(CitationType::Book));
    assert_eq!(book.title, "On the origin of species");
    assert_eq!(book.authors, ["Darwin, Charles"]);
    assert_eq!(book.isbn.as_deref(), Some("9780521867092"));
    assert_eq!(
        book.publisher.as_deref(),
        Some("Cambridge University Press")
    );
    assert_eq!(book.year.as_deref(), Some("2009"));

    let old = fixture(&files, "record_ve_book_no_isbn_umn.json");
    assert_eq!(old.kind, Some(CitationType::Book));
    assert_eq!(old.isbn, None);
    assert_eq!(old.year.as_deref(), Some("1866"));

    let thesis = fixture(&files, "record_ve_thesis_utk.json");
    assert_eq!(thesis.kind, Some(CitationType::Book));
    assert_eq!(
        thesis.title,
        "STUDY OF THE DYNAMIC BEHAVIOR OF MOLTEN-SALT REACTORS"
    );
    assert_eq!(thesis.authors[0], "Singh, Vikram");

    let journal = fixture(&files, "record_ve_journal_umn.json");
    assert_eq!(journal.kind, Some(CitationType::Article));
    assert_eq!(
        journal.container_title.as_deref(),
        Some("Time (Sydney, N.S.W. : Online)")
    );
    assert_eq!(journal.issn.as_deref(), Some("0818-0628"));

    let nature = fixture(&files, "record_classic_dedup_journal_nature_umn.json");
    assert_eq!(nature.container_title.as_deref(), Some("Nature."));
    assert_eq!(nature.authors, ["Lockyer, Norman"]);

    let video = fixture(&files, "record_local_video_tul_2019.json");
    assert_eq!(video.kind, Some(CitationType::Book));
    assert!(video.title.starts_with("Offenbach in Paris"));

    // The older brief search format has no addata at all.
    let brief = &files
        .iter()
        .find(|(n, _)| n == "pnxs_brief_search_otter_tul_2017.json")
        .unwrap()
        .1["docs"][0];
    let c = citation_of(&Pnx::from_json(brief));
    assert_eq!(c.title, "The sea otter");
    assert_eq!(c.authors, ["Silverstein, Alvin"]);
    assert_eq!(c.year.as_deref(), Some("1995"));
}

#[test]
fn edge_cases_no_addata_several_authors_special_and_non_ascii_characters() {
    // No addata at all: display only.
    let c = citation_of(&Pnx::from_json(&json!({"pnx": {"display": {
        "title": ["Seitsemän veljestä"], "creator": ["Kivi, Aleksis; Lönnrot, Elias"],
        "type": ["book"], "creationdate": ["1870"]}}})));
    assert_eq!(c.kind, Some(CitationType::Book));
    assert_eq!(c.title, "Seitsemän veljestä");
    assert_eq!(c.authors, ["Kivi, Aleksis", "Lönnrot, Elias"]);
    // Several authors, &, #, +, %, non-ASCII (Finnish, Swedish, Greek, CJK).
    let record = json!({"pnx": {"addata": {
        "genre": ["article"],
        "atitle": ["R&D #2: 100% + Åland’s “ö” — αβγ 法制 ?x=1&y=2"],
        "jtitle": ["Journal of A & B"],
        "au": ["Öberg, Åsa", "Nguyễn, Văn", "O'Brien, Seán", "Øster, Ærø"],
        "spage": ["1"], "epage": ["9"], "date": ["2024"], "issn": ["1234-5679"]
    }}});
    let pnx = Pnx::from_json(&record);
    let kev = to_openurl(&pnx);
    for raw in ["#", "&y=", "R&D", " ", "\u{201c}"] {
        assert!(!kev.contains(raw), "{raw:?} left unencoded in {kev}");
    }
    let c = citation_of(&pnx);
    assert_eq!(c.title, "R&D #2: 100% + Åland’s “ö” — αβγ 法制 ?x=1&y=2");
    assert_eq!(c.container_title.as_deref(), Some("Journal of A & B"));
    assert_eq!(
        c.authors,
        ["Öberg, Åsa", "Nguyễn, Văn", "O'Brien, Seán", "Øster, Ærø"]
    );
    assert_eq!(c.pages.as_deref(), Some("1-9"));
    // The widget's query form reads the same.
    let q: Vec<(String, String)> = vec![
        ("addata.genre".into(), "article".into()),
        (
            "addata.atitle".into(),
            "R&D #2: 100% + Åland’s “ö” — αβγ 法制 ?x=1&y=2".into(),
        ),
        ("addata.jtitle".into(), "Journal of A & B".into()),
        ("addata.au".into(), "Öberg, Åsa".into()),
        ("addata.au".into(), "Nguyễn, Văn".into()),
        ("addata.au".into(), "O'Brien, Seán".into()),
        ("addata.au".into(), "Øster, Ærø".into()),
        ("addata.spage".into(), "1".into()),
        ("addata.epage".into(), "9".into()),
        ("addata.date".into(), "2024".into()),
        ("addata.issn".into(), "1234-5679".into()),
    ];
    assert_eq!(
        Pnx::from_query(q.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        pnx
    );
}

#[test]
fn the_widget_sends_exactly_the_fields_the_mapping_reads() {
    let js = server::primo::widgets::BUNDLE;
    let start = js.find("const FIELDS = [").expect("FIELDS in the bundle");
    let end = start + js[start..].find("];").unwrap();
    let listed: Vec<&str> = js[start..end].split('"').skip(1).step_by(2).collect();
    assert_eq!(listed, FIELDS.to_vec());
}

// ---------------------------------------------------------------- Kauko

const INST: &str = "TEST_INST";
const PRIMO: &str = "http://primo.test.example";

/// An ES256 key made for this test.
struct Key {
    kid: String,
    der: Vec<u8>,
    public: Vec<u8>,
}

impl Key {
    fn new(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap()
            .as_ref()
            .to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng).unwrap();
        Self {
            kid: kid.into(),
            public: pair.public_key().as_ref().to_vec(),
            der,
        }
    }

    fn jwk(&self) -> Value {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
               "x": b64(&self.public[1..33]), "y": b64(&self.public[33..65])})
    }

    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&self.der)).unwrap()
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }
}

fn claims(user: &str, inst: &str, exp_in: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"userName": user, "user": user, "userGroup": "STUDENT", "inst": inst,
           "isLoggedIn": true, "iss": "Prima", "iat": now - 10, "exp": now + exp_in})
}

/// The institution's JWKS on loopback, counting its fetches.
struct Jwks {
    url: String,
    hits: Arc<AtomicUsize>,
}

async fn serve_jwks(keys: Vec<Value>) -> Jwks {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let body = json!({ "keys": keys });
    let app = axum::Router::new().route(
        "/auth/TEST_INST/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/auth/TEST_INST/jwks.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Jwks { url, hits }
}

async fn add_request(k: &support::Running, patron: &str, title: &str) {
    k.state
        .port
        .create_borrowing_request(
            &PatronId(patron.into()),
            NewBorrowingRequest {
                external_id: uuid::Uuid::new_v4().to_string(),
                citation: Citation {
                    kind: Some(CitationType::Book),
                    title: title.into(),
                    authors: vec!["Someone, A.".into()],
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
}

/// Kauko with Primo configured against `jwks`, on the given database.
async fn kauko(jwks: &Jwks, database: Option<&str>) -> support::Running {
    let origins = format!("[\"{PRIMO}\"]");
    let mut env = vec![
        ("KAUKO_PRIMO_INSTITUTION", INST),
        ("KAUKO_PRIMO_JWKS_URL", jwks.url.as_str()),
        ("KAUKO_PRIMO_ALLOWED_ORIGINS", origins.as_str()),
        ("KAUKO_PRIMO_ISSUER", "Prima"),
    ];
    if let Some(url) = database {
        env.push(("KAUKO_DATABASE_URL", url));
    }
    support::start_kauko(&env).await
}

async fn status(
    k: &support::Running,
    origin: Option<&str>,
    token: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = k.client.get(format!("{}/primo/status?lang=fi", k.base));
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = req.send().await.unwrap();
    let code = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    )
}

async fn only_the_token_owners_requests(database: Option<&str>) {
    let key = Key::new("primaPrivateKey-TEST_INST");
    let jwks = serve_jwks(vec![key.jwk()]).await;
    let k = kauko(&jwks, database).await;
    add_request(&k, "aino.virtanen", "Ainon kirja").await;
    add_request(&k, "aino.virtanen", "Ainon toinen kirja").await;
    add_request(&k, "bertil.lind", "Bertils bok").await;

    let token = key.sign(&claims("aino.virtanen", INST, 600));
    let (code, body, headers) = status(&k, Some(PRIMO), Some(&token)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(headers.get("access-control-allow-origin").unwrap(), PRIMO);
    assert!(headers
        .get_all("vary")
        .iter()
        .any(|v| v.to_str().unwrap().contains("Origin")));
    let titles: Vec<&str> = body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2, "{body}");
    assert!(titles.contains(&"Ainon kirja") && titles.contains(&"Ainon toinen kirja"));
    assert!(!body.to_string().contains("Bertils bok"));
    // One patron-facing label each, in the asked language, and a link.
    let first = &body["requests"][0];
    assert_eq!(first["status"], "submitted");
    assert_eq!(
        first["label"],
        app::i18n::t(app::i18n::Lang::Fi, "status.submitted")
    );
    assert!(first["url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/my/", k.base)));
    assert_eq!(body["url"], format!("{}/my", k.base));
    // Quoted as Primo stores it works too.
    let (code, _, _) = status(&k, Some(PRIMO), Some(&format!("\"{token}\""))).await;
    assert_eq!(code, 200);
    // Bertil sees only his.
    let token = key.sign(&claims("bertil.lind", INST, 600));
    let (_, body, _) = status(&k, Some(PRIMO), Some(&token)).await;
    assert_eq!(body["requests"].as_array().unwrap().len(), 1);
    assert_eq!(body["requests"][0]["title"], "Bertils bok");
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1, "the JWKS is cached");
}

#[tokio::test]
async fn a_valid_token_gets_only_its_owners_requests_sqlite() {
    only_the_token_owners_requests(None).await;
}

#[tokio::test]
async fn a_valid_token_gets_only_its_owners_requests_postgres() {
    let Some(url) = support::postgres_url().await else {
        return;
    };
    only_the_token_owners_requests(Some(&url)).await;
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let key = Key::new("primaPrivateKey-TEST_INST");
    let other = Key::new("primaPrivateKey-TEST_INST");
    let jwks = serve_jwks(vec![key.jwk()]).await;
    let k = kauko(&jwks, None).await;
    add_request(&k, "aino.virtanen", "Ainon kirja").await;
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);

    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "expired",
            key.sign(&claims("aino.virtanen", INST, -3600)),
            401,
            "invalid_token",
        ),
        (
            "unknown key id",
            key.sign_as("someone-elses-key", &claims("aino.virtanen", INST, 600)),
            401,
            "invalid_token",
        ),
        (
            "signed by another key",
            other.sign(&claims("aino.virtanen", INST, 600)),
            401,
            "invalid_token",
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none","typ":"JWT","kid":"primaPrivateKey-TEST_INST"}"#),
                b64(&claims("aino.virtanen", INST, 600).to_string())
            ),
            401,
            "invalid_token",
        ),
        (
            "a changed payload",
            {
                let good = key.sign(&claims("bertil.lind", INST, 600));
                let parts: Vec<&str> = good.split('.').collect();
                format!(
                    "{}.{}.{}",
                    parts[0],
                    b64(&claims("aino.virtanen", INST, 600).to_string()),
                    parts[2]
                )
            },
            401,
            "invalid_token",
        ),
        (
            "guest",
            key.sign(&json!({"inst": INST, "isLoggedIn": false, "iss": "Prima",
                             "exp": chrono::Utc::now().timestamp() + 600})),
            403,
            "guest",
        ),
        (
            "guest with a user name",
            {
                let mut c = claims("aino.virtanen", INST, 600);
                c["isLoggedIn"] = json!(false);
                key.sign(&c)
            },
            403,
            "guest",
        ),
        (
            "another institution",
            key.sign(&claims("aino.virtanen", "OTHER_INST", 600)),
            403,
            "wrong_institution",
        ),
        (
            "another issuer",
            {
                let mut c = claims("aino.virtanen", INST, 600);
                c["iss"] = json!("https://evil.example");
                key.sign(&c)
            },
            401,
            "invalid_token",
        ),
        (
            "no expiry",
            {
                let mut c = claims("aino.virtanen", INST, 600);
                c.as_object_mut().unwrap().remove("exp");
                key.sign(&c)
            },
            401,
            "invalid_token",
        ),
    ];
    for (what, token, code, error) in &cases {
        let (got, body, _) = status(&k, Some(PRIMO), Some(token)).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (*code, Some(*error)),
            "{what}: {body}"
        );
        assert!(!body.to_string().contains("Ainon kirja"), "{what}");
    }
    // No token, no origin, another origin.
    let good = key.sign(&claims("aino.virtanen", INST, 600));
    let (code, body, _) = status(&k, Some(PRIMO), None).await;
    assert_eq!((code, body["error"].as_str()), (401, Some("missing_token")));
    let (code, body, headers) = status(&k, None, Some(&good)).await;
    assert_eq!((code, body["error"].as_str()), (403, Some("origin")));
    assert!(headers.get("access-control-allow-origin").is_none());
    let (code, body, headers) = status(&k, Some("https://evil.example"), Some(&good)).await;
    assert_eq!((code, body["error"].as_str()), (403, Some("origin")));
    assert!(headers.get("access-control-allow-origin").is_none());
    // The JWKS: once at first, once more for the unknown key id, and no
    // more within the minute however many unknown ids come.
    for i in 0..5 {
        let t = key.sign_as(&format!("new-{i}"), &claims("aino.virtanen", INST, 600));
        let (code, _, _) = status(&k, Some(PRIMO), Some(&t)).await;
        assert_eq!(code, 401);
    }
    assert!(
        jwks.hits.load(Ordering::SeqCst) <= 2,
        "JWKS fetched {} times",
        jwks.hits.load(Ordering::SeqCst)
    );
    // The valid token still works.
    let (code, _, _) = status(&k, Some(PRIMO), Some(&good)).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn cors_preflight_only_for_configured_origins() {
    let jwks = serve_jwks(vec![]).await;
    let k = kauko(&jwks, None).await;
    let preflight = |origin: &'static str| {
        k.client
            .request(reqwest::Method::OPTIONS, format!("{}/primo/status", k.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let res = preflight(PRIMO).await.unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], PRIMO);
    assert!(res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Authorization"));
    let res = preflight("https://evil.example").await.unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // The bundle: allowed origin named, others not, never `*`.
    for (origin, allowed) in [(PRIMO, true), ("https://evil.example", false)] {
        let res = k
            .client
            .get(format!("{}/widgets/kauko-primo.js", k.base))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        let acao = res.headers().get("access-control-allow-origin");
        assert_eq!(acao.is_some(), allowed, "{origin}");
        assert_ne!(acao.map(|v| v.to_str().unwrap()), Some("*"));
    }
    // Unconfigured: the status endpoint says so.
    let plain = support::start_kauko(&[]).await;
    let (code, body, _) = status(&plain, Some(PRIMO), Some("x.y.z")).await;
    assert_eq!(
        (code, body["error"].as_str()),
        (404, Some("not_configured"))
    );
}

#[tokio::test]
async fn the_widget_bundle_is_cached_compressed_and_small() {
    let k = support::start_kauko(&[]).await;
    let mut total_gz = 0;
    for file in [
        "kauko-primo.js",
        "kauko-primo-classic.js",
        "kauko-primo-nde.js",
    ] {
        let url = format!("{}/widgets/{file}", k.base);
        let res = k
            .client
            .get(&url)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{file}");
        assert_eq!(res.headers()["content-encoding"], "gzip", "{file}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        assert_eq!(res.headers()["cache-control"], "public, max-age=3600");
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        total_gz += res.bytes().await.unwrap().len();
        let again = k
            .client
            .get(&url)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{file}");
    }
    assert!(
        total_gz <= 20 * 1024,
        "widgets are {total_gz} bytes gzipped"
    );
    let res = k
        .client
        .get(format!("{}/widgets/nothing.js", k.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn the_button_lands_on_the_prefilled_request_form() {
    let k = support::start_kauko(&[]).await;
    let res = k
        .client
        .get(format!(
            "{}/primo/request?addata.genre=article&addata.atitle=Fish%20%26%20chips%20%23%201&addata.jtitle=%C3%85bo%20Journal&addata.au=%C3%96berg%2C%20%C3%85sa&addata.doi=10.1371%2Fjournal.pone.0226253&lang=sv",
            k.base
        ))
        .send()
        .await
        .unwrap();
    let (code, to) = support::status_and_location(&res);
    assert_eq!(code, 303);
    assert!(to.starts_with("/request?"), "{to}");
    let query = &to["/request?".len()..];
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let c = parse_openurl(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap()
        .citation;
    assert_eq!(c.title, "Fish & chips # 1");
    assert_eq!(c.container_title.as_deref(), Some("Åbo Journal"));
    assert_eq!(c.authors, ["Öberg, Åsa"]);
    assert_eq!(c.doi.as_deref(), Some("10.1371/journal.pone.0226253"));
    assert!(pairs.contains(&("lang".into(), "sv".into())));
    // Signed in, the form shows the record's title (no DOI here: the
    // form would look it up).
    let res = k
        .client
        .get(format!(
            "{}/primo/request?addata.genre=book&addata.btitle=Fish%20%26%20chips%20%23%201&addata.au=%C3%96berg%2C%20%C3%85sa",
            k.base
        ))
        .send()
        .await
        .unwrap();
    let (_, to) = support::status_and_location(&res);
    let cookie = k.sign_in_as("aino.virtanen", "Aino", false).await;
    let (code, html) = k.page(&to, &cookie).await;
    assert_eq!(code, 200);
    assert!(
        html.contains("Fish &amp; chips # 1"),
        "the form is prefilled"
    );
}
