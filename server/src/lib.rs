//! Kauko's server: configuration, storage, the resource-sharing port with
//! its adapters, and the HTTP service around the Leptos app.

pub mod adapters;
pub mod alma_sim;
pub mod auth;
pub mod citation;
pub mod config;
pub mod desk;
pub mod fees;
pub mod fuzz;
pub mod history;
pub mod iso18626;
pub mod letters;
pub mod mail;
pub mod outbox;
pub mod partner_directory;
pub mod partners_import;
pub mod port;
pub mod primo;
pub mod seed;
pub mod stats;
pub mod storage;
pub mod telemetry;
pub mod web;

use std::sync::Arc;

use config::{BackendKind, Config, ConfigError};

/// Opens the database (migrating it), builds the configured adapter and,
/// when asked, seeds demo data: everything the HTTP service needs.
pub async fn build_state(config: Config) -> Result<web::AppState, ConfigError> {
    let db = storage::Db::open(&config.database).await?;
    let adapters::Built { port, alma } = adapters::build(&config, &db)?;
    if config.demo.seed {
        if config.backend.kind != BackendKind::Local {
            return Err(ConfigError::new(
                "demo.seed",
                "demo data can only be seeded with backend.kind = \"local\"",
            ));
        }
        let local = adapters::local::LocalBackend::new(
            db.clone(),
            adapters::local::LocalRules::from_config(&config),
        );
        match seed::seed_demo(&local).await {
            Ok(s) if s == seed::Seeded::default() => {
                tracing::info!("demo data: database already has data, not seeding")
            }
            Ok(s) => tracing::info!(
                partners = s.partners,
                requests = s.requests,
                loans = s.loans,
                "demo data seeded"
            ),
            Err(e) => {
                return Err(ConfigError::new(
                    "demo.seed",
                    format!("seeding demo data failed: {e}"),
                ))
            }
        }
    }
    // The desk moves requests on Kauko's own database; on Alma, Alma is
    // the desk.
    let desk: Option<Arc<dyn app::desk::StaffDesk>> = (config.backend.kind == BackendKind::Local)
        .then(|| Arc::new(desk::LocalDesk::new(db.clone())) as Arc<dyn app::desk::StaffDesk>);
    let history: Arc<dyn app::api::my::RequestHistory> =
        Arc::new(history::HistoryLog::new(db.clone()));
    // Statistics read the requests' histories in Kauko's database.
    let stats = stats::source(&db);
    let leptos_options = web::leptos_options(&config);
    let auth = auth::Auth::from_config(&config, &db);
    let lookup: Arc<dyn app::lookup::CitationLookup> =
        Arc::new(citation::Lookup::from_config(&config, &db));
    let outbox = outbox::Outbox::new(
        db.clone(),
        port.clone(),
        outbox::OutboxSettings::from_config(&config),
    );
    let mailer = mail::Mailer::from_config(&config)?;
    let config_lookups_per_minute = config.lookup.max_lookups_per_minute;
    // Letters: written from the history, sent through the mailer; the
    // lending confirmation is one of them.
    let letters = letters::Letters::new(db.clone(), mailer.clone(), &config);
    outbox.set_lending_mail(letters.clone());
    // Fees: priced from the history, invoiced by staff.
    if let Err(e) = fees::export::check_profile(&config.fees) {
        return Err(ConfigError::new("fees.sap_columns", e));
    }
    let fees = fees::Fees::new(db.clone(), &config);
    let partners = Arc::new(partner_directory::PartnerDirectory::new(
        port.clone(),
        std::time::Duration::from_secs(config.lending.partner_cache_seconds),
    ));
    let iso18626 = iso18626::send::Sender::new(
        db.clone(),
        iso18626::send::SendSettings::from_config(&config),
    );
    Ok(web::AppState {
        alma,
        iso18626,
        mailer,
        letters,
        fees,
        config: Arc::new(config),
        db,
        port,
        outbox,
        lookup,
        auth,
        leptos_options,
        readiness: Default::default(),
        partners,
        desk,
        history,
        stats,
        lookup_limiter: Arc::new(web::client::ClientLimiter::per_minute(
            config_lookups_per_minute,
            "citation look-ups",
        )),
    })
}
