//! Gauges that are read, not counted: database pool sizes, the log head, each projection's position,
//! lag and state, and each replica's lag. One task samples them every few seconds while the server
//! runs (and once at start, so a scrape right away sees them).

use std::sync::Arc;
use std::time::Duration;

use cms_eventstore::pool::{MeteredPool, PoolRole, PoolStats};
use cms_eventstore::Db;
use cms_projections::checkpoint::{self, State};

use crate::metrics::names::{
    ConnectionState, DB_POOL_CONNECTIONS, DB_POOL_MAX_CONNECTIONS, DB_POOL_WAITING, LOG_HEAD,
    PROJECTION_LAG, PROJECTION_POSITION, PROJECTION_STATE, REPLICA_LAG_EVENTS,
};
use crate::reads::Reads;
use cms_eventstore::store::EventStore;

/// How often the sampler reads.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// The write pool's and the read pool's stats: SQLite's writer and readers; PostgreSQL's primary,
/// and its replicas together (or the primary again when there are none, since queries run there).
pub fn pool_stats(store: &EventStore, reads: &Reads) -> [(PoolRole, PoolStats); 2] {
    let (write, read) = match store.db() {
        Db::Postgres(pool) => {
            let primary = pool.stats();
            let replicas = reads
                .replica_pools()
                .map(MeteredPool::stats)
                .reduce(|sum, p| sum + p);
            (primary, replicas.unwrap_or(primary))
        }
        Db::Sqlite { write, read } => (write.stats(), read.stats()),
    };
    [(PoolRole::Write, write), (PoolRole::Read, read)]
}

/// Records the pool gauges once.
pub fn sample_pools(store: &EventStore, reads: &Reads) {
    for (pool, stats) in pool_stats(store, reads) {
        let label = pool.as_str();
        metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => label, "state" => ConnectionState::Idle.as_str())
            .set(f64::from(stats.idle));
        metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => label, "state" => ConnectionState::InUse.as_str())
            .set(f64::from(stats.in_use()));
        metrics::gauge!(DB_POOL_MAX_CONNECTIONS, "pool" => label).set(f64::from(stats.max));
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!(DB_POOL_WAITING, "pool" => label).set(stats.waiting as f64);
    }
}

/// Records the log head and each projection's position, lag and state once.
///
/// # Errors
/// The database cannot be asked.
#[allow(clippy::cast_precision_loss)]
pub async fn sample_projections(db: &Db) -> Result<(), sqlx::Error> {
    let rows = checkpoint::status(db).await?;
    if let Some(first) = rows.first() {
        metrics::gauge!(LOG_HEAD).set(first.head as f64);
    }
    for row in rows {
        metrics::gauge!(PROJECTION_POSITION, "projection" => row.projection)
            .set(row.position as f64);
        metrics::gauge!(PROJECTION_LAG, "projection" => row.projection).set(row.lag.max(0) as f64);
        for state in [State::Running, State::Failed] {
            let value = if row.state == state { 1.0 } else { 0.0 };
            metrics::gauge!(PROJECTION_STATE, "projection" => row.projection, "state" => state.as_str())
                .set(value);
        }
    }
    Ok(())
}

/// Samples everything every [`SAMPLE_EVERY`] until the task is dropped (replica lag gauges are
/// recorded by [`Reads::replica_lag`]).
pub async fn run(store: EventStore, reads: Arc<Reads>) {
    let db = store.db().clone();
    loop {
        sample_pools(&store, &reads);
        if let Err(error) = sample_projections(&db).await {
            tracing::warn!(%error, "metrics: cannot read the projections' status");
        }
        if reads.replica_count() > 0 {
            for (index, lag) in reads.replica_lag().await.into_iter().enumerate() {
                if let Some(events) = lag.events {
                    #[allow(clippy::cast_precision_loss)]
                    metrics::gauge!(REPLICA_LAG_EVENTS, "replica" => index.to_string())
                        .set(events as f64);
                }
            }
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}
