//! Alma Analytics: the report XML as Alma sends it (the real pages in
//! `shared/fixtures/analytics/`: three pages joined by their token, a row
//! that leaves out empty columns, typed values, the default namespace and
//! a prefixed one, a report still loading, Alma's error), the client
//! against the simulator (paging, limits in multiples of 25, a report
//! that is still being prepared; calls counted), and the import of yearly
//! figures into the statistics page, kept apart from Kauko's own.

mod support;

use std::time::Duration;

use app::domain::history::Side;
use app::stats::StatisticsSource;
use server::alma_sim::analytics::{SimColumn, SimReport, DEMO_PATH};
use server::alma_sim::{AlmaSim, SimConfig};
use server::stats::analytics::{join, parse_page, AnalyticsClient, AnalyticsError, Value};
use server::stats::import::{figures_from_report, report_from_csv};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(support::shared_fixtures().join("analytics").join(name)).unwrap()
}

#[test]
fn three_real_pages_join_into_one_report() {
    let pages: Vec<_> = [
        "report_page1_of3_token_unfinished.xml",
        "report_page2_of3_unfinished.xml",
        "report_page3_of3_finished_missing_columns.xml",
    ]
    .iter()
    .map(|f| parse_page(&fixture(f)).unwrap())
    .collect();
    assert!(pages[0].token.as_deref().unwrap().starts_with("9672D715"));
    assert!(!pages[0].finished && !pages[1].finished && pages[2].finished);
    assert_eq!(pages[0].columns.len(), 36, "the schema, first page only");
    assert!(pages[1].columns.is_empty());
    assert_eq!(
        pages.iter().map(|p| p.rows.len()).collect::<Vec<_>>(),
        [150, 150, 88]
    );
    let report = join(&pages);
    assert_eq!(report.rows.len(), 388);
    assert!(report.rows.iter().all(|r| r.len() == 36));
    // Typed by saw-sql:type; a left-out column is None, not shifted.
    let last = report.rows.last().unwrap();
    assert_eq!(last[0], Some(Value::Integer(0)));
    assert_eq!(last[1], Some(Value::Text("Ḥasanʹzādah, Jamīlah.".into())));
    assert!(matches!(last[3], Some(Value::Timestamp(_))));
    assert_eq!(last[6], None, "Column6 is left out of this row");
    assert_eq!(last[8], Some(Value::Text("999919859510802204".into())));
}

#[test]
fn headings_come_from_the_schema_in_any_namespace_prefix() {
    let xml = fixture("report_single_page_with_headings.xml");
    let page = parse_page(&xml).unwrap();
    assert!(page.finished);
    assert_eq!(page.rows.len(), 25);
    let report = join(&[page.clone()]);
    assert!(report.column("Title").is_some());
    assert!(report.column("Event Start Date and Time").is_some());
    // The same document with the rowset under a prefix reads the same.
    let prefixed = xml
        .replace(
            "<rowset xmlns=\"urn:schemas-microsoft-com:xml-analysis:rowset\"",
            "<rs:rowset xmlns:rs=\"urn:schemas-microsoft-com:xml-analysis:rowset\"",
        )
        .replace("</rowset>", "</rs:rowset>")
        .replace("<Row>", "<rs:Row>")
        .replace("</Row>", "</rs:Row>")
        .replace("<Column", "<rs:Column")
        .replace("</Column", "</rs:Column");
    assert_eq!(parse_page(&prefixed).unwrap().rows, page.rows);
    // Rows in no namespace are not the rowset's rows.
    let wrong = xml.replace(
        "<rowset xmlns=\"urn:schemas-microsoft-com:xml-analysis:rowset\"",
        "<rowset xmlns=\"urn:example:other\"",
    );
    assert_eq!(parse_page(&wrong).unwrap().rows.len(), 0);
}

#[test]
fn a_report_still_loading_and_an_error_are_told_apart() {
    let loading = parse_page(&fixture("report_still_loading.xml")).unwrap();
    assert!(!loading.finished && loading.token.is_none() && loading.rows.is_empty());
    assert_eq!(
        parse_page(&fixture("error_report_path_not_found.xml")),
        Err(AnalyticsError::Alma("Path not found (/test/path)".into()))
    );
}

