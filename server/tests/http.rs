//! Kauko's HTTP service in process: health and readiness, the shell in
//! three languages, 404s, request ids, escaping, graceful shutdown.

mod support;

use std::time::Duration;

use axum::routing::get;
use server::config::Config;
use server::web;

struct Running {
    base: String,
    client: reqwest::Client,
    state: web::AppState,
    _dir: tempfile::TempDir,
}

async fn start_with(toml: &str) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "KAUKO_DATABASE_URL".to_owned(),
            format!("sqlite://{}/kauko.db", dir.path().display()),
        ),
        (
            "KAUKO_SERVER_SITE_ROOT".to_owned(),
            dir.path().display().to_string(),
        ),
    ];
    let config = Config::from_sources(toml, env).unwrap();
    let state = server::build_state(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = web::router(state.clone());
    tokio::spawn(web::serve(
        listener,
        app,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Running {
        base,
        client,
        state,
        _dir: dir,
    }
}

async fn start() -> Running {
    start_with("[library]\nname = { fi = \"Testikirjasto\", sv = \"Testbiblioteket\", en = \"Test Library\" }\n").await
}

impl Running {
    async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.text().await.unwrap())
    }
}

fn html_lang(body: &str) -> &str {
    let start = body
        .find("<html lang=\"")
        .expect("an <html lang> attribute")
        + 12;
    &body[start..start + body[start..].find('"').unwrap()]
}

#[tokio::test]
async fn health_and_readiness() {
    let app = start().await;
    let (status, _, body) = app.get("/healthz", &[]).await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "ok"));

    let (status, _, body) = app.get("/readyz", &[]).await;
    assert_eq!(status.as_u16(), 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["database"], "ok");
    assert_eq!(json["backend"]["name"], "local");
    assert_eq!(json["backend"]["status"], "ok");

    app.state.db.pool.close().await;
    let (status, _, body) = app.get("/readyz", &[]).await;
    assert_eq!(status.as_u16(), 503, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "not ready");
    // What failed, not how: the details are for the log, not for anyone
    // who asks.
    assert_eq!(json["database"], "unavailable");
    assert!(!body.to_lowercase().contains("pool"), "{body}");
    // The process itself is still alive.
    assert_eq!(app.get("/healthz", &[]).await.0.as_u16(), 200);
}

