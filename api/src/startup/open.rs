//! Opening the configured event store and object store, and waiting for SIGTERM or Ctrl-C: what
//! `cms serve` and the other subcommands share.

use std::sync::Arc;

use anyhow::Context;
use cms_eventstore::store::EventStore;

use crate::config::{DatabaseTarget, Settings};
use crate::objects::{ObjectStore, S3Store};

/// Opens the configured database (creating the SQLite file and its folder in the embedded default).
///
/// # Errors
/// The database cannot be reached or the data folder cannot be created.
pub async fn open_store(settings: &Settings) -> anyhow::Result<EventStore> {
    let target = settings.database.target(&settings.data_dir)?;
    let (url, max_connections) = match &target {
        DatabaseTarget::Sqlite {
            url,
            max_connections,
        } => {
            std::fs::create_dir_all(settings.data_dir.path()).with_context(|| {
                format!(
                    "creating the data folder {}",
                    settings.data_dir.path().display()
                )
            })?;
            (url.clone(), *max_connections)
        }
        DatabaseTarget::Postgres {
            write_url,
            max_connections,
            ..
        } => (write_url.expose().clone(), *max_connections),
    };
    EventStore::connect(&url, max_connections)
        .await
        .with_context(|| format!("connecting to {}", target.describe()))
}

/// The configured object store; an S3 bucket is checked (it must exist and accept the credentials).
pub async fn open_objects(settings: &Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if let Some(config) = settings.s3.config()? {
        let store = S3Store::new(&config);
        store.check_bucket().await.with_context(|| {
            format!(
                "opening the S3 bucket {} at {}",
                config.bucket, config.endpoint
            )
        })?;
        return Ok(Arc::new(store));
    }
    settings.s3.object_store(&settings.data_dir)
}

/// Resolves on SIGTERM or Ctrl-C, once the shutdown is logged.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: no new connections; finishing in-flight requests");
}
