//! The work loop: assignment, start, hold, resume and resolution. Wardens and admins assign; staff may
//! assign themselves where the hostel allows it; only the assignee starts and resolves the work.

use chrono::{DateTime, Utc};

use super::{long_text, reason, Ctx, Decision};
use crate::actor::Role;
use crate::complaint::{ActionKind, ComplaintError, ComplaintEvent, PhotoRole, Status, TextField};
use crate::ids::{PhotoId, UserId};

pub(super) fn assign(ctx: &Ctx<'_>, assignee: UserId) -> Decision {
    let action = ActionKind::Assign;
    match ctx.by.role {
        Role::Warden | Role::Admin => {}
        Role::Staff if assignee == ctx.by.id => {
            if !ctx.hostel.policy.self_assignment_allowed {
                return Err(ComplaintError::SelfAssignmentNotAllowed);
            }
        }
        Role::Staff | Role::Resident | Role::Auditor | Role::Service => {
            return Err(ctx.forbid(action))
        }
    }
    match ctx.status() {
        Status::Triaged | Status::Reopened => {}
        Status::Assigned | Status::InProgress | Status::OnHold => {
            if ctx.state.assignee.as_ref() == Some(&assignee) {
                return Err(ComplaintError::AlreadyAssigned { assignee });
            }
        }
        Status::Filed
        | Status::Resolved
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    // Self-assignment picks up unowned work; it never takes a complaint from a colleague.
    if ctx.by.role == Role::Staff {
        if let Some(current) = ctx.state.assignee.as_ref().filter(|a| **a != ctx.by.id) {
            return Err(ComplaintError::AlreadyAssigned {
                assignee: current.clone(),
            });
        }
    }
    let Some(member) = ctx.hostel.staff_member(&assignee) else {
        return Err(ComplaintError::AssigneeNotStaff { assignee });
    };
    if !member.has_skill(&ctx.state.category) {
        return Err(ComplaintError::AssigneeLacksSkill {
            assignee,
            category: ctx.state.category.clone(),
        });
    }
    Ok(vec![ComplaintEvent::Assigned {
        assignee,
        previous: ctx.state.assignee.clone(),
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

pub(super) fn start(ctx: &Ctx<'_>) -> Decision {
    let action = ActionKind::StartWork;
    ctx.require_assignee(action)?;
    match ctx.status() {
        Status::Assigned | Status::Reopened => {}
        Status::Filed
        | Status::Triaged
        | Status::InProgress
        | Status::OnHold
        | Status::Resolved
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    Ok(vec![ComplaintEvent::WorkStarted {
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

/// The assignee, or a warden or admin, may pause and resume work.
fn require_assignee_or_manager(ctx: &Ctx<'_>, action: ActionKind) -> Result<(), ComplaintError> {
    match ctx.by.role {
        Role::Warden | Role::Admin => Ok(()),
        Role::Staff if ctx.is_assignee() => Ok(()),
        Role::Staff => Err(ComplaintError::NotAssignee),
        Role::Resident | Role::Auditor | Role::Service => Err(ctx.forbid(action)),
    }
}

pub(super) fn hold(ctx: &Ctx<'_>, raw_reason: &str, until: Option<DateTime<Utc>>) -> Decision {
    let action = ActionKind::PutOnHold;
    require_assignee_or_manager(ctx, action)?;
    match ctx.status() {
        Status::InProgress => {}
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::OnHold
        | Status::Resolved
        | Status::Reopened
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    let reason = reason(raw_reason)?;
    if until.is_some_and(|until| until <= ctx.at) {
        return Err(ComplaintError::InvalidHoldUntil);
    }
    Ok(vec![ComplaintEvent::PutOnHold {
        reason,
        until,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

pub(super) fn resume(ctx: &Ctx<'_>) -> Decision {
    let action = ActionKind::ResumeWork;
    require_assignee_or_manager(ctx, action)?;
    match ctx.status() {
        Status::OnHold => {}
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::InProgress
        | Status::Resolved
        | Status::Reopened
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    Ok(vec![ComplaintEvent::WorkResumed {
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

pub(super) fn resolve(ctx: &Ctx<'_>, raw_note: &str, after_photos: Vec<PhotoId>) -> Decision {
    let action = ActionKind::Resolve;
    ctx.require_assignee(action)?;
    match ctx.status() {
        Status::InProgress => {}
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::OnHold
        | Status::Resolved
        | Status::Reopened
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    let note = long_text(raw_note, TextField::Note)?;
    let mut photos: Vec<PhotoId> = Vec::with_capacity(after_photos.len());
    for photo_id in after_photos {
        let Some(photo) = ctx.state.photo(&photo_id) else {
            return Err(ComplaintError::UnknownPhoto { photo_id });
        };
        if photo.role != PhotoRole::After {
            return Err(ComplaintError::PhotoNotAfter { photo_id });
        }
        if !photos.contains(&photo_id) {
            photos.push(photo_id);
        }
    }
    Ok(vec![ComplaintEvent::Resolved {
        note,
        after_photos: photos,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}
