//! The PostgreSQL append: positions come from the `event_log_head` trigger, one transaction per
//! append, all of a command's events in one `INSERT … SELECT FROM UNNEST` (rows in sequence order, so
//! the row trigger numbers them in that order).

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

use super::row::EventRow;
use super::{Append, AppendError, RecordedEvent, StoreError, EVENT_COLUMNS};
use crate::db::Db;
use crate::pool::{MeteredPgPool, MeteredPool, PoolRole};

/// Opens a pool of at most `max_connections` to `url`.
pub(super) async fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    Ok(Db::Postgres(MeteredPool::new(pool, PoolRole::Write)))
}

pub(super) async fn append(
    pool: &MeteredPgPool,
    append: Append,
) -> Result<Vec<RecordedEvent>, AppendError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
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
            recorded.push(row.to_event()?);
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
