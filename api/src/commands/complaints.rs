//! Commands on complaints: what every complaint command needs before the domain decides (the
//! complaint, visible to the caller; its hostel's facts) and the answer it renders. Routes parse and
//! authorise the request, then call [`file`] (a new complaint) or [`act`] (an existing one); both
//! end in the [`Executor`].

use chrono::Utc;
use cms_domain::actor::{Actor, Role};
use cms_domain::complaint::{ActionKind, Complaint, ComplaintAction, ComplaintCommand};
use cms_domain::hostel::{Hostel, HostelFacts};
use cms_domain::ids::{ComplaintId, HostelId};
use serde::Serialize;
use serde_json::{json, Value};

use super::executor::{Executor, Loaded};
use super::http::{CommandHeaders, CommandResponse};
use crate::error::ApiError;

/// 404 `complaint_not_found`: what an absent complaint and one the caller may not see both answer.
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
    hostel.state.facts().ok_or_else(super::hostels::not_found)
}

/// The body every complaint command answers with (plus `position`).
pub(crate) fn render(complaint: &Complaint) -> Value {
    json!({ "complaint_id": complaint.id(), "status": complaint.status() })
}

/// Runs `action` on an existing complaint the actor may see: loads it (404 unless visible), loads
/// its hostel's facts, lets the complaint decide and appends what it decided. `request` is the
/// request as sent, for the idempotency hash.
///
/// # Errors
/// 404 when the complaint is not visible, the domain's refusal, or a storage failure.
pub(crate) async fn act(
    executor: &Executor,
    actor: &Actor,
    headers: &CommandHeaders,
    id: ComplaintId,
    request: &impl Serialize,
    action: ComplaintAction,
) -> Result<CommandResponse, ApiError> {
    let loaded = load_visible(executor, actor, id).await?;
    let hostel_id = loaded.state.hostel().cloned().ok_or_else(not_found)?;
    let facts = hostel_facts(executor, &hostel_id).await?;
    let target = id.to_string();
    let ctx = headers.context(
        actor,
        action.command_name(),
        &target,
        request,
        Some(hostel_id.to_string()),
    )?;
    let command = ComplaintCommand {
        by: actor.clone(),
        at: Utc::now(),
        hostel: facts,
        action,
    };
    let outcome = executor
        .execute::<Complaint, _>(&ctx, &target, Some(loaded), 200, command, render)
        .await?;
    Ok(CommandResponse(outcome))
}

/// Files a new complaint in `hostel`: checks the hostel lies in the caller's scope (404 otherwise)
/// and is registered, derives the new complaint's id (from the `Idempotency-Key` when there is one,
/// so a retried request names the same complaint), lets `new` make the `File` action with that id,
/// and appends what the domain decided. `request` is the request as sent, for the idempotency hash.
///
/// # Errors
/// 404 `hostel_not_found`, the domain's refusal, an idempotency or concurrency failure, or a
/// storage failure.
pub(crate) async fn file(
    executor: &Executor,
    actor: &Actor,
    headers: &CommandHeaders,
    hostel: &HostelId,
    request: &impl Serialize,
    new: impl FnOnce(ComplaintId) -> ComplaintAction,
) -> Result<CommandResponse, ApiError> {
    if !actor.scope.covers(hostel) {
        return Err(super::hostels::not_found());
    }
    let facts = hostel_facts(executor, hostel).await?;
    let ctx = headers.context(
        actor,
        ActionKind::File.command_name(),
        "complaints",
        request,
        Some(hostel.to_string()),
    )?;
    let id = ComplaintId::new(ctx.new_aggregate_id("complaint"));
    let command = ComplaintCommand {
        by: actor.clone(),
        at: Utc::now(),
        hostel: facts,
        action: new(id),
    };
    let outcome = executor
        .execute::<Complaint, _>(&ctx, &id.to_string(), None, 201, command, render)
        .await?;
    Ok(CommandResponse(outcome))
}
