//! The `work` commands: assign, start, hold, resume and resolve. Wardens and admins assign (staff may
//! assign themselves where the hostel allows it); only the assignee starts and resolves the work.

use axum::extract::State;
use chrono::{DateTime, Utc};
use cms_domain::complaint::ComplaintAction;
use cms_domain::ids::{ComplaintId, PhotoId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::commands::complaints::act;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;

fn to_json(body: &impl Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(ApiError::internal)
}

/// Assign to a staff member of the hostel whose skills include the category.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    #[schema(value_type = String, example = "staff-ravi")]
    pub assignee: UserId,
}

/// Assign or reassign a complaint (warden or admin; staff may self-assign where the hostel allows).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/assign", tag = "work", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AssignRequest,
    responses((status = 200, description = "assigned"), (status = 422, description = "assignee not eligible"))
)]
pub(super) async fn assign(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = to_json(&body)?;
    let action = ComplaintAction::Assign {
        assignee: body.assignee,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}

/// Start work (the assignee).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/start", tag = "work", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "in progress"), (status = 403, description = "not the assignee"))
)]
pub(super) async fn start(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
) -> Result<CommandResponse, ApiError> {
    let action = ComplaintAction::StartWork;
    act(&state.executor, &actor, &headers, id, &json!({}), action).await
}

/// Put work on hold.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    #[schema(example = "waiting for a replacement valve")]
    pub reason: String,
    /// When work is expected to resume.
    pub until: Option<DateTime<Utc>>,
}

/// Put a complaint on hold (the assignee or a warden).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/hold", tag = "work", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = HoldRequest,
    responses((status = 200, description = "on hold"))
)]
pub(super) async fn hold(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<HoldRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = to_json(&body)?;
    let action = ComplaintAction::PutOnHold {
        reason: body.reason,
        until: body.until,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}

/// Resume work after a hold.
#[utoipa::path(
    post, path = "/v1/complaints/{id}/resume", tag = "work", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "in progress again"))
)]
pub(super) async fn resume(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
) -> Result<CommandResponse, ApiError> {
    let action = ComplaintAction::ResumeWork;
    act(&state.executor, &actor, &headers, id, &json!({}), action).await
}

/// The fix.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    #[schema(example = "Replaced the washer; no more dripping.")]
    pub note: String,
    /// Ids of attached `after` photos.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub after_photos: Vec<PhotoId>,
}

/// Resolve a complaint (the assignee).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/resolve", tag = "work", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ResolveRequest,
    responses((status = 200, description = "resolved"))
)]
pub(super) async fn resolve(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<ResolveRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = to_json(&body)?;
    let action = ComplaintAction::Resolve {
        note: body.note,
        after_photos: body.after_photos,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}
