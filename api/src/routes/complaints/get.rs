//! `GET /v1/complaints/{id}`: the complaint rebuilt from its events (the read side will answer this
//! from a projection). Residents never see internal comments.

use axum::extract::State;
use axum::Json;
use cms_domain::actor::Role;
use cms_domain::complaint::Visibility;
use cms_domain::ids::ComplaintId;
use serde_json::{json, Value};

use super::load_visible;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiPath};

/// Read a complaint.
#[utoipa::path(
    get, path = "/v1/complaints/{id}", tag = "complaints", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the complaint"), (status = 404, description = "absent or not visible"))
)]
pub(super) async fn get_complaint(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath(id): ApiPath<ComplaintId>,
) -> Result<Json<Value>, ApiError> {
    let loaded = load_visible(&state.executor, &actor, id).await?;
    let Some(c) = loaded.state.state() else {
        return Err(ApiError::not_found(
            "complaint_not_found",
            "complaint not found",
        ));
    };
    let staff_side = actor.role != Role::Resident;
    let comments: Vec<_> = c
        .comments()
        .iter()
        .filter(|comment| staff_side || comment.visibility == Visibility::Public)
        .collect();
    Ok(Json(json!({
        "id": c.id(),
        "hostel": c.hostel(),
        "wing": c.wing(),
        "room": c.room(),
        "category": c.category(),
        "severity": c.severity(),
        "priority": c.priority(),
        "status": c.status(),
        "title": c.title(),
        "description": c.description(),
        "reporter": c.reporter(),
        "assignee": c.assignee(),
        "assignments": c.assignments(),
        "comments": comments,
        "photos": c.photos(),
        "hold": c.hold(),
        "resolution": c.resolution(),
        "disputes": c.disputes(),
        "rating": c.rating(),
        "outcome": c.outcome(),
        "filed_at": c.filed_at(),
        "updated_at": c.updated_at(),
        "position": loaded.position,
    })))
}
