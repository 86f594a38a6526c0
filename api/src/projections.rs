//! `cms projections status` and `cms projections rebuild NAME|--all`: the operator's view of the read
//! models (per projection: position, log head, lag, state) and their replay from position 0.

use crate::progress::Progress;

use anyhow::Context;
use clap::Subcommand;
use cms_eventstore::Db;
use cms_projections::runner;
use cms_projections::Projection;

/// Read-model administration.
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Per projection: checkpoint position, log head, lag and state (running or failed, with why).
    Status,
    /// Replay a projection (or `--all`) from position 0 into emptied tables, in one transaction.
    Rebuild {
        /// The projection to rebuild (`complaint_list`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Rebuild every projection.
        #[arg(long)]
        all: bool,
        /// Events per batch.
        #[arg(long, default_value_t = 1000)]
        batch_size: i64,
    },
}

/// Runs a `projections` subcommand.
///
/// # Errors
/// An unknown projection name or a storage failure.
pub async fn run(db: &Db, command: ProjectionsCommand) -> anyhow::Result<()> {
    match command {
        ProjectionsCommand::Status => {
            let rows = cms_projections::checkpoint::status(db)
                .await
                .context("reading projection checkpoints")?;
            println!(
                "{:<16} {:>10} {:>10} {:>8}  state",
                "projection", "position", "head", "lag"
            );
            for row in rows {
                let state = match &row.error {
                    Some(error) => format!("{} ({error})", row.state.as_str()),
                    None => row.state.as_str().to_owned(),
                };
                println!(
                    "{:<16} {:>10} {:>10} {:>8}  {state}",
                    row.projection, row.position, row.head, row.lag
                );
            }
            Ok(())
        }
        ProjectionsCommand::Rebuild {
            name,
            all,
            batch_size,
        } => {
            let targets: Vec<Projection> = if all {
                Projection::ALL.to_vec()
            } else {
                let name = name.unwrap_or_default();
                vec![name.parse::<Projection>()?]
            };
            for projection in targets {
                rebuild_one(db, projection, batch_size.max(1)).await?;
            }
            Ok(())
        }
    }
}

async fn rebuild_one(db: &Db, projection: Projection, batch_size: i64) -> anyhow::Result<()> {
    let mut bar = Progress::new(format!("rebuilding {projection}"));
    let rebuilt = runner::rebuild(db, projection, batch_size, &mut |position, head| {
        bar.update(position, head);
    })
    .await
    .with_context(|| format!("rebuilding {projection}"))?;
    bar.finish();
    let state = match &rebuilt.checkpoint.error {
        Some(error) => format!(
            "failed at position {}: {error}",
            rebuilt.checkpoint.position + 1
        ),
        None => "running".to_owned(),
    };
    println!(
        "{projection}: rebuilt {} events in {:.2} s ({:.0} events/s); state {state}",
        rebuilt.events,
        rebuilt.elapsed.as_secs_f64(),
        rebuilt.rate()
    );
    Ok(())
}
