//! The `cms` command line: `serve` (the default), `migrate`, `token`, `hostel` administration and
//! `projections` (status and rebuild of the read models), `projector` (the projectors alone),
//! `relay` (the log -> JetStream relay alone), `audit` (seal, verify, export) and `worker thumbnails`.
//!
//! Every subcommand takes the same settings (flags or `CMS_*` variables, see docs/configuration.md).

use std::future::IntoFuture;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use cms_domain::actor::Role;

use crate::app::{self, Limits};
use crate::audit::{self, Sealer};
use crate::auth::TokenSpec;
use crate::commands::executor::Executor;
use crate::config::{DatabaseTarget, LogFormat, Settings};
use crate::objects::{ObjectStore, S3Store};
use crate::photos::jobs::LogPhotoJobs;
use crate::photos::worker::{self, Thumbnailer};
use crate::reads::Reads;
use crate::state::AppState;
use crate::{admin, demo, projections};
use cms_eventstore::store::EventStore;

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
    Hostel(admin::HostelAdmin),
    /// Run only the projectors (for deployments that separate them from the API) until SIGTERM.
    Projector,
    /// Run only the relay (log -> JetStream, needs CMS_NATS_URL) until SIGTERM. Several may run:
    /// one leads (PostgreSQL advisory lock), the others stand by.
    Relay,
    /// Read models: their status, and rebuilding them from the log.
    #[command(subcommand)]
    Projections(projections::ProjectionsCommand),
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

