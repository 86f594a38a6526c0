//! Commands on hostels: one function runs any [`HostelCommand`] for the HTTP routes and for `cms
//! hostel`, after checking that the hostel lies in the caller's scope (outside it: 404).

use cms_domain::actor::Actor;
use cms_domain::hostel::{Hostel, HostelCommand};
use cms_domain::ids::HostelId;
use serde::Serialize;
use serde_json::{json, Value};

use super::executor::{CommandContext, Executor, Loaded, Outcome};
use super::http::CommandHeaders;
use crate::error::ApiError;

/// 404 `hostel_not_found`: what an unregistered hostel and one outside the caller's scope both answer.
pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("hostel_not_found", "hostel not found")
}

/// Loads a hostel the actor may see; anything else (absent, out of scope) is the same 404.
///
/// # Errors
/// 404 `hostel_not_found`, or a storage failure.
pub(crate) async fn load_visible(
    executor: &Executor,
    actor: &Actor,
    id: &HostelId,
) -> Result<Loaded<Hostel>, ApiError> {
    if !actor.scope.covers(id) {
        return Err(not_found());
    }
    let loaded = executor.load::<Hostel>(id.as_str()).await?;
    if !loaded.state.is_registered() {
        return Err(not_found());
    }
    Ok(loaded)
}

/// The body every hostel command answers with (plus `position`).
fn render(hostel: &Hostel) -> Value {
    json!({ "hostel_id": hostel.id() })
}

/// Runs one hostel command through the executor; shared by the HTTP routes and `cms hostel`.
///
/// # Errors
/// The domain's refusal, an idempotency or concurrency failure, or a storage failure, as [`ApiError`].
pub async fn execute(
    executor: &Executor,
    ctx: &CommandContext,
    hostel: &HostelId,
    status_code: u16,
    command: HostelCommand,
) -> Result<Outcome, ApiError> {
    if !ctx.actor.scope.covers(hostel) {
        return Err(not_found());
    }
    let outcome = executor
        .execute::<Hostel, _>(ctx, hostel.as_str(), None, status_code, command, render)
        .await?;
    Ok(outcome)
}

/// Runs `command`, sent over HTTP as `request`, on `hostel`; answers 201 for a registration, 200
/// otherwise.
///
/// # Errors
/// As [`execute`].
pub(crate) async fn run(
    executor: &Executor,
    headers: &CommandHeaders,
    actor: &Actor,
    hostel: &HostelId,
    request: &impl Serialize,
    command: HostelCommand,
) -> Result<Outcome, ApiError> {
    // Registering creates the hostel; every other command changes it.
    let status_code = match command {
        HostelCommand::RegisterHostel { .. } => 201,
        HostelCommand::AddCategory { .. }
        | HostelCommand::RetireCategory { .. }
        | HostelCommand::AddStaffMember { .. }
        | HostelCommand::RemoveStaffMember { .. }
        | HostelCommand::SetPolicy { .. } => 200,
    };
    let ctx = headers.context(
        actor,
        command.command_name(),
        hostel.as_str(),
        request,
        Some(hostel.to_string()),
    )?;
    execute(executor, &ctx, hostel, status_code, command).await
}
