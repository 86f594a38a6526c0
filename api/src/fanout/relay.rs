//! The relay: reads the log by global position, like a projector, and publishes each event to the
//! bus with the expected-last-sequence check, so bus sequence == position (docs/adr/0012). Its
//! checkpoint is the bus's last sequence: on start, after an error, or after a publish that was
//! refused because the sequence moved on, it asks the bus where it stands and goes on from there. A
//! restart, a timeout or a retry can therefore neither duplicate nor drop an event.
//!
//! One relay at a time publishes to JetStream: the leader holds a PostgreSQL advisory lock on a
//! connection of its own (losing the connection loses the lock, and the relay steps down). The lock
//! only saves work: two relays at once would still store each event once, because every publish
//! names the sequence it expects. With SQLite, or with the in-process bus (which belongs to one
//! process), the relay runs without a lock.

use std::time::{Duration, Instant};

use cms_eventstore::pool::MeteredPgPool;
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::bus::{Bus, BusError};
use super::resolver::Resolver;
use cms_eventstore::store::{EventStore, StoreError};

use crate::metrics::names::{RELAY_LAG, RELAY_LEADER, RELAY_POSITION, RELAY_PUBLISH_ERRORS};

/// The advisory-lock key of the relay ("cms-rly" in ASCII).
const LEADER_LOCK_KEY: i64 = 0x0063_6d73_2d72_6c79;

/// How the relay reads and waits.
#[derive(Debug, Clone, Copy)]
pub struct RelayConfig {
    /// Events read per batch (and published pipelined on JetStream).
    pub batch_size: i64,
    /// How often to look for new events (PostgreSQL also wakes on `NOTIFY cms_events`).
    pub poll_interval: Duration,
    /// Pause after a failure before trying again.
    pub retry_after: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            poll_interval: Duration::from_millis(20),
            retry_after: Duration::from_millis(500),
        }
    }
}

/// Why the relay stepped back (it retries after a pause).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("lost the relay leader lock: {0}")]
    LostLease(sqlx::Error),
    /// The log has a hole where the next event should be (a bug or tampering).
    #[error("the log has a hole at position {0}: relaying stopped there")]
    Hole(i64),
}

/// The relay of one process.
#[derive(Debug, Clone)]
pub struct Relay {
    store: EventStore,
    bus: Bus,
    resolver: Resolver,
    config: RelayConfig,
}

/// The running relay task; dropping it stops the relay.
#[derive(Debug)]
pub struct RelayHandle(JoinHandle<()>);

