//! The staff import page and its server functions over HTTP: signed-out
//! users get 401, patrons 403; staff run a dry run, read its report (no
//! secrets in it), download it as CSV and apply it; another staff member
//! cannot see someone else's run.

mod support;

use std::time::{Duration, Instant};

use app::staff_import::{base64_encode, ImportPhase, ImportStatus};

use support::{start_kauko, Running};

async fn start() -> Running {
    start_kauko(&[]).await
}

impl Running {
    async fn session(&self, user: &str, staff: bool) -> String {
        self.sign_in_as(user, user, staff).await
    }

    async fn import_call(
        &self,
        cookie: Option<&str>,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> (u16, String) {
        let mut req = self
            .client
            .post(format!(
                "{}/api/staff/partners/import/{endpoint}",
                self.base
            ))
            .header("origin", &self.base)
            .form(form);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn import_page(&self, cookie: Option<&str>) -> (u16, String) {
        let mut req = self
            .client
            .get(format!("{}/staff/partners/import?lang=en", self.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn wait(&self, cookie: &str, job: &str) -> ImportStatus {
        let started = Instant::now();
        loop {
            let (code, body) = self
                .import_call(Some(cookie), "status", &[("job", job)])
                .await;
            assert_eq!(code, 200, "{body}");
            let status: ImportStatus = serde_json::from_str(&body).unwrap();
            if status.finished() {
                return status;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{status:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn fixture(name: &str) -> String {
    base64_encode(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/partners")
                .join(name),
        )
        .unwrap(),
    )
}

const SECRETS: [&str; 5] = [
    "alma-secret-1",
    "alma-secret-2",
    "kb-secret-3",
    "hunter2",
    "legacy-key-1",
];

#[tokio::test]
async fn patrons_are_refused_and_staff_get_a_report_without_secrets() {
    let app = start().await;
    let (alma, legacy) = (fixture("alma_users.json"), fixture("legacy_latin1.csv"));
    let start_form = [
        ("alma", alma.as_str()),
        ("legacy", legacy.as_str()),
        ("encoding", "auto"),
        ("delimiter", "auto"),
    ];

    // Signed out: 401 from the functions, sign-in for the page.
    assert_eq!(app.import_call(None, "start", &start_form).await.0, 401);
    assert_eq!(app.import_page(None).await.0, 303);

    // A patron: 403 everywhere.
    let patron = app.session("aino.virtanen", false).await;
    assert_eq!(
        app.import_call(Some(&patron), "start", &start_form).await.0,
        403
    );
    for endpoint in ["status", "apply", "report_csv"] {
        let (code, body) = app
            .import_call(Some(&patron), endpoint, &[("job", "x")])
            .await;
        assert_eq!(code, 403, "{endpoint}: {body}");
    }
    let (code, body) = app.import_page(Some(&patron)).await;
    assert_eq!(code, 403);
    assert!(!body.contains("alma-file"));

    // Staff: the page, then a dry run.
    let staff = app.session("staff", true).await;
    let (code, body) = app.import_page(Some(&staff)).await;
    assert_eq!(code, 200);
    assert!(body.contains("Import partner records"), "{body}");
    assert!(body.contains("<label for=\"alma-file\">"), "{body}");
    assert!(body.contains("<label for=\"legacy-file\">"), "{body}");

    let (code, body) = app.import_call(Some(&staff), "start", &start_form).await;
    assert_eq!(code, 200, "{body}");
    let job: String = serde_json::from_str(&body).unwrap();
    let dry = app.wait(&staff, &job).await;
    assert_eq!(dry.phase, ImportPhase::Done, "{dry:?}");
    assert!(!dry.apply);
    let report = dry.report.clone().unwrap();
    let c = &report.counts;
    assert_eq!(
        (c.created, c.updated, c.conflicts, c.rejected, c.merged),
        (4, 0, 1, 3, 3)
    );
    let (_, raw) = app
        .import_call(Some(&staff), "status", &[("job", &job)])
        .await;
    for s in SECRETS {
        assert!(!raw.contains(s), "secret {s} sent to the browser");
    }
    assert_eq!(
        app.state.port.list_partners(0, 100).await.unwrap().total,
        0,
        "a dry run writes nothing"
    );

    // Someone else's run is not found, even for staff.
    let other = app.session("other.staff", true).await;
    assert_eq!(
        app.import_call(Some(&other), "status", &[("job", &job)])
            .await
            .0,
        404
    );
    assert_eq!(
        app.import_call(Some(&other), "apply", &[("job", &job)])
            .await
            .0,
        404
    );

    let (code, csv) = app
        .import_call(Some(&staff), "report_csv", &[("job", &job)])
        .await;
    assert_eq!(code, 200);
    let csv: String = serde_json::from_str(&csv).unwrap();
    assert!(csv.starts_with("outcome,code,name"), "{csv}");
    assert!(csv.contains("conflict,KB,Kungliga biblioteket"), "{csv}");
    for s in SECRETS {
        assert!(!csv.contains(s), "secret {s} in the CSV");
    }

    // Apply what the dry run showed.
    // The public lending form reads a copy of the partner list (here: none
    // yet); applying the import refreshes it.
    let (_, page) = app.page("/lend/NO-SUCH-YET?lang=en", "").await;
    assert!(page.contains("There is no partner library at this address"));
    let (code, body) = app
        .import_call(Some(&staff), "apply", &[("job", &job)])
        .await;
    assert_eq!(code, 200, "{body}");
    let applying: String = serde_json::from_str(&body).unwrap();
    let applied = app.wait(&staff, &applying).await;
    assert!(applied.apply);
    let report = applied.report.unwrap();
    assert!(report.applied);
    assert_eq!(report.counts.created, 4);
    let imported = app.state.port.list_partners(0, 100).await.unwrap();
    assert_eq!(imported.total, 4);
    let lends = imported
        .items
        .iter()
        .find(|p| p.status == app::domain::PartnerStatus::Active && p.lending_supported)
        .expect("an imported partner the library lends to");
    let (status, page) = app.page(&format!("/lend/{}?lang=en", lends.code), "").await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("There is no partner library at this address"),
        "the new partner's form is there at once: {}",
        lends.code
    );
    // An applying run cannot be applied again.
    assert_eq!(
        app.import_call(Some(&staff), "apply", &[("job", &applying)])
            .await
            .0,
        409
    );

    // Bad input is refused with a reason, not a crash.
    let (code, _) = app
        .import_call(
            Some(&staff),
            "start",
            &[
                ("alma", "%%%"),
                ("legacy", ""),
                ("encoding", "auto"),
                ("delimiter", "auto"),
            ],
        )
        .await;
    assert_eq!(code, 400);
    let (code, body) = app
        .import_call(
            Some(&staff),
            "start",
            &[
                ("alma", ""),
                ("legacy", &legacy),
                ("encoding", "ebcdic"),
                ("delimiter", "auto"),
            ],
        )
        .await;
    assert_eq!(code, 422, "{body}");
    let (code, body) = app
        .import_call(
            Some(&staff),
            "start",
            &[
                ("alma", &base64_encode(b"{broken")),
                ("legacy", ""),
                ("encoding", "auto"),
                ("delimiter", "auto"),
            ],
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let job: String = serde_json::from_str(&body).unwrap();
    let failed = app.wait(&staff, &job).await;
    assert_eq!(failed.phase, ImportPhase::Failed);
    assert!(failed.error.unwrap().contains("Alma users file"));

    // Without Kauko's Origin, the call is refused before it runs.
    let res = app
        .client
        .post(format!("{}/api/staff/partners/import/start", app.base))
        .header("cookie", &staff)
        .form(&start_form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}
