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

use cms_eventstore::sockets::{self, NewSession};
use cms_eventstore::store::{EventStore, StoreError};

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
        let opened = sockets::open_session(
            self.store.db(),
            NewSession {
                session_id: &id,
                user_key,
                instance_id: &self.instance,
                now_ms: now,
                expires_at_ms: expires_at,
            },
            max,
        )
        .await?;
        if !opened {
            return Ok(None);
        }
        Ok(Some(id))
    }

    /// Closes session `id` (its row goes; nothing when it expired already).
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn close(&self, id: &str) -> Result<(), StoreError> {
        sockets::close_session(self.store.db(), id).await?;
        Ok(())
    }

    /// Extends this instance's sessions by a TTL and deletes every expired row (of any instance).
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn heartbeat(&self) -> Result<(), StoreError> {
        let now = now_ms();
        let expires_at = now.saturating_add(ttl_ms(self.config.ttl));
        sockets::extend_sessions(self.store.db(), &self.instance, now, expires_at).await?;
        Ok(())
    }
}
