//! `PUT /v1/hostels/{id}/policy`: self-assignment and the dispute window.

use axum::extract::State;
use cms_domain::hostel::{HostelCommand, HostelPolicy};
use cms_domain::ids::HostelId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::now;
use crate::auth::AuthUser;
use crate::commands::hostels;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;

/// The hostel's complaint policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPolicyRequest {
    /// Whether staff may assign complaints to themselves.
    pub self_assignment_allowed: bool,
    /// Days after a resolution during which the reporter may dispute it (1-90).
    #[schema(example = 7)]
    pub dispute_window_days: u32,
}

/// Replace the hostel's policy.
#[utoipa::path(
    put, path = "/v1/hostels/{id}/policy", tag = "hostels", security(("bearer" = [])),
    params(("id" = String, Path, description = "hostel slug")),
    request_body = SetPolicyRequest,
    responses((status = 200, description = "set"), (status = 422, description = "invalid policy"))
)]
pub(super) async fn set_policy(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<HostelId>,
    ApiJson(body): ApiJson<SetPolicyRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let command = HostelCommand::SetPolicy {
        by: actor.clone(),
        at: now(),
        policy: HostelPolicy {
            self_assignment_allowed: body.self_assignment_allowed,
            dispute_window_days: body.dispute_window_days,
        },
    };
    Ok(CommandResponse(
        hostels::run(&state.executor, &headers, &actor, &id, &request, command).await?,
    ))
}
