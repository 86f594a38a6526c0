//! The life of one WebSocket. The socket attaches a queue to the hub first (on the route that covers
//! what its user may see), then (with `after=N`) reads the log from N up to the head, then goes
//! live, dropping anything at or below the last position it handled. The hub's output is complete
//! (it fills its own gaps from the log), so the client gets every event after N it may see, in
//! order, with no gap and no duplicate. A resume more than `max_catchup` events behind gets a
//! `resync` message instead (reload through REST, then follow from the position it names).
//!
//! Messages to the client (JSON text):
//! - an event: `{"position","type","complaint_id","hostel","at","data"}`;
//! - `{"type":"live","position":N}` once caught up (everything up to N has been sent);
//! - `{"type":"resync","reason":"too_old"|"slow_consumer","position":N,"message"}`;
//! - `{"type":"error","code","message"}` for an inbound message it cannot use.
//!
//! Inbound: `{"op":"subscribe"|"unsubscribe","hostel":..}` or `{..,"complaint":..}`, applied from
//! the next event on. The socket is closed with code 4001 when the token expires, 4008 when the
//! client falls behind, 4002 when it stops answering pings; tungstenite refuses oversized messages.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use cms_domain::actor::Actor;
use serde::Deserialize;
use serde_json::{json, Value};

use cms_domain::actor::{HostelScope, Role};

use super::{may_see, Gateway, Slot, Subscriptions, WS_SLOW_CLOSED};
use crate::fanout::event::BusEvent;
use crate::fanout::hub::{Feed, Route};
use crate::metrics::names::{WS_MESSAGES_SENT, WS_RESYNCS};

/// Close code: the token (or ticket's token) expired.
pub const CLOSE_TOKEN_EXPIRED: u16 = 4001;
/// Close code: the server is shutting down (RFC 6455 "going away"); reconnect elsewhere with `after`.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code: no pong (or anything) from the client for three ping intervals.
pub const CLOSE_PING_TIMEOUT: u16 = 4002;
/// Close code: the client fell behind.
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;

/// Everything a socket needs once upgraded.
#[derive(Debug)]
pub struct Session {
    pub gateway: Arc<Gateway>,
    pub actor: Actor,
    pub subscriptions: Subscriptions,
    /// Resume after this position (`after=N`), or live from now.
    pub after: Option<i64>,
    /// When the token expires (Unix seconds).
    pub token_expires_at: i64,
    /// Held for the socket's life (the per-user count).
    pub slot: Slot,
}

/// Why the socket ends.
enum End {
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The client is gone or the connection broke: nothing more to send.
    Gone,
}

struct Socket {
    ws: WebSocket,
    session: Session,
    /// The last position handled (sent or filtered out).
    last: i64,
    last_heard: Instant,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inbound {
    op: String,
    hostel: Option<String>,
    complaint: Option<String>,
}

/// The hub route that covers everything `actor` may see.
fn route_for(actor: &Actor) -> Route {
    match (actor.role, &actor.scope) {
        (Role::Resident, _) => Route::Reporter(actor.id.to_string()),
        (_, HostelScope::All) => Route::All,
        (_, HostelScope::Only(hostels)) => {
            Route::Hostels(hostels.iter().map(|h| h.as_str().to_owned()).collect())
        }
    }
}

/// Runs the socket until it closes.
pub async fn run(ws: WebSocket, session: Session) {
    // Attach first, then read the head: every event after the head arrives in the feed or is read
    // from the log; anything at or below it is past.
    let queue = session.gateway.config.queue;
    let mut feed = session.gateway.hub.attach(route_for(&session.actor), queue);
    let live_from = match session.gateway.store.head().await {
        Ok(head) => head.max(feed.from),
        Err(error) => {
            tracing::warn!(%error, "ws: reading the log head failed");
            feed.from
        }
    };
    let mut socket = Socket {
        ws,
        last: live_from,
        session,
        last_heard: Instant::now(),
    };
    let end = match socket.start(live_from).await {
        Ok(()) => match socket.follow(&mut feed).await {
            Ok(()) => End::Gone,
            Err(end) => end,
        },
        Err(end) => end,
    };
    drop(feed);
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            socket.ws.send(Message::Close(Some(frame))),
        )
        .await;
    }
}

