//! A signed-in patron's calls over HTTP against Kauko in process (local
//! backend, demo data): My requests rendered on the server with the
//! patron's own data, idempotent submission, field errors, cancel and renew
//! with the library's rules, and nothing of another patron's.

mod support;

use app::domain::PatronId;

use support::{start_kauko, Running};

async fn start() -> Running {
    start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en"),
    ])
    .await
}

impl Running {
    async fn sign_in(&self, user_id: &str, name: &str) -> String {
        self.sign_in_as(user_id, name, false).await
    }

    async fn loans(&self, patron: &str) -> Vec<app::domain::IllLoan> {
        self.state
            .port
            .list_loans(&PatronId(patron.into()))
            .await
            .unwrap()
    }

    async fn request_id(&self, patron: &str, title: &str) -> String {
        self.state
            .port
            .list_borrowing_requests(&PatronId(patron.into()))
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.citation.title == title)
            .unwrap_or_else(|| panic!("{patron} has {title}"))
            .id
    }
}

fn article_form<'a>(key: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("idempotency_key", key),
        ("kind", "article"),
        ("title", title),
        ("authors", "Mansfield, Steven J.; Smith, Russell C."),
        ("container_title", "Organic Letters"),
        ("year", "2019"),
        ("doi", "https://doi.org/10.1021/ACS.ORGLETT.9B00971"),
        ("format", "DIGITAL"),
        ("copyright", "true"),
    ]
}

