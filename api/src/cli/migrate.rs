//! `cms migrate`: apply pending database migrations and exit.

use anyhow::Context;

use super::shared::open_store;
use crate::config::Settings;

/// Migrates the configured database.
pub(super) async fn run(settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    println!("migrations applied ({})", store.backend());
    Ok(())
}
