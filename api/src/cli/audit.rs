//! `cms audit ...`: seal what is not sealed yet, verify the hash chain and the signed checkpoints
//! (against the object-store copies too), and export the log as NDJSON.

use anyhow::Context;
use clap::Subcommand;

use crate::audit::{self, Sealer};
use crate::config::Settings;
use crate::startup::open_store;

#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// Seal what is not sealed yet, then exit (the server does this continuously).
    Seal,
    /// Recompute the chain from the log and check it against the stored chain and every checkpoint.
    /// Exits non-zero on damage, naming the first bad position and the kind of damage.
    Verify {
        /// Start at this position (the chain row before it is trusted).
        #[arg(long, default_value_t = 1)]
        from: i64,
    },
    /// Write events, chain hashes and checkpoints to stdout as NDJSON (docs/audit-format.md).
    Export {
        /// Start at this position.
        #[arg(long, default_value_t = 1)]
        from: i64,
    },
}

/// Migrates the database, then runs the audit command.
///
/// # Errors
/// Besides storage and key failures: `verify` found damage.
pub(super) async fn run(settings: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    let signer = settings.audit.signer(&settings.data_dir)?;
    match command {
        AuditCommand::Seal => {
            let sealer = Sealer::new(store, signer, settings.audit.checkpoint_policy())
                .with_objects(settings.s3.object_store(&settings.data_dir)?);
            let copied = sealer.copy_out_all().await?;
            let head = sealer.seal_pending().await?;
            println!("sealed up to position {head}");
            if copied > 0 {
                println!("copied {copied} older checkpoints to the object store");
            }
            Ok(())
        }
        AuditCommand::Export { from } => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            let written = audit::export(&store, &signer.public_key_bytes(), from, &mut out).await?;
            eprintln!("exported {written} events");
            Ok(())
        }
        AuditCommand::Verify { from } => {
            let started = std::time::Instant::now();
            let objects = settings.s3.object_store(&settings.data_dir)?;
            let mut bar = crate::progress::Progress::new("verifying");
            let report = audit::verify_with_copies(
                &store,
                Some(objects.as_ref()),
                &signer.public_key_bytes(),
                from,
                |at, of| bar.update(at, of),
            )
            .await?;
            bar.finish();
            println!(
                "checked {} events, {} checkpoints and {} object-store copies in {:.1?}; sealed up to {}",
                report.checked,
                report.checkpoints_checked,
                report.copies_checked,
                started.elapsed(),
                report.sealed_head
            );
            match report.damage {
                None => {
                    println!("ok: no damage found");
                    Ok(())
                }
                Some(damage) => {
                    println!(
                        "DAMAGE at position {}: {} ({})",
                        damage.position(),
                        damage.kind(),
                        serde_json::to_string(&damage)?
                    );
                    anyhow::bail!("the audit log is damaged")
                }
            }
        }
    }
}
