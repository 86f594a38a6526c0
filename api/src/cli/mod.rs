//! The `cms` command line: `serve` (the default), `migrate`, `token`, `hostel` administration and
//! `projections` (status and rebuild of the read models), `projector` (the projectors alone),
//! `relay` (the log -> JetStream relay alone), `audit` (seal, verify, export), `worker thumbnails`
//! and `photos sweep`.
//!
//! Every subcommand takes the same settings (flags or `CMS_*` variables, see docs/configuration.md).
//! This file holds the parser and the dispatch; each subcommand (or small family) has its own file.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, Settings};

mod audit;
mod hostel;
mod migrate;
mod photos;
mod projections;
mod relay;
mod serve;
mod token;
mod worker;

use audit::AuditCommand;
use photos::PhotosCommand;
use serve::ServeArgs;
use token::TokenArgs;
use worker::WorkerCommand;

/// CMS: event-sourced hostel maintenance complaints.
#[derive(Debug, Parser)]
#[command(
    name = "cms",
    version,
    about = "CMS: event-sourced hostel maintenance complaints"
)]
pub struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (the default). Creates and migrates the database first.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Mint a JWT with the configured key (development secret, or a private key you provide).
    Token(TokenArgs),
    /// Hostel administration: register hostels, manage categories and staff.
    #[command(subcommand)]
    Hostel(crate::admin::HostelAdmin),
    /// Run only the projectors (for deployments that separate them from the API) until SIGTERM.
    Projector,
    /// Run only the relay (log -> JetStream, needs CMS_NATS_URL) until SIGTERM. Several may run:
    /// one leads (PostgreSQL advisory lock), the others stand by.
    Relay,
    /// Read models: their status, and rebuilding them from the log.
    #[command(subcommand)]
    Projections(crate::projections::ProjectionsCommand),
    /// Audit the log: verify the hash chain and the signed checkpoints.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Background workers.
    #[command(subcommand)]
    Worker(WorkerCommand),
    /// Photo maintenance.
    #[command(subcommand)]
    Photos(PhotosCommand),
}

/// Runs the command line; the exit code reports success.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.settings);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve::run(&settings, args).await,
        Command::Migrate => migrate::run(&settings).await,
        Command::Token(args) => token::run(&settings, args),
        Command::Hostel(command) => hostel::run(&settings, command).await,
        Command::Projector => projections::run_projector(&settings).await,
        Command::Relay => relay::run(&settings).await,
        Command::Projections(command) => projections::run(&settings, command).await,
        Command::Audit(command) => audit::run(&settings, command).await,
        Command::Photos(command) => photos::run(&settings, command).await,
        Command::Worker(command) => worker::run(&settings, command).await,
    }
}

fn init_tracing(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if settings.telemetry.log_format == LogFormat::Json {
        builder.json().init();
    } else {
        builder.init();
    }
}
