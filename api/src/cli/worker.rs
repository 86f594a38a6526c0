//! `cms worker thumbnails`: the thumbnail worker on its own until SIGTERM, and
//! [`spawn_thumbnail_worker`], which `cms serve` uses too when it runs the worker itself.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;

use super::shared::{open_objects, open_store, shutdown_signal};
use crate::commands::executor::Executor;
use crate::config::Settings;
use crate::objects::ObjectStore;
use crate::photos::jobs::LogPhotoJobs;
use crate::photos::worker::{self, Thumbnailer};

#[derive(Debug, Subcommand)]
pub(super) enum WorkerCommand {
    /// Render thumbnails of attached photos until SIGTERM (set CMS_SERVE_THUMBNAILS=false on the
    /// API instances when this runs separately; several workers may run at once).
    Thumbnails,
}

/// Runs the worker until SIGTERM.
pub(super) async fn run(settings: &Settings, command: WorkerCommand) -> anyhow::Result<()> {
    match command {
        WorkerCommand::Thumbnails => {
            let store = open_store(settings).await?;
            store.migrate().await.context("migrating the database")?;
            let executor = Arc::new(Executor::new(store));
            let objects = open_objects(settings).await?;
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
                spawn_thumbnail_worker(settings, &executor, &objects, bus.as_ref()).await?;
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

/// Starts the thumbnail worker. Its jobs come from a durable JetStream consumer when `bus` is NATS,
/// else from the log through the `photo_jobs` table (durable across restarts, unlike the in-process
/// bus: docs/adr/0011).
pub(super) async fn spawn_thumbnail_worker(
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
