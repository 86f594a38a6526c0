//! Every metric name CMS exports, declared once, with its description, and the enums its labels come
//! from. Code records metrics through these constants only (never a name typed inline), and every
//! label value is an enum's `as_str()` or a compiled-in static name: no ids, slugs or user data.
//!
//! The projection metrics are declared in `cms_projections::runner` and the pools' wait histogram in
//! `cms_projections::pool` (the projections crate cannot depend on this one), re-exported here; the read-routing ones were declared in `reads.rs`
//! before this module existed and are re-exported from there for compatibility.

pub use cms_eventstore::pool::{PoolRole, POOL_ACQUIRE_DURATION as DB_POOL_ACQUIRE_DURATION};
pub use cms_projections::runner::{PROJECTION_ERRORS, PROJECTION_POSITION};

// ---- HTTP ------------------------------------------------------------------------------------

/// Counter: finished HTTP requests (labels `route`, `method`, `status`).
pub const HTTP_REQUESTS: &str = "cms_http_requests_total";
/// Histogram: HTTP request latency in seconds, headers received to response headers sent (labels
/// `route`, `method`).
pub const HTTP_REQUEST_DURATION: &str = "cms_http_request_duration_seconds";
/// Gauge: HTTP requests being served.
pub const HTTP_REQUESTS_IN_FLIGHT: &str = "cms_http_requests_in_flight";

// ---- Commands and the log --------------------------------------------------------------------

/// Counter: commands by `command` (its static name, e.g. `FileComplaint`) and [`CommandOutcome`].
pub const COMMANDS: &str = "cms_commands_total";
/// Histogram: a command's time in the executor, in seconds (label `command`).
pub const COMMAND_DURATION: &str = "cms_command_duration_seconds";
/// Counter: optimistic-concurrency conflicts that made the executor decide again (label `command`).
pub const COMMAND_CONFLICT_RETRIES: &str = "cms_command_conflict_retries_total";
/// Histogram: one append transaction (events, idempotency record, commit), in seconds.
pub const APPEND_DURATION: &str = "cms_event_append_duration_seconds";
/// Counter: events committed to the log by this process.
pub const EVENTS_APPENDED: &str = "cms_events_appended_total";
/// Gauge: the log head, the highest committed global position.
pub const LOG_HEAD: &str = "cms_log_head_position";

// ---- Database --------------------------------------------------------------------------------

/// Gauge: connections of a pool by state (labels `pool`: [`PoolRole`], `state`: [`ConnectionState`]).
pub const DB_POOL_CONNECTIONS: &str = "cms_db_pool_connections";
/// Gauge: the most connections a pool may open (label `pool`).
pub const DB_POOL_MAX_CONNECTIONS: &str = "cms_db_pool_max_connections";
/// Gauge: tasks waiting for a connection of a pool when sampled (label `pool`). The histogram
/// [`DB_POOL_ACQUIRE_DURATION`] records every wait; the rate of its sum is the average number of
/// waiting tasks between two scrapes, which this sampled gauge can miss.
pub const DB_POOL_WAITING: &str = "cms_db_pool_waiting";
/// Counter: reads served by a replica.
pub const READS_REPLICA: &str = "cms_reads_replica_total";
/// Counter: reads that fell back to the primary, by `reason` (`unreachable`, `behind`).
pub const READS_FALLBACK: &str = "cms_reads_primary_fallback_total";
/// Gauge: a replica's replay lag in seconds (label `replica`: its index in `CMS_DATABASE_READ_URLS`).
pub const REPLICA_LAG_SECONDS: &str = "cms_replica_lag_seconds";
/// Gauge: events in the primary's log not yet replayed on a replica (label `replica`).
pub const REPLICA_LAG_EVENTS: &str = "cms_replica_lag_events";

// ---- Projections -----------------------------------------------------------------------------

/// Gauge: how many events a projection's checkpoint is behind the log head (label `projection`).
pub const PROJECTION_LAG: &str = "cms_projection_lag_events";
/// Gauge: 1 for a projection's current state, 0 for the others (labels `projection`, `state`:
/// `running`, `failed`).
pub const PROJECTION_STATE: &str = "cms_projection_state";

// ---- Relay (recorded by the log -> bus relay) --------------------------------------------------

/// Gauge: the last global position the relay published to the bus.
pub const RELAY_POSITION: &str = "cms_relay_position";
/// Gauge: events in the log not yet published by the relay.
pub const RELAY_LAG: &str = "cms_relay_lag_events";
/// Counter: publishes the bus refused or did not answer (the relay retries from the stored prefix).
pub const RELAY_PUBLISH_ERRORS: &str = "cms_relay_publish_errors_total";
/// Gauge: 1 while this process's relay holds the leader lock, else 0.
pub const RELAY_LEADER: &str = "cms_relay_leader";

// ---- WebSockets (recorded by the WebSocket gateway) -------------------------------------------

