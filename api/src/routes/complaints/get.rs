//! `GET /v1/complaints/{id}`: the complaint from the `complaint_detail` projection (on a replica when
//! configured), with its timeline; `Min-Position: N` (or `?min_position=N`) waits for the projection
//! like the list does, and the `Consistency-Token` header says what position the answer reflects.
//! Residents never see internal comments, in the comments or in the timeline. With
//! `?as_of=<RFC 3339>` or `?at_position=N` it is rebuilt from the events up to that moment, through the
//! same upcasters (`Executor::fold`); a complaint that did not exist yet answers 404.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use cms_domain::actor::{Actor, Role};
use cms_domain::complaint::{Complaint, ComplaintEvent, Visibility};
use cms_domain::ids::ComplaintId;
use cms_projections::complaint_detail::{self, TimelineEntry};
use cms_projections::Projection;
use serde::Deserialize;
use serde_json::{json, Value};

use super::list::min_position;
use super::{fold_until, parse_time};
use crate::audit::reads;
use crate::auth::AuthUser;
use crate::commands::complaints::{not_found, visible_to};
use crate::commands::executor::Loaded;
use crate::commands::http::CONSISTENCY_TOKEN;
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::state::AppState;

/// Time travel (at most one of `as_of` and `at_position`), or a consistency token.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AsOfQuery {
    /// The state as of this time (RFC 3339): events recorded at or before it.
    as_of: Option<String>,
    /// The state after the event at this global position.
    at_position: Option<i64>,
    /// Wait until the projection reflects at least this position (like `Min-Position`).
    min_position: Option<i64>,
}

/// Read a complaint.
#[utoipa::path(
    get, path = "/v1/complaints/{id}", tag = "complaints", security(("bearer" = [])),
    params(
        ("id" = String, Path),
        ("as_of" = Option<String>, Query, description = "RFC 3339 time: the state as of then"),
        ("at_position" = Option<i64>, Query, description = "the state after this global position"),
        ("min_position" = Option<i64>, Query, description = "wait until the projection reflects this position (or send `Min-Position`)")
    ),
    responses(
        (status = 200, description = "the complaint, with its timeline"),
        (status = 400, description = "bad as_of, at_position or min_position"),
        (status = 404, description = "absent (at that moment) or not visible"),
        (status = 503, description = "`projection_behind`: not yet at `Min-Position`")
    )
)]
pub(super) async fn get_complaint(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath(id): ApiPath<ComplaintId>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<AsOfQuery>,
) -> Result<Response, Response> {
    match (&query.as_of, query.at_position) {
        (None, None) => current(&state, &actor, id, &headers, query.min_position).await,
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "invalid_query",
            "give as_of or at_position, not both",
        )
        .into_response()),
        (as_of, at_position) => past(&state, &actor, id, as_of.as_deref(), at_position)
            .await
            .map_err(IntoResponse::into_response),
    }
}

/// The complaint as the detail projection has it.
async fn current(
    state: &AppState,
    actor: &Actor,
    id: ComplaintId,
    headers: &HeaderMap,
    min_position_param: Option<i64>,
) -> Result<Response, Response> {
    let wanted = min_position(headers, min_position_param).map_err(IntoResponse::into_response)?;
    let db = state
        .reads
        .for_query(Projection::ComplaintDetail, wanted)
        .await?;
    let detail = complaint_detail::get(&db, &id.to_string())
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    let Some(row) = detail.row.filter(|row| visible_to(actor, &row.complaint)) else {
        return Err(not_found().into_response());
    };
    let loaded = Loaded {
        state: row.complaint,
        sequence: i64::try_from(row.timeline.len()).unwrap_or(i64::MAX),
        position: row.last_position,
    };
    let mut body = render_detail(actor, &loaded).map_err(IntoResponse::into_response)?;
    body["timeline"] = timeline(actor, row.timeline);
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(CONSISTENCY_TOKEN, HeaderValue::from(detail.position));
    Ok(response)
}

/// The complaint rebuilt from its events up to `as_of` or `at_position` (recorded for auditors).
async fn past(
    state: &AppState,
    actor: &Actor,
    id: ComplaintId,
    as_of: Option<&str>,
    at_position: Option<i64>,
) -> Result<Response, ApiError> {
    let span = match (as_of, at_position) {
        (Some(text), _) => format!("as_of={text}"),
        (None, position) => format!("at_position={}", position.unwrap_or_default()),
    };
    let as_of = parse_time("as_of", as_of)?;
    reads::record_if_auditor(
        state.executor.store(),
        actor,
        reads::Route::AsOf,
        Some(&id.to_string()),
        Some(&span),
    )
    .await?;
    let (loaded, entries) = load_past(state, actor, id, as_of, at_position).await?;
    let mut body = render_detail(actor, &loaded)?;
    body["timeline"] = timeline(actor, entries);
    Ok(Json(body).into_response())
}

/// The timeline entries `actor` may see: residents never see internal ones.
fn timeline(actor: &Actor, entries: Vec<TimelineEntry>) -> Value {
    let staff_side = actor.role != Role::Resident;
    let visible: Vec<TimelineEntry> = entries
        .into_iter()
        .filter(|entry| staff_side || !entry.internal)
        .collect();
    json!(visible)
}

/// The complaint rebuilt from its events recorded up to `as_of` or up to `at_position`, with the
/// timeline of those events.
async fn load_past(
    state: &AppState,
    actor: &Actor,
    id: ComplaintId,
    as_of: Option<DateTime<Utc>>,
    at_position: Option<i64>,
) -> Result<(Loaded<Complaint>, Vec<TimelineEntry>), ApiError> {
    let events = state
        .executor
        .store()
        .load(<Complaint as cqrs_es::Aggregate>::TYPE, &id.to_string())
        .await?;
    let loaded = fold_until(&state.executor, &events, as_of, at_position)?;
    if !(loaded.exists() && visible_to(actor, &loaded.state)) {
        return Err(not_found());
    }
    let entries = events
        .iter()
        .take_while(|event| event.global_position <= loaded.position)
        .filter_map(|event| {
            let decoded: ComplaintEvent = serde_json::from_value(event.payload.clone()).ok()?;
            Some(TimelineEntry::of(event.global_position, &decoded))
        })
        .collect();
    Ok((loaded, entries))
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
