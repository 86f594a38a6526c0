//! The WebSocket gateway behind `GET /v1/ws`: its settings, the per-user socket count, what a
//! subscription is, and who may see which event. The upgrade route is `routes/ws.rs`; the life of
//! one socket is [`socket`]; tickets are [`ticket`].
//!
//! Visibility is the REST rule, re-checked for every event: residents see only events of complaints
//! they reported, never internal comments and never hostel events; staff, wardens and services see
//! events of hostels in their scope; admins and auditors see everything.

mod sessions;
pub mod socket;
pub mod ticket;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::ids::HostelId;

use super::event::BusEvent;
use super::hub::Hub;
use super::resolver::Resolver;
use cms_eventstore::store::{EventStore, StoreError};

use crate::metrics::names::{
    WS_CONNECTIONS_OPEN as WS_SOCKETS, WS_SLOW_CLIENT_DISCONNECTS as WS_SLOW_CLOSED,
};

/// The gateway's limits and policies (`CMS_WS_*`).
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Browser origins allowed to open sockets (`*` for any). A request without `Origin` (not a
    /// browser) is allowed, and so is one whose origin is the request's own host.
    pub allowed_origins: Vec<String>,
    /// Lifetime of a ticket.
    pub ticket_ttl: Duration,
    /// A resume (`after=N`) more than this many events behind the head gets `resync` instead.
    pub max_catchup: i64,
    /// A socket's queue of live events; when it is full the socket is told to resync and closed.
    pub queue: usize,
    /// Open sockets per user, counted across every instance (`ws_sessions`).
    pub max_sockets_per_user: usize,
    /// How long an open socket's session row counts without being extended: the sockets of an
    /// instance that died stop counting after at most this long.
    pub session_ttl: Duration,
    /// Largest inbound message (and frame).
    pub max_message_bytes: usize,
    /// The server pings this often; a socket silent for three intervals is closed.
    pub ping_interval: Duration,
    /// A send blocked for this long means the client stopped reading: the socket is closed.
    pub send_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            ticket_ttl: Duration::from_secs(30),
            max_catchup: 10_000,
            queue: 1024,
            max_sockets_per_user: 8,
            session_ttl: Duration::from_secs(60),
            max_message_bytes: 4096,
            ping_interval: Duration::from_secs(20),
            send_timeout: Duration::from_secs(10),
        }
    }
}

/// The gateway of one API instance.
#[derive(Debug)]
pub struct Gateway {
    pub(crate) store: EventStore,
    pub(crate) resolver: Resolver,
    pub(crate) hub: Arc<Hub>,
    pub(crate) config: GatewayConfig,
    sockets: Mutex<HashMap<String, usize>>,
    /// Every instance's open sockets, for the per-user limit.
    sessions: sessions::Sessions,
    /// The bus the hub follows, for `/readyz`.
    bus: Option<crate::fanout::Bus>,
    /// Set when the server shuts down: every socket closes with 1001 (going away).
    closing: tokio::sync::watch::Sender<bool>,
}

impl Gateway {
    /// A gateway serving events from `hub`, catching up from `store`.
    pub fn new(store: EventStore, hub: Arc<Hub>, config: GatewayConfig) -> Self {
        Self {
            resolver: hub.resolver().clone(),
            sessions: sessions::Sessions::new(
                store.clone(),
                sessions::SessionsConfig {
                    ttl: config.session_ttl,
                },
            ),
            store,
            hub,
            config,
            sockets: Mutex::new(HashMap::new()),
            bus: None,
            closing: tokio::sync::watch::channel(false).0,
        }
    }

    /// Closes every open socket with 1001 (going away), now and for sockets still opening; the
    /// clients reconnect, with `after=N`, to another instance.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Gateway::close_all`] was called.
    pub(crate) fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// The gateway, reporting `bus` in `/readyz`.
    #[must_use]
    pub fn with_bus(mut self, bus: crate::fanout::Bus) -> Self {
        self.bus = Some(bus);
        self
    }

    /// The bus the hub follows, when known.
    pub fn bus(&self) -> Option<&crate::fanout::Bus> {
        self.bus.as_ref()
    }

    /// The hub.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The settings.
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// Open sockets of `actor` on this instance.
    pub fn sockets_of(&self, actor: &Actor) -> usize {
        let sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        sockets.get(&user_key(actor)).copied().unwrap_or(0)
    }

    /// Takes one of the user's socket slots, or `None` when they have all.
    pub(crate) async fn take_slot(
        self: &Arc<Self>,
        actor: &Actor,
    ) -> Result<Option<Slot>, StoreError> {
        let key = user_key(actor);
        let max = self.config.max_sockets_per_user;
        // This instance alone at the limit: no need to ask the database.
        if self.sockets_of(actor) >= max {
            return Ok(None);
        }
        let Some(session) = self.sessions.open(&key, max).await? else {
            return Ok(None);
        };
        *self
            .sockets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_insert(0) += 1;
        metrics::gauge!(WS_SOCKETS).increment(1.0);
        Ok(Some(Slot {
            gateway: self.clone(),
            key,
            session,
        }))
    }