/// Gauge: open WebSocket connections.
pub const WS_CONNECTIONS_OPEN: &str = "cms_ws_connections_open";
/// Counter: event messages sent to WebSocket clients.
pub const WS_MESSAGES_SENT: &str = "cms_ws_messages_sent_total";
/// Counter: WebSocket clients closed because they fell behind (full queue, or a send that blocked).
pub const WS_SLOW_CLIENT_DISCONNECTS: &str = "cms_ws_slow_client_disconnects_total";
/// Counter: `resync` messages sent, by `reason` (`too_old`: a resume too far behind; `slow_consumer`).
pub const WS_RESYNCS: &str = "cms_ws_resyncs_total";

// ---- Photos (recorded by the multipart upload route and the thumbnail worker) -----------------

/// Counter: multipart photo uploads by `outcome` (accepted | duplicate | refused | error).
pub const PHOTO_UPLOADS: &str = "cms_photo_uploads_total";
/// Counter: thumbnail jobs finished by `outcome` (generated | failed | skipped | retried).
pub const THUMBNAIL_JOBS: &str = "cms_thumbnail_jobs_total";
/// Histogram: a thumbnail job's duration in seconds (rendering and storing one photo's sizes).
pub const THUMBNAIL_DURATION: &str = "cms_thumbnail_duration_seconds";
/// Counter: failed thumbnail attempts by `kind`: `undecodable` (ended in `ThumbnailFailed`) or
/// `transient` (retried).
pub const THUMBNAIL_FAILURES: &str = "cms_thumbnail_failures_total";
/// Gauge: thumbnail jobs not yet acknowledged.
pub const THUMBNAIL_QUEUE_DEPTH: &str = "cms_thumbnail_queue_depth";

// ---- Auth ------------------------------------------------------------------------------------

/// Counter: bearer tokens refused, by `reason` ([`crate::auth::AuthError::reason`]).
pub const AUTH_REJECTIONS: &str = "cms_auth_rejections_total";

// ---- Process (read from /proc at scrape time, standard Prometheus client names) ---------------

/// Counter: user and system CPU time, in seconds.
pub const PROCESS_CPU_SECONDS: &str = "process_cpu_seconds_total";
/// Gauge: resident memory, in bytes.
pub const PROCESS_RESIDENT_MEMORY: &str = "process_resident_memory_bytes";
/// Gauge: virtual memory, in bytes.
pub const PROCESS_VIRTUAL_MEMORY: &str = "process_virtual_memory_bytes";
/// Gauge: open file descriptors.
pub const PROCESS_OPEN_FDS: &str = "process_open_fds";
/// Gauge: the open file descriptor limit.
pub const PROCESS_MAX_FDS: &str = "process_max_fds";
/// Gauge: the process start time, seconds since the Unix epoch.
pub const PROCESS_START_TIME: &str = "process_start_time_seconds";
/// Gauge: the memory this process may use: its cgroup's `memory.max`, else the machine's memory.
pub const MEMORY_LIMIT: &str = "cms_memory_limit_bytes";
/// Gauge: always 1, labelled with the `version` of the running binary.
pub const BUILD_INFO: &str = "cms_build_info";

/// The metrics written at scrape time from `/proc` (see `process.rs`).
pub const PROCESS: [&str; 7] = [
    PROCESS_CPU_SECONDS,
    PROCESS_RESIDENT_MEMORY,
    PROCESS_VIRTUAL_MEMORY,
    PROCESS_OPEN_FDS,
    PROCESS_MAX_FDS,
    PROCESS_START_TIME,
    MEMORY_LIMIT,
];

/// Every metric name CMS declares (recorded through the facade, or written at scrape time).
pub fn all() -> Vec<&'static str> {
    DESCRIBED
        .iter()
        .map(|(name, ..)| *name)
        .chain(PROCESS)
        .collect()
}

