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
use sha2::{Digest, Sha256};

use crate::auth::{hostels_from_scope, scope_from_hostels};
use cms_eventstore::sockets;
use cms_eventstore::store::{EventStore, StoreError};

/// A redeemed ticket: who, and until when their token is valid (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub actor: Actor,
    pub token_expires_at: i64,
}

/// Only the ticket's SHA-256 is stored, so a leaked table opens no socket.
fn hash(ticket: &str) -> String {
    hex::encode(Sha256::digest(ticket.as_bytes()))
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
    let row = sockets::TicketRow {
        user_id: actor.id.to_string(),
        role: actor.role.as_str().to_owned(),
        hostels,
        token_expires_at,
        expires_at,
    };
    sockets::issue_ticket(store.db(), &hash(&ticket), &row, now).await?;
    Ok((ticket, expires_at - now))
}

/// Who `ticket` is for, without using it up: `None` when it is unknown, used or expired.
///
/// # Errors
/// Storage failures, or a stored row that no longer makes an actor.
pub async fn peek(store: &EventStore, ticket: &str) -> Result<Option<Redeemed>, StoreError> {
    decode(sockets::peek_ticket(store.db(), &hash(ticket)).await?)
}

/// Redeems `ticket`: `None` when it is unknown, used or expired.
///
/// # Errors
/// Storage failures, or a stored row that no longer makes an actor.
pub async fn redeem(store: &EventStore, ticket: &str) -> Result<Option<Redeemed>, StoreError> {
    decode(sockets::redeem_ticket(store.db(), &hash(ticket)).await?)
}

fn decode(row: Option<sockets::TicketRow>) -> Result<Option<Redeemed>, StoreError> {
    let Some(sockets::TicketRow {
        user_id,
        role,
        hostels,
        token_expires_at,
        expires_at,
    }) = row
    else {
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
