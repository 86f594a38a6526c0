//! `GET /v1/complaints/{id}`: the complaint rebuilt from its events (the read side will answer this
//! from a projection). Residents never see internal comments. With `?as_of=<RFC 3339>` or
//! `?at_position=N` it is rebuilt from the events up to that moment, through the same upcasters
//! (`Executor::fold`); a complaint that did not exist yet answers 404.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use cms_domain::actor::{Actor, Role};
use cms_domain::complaint::{Complaint, Visibility};
use cms_domain::ids::ComplaintId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{fold_until, load_visible, not_found, parse_time, visible_to};
use crate::app::AppState;
use crate::audit::reads;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::executor::Loaded;

/// Time travel: at most one of the two.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AsOfQuery {
    /// The state as of this time (RFC 3339): events recorded at or before it.
    as_of: Option<String>,
    /// The state after the event at this global position.
    at_position: Option<i64>,
}

/// Read a complaint.
#[utoipa::path(
    get, path = "/v1/complaints/{id}", tag = "complaints", security(("bearer" = [])),
    params(
        ("id" = String, Path),
        ("as_of" = Option<String>, Query, description = "RFC 3339 time: the state as of then"),
        ("at_position" = Option<i64>, Query, description = "the state after this global position")
    ),
    responses(
        (status = 200, description = "the complaint"),
        (status = 400, description = "bad as_of or at_position"),
        (status = 404, description = "absent (at that moment) or not visible")
    )
)]
pub(super) async fn get_complaint(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiQuery(query): ApiQuery<AsOfQuery>,
) -> Result<Json<Value>, ApiError> {
    let loaded = match (&query.as_of, query.at_position) {
        (None, None) => load_visible(&state.executor, &actor, id).await?,
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "give as_of or at_position, not both",
            ))
        }
        (as_of, at_position) => {
            let as_of = parse_time("as_of", as_of.as_deref())?;
            let span = match (&query.as_of, at_position) {
                (Some(text), _) => format!("as_of={text}"),
                (None, position) => format!("at_position={}", position.unwrap_or_default()),
            };
            reads::record_if_auditor(
                state.executor.store(),
                &actor,
                reads::Route::AsOf,
                Some(&id.to_string()),
                Some(&span),
            )
            .await?;
            load_past(&state, &actor, id, as_of, at_position).await?
        }
    };
    Ok(Json(render_detail(&actor, &loaded)?))
}

/// The complaint rebuilt from its events recorded up to `as_of` or up to `at_position`.
async fn load_past(
    state: &AppState,
    actor: &Actor,
    id: ComplaintId,
    as_of: Option<DateTime<Utc>>,
    at_position: Option<i64>,
) -> Result<Loaded<Complaint>, ApiError> {
    let events = state
        .executor
        .store()
        .load(<Complaint as cqrs_es::Aggregate>::TYPE, &id.to_string())
        .await?;
    let loaded = fold_until(&state.executor, &events, as_of, at_position)?;
    if loaded.exists() && visible_to(actor, &loaded.state) {
        Ok(loaded)
    } else {
        Err(not_found())
    }
}

/// The detail view of a loaded complaint as `actor` may see it.
pub(super) fn render_detail(actor: &Actor, loaded: &Loaded<Complaint>) -> Result<Value, ApiError> {
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
    Ok(json!({
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
    }))
}