impl Socket {
    fn gateway(&self) -> &Gateway {
        &self.session.gateway
    }

    /// The resume: catch up from the log, or resync when too far behind; then announce `live`.
    async fn start(&mut self, live_from: i64) -> Result<(), End> {
        if let Some(after) = self.session.after {
            if live_from - after > self.gateway().config.max_catchup {
                let message = format!(
                    "position {after} is more than {} events behind; reload and follow from {live_from}",
                    self.gateway().config.max_catchup
                );
                metrics::counter!(WS_RESYNCS, "reason" => "too_old").increment(1);
                self.send_json(&json!({
                    "type": "resync", "reason": "too_old", "position": live_from, "message": message
                }))
                .await?;
            } else {
                self.last = after;
                self.catch_up(live_from).await?;
            }
        }
        let last = self.last;
        self.send_json(&json!({ "type": "live", "position": last }))
            .await
    }

    async fn follow(&mut self, feed: &mut Feed) -> Result<(), End> {
        let ping_every = self.gateway().config.ping_interval;
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        let expires_in =
            u64::try_from(self.session.token_expires_at - chrono::Utc::now().timestamp())
                .unwrap_or(0);
        let expiry = tokio::time::sleep(Duration::from_secs(expires_in));
        tokio::pin!(expiry);
        let mut closing = self.gateway().closing();
        if *closing.borrow_and_update() {
            return Err(End::Close(CLOSE_GOING_AWAY, "server shutting down"));
        }
        loop {
            tokio::select! {
                () = &mut expiry => return Err(End::Close(CLOSE_TOKEN_EXPIRED, "token expired")),
                _ = closing.changed() => {
                    return Err(End::Close(CLOSE_GOING_AWAY, "server shutting down"));
                }
                _ = ping.tick() => {
                    if self.last_heard.elapsed() > ping_every * 3 {
                        return Err(End::Close(CLOSE_PING_TIMEOUT, "no pong"));
                    }
                    self.send(Message::Ping(Default::default())).await?;
                }
                inbound = self.ws.recv() => match inbound {
                    Some(Ok(message)) => {
                        self.last_heard = Instant::now();
                        self.inbound(message).await?;
                    }
                    Some(Err(_)) | None => return Err(End::Gone),
                },
                event = feed.receiver.recv() => match event {
                    // At or below the last position handled: already sent during the catch-up.
                    Some(event) if event.position <= self.last => {}
                    Some(event) => self.deliver(&event).await?,
                    // The hub detached the queue because it was full.
                    None => return self.slow().await,
                },
            }
        }
    }

