//! `POST /v1/ws/ticket` and `GET /v1/ws`: the WebSocket gateway's HTTP side. Everything is checked
//! before the upgrade, so a refusal is an ordinary JSON error: the origin, the query, the
//! credentials (a single-use ticket in `?ticket=`, or the token offered as the subprotocol
//! `bearer.<jwt>` next to `cms.v1`; never a long-lived token in the URL), the subscriptions' scope,
//! the resume position and the per-user socket limit. The socket itself is `fanout::gateway::socket`.

use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::header::{HOST, ORIGIN, SEC_WEBSOCKET_PROTOCOL};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::bearer_token;
use crate::error::{ApiError, ApiQuery};
use crate::fanout::gateway::{self, socket, ticket, Gateway, Subscriptions};
use crate::state::AppState;

/// The subprotocol a client offers (and the server selects).
pub const SUBPROTOCOL: &str = "cms.v1";
/// Bytes read from a socket at a time (and its read buffer's size).
const READ_BUFFER_BYTES: usize = 4096;

/// Prefix of the subprotocol that carries a token: `bearer.<jwt>`.
pub const BEARER_PROTOCOL_PREFIX: &str = "bearer.";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_ticket))
        .routes(routes!(connect))
}

/// A ticket for `GET /v1/ws?ticket=...`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketResponse {
    /// Single-use; valid for `expires_in` seconds.
    ticket: String,
    /// Seconds until the ticket expires.
    expires_in: i64,
}

fn gateway_of(state: &AppState) -> Result<Arc<Gateway>, ApiError> {
    state.fanout.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "fanout_unavailable",
            "real-time fan-out is not running on this instance",
        )
    })
}

/// Trade the bearer token for a short-lived, single-use WebSocket ticket.
#[utoipa::path(
    post, path = "/v1/ws/ticket", tag = "realtime", security(("bearer" = [])),
    responses((status = 200, body = TicketResponse), (status = 401, description = "no valid token"))
)]
async fn issue_ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<TicketResponse>, ApiError> {
    let gateway = gateway_of(&state)?;
    let token = bearer_token(&headers)?;
    let (actor, exp) = state.verifier.verify_with_expiry(token)?;
    let ttl = i64::try_from(gateway.config().ticket_ttl.as_secs()).unwrap_or(30);
    let (ticket, expires_in) = ticket::issue(state.executor.store(), &actor, exp, ttl).await?;
    Ok(Json(TicketResponse { ticket, expires_in }))
}

/// What the query asks for.
struct ConnectQuery {
    ticket: Option<String>,
    after: Option<i64>,
    subscriptions: Subscriptions,
}

/// The most hostels plus complaints one socket may subscribe to: each complaint is checked for
/// visibility (a load of its events) before the socket opens.
pub const MAX_SUBSCRIPTIONS: usize = 100;

fn parse_query(pairs: Vec<(String, String)>) -> Result<ConnectQuery, ApiError> {
    let invalid = |m: String| ApiError::bad_request("invalid_query", m);
    let mut query = ConnectQuery {
        ticket: None,
        after: None,
        subscriptions: Subscriptions::default(),
    };
    for (name, value) in pairs {
        match name.as_str() {
            "ticket" => query.ticket = Some(value),
            "after" => {
                let after = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| invalid(format!("after must be a log position (0 or more), got {value:?}")))?;
                query.after = Some(after);
            }
            "hostel" => {
                cms_domain::ids::HostelId::parse(&value)
                    .map_err(|e| invalid(format!("hostel {value:?}: {}", e.problem)))?;
                query.subscriptions.hostels.insert(value);
            }
            "complaint" => {
                let id = uuid::Uuid::parse_str(&value)
                    .map_err(|_| invalid(format!("complaint {value:?} is not a complaint id")))?;
                query.subscriptions.complaints.insert(id.to_string());
            }
            "token" | "access_token" | "jwt" | "bearer" => {
                return Err(ApiError::bad_request(
                    "token_in_query",
                    "never put a token in a URL: get a single-use ticket from POST /v1/ws/ticket \
                     and connect with ?ticket=..., or offer the subprotocols cms.v1 and bearer.<token>",
                ))
            }
            other => {
                return Err(invalid(format!(
                    "unknown parameter {other:?}; use ticket, after, hostel and complaint"
                )))
            }
        }
        let subscriptions = &query.subscriptions;
        if subscriptions.hostels.len() + subscriptions.complaints.len() > MAX_SUBSCRIPTIONS {
            return Err(invalid(format!(
                "at most {MAX_SUBSCRIPTIONS} hostels and complaints per socket; open another socket \
                 or subscribe to the hostel"
            )));
        }
    }
    Ok(query)
}

/// The token offered as the `bearer.<jwt>` subprotocol, if any.
fn protocol_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(BEARER_PROTOCOL_PREFIX).map(str::to_owned))
}

