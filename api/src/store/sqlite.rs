//! The SQLite backend (the embedded default): one writer connection, `BEGIN IMMEDIATE` appends, WAL
//! readers. The appender numbers rows; the schema's triggers refuse any other number (ADR 0002).

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cms_projections::pool::{MeteredPool, MeteredSqlitePool};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row};
use uuid::Uuid;

use crate::metrics::names::Pool;

use super::{check_append, Append, AppendError, IdempotencyRecord, RecordedEvent, StoreError};

const EVENT_COLUMNS: &str =
    "global_position, event_id, recorded_at, aggregate_type, aggregate_id, \
                             sequence, event_type, event_version, payload, metadata";

/// Pool options shared by the writer and the readers: a connection handed back while still inside
/// a transaction is closed (SQLite rolls it back), never reused.
///
/// sqlx 0.8 cannot always undo a cancelled `BEGIN` on SQLite: when the caller's future is dropped
/// after the worker thread ran `BEGIN` and queued the reply, no `Transaction` exists to roll back, and
/// the connection would go back to the pool with the transaction open. On the single writer that
/// wedges every later append and projector step (`BEGIN IMMEDIATE` inside a transaction is refused);
/// on a reader it pins an old snapshot. A client that disconnects mid-request, or a projector that is
/// stopped, is enough to cause it. A dropped `Transaction` queues its rollback on the worker, so the
/// check first lets the worker drain its queue (a ping) before it judges.
fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new().after_release(|conn, _| {
        Box::pin(async move {
            if conn.is_in_transaction() {
                conn.ping().await?;
            }
            if conn.is_in_transaction() {
                tracing::warn!("closing a SQLite connection released inside a transaction");
                return Ok(false);
            }
            Ok(true)
        })
    })
}

/// The event store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteEventStore {
    /// Exactly one connection: SQLite has one writer anyway, and a pool queue is fairer than
    /// `SQLITE_BUSY` retries.
    write: MeteredSqlitePool,
    read: MeteredSqlitePool,
}

impl SqliteEventStore {
    /// Opens (creating if missing) the database at `url` in WAL mode with `synchronous=FULL`.
    ///
    /// # Errors
    /// A malformed URL or a file that cannot be opened.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = pool_options()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let read = pool_options()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            write: MeteredPool::new(write, Pool::Write.as_str()),
            read: MeteredPool::new(read, Pool::Read.as_str()),
        })
    }

    /// The writer pool (tests and tools that need raw SQL).
    pub fn pool(&self) -> &MeteredSqlitePool {
        &self.write
    }

    /// The reader pool.
    pub fn read_pool(&self) -> &MeteredSqlitePool {
        &self.read
    }

    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        cms_eventstore_migrations::sqlite().run(&self.write).await?;
        Ok(())
    }

    pub(super) async fn migrations_applied(&self) -> Result<bool, StoreError> {
        let exists: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.read)
        .await?;
        if exists == 0 {
            return Ok(false);
        }
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(cms_eventstore_migrations::sqlite()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .all(|m| applied.contains(&m.version)))
    }

    pub(super) async fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE aggregate_type = ?1 AND aggregate_id = ?2 ORDER BY sequence"
        );
        let rows = sqlx::query(&sql)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(decode_event).collect()
    }

    pub(super) async fn append(&self, append: Append) -> Result<Vec<RecordedEvent>, AppendError> {
        check_append(&append)?;
        let mut tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from)?;
        // The write lock is ours until commit, so these checks cannot race another writer.
        if let Some(record) = &append.idempotency {
            let taken: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM command_idempotency WHERE scope = ?1 AND idempotency_key = ?2",
            )
            .bind(&record.scope)
            .bind(&record.key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            if taken.is_some() {
                return Err(AppendError::DuplicateKey);
            }
        }
        let current: i64 = sqlx::query_scalar(
            "SELECT COALESCE(max(sequence), 0) FROM events WHERE aggregate_type = ?1 AND aggregate_id = ?2",
        )
        .bind(&append.aggregate_type)
        .bind(&append.aggregate_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        if current != append.expected_sequence {
            return Err(AppendError::Conflict);
        }
        let head: i64 = sqlx::query_scalar("SELECT last_position FROM event_log_head")
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let sql = format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                                 payload, metadata, global_position, event_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING {EVENT_COLUMNS}"
        );
        let mut recorded = Vec::with_capacity(append.events.len());
        for (offset, event) in (1_i64..).zip(&append.events) {
            let row = sqlx::query(&sql)
                .bind(&append.aggregate_type)
                .bind(&append.aggregate_id)
                .bind(append.expected_sequence + offset)
                .bind(&event.event_type)
                .bind(&event.event_version)
                .bind(event.payload.to_string())
                .bind(event.metadata.to_string())
                .bind(head + offset)
                .bind(event.event_id.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            recorded.push(decode_event(&row)?);
        }
        if let Some(mut record) = append.idempotency {
            if let Some(last) = recorded.last() {
                record.position = last.global_position;
            }
            sqlx::query(
                "INSERT INTO command_idempotency (scope, idempotency_key, request_hash, aggregate_type, \
                                                  aggregate_id, status_code, response, position) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .bind(&record.scope)
            .bind(&record.key)
            .bind(&record.request_hash)
            .bind(&record.aggregate_type)
            .bind(&record.aggregate_id)
            .bind(i64::from(record.status_code))
            .bind(record.response.to_string())
            .bind(record.position)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(recorded)
    }

    pub(super) async fn idempotency_record(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT request_hash, aggregate_type, aggregate_id, status_code, response, position \
             FROM command_idempotency WHERE scope = ?1 AND idempotency_key = ?2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok(IdempotencyRecord {
                scope: scope.to_owned(),
                key: key.to_owned(),
                request_hash: row.try_get("request_hash")?,
                aggregate_type: row.try_get("aggregate_type")?,
                aggregate_id: row.try_get("aggregate_id")?,
                status_code: u16::try_from(row.try_get::<i64, _>("status_code")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                response: json(&row, "response")?,
                position: row.try_get("position")?,
            })
        })
        .transpose()
    }

    pub(super) async fn read_log(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE global_position > ?1 \
             ORDER BY global_position LIMIT ?2"
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(decode_event).collect()
    }

    pub(super) async fn head(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT last_position FROM event_log_head")
                .fetch_one(&self.read)
                .await?,
        )
    }

    pub(super) async fn aggregate_ids(
        &self,
        aggregate_type: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT aggregate_id FROM events WHERE aggregate_type = ?1 AND sequence = 1 \
             ORDER BY global_position",
        )
        .bind(aggregate_type)
        .fetch_all(&self.read)
        .await?)
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }
}

fn json(row: &SqliteRow, column: &str) -> Result<serde_json::Value, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn decode_event(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let event_id: String = row.try_get("event_id")?;
    let recorded_at: String = row.try_get("recorded_at")?;
    Ok(RecordedEvent {
        global_position: row.try_get("global_position")?,
        event_id: Uuid::parse_str(&event_id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        recorded_at: DateTime::parse_from_rfc3339(&recorded_at)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
            .with_timezone(&Utc),
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: json(row, "payload")?,
        metadata: json(row, "metadata")?,
    })
}
