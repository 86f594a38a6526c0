//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers and every migration
//! is applied; a stopped projection shows as `projections: degraded`), each with a JSON body per
//! dependency.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

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
    let projections = match cms_projections::checkpoint::status(&store.read_db()).await {
        Ok(rows) => {
            let failed: Vec<&str> = rows
                .iter()
                .filter(|r| r.state == cms_projections::checkpoint::State::Failed)
                .map(|r| r.projection)
                .collect();
            if failed.is_empty() {
                "ok".to_owned()
            } else {
                format!("degraded: {} failed", failed.join(", "))
            }
        }
        Err(_) => "unknown".to_owned(),
    };
    let ready = database == "ok" && migrations == "ok";
    let checks = [
        ("database", database),
        ("migrations", migrations),
        ("projections", projections),
    ]
    .into();
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
