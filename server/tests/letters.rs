//! Letters on SQLite and PostgreSQL: written from the request history in
//! the recipient's language, each exactly once (read twice, by two
//! instances, after a worker died mid-send), sent through the mail
//! folder; staff edits apply to the next letter only; switched-off letters
//! are not written; the daily check writes due-soon and overdue notices
//! once per due date. Golden renderings of every letter in every language.
//! Every claim is counted: letters in the table, messages in the folder.

mod support;

use std::path::Path;
use std::sync::Arc;

use app::desk::{NoteInput, StaffDesk};
use app::domain::history::Side;
use app::domain::{
    Citation, CitationType, Format, NewBorrowingRequest, NewLendingRequest, PatronId,
    RequesterContact, ServiceType,
};
use app::i18n::Lang;
use app::letters::{LetterKind, TemplateText};
use chrono::{Duration, Utc};
use server::adapters::local::{LocalBackend, LocalRules};
use server::config::Config;
use server::desk::LocalDesk;
use server::letters::{store, templates, Letters};
use server::port::contract::{partner, unique};
use server::port::ResourceSharing;
use server::storage::Db;
use support::step;

struct Setup {
    letters: Arc<Letters>,
    local: LocalBackend,
    desk: LocalDesk,
    mail: tempfile::TempDir,
}

