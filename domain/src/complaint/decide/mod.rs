//! The Complaint decision: `decide(&self, command)` dispatches on the action after the checks every
//! action shares (filed or not, same hostel, actor scope). Each action's rule lives in one submodule and
//! matches exhaustively on the status, so a new status forces a decision everywhere.

mod closing;
mod comments;
mod feedback;
mod filing;
mod photos;
mod work;

use chrono::{DateTime, Utc};

use super::{ActionKind, Complaint, ComplaintAction, ComplaintCommand, ComplaintError};
use super::{ComplaintEvent, ComplaintState, Status, TextField};
use crate::actor::{Actor, Role};
use crate::hostel::HostelFacts;
use crate::text::{bounded, bounded_opt};

type Decision = Result<Vec<ComplaintEvent>, ComplaintError>;

/// What every rule reads: the actor, the time, the hostel and the filed complaint.
struct Ctx<'a> {
    by: Actor,
    at: DateTime<Utc>,
    hostel: HostelFacts,
    state: &'a ComplaintState,
}

impl Complaint {
    /// Decides which events `command` causes, without changing the complaint.
    ///
    /// # Errors
    /// A [`ComplaintError`] naming the broken rule; no event is then emitted.
    pub fn decide(&self, command: ComplaintCommand) -> Decision {
        let ComplaintCommand {
            by,
            at,
            hostel,
            action,
        } = command;
        let Some(state) = &self.state else {
            return match action {
                ComplaintAction::File {
                    id,
                    reporter,
                    wing,
                    room,
                    category,
                    severity,
                    title,
                    description,
                } => filing::file(
                    &by,
                    at,
                    &hostel,
                    filing::NewComplaint {
                        id,
                        reporter,
                        wing,
                        room,
                        category,
                        severity,
                        title,
                        description,
                    },
                ),
                _ => Err(ComplaintError::NotFiled),
            };
        };
        if hostel.id != state.hostel {
            return Err(ComplaintError::HostelMismatch {
                expected: state.hostel.clone(),
                given: hostel.id,
            });
        }
        if !by.covers(&state.hostel) {
            return Err(ComplaintError::OutOfScope);
        }
        let ctx = Ctx {
            by,
            at,
            hostel,
            state,
        };
        match action {
            ComplaintAction::File { .. } => Err(ComplaintError::AlreadyFiled),
            ComplaintAction::Triage { priority, category } => {
                filing::triage(&ctx, priority, category)
            }
            ComplaintAction::Assign { assignee } => work::assign(&ctx, assignee),
            ComplaintAction::StartWork => work::start(&ctx),
            ComplaintAction::PutOnHold { reason, until } => work::hold(&ctx, &reason, until),
            ComplaintAction::ResumeWork => work::resume(&ctx),
            ComplaintAction::Resolve { note, after_photos } => {
                work::resolve(&ctx, &note, after_photos)
            }
            ComplaintAction::AddComment {
                comment_id,
                body,
                visibility,
            } => comments::comment(&ctx, comment_id, &body, visibility),
            ComplaintAction::ConfirmResolution => feedback::confirm(&ctx),
            ComplaintAction::DisputeResolution { reason } => feedback::dispute(&ctx, &reason),
            ComplaintAction::Close { reason } => closing::close(&ctx, reason.as_deref()),
            ComplaintAction::Reject { reason } => closing::reject(&ctx, &reason),
            ComplaintAction::Withdraw { reason } => filing::withdraw(&ctx, reason.as_deref()),
            ComplaintAction::RateResolution { stars, comment } => {
                feedback::rate(&ctx, stars, comment.as_deref())
            }
            ComplaintAction::AttachPhoto {
                photo_id,
                object_key,
                content_type,
                size,
                sha256,
                role,
            } => photos::attach(
                &ctx,
                photos::Upload {
                    photo_id,
                    object_key,
                    content_type,
                    size,
                    sha256,
                    role,
                },
            ),
            ComplaintAction::RecordThumbnail {
                photo_id,
                thumbnails,
            } => photos::thumbnails(&ctx, photo_id, thumbnails),
            ComplaintAction::RecordThumbnailFailure { photo_id, reason } => {
                photos::failure(&ctx, photo_id, &reason)
            }
        }
    }
}

impl Ctx<'_> {
    fn refuse(&self, action: ActionKind) -> ComplaintError {
        ComplaintError::InvalidTransition {
            action,
            status: self.state.status,
        }
    }

    fn forbid(&self, action: ActionKind) -> ComplaintError {
        ComplaintError::NotPermitted {
            role: self.by.role,
            action,
        }
    }

    /// The actor is the reporter, acting as a resident.
    fn require_reporter(&self, action: ActionKind) -> Result<(), ComplaintError> {
        match self.by.role {
            Role::Resident if self.by.id == self.state.reporter => Ok(()),
            Role::Resident => Err(ComplaintError::NotReporter),
            Role::Staff | Role::Warden | Role::Admin | Role::Auditor | Role::Service => {
                Err(self.forbid(action))
            }
        }
    }

    /// The actor is the assignee, acting as staff, warden or admin.
    fn require_assignee(&self, action: ActionKind) -> Result<(), ComplaintError> {
        match self.by.role {
            Role::Staff | Role::Warden | Role::Admin => {
                if self.is_assignee() {
                    Ok(())
                } else {
                    Err(ComplaintError::NotAssignee)
                }
            }
            Role::Resident | Role::Auditor | Role::Service => Err(self.forbid(action)),
        }
    }

    /// The actor is a warden or an admin.
    fn require_manager(&self, action: ActionKind) -> Result<(), ComplaintError> {
        match self.by.role {
            Role::Warden | Role::Admin => Ok(()),
            Role::Resident | Role::Staff | Role::Auditor | Role::Service => {
                Err(self.forbid(action))
            }
        }
    }

    fn is_assignee(&self) -> bool {
        self.state.assignee.as_ref() == Some(&self.by.id)
    }

    fn status(&self) -> Status {
        self.state.status
    }
}

const REASON_MAX: usize = 1000;
const LONG_TEXT_MAX: usize = 4000;

fn reason(raw: &str) -> Result<String, ComplaintError> {
    bounded(raw, 1, REASON_MAX).ok_or(ComplaintError::InvalidText {
        field: TextField::Reason,
    })
}

fn optional_text(raw: Option<&str>, field: TextField) -> Result<Option<String>, ComplaintError> {
    bounded_opt(raw, 1, REASON_MAX).map_err(|()| ComplaintError::InvalidText { field })
}

fn long_text(raw: &str, field: TextField) -> Result<String, ComplaintError> {
    bounded(raw, 1, LONG_TEXT_MAX).ok_or(ComplaintError::InvalidText { field })
}
