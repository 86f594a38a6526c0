//! The event store: the global, append-only log behind every aggregate, on PostgreSQL or SQLite.
//!
//! [`EventStore`] is a closed enum over the two backends rather than a trait object: both are known,
//! async trait objects would box every call, and a `match` keeps each operation's two implementations
//! side by side. What the backends guarantee (ARCHITECTURE section 3, docs/adr/0002):
//! - every event gets a global position that is commit-ordered, contiguous and gap-free;
//! - rows are never updated or deleted (the database refuses);
//! - a command's events and its idempotency record commit together or not at all.

mod postgres;
mod repository;
mod sqlite;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

pub use postgres::PgEventStore;
pub use repository::CqrsRepository;
pub use sqlite::SqliteEventStore;

/// One event as the log holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub global_position: i64,
    pub event_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

/// An event about to be appended; the store assigns its position and time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

/// What a successful command answered, kept under its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    /// The principal that sent the key: keys of different users never meet.
    pub scope: String,
    pub key: String,
    /// SHA-256 of the request (method, path, body), to refuse the same key with another body.
    pub request_hash: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub status_code: u16,
    /// The response body, without the position (stored beside it).
    pub response: Value,
    /// The position the response reflects (the last event of the command, or of the aggregate).
    pub position: i64,
}

/// One atomic append: the events of one command on one aggregate, and optionally its idempotency record.
#[derive(Debug, Clone)]
pub struct Append {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The sequence of the last event the decision saw (0 for a new aggregate).
    pub expected_sequence: i64,
    pub events: Vec<NewEvent>,
    /// Written in the same transaction; `position` is filled in by the store when events are appended.
    pub idempotency: Option<IdempotencyRecord>,
}

/// Why an append did not commit.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer appended to the same aggregate since it was loaded.
    #[error("the aggregate changed since it was loaded")]
    Conflict,
    /// Another request with the same idempotency key committed first.
    #[error("the idempotency key was used by a concurrent request")]
    DuplicateKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A storage failure (connection, query, or a row that cannot be read back).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored row is unreadable: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The event store, on one of its two backends.
#[derive(Debug, Clone)]
pub enum EventStore {
    Postgres(PgEventStore),
    Sqlite(SqliteEventStore),
}

impl EventStore {
    /// Connects to `url` (`postgres://…` or `sqlite:…`) with at most `max_connections` per pool.
    ///
    /// # Errors
    /// A malformed URL or an unreachable database.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(
                PgEventStore::connect(url, max_connections).await?,
            ))
        } else {
            Ok(Self::Sqlite(
                SqliteEventStore::connect(url, max_connections).await?,
            ))
        }
    }

    /// The backend's name, for logs and health output.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }

    /// The same database as the read side sees it: projectors write read models through the
    /// writer (SQLite's single writer is shared with appends), queries use the readers.
    pub fn read_db(&self) -> cms_projections::db::ReadDb {
        match self {
            Self::Postgres(s) => cms_projections::db::ReadDb::Postgres(s.pool().clone()),
            Self::Sqlite(s) => cms_projections::db::ReadDb::Sqlite {
                write: s.pool().clone(),
                read: s.read_pool().clone(),
            },
        }
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// A migration that fails or a database whose applied migrations differ from the embedded ones.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(s) => s.migrate().await,
            Self::Sqlite(s) => s.migrate().await,
        }
    }

    /// True when every embedded migration is applied.
    ///
    /// # Errors
    /// The database cannot be queried.
    pub async fn migrations_applied(&self) -> Result<bool, StoreError> {
        match self {
            Self::Postgres(s) => s.migrations_applied().await,
            Self::Sqlite(s) => s.migrations_applied().await,
        }
    }

    /// The events of one aggregate in sequence order.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        match self {
            Self::Postgres(s) => s.load(aggregate_type, aggregate_id).await,
            Self::Sqlite(s) => s.load(aggregate_type, aggregate_id).await,
        }
    }

    /// Appends one command's events (and idempotency record) atomically; returns them as recorded,
    /// in sequence order. With no events, only the idempotency record is written.
    ///
    /// # Errors
    /// [`AppendError::Conflict`] when the aggregate moved on, [`AppendError::DuplicateKey`] when the
    /// idempotency key was taken meanwhile, otherwise a storage failure.
    pub async fn append(&self, append: Append) -> Result<Vec<RecordedEvent>, AppendError> {
        match self {
            Self::Postgres(s) => s.append(append).await,
            Self::Sqlite(s) => s.append(append).await,
        }
    }

    /// The idempotency record of `key` sent by `scope`, if a command with it committed.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn idempotency_record(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        match self {
            Self::Postgres(s) => s.idempotency_record(scope, key).await,
            Self::Sqlite(s) => s.idempotency_record(scope, key).await,
        }
    }

    /// Up to `limit` events with a global position above `after`, in position order.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn read_log(&self, after: i64, limit: i64) -> Result<Vec<RecordedEvent>, StoreError> {
        match self {
            Self::Postgres(s) => s.read_log(after, limit).await,
            Self::Sqlite(s) => s.read_log(after, limit).await,
        }
    }

    /// The position of the last committed event (0 for an empty log).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn head(&self) -> Result<i64, StoreError> {
        match self {
            Self::Postgres(s) => s.head().await,
            Self::Sqlite(s) => s.head().await,
        }
    }

    /// Ids of every aggregate of a type, oldest first (for small admin listings such as hostels).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn aggregate_ids(&self, aggregate_type: &str) -> Result<Vec<String>, StoreError> {
        match self {
            Self::Postgres(s) => s.aggregate_ids(aggregate_type).await,
            Self::Sqlite(s) => s.aggregate_ids(aggregate_type).await,
        }
    }

    /// Round-trips a trivial query.
    ///
    /// # Errors
    /// The database is unreachable.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(s) => s.ping().await,
            Self::Sqlite(s) => s.ping().await,
        }
    }
}

fn check_append(append: &Append) -> Result<(), AppendError> {
    if append.events.is_empty() && append.idempotency.is_none() {
        return Err(AppendError::Store(StoreError::Corrupt(
            "an append must carry events or an idempotency record".into(),
        )));
    }
    Ok(())
}
