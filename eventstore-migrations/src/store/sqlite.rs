//! The SQLite connection (the embedded default) and its append: one writer connection, `BEGIN
//! IMMEDIATE` appends, WAL readers. The appender numbers rows; the schema's triggers refuse any
//! other number (ADR 0002).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection;

use super::row::EventRow;
use super::{Append, AppendError, RecordedEvent, StoreError, EVENT_COLUMNS};
use crate::db::{Db, Dialect};
use crate::pool::{MeteredPool, MeteredSqlitePool, PoolRole};

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

/// Opens (creating if missing) the database at `url` in WAL mode with `synchronous=FULL`: exactly one
/// writer connection (SQLite has one writer anyway, and a pool queue is fairer than `SQLITE_BUSY`
/// retries) and up to `max_connections` readers.
pub(super) async fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
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
    Ok(Db::Sqlite {
        write: MeteredPool::new(write, PoolRole::Write),
        read: MeteredPool::new(read, PoolRole::Read),
    })
}

pub(super) async fn append(
    write: &MeteredSqlitePool,
    append: Append,
) -> Result<Vec<RecordedEvent>, AppendError> {
    let mut tx = write
        .begin_with(Dialect::SQLITE.begin_write)
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
    let head = crate::log::lite::head(&mut tx)
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
        recorded.push(row.to_event()?);
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
