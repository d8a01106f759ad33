//! Sign-in through a real OpenID Connect provider: the development IdP in
//! dev/idp (npm's oidc-provider), started for each test on a free port, and
//! driven like a browser with a cookie jar. Covers the whole flow and each
//! failure the sign-in must survive.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use server::config::Config;
use server::web;

struct Idp {
    child: Child,
    url: String,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn idp_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dev/idp")
}

async fn start_idp(kauko: &str) -> Idp {
    start_idp_on(kauko, support::free_port()).await
}

/// The development IdP on this port, with a fresh signing key.
async fn start_idp_on(kauko: &str, port: u16) -> Idp {
    let dir = idp_dir();
    assert!(
        dir.join("node_modules").exists(),
        "run scripts/toolchain.sh (npm ci in dev/idp) first"
    );
    let child = Command::new("node")
        .arg("server.mjs")
        .current_dir(&dir)
        .env("IDP_PORT", port.to_string())
        .env("KAUKO_IDP_REDIRECT_URIS", format!("{kauko}/auth/callback"))
        .env("KAUKO_IDP_POST_LOGOUT_URIS", format!("{kauko}/"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs the development IdP");
    let url = format!("http://127.0.0.1:{port}");
    let idp = Idp { child, url };
    let start = Instant::now();
    while reqwest::get(format!("{}/healthz", idp.url)).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "IdP did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    idp
}

struct Kauko {
    base: String,
    state: web::AppState,
    _dir: tempfile::TempDir,
}

/// Kauko in process, signing in at `issuer` (an IdP or a closed port).
async fn start_kauko(listener: tokio::net::TcpListener, issuer: &str) -> Kauko {
    start_kauko_with(listener, issuer, &[]).await
}

/// The same, with more configuration.
async fn start_kauko_with(
    listener: tokio::net::TcpListener,
    issuer: &str,
    extra: &[(&str, &str)],
) -> Kauko {
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let env = vec![
        (
            "KAUKO_DATABASE_URL",
            format!("sqlite://{}/kauko.db", dir.path().display()),
        ),
        ("KAUKO_SERVER_SITE_ROOT", dir.path().display().to_string()),
        ("KAUKO_SERVER_PUBLIC_URL", base.clone()),
        ("KAUKO_AUTH_ISSUER_URL", issuer.to_owned()),
        ("KAUKO_AUTH_CLIENT_SECRET", "kauko-dev-secret".to_owned()),
        ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en".to_owned()),
    ];
    let env: Vec<(&str, String)> = env
        .into_iter()
        .chain(extra.iter().map(|(k, v)| (*k, v.to_string())))
        .collect();
    let config = Config::from_sources("", env.into_iter().map(|(k, v)| (k.to_owned(), v))).unwrap();
    let state = server::build_state(config).await.unwrap();
    tokio::spawn(web::serve(
        listener,
        web::router(state.clone()),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    Kauko {
        base,
        state,
        _dir: dir,
    }
}

async fn setup() -> (Idp, Kauko) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let kauko_base = format!("http://{}", listener.local_addr().unwrap());
    let idp = start_idp(&kauko_base).await;
    let kauko = start_kauko(listener, &idp.url).await;
    (idp, kauko)
}

/// A browser: cookies kept, redirects followed by hand so each is visible.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Page {
    url: String,
    status: u16,
    body: String,
}

/// GETs `url` and follows redirects; stops early at a URL starting with
/// `stop_at`, returning that redirect's target without fetching it.
async fn follow(client: &reqwest::Client, url: &str, stop_at: Option<&str>) -> Page {
    let mut url = url.to_owned();
    for _ in 0..15 {
        if stop_at.is_some_and(|s| url.starts_with(s)) {
            return Page {
                url,
                status: 0,
                body: String::new(),
            };
        }
        let res = client.get(&url).send().await.unwrap();
        if res.status().is_redirection() {
            let location = res.headers()["location"].to_str().unwrap().to_owned();
            url = res.url().join(&location).unwrap().to_string();
            continue;
        }
        let status = res.status().as_u16();
        return Page {
            url,
            status,
            body: res.text().await.unwrap(),
        };
    }
    panic!("too many redirects from {url}");
}

/// Starts sign-in at Kauko and fills the IdP's login form. Returns the
/// callback URL the IdP sends the browser to (not yet fetched).
async fn log_in_at_idp(
    client: &reqwest::Client,
    kauko: &Kauko,
    return_to: &str,
    user: &str,
) -> String {
    let login = format!(
        "{}/auth/login?return_to={}",
        kauko.base,
        urlencode(return_to)
    );
    let form = follow(client, &login, None).await;
    assert_eq!(form.status, 200, "the IdP's login form: {}", form.body);
    assert!(form.body.contains("name=\"username\"") && form.body.contains("name=\"password\""));
    assert!(
        !form.url.starts_with(&kauko.base),
        "Kauko never shows a password form"
    );
    let res = client
        .post(format!("{}/login", form.url.trim_end_matches('/')))
        .form(&[("username", user), ("password", user)])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "login accepted");
    let next = res
        .url()
        .join(res.headers()["location"].to_str().unwrap())
        .unwrap()
        .to_string();
    let callback = follow(
        client,
        &next,
        Some(&format!("{}/auth/callback", kauko.base)),
    )
    .await;
    assert!(
        callback
            .url
            .starts_with(&format!("{}/auth/callback?", kauko.base)),
        "{}",
        callback.url
    );
    callback.url
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The status of a GET, redirects not followed.
async fn status_of(client: &reqwest::Client, url: &str) -> u16 {
    client.get(url).send().await.unwrap().status().as_u16()
}

async fn session_count(kauko: &Kauko) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM sessions")
        .fetch_one(&kauko.state.db.pool)
        .await
        .unwrap()
        .get("n")
}

#[tokio::test]
async fn sign_in_returns_to_the_page_with_its_query_and_signs_out() {
    let (_idp, kauko) = setup().await;
    let client = browser();
    let return_to = "/request?rft.atitle=Life%20is%20pretty%20meaningful&rft.date=2014&lang=en";
    let callback = log_in_at_idp(&client, &kauko, return_to, "aino").await;

    let res = client.get(&callback).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"],
        return_to,
        "the OpenURL query survives sign-in"
    );
    let cookies: Vec<_> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("kauko_session="))
        .expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    assert!(!session.contains("Secure"), "plain http on 127.0.0.1");

    let page = follow(&client, &format!("{}{return_to}", kauko.base), None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Signed in as Aino Virtanen"),
        "the header names the user"
    );
    assert!(
        page.body.contains("\"user_id\":\"aino.virtanen\""),
        "the boot data carries the viewer"
    );

    // A patron reaches their own page, not the staff page.
    assert_eq!(
        follow(&client, &format!("{}/my", kauko.base), None)
            .await
            .status,
        200
    );
    let staff = follow(&client, &format!("{}/staff?lang=en", kauko.base), None).await;
    assert_eq!(staff.status, 403);
    assert!(staff.body.contains("This page is for library staff"));

    // Sign out: a cross-site POST is refused, our own form's is not.
    let forged = client
        .post(format!("{}/auth/logout", kauko.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(
        session_count(&kauko).await,
        1,
        "the forged logout changed nothing"
    );
    let out = client
        .post(format!("{}/auth/logout", kauko.base))
        .header("origin", &kauko.base)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 303);
    let location = out.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains("/session/end") && location.contains("id_token_hint="),
        "signs out at the IdP too: {location}"
    );
    assert_eq!(session_count(&kauko).await, 0);
    let my = client
        .get(format!("{}/my", kauko.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        my.status().as_u16(),
        303,
        "signed out: /my sends to sign-in again"
    );
}

