//! `GET /v1/complaints/{id}/history`: every event of a complaint in order, with who caused it and
//! why. Residents see only their own complaint and never the events of internal comments; staff and
//! wardens see complaints in their hostels; admins and auditors see everything.

use axum::extract::State;
use axum::Json;
use cms_domain::actor::{Actor, Role};
use cms_domain::complaint::Complaint;
use cms_domain::ids::ComplaintId;
use serde_json::{json, Value};

use crate::audit::reads;
use crate::auth::AuthUser;
use crate::commands::complaints::{not_found, visible_to};
use crate::error::{ApiError, ApiPath};
use crate::fanout::event::is_internal_comment;
use crate::state::AppState;
use cms_eventstore::store::RecordedEvent;

/// Read a complaint's full history.
#[utoipa::path(
    get, path = "/v1/complaints/{id}/history", tag = "complaints", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the complaint's events in order"), (status = 404, description = "absent or not visible"))
)]
pub(super) async fn history(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath(id): ApiPath<ComplaintId>,
) -> Result<Json<Value>, ApiError> {
    reads::record_if_auditor(
        state.executor.store(),
        &actor,
        reads::Route::History,
        Some(&id.to_string()),
        None,
    )
    .await?;
    let events = state
        .executor
        .store()
        .load(<Complaint as cqrs_es::Aggregate>::TYPE, &id.to_string())
        .await?;
    let loaded = state.executor.fold::<Complaint>(events.clone())?;
    if !visible_to(&actor, &loaded.state) {
        return Err(not_found());
    }
    let events: Vec<Value> = events
        .iter()
        .filter(|event| may_see_event(&actor, event))
        .map(|event| render_event(&actor, event))
        .collect();
    Ok(Json(json!({ "complaint_id": id, "events": events })))
}

/// Residents never see internal comments, not even that one was written.
pub(super) fn may_see_event(actor: &Actor, event: &RecordedEvent) -> bool {
    actor.role != Role::Resident || !is_internal_comment(event)
}

/// One event as the history shows it to `actor`. A resident's view has no per-complaint `sequence`:
/// with internal comments left out its numbers would have gaps where they were.
pub(crate) fn render_event(actor: &Actor, event: &RecordedEvent) -> Value {
    let meta = &event.metadata;
    let mut rendered = json!({
        "position": event.global_position,
        "sequence": event.sequence,
        "recorded_at": event.recorded_at,
        "type": event.event_type,
        "version": event.event_version,
        "actor": { "id": meta["actor_id"], "role": meta["actor_role"] },
        "command": meta["command"],
        "correlation_id": meta["correlation_id"],
        "causation_id": meta["causation_id"],
        "payload": event.payload,
    });
    if actor.role == Role::Resident {
        if let Value::Object(map) = &mut rendered {
            map.remove("sequence");
        }
    }
    rendered
}
