//! The `filing` commands: the start of a complaint's life. `POST /v1/complaints` files one (a
//! resident for themselves, or the `service` principal on a resident's behalf; with an
//! `Idempotency-Key` the new complaint's id is derived from the key, so a retried request can never
//! file twice); staff triage it; the reporter may withdraw it before work starts.

use axum::extract::State;
use cms_domain::actor::Role;
use cms_domain::complaint::{ComplaintAction, Priority, Severity};
use cms_domain::ids::{CategoryId, ComplaintId, HostelId, UserId, WingId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::closing::OptionalReason;
use crate::auth::AuthUser;
use crate::commands::complaints::{act, file};
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;

fn to_json(body: &impl Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(ApiError::internal)
}

/// A new complaint.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileComplaintRequest {
    #[schema(value_type = String, example = "north-block")]
    pub hostel: HostelId,
    #[schema(value_type = Option<String>, example = "B")]
    pub wing: Option<WingId>,
    /// Must match the hostel's room pattern.
    #[schema(example = "B204")]
    pub room: String,
    /// A category of the hostel's catalogue.
    #[schema(value_type = String, example = "plumbing")]
    pub category: CategoryId,
    /// `low`, `medium`, `high` or `urgent`.
    #[schema(value_type = String, example = "high")]
    pub severity: Severity,
    /// 3-120 characters.
    #[schema(example = "Leaking tap in the bathroom")]
    pub title: String,
    /// 10-4,000 characters.
    #[schema(example = "The cold tap drips all night and the floor stays wet.")]
    pub description: String,
    /// Only for the `service` role: the resident the complaint is filed for.
    #[schema(value_type = Option<String>)]
    pub on_behalf_of: Option<UserId>,
}

/// File a complaint.
#[utoipa::path(
    post, path = "/v1/complaints", tag = "filing", security(("bearer" = [])),
    request_body = FileComplaintRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    responses(
        (status = 201, description = "filed; body has complaint_id, status, position"),
        (status = 403, description = "role may not file"),
        (status = 404, description = "hostel not in scope"),
        (status = 422, description = "invalid room, category or text; `on_behalf_of` missing for the service role")
    )
)]
pub(super) async fn file_complaint(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiJson(body): ApiJson<FileComplaintRequest>,
) -> Result<CommandResponse, ApiError> {
    // Without it the machine itself would be the reporter, and nobody could ever confirm, dispute or
    // rate the fix.
    if actor.role == Role::Service && body.on_behalf_of.is_none() {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "the service role must name the resident in `on_behalf_of`",
        ));
    }
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let reporter = body
        .on_behalf_of
        .clone()
        .unwrap_or_else(|| actor.id.clone());
    let hostel = body.hostel.clone();
    let new = |id| ComplaintAction::File {
        id,
        reporter,
        wing: body.wing,
        room: body.room,
        category: body.category,
        severity: body.severity,
        title: body.title,
        description: body.description,
    };
    file(&state.executor, &actor, &headers, &hostel, &request, new).await
}

/// Triage: set the priority, optionally correct the category.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    /// `P1` (most urgent) to `P4`.
    #[schema(value_type = String, example = "P2")]
    pub priority: Priority,
    #[schema(value_type = Option<String>)]
    pub category: Option<CategoryId>,
}

/// Triage a complaint (staff or warden of its hostel).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/triage", tag = "filing", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TriageRequest,
    responses((status = 200, description = "triaged"), (status = 409, description = "not in a triageable status"))
)]
pub(super) async fn triage(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<TriageRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = to_json(&body)?;
    let action = ComplaintAction::Triage {
        priority: body.priority,
        category: body.category,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}

/// Withdraw a complaint before work starts (the reporter).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/withdraw", tag = "filing", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = OptionalReason,
    responses((status = 200, description = "withdrawn"), (status = 409, description = "work already started"))
)]
pub(super) async fn withdraw(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<OptionalReason>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let action = ComplaintAction::Withdraw {
        reason: body.reason,
    };
    act(&state.executor, &actor, &headers, id, &request, action).await
}
