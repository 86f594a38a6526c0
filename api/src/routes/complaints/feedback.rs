//! The reporter's answer to a resolution: confirm it (the complaint closes), dispute it within the
//! hostel's window (it reopens), and rate it once.

use axum::extract::State;
use cms_domain::complaint::ComplaintAction;
use cms_domain::ids::ComplaintId;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::commands::complaints::act;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;

/// Confirm the fix (the reporter); the complaint closes.
#[utoipa::path(
    post, path = "/v1/complaints/{id}/confirm", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "confirmed and closed"), (status = 403, description = "not the reporter"))
)]
pub(super) async fn confirm(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
) -> Result<CommandResponse, ApiError> {
    let action = ComplaintAction::ConfirmResolution;
    act(&state.executor, &actor, &headers, id, &json!({}), action).await
}

/// Why the fix did not work.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    #[schema(example = "Still dripping the next morning.")]
    pub reason: String,
}

/// Dispute the fix within the hostel's dispute window (the reporter); the complaint reopens.
#[utoipa::path(
    post, path = "/v1/complaints/{id}/dispute", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = DisputeRequest,
    responses((status = 200, description = "reopened"), (status = 409, description = "window closed or not resolved"))
)]
pub(super) async fn dispute(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<DisputeRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = json!({ "reason": body.reason });
    let action = ComplaintAction::DisputeResolution {
        reason: body.reason,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}

/// A rating of the resolution.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1-5.
    #[schema(example = 5)]
    pub stars: u8,
    pub comment: Option<String>,
}

/// Rate the resolution once (the reporter).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/rating", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RatingRequest,
    responses((status = 200, description = "rated"), (status = 409, description = "already rated"))
)]
pub(super) async fn rate(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<RatingRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let action = ComplaintAction::RateResolution {
        stars: body.stars,
        comment: body.comment,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}
