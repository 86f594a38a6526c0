//! Decoding the store's rows: the one place the backends' column types differ (PostgreSQL has
//! `uuid`, `timestamptz` and `jsonb`; SQLite keeps all three as text).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::{IdempotencyRecord, RecordedEvent, StoreError};

/// A row of `events` or `command_idempotency`, on either backend.
pub(crate) trait EventRow {
    /// An `events` row selected with every column.
    fn to_event(&self) -> Result<RecordedEvent, StoreError>;
    /// A `command_idempotency` row (without its key columns, which the caller knows).
    fn to_idempotency_record(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<IdempotencyRecord, StoreError>;
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl EventRow for PgRow {
    fn to_event(&self) -> Result<RecordedEvent, StoreError> {
        Ok(RecordedEvent {
            global_position: self.try_get("global_position")?,
            event_id: self.try_get::<Uuid, _>("event_id")?,
            recorded_at: self.try_get("recorded_at")?,
            aggregate_type: self.try_get("aggregate_type")?,
            aggregate_id: self.try_get("aggregate_id")?,
            sequence: self.try_get("sequence")?,
            event_type: self.try_get("event_type")?,
            event_version: self.try_get("event_version")?,
            payload: self.try_get("payload")?,
            metadata: self.try_get("metadata")?,
        })
    }

    fn to_idempotency_record(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<IdempotencyRecord, StoreError> {
        Ok(IdempotencyRecord {
            scope: scope.to_owned(),
            key: key.to_owned(),
            request_hash: self.try_get("request_hash")?,
            aggregate_type: self.try_get("aggregate_type")?,
            aggregate_id: self.try_get("aggregate_id")?,
            status_code: u16::try_from(self.try_get::<i16, _>("status_code")?).map_err(corrupt)?,
            response: self.try_get("response")?,
            position: self.try_get("position")?,
        })
    }
}

fn json(row: &SqliteRow, column: &str) -> Result<serde_json::Value, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

impl EventRow for SqliteRow {
    fn to_event(&self) -> Result<RecordedEvent, StoreError> {
        let event_id: String = self.try_get("event_id")?;
        let recorded_at: String = self.try_get("recorded_at")?;
        Ok(RecordedEvent {
            global_position: self.try_get("global_position")?,
            event_id: Uuid::parse_str(&event_id).map_err(corrupt)?,
            recorded_at: DateTime::parse_from_rfc3339(&recorded_at)
                .map_err(corrupt)?
                .with_timezone(&Utc),
            aggregate_type: self.try_get("aggregate_type")?,
            aggregate_id: self.try_get("aggregate_id")?,
            sequence: self.try_get("sequence")?,
            event_type: self.try_get("event_type")?,
            event_version: self.try_get("event_version")?,
            payload: json(self, "payload")?,
            metadata: json(self, "metadata")?,
        })
    }

    fn to_idempotency_record(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<IdempotencyRecord, StoreError> {
        Ok(IdempotencyRecord {
            scope: scope.to_owned(),
            key: key.to_owned(),
            request_hash: self.try_get("request_hash")?,
            aggregate_type: self.try_get("aggregate_type")?,
            aggregate_id: self.try_get("aggregate_id")?,
            status_code: u16::try_from(self.try_get::<i64, _>("status_code")?).map_err(corrupt)?,
            response: json(self, "response")?,
            position: self.try_get("position")?,
        })
    }
}
