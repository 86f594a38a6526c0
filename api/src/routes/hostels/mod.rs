//! Hostel administration: register a hostel, keep its category catalogue, staff and policy, read it
//! back, and read its dashboard. Every route checks that the hostel lies in the caller's scope (outside it: 404); the
//! aggregate decides which roles may change what.

mod categories;
mod dashboard;
mod get;
mod policy;
mod register;
mod staff;

use chrono::Utc;
use cms_domain::actor::Actor;
use cms_domain::hostel::{Hostel, HostelCommand};
use cms_domain::ids::HostelId;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ApiError;
use crate::executor::{CommandContext, Executor, Loaded, Outcome};
use crate::routes::command::CommandHeaders;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register::register_hostel, get::list_hostels))
        .routes(routes!(get::get_hostel))
        .routes(routes!(dashboard::hostel_dashboard))
        .routes(routes!(categories::add_category))
        .routes(routes!(categories::retire_category))
        .routes(routes!(staff::add_staff_member))
        .routes(routes!(staff::remove_staff_member))
        .routes(routes!(policy::set_policy))
}

fn not_found() -> ApiError {
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
        .execute::<Hostel, _, _>(
            ctx,
            hostel.as_str(),
            None,
            status_code,
            |_| Ok(command.clone()),
            render,
        )
        .await?;
    Ok(outcome)
}

/// The context for a hostel command sent over HTTP.
fn context(
    headers: &CommandHeaders,
    actor: &Actor,
    command: &'static str,
    hostel: &HostelId,
    body: &impl serde::Serialize,
) -> CommandContext {
    let body = serde_json::to_value(body).unwrap_or(Value::Null);
    headers.context(
        actor,
        command,
        hostel.as_str(),
        &body,
        Some(hostel.to_string()),
    )
}

fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}
