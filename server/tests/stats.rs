//! Statistics from the requests' histories, on SQLite and PostgreSQL: a
//! generated data set of 330 requests over three years (filled, cancelled
//! with reasons, unfilled, in progress; several partners asked in turn;
//! renewals) whose counts, fill rates, turnaround and year-on-year changes
//! are known by construction, every figure asserted exactly; a past year's
//! figures do not change when a later year is added; and over HTTP, the
//! page and its CSV files are for staff only.

mod support;

use app::domain::history::Side;
use app::stats::{Count, StatisticsSource};
use chrono::{DateTime, Duration, TimeZone, Utc};
use server::stats::SqlStatistics;
use server::storage::{ts, Db};

struct Gen<'a> {
    db: &'a Db,
    n: usize,
}

impl Gen<'_> {
    async fn event(
        &self,
        side: &str,
        id: &str,
        at: DateTime<Utc>,
        action: &str,
        to: &str,
        partner: Option<&str>,
        note: Option<&str>,
    ) {
        sqlx::query(
            "INSERT INTO request_events (side, request_id, at, actor_kind, actor_id, action, from_state, to_state, partner_code, note, note_audience) \
             VALUES ($1, $2, $3, 'staff', 'tilastot', $4, NULL, $5, $6, $7, $8)",
        )
        .bind(side.to_owned())
        .bind(id.to_owned())
        .bind(ts(at))
        .bind(action.to_owned())
        .bind(to.to_owned())
        .bind(partner.map(str::to_owned))
        .bind(note.map(str::to_owned))
        .bind(note.map(|_| "patron".to_owned()))
        .execute(&self.db.pool)
        .await
        .unwrap();
    }

    /// Borrowing requests of `year`, `count` of them; request `i`: created
    /// on the 10th of month `i % 12 + 1`, kind by `i % 3`, and by `i % 10`:
    /// 0–5 filled, 6–7 cancelled (two reasons), 8 unfilled, 9 in progress.
    /// The `j`-th filled one ships `j % 5 + 1` days after its creation and
    /// arrives two days later; every third is first refused by FI-A and
    /// then sent to FI-B; every fourth is renewed once.
    async fn borrowing(&mut self, year: i32, count: usize) {
        let mut filled = 0;
        for i in 0..count {
            self.n += 1;
            let id = format!("b{year}-{i:03}-{}", self.n);
            let created = Utc
                .with_ymd_and_hms(year, (i % 12 + 1) as u32, 10, 8, 0, 0)
                .unwrap();
            let kind = ["book", "article", "chapter"][i % 3];
            let outcome = i % 10;
            let rota = outcome < 6 && filled % 3 == 0;
            let partner = if rota {
                "FI-B"
            } else if i % 2 == 0 {
                "FI-A"
            } else {
                "FI-C"
            };
            sqlx::query(
                "INSERT INTO borrowing_requests (id, patron_id, external_id, citation, format, pickup_location, needed_by, note, status, created_at, updated_at, version, partner_code, title, kind) \
                 VALUES ($1, 'p', $2, '{}', 'PHYSICAL', NULL, NULL, NULL, 'X', $3, $3, 0, $4, 'T', $5)",
            )
            .bind(id.clone())
            .bind(format!("ext-{id}"))
            .bind(ts(created))
            .bind(partner.to_owned())
            .bind(kind.to_owned())
            .execute(&self.db.pool)
            .await
            .unwrap();
            let b = "borrowing";
            self.event(
                b,
                &id,
                created,
                "created",
                "REQUEST_CREATED_BOR",
                None,
                None,
            )
            .await;
            if outcome == 6 || outcome == 7 {
                let reason = if outcome == 6 {
                    "Ei enää tarpeen"
                } else {
                    "Löytyi omasta kokoelmasta"
                };
                self.event(
                    b,
                    &id,
                    created + Duration::days(1),
                    "cancel",
                    "CANCELED_BY_PATRON",
                    None,
                    Some(reason),
                )
                .await;
                continue;
            }
            let hour = Duration::hours(1);
            if rota {
                self.event(
                    b,
                    &id,
                    created + hour,
                    "send_to_partner",
                    "REQUEST_SENT",
                    Some("FI-A"),
                    None,
                )
                .await;
                self.event(
                    b,
                    &id,
                    created + hour * 2,
                    "partner_cannot_supply",
                    "READY_TO_SEND",
                    Some("FI-A"),
                    Some("Lainassa"),
                )
                .await;
            }
            self.event(
                b,
                &id,
                created + hour * 3,
                "send_to_partner",
                "REQUEST_SENT",
                Some(partner),
                None,
            )
            .await;
            match outcome {
                8 => {
                    self.event(
                        b,
                        &id,
                        created + Duration::days(3),
                        "mark_unfilled",
                        "REJECTED",
                        None,
                        Some("Ei saatavilla"),
                    )
                    .await
                }
                9 => {}
                _ => {
                    let shipped = created + Duration::days(filled % 5 + 1);
                    let received = shipped + Duration::days(2);
                    self.event(
                        b,
                        &id,
                        shipped,
                        "shipped_physically",
                        "SHIPPED_PHYSICALLY",
                        Some(partner),
                        None,
                    )
                    .await;
                    self.event(
                        b,
                        &id,
                        received,
                        "received",
                        "RECEIVED_PHYSICALLY",
                        None,
                        None,
                    )
                    .await;
                    self.event(
                        b,
                        &id,
                        received + hour,
                        "lend_to_patron",
                        "LOANED",
                        None,
                        None,
                    )
                    .await;
                    if filled % 4 == 0 {
                        self.event(
                            b,
                            &id,
                            received + Duration::days(20),
                            "grant_renewal",
                            "LOANED",
                            None,
                            None,
                        )
                        .await;
                    }
                    filled += 1;
                }
            }
        }
    }

    /// Lending requests of `year`: two in three shipped 2 days after
    /// creation (and returned 30 days later), one in three cannot be
    /// supplied; from three libraries in turn.
    async fn lending(&mut self, year: i32, count: usize) {
        for i in 0..count {
            self.n += 1;
            let id = format!("l{year}-{i:03}-{}", self.n);
            let created = Utc
                .with_ymd_and_hms(year, (i % 12 + 1) as u32, 3, 12, 0, 0)
                .unwrap();
            let library = ["FI-TUNI", "FI-JYU", "SE-KB"][i % 3];
            sqlx::query(
                "INSERT INTO lending_requests (id, external_id, partner_code, body, status, created_at, updated_at, version, title, kind, requester) \
                 VALUES ($1, $2, $3, '{}', 'X', $4, $4, 0, 'T', 'book', $3)",
            )
            .bind(id.clone())
            .bind(format!("ext-{id}"))
            .bind(library.to_owned())
            .bind(ts(created))
            .execute(&self.db.pool)
            .await
            .unwrap();
            let l = "lending";
            self.event(
                l,
                &id,
                created,
                "created",
                "RequestReceived",
                Some(library),
                None,
            )
            .await;
            if i % 3 == 2 {
                self.event(
                    l,
                    &id,
                    created + Duration::hours(5),
                    "cannot_supply",
                    "Unfilled",
                    None,
                    Some("Ei lainata ulkomaille"),
                )
                .await;
            } else {
                self.event(
                    l,
                    &id,
                    created + Duration::hours(12),
                    "accept",
                    "WillSupply",
                    None,
                    None,
                )
                .await;
                self.event(
                    l,
                    &id,
                    created + Duration::days(2),
                    "ship",
                    "Loaned",
                    None,
                    None,
                )
                .await;
                self.event(
                    l,
                    &id,
                    created + Duration::days(32),
                    "returned",
                    "LoanCompleted",
                    None,
                    None,
                )
                .await;
            }
        }
    }
}

