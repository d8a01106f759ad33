//! The requesting library's confirmation e-mail, in Finnish and English:
//! through a real SMTP server on loopback (dev/smtp, npm's smtp-server,
//! with a login), and by default into the mail folder that staff read at
//! /staff/mail.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{start_kauko, Running};

fn lend_form(key: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("idempotency_key", key),
        ("library_name", "Tampere University Library"),
        ("library_id", "FI-Tay"),
        // A colleague at the partner library (same mail domain as the
        // record): the confirmation goes to the record's address only.
        ("email", "kaisa@fi-tuni.example.org"),
        ("kind", "book"),
        ("title", "Seitsemän veljestä"),
        ("service", "copy"),
        ("delivery", "email"),
        ("delivery_address", "docs@elsewhere.example"),
    ]
}

async fn submit(k: &Running, key: &str) -> String {
    let (status, body) = k.call("lend/submit", "", &lend_form(key)).await;
    assert_eq!(status, 200, "{body}");
    body["Sent"]["reference"]
        .as_str()
        .unwrap_or_else(|| panic!("sent: {body}"))
        .to_owned()
}

/// Files in `dir` with this extension, waiting up to 5 s for the first.
async fn wait_for(dir: &Path, ext: &str) -> Vec<PathBuf> {
    for _ in 0..100 {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == ext))
                    .collect()
            })
            .unwrap_or_default();
        if !found.is_empty() {
            found.sort();
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no .{ext} file in {}", dir.display());
}

#[tokio::test]
async fn without_smtp_mail_goes_to_the_folder_staff_read() {
    let k = start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en"),
        ("KAUKO_LIBRARY_NAME", "Testikirjasto"),
    ])
    .await;
    let reference = submit(&k, "mail-folder-0001").await;
    // The same form again (a double click): the same request, one e-mail.
    assert_eq!(submit(&k, "mail-folder-0001").await, reference);
    let folder = k.state.mailer.folder().unwrap().to_owned();
    assert!(
        folder.ends_with("mail") && folder.starts_with(k.data_dir()),
        "beside the database: {}",
        folder.display()
    );
    let _ = wait_for(&folder, "eml").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let eml = wait_for(&folder, "eml").await;
    assert_eq!(eml.len(), 1, "one confirmation");
    let raw = std::fs::read_to_string(&eml[0]).unwrap();
    assert!(raw.contains("To: ill@fi-tuni.example.org"), "{raw}");

    // Staff read it; patrons may not.
    let aino = k.sign_in_as("aino.virtanen", "Aino Virtanen", false).await;
    let (status, _) = k.call("staff/mail/list", &aino, &[]).await;
    assert_eq!(status, 403);
    let staff = k.sign_in_as("staff", "Staff Member", true).await;
    let (status, list) = k.call("staff/mail/list", &staff, &[]).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["smtp"], false);
    let mail = &list["messages"][0];
    assert_eq!(mail["to"], "ill@fi-tuni.example.org");
    assert!(mail["subject"].as_str().unwrap().ends_with(&reference));
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("Viitenumero: {reference}")),
        "{body}"
    );
    assert!(
        body.contains(&format!("Reference number: {reference}")),
        "{body}"
    );
    assert!(body.contains("Testikirjasto on vastaanottanut"), "{body}");
    assert!(body.contains("Teos: Seitsemän veljestä"), "{body}");

    let (status, page) = k.page("/staff/mail?lang=en", &staff).await;
    assert_eq!(status, 200);
    assert!(page.contains("Sent mail") && page.contains(&reference));
}

/// dev/smtp on a free loopback port, requiring a login.
struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp() -> Smtp {
    start_smtp_on(0)
}

