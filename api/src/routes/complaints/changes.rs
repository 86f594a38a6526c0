//! `GET /v1/complaints/{id}/changes?from=..&to=..`: what changed between two moments. The complaint
//! is rebuilt at `from` and at `to` through the same fold as `?as_of=` (absent `from`: before it was
//! filed; absent `to`: now), with the events recorded in between and a field-level diff of the
//! top-level fields of the detail view. Visibility is the history's: residents see only their own
//! complaint and never internal comments, in the events, the states or the diff.

use axum::extract::State;
use axum::Json;
use cms_domain::complaint::Complaint;
use cms_domain::ids::ComplaintId;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::get::render_detail;
use super::history::{may_see_event, render_event};
use super::{fold_until, parse_time};
use crate::audit::reads;
use crate::auth::AuthUser;
use crate::commands::complaints::{not_found, visible_to};
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::state::AppState;

/// The window; either end may be absent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangesQuery {
    /// RFC 3339: the state as of this time (absent: before the complaint existed).
    from: Option<String>,
    /// RFC 3339: the state as of this time (absent: now).
    to: Option<String>,
}

/// What changed in a complaint between two moments.
#[utoipa::path(
    get, path = "/v1/complaints/{id}/changes", tag = "complaints", security(("bearer" = [])),
    params(
        ("id" = String, Path),
        ("from" = Option<String>, Query, description = "RFC 3339 time (default: the beginning)"),
        ("to" = Option<String>, Query, description = "RFC 3339 time (default: now)")
    ),
    responses(
        (status = 200, description = "the states at both ends, the events between and the changed fields"),
        (status = 400, description = "a bad time, or from after to"),
        (status = 404, description = "absent at `to`, or not visible")
    )
)]
pub(super) async fn changes(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> Result<Json<Value>, ApiError> {
    let from = parse_time("from", query.from.as_deref())?;
    let to = parse_time("to", query.to.as_deref())?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(ApiError::bad_request("invalid_query", "from is after to"));
        }
    }
    reads::record_if_auditor(
        state.executor.store(),
        &actor,
        reads::Route::Changes,
        Some(&id.to_string()),
        Some(&format!(
            "from={},to={}",
            query.from.as_deref().unwrap_or(""),
            query.to.as_deref().unwrap_or("")
        )),
    )
    .await?;
    let events = state
        .executor
        .store()
        .load(<Complaint as cqrs_es::Aggregate>::TYPE, &id.to_string())
        .await?;
    let after = fold_until(&state.executor, &events, to, None)?;
    if !after.exists() || !visible_to(&actor, &after.state) {
        return Err(not_found());
    }
    let before = match from {
        Some(_) => fold_until(&state.executor, &events, from, None)?,
        None => fold_until(&state.executor, &[], None, None)?,
    };
    let before = if before.exists() {
        Some(render_detail(&actor, &before)?)
    } else {
        None
    };
    let after = render_detail(&actor, &after)?;
    let between: Vec<Value> = events
        .iter()
        .filter(|e| from.is_none_or(|t| e.recorded_at > t) && to.is_none_or(|t| e.recorded_at <= t))
        .filter(|e| may_see_event(&actor, e))
        .map(|e| render_event(&actor, e))
        .collect();
    let diff = field_diff(before.as_ref(), &after);
    Ok(Json(json!({
        "complaint_id": id,
        "from": query.from,
        "to": query.to,
        "before": before,
        "after": after,
        "events": between,
        "changes": diff,
    })))
}

/// `{field, before, after}` for every top-level field whose value differs (`position` is where the
/// state was read, not a field of the complaint). A complaint absent at `from` had every field null.
fn field_diff(before: Option<&Value>, after: &Value) -> Vec<Value> {
    let empty = Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let Some(after) = after.as_object() else {
        return Vec::new();
    };
    after
        .iter()
        .filter(|(field, _)| field.as_str() != "position")
        .filter_map(|(field, now)| {
            let then = before.get(field).unwrap_or(&Value::Null);
            (then != now).then(|| json!({ "field": field, "before": then, "after": now }))
        })
        .collect()
}