#[tokio::test]
async fn the_shell_speaks_three_languages() {
    let app = start().await;
    let cases: [(&str, &[(&str, &str)], &str, &str, &str); 5] = [
        ("/?lang=sv", &[], "sv", "Fjärrlån", "Testbiblioteket"),
        (
            "/",
            &[("cookie", "kauko_lang=en")],
            "en",
            "Interlibrary loans",
            "Test Library",
        ),
        (
            "/",
            &[("accept-language", "en-GB,en;q=0.9")],
            "en",
            "Request material",
            "Test Library",
        ),
        (
            "/",
            &[("accept-language", "de-DE, sv;q=0.5")],
            "sv",
            "Mina beställningar",
            "Testbiblioteket",
        ),
        ("/", &[], "fi", "Kaukopalvelu", "Testikirjasto"),
    ];
    for (path, headers, lang, text, library) in cases {
        let (status, _, body) = app.get(path, headers).await;
        assert_eq!(status.as_u16(), 200, "{path}");
        assert_eq!(html_lang(&body), lang, "{path} {headers:?}");
        assert!(
            body.contains(text),
            "{path} {headers:?} should contain {text}"
        );
        assert!(
            body.contains(library),
            "{path} should name the library {library}"
        );
        assert!(body.contains("href=\"#main\""), "skip link");
        assert!(
            body.contains("/accessibility"),
            "footer links the accessibility statement"
        );
        assert!(
            body.contains("/pkg/kauko.js") && body.contains("kauko-boot"),
            "hydration scripts and boot data"
        );
    }
    // ?lang= sets the cookie so the choice sticks; it never outranks a later ?lang=.
    let (_, headers, _) = app
        .get("/lend?lang=sv", &[("cookie", "kauko_lang=en")])
        .await;
    let cookie = headers
        .get("set-cookie")
        .expect("language cookie")
        .to_str()
        .unwrap();
    assert!(
        cookie.starts_with("kauko_lang=sv;")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http on localhost");
    assert!(
        !cookie.contains("HttpOnly"),
        "the page's script rewrites it when switching in place"
    );
    let (_, headers, _) = app.get("/lend", &[]).await;
    assert!(headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn every_shell_page_renders_with_its_title() {
    let app = start().await;
    for path in app::SHELL_PATHS {
        for lang in app::i18n::Lang::ALL {
            let (status, headers, body) =
                app.get(&format!("{path}?lang={}", lang.code()), &[]).await;
            if path == "/my" || path == "/staff" || path == "/request" {
                // Signed out: sent to sign in, coming back here afterwards.
                assert_eq!(status.as_u16(), 303, "{path}");
                let expected = format!("/auth/login?return_to={path}%3Flang%3D{}", lang.code());
                assert_eq!(headers.get("location").unwrap(), expected.as_str());
                continue;
            }
            assert_eq!(status.as_u16(), 200, "{path}");
            assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
            assert_eq!(html_lang(&body), lang.code());
            assert!(body.contains("<h1>"), "{path} has a heading");
            assert!(body.contains("<title>"), "{path} has a title");
        }
    }
}

#[tokio::test]
async fn unknown_pages_are_translated_404s() {
    let app = start().await;
    let (status, _, body) = app.get("/no/such/page?lang=fi", &[]).await;
    assert_eq!(status.as_u16(), 404);
    assert!(body.contains("Sivua ei löytynyt"), "{body}");
    assert!(body.contains("/no/such/page"));
    let (status, _, body) = app.get("/nothing-here?lang=sv", &[]).await;
    assert_eq!(status.as_u16(), 404);
    assert!(body.contains("Sidan hittades inte"));
    // A path full of markup comes back escaped.
    let (_, _, body) = app.get("/%3Cscript%3Ealert(1)%3C%2Fscript%3E", &[]).await;
    assert!(!body.contains("<script>alert(1)"), "path is escaped");
}

#[tokio::test]
async fn request_ids_are_made_or_kept() {
    let app = start().await;
    let (_, headers, _) = app.get("/healthz", &[]).await;
    let made = headers
        .get("x-request-id")
        .expect("a request id")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(made.len(), 36, "a UUID: {made}");
    let (_, headers, _) = app.get("/healthz", &[("x-request-id", "abc-123")]).await;
    assert_eq!(headers.get("x-request-id").unwrap(), "abc-123");
}

#[tokio::test]
async fn the_library_name_is_escaped() {
    let app = start_with("[library]\nname = \"<script>alert(1)</script> & Co\"\n").await;
    let (_, _, body) = app.get("/?lang=en", &[]).await;
    assert!(
        !body.contains("<script>alert(1)"),
        "raw markup from configuration reached the page"
    );
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
}

#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish() {
    let router = axum::Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            "finished"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve(
        listener,
        router,
        async {
            let _ = stop_rx.await;
        },
        Duration::from_secs(5),
    ));

    let in_flight = tokio::spawn(async move {
        reqwest::get(format!("http://{addr}/slow"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop_tx.send(()).unwrap();
    assert_eq!(
        in_flight.await.unwrap(),
        "finished",
        "the request in flight completes"
    );
    tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    assert!(
        reqwest::get(format!("http://{addr}/slow")).await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn a_panicking_handler_gives_the_translated_error_page() {
    let site = app::site::SiteInfo {
        library_name: Default::default(),
        default_lang: app::i18n::Lang::Sv,
        pickup_locations: vec![],
    };
    let router = axum::Router::new().route(
        "/boom",
        get(|| async {
            if std::hint::black_box(true) {
                panic!("handler bug");
            }
            "unreachable"
        }),
    );
    let cookies = server::auth::session::CookiePolicy::for_origin("http://127.0.0.1");
    let router = web::layers::apply(router, cookies, &site);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(
        listener,
        router,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    let res = reqwest::get(format!("http://{addr}/boom")).await.unwrap();
    assert_eq!(res.status().as_u16(), 500);
    assert!(res.headers().get("x-request-id").is_some());
    let body = res.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"sv\">") && body.contains("Något gick fel"),
        "{body}"
    );
    assert!(body.contains("Inget du skickat har gått förlorat"));
}

/// Sends one raw HTTP/1.1 request line as written (no client normalises
/// the path on the way): the status and the Location header.
async fn raw_get(base: &str, target: &str, cookie: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .unwrap_or_default()
        .to_owned();
    (status, location)
}

#[tokio::test]
async fn dot_segments_do_not_get_past_the_staff_guard() {
    let k = support::start_kauko(&[("KAUKO_DEMO_SEED", "true")]).await;
    let patron = k.sign_in_as("aino.virtanen", "Aino Virtanen", false).await;
    for target in [
        "/staff/outbox",
        "/x/../staff/outbox",
        "/x/%2e%2e/staff/outbox",
        "//staff/outbox",
        "/./staff/outbox",
    ] {
        let (status, location) = raw_get(&k.base, target, "").await;
        assert_eq!(status, 303, "signed out, {target}: sent to sign in");
        assert!(location.starts_with("/auth/login"), "{target}: {location}");
        let (status, _) = raw_get(&k.base, target, &patron).await;
        assert!(
            status == 403 || status == 404,
            "a patron never gets a staff page, {target}: {status}"
        );
    }
}

#[tokio::test]
async fn readiness_asks_the_library_system_at_most_every_ten_seconds() {
    use server::alma_sim::{AlmaSim, Fault};
    let sim = AlmaSim::start(support::alma::sim_config()).await.unwrap();
    let k = support::start_kauko(&[
        ("KAUKO_BACKEND_KIND", "alma"),
        ("KAUKO_ALMA_URL", sim.base_url.as_str()),
        ("KAUKO_ALMA_API_KEY", support::alma::KEY),
        ("KAUKO_ALMA_RS_LIBRARY", "RES_SHARE"),
    ])
    .await;
    sim.state.reset_stats();
    let (status, _) = k.page("/readyz", "").await;
    assert_eq!(status, 200);
    let calls = sim.state.stats().calls;
    assert!(calls >= 1, "the first check asks Alma");
    let flood = (0..50).map(|_| k.page("/readyz", ""));
    for (status, _) in futures::future::join_all(flood).await {
        assert_eq!(status, 200);
    }
    assert_eq!(
        sim.state.stats().calls,
        calls,
        "50 more checks, no more Alma calls"
    );

    // Alma down: after the cached answer runs out, 503 without Alma's
    // error text.
    sim.state.set_fault(Fault::Unavailable);
    k.state.readiness.expire().await;
    let (status, body) = k.page("/readyz", "").await;
    assert_eq!(status, 503, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["backend"]["status"], "unavailable");
    for internal in ["503", "Alma", "gateway", "cannot reach", "http"] {
        assert!(!body.contains(internal), "{internal} in {body}");
    }
}

#[tokio::test]
async fn answers_are_compressed_and_assets_revalidated_not_refetched() {
    let k = support::start_kauko(&[("KAUKO_DEMO_SEED", "true")]).await;
    // A front-end file as cargo-leptos writes it.
    let pkg = k.data_dir().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("kauko.js"),
        "export function run() { return 1; }\n".repeat(200),
    )
    .unwrap();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut r = k.client.get(format!("{}{path}", k.base));
        for (name, value) in headers {
            r = r.header(*name, *value);
        }
        r.send()
    };
    let res = get("/pkg/kauko.js", &[("accept-encoding", "br, gzip")])
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let modified = res.headers()["last-modified"].to_str().unwrap().to_owned();
    let compressed = res.bytes().await.unwrap().len();
    assert!(
        compressed < 7400 / 10,
        "{compressed} bytes on the wire for 7.4 KB"
    );
    // The browser asks again with what it has: no body comes back.
    let again = get("/pkg/kauko.js", &[("if-modified-since", &modified)])
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // Pages and server functions: compressed, never stored.
    let page = get("/lend?lang=en", &[("accept-encoding", "gzip")])
        .await
        .unwrap();
    assert_eq!(page.headers()["content-encoding"], "gzip");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let api = k
        .client
        .post(format!("{}/api/lend/partner", k.base))
        .header("origin", &k.base)
        .header("accept-encoding", "gzip")
        .form(&[("code", "FI-TUNI")])
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    assert_eq!(api.headers()["cache-control"], "no-store");

    // A content-hashed file (cargo-leptos's hash-files) never changes: a
    // browser keeps it for a year without asking; a missing one is not
    // cached.
    std::fs::write(pkg.join("kauko.Xq3mZ0aK9_bC-dEfGhIjKl.wasm"), b"\0asm").unwrap();
    let hashed = get("/pkg/kauko.Xq3mZ0aK9_bC-dEfGhIjKl.wasm", &[])
        .await
        .unwrap();
    assert_eq!(hashed.status(), 200);
    assert_eq!(
        hashed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // The release build's best-compressed copies (scripts/precompress.mjs)
    // go out as they are, in the encoding the browser accepts; without a
    // copy it accepts, the file itself (compressed on the way out).
    let copies = k.data_dir().join("pkg-precompressed");
    std::fs::create_dir_all(&copies).unwrap();
    let name = "kauko.Xq3mZ0aK9_bC-dEfGhIjKl.wasm";
    std::fs::write(copies.join(format!("{name}.br")), b"brotli copy").unwrap();
    std::fs::write(copies.join(format!("{name}.gz")), b"gzip copy").unwrap();
    for (accept, encoding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), &b"brotli copy"[..]),
        ("gzip", Some("gzip"), b"gzip copy"),
        ("identity", None, b"\0asm"),
    ] {
        let res = get(&format!("/pkg/{name}"), &[("accept-encoding", accept)])
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{accept}");
        assert_eq!(
            res.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(
            res.headers()["content-type"],
            "application/wasm",
            "{accept}"
        );
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(
            res.headers().get_all("vary").iter().any(|v| v
                .to_str()
                .unwrap()
                .to_ascii_lowercase()
                .contains("accept-encoding")),
            "{accept}: caches must keep the encodings apart"
        );
        assert_eq!(&res.bytes().await.unwrap()[..], body, "{accept}");
    }
    // A file with no copy: compressed on the way out, as before.
    let js = get("/pkg/kauko.js", &[("accept-encoding", "br")])
        .await
        .unwrap();
    assert_eq!(js.headers()["content-encoding"], "br");
    assert!(js.bytes().await.unwrap().len() < 7400 / 10);
    let gone = get("/pkg/kauko.AAAAAAAAAAAAAAAAAAAAAA.wasm", &[])
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    assert_ne!(
        gone.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    // The browser's strings: the URL the page names is kept for a year,
    // any other version is revalidated; unknown languages are not there.
    let patron = k.sign_in_as("patron", "Pat Patron", false).await;
    let (status, page) = k.page("/request?lang=sv", &patron).await;
    assert_eq!(status, 200);
    use app::i18n::{catalog_url, Lang, Part};
    let url = catalog_url(Lang::Sv, Part::Request);
    assert!(
        page.contains(&format!("rel=\"preload\" href=\"{url}\"")),
        "{url} not preloaded by the page"
    );
    assert!(
        !page.contains(&catalog_url(Lang::Sv, Part::All)),
        "a patron page does not name the staff strings"
    );
    let catalog = get(&url, &[]).await.unwrap();
    assert_eq!(catalog.status(), 200);
    assert_eq!(
        catalog.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let strings: std::collections::HashMap<String, String> = catalog.json().await.unwrap();
    assert_eq!(strings["status.submitted"], "Skickad");
    assert!(strings.contains_key("refusal.not_cancellable"));
    assert!(
        !strings.keys().any(|k| k.starts_with("desk.")
            || k.starts_with("letters.")
            || k.starts_with("my.")
            || k.starts_with("lend.done.")),
        "the request form's part leaves out what it never shows"
    );
    // A page without islands fetches no strings at all.
    let home = get("/?lang=sv", &[]).await.unwrap().text().await.unwrap();
    assert!(!home.contains("rel=\"preload\" href=\"/i18n/"), "{home}");
    // The lending form's part.
    let lend = get("/lend?lang=sv", &[])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lend_url = catalog_url(Lang::Sv, Part::Lend);
    assert!(lend.contains(&lend_url), "{lend_url} not named on /lend");
    let lend_strings: std::collections::HashMap<String, String> =
        get(&lend_url, &[]).await.unwrap().json().await.unwrap();
    assert!(lend_strings.contains_key("lend.done.title"));
    assert!(!lend_strings.contains_key("my.overview"));
    // A staff page names all the strings.
    let staff = k.sign_in_as("staff", "Staff Member", true).await;
    let (status, staff_page) = k.page("/staff/letters?lang=sv", &staff).await;
    assert_eq!(status, 200);
    let all_url = catalog_url(Lang::Sv, Part::All);
    assert!(
        staff_page.contains(&all_url),
        "{all_url} not named on a staff page"
    );
    let all: std::collections::HashMap<String, String> =
        get(&all_url, &[]).await.unwrap().json().await.unwrap();
    assert_eq!(all["letters.title"], "Brev");
    assert!(
        all.len() > strings.len() + 300,
        "{} vs {}",
        all.len(),
        strings.len()
    );
    let stale = get("/i18n/sv.request.json?v=0", &[]).await.unwrap();
    assert_eq!(stale.headers()["cache-control"], "no-cache");
    for missing in [
        "/i18n/de.request.json",
        "/i18n/sv.json",
        "/i18n/sv",
        "/i18n/sv-FI.json",
        "/i18n/sv.staff.json",
        "/i18n/.all.json",
    ] {
        assert_eq!(get(missing, &[]).await.unwrap().status(), 404, "{missing}");
    }
}