#[derive(Debug, Subcommand)]
enum PhotosCommand {
    /// Delete the objects of uploads no complaint attached (presigned uploads never completed or
    /// refused, multipart uploads whose command failed) once they are older than the grace period.
    /// Attached photos are never touched. Run it daily (cron, a Kubernetes CronJob).
    Sweep {
        /// Keep unattached uploads younger than this many hours (at least 2).
        #[arg(long, default_value_t = 24)]
        older_than_hours: u64,
        /// Only count what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum WorkerCommand {
    /// Render thumbnails of attached photos until SIGTERM (set CMS_SERVE_THUMBNAILS=false on the
    /// API instances when this runs separately; several workers may run at once).
    Thumbnails,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Seal what is not sealed yet, then exit (the server does this continuously).
    Seal,
    /// Recompute the chain from the log and check it against the stored chain and every checkpoint.
    /// Exits non-zero on damage, naming the first bad position and the kind of damage.
    Verify {
        /// Start at this position (the chain row before it is trusted).
        #[arg(long, default_value_t = 1)]
        from: i64,
    },
    /// Write events, chain hashes and checkpoints to stdout as NDJSON (docs/audit-format.md).
    Export {
        /// Start at this position.
        #[arg(long, default_value_t = 1)]
        from: i64,
    },
}

#[derive(Debug, Default, Args)]
struct ServeArgs {
    /// Seed a demo hostel, staff and complaints in several states (only into an empty database).
    #[arg(long)]
    demo: bool,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// The role: resident, staff, warden, admin, auditor or service.
    #[arg(long)]
    role: Role,
    /// The subject (user id).
    #[arg(long)]
    sub: String,
    /// A hostel the token is scoped to (repeat for several; `*` for all, admin and auditor only).
    #[arg(long = "hostel")]
    hostels: Vec<String>,
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl_secs: u64,
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
        Command::Serve(args) => serve(&settings, args).await,
        Command::Migrate => {
            let store = open_store(&settings).await?;
            store.migrate().await.context("migrating the database")?;
            println!("migrations applied ({})", store.backend());
            Ok(())
        }
        Command::Token(args) => {
            let minter = settings.jwt.token_minter(&settings.data_dir)?;
            let token = minter.mint(&TokenSpec {
                sub: args.sub,
                role: args.role,
                hostels: args.hostels,
                name: args.name,
                ttl: Duration::from_secs(args.ttl_secs),
            })?;
            println!("{token}");
            Ok(())
        }
        Command::Hostel(command) => {
            let store = open_store(&settings).await?;
            store.migrate().await.context("migrating the database")?;
            admin::run(&Executor::new(store), command).await
        }
        Command::Projector => {
            let store = open_store(&settings).await?;
            store.migrate().await.context("migrating the database")?;
            let db = store.db().clone();
            let projectors = cms_projections::runner::spawn(
                &db,
                cms_projections::runner::RunnerConfig::for_db(&db),
            );
            println!(
                "CMS projectors running ({} event store); stop with SIGTERM or Ctrl-C",
                store.backend()
            );
            // The projection, pool and process metrics of a projector-only instance.
            if let Some(addr) = settings.telemetry.metrics_addr {
                let server = crate::metrics::MetricsServer::bind(addr, crate::metrics::install()?)
                    .await
                    .with_context(|| format!("binding the metrics listener {addr}"))?;
                println!("  metrics:    http://{}/metrics", server.local_addr()?);
                let reads = Arc::new(Reads::primary_only(db.clone()));
                tokio::spawn(crate::metrics::sampler::run(store.clone(), reads));
                tokio::spawn(server.serve(std::future::pending()));
            }
            shutdown_signal().await;
            projectors.shutdown(settings.http.shutdown_timeout()).await;
            Ok(())
        }
        Command::Relay => {
            let Some(nats) = settings.nats.config() else {
                anyhow::bail!(
                    "cms relay publishes to JetStream and needs CMS_NATS_URL; without it the \
                     in-process bus lives inside cms serve, which runs its own relay"
                );
            };
            let store = open_store(&settings).await?;
            store.migrate().await.context("migrating the database")?;
            let bus = crate::fanout::Bus::nats(nats)
                .await
                .context("connecting to NATS")?;
            let relay = crate::fanout::Relay::new(
                store.clone(),
                bus,
                crate::fanout::RelayConfig::default(),
            )
            .spawn();
            println!(
                "CMS relay running ({} event store -> JetStream); stop with SIGTERM or Ctrl-C",
                store.backend()
            );
            shutdown_signal().await;
            drop(relay);
            Ok(())
        }
        Command::Projections(command) => {
            let store = open_store(&settings).await?;
            store.migrate().await.context("migrating the database")?;
            projections::run(&store.db().clone(), command).await
        }
        Command::Audit(command) => audit(&settings, command).await,
        Command::Photos(PhotosCommand::Sweep {
            older_than_hours,
            dry_run,
        }) => {
            let store = open_store(&settings).await?;
            store.migrate().await.context("migrating the database")?;
            let executor = Executor::new(store);
            let objects = open_objects(&settings).await?;
            let grace = Duration::from_secs(older_than_hours.saturating_mul(3600));
            let report =
                crate::photos::sweep::sweep(&executor, objects.as_ref(), grace, dry_run).await?;
            let verb = if dry_run { "would delete" } else { "deleted" };
            println!(
                "photo folders: {} ({} attached, {} unattached but recent, {} orphaned); {verb} {} objects{}",
                report.folders,
                report.attached,
                report.recent,
                report.orphaned,
                if dry_run { report.orphaned_objects } else { report.deleted },
                if report.unrecognised > 0 {
                    format!("; {} objects under photos/ with unrecognised keys left alone", report.unrecognised)
                } else {
                    String::new()
                }
            );
            if report.rendered_unknown > 0 {
                println!(
                    "{} folders hold renditions of photos the log does not attach (a database restored \
                     from an older backup?): left alone, check them by hand",
                    report.rendered_unknown
                );
            }
            Ok(())
        }
        Command::Worker(WorkerCommand::Thumbnails) => {
            let store = open_store(&settings).await?;
            store.migrate().await.context("migrating the database")?;
            let executor = Arc::new(Executor::new(store));
            let objects = open_objects(&settings).await?;
            let bus = match settings.nats.config() {
                Some(config) => {
                    let bus = crate::fanout::Bus::nats(config)
                        .await
                        .context("connecting to NATS")?;
                    bus.ensure().await.context("checking stream CMS_EVENTS")?;
                    Some(bus)
                }
                None => None,
            };
            let worker =
                spawn_thumbnail_worker(&settings, &executor, &objects, bus.as_ref()).await?;
            println!(
                "CMS thumbnail worker running ({} event store, {objects:?}); stop with SIGTERM or Ctrl-C",
                executor.store().backend()
            );
            shutdown_signal().await;
            worker.abort();
            Ok(())
        }
    }
}

async fn audit(settings: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    let signer = settings.audit.signer(&settings.data_dir)?;
    match command {
        AuditCommand::Seal => {
            let sealer = Sealer::new(store, signer, settings.audit.checkpoint_policy())
                .with_objects(settings.s3.object_store(&settings.data_dir)?);
            let copied = sealer.copy_out_all().await?;
            let head = sealer.seal_pending().await?;
            println!("sealed up to position {head}");
            if copied > 0 {
                println!("copied {copied} older checkpoints to the object store");
            }
            Ok(())
        }
        AuditCommand::Export { from } => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            let written = audit::export(&store, &signer.public_key_bytes(), from, &mut out).await?;
            eprintln!("exported {written} events");
            Ok(())
        }
        AuditCommand::Verify { from } => {
            let started = std::time::Instant::now();
            let objects = settings.s3.object_store(&settings.data_dir)?;
            let mut bar = crate::progress::Progress::new("verifying");
            let report = audit::verify_with_copies(
                &store,
                Some(objects.as_ref()),
                &signer.public_key_bytes(),
                from,
                |at, of| bar.update(at, of),
            )
            .await?;
            bar.finish();
            println!(
                "checked {} events, {} checkpoints and {} object-store copies in {:.1?}; sealed up to {}",
                report.checked,
                report.checkpoints_checked,
                report.copies_checked,
                started.elapsed(),
                report.sealed_head
            );
            match report.damage {
                None => {
                    println!("ok: no damage found");
                    Ok(())
                }
                Some(damage) => {
                    println!(
                        "DAMAGE at position {}: {} ({})",
                        damage.position(),
                        damage.kind(),
                        serde_json::to_string(&damage)?
                    );
                    anyhow::bail!("the audit log is damaged")
                }
            }
        }
    }
}