    /// Sends every event in (last, upto] from the log.
    async fn catch_up(&mut self, upto: i64) -> Result<(), End> {
        while self.last < upto {
            let limit = (upto - self.last).min(500);
            let events = match self.gateway().store.read_log(self.last, limit).await {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(%error, "ws catch-up: reading the log failed");
                    return Err(End::Close(1011, "internal error"));
                }
            };
            if events.is_empty() {
                // The hub saw a position the log does not show yet: the hub is ahead of this reader.
                return Ok(());
            }
            for event in events {
                let bus_event = match self.gateway().resolver.bus_event(&event).await {
                    Ok(bus_event) => bus_event,
                    Err(error) => {
                        tracing::warn!(%error, "ws catch-up: resolving an event failed");
                        return Err(End::Close(1011, "internal error"));
                    }
                };
                self.deliver(&bus_event).await?;
            }
        }
        Ok(())
    }

    async fn deliver(&mut self, event: &BusEvent) -> Result<(), End> {
        self.last = event.position;
        if !self.session.subscriptions.wants(event) || !may_see(&self.session.actor, event) {
            return Ok(());
        }
        metrics::counter!(WS_MESSAGES_SENT).increment(1);
        self.send_json(&json!({
            "position": event.position,
            "type": event.event_type,
            "complaint_id": event.complaint_id(),
            "hostel": event.hostel,
            "at": event.at,
            "data": event.data,
        }))
        .await
    }

    async fn slow(&mut self) -> Result<(), End> {
        metrics::counter!(WS_SLOW_CLOSED).increment(1);
        metrics::counter!(WS_RESYNCS, "reason" => "slow_consumer").increment(1);
        let position = self.last;
        let resync = json!({
            "type": "resync", "reason": "slow_consumer", "position": position,
            "message": "the connection fell behind; reconnect with after=<position> or reload"
        });
        // Best effort: the client is not reading, so this may not get through.
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            self.ws.send(Message::Text(resync.to_string().into())),
        )
        .await;
        Err(End::Close(CLOSE_SLOW_CONSUMER, "slow consumer"))
    }

    async fn inbound(&mut self, message: Message) -> Result<(), End> {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return Err(End::Gone),
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Binary(_) => {
                return self
                    .error("invalid_message", "send JSON text messages, not binary")
                    .await
            }
        };
        let request: Inbound = match serde_json::from_str(text.as_str()) {
            Ok(request) => request,
            Err(e) => {
                return self
                    .error(
                        "invalid_message",
                        &format!("expected {{\"op\":\"subscribe\"|\"unsubscribe\",\"hostel\"|\"complaint\":...}}: {e}"),
                    )
                    .await
            }
        };
        let subscribe = match request.op.as_str() {
            "subscribe" => true,
            "unsubscribe" => false,
            other => {
                return self
                    .error("invalid_message", &format!("unknown op {other:?}"))
                    .await
            }
        };
        match (request.hostel, request.complaint) {
            (Some(hostel), None) => {
                if subscribe && !super::hostel_visible(&self.session.actor, &hostel) {
                    return self.error("hostel_not_found", "hostel not found").await;
                }
                let set = &mut self.session.subscriptions.hostels;
                if subscribe {
                    set.insert(hostel)
                } else {
                    set.remove(&hostel)
                };
            }
            (None, Some(complaint)) => {
                if subscribe {
                    let visible =
                        super::complaint_visible(self.gateway(), &self.session.actor, &complaint)
                            .await
                            .unwrap_or(false);
                    if !visible {
                        return self
                            .error("complaint_not_found", "complaint not found")
                            .await;
                    }
                }
                let set = &mut self.session.subscriptions.complaints;
                if subscribe {
                    set.insert(complaint)
                } else {
                    set.remove(&complaint)
                };
            }
            _ => {
                return self
                    .error(
                        "invalid_message",
                        "name exactly one of hostel and complaint",
                    )
                    .await
            }
        }
        let ack = json!({ "type": "subscribed", "hostels": self.session.subscriptions.hostels, "complaints": self.session.subscriptions.complaints });
        self.send_json(&ack).await
    }

    async fn error(&mut self, code: &str, message: &str) -> Result<(), End> {
        self.send_json(&json!({ "type": "error", "code": code, "message": message }))
            .await
    }

    async fn send_json(&mut self, value: &Value) -> Result<(), End> {
        self.send(Message::Text(value.to_string().into())).await
    }

    async fn send(&mut self, message: Message) -> Result<(), End> {
        let limit = self.gateway().config.send_timeout;
        match tokio::time::timeout(limit, self.ws.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Gone),
            // The client stopped reading and the buffers are full.
            Err(_) => {
                metrics::counter!(WS_SLOW_CLOSED).increment(1);
                Err(End::Gone)
            }
        }
    }
}
