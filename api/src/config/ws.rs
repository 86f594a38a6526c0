//! The WebSocket gateway's settings (`/v1/ws`): allowed origins, tickets, catch-up, queues and
//! timeouts. They hold whichever bus carries the events, so they are a group of their own rather
//! than part of the NATS settings.

use std::time::Duration;

use super::types::List;

/// The WebSocket gateway's limits.
#[derive(Clone, Debug, clap::Args)]
pub struct WsSettings {
    /// Comma-separated browser origins allowed to open WebSockets (`*` for any); requests without
    /// `Origin` and same-host origins are always allowed.
    #[arg(
        long,
        global = true,
        env = "CMS_WS_ALLOWED_ORIGINS",
        default_value = "",
        hide_default_value = true
    )]
    pub ws_allowed_origins: List<String>,

    /// Lifetime of a WebSocket ticket from `POST /v1/ws/ticket`, in seconds.
    #[arg(long, global = true, env = "CMS_WS_TICKET_TTL_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub ws_ticket_ttl_secs: u64,

    /// A WebSocket resume (`after=N`) more than this many events behind gets `resync`.
    #[arg(long, global = true, env = "CMS_WS_MAX_CATCHUP", default_value_t = 10_000,
          value_parser = clap::value_parser!(i64).range(0..))]
    pub ws_max_catchup: i64,

    /// Live events queued per WebSocket; a socket whose queue fills gets `resync` and is closed.
    #[arg(long, global = true, env = "CMS_WS_QUEUE", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub ws_queue: u64,

    /// Open WebSockets per user, across every instance.
    #[arg(long, global = true, env = "CMS_WS_MAX_SOCKETS_PER_USER", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub ws_max_sockets_per_user: u64,

    /// Largest inbound WebSocket message, in bytes.
    #[arg(long, global = true, env = "CMS_WS_MAX_MESSAGE_BYTES", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(256..=1_048_576))]
    pub ws_max_message_bytes: u64,

    /// Seconds between server pings; a socket silent for three intervals is closed.
    #[arg(long, global = true, env = "CMS_WS_PING_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ws_ping_secs: u64,

    /// Seconds a WebSocket send may block (the client stopped reading) before the socket is closed.
    #[arg(long, global = true, env = "CMS_WS_SEND_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub ws_send_timeout_secs: u64,
}

impl WsSettings {
    /// The WebSocket gateway's limits.
    pub fn gateway_config(&self) -> crate::fanout::GatewayConfig {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        crate::fanout::GatewayConfig {
            allowed_origins: self.ws_allowed_origins.items().to_vec(),
            ticket_ttl: Duration::from_secs(self.ws_ticket_ttl_secs),
            max_catchup: self.ws_max_catchup,
            queue: size(self.ws_queue),
            max_sockets_per_user: size(self.ws_max_sockets_per_user),
            session_ttl: crate::fanout::GatewayConfig::default().session_ttl,
            max_message_bytes: size(self.ws_max_message_bytes),
            ping_interval: Duration::from_secs(self.ws_ping_secs),
            send_timeout: Duration::from_secs(self.ws_send_timeout_secs),
        }
    }
}
