//! The projector's own read of the global log. It selects only what projections need, with the payload
//! as text, so an undecodable payload reaches the projection (which stops on it) instead of failing the
//! read. The API's store types stay in the API (docs/adr/0005).

/// One event of the log, as projections see it.
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

const READ_LOG: &str = "SELECT global_position, aggregate_type, aggregate_id, event_type, \
     event_version, CAST(payload AS TEXT) AS payload FROM events \
     WHERE global_position > $1 ORDER BY global_position LIMIT $2";

const HEAD: &str = "SELECT last_position FROM event_log_head";

crate::for_each_backend! {
    /// Up to `limit` events after `after`, in position order.
    pub(crate) async fn read(
        conn: &mut Conn,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LogEvent>, sqlx::Error> {
        sqlx::query_as::<Db, LogEvent>(READ_LOG)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
    }

    /// The position of the last committed event.
    pub(crate) async fn head(conn: &mut Conn) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar::<Db, i64>(HEAD).fetch_one(&mut *conn).await
    }
}
