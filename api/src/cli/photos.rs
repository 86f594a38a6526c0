//! `cms photos sweep`: delete the objects of uploads no complaint attached, once they are older than
//! the grace period (attached photos are never touched).

use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;

use crate::commands::executor::Executor;
use crate::config::Settings;
use crate::startup::{open_objects, open_store};

#[derive(Debug, Subcommand)]
pub(super) enum PhotosCommand {
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

/// Migrates the database, then runs the photo command.
pub(super) async fn run(settings: &Settings, command: PhotosCommand) -> anyhow::Result<()> {
    match command {
        PhotosCommand::Sweep {
            older_than_hours,
            dry_run,
        } => {
            let store = open_store(settings).await?;
            store.migrate().await.context("migrating the database")?;
            let executor = Executor::new(store);
            let objects = open_objects(settings).await?;
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
    }
}