    /// Keeps this instance's session rows alive (and purges expired ones) until the gateway is
    /// dropped.
    pub(crate) fn spawn_session_heartbeat(self: &Arc<Self>) {
        let gateway = Arc::downgrade(self);
        let every = self.sessions.config().ttl / 3;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(gateway) = gateway.upgrade() else {
                    return;
                };
                if let Err(error) = gateway.sessions.heartbeat().await {
                    tracing::warn!(%error, "websocket sessions: cannot extend this instance's rows");
                }
            }
        });
    }

    /// Whether `origin` may open a socket on a request for `host`.
    pub fn origin_allowed(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let origin = origin.trim_end_matches('/');
        if self
            .config
            .allowed_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed.trim_end_matches('/') == origin)
        {
            return true;
        }
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        host.is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
    }
}

fn user_key(actor: &Actor) -> String {
    format!("{}:{}", actor.role, actor.id)
}

/// One open socket's place in the per-user count (here and in `ws_sessions`); released on drop.
#[derive(Debug)]
pub struct Slot {
    gateway: Arc<Gateway>,
    key: String,
    session: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut sockets = self
            .gateway
            .sockets
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(open) = sockets.get_mut(&self.key) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                sockets.remove(&self.key);
            }
        }
        metrics::gauge!(WS_SOCKETS).decrement(1.0);
        // The row goes now if a runtime is there to delete it; else it expires within a TTL.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let gateway = self.gateway.clone();
            let session = std::mem::take(&mut self.session);
            runtime.spawn(async move {
                if let Err(error) = gateway.sessions.close(&session).await {
                    tracing::warn!(%error, "websocket sessions: cannot delete a closed socket's row");
                }
            });
        }
    }
}

/// What a socket asked for: hostels and complaints, or (both empty) everything its user may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscriptions {
    pub hostels: BTreeSet<String>,
    pub complaints: BTreeSet<String>,
}

impl Subscriptions {
    /// Whether `event` is in what was asked for.
    pub fn wants(&self, event: &BusEvent) -> bool {
        if self.hostels.is_empty() && self.complaints.is_empty() {
            return true;
        }
        event
            .hostel
            .as_ref()
            .is_some_and(|h| self.hostels.contains(h))
            || event
                .complaint_id()
                .is_some_and(|c| self.complaints.contains(c))
    }
}

/// Whether `actor` may follow hostel `hostel` (it is in their scope).
pub fn hostel_visible(actor: &Actor, hostel: &str) -> bool {
    HostelId::parse(hostel).is_ok_and(|h| actor.scope.covers(&h))
}

/// Whether `actor` may follow complaint `id` (the REST rule: residents their own, others their
/// hostels'); an unknown complaint is not visible.
///
/// # Errors
/// Storage failures.
pub async fn complaint_visible(
    gateway: &Gateway,
    actor: &Actor,
    id: &str,
) -> Result<bool, cms_eventstore::store::StoreError> {
    let Some(facts) = gateway.resolver.facts(id).await? else {
        return Ok(false);
    };
    Ok(match actor.role {
        Role::Resident => facts.reporter == actor.id.as_str(),
        Role::Staff | Role::Warden | Role::Admin | Role::Auditor | Role::Service => {
            hostel_visible(actor, &facts.hostel)
        }
    })
}

/// Whether `actor` may see `event` at all.
pub fn may_see(actor: &Actor, event: &BusEvent) -> bool {
    match actor.role {
        Role::Resident => {
            event.complaint_id().is_some()
                && !event.internal
                && event.reporter.as_deref() == Some(actor.id.as_str())
        }
        Role::Staff | Role::Warden | Role::Admin | Role::Auditor | Role::Service => {
            match (&actor.scope, &event.hostel) {
                (HostelScope::All, _) => true,
                (HostelScope::Only(hostels), Some(hostel)) => {
                    hostels.iter().any(|h| h.as_str() == hostel)
                }
                (HostelScope::Only(_), None) => false,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Utc;
    use cms_domain::ids::UserId;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn event(hostel: &str, reporter: &str, internal: bool) -> BusEvent {
        BusEvent {
            position: 1,
            event_id: Uuid::nil(),
            event_type: "CommentAdded".into(),
            version: "1".into(),
            aggregate_type: "Complaint".into(),
            aggregate_id: "c1".into(),
            hostel: Some(hostel.into()),
            reporter: Some(reporter.into()),
            internal,
            at: Utc::now(),
            data: json!({}),
            traceparent: None,
        }
    }

    fn actor(role: Role, id: &str, hostels: &[&str]) -> Actor {
        let scope = HostelScope::Only(
            hostels
                .iter()
                .map(|h| HostelId::parse(h).unwrap())
                .collect(),
        );
        Actor::new(UserId::parse(id).unwrap(), role, scope)
    }

    #[test]
    fn residents_see_only_their_own_public_events() {
        let asha = actor(Role::Resident, "res-asha", &["north"]);
        assert!(may_see(&asha, &event("north", "res-asha", false)));
        assert!(!may_see(&asha, &event("north", "res-asha", true)));
        assert!(!may_see(&asha, &event("north", "res-bo", false)));
    }

    #[test]
    fn staff_see_their_hostels_including_internal_comments() {
        let staff = actor(Role::Staff, "staff-p", &["north"]);
        assert!(may_see(&staff, &event("north", "res-asha", true)));
        assert!(!may_see(&staff, &event("south", "res-asha", false)));
    }
}