#[tokio::test]
async fn my_requests_is_rendered_on_the_server_with_only_the_patrons_own_data() {
    let k = start().await;
    let aino = k.sign_in("aino.virtanen", "Aino Virtanen").await;
    let (status, body) = k.page("/my?lang=en", &aino).await;
    assert_eq!(status, 200);
    for text in [
        "Active requests",
        "Life is pretty meaningful",
        "Kalevala: kriittinen editio",
        "Past requests",
        "Resource sharing in the age of Alma",
        "Not filled",
        "can no longer be cancelled here",
        "does not allow renewing this loan",
    ] {
        assert!(body.contains(text), "{text} in the server-rendered page");
    }
    assert!(!body.contains("Fjärrlånets historia"), "Bertil's request");
    // Signed out: sent to sign in.
    let (status, _) = k.page("/my", "").await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn the_same_idempotency_key_twice_is_one_request() {
    let k = start().await;
    let aino = k.sign_in("aino.virtanen", "Aino Virtanen").await;
    let key = "0123456789abcdef0123456789abcdef";
    let form = article_form(key, "Ynamides <script>alert(1)</script>");
    let (status, first) = k.call("requests/submit", &aino, &form).await;
    assert_eq!(status, 200, "{first}");
    let id = first["Created"]["id"].as_str().expect("created").to_owned();
    let (_, second) = k.call("requests/submit", &aino, &form).await;
    assert_eq!(second["Created"]["id"], id.as_str(), "{second}");
    let mine = k
        .state
        .port
        .list_borrowing_requests(&PatronId("aino.virtanen".into()))
        .await
        .unwrap();
    assert_eq!(mine.iter().filter(|r| r.external_id == key).count(), 1);
    let created = mine.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        created.citation.doi.as_deref(),
        Some("10.1021/acs.orglett.9b00971")
    );
    assert_eq!(created.citation.authors.len(), 2);

    // A new form (a new key) for the same DOI is warned about first.
    let other = article_form("fedcba9876543210fedcba9876543210", "Ynamides again");
    let (_, dup) = k.call("requests/submit", &aino, &other).await;
    assert_eq!(dup["Duplicate"][0]["id"], id.as_str(), "{dup}");
    let mut confirmed = other.clone();
    confirmed.push(("confirm_duplicate", "true"));
    let (_, again) = k.call("requests/submit", &aino, &confirmed).await;
    assert!(again["Created"]["id"].is_string(), "{again}");

    // The title is shown as text, never as markup.
    let (_, body) = k.page("/my?lang=en", &aino).await;
    assert!(body.contains("Ynamides &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!body.contains("<script>alert(1)"));
}

#[tokio::test]
async fn problems_come_back_per_field_and_nothing_is_created() {
    let k = start().await;
    let aino = k.sign_in("aino.virtanen", "Aino Virtanen").await;
    let before = k
        .state
        .port
        .list_borrowing_requests(&PatronId("aino.virtanen".into()))
        .await
        .unwrap()
        .len();
    let mut form = article_form("0123456789abcdef0123456789abcdef", "");
    form.retain(|(k, _)| *k != "copyright" && *k != "container_title");
    form.push(("isbn", "978-0-14-134683-1"));
    form.push(("needed_by", "2001-01-01"));
    let (status, body) = k.call("requests/submit", &aino, &form).await;
    assert_eq!(status, 200);
    let fields: Vec<_> = body["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["key"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("isbn", "error.identifier.isbn_checksum"),
            ("title", "error.field.required"),
            ("container_title", "error.field.required"),
            ("needed_by", "error.field.date_past"),
            ("copyright", "error.copyright.required"),
        ]
    );
    let after = k
        .state
        .port
        .list_borrowing_requests(&PatronId("aino.virtanen".into()))
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
    // Signed out: 401, and nothing is created either.
    let (status, _) = k
        .call(
            "requests/submit",
            "",
            &article_form("0123456789abcdef", "T"),
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn cancel_and_renew_follow_the_rules_and_touch_only_ones_own() {
    let k = start().await;
    let aino = k.sign_in("aino.virtanen", "Aino Virtanen").await;
    let open = k
        .request_id("aino.virtanen", "Life is pretty meaningful")
        .await;
    let started = k
        .request_id(
            "aino.virtanen",
            "Sources of the self: the making of the modern identity",
        )
        .await;
    let bertils = k.request_id("bertil.lind", "Fjärrlånets historia").await;

    let (_, r) = k.call("me/cancel", &aino, &[("id", &bertils)]).await;
    assert_eq!(
        (r["ok"].as_bool(), r["message_key"].as_str()),
        (Some(false), Some("my.error.not_found"))
    );
    let (_, r) = k.call("me/cancel", &aino, &[("id", &started)]).await;
    assert_eq!(r["message_key"], "refusal.not_cancellable");
    let (_, r) = k.call("me/cancel", &aino, &[("id", &open)]).await;
    assert_eq!(
        (r["ok"].as_bool(), r["message_key"].as_str()),
        (Some(true), Some("my.cancelled"))
    );
    let bertil_still = k
        .state
        .port
        .get_borrowing_request(&PatronId("bertil.lind".into()), &bertils)
        .await
        .unwrap();
    assert!(!bertil_still.status.is_final());

    let loans = k.loans("aino.virtanen").await;
    let renewable = loans.iter().find(|l| l.renewable).unwrap();
    let fixed = loans.iter().find(|l| !l.renewable).unwrap();
    let (_, r) = k.call("me/renew", &aino, &[("id", &fixed.id)]).await;
    assert_eq!(r["message_key"], "refusal.not_renewable");
    let (_, r) = k.call("me/renew", &aino, &[("id", &renewable.id)]).await;
    assert_eq!(r["ok"], true, "{r}");
    let due = r["due"].as_str().unwrap();
    assert!(
        due > renewable.due_date.format("%Y-%m-%d").to_string().as_str(),
        "{due}"
    );

    // The page now lists the cancelled request under past requests.
    let (_, body) = k.page("/my?lang=en", &aino).await;
    let past = body.split_once("id=\"history-title\"").unwrap().1;
    assert!(past.contains("Life is pretty meaningful") && past.contains("Cancelled"));
}

#[tokio::test]
async fn the_forms_work_without_javascript() {
    let k = start().await;
    let aino = k.sign_in("aino.virtanen", "Aino Virtanen").await;
    let count = || async {
        k.state
            .port
            .list_borrowing_requests(&PatronId("aino.virtanen".into()))
            .await
            .unwrap()
            .len()
    };
    let before = count().await;

    // The page the server renders is a form that posts by itself, with a
    // key of its own.
    let (_, page) = k.page("/request?lang=en", &aino).await;
    assert!(
        page.contains(r#"method="post" action="/api/requests/submit""#),
        "{page}"
    );
    let key = page
        .split(r#"name="idempotency_key" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a key in the page")
        .to_owned();
    assert_eq!(key.len(), 32, "{key}");

    // Problems: back to the form with what was typed and what was wrong;
    // nothing created.
    let mut form = article_form(&key, "Ynamides in <b>total</b> synthesis");
    form.retain(|(name, _)| *name != "copyright");
    form.push(("note", "Chapter 3 & the appendix"));
    let (status, to) = k
        .post_plain("requests/submit", &aino, "/request", &form)
        .await;
    assert_eq!(status, 303);
    assert!(to.starts_with("/request?posted=1&"), "{to}");
    assert_eq!(count().await, before);
    let (_, again) = k.page(&format!("{to}&lang=en"), &aino).await;
    assert!(
        again.contains(r#"value="Ynamides in &lt;b&gt;total&lt;/b&gt; synthesis""#),
        "title kept"
    );
    assert!(
        again.contains("Chapter 3 &amp; the appendix</textarea>"),
        "note kept"
    );
    assert!(again.contains(&format!(r#"value="{key}""#)), "the same key");
    assert!(
        again.contains("Copies need your copyright declaration"),
        "the error shown"
    );

    // Sent: the confirmation, once however often the form is sent again.
    form.push(("copyright", "true"));
    let (status, to) = k
        .post_plain("requests/submit", &aino, "/request", &form)
        .await;
    assert_eq!(status, 303);
    assert!(to.starts_with("/request?sent="), "{to}");
    let (_, again) = k
        .post_plain("requests/submit", &aino, "/request", &form)
        .await;
    assert_eq!(again, to, "the same request");
    assert_eq!(count().await, before + 1);
    let (_, done) = k.page(&format!("{to}&lang=en"), &aino).await;
    let id = to.split("sent=").nth(1).unwrap().split('&').next().unwrap();
    assert!(done.contains(id) && done.contains("done-title"), "{done}");

    // Cancel from My requests: the question first (a plain link), then
    // the answer shown on the page the form came from.
    let (_, asked) = k.page(&format!("/my?cancel={id}&lang=en"), &aino).await;
    assert!(asked.contains("Yes, cancel it"), "the question");
    let (status, to) = k.post_plain("me/cancel", &aino, "/my", &[("id", id)]).await;
    assert_eq!((status, to.as_str()), (303, "/my?notice=my.cancelled&ok=1"));
    let (_, mine) = k.page(&format!("{to}&lang=en"), &aino).await;
    assert!(mine.contains("Request cancelled."), "the notice");

    // Renew from a request's page: back to that page; another site's
    // Referer is not followed.
    let loans = k.loans("aino.virtanen").await;
    let renewable = loans.iter().find(|l| l.renewable).unwrap();
    let (status, to) = k
        .post_plain("me/renew", &aino, "/my/abc-123", &[("id", &renewable.id)])
        .await;
    assert_eq!(status, 303);
    assert!(
        to.starts_with("/my/abc-123?notice=my.renewed&ok=1&due="),
        "{to}"
    );
    let (_, to) = k
        .post_plain(
            "me/renew",
            &aino,
            "//evil.example/my",
            &[("id", &renewable.id)],
        )
        .await;
    assert!(to.starts_with("/my?notice="), "{to}");
    // A made-up notice cannot put text on the page.
    let (_, forged) = k
        .page("/my?notice=%3Cb%3Eyou+won%3C%2Fb%3E&ok=1&lang=en", &aino)
        .await;
    assert!(!forged.contains("you won"));
}
