//! The `kauko` command: serves Kauko, or checks its configuration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use server::config::Config;

#[derive(Parser)]
#[command(name = "kauko", version, about = "Kauko interlibrary loan portal")]
struct Cli {
    /// Configuration file (missing is fine unless named explicitly).
    #[arg(long, env = "KAUKO_CONFIG", default_value = "kauko.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Kauko (the default).
    Serve,
    /// Check the configuration and the database, migrate it, and exit.
    Check,
    /// Resource-sharing partners.
    Partners {
        #[command(subcommand)]
        command: PartnersCommand,
    },
    /// Run a simulator of the Alma REST API (for tests and demos; needs no
    /// Kauko configuration or database).
    AlmaSim(AlmaSimArgs),
}

#[derive(clap::Args)]
struct AlmaSimArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 3940)]
    port: u16,
    /// Accepted API key (repeat for several).
    #[arg(long = "api-key", default_value = "sim-key")]
    api_keys: Vec<String>,
    /// Calls allowed per second before 429 PER_SECOND_THRESHOLD.
    #[arg(long, default_value_t = 25)]
    threshold: u32,
    /// Daily API budget (X-Exl-Api-Remaining).
    #[arg(long, default_value_t = 100_000)]
    daily_budget: u64,
    /// Move each borrowing request one workflow step every N seconds.
    #[arg(long, value_name = "N")]
    progress_seconds: Option<f64>,
    /// Delay before a create answers (the request is stored first).
    #[arg(long, value_name = "N", default_value_t = 0)]
    create_delay_ms: u64,
    /// Only known users exist (the demo patrons, users added over /sim).
    #[arg(long)]
    strict_users: bool,
    /// A title the institution holds: requests for it get 401604.
    #[arg(long = "inventory-title", value_name = "TITLE")]
    inventory_titles: Vec<String>,
    /// Seed the demo patrons' requests, loans and three partners.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum PartnersCommand {
    /// Import partners from Alma library-type users and the legacy ILL
    /// system's CSV export. A dry run unless --apply is given.
    Import(ImportArgs),
    /// How Kauko speaks ISO 18626 with a partner whose record says
    /// ISO 18626: its dialect and the secret it must send.
    Iso18626(Iso18626Args),
}

#[derive(clap::Args)]
struct Iso18626Args {
    /// The partner's code.
    code: String,
    /// `1.2` (the v1.2 schema) or `alma` (the 2014 v1.1 dialect Alma speaks).
    #[arg(long, default_value = "1.2")]
    dialect: String,
    /// The name of an environment variable holding the shared secret the
    /// partner sends (and Kauko sends it); without it, none.
    #[arg(long, value_name = "VAR")]
    secret_from_env: Option<String>,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// Alma users API output (JSON or XML) with the library-type users.
    #[arg(long, value_name = "FILE")]
    alma_users: Option<PathBuf>,
    /// The legacy ILL system's CSV export (columns: see the README).
    #[arg(long, value_name = "FILE")]
    legacy: Option<PathBuf>,
    /// Encoding of the legacy CSV: auto, utf8 or latin1.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Delimiter of the legacy CSV: ';', ',', tab or auto.
    #[arg(long, default_value = "auto")]
    delimiter: String,
    /// Write the changes (without it, only report what would change).
    #[arg(long)]
    apply: bool,
    /// Also write the report as CSV to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

async fn iso18626_peer(db: &server::storage::Db, args: Iso18626Args) -> ExitCode {
    use server::iso18626::{dialect::Dialect, store};
    let Some(dialect) = Dialect::from_code(&args.dialect) else {
        eprintln!(
            "kauko: --dialect must be 1.2 or alma, not {:?}",
            args.dialect
        );
        return ExitCode::from(2);
    };
    let secret = match &args.secret_from_env {
        Some(var) => match std::env::var(var) {
            Ok(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => {
                eprintln!("kauko: the environment variable {var} holds no secret");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    match store::peer_by_code(db, &args.code).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            eprintln!(
                "kauko: partner {} does not exist or its record does not say ISO 18626",
                args.code
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("kauko: {e}");
            return ExitCode::FAILURE;
        }
    }
    match store::set_peer(db, &args.code, dialect, secret.as_deref()).await {
        Ok(()) => {
            println!(
                "kauko: partner {} speaks ISO 18626 {} {}",
                args.code,
                dialect.code(),
                if secret.is_some() {
                    "with a shared secret"
                } else {
                    "without a secret"
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kauko: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::AlmaSim(args)) = cli.command {
        return alma_sim(args);
    }
    let explicit = std::env::var_os("KAUKO_CONFIG").is_some()
        || std::env::args().any(|a| a == "--config" || a.starts_with("--config="));
    let config = match Config::load(&cli.config, explicit, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kauko: {e}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(config.server.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kauko: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config, cli.command.unwrap_or(Command::Serve)))
}

async fn run(config: Config, command: Command) -> ExitCode {
    let bind = config.server.bind;
    let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
    let public_url = config.public_url();
    let state = match server::build_state(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kauko: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Check => {
            println!(
                "kauko: configuration and database are fine (backend: {})",
                state.port.name()
            );
            return ExitCode::SUCCESS;
        }
        Command::Partners {
            command: PartnersCommand::Import(args),
        } => return import_partners(state.port.as_ref(), args).await,
        Command::Partners {
            command: PartnersCommand::Iso18626(args),
        } => return iso18626_peer(&state.db, args).await,
        Command::Serve => {}
        Command::AlmaSim(_) => unreachable!("handled before the configuration is loaded"),
    }
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kauko: configuration error: server.bind (KAUKO_SERVER_BIND): cannot listen on {bind}: {e}");
            return ExitCode::from(2);
        }
    };
    let backend = state.port.name();
    let sessions = state.auth.sessions.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = sessions.purge_expired().await {
                tracing::warn!(error = %e, "could not purge expired sessions");
            }
        }
    });
    let _worker = state.outbox.spawn_worker();
    let _letters = state.letters.spawn_worker();
    let _fees = state.fees.spawn_worker();
    let _iso18626 = state.iso18626.spawn_worker();
    let _alma_sync = state.alma.clone().and_then(|alma| alma.spawn_sync());
    let app = server::web::router(state);
    tracing::info!(%bind, backend, "listening");
    println!("Kauko is running at {public_url}");
    match server::web::serve(listener, app, server::web::shutdown_signal(), grace).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kauko: server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `kauko alma-sim`: serves the Alma simulator until SIGINT/SIGTERM.
fn alma_sim(args: AlmaSimArgs) -> ExitCode {
    use server::alma_sim::{demo, AlmaSim, SimConfig};

    server::telemetry::init(server::config::LogFormat::Text);
    let progress_every = match args.progress_seconds {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            eprintln!("kauko: --progress-seconds must be a positive number, not {s}");
            return ExitCode::from(2);
        }
    };
    let config = SimConfig {
        api_keys: args.api_keys,
        threshold_per_second: args.threshold,
        daily_budget: args.daily_budget,
        create_delay: Duration::from_millis(args.create_delay_ms),
        progress_every,
        strict_users: args.strict_users,
        inventory_titles: args.inventory_titles,
        ..SimConfig::default()
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kauko: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let key = config.api_keys.first().cloned().unwrap_or_default();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
        let sim = match AlmaSim::start_on(addr, config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("kauko: the Alma simulator cannot listen on {addr}: {e}");
                return ExitCode::from(2);
            }
        };
        if args.demo {
            let seeded = demo::seed(&sim.state);
            println!(
                "Demo data: {} RS requests and {} loans for {}; partners {}",
                seeded.rs_requests.len(),
                seeded.loans.len(),
                demo::PATRONS.join(", "),
                seeded.partners.join(", ")
            );
        }
        println!("Alma simulator at {} (API key: {key})", sim.base_url);
        println!(
            "  API: {}/almaws/v1/...   back office: {}/sim/state",
            sim.base_url, sim.base_url
        );
        server::web::shutdown_signal().await;
        sim.stop().await;
        ExitCode::SUCCESS
    })
}