#[tokio::test]
async fn staff_claim_grants_the_staff_page() {
    let (_idp, kauko) = setup().await;
    let client = browser();
    let callback = log_in_at_idp(&client, &kauko, "/staff", "staff").await;
    let page = follow(&client, &callback, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.ends_with("/staff"));
    assert!(page.body.contains("Liisa Kaukopalvelu"));
}

#[tokio::test]
async fn a_tampered_or_replayed_callback_creates_no_session() {
    let (_idp, kauko) = setup().await;
    let client = browser();
    let callback = log_in_at_idp(&client, &kauko, "/my", "aino").await;

    let tampered = callback.replace("state=", "state=x");
    let page = follow(&client, &tampered, None).await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("could not be matched to this browser")
            && page.body.contains("Sign in again"),
        "{}",
        page.body
    );
    let missing = follow(
        &client,
        &format!("{}/auth/callback?code=abc", kauko.base),
        None,
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(session_count(&kauko).await, 0);

    // The genuine callback still works once...
    let ok = client.get(&callback).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 303);
    assert_eq!(ok.headers()["location"], "/my");
    assert_eq!(session_count(&kauko).await, 1);
    // ...and never twice.
    let replay = follow(&client, &callback, None).await;
    assert_eq!(replay.status, 400);
    assert_eq!(session_count(&kauko).await, 1);
}