fn c(now: u64, before: u64) -> Count {
    Count { now, before }
}

async fn figures_are_known_by_construction(db: Db) {
    let mut gen = Gen { db: &db, n: 0 };
    gen.borrowing(2023, 60).await;
    gen.borrowing(2024, 80).await;
    gen.borrowing(2025, 100).await;
    gen.lending(2023, 30).await;
    gen.lending(2024, 30).await;
    gen.lending(2025, 30).await;
    let source = SqlStatistics::new(db.clone());
    // The milestones the trigger kept, event by event, are what the whole
    // history grouped at once says.
    for side in [Side::Borrowing, Side::Lending] {
        // In no particular order (the figures do not depend on it).
        let sorted = |mut rows: Vec<app::stats::RequestSummary>| {
            rows.sort_by_key(|r| format!("{r:?}"));
            rows
        };
        let kept = sorted(source.summaries(side, 2023, 2025).await.unwrap());
        assert_eq!(kept.len(), if side == Side::Borrowing { 240 } else { 90 });
        assert_eq!(
            kept,
            sorted(
                source
                    .summaries_from_history(side, 2023, 2025)
                    .await
                    .unwrap()
            )
        );
    }
    let s = app::stats::load(&source, Some(2025)).await.unwrap();
    assert_eq!(s.year, 2025);
    assert_eq!(s.years, vec![2025, 2024, 2023]);

    let b = &s.borrowing;
    assert_eq!(b.requests, c(100, 80));
    assert_eq!(b.requests.change(), Some(25.0));
    assert_eq!(b.filled, c(60, 48));
    assert_eq!(b.cancelled, c(20, 16));
    assert_eq!(b.unfilled, c(10, 8));
    assert_eq!(b.in_progress, c(10, 8));
    assert_eq!(b.fill_rate(), Some(60.0));
    assert_eq!(b.fill_rate_before(), Some(60.0));
    assert_eq!(b.renewals, c(15, 12));
    // 100 = 8 × 12 + 4: January to April have 9; 80 = 6 × 12 + 8.
    let months: Vec<Count> = (1..=12)
        .map(|m| c(if m <= 4 { 9 } else { 8 }, if m <= 8 { 7 } else { 6 }))
        .collect();
    assert_eq!(b.months, months);
    assert_eq!(
        b.kinds,
        vec![
            ("book".to_owned(), c(34, 27)),
            ("article".to_owned(), c(33, 27)),
            ("chapter".to_owned(), c(33, 26)),
        ]
    );
    // Each request counts once, with the partner it went to last: the
    // twenty rota requests (every third filled one) count for FI-B only.
    let partners: std::collections::HashMap<_, _> = b.partners.iter().cloned().collect();
    assert_eq!(partners["FI-B"], 20);
    assert_eq!(partners["FI-A"] + partners["FI-C"] + partners["FI-B"], 100);
    assert_eq!(b.partners.len(), 3);
    // Turnaround: shipped 1..5 days after the request (12 each): mean and
    // median 3, 90th percentile 5; received 2 days after shipping.
    let seg = |key: &str| {
        b.turnaround
            .iter()
            .find(|t| t.segment == key)
            .unwrap()
            .clone()
    };
    let t = seg("stats.segment.created_shipped");
    assert_eq!((t.n, t.mean, t.median, t.p90), (60, 3.0, 3.0, 5.0));
    let t = seg("stats.segment.shipped_received");
    assert_eq!((t.n, t.mean, t.median, t.p90), (60, 2.0, 2.0, 2.0));
    let t = seg("stats.segment.created_received");
    assert_eq!((t.n, t.mean, t.median, t.p90), (60, 5.0, 5.0, 7.0));
    assert_eq!(
        b.cancel_reasons,
        vec![
            ("Ei enää tarpeen".to_owned(), 10),
            ("Löytyi omasta kokoelmasta".to_owned(), 10)
        ]
    );
    assert_eq!(b.unfilled_reasons, vec![("Ei saatavilla".to_owned(), 10)]);

    let l = &s.lending;
    assert_eq!(l.requests, c(30, 30));
    assert_eq!(l.requests.change(), Some(0.0));
    assert_eq!(l.filled, c(20, 20));
    assert_eq!(l.unfilled, c(10, 10));
    assert_eq!(l.cancelled, c(0, 0));
    assert_eq!(
        l.unfilled_reasons,
        vec![("Ei lainata ulkomaille".to_owned(), 10)]
    );
    assert_eq!(
        l.partners,
        vec![
            ("FI-JYU".to_owned(), 10),
            ("FI-TUNI".to_owned(), 10),
            ("SE-KB".to_owned(), 10)
        ]
    );
    let seg = |key: &str| {
        l.turnaround
            .iter()
            .find(|t| t.segment == key)
            .unwrap()
            .clone()
    };
    assert_eq!(seg("stats.segment.created_accepted").median, 0.5);
    assert_eq!(seg("stats.segment.created_shipped").p90, 2.0);
    assert_eq!(seg("stats.segment.shipped_returned").mean, 30.0);

    // 2024 beside 2023: 80 vs 60 requests, +33.3 %.
    let before = app::stats::load(&source, Some(2024)).await.unwrap();
    assert_eq!(before.borrowing.requests, c(80, 60));
    assert!((before.borrowing.requests.change().unwrap() - 33.333).abs() < 0.001);
    // A later year added changes nothing of the earlier ones.
    gen.borrowing(2026, 40).await;
    gen.lending(2026, 12).await;
    let after = app::stats::load(&source, Some(2024)).await.unwrap();
    assert_eq!(after.borrowing, before.borrowing);
    assert_eq!(after.lending, before.lending);
    let again = app::stats::load(&source, Some(2025)).await.unwrap();
    assert_eq!(again.borrowing, s.borrowing);
    assert_eq!(again.lending, s.lending);
    assert_eq!(source.years().await.unwrap(), vec![2026, 2025, 2024, 2023]);
    let summaries = source.summaries(Side::Borrowing, 2026, 2026).await.unwrap();
    assert_eq!(summaries.len(), 40);
}