/// `kauko partners import`: runs the import, prints progress (stderr) and a
/// summary (stdout), and writes the CSV report when asked.
async fn import_partners(port: &dyn server::port::ResourceSharing, args: ImportArgs) -> ExitCode {
    use server::partners_import::{self as import, sources::legacy_csv};
    use std::io::Write;

    let usage = |message: String| {
        eprintln!("kauko: {message}");
        ExitCode::from(2)
    };
    let encoding: legacy_csv::Encoding = match args.encoding.parse() {
        Ok(e) => e,
        Err(e) => return usage(format!("--encoding: {e}")),
    };
    let delimiter = match legacy_csv::parse_delimiter(args.delimiter.trim_matches('\'')) {
        Ok(d) => d,
        Err(e) => return usage(format!("--delimiter: {e}")),
    };
    if args.alma_users.is_none() && args.legacy.is_none() {
        return usage("give --alma-users FILE, --legacy FILE or both".into());
    }
    let read = |path: &Option<PathBuf>| -> Result<Option<Vec<u8>>, String> {
        path.as_ref()
            .map(|p| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display())))
            .transpose()
    };
    let input = match (read(&args.alma_users), read(&args.legacy)) {
        (Ok(alma), Ok(legacy)) => import::ImportInput { alma, legacy },
        (Err(e), _) | (_, Err(e)) => return usage(e),
    };
    let options = import::ImportOptions {
        encoding,
        delimiter,
        apply: args.apply,
        calls_per_second: import::ImportOptions::pace_for(port),
        ..import::ImportOptions::default()
    };
    let last = std::sync::Mutex::new((app::staff_import::ImportPhase::Done, u64::MAX));
    let progress = |p: import::Progress| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        // One line per phase, and every 10 % while applying.
        let step = (p.total / 10).max(1);
        let new_phase = last.0 != p.phase;
        if new_phase || p.done == p.total || p.done / step != last.1 / step {
            if p.phase != app::staff_import::ImportPhase::Done {
                eprintln!("{:?}: {}/{}", p.phase, p.done, p.total);
            }
            *last = (p.phase, p.done);
        }
    };
    let report = match import::run(port, &input, &options, &progress).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kauko: partner import failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = &report.counts;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Partner import ({}): {} Alma records, {} legacy rows{}",
        if report.applied { "applied" } else { "dry run" },
        c.alma_records,
        c.legacy_rows,
        match (&report.encoding, &report.delimiter) {
            (Some(e), Some(d)) => format!(" (legacy CSV: {e}, delimiter {d})"),
            _ => String::new(),
        }
    );
    for (label, n) in [
        ("created", c.created),
        ("updated", c.updated),
        ("unchanged", c.unchanged),
        ("conflicts", c.conflicts),
        ("rejected", c.rejected),
        ("failed", c.failed),
        ("merged", c.merged),
    ] {
        let _ = writeln!(out, "  {label:<10} {n}");
    }
    if !report.applied {
        let _ = writeln!(out, "Nothing was written; run again with --apply to apply.");
    }
    if let Some(path) = &args.report {
        if let Err(e) = std::fs::write(path, import::report::to_csv(&report)) {
            eprintln!("kauko: cannot write the report to {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        let _ = writeln!(out, "Report: {}", path.display());
    }
    if c.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
