//! Reading the global log in position order: the one reader every consumer of the log uses
//! (projectors, the relay, the sealer, the hub's gap filling), and the one definition of its head.
//!
//! The payload comes back as text, so an undecodable payload reaches the consumer (a projection
//! stops on it) instead of failing the read.

use crate::db::Db;

/// One event of the log, as its consumers see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LogEvent {
    /// The global, gap-free position.
    pub global_position: i64,
    /// `Complaint`, `Hostel`, ...
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// The stored event name.
    pub event_type: String,
    /// The stored event version.
    pub event_version: String,
    /// The payload's JSON text.
    pub payload: String,
}

const READ: &str = "SELECT global_position, aggregate_type, aggregate_id, event_type, \
     event_version, CAST(payload AS TEXT) AS payload FROM events \
     WHERE global_position > $1 ORDER BY global_position LIMIT $2";

/// The head: the position counter's committed value. Writers hold the counter row's lock until they
/// commit, and readers see only committed rows, so this is the last committed position, and (the log
/// being gap-free) also the number of events.
const HEAD: &str = "SELECT last_position FROM event_log_head";

crate::for_each_backend! {
    /// Up to `limit` events after `after`, in position order.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn read(
        conn: &mut Conn,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LogEvent>, sqlx::Error> {
        sqlx::query_as::<Sql, LogEvent>(READ)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
    }

    /// The position of the last committed event (0 for an empty log).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn head(conn: &mut Conn) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar::<Sql, i64>(HEAD).fetch_one(&mut *conn).await
    }
}

/// The position of the last committed event (0 for an empty log), read on a reader.
///
/// # Errors
/// Storage failures.
pub async fn head(db: &Db) -> Result<i64, sqlx::Error> {
    crate::on_backend!(db.reader(), |conn, backend| backend::head(conn).await)
}
