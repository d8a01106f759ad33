//! The `kauko` binary as an operator meets it: one clear line per
//! configuration problem, SIGTERM handling, and request ids in its logs.

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn kauko(envs: &[(&str, &str)], dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kauko"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

fn fails_with(envs: &[(&str, &str)], expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = kauko(envs, dir.path()).arg("check").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].starts_with("kauko: configuration error: "),
        "{stderr}"
    );
    assert!(lines[0].contains(expect), "{stderr} should name {expect}");
}

#[test]
fn configuration_problems_stop_start_up_with_one_line() {
    fails_with(
        &[("KAUKO_BACKEND_KIND", "koha")],
        "backend.kind (KAUKO_BACKEND_KIND): unknown variant `koha`",
    );
    fails_with(
        &[
            ("KAUKO_BACKEND_KIND", "alma"),
            ("KAUKO_ALMA_URL", "https://api-eu.hosted.exlibrisgroup.com"),
        ],
        "alma.api_key (KAUKO_ALMA_API_KEY)",
    );
    fails_with(
        &[("KAUKO_DATABASE_URL", "mysql://x@localhost/db")],
        "database.url (KAUKO_DATABASE_URL)",
    );
    fails_with(
        &[
            ("KAUKO_DATABASE_URL", "postgres://kauko@127.0.0.1:1/kauko"),
            ("KAUKO_DATABASE_CONNECT_TIMEOUT_SECONDS", "2"),
        ],
        "database.url (KAUKO_DATABASE_URL): cannot connect",
    );
    fails_with(
        &[("KAUKO_CONFIG", "/nonexistent/kauko.toml")],
        "cannot read /nonexistent/kauko.toml",
    );
}

#[test]
fn check_creates_and_migrates_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = kauko(&[], dir.path()).arg("check").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("data/kauko.db").exists(),
        "the default database file is created under ./data"
    );
}

fn http_get(port: u16, path: &str, request_id: &str) -> Option<String> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nx-request-id: {request_id}\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn serves_logs_request_ids_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut child = kauko(
        &[
            ("KAUKO_SERVER_BIND", &bind),
            ("KAUKO_SERVER_LOG_FORMAT", "json"),
            ("KAUKO_DEMO_SEED", "true"),
        ],
        dir.path(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let start = Instant::now();
    let mut ready = None;
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(resp) = http_get(port, "/readyz", "ready-probe") {
            ready = Some(resp);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ready = ready.expect("kauko answers within 30 s");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let page = http_get(port, "/?lang=en", "trace-me-42").unwrap();
    assert!(page.starts_with("HTTP/1.1 200"));

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "kauko did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(
        stdout.contains(&format!("Kauko is running at http://{bind}")),
        "{stdout}"
    );
    let traced: Vec<_> = stdout
        .lines()
        .filter(|l| l.contains("trace-me-42"))
        .collect();
    assert!(
        !traced.is_empty(),
        "log lines of the request carry its id:\n{stdout}"
    );
    for line in &traced {
        let json: serde_json::Value = serde_json::from_str(line).expect("JSON log lines");
        assert_eq!(json["span"]["request_id"], "trace-me-42", "{line}");
    }
    assert!(
        traced.iter().any(|l| l.contains("\"status\":200")),
        "the response is logged with its status:\n{stdout}"
    );
    assert!(stdout.contains("demo data seeded"), "{stdout}");
}
