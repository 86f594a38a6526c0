//! The composition root: the one place the service is put together. [`Parts`] are what a service
//! runs on (its event store, token verifier, audit key, read routing, object store, fan-out options
//! and request limits); [`Parts::from_settings`] chooses them from the configuration as `cms serve`
//! does, and tests choose their own. [`Service::start`] then wires them the same way for both:
//! migrates the database, starts the fan-out, builds the [`AppState`] and the router, and starts
//! whatever runs beside the API (projectors, the audit sealer, the thumbnail worker, the metrics
//! sampler) when asked.
//!
//! - `open`: opening the configured event store and object store, and the shutdown signal;
//! - [`sampler`]: the gauges that are read rather than counted;
//! - `thumbnails`: the thumbnail worker with its job source.

mod open;
pub mod sampler;
mod thumbnails;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use cms_eventstore::store::EventStore;
use cms_projections::runner::{Projectors, RunnerConfig};
use tokio::task::JoinHandle;

pub use open::{open_objects, open_store, shutdown_signal};
pub use thumbnails::spawn as spawn_thumbnails;

use crate::app::{self, Limits};
use crate::audit::{AuditSigner, CheckpointPolicy, Sealer};
use crate::auth::JwtVerifier;
use crate::commands::executor::Executor;
use crate::config::{DatabaseTarget, Settings};
use crate::fanout::{Fanout, FanoutOptions, RelayConfig};
use crate::objects::ObjectStore;
use crate::reads::Reads;
use crate::state::AppState;

/// How often the audit sealer looks for new events.
const SEAL_EVERY: Duration = Duration::from_millis(500);

/// What a service runs on.
pub struct Parts {
    /// The event store (the primary).
    pub store: EventStore,
    /// Verifies bearer tokens.
    pub verifier: JwtVerifier,
    /// Signs audit checkpoints; its public half is served at `/v1/audit/key`.
    pub audit_signer: Option<AuditSigner>,
    /// Where queries run (replicas, else the primary).
    pub reads: Reads,
    /// Photos, thumbnails and checkpoint copies.
    pub objects: Arc<dyn ObjectStore>,
    /// The real-time fan-out; `None` serves no WebSockets (503 `fanout_unavailable`).
    pub fanout: Option<FanoutOptions>,
    /// Body size and request time limits.
    pub limits: Limits,
}

impl Parts {
    /// The parts `cms serve` runs on: the configured database (created in the embedded default),
    /// replicas, JWT keys, audit key, object store (an S3 bucket is checked) and fan-out.
    ///
    /// # Errors
    /// A setting that does not make a usable part (unreachable database or bucket, unreadable key).
    pub async fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let store = open_store(settings).await?;
        let verifier = settings.jwt.verifier(&settings.data_dir)?;
        let audit_signer = settings.audit.signer(&settings.data_dir)?;
        let objects = open_objects(settings).await?;
        let primary = store.db().clone();
        let reads = match settings.database.target(&settings.data_dir)? {
            DatabaseTarget::Postgres {
                read_urls,
                max_connections,
                ..
            } => Reads::with_replicas(primary, &read_urls, max_connections)
                .context("configuring the read replicas")?,
            DatabaseTarget::Sqlite { .. } => Reads::primary_only(primary),
        };
        Ok(Self {
            store,
            verifier,
            audit_signer: Some(audit_signer),
            reads,
            objects,
            fanout: Some(FanoutOptions {
                nats: settings.nats.config(),
                relay: settings.nats.relay_in_serve,
                relay_config: RelayConfig::default(),
                gateway: settings.ws.gateway_config(),
            }),
            limits: Limits {
                body_bytes: settings.http.body_limit_bytes,
                ..Limits::default()
            },
        })
    }
}

/// A service put together from its [`Parts`]: the state every handler sees, the fan-out, and the
/// limits its router applies.
pub struct Service {
    /// What request handlers use.
    pub state: AppState,
    /// The bus, relay, hub and WebSocket gateway (dropping it stops the relay and the hub).
    pub fanout: Option<Fanout>,
    limits: Limits,
}

impl Service {
    /// Migrates the database, starts the fan-out and builds the application state.
    ///
    /// # Errors
    /// A migration fails, or the fan-out cannot start (unreachable NATS, unreadable log head).
    pub async fn start(parts: Parts) -> anyhow::Result<Self> {
        let Parts {
            store,
            verifier,
            audit_signer,
            reads,
            objects,
            fanout,
            limits,
        } = parts;
        store.migrate().await.context("migrating the database")?;
        let fanout = match fanout {
            Some(options) => Some(
                Fanout::start(&store, options)
                    .await
                    .context("starting the real-time fan-out")?,
            ),
            None => None,
        };
        let state = AppState {
            executor: Arc::new(Executor::new(store)),
            verifier: Arc::new(verifier),
            audit_signer: audit_signer.map(Arc::new),
            reads: Arc::new(reads),
            objects,
            fanout: fanout.as_ref().map(|f| f.gateway.clone()),
        };
        Ok(Self {
            state,
            fanout,
            limits,
        })
    }

    /// The executor commands run through.
    pub fn executor(&self) -> &Arc<Executor> {
        &self.state.executor
    }

    /// The complete HTTP application.
    pub fn router(&self) -> Router {
        app::router(self.state.clone(), self.limits)
    }

    /// Starts one projector per read model (stopped after their current batch by
    /// [`Projectors::shutdown`], aborted when dropped).
    pub fn spawn_projectors(&self, config: RunnerConfig) -> Projectors {
        cms_projections::runner::spawn(self.executor().store().db(), config)
    }

    /// Starts the audit sealer, which copies checkpoints to the object store; `None` without a
    /// signing key.
    pub fn spawn_sealer(&self, policy: CheckpointPolicy) -> Option<JoinHandle<()>> {
        let signer = self.state.audit_signer.as_deref()?.clone();
        let sealer = Sealer::new(self.executor().store().clone(), signer, policy)
            .with_objects(self.state.objects.clone());
        Some(tokio::spawn(sealer.run(SEAL_EVERY)))
    }

    /// Starts the thumbnail worker, with jobs from the bus when it is NATS, else from the log.
    ///
    /// # Errors
    /// The durable consumer cannot be created.
    pub async fn spawn_thumbnails(&self, settings: &Settings) -> anyhow::Result<JoinHandle<()>> {
        spawn_thumbnails(
            settings,
            self.executor(),
            &self.state.objects,
            self.fanout.as_ref().map(|f| &f.bus),
        )
        .await
    }

    /// Starts the metrics sampler (pools, log head, projections, replicas).
    pub fn spawn_sampler(&self) -> JoinHandle<()> {
        tokio::spawn(sampler::run(
            self.executor().store().clone(),
            self.state.reads.clone(),
        ))
    }
}
