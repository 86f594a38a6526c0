//! Ending a complaint: the reporter confirms or disputes a resolution; a warden or admin closes or
//! rejects. Confirmation closes the complaint; a dispute within the hostel's window reopens it.

use super::{optional_text, reason, Ctx, Decision};
use crate::complaint::{ActionKind, ComplaintError, ComplaintEvent, Status, TextField};

pub(super) fn confirm(ctx: &Ctx<'_>) -> Decision {
    let action = ActionKind::ConfirmResolution;
    ctx.require_reporter(action)?;
    match ctx.status() {
        Status::Resolved => {}
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::InProgress
        | Status::OnHold
        | Status::Reopened
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    let by = ctx.by.id.clone();
    Ok(vec![
        ComplaintEvent::ResolutionConfirmed {
            by: by.clone(),
            at: ctx.at,
        },
        ComplaintEvent::ComplaintClosed {
            reason: None,
            by,
            at: ctx.at,
        },
    ])
}

pub(super) fn dispute(ctx: &Ctx<'_>, raw_reason: &str) -> Decision {
    let action = ActionKind::DisputeResolution;
    ctx.require_reporter(action)?;
    let resolved_at = match ctx.status() {
        Status::Resolved => match &ctx.state.resolution {
            Some(resolution) => resolution.at,
            None => return Err(ctx.refuse(action)),
        },
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::InProgress
        | Status::OnHold
        | Status::Reopened
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    };
    let policy = &ctx.hostel.policy;
    if ctx.at > resolved_at + policy.dispute_window() {
        return Err(ComplaintError::DisputeWindowClosed {
            days: policy.dispute_window_days,
        });
    }
    let reason = reason(raw_reason)?;
    let by = ctx.by.id.clone();
    Ok(vec![
        ComplaintEvent::ResolutionDisputed {
            reason,
            by: by.clone(),
            at: ctx.at,
        },
        ComplaintEvent::ComplaintReopened { by, at: ctx.at },
    ])
}

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
    Ok(vec![ComplaintEvent::ComplaintClosed {
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
    Ok(vec![ComplaintEvent::ComplaintRejected {
        reason,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}
