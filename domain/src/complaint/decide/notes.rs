//! Comments and ratings. Residents comment publicly on their own complaints; staff, wardens and admins
//! may also comment internally. The reporter rates a resolution once.

use super::{long_text, optional_text, Ctx, Decision};
use crate::actor::Role;
use crate::complaint::{ActionKind, ComplaintError, ComplaintEvent, Status, TextField, Visibility};
use crate::ids::CommentId;

pub(super) fn comment(
    ctx: &Ctx<'_>,
    comment_id: CommentId,
    raw_body: &str,
    visibility: Visibility,
) -> Decision {
    let action = ActionKind::AddComment;
    match ctx.by.role {
        Role::Resident => {
            ctx.require_reporter(action)?;
            if visibility == Visibility::Internal {
                return Err(ComplaintError::InternalCommentNotAllowed);
            }
        }
        Role::Staff | Role::Warden | Role::Admin => {}
        Role::Auditor | Role::Service => return Err(ctx.forbid(action)),
    }
    match ctx.status() {
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::InProgress
        | Status::OnHold
        | Status::Resolved
        | Status::Reopened
        | Status::Closed => {}
        Status::Rejected | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    let body = long_text(raw_body, TextField::Body)?;
    // Comment ids derive from idempotency keys: a repeat of the same id is the same request.
    if ctx.state.comments.iter().any(|c| c.id == comment_id) {
        return Ok(vec![]);
    }
    Ok(vec![ComplaintEvent::CommentAdded {
        comment_id,
        body,
        visibility,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
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