impl RelayHandle {
    /// Stops the relay at once (as a crash would, possibly between a publish and its ack).
    pub fn abort(&self) {
        self.0.abort();
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The leader lock: a PostgreSQL session holding the advisory lock, or nothing to hold.
enum Lease {
    Local,
    Postgres(PgConnection),
}

impl Lease {
    async fn check(&mut self) -> Result<(), RelayError> {
        if let Lease::Postgres(conn) = self {
            conn.ping().await.map_err(RelayError::LostLease)?;
        }
        Ok(())
    }
}

impl Relay {
    /// A relay from `store` to `bus`.
    pub fn new(store: EventStore, bus: Bus, config: RelayConfig) -> Self {
        let resolver = Resolver::new(store.clone());
        Self {
            store,
            bus,
            resolver,
            config,
        }
    }

    /// Starts the relay in its own task.
    pub fn spawn(self) -> RelayHandle {
        let span = tracing::info_span!("relay", bus = self.bus.kind());
        RelayHandle(tokio::spawn(self.run().instrument(span)))
    }

    /// Relays forever: take the lead, publish, and on any failure step back and try again.
    pub async fn run(self) {
        loop {
            let mut lease = self.acquire().await;
            metrics::gauge!(RELAY_LEADER).set(1.0);
            let result = self.lead(&mut lease).await;
            metrics::gauge!(RELAY_LEADER).set(0.0);
            drop(lease);
            if let Err(error) = result {
                tracing::warn!(%error, "relay stepped back; retrying");
            }
            tokio::time::sleep(self.config.retry_after).await;
        }
    }

    fn leader_pool(&self) -> Option<&MeteredPgPool> {
        match &self.bus {
            Bus::Nats(_) => self.store.db().postgres(),
            _ => None,
        }
    }

    /// Waits until this relay may lead.
    async fn acquire(&self) -> Lease {
        let Some(pool) = self.leader_pool() else {
            return Lease::Local;
        };
        let mut waiting_logged = false;
        loop {
            match cms_eventstore::postgres::try_lease(pool, LEADER_LOCK_KEY).await {
                Ok(Some(conn)) => {
                    tracing::info!("relay: leader");
                    return Lease::Postgres(conn);
                }
                Ok(None) => {
                    if !waiting_logged {
                        tracing::info!("relay: another relay leads; standing by");
                        waiting_logged = true;
                    }
                }
                Err(error) => tracing::warn!(%error, "relay: leader lock unavailable; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn lead(&self, lease: &mut Lease) -> Result<(), RelayError> {
        self.bus.ensure().await?;
        let mut last = self.bus_position().await?;
        let mut checked = Instant::now();
        let mut reported: Option<Instant> = None;
        let mut listener = self.listener().await;
        loop {
            if checked.elapsed() >= Duration::from_secs(1) {
                lease.check().await?;
                checked = Instant::now();
            }
            let events = self.store.read_log(last, self.config.batch_size).await?;
            if events.is_empty() {
                if reported.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                    self.report(last).await;
                    reported = Some(Instant::now());
                }
                self.wait(&mut listener).await;
                continue;
            }
            let mut batch = Vec::with_capacity(events.len());
            for (offset, event) in (1..).zip(&events) {
                if event.global_position != last + offset {
                    if batch.is_empty() {
                        return Err(RelayError::Hole(last + 1));
                    }
                    break; // publish what is contiguous; the next read finds the hole
                }
                batch.push(self.resolver.bus_event(event).await?);
            }
            let sent = i64::try_from(batch.len()).unwrap_or(0);
            let (stored, error) = self.bus.publish_all(batch).await;
            last += i64::try_from(stored).unwrap_or(0);
            match error {
                None => debug_assert_eq!(i64::try_from(stored).unwrap_or(0), sent),
                Some(BusError::WrongLastSequence { .. }) => {
                    // Someone (another relay, or an earlier attempt whose ack was lost) moved the
                    // stream on: continue from where it really is.
                    metrics::counter!(RELAY_PUBLISH_ERRORS).increment(1);
                    last = self.bus_position().await?;
                }
                Some(error) => {
                    metrics::counter!(RELAY_PUBLISH_ERRORS).increment(1);
                    return Err(error.into());
                }
            }
            #[allow(clippy::cast_precision_loss)]
            metrics::gauge!(RELAY_POSITION).set(last as f64);
        }
    }

    async fn bus_position(&self) -> Result<i64, RelayError> {
        let last = self.bus.last_sequence().await?;
        i64::try_from(last)
            .map_err(|_| RelayError::Bus(BusError::Corrupt(format!("bus sequence {last}"))))
    }

    async fn report(&self, last: i64) {
        if let Ok(head) = self.store.head().await {
            #[allow(clippy::cast_precision_loss)]
            {
                metrics::gauge!(RELAY_LAG).set((head - last) as f64);
                metrics::gauge!(RELAY_POSITION).set(last as f64);
            }
            if last > head {
                tracing::warn!(
                    bus = last,
                    log = head,
                    "the bus is ahead of the log: is it the stream of another database?"
                );
            }
        }
    }

    async fn listener(&self) -> Option<sqlx::postgres::PgListener> {
        let pool = self.store.db().postgres()?;
        cms_eventstore::postgres::listen_for_events(pool).await.ok()
    }

    async fn wait(&self, listener: &mut Option<sqlx::postgres::PgListener>) {
        match listener {
            // A notification, the fallback poll, or a dropped connection all lead to the next read.
            Some(listener) => {
                let _ = tokio::time::timeout(self.config.poll_interval * 25, listener.recv()).await;
            }
            None => tokio::time::sleep(self.config.poll_interval).await,
        }
    }
}
