//! `POST /v1/hostels/{id}/categories` and `POST /v1/hostels/{id}/categories/{category}/retire`.

use axum::extract::State;
use cms_domain::hostel::HostelCommand;
use cms_domain::ids::{CategoryId, HostelId};
use serde_json::json;

use super::now;
use super::register::CategoryBody;
use crate::auth::AuthUser;
use crate::commands::hostels;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::state::AppState;

/// Add a category to the catalogue (or bring back a retired one).
#[utoipa::path(
    post, path = "/v1/hostels/{id}/categories", tag = "hostels", security(("bearer" = [])),
    params(("id" = String, Path, description = "hostel slug")),
    request_body = CategoryBody,
    responses((status = 200, description = "added"), (status = 404, description = "no such hostel in scope"))
)]
pub(super) async fn add_category(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<HostelId>,
    ApiJson(body): ApiJson<CategoryBody>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let command = HostelCommand::AddCategory {
        by: actor.clone(),
        at: now(),
        category: body.into(),
    };
    Ok(CommandResponse(
        hostels::run(&state.executor, &headers, &actor, &id, &request, command).await?,
    ))
}

/// Retire a category: no new complaints may be filed in it.
#[utoipa::path(
    post, path = "/v1/hostels/{id}/categories/{category}/retire", tag = "hostels",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "hostel slug"), ("category" = String, Path)),
    responses((status = 200, description = "retired"), (status = 404, description = "no such hostel in scope"))
)]
pub(super) async fn retire_category(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath((id, category)): ApiPath<(HostelId, CategoryId)>,
) -> Result<CommandResponse, ApiError> {
    let request = json!({ "category": category });
    let command = HostelCommand::RetireCategory {
        by: actor.clone(),
        at: now(),
        category,
    };
    Ok(CommandResponse(
        hostels::run(&state.executor, &headers, &actor, &id, &request, command).await?,
    ))
}