/// Opens the configured database (creating the SQLite file and its folder in the embedded default).
///
/// # Errors
/// The database cannot be reached or the data folder cannot be created.
pub async fn open_store(settings: &Settings) -> anyhow::Result<EventStore> {
    let target = settings.database.target(&settings.data_dir)?;
    let (url, max_connections) = match &target {
        DatabaseTarget::Sqlite {
            url,
            max_connections,
        } => {
            std::fs::create_dir_all(settings.data_dir.path()).with_context(|| {
                format!(
                    "creating the data folder {}",
                    settings.data_dir.path().display()
                )
            })?;
            (url.clone(), *max_connections)
        }
        DatabaseTarget::Postgres {
            write_url,
            max_connections,
            ..
        } => (write_url.expose().clone(), *max_connections),
    };
    EventStore::connect(&url, max_connections)
        .await
        .with_context(|| format!("connecting to {}", target.describe()))
}

async fn serve(settings: &Settings, args: ServeArgs) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    let executor = Arc::new(Executor::new(store));
    if args.demo {
        demo::seed(&executor)
            .await
            .context("seeding the demo data")?;
    }
    let verifier = Arc::new(settings.jwt.verifier(&settings.data_dir)?);
    // Installed before anything records, so the first requests and commands are counted.
    let metrics_server = match settings.telemetry.metrics_addr {
        Some(addr) => {
            let handle = crate::metrics::install()?;
            Some(
                crate::metrics::MetricsServer::bind(addr, handle)
                    .await
                    .with_context(|| format!("binding the metrics listener {addr}"))?,
            )
        }
        None => None,
    };
    let read_db = executor.store().db().clone();
    // Stopped after their current batch once the server has drained (or aborted if dropped early).
    let projectors = cms_projections::runner::spawn(
        &read_db,
        cms_projections::runner::RunnerConfig::for_db(&read_db),
    );
    let signer = settings.audit.signer(&settings.data_dir)?;
    let objects = open_objects(settings).await?;
    let sealer = Sealer::new(
        executor.store().clone(),
        signer.clone(),
        settings.audit.checkpoint_policy(),
    )
    .with_objects(objects.clone());
    tokio::spawn(sealer.run(Duration::from_millis(500)));
    let reads = match settings.database.target(&settings.data_dir)? {
        DatabaseTarget::Postgres {
            read_urls,
            max_connections,
            ..
        } => Reads::with_replicas(read_db.clone(), &read_urls, max_connections)
            .context("configuring the read replicas")?,
        DatabaseTarget::Sqlite { .. } => Reads::primary_only(read_db.clone()),
    };
    let fanout = crate::fanout::Fanout::start(
        executor.store(),
        crate::fanout::FanoutOptions {
            nats: settings.nats.config(),
            relay: settings.nats.relay_in_serve,
            relay_config: crate::fanout::RelayConfig::default(),
            gateway: settings.ws.gateway_config(),
        },
    )
    .await
    .context("starting the real-time fan-out")?;
    let gateway = fanout.gateway.clone();
    // Aborted when the server has shut down.
    let thumbnails = if settings.photos.serve_thumbnails {
        Some(spawn_thumbnail_worker(settings, &executor, &objects, Some(&fanout.bus)).await?)
    } else {
        None
    };
    let state = AppState {
        executor,
        verifier,
        audit_signer: Some(Arc::new(signer)),
        reads: Arc::new(reads),
        objects,
        fanout: Some(gateway),
    };
    let limits = Limits {
        body_bytes: settings.http.body_limit_bytes,
        ..Limits::default()
    };
    let router = app::router(state.clone(), limits);
    let listener = tokio::net::TcpListener::bind(settings.http.http_addr)
        .await
        .with_context(|| format!("binding {}", settings.http.http_addr))?;
    let address = listener.local_addr()?;
    println!(
        "CMS listening on http://{address} ({} event store, {} bus{})",
        state.executor.store().backend(),
        fanout.bus.kind(),
        if fanout.relay.is_some() {
            ", relay"
        } else {
            ""
        }
    );
    println!("  API docs:   http://{address}/docs");
    // Stopped after the API has drained, so the drain itself can be watched.
    let (metrics_stop, metrics_stopping) = tokio::sync::oneshot::channel::<()>();
    let mut sampler = None;
    if let Some(server) = metrics_server {
        println!("  metrics:    http://{}/metrics", server.local_addr()?);
        sampler = Some(tokio::spawn(crate::metrics::sampler::run(
            state.executor.store().clone(),
            state.reads.clone(),
        )));
        tokio::spawn(async move {
            let stop = async {
                let _ = metrics_stopping.await;
            };
            if let Err(error) = server.serve(stop).await {
                tracing::error!(%error, "the metrics listener failed");
            }
        });
    }
    // The real path of this executable, so the hint can be pasted as it is.
    let program = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "cms".to_owned());
    println!("  a token:    {program} token --role admin --sub admin --hostel '*'");
    if args.demo {
        for (role, sub) in demo::USERS {
            println!(
                "  demo user:  {program} token --role {role} --sub {sub} --hostel {}",
                demo::HOSTEL
            );
        }
        for (name, status) in demo::COMPLAINTS {
            println!(
                "  demo complaint {} ({name}, {status})",
                demo::complaint_id(name)
            );
        }
    }
    let grace = settings.http.shutdown_timeout();
    let (signalled, mut on_signal) = tokio::sync::watch::channel(false);
    let closing_sockets = state.fanout.clone();
    let signal = async move {
        shutdown_signal().await;
        let _ = signalled.send(true);
        // Upgraded WebSockets are not requests: tell them to go elsewhere now.
        if let Some(gateway) = closing_sockets {
            gateway.close_all();
        }
    };
    let server = axum::serve(listener, router)
        .with_graceful_shutdown(signal)
        .into_future();
    // The grace period starts at the signal: new connections are refused at once, requests
    // already received may finish until it ends.
    let deadline = async move {
        let _ = on_signal.wait_for(|signalled| *signalled).await;
        tokio::time::sleep(grace).await;
    };
    let started_stopping = tokio::select! {
        served = server => {
            served.context("serving HTTP")?;
            tracing::info!("in-flight requests finished");
            std::time::Instant::now()
        }
        () = deadline => {
            tracing::warn!(?grace, "shutdown: requests still in flight after the grace period; dropping them");
            std::time::Instant::now()
        }
    };
    let left = grace
        .saturating_sub(started_stopping.elapsed())
        .max(Duration::from_secs(1));
    // The relay and the hub stop once requests have drained, before the projectors.
    drop(fanout);
    if projectors.shutdown(left).await {
        tracing::info!("projectors stopped after their current batch");
    }
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    let _ = metrics_stop.send(());
    tracing::info!("shutdown complete");
    if let Some(worker) = thumbnails {
        worker.abort();
    }
    Ok(())
}

