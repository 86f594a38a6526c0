//! The PostgreSQL backend: positions come from the `event_log_head` trigger, one transaction per append.

use std::time::Duration;

use cms_projections::pool::{MeteredPgPool, MeteredPool};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::Row;
use uuid::Uuid;

use crate::metrics::names::Pool;

use super::{check_append, Append, AppendError, IdempotencyRecord, RecordedEvent, StoreError};

const EVENT_COLUMNS: &str =
    "global_position, event_id, recorded_at, aggregate_type, aggregate_id, \
                             sequence, event_type, event_version, payload, metadata";

/// The event store on a PostgreSQL primary.
#[derive(Debug, Clone)]
pub struct PgEventStore {
    pool: MeteredPgPool,
}

impl PgEventStore {
    /// Opens a pool of at most `max_connections` to `url`.
    ///
    /// # Errors
    /// A malformed URL or an unreachable server.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self {
            pool: MeteredPool::new(pool, Pool::Write.as_str()),
        })
    }

    /// The underlying pool (tests and tools that need raw SQL).
    pub fn pool(&self) -> &MeteredPgPool {
        &self.pool
    }

    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        cms_eventstore_migrations::postgres()
            .run(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn migrations_applied(&self) -> Result<bool, StoreError> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        if !exists {
            return Ok(false);
        }
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await?;
        let wanted: Vec<i64> = cms_eventstore_migrations::postgres()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| m.version)
            .collect();
        Ok(wanted.iter().all(|v| applied.contains(v)))
    }

    pub(super) async fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence"
        );
        let rows = sqlx::query(&sql)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_event).collect()
    }

    pub(super) async fn append(&self, append: Append) -> Result<Vec<RecordedEvent>, AppendError> {
        check_append(&append)?;
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let mut recorded = Vec::with_capacity(append.events.len());
        if !append.events.is_empty() {
            let n = append.events.len();
            let mut sequences = Vec::with_capacity(n);
            let mut ids = Vec::with_capacity(n);
            let mut types = Vec::with_capacity(n);
            let mut versions = Vec::with_capacity(n);
            let mut payloads = Vec::with_capacity(n);
            let mut metadata = Vec::with_capacity(n);
            for (offset, event) in (1_i64..).zip(&append.events) {
                sequences.push(append.expected_sequence + offset);
                ids.push(event.event_id);
                types.push(event.event_type.as_str());
                versions.push(event.event_version.as_str());
                payloads.push(&event.payload);
                metadata.push(&event.metadata);
            }
            // One statement, rows in sequence order: the row trigger numbers them in that order.
            let sql = format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_id, event_type, \
                                     event_version, payload, metadata) \
                 SELECT $1, $2, e.sequence, e.event_id, e.event_type, e.event_version, e.payload, e.metadata \
                 FROM UNNEST($3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[]) \
                      AS e(sequence, event_id, event_type, event_version, payload, metadata) \
                 ORDER BY e.sequence \
                 RETURNING {EVENT_COLUMNS}"
            );
            let rows = sqlx::query(&sql)
                .bind(&append.aggregate_type)
                .bind(&append.aggregate_id)
                .bind(&sequences)
                .bind(&ids)
                .bind(&types)
                .bind(&versions)
                .bind(&payloads)
                .bind(&metadata)
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
            for row in &rows {
                recorded.push(decode_event(row)?);
            }
            recorded.sort_by_key(|e| e.sequence);
        }
        if let Some(mut record) = append.idempotency {
            if let Some(last) = recorded.last() {
                record.position = last.global_position;
            }
            sqlx::query(
                "INSERT INTO command_idempotency (scope, idempotency_key, request_hash, aggregate_type, \
                                                  aggregate_id, status_code, response, position) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&record.scope)
            .bind(&record.key)
            .bind(&record.request_hash)
            .bind(&record.aggregate_type)
            .bind(&record.aggregate_id)
            .bind(i16::try_from(record.status_code).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            .bind(&record.response)
            .bind(record.position)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(recorded)
    }

    pub(super) async fn idempotency_record(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT request_hash, aggregate_type, aggregate_id, status_code, response, position \
             FROM command_idempotency WHERE scope = $1 AND idempotency_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(IdempotencyRecord {
                scope: scope.to_owned(),
                key: key.to_owned(),
                request_hash: row.try_get("request_hash")?,
                aggregate_type: row.try_get("aggregate_type")?,
                aggregate_id: row.try_get("aggregate_id")?,
                status_code: u16::try_from(row.try_get::<i16, _>("status_code")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                response: row.try_get("response")?,
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
            "SELECT {EVENT_COLUMNS} FROM events WHERE global_position > $1 \
             ORDER BY global_position LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_event).collect()
    }

    pub(super) async fn head(&self) -> Result<i64, StoreError> {
        // The committed head: max(position) of visible rows, not the counter, which a writer may
        // have advanced inside a transaction that has not committed yet.
        Ok(
            sqlx::query_scalar("SELECT COALESCE(max(global_position), 0)::bigint FROM events")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub(super) async fn aggregate_ids(
        &self,
        aggregate_type: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT aggregate_id FROM events WHERE aggregate_type = $1 AND sequence = 1 \
             ORDER BY global_position",
        )
        .bind(aggregate_type)
        .fetch_all(&self.pool)
        .await?)
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

fn decode_event(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    Ok(RecordedEvent {
        global_position: row.try_get("global_position")?,
        event_id: row.try_get::<Uuid, _>("event_id")?,
        recorded_at: row.try_get("recorded_at")?,
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
    })
}

fn classify(error: sqlx::Error) -> AppendError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            match db.constraint() {
                Some("events_pkey") => return AppendError::Conflict,
                Some("command_idempotency_pkey") => return AppendError::DuplicateKey,
                _ => {}
            }
        }
    }
    AppendError::Store(StoreError::Database(error))
}
