//! `POST /v1/complaints`: a resident files a complaint (or the `service` principal files one on a
//! resident's behalf). With an `Idempotency-Key`, the new complaint's id is derived from the key, so a
//! retried request can never file twice.

use axum::extract::State;
use chrono::Utc;
use cms_domain::actor::Role;
use cms_domain::complaint::{ActionKind, Complaint, ComplaintAction, ComplaintCommand, Severity};
use cms_domain::ids::{CategoryId, ComplaintId, HostelId, UserId, WingId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::commands::complaints::{hostel_facts, render};
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

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
    post, path = "/v1/complaints", tag = "complaints", security(("bearer" = [])),
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
    if !actor.scope.covers(&body.hostel) {
        return Err(ApiError::not_found("hostel_not_found", "hostel not found"));
    }
    // Without it the machine itself would be the reporter, and nobody could ever confirm, dispute or
    // rate the fix.
    if actor.role == Role::Service && body.on_behalf_of.is_none() {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "the service role must name the resident in `on_behalf_of`",
        ));
    }
    let facts = hostel_facts(&state.executor, &body.hostel).await?;
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let ctx = headers.context(
        &actor,
        ActionKind::File.command_name(),
        "complaints",
        &request,
        Some(body.hostel.to_string()),
    )?;
    let id = ComplaintId::new(ctx.new_aggregate_id("complaint"));
    let reporter = body
        .on_behalf_of
        .clone()
        .unwrap_or_else(|| actor.id.clone());
    let command = ComplaintCommand {
        by: actor.clone(),
        at: Utc::now(),
        hostel: facts,
        action: ComplaintAction::File {
            id,
            reporter,
            wing: body.wing,
            room: body.room,
            category: body.category,
            severity: body.severity,
            title: body.title,
            description: body.description,
        },
    };
    let outcome = state
        .executor
        .execute::<Complaint, _>(&ctx, &id.to_string(), None, 201, command, render)
        .await?;
    Ok(CommandResponse(outcome))
}
