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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    if let Command::Check = command {
        println!(
            "kauko: configuration and database are fine (backend: {})",
            state.port.name()
        );
        return ExitCode::SUCCESS;
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
