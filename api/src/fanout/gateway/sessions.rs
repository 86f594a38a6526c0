//! Open WebSocket sessions of every instance, in the database (`ws_sessions`), so the limit of sockets
//! per user holds across instances behind a load balancer, not per instance.
//!
//! Opening a session counts the user's live rows and inserts one in a transaction that excludes every
//! other opening for the same user (a transaction-scoped advisory lock on PostgreSQL; SQLite's
//! `BEGIN IMMEDIATE` excludes every writer). Closing deletes the row. An instance extends the rows
//! of its open sockets every third of [`SessionsConfig::ttl`], so the rows of an instance that died
//! (killed, network gone) expire within one TTL and stop counting.

use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use crate::store::{EventStore, StoreError};

/// How the sessions table is kept.
#[derive(Debug, Clone, Copy)]
pub struct SessionsConfig {
    /// How long a session counts without being extended (an instance that died frees its users'
    /// slots after at most this long).
    pub ttl: Duration,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(60),
        }
    }
}

/// This instance's view of the sessions table.
#[derive(Debug)]
pub(crate) struct Sessions {
    store: EventStore,
    /// Names this instance's rows (random per process).
    instance: String,
    config: SessionsConfig,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

const COUNT: &str = "SELECT count(*) FROM ws_sessions WHERE user_key = $1 AND expires_at >= $2";
const INSERT: &str =
    "INSERT INTO ws_sessions (session_id, user_key, instance_id, expires_at) VALUES ($1, $2, $3, $4)";
const DELETE: &str = "DELETE FROM ws_sessions WHERE session_id = $1";
const EXTEND: &str = "UPDATE ws_sessions SET expires_at = $1 WHERE instance_id = $2";
const PURGE: &str = "DELETE FROM ws_sessions WHERE expires_at < $1";

impl Sessions {
    pub(crate) fn new(store: EventStore, config: SessionsConfig) -> Self {
        Self {
            store,
            instance: Uuid::now_v7().to_string(),
            config,
        }
    }

    pub(crate) fn config(&self) -> SessionsConfig {
        self.config
    }

    /// Opens a session for `user_key` unless it already has `max` live ones on any instance; the
    /// new session's id, or `None` when the user is at the limit.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn open(
        &self,
        user_key: &str,
        max: usize,
    ) -> Result<Option<String>, StoreError> {
        let now = now_ms();
        let id = Uuid::now_v7().to_string();
        let expires_at = now.saturating_add(ttl_ms(self.config.ttl));
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        macro_rules! open {
            ($tx:expr) => {{
                let mut tx = $tx;
                let live: i64 = sqlx::query_scalar(COUNT)
                    .bind(user_key)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                if live >= max {
                    tx.rollback().await?;
                    return Ok(None);
                }
                sqlx::query(INSERT)
                    .bind(&id)
                    .bind(user_key)
                    .bind(&self.instance)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }};
        }
        match &self.store {
            EventStore::Postgres(s) => {
                let mut tx = s.pool().begin().await?;
                // Openings for one user take turns; other users' do not wait.
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(format!("ws_sessions:{user_key}"))
                    .execute(&mut *tx)
                    .await?;
                open!(tx)
            }
            EventStore::Sqlite(s) => open!(s.pool().begin_with("BEGIN IMMEDIATE").await?),
        }
        Ok(Some(id))
    }

    /// Closes session `id` (its row goes; nothing when it expired already).
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn close(&self, id: &str) -> Result<(), StoreError> {
        match &self.store {
            EventStore::Postgres(s) => {
                sqlx::query(DELETE).bind(id).execute(s.pool()).await?;
            }
            EventStore::Sqlite(s) => {
                sqlx::query(DELETE).bind(id).execute(s.pool()).await?;
            }
        }
        Ok(())
    }

    /// Extends this instance's sessions by a TTL and deletes every expired row (of any instance).
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn heartbeat(&self) -> Result<(), StoreError> {
        let now = now_ms();
        let expires_at = now.saturating_add(ttl_ms(self.config.ttl));
        macro_rules! beat {
            ($pool:expr) => {{
                sqlx::query(EXTEND)
                    .bind(expires_at)
                    .bind(&self.instance)
                    .execute($pool)
                    .await?;
                sqlx::query(PURGE).bind(now).execute($pool).await?;
            }};
        }
        match &self.store {
            EventStore::Postgres(s) => beat!(s.pool()),
            EventStore::Sqlite(s) => beat!(s.pool()),
        }
        Ok(())
    }
}