/// Open a WebSocket of events (see the module docs of the gateway for the messages).
#[utoipa::path(
    get, path = "/v1/ws", tag = "realtime",
    params(
        ("ticket" = Option<String>, Query, description = "from POST /v1/ws/ticket"),
        ("after" = Option<i64>, Query, description = "resume after this position"),
        ("hostel" = Option<String>, Query, description = "follow a hostel (repeatable)"),
        ("complaint" = Option<String>, Query, description = "follow a complaint (repeatable)")
    ),
    responses(
        (status = 101, description = "switching to the WebSocket protocol"),
        (status = 400, description = "invalid query or not a WebSocket request"),
        (status = 401, description = "no valid ticket or token"),
        (status = 403, description = "origin not allowed"),
        (status = 404, description = "a hostel or complaint that is not visible"),
        (status = 429, description = "too many sockets for this user")
    )
)]
async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let gateway = gateway_of(&state)?;
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    if !gateway.origin_allowed(header(ORIGIN), header(HOST)) {
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            "this origin may not open WebSockets (see CMS_WS_ALLOWED_ORIGINS)",
        ));
    }
    let query = parse_query(pairs)?;
    let invalid_ticket = || {
        ApiError::unauthorized(
            "invalid_ticket",
            "the ticket is unknown, used or expired; get a new one from POST /v1/ws/ticket",
        )
    };
    // A ticket is only looked at here and used up once every check has passed.
    let (actor, token_expires_at) =
        match (&query.ticket, protocol_token(&headers)) {
            (Some(ticket), _) => {
                let peeked = ticket::peek(state.executor.store(), ticket)
                    .await?
                    .ok_or_else(invalid_ticket)?;
                (peeked.actor, peeked.token_expires_at)
            }
            (None, Some(token)) => state.verifier.verify_with_expiry(&token)?,
            (None, None) => return Err(ApiError::unauthorized(
                "ws_unauthenticated",
                "connect with ?ticket= from POST /v1/ws/ticket, or offer the subprotocols cms.v1 \
                 and bearer.<token>",
            )),
        };
    for hostel in &query.subscriptions.hostels {
        if !gateway::hostel_visible(&actor, hostel) {
            return Err(ApiError::not_found("hostel_not_found", "hostel not found"));
        }
    }
    for complaint in &query.subscriptions.complaints {
        if !gateway::complaint_visible(&gateway, &actor, complaint).await? {
            return Err(ApiError::not_found(
                "complaint_not_found",
                "complaint not found",
            ));
        }
    }
    if let Some(after) = query.after {
        let head = state.executor.store().head().await?;
        if after > head {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("after={after} is past the log head {head}"),
            ));
        }
    }
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::bad_request(
            "websocket_upgrade_required",
            format!("GET /v1/ws must be a WebSocket upgrade request: {rejection}"),
        )
    })?;
    let slot = gateway.take_slot(&actor).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sockets",
            format!(
                "at most {} open WebSockets per user; close one first",
                gateway.config().max_sockets_per_user
            ),
        )
    })?;
    if let Some(ticket) = &query.ticket {
        // Another request may have used it since the peek: exactly one of them opens.
        ticket::redeem(state.executor.store(), ticket)
            .await?
            .ok_or_else(invalid_ticket)?;
    }
    let limit = gateway.config().max_message_bytes;
    let session = socket::Session {
        gateway: gateway.clone(),
        actor,
        subscriptions: Subscriptions {
            hostels: query.subscriptions.hostels,
            complaints: query.subscriptions.complaints,
        },
        after: query.after,
        token_expires_at,
        slot,
    };
    Ok(upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(limit)
        .max_frame_size(limit)
        // tungstenite's defaults (128 KiB each) would cost ~130 KiB per idle socket; inbound messages
        // are small, and every outbound message is flushed on its own.
        .read_buffer_size(READ_BUFFER_BYTES.max(limit))
        .write_buffer_size(0)
        .on_upgrade(move |ws| socket::run(ws, session))
        .into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{parse_query, MAX_SUBSCRIPTIONS};

    fn complaints(n: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|i| {
                let id = uuid::Uuid::from_u128(i as u128 + 1);
                ("complaint".to_owned(), id.to_string())
            })
            .collect()
    }

    #[test]
    fn a_socket_subscribes_to_a_bounded_number_of_complaints() {
        let most = parse_query(complaints(MAX_SUBSCRIPTIONS)).unwrap();
        assert_eq!(most.subscriptions.complaints.len(), MAX_SUBSCRIPTIONS);

        let mut too_many = complaints(MAX_SUBSCRIPTIONS);
        too_many.push(("hostel".to_owned(), "north".to_owned()));
        let refused = parse_query(too_many).err().unwrap();
        assert_eq!(refused.code(), "invalid_query");

        // The same complaint repeated is one subscription.
        let repeated = vec![complaints(1)[0].clone(); 10 * MAX_SUBSCRIPTIONS];
        assert_eq!(
            parse_query(repeated)
                .unwrap()
                .subscriptions
                .complaints
                .len(),
            1
        );
    }
}
