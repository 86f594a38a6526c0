//! `cms serve` (the default command): the HTTP API with everything it runs beside it (projectors,
//! audit sealer, real-time fan-out, thumbnail worker, metrics listener), and its graceful shutdown.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::shared::{open_objects, open_store, shutdown_signal};
use super::worker::spawn_thumbnail_worker;
use crate::app::{self, Limits};
use crate::audit::Sealer;
use crate::commands::executor::Executor;
use crate::config::{DatabaseTarget, Settings};
use crate::demo;
use crate::reads::Reads;
use crate::state::AppState;

#[derive(Debug, Default, Args)]
pub(super) struct ServeArgs {
    /// Seed a demo hostel, staff and complaints in several states (only into an empty database).
    #[arg(long)]
    demo: bool,
}

/// Opens and migrates the database, starts the projectors, the sealer, the fan-out and (unless
/// `CMS_SERVE_THUMBNAILS=false`) the thumbnail worker, then serves HTTP until SIGTERM and shuts
/// down in order within `CMS_SHUTDOWN_TIMEOUT_SECS`.
pub(super) async fn run(settings: &Settings, args: ServeArgs) -> anyhow::Result<()> {
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
