//! `POST /v1/hostels`: register a hostel with its wings, room pattern and first categories (admin).

use axum::extract::State;
use cms_domain::hostel::{Category, HostelCommand};
use cms_domain::ids::{CategoryId, HostelId, WingId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::now;
use crate::auth::AuthUser;
use crate::commands::hostels;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// A category of the hostel's catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    /// Slug, e.g. `plumbing`.
    #[schema(value_type = String, example = "plumbing")]
    pub id: CategoryId,
    /// Display name.
    #[schema(example = "Plumbing")]
    pub name: String,
}

impl From<CategoryBody> for Category {
    fn from(body: CategoryBody) -> Self {
        Category {
            id: body.id,
            name: body.name,
        }
    }
}

/// A new hostel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterHostelRequest {
    /// Slug that identifies the hostel, e.g. `north-block`.
    #[schema(value_type = String, example = "north-block")]
    pub id: HostelId,
    #[schema(example = "North Block")]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Vec<String>, example = json!(["A", "B"]))]
    pub wings: Vec<WingId>,
    /// Regular expression a room number must match as a whole.
    #[schema(example = "[AB][0-9]{3}")]
    pub room_pattern: String,
    pub categories: Vec<CategoryBody>,
}

/// Register a hostel.
#[utoipa::path(
    post, path = "/v1/hostels", tag = "hostels", security(("bearer" = [])),
    request_body = RegisterHostelRequest,
    responses(
        (status = 201, description = "registered; body has hostel_id and position"),
        (status = 403, description = "not an admin"), (status = 409, description = "already registered"),
        (status = 422, description = "invalid body")
    )
)]
pub(super) async fn register_hostel(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiJson(body): ApiJson<RegisterHostelRequest>,
) -> Result<CommandResponse, ApiError> {
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let command = HostelCommand::RegisterHostel {
        by: actor.clone(),
        at: now(),
        id: body.id.clone(),
        name: body.name,
        wings: body.wings,
        room_pattern: body.room_pattern,
        categories: body.categories.into_iter().map(Category::from).collect(),
    };
    let outcome = hostels::run(
        &state.executor,
        &headers,
        &actor,
        &body.id,
        &request,
        command,
    )
    .await?;
    Ok(CommandResponse(outcome))
}
