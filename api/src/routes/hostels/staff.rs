//! `POST /v1/hostels/{id}/staff` and `DELETE /v1/hostels/{id}/staff/{user_id}`.

use std::collections::BTreeSet;

use axum::extract::State;
use cms_domain::hostel::{HostelCommand, StaffMember, StaffRole};
use cms_domain::ids::{CategoryId, HostelId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::now;
use crate::auth::AuthUser;
use crate::commands::hostels;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;

/// A staff member of the hostel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddStaffMemberRequest {
    /// The member's user id (the `sub` of their tokens).
    #[schema(value_type = String, example = "staff-ravi")]
    pub id: UserId,
    #[schema(example = "Ravi Kumar")]
    pub name: String,
    /// Categories the member can work on.
    #[schema(value_type = Vec<String>, example = json!(["plumbing"]))]
    pub skills: BTreeSet<CategoryId>,
    /// `staff` or `warden`.
    #[schema(value_type = String, example = "staff")]
    pub role: StaffRole,
}

/// Add a staff member.
#[utoipa::path(
    post, path = "/v1/hostels/{id}/staff", tag = "hostels", security(("bearer" = [])),
    params(("id" = String, Path, description = "hostel slug")),
    request_body = AddStaffMemberRequest,
    responses((status = 200, description = "added"), (status = 404, description = "no such hostel in scope"))
)]
pub(super) async fn add_staff_member(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<HostelId>,
    ApiJson(body): ApiJson<AddStaffMemberRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let command = HostelCommand::AddStaffMember {
        by: actor.clone(),
        at: now(),
        member: StaffMember {
            id: body.id,
            name: body.name,
            skills: body.skills,
            role: body.role,
        },
    };
    Ok(CommandResponse(
        hostels::run(&state.executor, &headers, &actor, &id, &request, command).await?,
    ))
}

/// Remove a staff member.
#[utoipa::path(
    delete, path = "/v1/hostels/{id}/staff/{user_id}", tag = "hostels", security(("bearer" = [])),
    params(("id" = String, Path, description = "hostel slug"), ("user_id" = String, Path)),
    responses((status = 200, description = "removed"), (status = 404, description = "no such hostel or member"))
)]
pub(super) async fn remove_staff_member(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath((id, user_id)): ApiPath<(HostelId, UserId)>,
) -> Result<CommandResponse, ApiError> {
    let request = json!({ "id": user_id });
    let command = HostelCommand::RemoveStaffMember {
        by: actor.clone(),
        at: now(),
        id: user_id,
    };
    Ok(CommandResponse(
        hostels::run(&state.executor, &headers, &actor, &id, &request, command).await?,
    ))
}