#[tokio::test]
async fn figures_are_known_by_construction_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    figures_are_known_by_construction(db).await;
}

#[tokio::test]
async fn figures_are_known_by_construction_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    figures_are_known_by_construction(db).await;
}

/// Over HTTP: the page and the CSV files are for staff; the CSV has the
/// chart's numbers with headings in the reader's language, and a reason a
/// spreadsheet would run as a formula is defused.
#[tokio::test]
async fn the_statistics_page_and_its_csv_are_for_staff() {
    let kauko = support::start_kauko(&[("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "en")]).await;
    let mut gen = Gen {
        db: &kauko.state.db,
        n: 0,
    };
    gen.borrowing(2025, 20).await;
    sqlx::query("INSERT INTO request_events (side, request_id, at, actor_kind, actor_id, action, from_state, to_state, note) \
                 SELECT 'borrowing', id, '2025-06-01T00:00:00Z', 'staff', 's', 'cancel_by_staff', NULL, 'CANCELED_BY_STAFF', '=HYPERLINK(\"x\")' \
                 FROM borrowing_requests WHERE id LIKE 'b2025-009-%'")
        .execute(&kauko.state.db.pool)
        .await
        .unwrap();
    let patron = kauko.sign_in_as("aino.virtanen", "Aino", false).await;
    let staff = kauko.sign_in_as("liisa.staff", "Liisa", true).await;
    let csv = "/staff/statistics/borrowing/outcomes.csv?year=2025";
    assert_eq!(kauko.page(csv, &patron).await.0, 403);
    assert_eq!(kauko.page(csv, "").await.0, 303, "signed out: to sign-in");
    let (status, body) = kauko.page(csv, &staff).await;
    assert_eq!(status, 200, "{body}");
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "Item,This year,Year before,Change");
    assert_eq!(lines[1], "Requests,20,0,");
    assert_eq!(lines[2], "Filled,12,0,");
    let (_, body) = kauko
        .page(
            "/staff/statistics/borrowing/cancelled.csv?year=2025&lang=fi",
            &staff,
        )
        .await;
    assert!(body.contains("Kohde,Tämä vuosi"), "{body}");
    assert!(body.contains("\"'=HYPERLINK(\"\"x\"\")\",1"), "{body}");
    assert_eq!(
        kauko
            .page("/staff/statistics/borrowing/nonsense.csv", &staff)
            .await
            .0,
        404
    );
    assert_eq!(
        kauko
            .page("/staff/statistics/sideways/outcomes.csv", &staff)
            .await
            .0,
        404
    );
    // The page itself: the charts are drawn on the server.
    let (status, page) = kauko.page("/staff/statistics?year=2025", &staff).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<svg class=\"chart\""),
        "charts in the served page"
    );
    assert!(page.contains("Requests per month"));
    assert!(page.contains("Show as table"));
    assert!(page.contains("/staff/statistics/borrowing/months.csv?year=2025"));
    let (status, _) = kauko.page("/staff/statistics", &patron).await;
    assert_eq!(status, 403);
}