#[tokio::test]
async fn a_callback_in_another_browser_is_refused() {
    let (_idp, kauko) = setup().await;
    let callback = log_in_at_idp(&browser(), &kauko, "/my", "aino").await;
    // An attacker's browser (no login cookie) replaying the victim's callback.
    let page = follow(&browser(), &callback, None).await;
    assert_eq!(page.status, 400);
    assert_eq!(session_count(&kauko).await, 0);
}

#[tokio::test]
async fn a_wrong_nonce_fails_the_id_token_check() {
    let (_idp, kauko) = setup().await;
    let client = browser();
    let callback = log_in_at_idp(&client, &kauko, "/my", "aino").await;
    sqlx::query("UPDATE login_states SET nonce = 'not-the-nonce-we-sent'")
        .execute(&kauko.state.db.pool)
        .await
        .unwrap();
    let page = follow(&client, &callback, None).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("could not be verified"), "{}", page.body);
    assert_eq!(session_count(&kauko).await, 0);
}

#[tokio::test]
async fn only_same_origin_paths_are_return_targets() {
    let (_idp, kauko) = setup().await;
    let client = browser();
    let callback = log_in_at_idp(&client, &kauko, "https://evil.example/phish", "aino").await;
    let res = client.get(&callback).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/");
    let other = browser();
    let callback = log_in_at_idp(&other, &kauko, "//evil.example/x", "bertil").await;
    let res = other.get(&callback).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"],
        "/",
        "a scheme-relative target is not followed"
    );
}

#[tokio::test]
async fn forged_idle_and_expired_sessions_are_signed_out() {
    let (_idp, kauko) = setup().await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = anonymous
        .get(format!("{}/my", kauko.base))
        .header("cookie", "kauko_session=forged-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let cleared = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("kauko_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    // Sign in, then let the session sit idle past its limit.
    let client = browser();
    let callback = log_in_at_idp(&client, &kauko, "/my", "aino").await;
    let res = client.get(&callback).send().await.unwrap();
    let token = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            v.to_str()
                .unwrap()
                .strip_prefix("kauko_session=")
                .map(|r| r.split(';').next().unwrap().to_owned())
        })
        .unwrap();
    assert_eq!(status_of(&client, &format!("{}/my", kauko.base)).await, 200);
    kauko
        .state
        .auth
        .sessions
        .age_for_tests(&token, chrono::Duration::minutes(61))
        .await
        .unwrap();
    assert_eq!(status_of(&client, &format!("{}/my", kauko.base)).await, 303);
    assert_eq!(
        session_count(&kauko).await,
        0,
        "the stale session is removed"
    );
}

#[tokio::test]
async fn an_unreachable_provider_gives_a_translated_page_with_a_retry() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = format!("http://127.0.0.1:{}", support::free_port());
    let kauko = start_kauko(listener, &closed).await;
    let client = browser();
    let page = follow(
        &client,
        &format!("{}/auth/login?return_to=/my&lang=fi", kauko.base),
        None,
    )
    .await;
    assert_eq!(page.status, 502);
    assert!(
        page.body
            .contains("Yliopiston kirjautumispalveluun ei saatu yhteyttä"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("href=\"/auth/login?return_to=/my\""),
        "a way to try again"
    );
    assert_eq!(session_count(&kauko).await, 0);
}