#[tokio::test]
async fn the_client_pages_through_a_report_on_the_simulator() {
    let sim = AlmaSim::start(SimConfig::default()).await.unwrap();
    let columns = vec![
        SimColumn {
            heading: "Borrowing Creation Date Year".into(),
            sql_type: "varchar".into(),
        },
        SimColumn {
            heading: "Borrowing Num of Requests".into(),
            sql_type: "double".into(),
        },
        SimColumn {
            heading: "Borrowing Num of Requests Filled".into(),
            sql_type: "double".into(),
        },
    ];
    // 60 rows (a year and month each, 2020-2024), one without a filled
    // count; the first ask finds it still being prepared.
    let rows: Vec<Vec<Option<String>>> = (0..60)
        .map(|i| {
            vec![
                Some(format!("{}", 2020 + i / 12)),
                Some("10".into()),
                (i != 7).then(|| "8".into()),
            ]
        })
        .collect();
    sim.state.analytics(|r| {
        r.add(SimReport {
            path: "/shared/Test/ILL by month".into(),
            columns,
            rows,
            loading_polls: 1,
        })
    });
    let before = sim.state.stats().calls;
    let mut client = AnalyticsClient::new(&sim.base_url, "sim-key", Duration::from_secs(5));
    client.retry_pause = Duration::from_millis(10);
    let report = client
        .report("/shared/Test/ILL by month", 20)
        .await
        .unwrap();
    assert_eq!(
        sim.state.stats().calls - before,
        4,
        "one still loading, then three pages of 25 (20 rounded up)"
    );
    assert_eq!(report.rows.len(), 60);
    assert_eq!(report.columns[1].heading, "Borrowing Creation Date Year");
    assert_eq!(report.rows[7][3], None, "the left-out value");
    assert_eq!(report.rows[8][3], Some(Value::Double(8.0)));
    let figures = figures_from_report(&report, None, "/shared/Test/ILL by month").unwrap();
    let requests_2020 = figures
        .iter()
        .find(|f| f.year == 2020 && f.measure == "requests")
        .unwrap();
    assert_eq!(
        (requests_2020.side, requests_2020.value),
        (Side::Borrowing, 120)
    );
    let filled_2020 = figures
        .iter()
        .find(|f| f.year == 2020 && f.measure == "filled")
        .unwrap();
    assert_eq!(
        filled_2020.value, 88,
        "11 × 8: the missing one adds nothing"
    );
    assert_eq!(figures.len(), 10, "five years, two measures");
    // An unknown path is Alma's error, not an empty report.
    assert_eq!(
        client.report("/shared/nothing", 25).await,
        Err(AnalyticsError::Alma(
            "Path not found (/shared/nothing)".into()
        ))
    );
    sim.stop().await;
}

#[test]
fn an_exported_csv_reads_like_the_report() {
    let csv = "\u{feff}Year,Lending Num of Requests,Lending Number of Non-fulfilled Requests,Lending Num of Requests Filled\n\
               2021,\"3 286\",300,2950\n2022,3122,,2800\n";
    let report = report_from_csv(csv).unwrap();
    let figures = figures_from_report(&report, None, "export.csv").unwrap();
    let values: Vec<_> = figures
        .iter()
        .map(|f| (f.year, f.side, f.measure.as_str(), f.value))
        .collect();
    assert_eq!(
        values,
        vec![
            (2021, Side::Lending, "filled", 2950),
            (2021, Side::Lending, "requests", 3286),
            (2022, Side::Lending, "filled", 2800),
            (2022, Side::Lending, "requests", 3122),
        ],
        "non-fulfilled left out"
    );
    assert_eq!(
        figures_from_report(&report_from_csv("Title,Count\nA,1\n").unwrap(), None, "x"),
        Err("stats.import.no_year")
    );
}

/// Over HTTP: staff import the simulator's demo report (figures of the
/// years before Kauko) and an exported file; the figures are kept apart
/// and shown; patrons cannot import.
#[tokio::test]
async fn staff_import_figures_from_alma_analytics() {
    let sim = AlmaSim::start(SimConfig::default()).await.unwrap();
    let kauko = support::start_kauko(&[
        ("KAUKO_ALMA_URL", sim.base_url.as_str()),
        ("KAUKO_ALMA_API_KEY", "sim-key"),
        ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en"),
    ])
    .await;
    let staff = kauko.sign_in_as("liisa.staff", "Liisa", true).await;
    let patron = kauko.sign_in_as("aino.virtanen", "Aino", false).await;
    let post = |cookie: String, form: Vec<(&'static str, String)>| {
        let kauko = &kauko;
        async move {
            let res = kauko
                .client
                .post(format!("{}/staff/statistics/import-alma", kauko.base))
                .header("origin", &kauko.base)
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            support::status_and_location(&res)
        }
    };
    let form = vec![("path", DEMO_PATH.to_owned()), ("side", String::new())];
    assert_eq!(post(patron, form.clone()).await.0, 403);
    let (status, to) = post(staff.clone(), form.clone()).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/staff/statistics?imported=16#imported")
    );
    let source = server::stats::SqlStatistics::new(kauko.state.db.clone());
    let imported = source.imported().await.unwrap();
    assert_eq!(imported.len(), 16, "four years, two sides, two measures");
    let lending_2020 = imported
        .iter()
        .find(|f| f.year == 2020 && f.side == Side::Lending && f.measure == "requests")
        .unwrap();
    assert_eq!(lending_2020.value, 4108);
    // Imported again: replaced, not doubled.
    post(staff.clone(), form).await;
    assert_eq!(source.imported().await.unwrap().len(), 16);
    let (_, to) = post(staff.clone(), vec![("path", "/shared/none".into())]).await;
    assert!(to.contains("import_error=stats.import.alma_failed"), "{to}");
    // Kauko's own figures are untouched; the page shows the imported ones.
    let stats = app::stats::load(&source, Some(2022)).await.unwrap();
    assert_eq!(stats.borrowing.requests.now, 0);
    let (_, page) = kauko.page("/staff/statistics?year=2022", &staff).await;
    assert!(page.contains("From Alma Analytics"));
    assert!(
        page.contains("3,122"),
        "the 2022 lending requests, in English format"
    );
    let (status, csv) = kauko
        .page("/staff/statistics/alma/imported.csv", &staff)
        .await;
    assert_eq!(status, 200);
    assert!(csv.contains("2022,2439,2200,3122,2800"), "{csv}");
    sim.stop().await;
}
