//! `cms serve` (the default command): the service the composition root ([`crate::startup`]) puts
//! together from the settings, with everything it runs beside the API (projectors, audit sealer,
//! real-time fan-out, thumbnail worker, metrics listener), and its graceful shutdown.

use std::future::IntoFuture;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use cms_projections::runner::RunnerConfig;

use crate::config::Settings;
use crate::demo;
use crate::startup::{shutdown_signal, Parts, Service};

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
    let service = Service::start(Parts::from_settings(settings).await?).await?;
    if args.demo {
        demo::seed(service.executor())
            .await
            .context("seeding the demo data")?;
    }
    // Stopped after their current batch once the server has drained (or aborted if dropped early).
    let projectors =
        service.spawn_projectors(RunnerConfig::for_db(service.executor().store().db()));
    service.spawn_sealer(settings.audit.checkpoint_policy());
    // Aborted when the server has shut down.
    let thumbnails = if settings.photos.serve_thumbnails {
        Some(service.spawn_thumbnails(settings).await?)
    } else {
        None
    };
    let router = service.router();
    let listener = tokio::net::TcpListener::bind(settings.http.http_addr)
        .await
        .with_context(|| format!("binding {}", settings.http.http_addr))?;
    let address = listener.local_addr()?;
    let fanout = service
        .fanout
        .as_ref()
        .context("cms serve always runs the fan-out")?;
    println!(
        "CMS listening on http://{address} ({} event store, {} bus{})",
        service.executor().store().backend(),
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
        sampler = Some(service.spawn_sampler());
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
    let closing_sockets = service.state.fanout.clone();
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
    drop(service);
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
