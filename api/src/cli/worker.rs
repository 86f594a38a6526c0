//! `cms worker thumbnails`: the thumbnail worker on its own until SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;

use crate::commands::executor::Executor;
use crate::config::Settings;
use crate::startup::{open_objects, open_store, shutdown_signal};

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
                crate::startup::spawn_thumbnails(settings, &executor, &objects, bus.as_ref())
                    .await?;
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
