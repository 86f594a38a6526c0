//! WebSocket tickets: `POST /v1/ws/ticket` trades a bearer token for a random ticket that is valid
//! for a few seconds and once; `GET /v1/ws?ticket=...` redeems it. Tickets live in the database
//! (`ws_tickets`, only their SHA-256), so the socket may open on any instance, and redeeming deletes
//! the row, so a ticket works once even when two instances race for it. A ticket carries the token's
//! expiry: the socket closes when the token would have expired. The gateway [`peek`]s a ticket to
//! run its checks and [`redeem`]s it only when the socket is about to open, so a refused request
//! (a subscription out of scope, too many sockets) does not use the ticket up.

use chrono::Utc;
use cms_domain::actor::{Actor, Role};
use cms_domain::ids::UserId;
use rand::RngCore;

use crate::auth::{hostels_from_scope, scope_from_hostels};
use crate::store::{EventStore, StoreError};

/// A redeemed ticket: who, and until when their token is valid (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub actor: Actor,
    pub token_expires_at: i64,
}

fn hash(ticket: &str) -> String {
    crate::photos::sha256_hex(ticket.as_bytes())
}

/// Issues a ticket for `actor`, valid for `ttl_secs` but never past `token_expires_at`.
///
/// # Errors
/// Storage failures.
pub async fn issue(
    store: &EventStore,
    actor: &Actor,
    token_expires_at: i64,
    ttl_secs: i64,
) -> Result<(String, i64), StoreError> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let ticket = hex::encode(bytes);
    let now = Utc::now().timestamp();
    let expires_at = (now + ttl_secs).min(token_expires_at);
    let hostels = serde_json::to_string(&hostels_from_scope(&actor.scope))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    const PURGE: &str = "DELETE FROM ws_tickets WHERE expires_at < $1";
    const INSERT: &str = "INSERT INTO ws_tickets \
         (ticket_hash, user_id, role, hostels, token_expires_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    macro_rules! run {
        ($pool:expr) => {{
            sqlx::query(PURGE).bind(now).execute($pool).await?;
            sqlx::query(INSERT)
                .bind(hash(&ticket))
                .bind(actor.id.to_string())
                .bind(actor.role.as_str())
                .bind(&hostels)
                .bind(token_expires_at)
                .bind(expires_at)
                .execute($pool)
                .await?;
        }};
    }
    match store {
        EventStore::Postgres(s) => run!(s.pool()),
        EventStore::Sqlite(s) => run!(s.pool()),
    }
    Ok((ticket, expires_at - now))
}

type Row = (String, String, String, i64, i64);

async fn fetch(store: &EventStore, sql: &str, ticket: &str) -> Result<Option<Row>, StoreError> {
    Ok(match store {
        EventStore::Postgres(s) => {
            sqlx::query_as(sql)
                .bind(hash(ticket))
                .fetch_optional(s.pool())
                .await?
        }
        EventStore::Sqlite(s) => {
            sqlx::query_as(sql)
                .bind(hash(ticket))
                .fetch_optional(s.pool())
                .await?
        }
    })
}

/// Who `ticket` is for, without using it up: `None` when it is unknown, used or expired.
///
/// # Errors
/// Storage failures, or a stored row that no longer makes an actor.
pub async fn peek(store: &EventStore, ticket: &str) -> Result<Option<Redeemed>, StoreError> {
    const PEEK: &str = "SELECT user_id, role, hostels, token_expires_at, expires_at \
         FROM ws_tickets WHERE ticket_hash = $1";
    decode(fetch(store, PEEK, ticket).await?)
}

/// Redeems `ticket`: `None` when it is unknown, used or expired.
///
/// # Errors
/// Storage failures, or a stored row that no longer makes an actor.
pub async fn redeem(store: &EventStore, ticket: &str) -> Result<Option<Redeemed>, StoreError> {
    const REDEEM: &str = "DELETE FROM ws_tickets WHERE ticket_hash = $1 \
         RETURNING user_id, role, hostels, token_expires_at, expires_at";
    decode(fetch(store, REDEEM, ticket).await?)
}

fn decode(row: Option<Row>) -> Result<Option<Redeemed>, StoreError> {
    let Some((user_id, role, hostels, token_expires_at, expires_at)) = row else {
        return Ok(None);
    };
    if expires_at < Utc::now().timestamp() {
        return Ok(None);
    }
    let corrupt = |what: &str| StoreError::Corrupt(format!("ws ticket: {what}"));
    let id = UserId::parse(&user_id).map_err(|_| corrupt("user id"))?;
    let role: Role = role.parse().map_err(|_| corrupt("role"))?;
    let hostels: Vec<String> = serde_json::from_str(&hostels).map_err(|_| corrupt("hostels"))?;
    let scope = scope_from_hostels(role, &hostels).map_err(|_| corrupt("hostels"))?;
    Ok(Some(Redeemed {
        actor: Actor::new(id, role, scope),
        token_expires_at,
    }))
}
