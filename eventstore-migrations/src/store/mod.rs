//! The event store: the global, append-only log behind every aggregate, on PostgreSQL or SQLite.
//!
//! Every operation but the append is written once for both backends ([`crate::on_backend!`]); the
//! append differs (`postgres.rs`: a trigger numbers rows under the counter's lock; `sqlite.rs`: the
//! single writer numbers them), and so does decoding a row (`row.rs`). What the backends guarantee (ARCHITECTURE section 3, docs/adr/0002):
//! - every event gets a global position that is commit-ordered, contiguous and gap-free;
//! - rows are never updated or deleted (the database refuses);
//! - a command's events and its idempotency record commit together or not at all.

mod postgres;
mod repository;
mod row;
mod sqlite;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

pub use repository::CqrsRepository;

use crate::db::{Backend, Db};
use row::EventRow;

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

/// The event store on its database; cheap to clone (pools are shared).
#[derive(Debug, Clone)]
pub struct EventStore {
    db: Db,
}

const EVENT_COLUMNS: &str =
    "global_position, event_id, recorded_at, aggregate_type, aggregate_id, \
     sequence, event_type, event_version, payload, metadata";

impl EventStore {
    /// Connects to `url` (`postgres://…` or `sqlite:…`) with at most `max_connections` per pool.
    ///
    /// # Errors
    /// A malformed URL or an unreachable database.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            postgres::connect(url, max_connections).await?
        } else {
            sqlite::connect(url, max_connections).await?
        };
        Ok(Self { db })
    }

    /// The store on an open database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The database: projectors write read models through its writer (SQLite's single writer is
    /// shared with appends), queries use its readers, and every other table of CMS lives there too.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The backend's name, for logs and health output.
    pub fn backend(&self) -> &'static str {
        self.db.backend().as_str()
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// A migration that fails or a database whose applied migrations differ from the embedded ones.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Postgres(pool) => crate::migrations::postgres().run(pool).await?,
            Db::Sqlite { write, .. } => crate::migrations::sqlite().run(write).await?,
        }
        Ok(())
    }

    /// True when every embedded migration is applied.
    ///
    /// # Errors
    /// The database cannot be queried.
    pub async fn migrations_applied(&self) -> Result<bool, StoreError> {
        let migrator = match self.db.backend() {
            Backend::Postgres => crate::migrations::postgres(),
            Backend::Sqlite => crate::migrations::sqlite(),
        };
        let applied: Option<Vec<i64>> = crate::on_backend!(self.db.reader(), |conn| {
            let exists: bool = sqlx::query_scalar::<Sql, bool>(if DIALECT.is_postgres() {
                "SELECT to_regclass('_sqlx_migrations') IS NOT NULL"
            } else {
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            })
            .fetch_one(&mut *conn)
            .await?;
            if exists {
                Ok::<_, StoreError>(Some(
                    sqlx::query_scalar::<Sql, i64>(
                        "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
                    )
                    .fetch_all(&mut *conn)
                    .await?,
                ))
            } else {
                Ok(None)
            }
        })?;
        let Some(applied) = applied else {
            return Ok(false);
        };
        Ok(migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .all(|m| applied.contains(&m.version)))
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
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence"
        );
        crate::on_backend!(self.db.reader(), |conn| {
            let rows = sqlx::query::<Sql>(&sql)
                .bind(aggregate_type)
                .bind(aggregate_id)
                .fetch_all(&mut *conn)
                .await?;
            rows.iter().map(EventRow::to_event).collect()
        })
    }

    /// Appends one command's events (and idempotency record) atomically; returns them as recorded,
    /// in sequence order. With no events, only the idempotency record is written.
    ///
    /// # Errors
    /// [`AppendError::Conflict`] when the aggregate moved on, [`AppendError::DuplicateKey`] when the
    /// idempotency key was taken meanwhile, otherwise a storage failure.
    pub async fn append(&self, append: Append) -> Result<Vec<RecordedEvent>, AppendError> {
        check_append(&append)?;
        match &self.db {
            Db::Postgres(pool) => postgres::append(pool, append).await,
            Db::Sqlite { write, .. } => sqlite::append(write, append).await,
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
        crate::on_backend!(self.db.reader(), |conn| {
            let row = sqlx::query::<Sql>(
                "SELECT request_hash, aggregate_type, aggregate_id, status_code, response, position \
                 FROM command_idempotency WHERE scope = $1 AND idempotency_key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            row.map(|row| row.to_idempotency_record(scope, key))
                .transpose()
        })
    }

    /// Up to `limit` events with a global position above `after`, in position order, whole (with
    /// their metadata; [`crate::log`] reads what projections need).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn read_log(&self, after: i64, limit: i64) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE global_position > $1 \
             ORDER BY global_position LIMIT $2"
        );
        crate::on_backend!(self.db.reader(), |conn| {
            let rows = sqlx::query::<Sql>(&sql)
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
            rows.iter().map(EventRow::to_event).collect()
        })
    }

    /// The position of the last committed event (0 for an empty log): [`crate::log::head`].
    ///
    /// # Errors
    /// Storage failures.
    pub async fn head(&self) -> Result<i64, StoreError> {
        Ok(crate::log::head(&self.db).await?)
    }

    /// Ids of every aggregate of a type, oldest first (for small admin listings such as hostels).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn aggregate_ids(&self, aggregate_type: &str) -> Result<Vec<String>, StoreError> {
        crate::on_backend!(self.db.reader(), |conn| {
            Ok(sqlx::query_scalar::<Sql, String>(
                "SELECT aggregate_id FROM events WHERE aggregate_type = $1 AND sequence = 1 \
                 ORDER BY global_position",
            )
            .bind(aggregate_type)
            .fetch_all(&mut *conn)
            .await?)
        })
    }

    /// Round-trips a trivial query.
    ///
    /// # Errors
    /// The database is unreachable.
    pub async fn ping(&self) -> Result<(), StoreError> {
        crate::on_backend!(self.db.reader(), |conn| {
            sqlx::query::<Sql>("SELECT 1").execute(&mut *conn).await?;
            Ok(())
        })
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
