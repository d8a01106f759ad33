//! The HTTP service: the Leptos app with its server functions, health
//! checks, static files, and the layers every request passes through.

pub mod assets;
pub mod catalog;
pub mod citation_api;
pub mod client;
pub mod health;
pub mod layers;

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;

use app::lookup::CitationLookup;

use crate::config::Config;
use crate::port::ResourceSharing;
use crate::storage::Db;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub port: Arc<dyn ResourceSharing>,
    /// The Alma adapter when it is the port; its mirror's background sync
    /// is started with `alma.spawn_sync()`.
    pub alma: Option<Arc<crate::adapters::alma::AlmaBackend>>,
    /// Submissions on their way to the library system; its worker is
    /// started with `outbox.spawn_worker()`.
    pub outbox: Arc<crate::outbox::Outbox>,
    /// Outgoing mail (SMTP, or the mail folder).
    pub mailer: Arc<crate::mail::Mailer>,
    /// Letters to patrons and partners; its worker is started with
    /// `letters.spawn_worker()`.
    pub letters: Arc<crate::letters::Letters>,
    /// Fees and invoices; its worker is started with `fees.spawn_worker()`.
    pub fees: Arc<crate::fees::Fees>,
    /// Citation lookup (Crossref, DataCite, PubMed, Open Library, Unpaywall).
    pub lookup: Arc<dyn CitationLookup>,
    pub auth: crate::auth::Auth,
    pub leptos_options: LeptosOptions,
    /// The last backend check `/readyz` made (asked at most every 10 s).
    pub readiness: Arc<health::Readiness>,
    /// Kauko's copy of the partner list, for the public lending form.
    pub partners: Arc<crate::partner_directory::PartnerDirectory>,
    /// Citation look-ups per client and minute (the API and the forms).
    pub lookup_limiter: Arc<dyn app::api::lend::SubmitLimiter>,
    /// The staff desk (the local backend only).
    pub desk: Option<Arc<dyn app::desk::StaffDesk>>,
    /// Requests' histories, for the patron's request page.
    pub history: Arc<dyn app::api::my::RequestHistory>,
    /// The figures of the statistics page.
    pub stats: Arc<dyn app::stats::StatisticsSource>,
    /// ISO 18626 messages to partners; its worker is started with
    /// `iso18626.spawn_worker()`.
    pub iso18626: Arc<crate::iso18626::send::Sender>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Leptos's options from Kauko's configuration (rather than from
/// cargo-leptos's environment, so the binary runs on its own).
pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("kauko")
        .site_root(config.server.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(config.server.bind)
        // Content-hashed file names when the build made them (hash.txt
        // beside the executable; see assets.rs).
        .hash_files(app::hydration::names_are_hashed())
        .build()
}

/// The whole application as an axum router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let site = state.config.site_info();
    let site_for_errors = site.clone();
    let port = state.port.clone();
    let rules = state.config.request_rules();
    let lookup = state.lookup.clone();
    let importer: Arc<dyn app::staff_import::PartnerImportService> = Arc::new(
        crate::partners_import::jobs::ImportJobs::new(state.port.clone())
            .with_partner_directory(state.partners.clone()),
    );
    let outbox: Arc<dyn app::outbox::SubmissionOutbox> = state.outbox.clone();
    let mail_log: Arc<dyn app::api::mail::MailLog> = state.mailer.clone();
    let partner_lookup: Arc<dyn app::api::lend::PartnerLookup> = state.partners.clone();
    let limiter: Arc<dyn app::api::lend::SubmitLimiter> =
        Arc::new(client::ClientLimiter::new(&state.config.lending));
    let lookup_limit = app::api::form::LookupLimit(state.lookup_limiter.clone());
    let trusted_proxies = state.config.lending.proxy_hops();
    let desk = state.desk.clone();
    let history = state.history.clone();
    let stats = state.stats.clone();
    let letters: Arc<dyn app::letters::LetterOffice> = state.letters.clone();
    let fees: Arc<dyn app::fees::FeeOffice> = state.fees.clone();
    let context = move || {
        provide_context(fees.clone());
        provide_context(stats.clone());
        provide_context(letters.clone());
        if let Some(desk) = &desk {
            provide_context(desk.clone());
        }
        provide_context(history.clone());
        provide_context(limiter.clone());
        provide_context(mail_log.clone());
        provide_context(partner_lookup.clone());
        provide_context(lookup_limit.clone());
        provide_context(site.clone());
        provide_context(port.clone());
        provide_context(outbox.clone());
        provide_context(rules.clone());
        provide_context(lookup.clone());
        provide_context(importer.clone());
    };
    let shell_options = state.leptos_options.clone();
    let cookies = state.auth.cookies;
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/api/v1/citation",
            get(citation_api::citation).options(citation_api::preflight),
        )
        .route("/api/v1/openapi.yaml", get(citation_api::openapi))
        .route("/i18n/{file}", get(catalog::catalog))
        // The front end's files, with conditional requests (a browser that
        // has them gets a 304 without a body): the copy the release build
        // compressed at its best (`pkg-precompressed`, brotli or gzip, see
        // scripts/precompress.mjs) when there is one the browser accepts,
        // else the file itself, compressed on the way out by the
        // compression layer.
        .nest_service("/pkg", assets::service(&state.config.server.site_root))
        // A copy sent as a file: staff upload it, the requesting library
        // downloads it (see desk/copies.rs).
        .route(
            "/staff/lending/{id}/copy",
            axum::routing::post(crate::desk::copies::upload).layer(
                axum::extract::DefaultBodyLimit::max(
                    state
                        .config
                        .lending
                        .copy_max_bytes()
                        .saturating_add(64 * 1024),
                ),
            ),
        )
        .route("/copies/{token}", get(crate::desk::copies::download))
        .route("/staff/statistics/{side}/{file}", get(crate::stats::csv))
        // The fee files: the SAP intake file, Finvoice, the printable invoice.
        .route(
            "/staff/fees/runs/{id}/{file}",
            get(crate::fees::http::run_file),
        )
        .route(
            "/staff/fees/invoices/{id}/{file}",
            get(crate::fees::http::invoice_file),
        )
        // Yearly figures from Alma Analytics (see stats/import.rs).
        .route(
            "/staff/statistics/import",
            axum::routing::post(crate::stats::import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(10 * 1024 * 1024)),
        )
        .route(
            "/staff/statistics/import-alma",
            axum::routing::post(crate::stats::import::from_alma),
        )
        // Kauko inside Primo: the widget bundle, the button's entry and the
        // status widget's endpoint, with their own CORS (primo/).
        .merge(crate::primo::router(&state))
        // ISO 18626 messages from partner libraries (iso18626/).
        .route(
            crate::iso18626::PATH,
            axum::routing::post(crate::iso18626::endpoint),
        )
        .route("/auth/login", get(crate::auth::routes::login))
        .route("/auth/callback", get(crate::auth::routes::callback))
        .route(
            "/auth/logout",
            axum::routing::post(crate::auth::routes::logout),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            app::shell(shell_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::guard::guard,
        ))
        .layer(axum::middleware::from_fn(move |req, next| {
            client::client_addr(trusted_proxies, req, next)
        }));
    layers::apply(router, cookies, &site_for_errors)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish
/// (for at most `grace`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // Pages are streamed in parts (Leptos' server rendering): without
    // TCP_NODELAY, Nagle's algorithm holds a small last part back until the
    // browser acknowledges the one before, which it delays (up to 40 ms).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
        }
    });
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = tx.send(());
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => result,
        _ = async { let _ = rx.await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still in flight after the grace period; stopping anyway");
            Ok(())
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
