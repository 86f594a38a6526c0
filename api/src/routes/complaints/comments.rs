//! `POST /v1/complaints/{id}/comments`: public comments (everyone who may see the complaint) and
//! internal ones (staff side only).

use axum::extract::State;
use cms_domain::complaint::{ActionKind, ComplaintAction, Visibility};
use cms_domain::ids::{CommentId, ComplaintId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::commands::complaints::act;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;

/// A comment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// 1-4,000 characters.
    pub body: String,
    /// `public` (default) or `internal`.
    #[serde(default = "public")]
    #[schema(value_type = String, example = "public")]
    pub visibility: Visibility,
}

fn public() -> Visibility {
    Visibility::Public
}

/// Comment on a complaint.
#[utoipa::path(
    post, path = "/v1/complaints/{id}/comments", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CommentRequest,
    responses((status = 200, description = "added; body has comment_id"), (status = 403, description = "internal comment by a resident"))
)]
pub(super) async fn add_comment(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<CommentRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let ctx = headers.context(
        &actor,
        ActionKind::AddComment.command_name(),
        &id.to_string(),
        &request,
        None,
    )?;
    let comment_id = CommentId::new(ctx.new_aggregate_id("comment"));
    let action = ComplaintAction::AddComment {
        comment_id,
        body: body.body,
        visibility: body.visibility,
    };
    let mut response = act(&state.executor, &actor, &headers, id, &request, action).await?;
    if let serde_json::Value::Object(map) = &mut response.0.body {
        map.entry("comment_id")
            .or_insert_with(|| serde_json::json!(comment_id));
    }
    Ok(response)
}
