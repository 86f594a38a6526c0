//! What only PostgreSQL has: session advisory locks on a connection of their own (leases),
//! `LISTEN cms_events` (the log's `AFTER INSERT` trigger notifies), and a hot standby's replay lag.

use sqlx::postgres::{PgConnection, PgListener, PgPoolOptions};
use sqlx::Connection;

use crate::pool::MeteredPgPool;

/// The channel the `events` trigger notifies after every insert.
pub const EVENTS_CHANNEL: &str = "cms_events";

/// Takes session advisory lock `key` on a connection of its own, outside the pool; `None` when
/// another session holds it. The lease lasts as long as the returned connection.
///
/// # Errors
/// The server is unreachable.
pub async fn try_lease(
    pool: &MeteredPgPool,
    key: i64,
) -> Result<Option<PgConnection>, sqlx::Error> {
    let mut conn = PgConnection::connect_with(&pool.unmetered().connect_options()).await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut conn)
        .await?;
    if locked {
        Ok(Some(conn))
    } else {
        let _ = conn.close().await;
        Ok(None)
    }
}

/// `LISTEN` on [`EVENTS_CHANNEL`] through a one-connection pool of its own, so the listener never
/// holds the main pool's connections.
///
/// # Errors
/// The server is unreachable.
pub async fn listen_for_events(pool: &MeteredPgPool) -> Result<PgListener, sqlx::Error> {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*pool.unmetered().connect_options()).clone())
        .await?;
    let mut listener = PgListener::connect_with(&own).await?;
    listener.listen(EVENTS_CHANNEL).await?;
    Ok(listener)
}

/// Seconds since a hot standby replayed its last transaction; 0 when it has replayed all it received
/// (an idle primary sends nothing, and the age of the last replay would read as growing lag), and 0
/// on a primary.
///
/// # Errors
/// The server is unreachable.
pub async fn replay_lag_seconds(pool: &MeteredPgPool) -> Result<f64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CASE WHEN NOT pg_is_in_recovery() \
                       OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8 \
                     ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 END",
    )
    .fetch_one(pool)
    .await
}
