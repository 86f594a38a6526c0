//! Complaint routes: filing, the lifecycle commands, comments, feedback, the detail view, the list
//! and its CSV export (both served from the `complaint_list` projection), and photos.
//!
//! Every route first loads the complaint and checks that the caller may see it (residents: only their
//! own; everyone else: only inside their hostel scope). A complaint the caller may not see answers 404,
//! exactly like one that does not exist, so ids leak nothing. The aggregate then decides whether the
//! caller's role may do what it asks.

mod changes;
mod closing;
mod comments;
mod export;
mod feedback;
mod file;
mod get;
mod history;
mod lifecycle;
pub(crate) mod list;
mod photos;

use chrono::Utc;
use cms_domain::actor::{Actor, Role};
use cms_domain::complaint::{Complaint, ComplaintAction, ComplaintCommand};
use cms_domain::hostel::{Hostel, HostelFacts};
use cms_domain::ids::{ComplaintId, HostelId};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ApiError;
use crate::executor::{Executor, Loaded};
use crate::routes::command::{CommandHeaders, CommandResponse};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(file::file_complaint, list::list_complaints))
        .routes(routes!(export::export_csv))
        .routes(routes!(get::get_complaint))
        .routes(routes!(history::history))
        .routes(routes!(changes::changes))
        .routes(routes!(lifecycle::triage))
        .routes(routes!(lifecycle::assign))
        .routes(routes!(lifecycle::start))
        .routes(routes!(lifecycle::hold))
        .routes(routes!(lifecycle::resume))
        .routes(routes!(lifecycle::resolve))
        .routes(routes!(comments::add_comment))
        .routes(routes!(feedback::confirm))
        .routes(routes!(feedback::dispute))
        .routes(routes!(feedback::rate))
        .routes(routes!(closing::close))
        .routes(routes!(closing::reject))
        .routes(routes!(closing::withdraw))
        .merge(photos::router())
}

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("complaint_not_found", "complaint not found")
}

/// Whether `actor` may see `complaint` at all.
pub(crate) fn visible_to(actor: &Actor, complaint: &Complaint) -> bool {
    let Some(state) = complaint.state() else {
        return false;
    };
    match actor.role {
        Role::Resident => state.reporter() == &actor.id,
        Role::Staff | Role::Warden | Role::Admin | Role::Auditor | Role::Service => {
            actor.scope.covers(state.hostel())
        }
    }
}

/// Loads a complaint the actor may see; absent and invisible are the same 404.
///
/// # Errors
/// 404 `complaint_not_found`, or a storage failure.
pub(crate) async fn load_visible(
    executor: &Executor,
    actor: &Actor,
    id: ComplaintId,
) -> Result<Loaded<Complaint>, ApiError> {
    let loaded = executor.load::<Complaint>(&id.to_string()).await?;
    if visible_to(actor, &loaded.state) {
        Ok(loaded)
    } else {
        Err(not_found())
    }
}

/// The current facts of a registered hostel, for a complaint decision.
///
/// # Errors
/// 404 `hostel_not_found` when it is not registered, or a storage failure.
pub(crate) async fn hostel_facts(
    executor: &Executor,
    id: &HostelId,
) -> Result<HostelFacts, ApiError> {
    let hostel = executor.load::<Hostel>(id.as_str()).await?;
    hostel
        .state
        .facts()
        .ok_or_else(|| ApiError::not_found("hostel_not_found", "hostel not found"))
}

/// The body every complaint command answers with (plus `position`).
pub(crate) fn render(complaint: &Complaint) -> Value {
    json!({ "complaint_id": complaint.id(), "status": complaint.status() })
}

/// Runs `action` on an existing complaint the actor may see.
///
/// # Errors
/// 404 when the complaint is not visible, the domain's refusal, or a storage failure.
pub(crate) async fn run_action(
    state: &AppState,
    actor: &Actor,
    headers: &CommandHeaders,
    id: ComplaintId,
    command: &'static str,
    request: Value,
    action: ComplaintAction,
) -> Result<CommandResponse, ApiError> {
    let executor = &state.executor;
    let loaded = load_visible(executor, actor, id).await?;
    let hostel_id = loaded.state.hostel().cloned().ok_or_else(not_found)?;
    let facts = hostel_facts(executor, &hostel_id).await?;
    let target = id.to_string();
    let ctx = headers.context(
        actor,
        command,
        &target,
        &request,
        Some(hostel_id.to_string()),
    );
    let at = Utc::now();
    let outcome = executor
        .execute::<Complaint, _, _>(
            &ctx,
            &target,
            Some(loaded),
            200,
            |_| {
                Ok(ComplaintCommand {
                    by: actor.clone(),
                    at,
                    hostel: facts.clone(),
                    action: action.clone(),
                })
            },
            render,
        )
        .await?;
    Ok(CommandResponse(outcome))
}

/// Parses an optional RFC 3339 query parameter `name`.
///
/// # Errors
/// 400 `invalid_query` when the text is not an RFC 3339 time.
pub(crate) fn parse_time(
    name: &str,
    text: Option<&str>,
) -> Result<Option<chrono::DateTime<Utc>>, ApiError> {
    text.map(|text| {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::bad_request("invalid_query", format!("{name} must be an RFC 3339 time"))
            })
    })
    .transpose()
}

/// The complaint as its events left it at a past moment: only events recorded at or before `as_of`
/// and at or before position `at_position` (either bound may be absent).
///
/// # Errors
/// A stored event that no longer deserialises.
pub(crate) fn fold_until(
    executor: &Executor,
    events: &[cms_eventstore::store::RecordedEvent],
    as_of: Option<chrono::DateTime<Utc>>,
    at_position: Option<i64>,
) -> Result<Loaded<Complaint>, ApiError> {
    let past = events
        .iter()
        .take_while(|e| {
            as_of.is_none_or(|t| e.recorded_at <= t)
                && at_position.is_none_or(|p| e.global_position <= p)
        })
        .cloned()
        .collect();
    Ok(executor.fold::<Complaint>(past)?)
}