fn config(mail: &Path) -> Config {
    Config::from_sources(
        "",
        [
            ("KAUKO_SERVER_PUBLIC_URL", "https://kauko.example.fi"),
            ("KAUKO_MAIL_FOLDER", mail.to_str().unwrap()),
            ("KAUKO_LIBRARY_NAME", "Testikirjasto"),
            ("KAUKO_LIBRARY_DEFAULT_LANGUAGE", "fi"),
            ("KAUKO_LETTERS_SETTLE_MILLISECONDS", "0"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap()
}

fn instance(db: &Db, mail: &Path) -> Arc<Letters> {
    let config = config(mail);
    let mailer = server::mail::Mailer::from_config(&config).unwrap();
    Letters::new(db.clone(), mailer, &config)
}

async fn setup(db: Db) -> Setup {
    let mail = tempfile::tempdir().unwrap();
    Setup {
        letters: instance(&db, mail.path()),
        local: LocalBackend::new(db.clone(), LocalRules::default()),
        desk: LocalDesk::new(db),
        mail,
    }
}

/// The messages in the mail folder: (to, subject, body).
fn mails(dir: &Path) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String, String)> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .map(|e| {
                    let v: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
                    (
                        v["date"].as_str().unwrap().to_owned(),
                        v["to"].as_str().unwrap().to_owned(),
                        v["subject"].as_str().unwrap().to_owned(),
                        v["body"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.into_iter().map(|(_, a, b, c)| (a, b, c)).collect()
}

async fn letter_rows(db: &Db, kind: LetterKind) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM letters WHERE kind = $1")
        .bind(kind.code())
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

fn book(title: &str) -> NewBorrowingRequest {
    NewBorrowingRequest {
        external_id: unique("letters"),
        citation: Citation {
            kind: Some(CitationType::Book),
            title: title.into(),
            authors: vec!["Linna, Väinö".into()],
            ..Default::default()
        },
        format: Format::Physical,
        pickup_location: Some("Kaisa-talo".into()),
        needed_by: None,
        note: None,
        copyright_accepted: false,
    }
}

/// Plans and sends with two instances at once, as two Kauko processes
/// would; returns how many letters were sent.
async fn run_both(a: &Letters, b: &Letters) -> usize {
    let (pa, pb) = tokio::join!(a.plan(), b.plan());
    pa.unwrap();
    pb.unwrap();
    let (sa, sb) = tokio::join!(a.send_due(), b.send_due());
    sa.unwrap() + sb.unwrap()
}

async fn patron_letters_follow_the_history(db: Db) {
    let s = setup(db.clone()).await;
    let other = instance(&db, s.mail.path());
    s.local
        .create_partner(partner("FI-TUNI", "Tampereen yliopisto"))
        .await
        .unwrap();
    let me = PatronId(unique("patron"));
    // Signed in with a Swedish locale and no choice in Kauko yet.
    store::remember_patron(
        &db,
        &me.0,
        store::PatronDetails {
            name: Some("Maija Meikäläinen"),
            email: Some("maija@example.fi"),
            locale: Some("sv-FI"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let r = s
        .local
        .create_borrowing_request(
            &me,
            book("<img src=x onerror=alert(1)> Täällä Pohjantähden alla"),
        )
        .await
        .unwrap();
    let id = r.id.clone();

    assert_eq!(
        run_both(&s.letters, &other).await,
        1,
        "one letter, two instances"
    );
    assert_eq!(
        run_both(&s.letters, &other).await,
        0,
        "read again: nothing new"
    );
    let sent = mails(s.mail.path());
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "maija@example.fi");
    assert!(
        sent[0]
            .1
            .starts_with("Fjärrlånebeställningen har tagits emot"),
        "{}",
        sent[0].1
    );
    assert!(sent[0].2.contains("Hej Maija Meikäläinen"), "{}", sent[0].2);
    assert!(sent[0]
        .2
        .contains(&format!("https://kauko.example.fi/my/{id}")));
    let html: String = sqlx::query_scalar("SELECT body_html FROM letters WHERE request_id = $1")
        .bind(id.clone())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(
        !html.contains("<img"),
        "the title is text in the HTML part: {html}"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"sv\">"));

    // The patron now chooses Finnish in Kauko: it wins over the locale.
    store::remember_patron(
        &db,
        &me.0,
        store::PatronDetails {
            lang: Some(Lang::Fi),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let b = Side::Borrowing;
    step(&s.desk, b, &id, "send_to_partner", |i| {
        i.partner = Some("FI-TUNI".into())
    })
    .await;
    step(&s.desk, b, &id, "partner_will_supply", |_| {}).await;
    step(&s.desk, b, &id, "shipped_physically", |_| {}).await;
    assert_eq!(
        run_both(&s.letters, &other).await,
        0,
        "steps the patron is not told of"
    );
    step(&s.desk, b, &id, "received", |_| {}).await;
    assert_eq!(run_both(&s.letters, &other).await, 1);
    let sent = mails(s.mail.path());
    let pickup = &sent[1];
    assert!(
        pickup.1.starts_with("Kaukolainasi on noudettavissa"),
        "{}",
        pickup.1
    );
    assert!(pickup.2.contains("Noutopaikka: Kaisa-talo"), "{}", pickup.2);
    let until = Utc::now().date_naive() + Duration::days(14);
    assert!(
        pickup.2.contains(&templates::format_date(Lang::Fi, until)),
        "collect by: {}",
        pickup.2
    );

    // A question from staff; then staff edit the letter: the letter already
    // sent stays as it was, the next one uses the new version.
    let note = |text: &str| NoteInput {
        id: id.clone(),
        text: text.into(),
        to_patron: true,
    };
    s.desk
        .note(b, "staff-anna", note("Käykö vuoden 2019 painos?"))
        .await
        .unwrap();
    s.desk
        .note(
            b,
            "staff-anna",
            NoteInput {
                to_patron: false,
                ..note("sisäinen")
            },
        )
        .await
        .unwrap();
    assert_eq!(
        run_both(&s.letters, &other).await,
        1,
        "internal notes send nothing"
    );
    let mut edited = templates::default_text(LetterKind::PatronQuery, Lang::Fi);
    edited.body = edited
        .body
        .replace("Henkilökunnallamme", "Ystävällisellä henkilökunnallamme");
    assert_eq!(
        store::save(
            &db,
            LetterKind::PatronQuery,
            Lang::Fi,
            &edited,
            "staff-anna"
        )
        .await
        .unwrap(),
        1
    );
    s.desk
        .note(b, "staff-anna", note("Entä vuoden 2021?"))
        .await
        .unwrap();
    assert_eq!(run_both(&s.letters, &other).await, 1);
    let sent = mails(s.mail.path());
    assert!(
        sent[2].2.contains("Henkilökunnallamme on kysymys")
            && !sent[2].2.contains("Ystävällisellä")
    );
    assert!(sent[2].2.contains("Käykö vuoden 2019 painos?"));
    assert!(
        sent[3].2.contains("Ystävällisellä henkilökunnallamme"),
        "{}",
        sent[3].2
    );
    let versions: Vec<String> = sqlx::query_scalar(
        "SELECT version FROM letters WHERE kind = 'patron_query' ORDER BY created_at",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(versions, ["default", "v1"]);
    let stored: String = sqlx::query_scalar(
        "SELECT body_text FROM letters WHERE kind = 'patron_query' AND version = 'default'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(
        !stored.contains("Ystävällisellä"),
        "a sent letter never changes"
    );

    // A switched-off letter is not written.
    store::set_enabled(&db, LetterKind::PatronReadyForPickup, false, "staff-anna")
        .await
        .unwrap();
    let second = s
        .local
        .create_borrowing_request(&me, book("Toinen"))
        .await
        .unwrap();
    for a in [
        "send_to_partner",
        "partner_will_supply",
        "shipped_physically",
        "received",
    ] {
        step(&s.desk, b, &second.id, a, |i| {
            if a == "send_to_partner" {
                i.partner = Some("FI-TUNI".into())
            }
        })
        .await;
    }
    assert_eq!(
        run_both(&s.letters, &other).await,
        1,
        "only 'received' for the second"
    );
    assert_eq!(letter_rows(&db, LetterKind::PatronReadyForPickup).await, 1);
    // The staff list shows the switch and the edited language.
    let list = app::letters::LetterOffice::summaries(s.letters.as_ref())
        .await
        .unwrap();
    let row = |k: LetterKind| list.iter().find(|r| r.kind == k).unwrap();
    assert!(!row(LetterKind::PatronReadyForPickup).enabled);
    assert!(row(LetterKind::PatronReceived).enabled);
    assert_eq!(row(LetterKind::PatronQuery).edited, [Lang::Fi]);
    assert!(row(LetterKind::PatronReceived).edited.is_empty());
    assert_eq!(row(LetterKind::PatronQuery).sent, 2);
    assert_eq!(letter_rows(&db, LetterKind::PatronReceived).await, 2);

    // The daily check: due soon once per due date, overdue once.
    store::set_enabled(&db, LetterKind::PatronReadyForPickup, true, "staff-anna")
        .await
        .unwrap();
    let today = Utc::now().date_naive();
    let due = today + Duration::days(2);
    step(&s.desk, b, &id, "lend_to_patron", |i| {
        i.due_date = Some(due)
    })
    .await;
    assert_eq!(s.letters.check_dates(today).await.unwrap(), 1);
    assert_eq!(
        other.check_dates(today).await.unwrap(),
        0,
        "once per due date"
    );
    assert_eq!(
        s.letters
            .check_dates(today + Duration::days(5))
            .await
            .unwrap(),
        1,
        "overdue"
    );
    assert_eq!(
        s.letters
            .check_dates(today + Duration::days(6))
            .await
            .unwrap(),
        0
    );
    assert_eq!(run_both(&s.letters, &other).await, 2);
    let sent = mails(s.mail.path());
    let last_two: Vec<&str> = sent[sent.len() - 2..]
        .iter()
        .map(|m| m.1.as_str())
        .collect();
    assert!(
        last_two
            .iter()
            .any(|s| s.starts_with("Kaukolainan eräpäivä lähestyy")),
        "{last_two:?}"
    );
    assert!(
        last_two
            .iter()
            .any(|s| s.starts_with("Kaukolaina myöhässä")),
        "{last_two:?}"
    );

    // Every letter written is in the folder once, and nothing more.
    let written: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM letters WHERE state = 'sent'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(written as usize, mails(s.mail.path()).len());
    assert_eq!(written, 7);
    let log = store::of_request(&db, b, &id).await.unwrap();
    assert_eq!(log.len(), 6, "the request's letters, for its page");
}

#[tokio::test]
async fn patron_letters_follow_the_history_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    patron_letters_follow_the_history(db).await;
}

#[tokio::test]
async fn patron_letters_follow_the_history_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    patron_letters_follow_the_history(db).await;
}

async fn a_letter_claimed_by_a_worker_that_died_is_sent_once(db: Db) {
    let s = setup(db.clone()).await;
    let me = PatronId(unique("patron"));
    store::remember_patron(
        &db,
        &me.0,
        store::PatronDetails {
            name: Some("Aino"),
            email: Some("aino@example.fi"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.local
        .create_borrowing_request(&me, book("Kalevala"))
        .await
        .unwrap();
    assert_eq!(s.letters.plan().await.unwrap(), 1);
    // A worker claimed it and died before it could send or record.
    let future = server::storage::ts(Utc::now() + Duration::minutes(5));
    sqlx::query("UPDATE letters SET lease_token = 'dead', lease_until = $1, attempts = 1")
        .bind(future)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        s.letters.send_due().await.unwrap(),
        0,
        "not while its lease holds"
    );
    let past = server::storage::ts(Utc::now() - Duration::seconds(1));
    sqlx::query("UPDATE letters SET lease_until = $1")
        .bind(past)
        .execute(&db.pool)
        .await
        .unwrap();
    let again = instance(&db, s.mail.path());
    let (a, b) = tokio::join!(s.letters.send_due(), again.send_due());
    assert_eq!(a.unwrap() + b.unwrap(), 1, "after it: once");
    assert_eq!(s.letters.send_due().await.unwrap(), 0);
    assert_eq!(mails(s.mail.path()).len(), 1);
}

#[tokio::test]
async fn a_letter_claimed_by_a_worker_that_died_is_sent_once_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    a_letter_claimed_by_a_worker_that_died_is_sent_once(db).await;
}

#[tokio::test]
async fn a_letter_claimed_by_a_worker_that_died_is_sent_once_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    a_letter_claimed_by_a_worker_that_died_is_sent_once(db).await;
}

async fn partner_letters_in_the_partners_language(db: Db) {
    let s = setup(db.clone()).await;
    let mut swedish = partner("FI-ABO", "Åbo Akademis bibliotek");
    swedish.language = Some("sv".into());
    s.local.create_partner(swedish).await.unwrap();
    s.local
        .create_partner(partner("FI-TUNI", "Tampereen yliopisto"))
        .await
        .unwrap();
    let request = |code: &str| NewLendingRequest {
        external_id: unique("lend"),
        partner_code: code.into(),
        requester: RequesterContact {
            library_name: "Kirjasto".into(),
            contact_name: None,
            email: format!("ill@{}.example.org", code.to_lowercase()),
        },
        citation: Citation {
            kind: Some(CitationType::Book),
            title: "Fänrik Ståls sägner".into(),
            ..Default::default()
        },
        service: ServiceType::Loan,
        delivery_address: None,
        max_cost: None,
        needed_by: None,
        note: None,
    };
    let l = Side::Lending;
    for code in ["FI-ABO", "FI-TUNI"] {
        let r = s.local.create_lending_request(request(code)).await.unwrap();
        // The confirmation is written when Kauko accepts the request.
        let new = request(code);
        assert!(s
            .letters
            .lending_received(&new, "K7M2-XQ9D", &r.id)
            .await
            .unwrap());
        assert!(
            !s.letters
                .lending_received(&new, "K7M2-XQ9D", &r.id)
                .await
                .unwrap(),
            "once"
        );
        step(&s.desk, l, &r.id, "accept", |_| {}).await;
        step(&s.desk, l, &r.id, "ship", |i| {
            i.due_date = Some(Utc::now().date_naive() + Duration::days(30))
        })
        .await;
    }
    s.letters.plan().await.unwrap();
    assert_eq!(s.letters.send_due().await.unwrap(), 6);
    let sent = mails(s.mail.path());
    let to = |who: &str| sent.iter().filter(|m| m.0 == who).collect::<Vec<_>>();
    let abo = to("ill@fi-abo.example.org");
    assert_eq!(abo.len(), 3);
    assert!(abo
        .iter()
        .all(|m| !m.2.contains("Hyvä vastaanottaja") && m.2.contains("Bästa kollega")));
    assert!(abo
        .iter()
        .any(|m| m.1 == "Lånebeställningen har tagits emot: K7M2-XQ9D"));
    let tuni = to("ill@fi-tuni.example.org");
    assert_eq!(tuni.len(), 3);
    assert!(
        tuni.iter()
            .all(|m| m.2.contains("Hyvä vastaanottaja") && m.2.contains("Dear colleague")),
        "bilingual"
    );
    assert!(tuni
        .iter()
        .any(|m| m.1.starts_with("Toimitamme pyyntönne: ")
            && m.1.contains(" / We will supply your request: ")));
    assert!(tuni
        .iter()
        .any(|m| m.2.contains("Eräpäivä:") && m.2.contains("Due date:")));
}

#[tokio::test]
async fn partner_letters_in_the_partners_language_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    partner_letters_in_the_partners_language(db).await;
}

#[tokio::test]
async fn partner_letters_in_the_partners_language_on_postgres() {
    let Some(db) = support::postgres_db().await else {
        return;
    };
    partner_letters_in_the_partners_language(db).await;
}

/// Every letter in every language, rendered with the sample values,
/// against `tests/golden/letters/{lang}.txt` (both parts).
/// `KAUKO_UPDATE_GOLDEN=1` writes the files anew.
#[test]
fn golden_renderings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/letters");
    for lang in Lang::ALL {
        let mut out = String::new();
        for kind in LetterKind::ALL {
            let r = templates::render(
                kind,
                &templates::default_text(kind, lang),
                &templates::sample_values(kind, lang),
            )
            .unwrap();
            out.push_str(&format!(
                "=== {} ===\nSubject: {}\n--- text ---\n{}--- html ---\n{}\n\n",
                kind.code(),
                r.subject,
                r.text,
                r.html
            ));
        }
        let path = dir.join(format!("{}.txt", lang.code()));
        if std::env::var("KAUKO_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out).unwrap();
        }
        let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (KAUKO_UPDATE_GOLDEN=1 writes it)", path.display())
        });
        assert_eq!(out, golden, "{} differs", path.display());
    }
}

#[test]
fn a_template_error_names_its_line() {
    let e = templates::validate(
        LetterKind::PatronCancelled,
        &TemplateText {
            subject: "Peruttu".into(),
            body: "Hei\n\n{% if reason %}Syy: {{ reason }}\n".into(),
        },
    )
    .unwrap_err();
    assert_eq!(e.key, "letters.error.syntax");
    assert!(e.line.is_some());
}
