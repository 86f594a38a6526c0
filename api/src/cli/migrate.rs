//! `cms migrate`: apply pending database migrations and exit.

use anyhow::Context;

use crate::config::Settings;
use crate::startup::open_store;

/// Migrates the configured database.
pub(super) async fn run(settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    println!("migrations applied ({})", store.backend());
    Ok(())
}
