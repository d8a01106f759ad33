//! `scripts/bench-letters.sh`: letters with a long citation (a 600-character
//! title, twelve authors). Prints the rendering throughput (letters per
//! second, one template in one language, both parts) and the staff page's
//! preview latency p50/p99/max (the `LetterOffice::detail` call behind
//! "Preview": the template checked, the request's data read from the
//! database, rendered, the versions and the diff), on SQLite and (when it
//! answers) PostgreSQL. BENCH_RENDERS (default 20000) and BENCH_RUNS (500)
//! change the sizes.

mod common;

use std::time::Instant;

use app::domain::{Citation, CitationType, Format, NewBorrowingRequest, PatronId};
use app::i18n::Lang;
use app::letters::{LetterKind, LetterOffice};
use common::env;
use server::adapters::local::{LocalBackend, LocalRules};
use server::letters::{store, templates, Letters};
use server::port::ResourceSharing;

fn long_title() -> String {
    "Proceedings of the International Symposium on the History, Theory and Practice of \
     Interlibrary Loan and Document Delivery in Nordic Research Libraries, with Special \
     Reference to Resource Sharing Protocols, Copyright, Digitisation and the Economics \
     of Cooperation among University, Special and Public Libraries in Finland, Sweden, \
     Norway, Denmark and Iceland from 1950 to the Present Day: Papers Presented at the \
     Conference Held in Helsinki on 12–14 June 2026, Together with Bibliographies, \
     Indexes and Commentaries by the Editors and an Afterword on Future Directions"
        .to_owned()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let renders = env("BENCH_RENDERS", 20_000);
    let runs = env("BENCH_RUNS", 500);
    // Rendering alone.
    let kind = LetterKind::PatronReadyForPickup;
    let text = templates::default_text(kind, Lang::Fi);
    let mut values = templates::sample_values(kind, Lang::Fi);
    values.insert("title".into(), minijinja::Value::from(long_title()));
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..renders {
        let r = templates::render(kind, &text, &values).expect("renders");
        bytes += r.html.len() + r.text.len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "rendering: {renders} letters in {secs:.2} s = {:.0} letters/s ({} bytes each)",
        renders as f64 / secs,
        bytes / renders
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(common::on_both(|db| async move {
        let dir = tempfile::tempdir().expect("dir");
        let config = server::config::Config::from_sources(
            "",
            [("KAUKO_MAIL_FOLDER".to_owned(), dir.path().display().to_string())],
        )
        .expect("config");
        let mailer = server::mail::Mailer::from_config(&config).expect("mailer");
        let letters = Letters::new(db.clone(), mailer, &config);
        let local = LocalBackend::new(db.clone(), LocalRules::default());
        let me = PatronId("bench-patron".into());
        store::remember_patron(&db, &me.0, Some("Maija"), Some("m@example.fi"), None, None)
            .await
            .expect("patron");
        let request = local
            .create_borrowing_request(
                &me,
                NewBorrowingRequest {
                    external_id: "bench-letters".into(),
                    citation: Citation {
                        kind: Some(CitationType::Book),
                        title: long_title(),
                        authors: (1..=12).map(|i| format!("Kirjoittaja{i}, Etunimi")).collect(),
                        ..Default::default()
                    },
                    format: Format::Physical,
                    pickup_location: Some("Kaisa-talo".into()),
                    needed_by: None,
                    note: None,
                    copyright_accepted: false,
                },
            )
            .await
            .expect("request");
        // A few saved versions, as a letter staff have worked on.
        for i in 0..5 {
            let mut t = templates::default_text(kind, Lang::Fi);
            t.body.push_str(&format!("\n\nVersio {i}"));
            store::save(&db, kind, Lang::Fi, &t, "staff").await.expect("save");
        }
        let mut draft = templates::default_text(kind, Lang::Fi);
        draft.body.push_str("\n\nTervetuloa!");
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let d = letters
                .detail(kind, Lang::Fi, Some(request.id.clone()), Some(draft.clone()))
                .await
                .expect("detail");
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(d.preview.is_ok());
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "  preview ({runs} runs, a request's data, 600-character title): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }));
}
