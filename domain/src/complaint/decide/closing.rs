//! Ending a complaint without the reporter: a warden or admin closes any open complaint, or rejects
//! one before work starts.

use super::{optional_text, reason, Ctx, Decision};
use crate::complaint::{ActionKind, ComplaintEvent, Status, TextField};

pub(super) fn close(ctx: &Ctx<'_>, raw_reason: Option<&str>) -> Decision {
    let action = ActionKind::Close;
    ctx.require_manager(action)?;
    match ctx.status() {
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::InProgress
        | Status::OnHold
        | Status::Resolved
        | Status::Reopened => {}
        Status::Closed | Status::Rejected | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    let reason = optional_text(raw_reason, TextField::Reason)?;
    Ok(vec![ComplaintEvent::Closed {
        reason,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

pub(super) fn reject(ctx: &Ctx<'_>, raw_reason: &str) -> Decision {
    let action = ActionKind::Reject;
    ctx.require_manager(action)?;
    match ctx.status() {
        Status::Filed | Status::Triaged | Status::Assigned => {}
        Status::InProgress
        | Status::OnHold
        | Status::Resolved
        | Status::Reopened
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    let reason = reason(raw_reason)?;
    Ok(vec![ComplaintEvent::Rejected {
        reason,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}
