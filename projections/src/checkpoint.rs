//! `projection_checkpoints`: per projection, the last log position its read model reflects, whether it
//! is running or stopped on a failure (with the error), and when that last changed. The row is written
//! in the same transaction as the read-model rows, and it is the lock that keeps one runner at a time.

use chrono::Utc;
use serde::Serialize;

use crate::Projection;
use cms_eventstore::Db;

/// Whether a projection follows the log or stopped on an event it could not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Following the log.
    Running,
    /// Stopped at the event after its checkpoint; `error` says why. A rebuild restarts it.
    Failed,
}

impl State {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Failed => "failed",
        }
    }

    fn parse(s: &str) -> State {
        if s == "failed" {
            State::Failed
        } else {
            State::Running
        }
    }
}

/// A checkpoint row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last position the read model reflects.
    pub position: i64,
    /// Running or failed.
    pub state: State,
    /// Why it failed.
    pub error: Option<String>,
}

/// What `cms projections status` reports for one projection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectionStatus {
    /// The projection's name.
    pub projection: &'static str,
    /// Its checkpoint.
    pub position: i64,
    /// The log's last position.
    pub head: i64,
    /// `head - position`.
    pub lag: i64,
    /// Running or failed.
    pub state: State,
    /// Why it failed.
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    last_position: i64,
    status: String,
    error: Option<String>,
}

impl From<Row> for Checkpoint {
    fn from(row: Row) -> Self {
        Checkpoint {
            position: row.last_position,
            state: State::parse(&row.status),
            error: row.error,
        }
    }
}

const ENSURE: &str = "INSERT INTO projection_checkpoints (projection, last_position, status) \
     VALUES ($1, 0, 'running') ON CONFLICT (projection) DO NOTHING";
/// The position a projection's checkpoint reflects (no row: none).
pub(crate) const POSITION: &str =
    "SELECT last_position FROM projection_checkpoints WHERE projection = $1";
const SELECT: &str =
    "SELECT last_position, status, error FROM projection_checkpoints WHERE projection = $1";
const UPDATE: &str = "UPDATE projection_checkpoints \
     SET last_position = $2, status = $3, error = $4, updated_at = $5 WHERE projection = $1";

cms_eventstore::for_each_backend! {
    /// Creates the checkpoint row at 0 when it is missing.
    pub(crate) async fn ensure(conn: &mut Conn, projection: Projection) -> Result<(), sqlx::Error> {
        sqlx::query::<Sql>(ENSURE).bind(projection.name()).execute(&mut *conn).await?;
        Ok(())
    }

    /// Reads the checkpoint without locking it.
    pub(crate) async fn read(
        conn: &mut Conn,
        projection: Projection,
    ) -> Result<Option<Checkpoint>, sqlx::Error> {
        let row = sqlx::query_as::<Sql, Row>(SELECT)
            .bind(projection.name())
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.map(Checkpoint::from))
    }

    /// Locks and reads the checkpoint; `None` when another runner holds it (PostgreSQL) or the row
    /// is missing. `wait` blocks until the holder commits instead of skipping.
    pub(crate) async fn lock(
        conn: &mut Conn,
        projection: Projection,
        wait: bool,
    ) -> Result<Option<Checkpoint>, sqlx::Error> {
        let sql = format!("{SELECT}{}", if wait { DIALECT.lock_row } else { DIALECT.lock_row_skip_locked });
        let row = sqlx::query_as::<Sql, Row>(&sql)
            .bind(projection.name())
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.map(Checkpoint::from))
    }

    /// Writes the checkpoint (inside the transaction that wrote the read-model rows).
    pub(crate) async fn write(
        conn: &mut Conn,
        projection: Projection,
        checkpoint: &Checkpoint,
    ) -> Result<(), sqlx::Error> {
        sqlx::query::<Sql>(UPDATE)
            .bind(projection.name())
            .bind(checkpoint.position)
            .bind(checkpoint.state.as_str())
            .bind(checkpoint.error.as_deref())
            .bind(Utc::now())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// The checkpoint of `projection`, read on the query side (a reader connection).
///
/// # Errors
/// Storage failures; a missing row reads as position 0, running.
pub async fn current(db: &Db, projection: Projection) -> Result<Checkpoint, sqlx::Error> {
    let row = cms_eventstore::on_backend!(db.reader(), |conn| {
        sqlx::query_as::<Sql, Row>(SELECT)
            .bind(projection.name())
            .fetch_optional(&mut *conn)
            .await
    })?
    .map(Checkpoint::from);
    Ok(row.unwrap_or(Checkpoint {
        position: 0,
        state: State::Running,
        error: None,
    }))
}

/// Per projection: position, log head, lag and state (`cms projections status`).
///
/// # Errors
/// Storage failures.
pub async fn status(db: &Db) -> Result<Vec<ProjectionStatus>, sqlx::Error> {
    let head = cms_eventstore::log::head(db).await?;
    let mut out = Vec::new();
    for projection in Projection::ALL {
        let checkpoint = current(db, projection).await?;
        out.push(ProjectionStatus {
            projection: projection.name(),
            position: checkpoint.position,
            head,
            lag: head - checkpoint.position,
            state: checkpoint.state,
            error: checkpoint.error,
        });
    }
    Ok(out)
}
