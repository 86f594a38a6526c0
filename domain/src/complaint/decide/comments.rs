//! Comments. Residents comment publicly on their own complaints; staff, wardens and admins may also
//! comment internally.

use super::{long_text, Ctx, Decision};
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
