//! `cms hostel ...`: hostel administration (register hostels, manage categories and staff) through
//! the executor; the subcommands themselves are in [`crate::admin`].

use anyhow::Context;

use crate::admin::{self, HostelAdmin};
use crate::commands::executor::Executor;
use crate::config::Settings;
use crate::startup::open_store;

/// Migrates the database, then runs the administration command.
pub(super) async fn run(settings: &Settings, command: HostelAdmin) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    admin::run(&Executor::new(store), command).await
}