/// The configured object store; an S3 bucket is checked (it must exist and accept the credentials).
async fn open_objects(settings: &Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if let Some(config) = settings.s3.config()? {
        let store = S3Store::new(&config);
        store.check_bucket().await.with_context(|| {
            format!(
                "opening the S3 bucket {} at {}",
                config.bucket, config.endpoint
            )
        })?;
        return Ok(Arc::new(store));
    }
    settings.s3.object_store(&settings.data_dir)
}

/// Starts the thumbnail worker. Its jobs come from a durable JetStream consumer when `bus` is NATS,
/// else from the log through the `photo_jobs` table (durable across restarts, unlike the in-process
/// bus: docs/adr/0011).
async fn spawn_thumbnail_worker(
    settings: &Settings,
    executor: &Arc<Executor>,
    objects: &Arc<dyn ObjectStore>,
    bus: Option<&crate::fanout::Bus>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let ack_wait = settings.photos.ack_wait();
    let jobs: Arc<dyn crate::photos::jobs::PhotoJobs> = match bus {
        Some(bus @ crate::fanout::Bus::Nats(_)) => Arc::new(
            crate::photos::jobs::BusPhotoJobs::new(
                bus,
                ack_wait,
                settings.photos.thumbnail_max_deliveries,
            )
            .await
            .context("creating the thumbnailer's durable consumer")?,
        ),
        _ => Arc::new(LogPhotoJobs::new(
            executor.store().clone(),
            ack_wait,
            Duration::from_millis(200),
        )),
    };
    let thumbnailer = Thumbnailer {
        executor: executor.clone(),
        objects: objects.clone(),
        config: settings.photos.worker_config(),
    };
    Ok(tokio::spawn(worker::run(thumbnailer, jobs)))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: no new connections; finishing in-flight requests");
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
