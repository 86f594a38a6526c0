//! The reporter's feedback on a resolution: confirm it (the complaint closes), dispute it within
//! the hostel's window (the complaint reopens), or rate it once.

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
        ComplaintEvent::Closed {
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
        ComplaintEvent::Reopened { by, at: ctx.at },
    ])
}

pub(super) fn rate(ctx: &Ctx<'_>, stars: u8, raw_comment: Option<&str>) -> Decision {
    let action = ActionKind::RateResolution;
    ctx.require_reporter(action)?;
    match ctx.status() {
        Status::Resolved => {}
        Status::Closed if ctx.state.resolution.is_some() => {}
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
    if ctx.state.rating.is_some() {
        return Err(ComplaintError::AlreadyRated);
    }
    if !(1..=5).contains(&stars) {
        return Err(ComplaintError::InvalidRating { stars });
    }
    let comment = optional_text(raw_comment, TextField::Comment)?;
    Ok(vec![ComplaintEvent::ResolutionRated {
        stars,
        comment,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}
