//! Filing, triage and withdrawal: the start of a complaint's life. A resident files for themselves, or
//! the Service role files on a resident's behalf; staff triage; the reporter may withdraw before work.

use chrono::{DateTime, Utc};

use super::{optional_text, Ctx, Decision};
use crate::actor::{Actor, Role};
use crate::complaint::TextField;
use crate::complaint::{ActionKind, ComplaintError, ComplaintEvent, Priority, Severity, Status};
use crate::hostel::HostelFacts;
use crate::ids::{CategoryId, ComplaintId, UserId, WingId};
use crate::text::bounded;

const ROOM_MAX: usize = 40;

/// The data of a `File` action.
pub(super) struct NewComplaint {
    pub id: ComplaintId,
    pub reporter: UserId,
    pub wing: Option<WingId>,
    pub room: String,
    pub category: CategoryId,
    pub severity: Severity,
    pub title: String,
    pub description: String,
}

pub(super) fn file(
    by: &Actor,
    at: DateTime<Utc>,
    hostel: &HostelFacts,
    new: NewComplaint,
) -> Decision {
    match by.role {
        Role::Resident if by.id == new.reporter => {}
        Role::Resident => return Err(ComplaintError::NotReporter),
        Role::Service => {}
        Role::Staff | Role::Warden | Role::Admin | Role::Auditor => {
            return Err(ComplaintError::NotPermitted {
                role: by.role,
                action: ActionKind::File,
            })
        }
    }
    if !by.covers(&hostel.id) {
        return Err(ComplaintError::OutOfScope);
    }
    let room_ok =
        (1..=ROOM_MAX).contains(&new.room.chars().count()) && hostel.check_room(&new.room);
    if !room_ok {
        return Err(ComplaintError::InvalidRoom);
    }
    if !hostel.has_category(&new.category) {
        return Err(ComplaintError::UnknownCategory {
            category: new.category,
        });
    }
    if let Some(wing) = &new.wing {
        if !hostel.has_wing(wing) {
            return Err(ComplaintError::UnknownWing { wing: wing.clone() });
        }
    }
    let title = bounded(&new.title, 3, 120).ok_or(ComplaintError::InvalidTitle)?;
    let description =
        bounded(&new.description, 10, 4000).ok_or(ComplaintError::InvalidDescription)?;
    Ok(vec![ComplaintEvent::Filed {
        id: new.id,
        hostel: hostel.id.clone(),
        wing: new.wing,
        room: new.room,
        category: new.category,
        severity: new.severity,
        title,
        description,
        reporter: new.reporter,
        by: by.id.clone(),
        at,
    }])
}

pub(super) fn triage(ctx: &Ctx<'_>, priority: Priority, category: Option<CategoryId>) -> Decision {
    let action = ActionKind::Triage;
    match ctx.by.role {
        Role::Staff | Role::Warden | Role::Admin => {}
        Role::Resident | Role::Auditor | Role::Service => return Err(ctx.forbid(action)),
    }
    match ctx.status() {
        Status::Filed | Status::Triaged => {}
        Status::Assigned
        | Status::InProgress
        | Status::OnHold
        | Status::Resolved
        | Status::Reopened
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    let corrected = category.filter(|c| c != &ctx.state.category);
    if let Some(category) = &corrected {
        if !ctx.hostel.has_category(category) {
            return Err(ComplaintError::UnknownCategory {
                category: category.clone(),
            });
        }
    }
    let previous_category = corrected.as_ref().map(|_| ctx.state.category.clone());
    Ok(vec![ComplaintEvent::Triaged {
        priority,
        category: corrected,
        previous_category,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

pub(super) fn withdraw(ctx: &Ctx<'_>, reason: Option<&str>) -> Decision {
    let action = ActionKind::Withdraw;
    ctx.require_reporter(action)?;
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
    let reason = optional_text(reason, TextField::Reason)?;
    Ok(vec![ComplaintEvent::Withdrawn {
        reason,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}
