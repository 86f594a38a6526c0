//! The read models from the command line: `cms projections` (their status, and rebuilding them from
//! the log; the subcommands are in [`crate::projections`]) and `cms projector` (the projectors alone,
//! with their metrics, until SIGTERM).

use std::sync::Arc;

use anyhow::Context;

use crate::config::Settings;
use crate::projections::ProjectionsCommand;
use crate::reads::Reads;
use crate::startup::{open_store, shutdown_signal};

/// Migrates the database, then runs the `projections` command.
pub(super) async fn run(settings: &Settings, command: ProjectionsCommand) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    crate::projections::run(&store.db().clone(), command).await
}

/// Runs only the projectors (and the metrics listener, when configured) until SIGTERM.
pub(super) async fn run_projector(settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    let db = store.db().clone();
    let projectors =
        cms_projections::runner::spawn(&db, cms_projections::runner::RunnerConfig::for_db(&db));
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
        tokio::spawn(crate::startup::sampler::run(store.clone(), reads));
        tokio::spawn(server.serve(std::future::pending()));
    }
    shutdown_signal().await;
    projectors.shutdown(settings.http.shutdown_timeout()).await;
    Ok(())
}
