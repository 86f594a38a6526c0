//! The thumbnail worker with its job source: a durable JetStream consumer when the bus is NATS, else
//! the log through the `photo_jobs` table (durable across restarts, unlike the in-process bus:
//! docs/adr/0011).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::commands::executor::Executor;
use crate::config::Settings;
use crate::objects::ObjectStore;
use crate::photos::jobs::LogPhotoJobs;
use crate::photos::worker::{self, Thumbnailer};

/// Starts the thumbnail worker. Its jobs come from a durable JetStream consumer when `bus` is NATS,
/// else from the log through the `photo_jobs` table (durable across restarts, unlike the in-process
/// bus: docs/adr/0011).
pub async fn spawn(
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