/// Every metric recorded through the `metrics` facade, with its kind and help text; `describe_all`
/// registers them. (The process metrics are written at scrape time and carry their own help.)
pub(crate) const DESCRIBED: &[(&str, Kind, &str)] = &[
    (HTTP_REQUESTS, Kind::Counter, "Finished HTTP requests by matched route, method and status."),
    (HTTP_REQUEST_DURATION, Kind::Histogram, "HTTP request latency in seconds by matched route and method."),
    (HTTP_REQUESTS_IN_FLIGHT, Kind::Gauge, "HTTP requests being served."),
    (COMMANDS, Kind::Counter, "Commands by type and outcome (ok, retried, rejected, conflict, idempotent_replay, key_reused, error)."),
    (COMMAND_DURATION, Kind::Histogram, "Time a command spent in the executor, in seconds."),
    (COMMAND_CONFLICT_RETRIES, Kind::Counter, "Optimistic-concurrency conflicts the executor retried."),
    (APPEND_DURATION, Kind::Histogram, "Duration of one append transaction, in seconds."),
    (EVENTS_APPENDED, Kind::Counter, "Events committed to the log by this process."),
    (LOG_HEAD, Kind::Gauge, "The highest committed global position of the log."),
    (DB_POOL_CONNECTIONS, Kind::Gauge, "Database pool connections by pool (write, read) and state (idle, in_use)."),
    (DB_POOL_MAX_CONNECTIONS, Kind::Gauge, "The most connections a database pool may open."),
    (DB_POOL_WAITING, Kind::Gauge, "Tasks waiting for a connection of a database pool."),
    (DB_POOL_ACQUIRE_DURATION, Kind::Histogram, "Seconds a task waited for a database connection; the rate of the sum is the average number waiting."),
    (READS_REPLICA, Kind::Counter, "Reads served by a replica."),
    (READS_FALLBACK, Kind::Counter, "Reads that fell back to the primary, by reason."),
    (REPLICA_LAG_SECONDS, Kind::Gauge, "A replica's replay lag in seconds."),
    (REPLICA_LAG_EVENTS, Kind::Gauge, "Events of the primary's log not yet replayed on a replica."),
    (PROJECTION_POSITION, Kind::Gauge, "A projection's checkpoint position."),
    (PROJECTION_LAG, Kind::Gauge, "Events between a projection's checkpoint and the log head."),
    (PROJECTION_STATE, Kind::Gauge, "1 for a projection's current state (running, failed), else 0."),
    (PROJECTION_ERRORS, Kind::Counter, "Events a projection stopped on."),
    (RELAY_POSITION, Kind::Gauge, "The last global position the relay published."),
    (RELAY_LAG, Kind::Gauge, "Events in the log not yet published by the relay."),
    (RELAY_PUBLISH_ERRORS, Kind::Counter, "Relay publishes the bus refused or did not answer."),
    (RELAY_LEADER, Kind::Gauge, "1 while this process leads the relay."),
    (WS_CONNECTIONS_OPEN, Kind::Gauge, "Open WebSocket connections."),
    (WS_MESSAGES_SENT, Kind::Counter, "Messages sent to WebSocket clients."),
    (WS_SLOW_CLIENT_DISCONNECTS, Kind::Counter, "WebSocket clients disconnected for a full queue."),
    (WS_RESYNCS, Kind::Counter, "Resync messages sent to WebSocket clients."),
    (PHOTO_UPLOADS, Kind::Counter, "Photo uploads by outcome."),
    (THUMBNAIL_JOBS, Kind::Counter, "Thumbnail jobs by outcome."),
    (THUMBNAIL_DURATION, Kind::Histogram, "Duration of a thumbnail job, in seconds."),
    (THUMBNAIL_FAILURES, Kind::Counter, "Failed thumbnail attempts by kind (undecodable: ended in ThumbnailFailed; transient: retried)."),
    (THUMBNAIL_QUEUE_DEPTH, Kind::Gauge, "Thumbnail jobs waiting."),
    (AUTH_REJECTIONS, Kind::Counter, "Bearer tokens refused, by reason."),
    (BUILD_INFO, Kind::Gauge, "Always 1; labelled with the running version."),
];

/// The kind of a described metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Label `outcome` of [`COMMANDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Committed (or a no-op) at the first attempt.
    Ok,
    /// Committed after at least one optimistic-concurrency conflict.
    Retried,
    /// The aggregate refused it (a domain rule).
    Rejected,
    /// Every retry lost a race (409).
    Conflict,
    /// The stored answer of an earlier request with the same idempotency key.
    IdempotentReplay,
    /// An idempotency key reused with another request (422).
    KeyReused,
    /// A storage failure (500).
    Error,
}

impl CommandOutcome {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            CommandOutcome::Ok => "ok",
            CommandOutcome::Retried => "retried",
            CommandOutcome::Rejected => "rejected",
            CommandOutcome::Conflict => "conflict",
            CommandOutcome::IdempotentReplay => "idempotent_replay",
            CommandOutcome::KeyReused => "key_reused",
            CommandOutcome::Error => "error",
        }
    }
}

/// Label `state` of [`DB_POOL_CONNECTIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Open and waiting in the pool.
    Idle,
    /// Checked out by a task.
    InUse,
}

impl ConnectionState {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Idle => "idle",
            ConnectionState::InUse => "in_use",
        }
    }
}

/// Label `method` of the HTTP metrics: the methods the API serves, anything else is `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl HttpMethod {
    /// The label of `method`.
    pub fn of(method: &axum::http::Method) -> Self {
        use axum::http::Method;
        match *method {
            Method::GET => HttpMethod::Get,
            Method::HEAD => HttpMethod::Head,
            Method::POST => HttpMethod::Post,
            Method::PUT => HttpMethod::Put,
            Method::PATCH => HttpMethod::Patch,
            Method::DELETE => HttpMethod::Delete,
            Method::OPTIONS => HttpMethod::Options,
            _ => HttpMethod::Other,
        }
    }

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Other => "other",
        }
    }
}