#[tokio::test]
async fn a_patron_cannot_read_another_patrons_request() {
    use app::domain::PatronId;
    let (_idp, kauko) = setup().await;
    let mut theirs = server::port::contract::new_request("THEIRS-1");
    theirs.citation.title = "Bertil's private request".into();
    let theirs = kauko
        .state
        .port
        .create_borrowing_request(&PatronId("bertil.lind".into()), theirs)
        .await
        .unwrap();
    let mine = kauko
        .state
        .port
        .create_borrowing_request(
            &PatronId("aino.virtanen".into()),
            server::port::contract::new_request("MINE-1"),
        )
        .await
        .unwrap();
    let call = |client: &reqwest::Client, id: &str| {
        client
            .post(format!("{}/api/requests/get", kauko.base))
            .header("origin", &kauko.base)
            .form(&[("id", id)])
            .send()
    };

    // Signed out: 401.
    let res = call(&browser(), &mine.id).await.unwrap();
    assert_eq!(res.status().as_u16(), 401);

    let client = browser();
    let callback = log_in_at_idp(&client, &kauko, "/", "aino").await;
    client.get(&callback).send().await.unwrap();
    let res = call(&client, &mine.id).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&mine.id) && body.contains("Life is pretty meaningful"),
        "{body}"
    );

    let res = call(&client, &theirs.id).await.unwrap();
    assert_eq!(
        res.status().as_u16(),
        404,
        "another patron's request is not found"
    );
    assert!(!res
        .text()
        .await
        .unwrap()
        .contains("Bertil's private request"));

    // Without our Origin the call is refused before it runs.
    let res = client
        .post(format!("{}/api/requests/get", kauko.base))
        .form(&[("id", mine.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);

    // The overview counts only her own.
    let res = client
        .post(format!("{}/api/me/overview", kauko.base))
        .header("origin", &kauko.base)
        .send()
        .await
        .unwrap();
    let overview: serde_json::Value = res.json().await.unwrap();
    assert_eq!(overview["active_requests"], 1);
    assert_eq!(overview["loans"], 0);
}

#[tokio::test]
async fn a_replayed_code_with_a_fresh_state_is_refused_by_the_provider() {
    let (_idp, kauko) = setup().await;
    let client = browser();
    let first = log_in_at_idp(&client, &kauko, "/my", "aino").await;
    assert_eq!(
        client.get(&first).send().await.unwrap().status().as_u16(),
        303
    );
    assert_eq!(session_count(&kauko).await, 1);

    // A second login in the same browser (the IdP remembers her, so no form);
    // its callback is made to carry the old code.
    let second = follow(
        &client,
        &format!("{}/auth/login?return_to=/my", kauko.base),
        Some(&format!("{}/auth/callback", kauko.base)),
    )
    .await
    .url;
    assert!(second.contains("code="), "{second}");
    let code = |url: &str| {
        url.split(['?', '&'])
            .find_map(|p| p.strip_prefix("code="))
            .unwrap()
            .to_owned()
    };
    let replayed = second.replace(&code(&second), &code(&first));
    assert_ne!(replayed, second);
    let page = follow(&client, &replayed, None).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("could not be verified"), "{}", page.body);
    assert_eq!(
        session_count(&kauko).await,
        1,
        "no new session from a replayed code"
    );
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_and_accepted() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let kauko_base = format!("http://{}", listener.local_addr().unwrap());
    let port = support::free_port();
    let idp = start_idp_on(&kauko_base, port).await;
    let kauko = start_kauko(listener, &idp.url).await;
    let signed_in = |res: &reqwest::Response| {
        res.status().as_u16() == 303
            && res
                .headers()
                .get_all("set-cookie")
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("kauko_session="))
    };
    // Kauko reads the provider's keys at the first sign-in.
    let client = browser();
    let callback = log_in_at_idp(&client, &kauko, "/my", "aino").await;
    let res = client.get(&callback).send().await.unwrap();
    assert!(signed_in(&res), "{:?}", res.headers());
    // The provider restarts with a new key (a rotation): the next ID token
    // names a key Kauko has not seen; it reads the keys again and accepts.
    drop(idp);
    let _idp = start_idp_on(&kauko_base, port).await;
    let client = browser();
    let callback = log_in_at_idp(&client, &kauko, "/my", "bertil").await;
    let res = client.get(&callback).send().await.unwrap();
    assert!(
        signed_in(&res),
        "signed in with the rotated key: {:?}",
        res.headers()
    );
}

#[tokio::test]
async fn unfinished_sign_ins_cannot_fill_the_database() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let kauko_base = format!("http://{}", listener.local_addr().unwrap());
    let idp = start_idp(&kauko_base).await;
    let kauko = start_kauko_with(
        listener,
        &idp.url,
        &[("KAUKO_AUTH_MAX_PENDING_SIGN_INS", "3")],
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        // A fresh browser each time that never comes back from the IdP.
        let res = browser()
            .get(format!("{}/auth/login?return_to=/my", kauko.base))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [303, 303, 303, 503, 503]);
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_states")
        .fetch_one(&kauko.state.db.pool)
        .await
        .unwrap();
    assert_eq!(pending, 3);
    let page = browser()
        .get(format!("{}/auth/login?return_to=/my", kauko.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Many sign-ins are under way"), "{page}");
}
