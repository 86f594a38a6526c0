//! The `closing` commands: ending a complaint without (or after) a fix. Close (warden or admin),
//! reject (warden).

use axum::extract::State;
use cms_domain::complaint::ComplaintAction;
use cms_domain::ids::ComplaintId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::commands::complaints::act;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;

/// An optional reason.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionalReason {
    pub reason: Option<String>,
}

/// A required reason.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredReason {
    pub reason: String,
}

/// Close a complaint (warden or admin).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/close", tag = "closing", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = OptionalReason,
    responses((status = 200, description = "closed"), (status = 403, description = "role may not close"))
)]
pub(super) async fn close(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<OptionalReason>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let action = ComplaintAction::Close {
        reason: body.reason,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}

/// Reject a complaint (warden).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/reject", tag = "closing", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RequiredReason,
    responses((status = 200, description = "rejected"), (status = 403, description = "role may not reject"))
)]
pub(super) async fn reject(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<RequiredReason>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let action = ComplaintAction::Reject {
        reason: body.reason,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}