/// dev/smtp on this port (0: any free one).
fn start_smtp_on(port: u16) -> Smtp {
    use std::io::BufRead;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dev/smtp");
    assert!(
        root.join("node_modules").exists(),
        "run scripts/toolchain.sh (npm ci in dev/smtp) first"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("node")
        .arg(root.join("server.mjs"))
        .args(["--port", &port.to_string()])
        .args(["--user", "kauko", "--pass", "s3cret", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs dev/smtp");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("dev/smtp said {line:?}"));
    Smtp { child, port, dir }
}

#[tokio::test]
async fn with_smtp_the_library_gets_its_confirmation_through_the_server() {
    let smtp = start_smtp();
    let port = smtp.port.to_string();
    let k = start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_MAIL_SMTP_HOST", "127.0.0.1"),
        ("KAUKO_MAIL_SMTP_PORT", &port),
        ("KAUKO_MAIL_TLS", "none"),
        ("KAUKO_MAIL_USERNAME", "kauko"),
        ("KAUKO_MAIL_PASSWORD", "s3cret"),
        ("KAUKO_MAIL_FROM", "Kaukopalvelu <ill@library.example.fi>"),
    ])
    .await;
    let reference = submit(&k, "mail-smtp-0001").await;
    let envelopes = wait_for(smtp.dir.path(), "json").await;
    assert_eq!(envelopes.len(), 1);
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&envelopes[0]).unwrap()).unwrap();
    assert_eq!(envelope["from"], "ill@library.example.fi");
    assert_eq!(
        envelope["to"],
        serde_json::json!(["ill@fi-tuni.example.org"])
    );
    assert_eq!(envelope["user"], "kauko", "logged in with the credentials");
    let raw = std::fs::read_to_string(envelopes[0].with_extension("eml")).unwrap();
    assert!(
        raw.contains("From: Kaukopalvelu <ill@library.example.fi>"),
        "{raw}"
    );
    assert!(raw.contains("To: ill@fi-tuni.example.org"), "{raw}");
    assert!(
        raw.contains("Content-Type: text/plain; charset=utf-8"),
        "{raw}"
    );
    assert!(raw.contains(&format!("Viitenumero: {reference}")), "{raw}");
    assert!(
        raw.contains(&format!("Reference number: {reference}")),
        "{raw}"
    );
    assert!(raw.contains("Dear colleague"), "English too: {raw}");

    // Nothing is kept in the folder; staff are told mail goes out by SMTP.
    let staff = k.sign_in_as("staff", "Staff Member", true).await;
    let (_, list) = k.call("staff/mail/list", &staff, &[]).await;
    assert_eq!(list["smtp"], true, "{list}");
    assert_eq!(list["messages"], serde_json::json!([]));
}

#[tokio::test]
async fn a_mail_server_that_refuses_does_not_lose_the_request() {
    let smtp = start_smtp();
    let port = smtp.port.to_string();
    let k = start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_MAIL_SMTP_HOST", "127.0.0.1"),
        ("KAUKO_MAIL_SMTP_PORT", &port),
        ("KAUKO_MAIL_TLS", "none"),
        ("KAUKO_MAIL_USERNAME", "kauko"),
        ("KAUKO_MAIL_PASSWORD", "wrong"),
    ])
    .await;
    let key = "mail-refused-0001";
    submit(&k, key).await;
    let sent = k
        .state
        .port
        .find_lending_request_by_external_id("FI-TUNI", key)
        .await
        .unwrap();
    assert!(sent.is_some(), "the request is delivered all the same");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(std::fs::read_dir(smtp.dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_mail_server_that_is_down_gets_the_confirmation_when_it_is_back() {
    let port = support::free_port();
    let k = start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_MAIL_SMTP_HOST", "127.0.0.1"),
        ("KAUKO_MAIL_SMTP_PORT", &port.to_string()),
        ("KAUKO_MAIL_TLS", "none"),
        ("KAUKO_MAIL_USERNAME", "kauko"),
        ("KAUKO_MAIL_PASSWORD", "s3cret"),
        ("KAUKO_MAIL_FIRST_RETRY_SECONDS", "1"),
    ])
    .await;
    // Nothing listens on the port yet: the request goes through anyway.
    let reference = submit(&k, "mail-down-0001").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The mail server comes up; the confirmation is tried again (after
    // 1 s, 2 s, ...) and arrives, once.
    let smtp = start_smtp_on(port);
    let envelopes = wait_for(smtp.dir.path(), "eml").await;
    assert_eq!(envelopes.len(), 1, "one confirmation");
    let raw = std::fs::read_to_string(&envelopes[0]).unwrap();
    assert!(
        raw.contains(&format!("Reference number: {reference}")),
        "{raw}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        std::fs::read_dir(smtp.dir.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "eml"))
            .count(),
        1,
        "and not again"
    );
}

#[tokio::test]
async fn the_mail_folder_keeps_only_so_many_messages() {
    let k = start_kauko(&[
        ("KAUKO_DEMO_SEED", "true"),
        ("KAUKO_MAIL_FOLDER_MAX_MESSAGES", "2"),
    ])
    .await;
    for i in 0..4 {
        submit(&k, &format!("mail-folder-cap-{i:04}")).await;
        // One at a time, so "oldest" is well defined.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let folder = k.state.mailer.folder().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let count = |ext: &str| {
        std::fs::read_dir(&folder)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == ext)
            })
            .count()
    };
    assert_eq!((count("eml"), count("json")), (2, 2), "the two newest kept");
    let staff = k.sign_in_as("staff", "Staff Member", true).await;
    let (_, list) = k.call("staff/mail/list", &staff, &[]).await;
    let subjects: Vec<_> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
}
