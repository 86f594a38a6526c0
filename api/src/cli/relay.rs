//! `cms relay`: the relay alone (log -> JetStream) until SIGTERM, for deployments that run it apart
//! from `cms serve`. Several may run: one leads (PostgreSQL advisory lock), the others stand by.

use anyhow::Context;

use crate::config::Settings;
use crate::startup::{open_store, shutdown_signal};

/// Runs the relay; refuses to start without `CMS_NATS_URL`.
pub(super) async fn run(settings: &Settings) -> anyhow::Result<()> {
    let Some(nats) = settings.nats.config() else {
        anyhow::bail!(
            "cms relay publishes to JetStream and needs CMS_NATS_URL; without it the \
             in-process bus lives inside cms serve, which runs its own relay"
        );
    };
    let store = open_store(settings).await?;
    store.migrate().await.context("migrating the database")?;
    let bus = crate::fanout::Bus::nats(nats)
        .await
        .context("connecting to NATS")?;
    let relay =
        crate::fanout::Relay::new(store.clone(), bus, crate::fanout::RelayConfig::default())
            .spawn();
    println!(
        "CMS relay running ({} event store -> JetStream); stop with SIGTERM or Ctrl-C",
        store.backend()
    );
    shutdown_signal().await;
    drop(relay);
    Ok(())
}
