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
    assert!(json["database"]["error"].is_string());
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
