//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers and every migration
//! is applied; a stopped projection shows as `projections: degraded`; `projection_lag` gives each
//! projection's distance to the log head, `degraded` past 100 events; with replicas, each one's lag
//! in seconds and events, `degraded` past 5 s or when unreachable; `bus` and `object_store`, degraded
//! when they do not answer), each with a JSON body per dependency. Degraded checks never make the
//! instance unready: commands still work.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Liveness or readiness, with a line per dependency.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// Per dependency: `ok`, or what is wrong.
    checks: std::collections::BTreeMap<&'static str, String>,
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = HealthResponse)))]
async fn healthz() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok",
        checks: [("process", "ok".to_owned())].into(),
    })
}

/// Each replica's lag, e.g. `ok: replica 0 (db-2:5432) 0.0 s / 0 events` or `degraded: replica 1
/// (db-3:5432) unreachable`. No URL: `/readyz` answers anyone, so user and database names stay out.
async fn replicas(reads: &crate::reads::Reads) -> String {
    let mut degraded = false;
    let parts: Vec<String> = reads
        .replica_lag()
        .await
        .into_iter()
        .map(|lag| match (lag.seconds, lag.events) {
            (Some(seconds), Some(events)) => {
                degraded |= seconds > REPLICA_LAG_DEGRADED.as_secs_f64();
                format!("{} {seconds:.1} s / {events} events", lag.endpoint)
            }
            _ => {
                degraded = true;
                format!("{} unreachable", lag.endpoint)
            }
        })
        .collect();
    let verdict = if degraded { "degraded" } else { "ok" };
    format!("{verdict}: {}", parts.join(", "))
}

/// Each projection's distance to the log head, e.g. `ok: complaint_list 0, dashboard 3 events
/// behind`; `degraded` when one is more than [`PROJECTION_LAG_DEGRADED`] events behind (the same
/// threshold as the `CmsProjectionLagging` alert).
fn projection_lag(rows: &[cms_projections::checkpoint::ProjectionStatus]) -> String {
    let degraded = rows.iter().any(|r| r.lag > PROJECTION_LAG_DEGRADED);
    let parts: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.projection, r.lag.max(0)))
        .collect();
    let verdict = if degraded { "degraded" } else { "ok" };
    format!("{verdict}: {} events behind", parts.join(", "))
}

/// A projection further behind the log head than this many events is reported as degraded.
const PROJECTION_LAG_DEGRADED: i64 = 100;

/// How long `/readyz` waits for the bus or the object store.
const PROBE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The bus: `ok: nats, stream at 42 (hub at 42)`, or `degraded: ...` when it does not answer.
async fn bus_check(gateway: &crate::fanout::gateway::Gateway) -> String {
    let hub = gateway.hub().position();
    let Some(bus) = gateway.bus() else {
        return format!("ok: hub at {hub}");
    };
    match tokio::time::timeout(PROBE_WAIT, bus.last_sequence()).await {
        Ok(Ok(last)) => format!("ok: {} bus, stream at {last} (hub at {hub})", bus.kind()),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: bus unreachable");
            format!(
                "degraded: {} bus unreachable (hub at {hub}, following the log)",
                bus.kind()
            )
        }
        Err(_) => format!(
            "degraded: {} bus did not answer within 2 s (hub at {hub})",
            bus.kind()
        ),
    }
}

/// A replica further behind than this is reported as degraded.
const REPLICA_LAG_DEGRADED: std::time::Duration = std::time::Duration::from_secs(5);

/// The database is reachable and migrated.
#[utoipa::path(
    get, path = "/readyz", tag = "health",
    responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse))
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<HealthResponse>) {
    let store = state.executor.store();
    let database = match store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            "unreachable".to_owned()
        }
    };
    let migrations = match store.migrations_applied().await {
        Ok(true) => "ok".to_owned(),
        Ok(false) => "pending".to_owned(),
        Err(_) => "unknown".to_owned(),
    };
    // A stopped projection does not make the instance unready (commands still work), but it is
    // reported as degraded so operators see it.
    let (projections, projection_lag) =
        match cms_projections::checkpoint::status(&store.db().clone()).await {
            Ok(rows) => {
                let failed: Vec<&str> = rows
                    .iter()
                    .filter(|r| r.state == cms_projections::checkpoint::State::Failed)
                    .map(|r| r.projection)
                    .collect();
                let state = if failed.is_empty() {
                    "ok".to_owned()
                } else {
                    format!("degraded: {} failed", failed.join(", "))
                };
                (state, projection_lag(&rows))
            }
            Err(_) => ("unknown".to_owned(), "unknown".to_owned()),
        };
    let ready = database == "ok" && migrations == "ok";
    let mut checks: std::collections::BTreeMap<&'static str, String> = [
        ("database", database),
        ("migrations", migrations),
        ("projections", projections),
        ("projection_lag", projection_lag),
    ]
    .into();
    // The bus and the object store: when they fail, commands and reads still work (the hub follows
    // the log, uploads fail with 500), so they degrade, never unready.
    if let Some(gateway) = &state.fanout {
        checks.insert("bus", bus_check(gateway).await);
    }
    checks.insert(
        "object_store",
        match tokio::time::timeout(PROBE_WAIT, state.objects.size("readyz/probe")).await {
            Ok(Ok(_)) => "ok".to_owned(),
            Ok(Err(error)) => {
                tracing::warn!(%error, "readiness: object store unreachable");
                "degraded: unreachable".to_owned()
            }
            Err(_) => "degraded: no answer within 2 s".to_owned(),
        },
    );
    if state.reads.replica_count() > 0 {
        // Reads fall back to the primary, so a lagging or stopped replica degrades, never unreadies.
        checks.insert("replicas", replicas(&state.reads).await);
    }
    let body = HealthResponse {
        status: if ready { "ok" } else { "unavailable" },
        checks,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
