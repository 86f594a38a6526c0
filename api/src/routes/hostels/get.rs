//! `GET /v1/hostels` and `GET /v1/hostels/{id}`: the hostel as its events left it (read models come
//! with the read side). Residents see the catalogue they file against, not the staff list.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use cms_domain::actor::{Actor, Role};
use cms_domain::hostel::Hostel;
use cms_domain::ids::HostelId;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::commands::executor::Loaded;
use crate::commands::hostels::load_visible;
use crate::error::{ApiError, ApiPath};
use crate::state::AppState;

/// A hostel.
#[derive(Debug, Serialize, ToSchema)]
pub struct HostelView {
    pub id: String,
    pub name: String,
    pub wings: Vec<String>,
    pub room_pattern: String,
    #[schema(value_type = Vec<Object>)]
    pub categories: Value,
    #[schema(value_type = Vec<Object>)]
    pub retired_categories: Value,
    /// Omitted for residents.
    #[schema(value_type = Option<Vec<Object>>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff: Option<Value>,
    #[schema(value_type = Object)]
    pub policy: Value,
    pub registered_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The global position of the hostel's last event.
    pub position: i64,
}

fn view(actor: &Actor, loaded: &Loaded<Hostel>) -> Option<HostelView> {
    let hostel = &loaded.state;
    let facts = hostel.facts_ref()?;
    let staff = (actor.role != Role::Resident).then(|| json!(hostel.staff().collect::<Vec<_>>()));
    Some(HostelView {
        id: facts.id.to_string(),
        name: facts.name.clone(),
        wings: facts.wings.iter().map(ToString::to_string).collect(),
        room_pattern: facts.room_pattern.clone(),
        categories: json!(hostel.categories()),
        retired_categories: json!(hostel.retired_categories()),
        staff,
        policy: json!(facts.policy),
        registered_at: hostel.registered_at(),
        updated_at: hostel.updated_at(),
        position: loaded.position,
    })
}

/// Read one hostel.
#[utoipa::path(
    get, path = "/v1/hostels/{id}", tag = "hostels", security(("bearer" = [])),
    params(("id" = String, Path, description = "hostel slug")),
    responses((status = 200, body = HostelView), (status = 404, description = "no such hostel in scope"))
)]
pub(super) async fn get_hostel(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath(id): ApiPath<HostelId>,
) -> Result<Json<HostelView>, ApiError> {
    let loaded = load_visible(&state.executor, &actor, &id).await?;
    view(&actor, &loaded)
        .map(Json)
        .ok_or_else(crate::commands::hostels::not_found)
}

/// The hostels in the caller's scope.
#[utoipa::path(
    get, path = "/v1/hostels", tag = "hostels", security(("bearer" = [])),
    responses((status = 200, body = Vec<HostelView>))
)]
pub(super) async fn list_hostels(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
) -> Result<Json<Vec<HostelView>>, ApiError> {
    let ids = state
        .executor
        .store()
        .aggregate_ids(cms_domain::hostel::AGGREGATE_TYPE)
        .await?;
    let mut hostels = Vec::new();
    for id in ids {
        let Ok(id) = HostelId::parse(&id) else {
            continue;
        };
        if !actor.scope.covers(&id) {
            continue;
        }
        let loaded = state.executor.load::<Hostel>(id.as_str()).await?;
        hostels.extend(view(&actor, &loaded));
    }
    Ok(Json(hostels))
}
