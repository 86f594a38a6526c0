//! The WebSocket tables, shared by every instance: `ws_tickets` (one-use tickets, stored by hash)
//! and `ws_sessions` (open sockets, so a per-user limit holds across instances). The gateway owns
//! what they mean (`api/src/fanout/gateway`); this module owns their SQL.

use crate::db::Db;

/// A stored ticket.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TicketRow {
    /// The user the ticket was issued to.
    pub user_id: String,
    /// Their role.
    pub role: String,
    /// Their hostel scope as a JSON array.
    pub hostels: String,
    /// When their token expires (Unix seconds).
    pub token_expires_at: i64,
    /// When the ticket expires (Unix seconds).
    pub expires_at: i64,
}

/// Deletes tickets that expired before `now` and stores a new one under `ticket_hash`.
///
/// # Errors
/// Storage failures.
pub async fn issue_ticket(
    db: &Db,
    ticket_hash: &str,
    ticket: &TicketRow,
    now: i64,
) -> Result<(), sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query::<Sql>("DELETE FROM ws_tickets WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        sqlx::query::<Sql>(
            "INSERT INTO ws_tickets \
             (ticket_hash, user_id, role, hostels, token_expires_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ticket_hash)
        .bind(&ticket.user_id)
        .bind(&ticket.role)
        .bind(&ticket.hostels)
        .bind(ticket.token_expires_at)
        .bind(ticket.expires_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

/// The ticket stored under `ticket_hash`, left in place.
///
/// # Errors
/// Storage failures.
pub async fn peek_ticket(db: &Db, ticket_hash: &str) -> Result<Option<TicketRow>, sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query_as::<Sql, TicketRow>(
            "SELECT user_id, role, hostels, token_expires_at, expires_at \
             FROM ws_tickets WHERE ticket_hash = $1",
        )
        .bind(ticket_hash)
        .fetch_optional(&mut *conn)
        .await
    })
}

/// Deletes the ticket stored under `ticket_hash` and returns it: of two instances racing for one
/// ticket, exactly one gets it.
///
/// # Errors
/// Storage failures.
pub async fn redeem_ticket(db: &Db, ticket_hash: &str) -> Result<Option<TicketRow>, sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query_as::<Sql, TicketRow>(
            "DELETE FROM ws_tickets WHERE ticket_hash = $1 \
             RETURNING user_id, role, hostels, token_expires_at, expires_at",
        )
        .bind(ticket_hash)
        .fetch_optional(&mut *conn)
        .await
    })
}

/// A socket about to open.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    /// The new session's id.
    pub session_id: &'a str,
    /// Whose socket it is.
    pub user_key: &'a str,
    /// The instance that serves it.
    pub instance_id: &'a str,
    /// Milliseconds since the epoch, now.
    pub now_ms: i64,
    /// Milliseconds since the epoch when the row stops counting unless extended.
    pub expires_at_ms: i64,
}

/// Inserts `session` when its user has fewer than `max` live sessions; false when at the limit.
/// Openings for one user take turns (a transaction-scoped advisory lock on PostgreSQL, SQLite's
/// single writer); other users' do not wait.
///
/// # Errors
/// Storage failures.
pub async fn open_session(db: &Db, session: NewSession<'_>, max: i64) -> Result<bool, sqlx::Error> {
    crate::on_backend!(
        db.writer(),
        tx | conn | {
            if DIALECT.is_postgres() {
                sqlx::query::<Sql>("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(format!("ws_sessions:{}", session.user_key))
                    .execute(&mut *conn)
                    .await?;
            }
            let live: i64 = sqlx::query_scalar::<Sql, i64>(
                "SELECT count(*) FROM ws_sessions WHERE user_key = $1 AND expires_at >= $2",
            )
            .bind(session.user_key)
            .bind(session.now_ms)
            .fetch_one(&mut *conn)
            .await?;
            if live >= max {
                return Ok::<bool, sqlx::Error>(false);
            }
            sqlx::query::<Sql>(
                "INSERT INTO ws_sessions (session_id, user_key, instance_id, expires_at) \
             VALUES ($1, $2, $3, $4)",
            )
            .bind(session.session_id)
            .bind(session.user_key)
            .bind(session.instance_id)
            .bind(session.expires_at_ms)
            .execute(&mut *conn)
            .await?;
            Ok(true)
        }
    )
}

/// Deletes a session's row.
///
/// # Errors
/// Storage failures.
pub async fn close_session(db: &Db, session_id: &str) -> Result<(), sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query::<Sql>("DELETE FROM ws_sessions WHERE session_id = $1")
            .bind(session_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// Extends every row of `instance_id` to `expires_at_ms` and deletes rows that expired before
/// `now_ms` (those of instances that died).
///
/// # Errors
/// Storage failures.
pub async fn extend_sessions(
    db: &Db,
    instance_id: &str,
    now_ms: i64,
    expires_at_ms: i64,
) -> Result<(), sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query::<Sql>("UPDATE ws_sessions SET expires_at = $1 WHERE instance_id = $2")
            .bind(expires_at_ms)
            .bind(instance_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query::<Sql>("DELETE FROM ws_sessions WHERE expires_at < $1")
            .bind(now_ms)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}
