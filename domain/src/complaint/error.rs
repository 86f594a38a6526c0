//! Refusals of the Complaint aggregate. Messages state facts; the API maps each variant to its status
//! and stable code in one table (`api/src/domain_errors.rs`).

use serde::{Deserialize, Serialize};

use super::command::ActionKind;
use super::status::Status;
use crate::actor::Role;
use crate::ids::{CategoryId, HostelId, PhotoId, UserId, WingId};

/// A free-text field of a complaint command, for [`ComplaintError::InvalidText`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextField {
    /// A comment body (1-4000).
    Body,
    /// A resolution note (1-4000).
    Note,
    /// A reason: hold, dispute, close, reject, withdraw, thumbnail failure (1-1000).
    Reason,
    /// A rating remark (1-1000).
    Comment,
}

impl TextField {
    /// The stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            TextField::Body => "body",
            TextField::Note => "note",
            TextField::Reason => "reason",
            TextField::Comment => "comment",
        }
    }
}

/// What is wrong with a photo or thumbnail record, for [`ComplaintError::InvalidPhoto`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoProblem {
    /// The object key is empty, too long or contains control characters.
    ObjectKey,
    /// The content type is not image/jpeg, image/png or image/webp.
    ContentType,
    /// The size is 0 or above the limit.
    Size,
    /// The digest is not 64 lowercase hex chars.
    Sha256,
    /// The photo id is already used by a photo with another digest.
    DuplicateId,
    /// A thumbnail record lists no thumbnails, a size twice, or a zero dimension.
    Thumbnails,
}

/// Why a complaint command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplaintError {
    /// The complaint has not been filed.
    #[error("complaint has not been filed")]
    NotFiled,
    /// The complaint was already filed.
    #[error("complaint is already filed")]
    AlreadyFiled,
    /// The command's hostel facts are for another hostel than the complaint's.
    #[error("command carries hostel {given}, complaint belongs to {expected}")]
    HostelMismatch {
        /// The complaint's hostel.
        expected: HostelId,
        /// The hostel in the command.
        given: HostelId,
    },
    /// The actor's role may not perform the action.
    #[error("role {role} may not {action}")]
    NotPermitted {
        /// The actor's role.
        role: Role,
        /// The refused action.
        action: ActionKind,
    },
    /// The actor's scope does not cover the complaint's hostel.
    #[error("hostel is outside the actor's scope")]
    OutOfScope,
    /// Only the reporter may perform the action.
    #[error("actor is not the complaint's reporter")]
    NotReporter,
    /// Only the assignee may perform the action.
    #[error("actor is not the complaint's assignee")]
    NotAssignee,
    /// The action is not possible in the current status.
    #[error("cannot {action} a complaint in status {status}")]
    InvalidTransition {
        /// The refused action.
        action: ActionKind,
        /// The complaint's status.
        status: Status,
    },
    /// The title is not 3-120 chars after trimming.
    #[error("title must be 3-120 characters")]
    InvalidTitle,
    /// The description is not 10-4000 chars after trimming.
    #[error("description must be 10-4000 characters")]
    InvalidDescription,
    /// The room does not match the hostel's room pattern.
    #[error("room does not match the hostel's room pattern")]
    InvalidRoom,
    /// The category is not active in the hostel's catalogue.
    #[error("category {category} is not in the hostel's catalogue")]
    UnknownCategory {
        /// The category.
        category: CategoryId,
    },
    /// The wing is not one of the hostel's wings.
    #[error("wing {wing} is not a wing of the hostel")]
    UnknownWing {
        /// The wing.
        wing: WingId,
    },
    /// A free-text field is empty or too long.
    #[error("{} has an invalid length", field.as_str())]
    InvalidText {
        /// The field.
        field: TextField,
    },
    /// A hold's `until` is not after the command's time.
    #[error("hold end is not in the future")]
    InvalidHoldUntil,
    /// The assignee is not a staff member of the hostel.
    #[error("{assignee} is not a staff member of the hostel")]
    AssigneeNotStaff {
        /// The proposed assignee.
        assignee: UserId,
    },
    /// The assignee lacks the complaint's category among their skills.
    #[error("{assignee} has no skill in category {category}")]
    AssigneeLacksSkill {
        /// The proposed assignee.
        assignee: UserId,
        /// The complaint's category.
        category: CategoryId,
    },
    /// The hostel's policy does not allow staff to assign themselves.
    #[error("self-assignment is not allowed in this hostel")]
    SelfAssignmentNotAllowed,
    /// The complaint is already assigned to this person.
    #[error("complaint is already assigned to {assignee}")]
    AlreadyAssigned {
        /// The current assignee.
        assignee: UserId,
    },
    /// The dispute window after the resolution has passed.
    #[error("the dispute window of {days} days has passed")]
    DisputeWindowClosed {
        /// The hostel's window.
        days: u32,
    },
    /// The resolution was already rated.
    #[error("resolution is already rated")]
    AlreadyRated,
    /// Stars outside 1-5.
    #[error("rating of {stars} stars is outside 1-5")]
    InvalidRating {
        /// The refused value.
        stars: u8,
    },
    /// The complaint already has the maximum number of photos.
    #[error("complaint already has {limit} photos")]
    PhotoLimitReached {
        /// The limit.
        limit: usize,
    },
    /// No photo with this id is attached.
    #[error("photo {photo_id} is not attached to the complaint")]
    UnknownPhoto {
        /// The photo.
        photo_id: PhotoId,
    },
    /// A resolution names a photo whose role is not After.
    #[error("photo {photo_id} is not an after photo")]
    PhotoNotAfter {
        /// The photo.
        photo_id: PhotoId,
    },
    /// A photo or thumbnail record is malformed.
    #[error("invalid photo: {problem:?}")]
    InvalidPhoto {
        /// What is wrong.
        problem: PhotoProblem,
    },
    /// The actor may only add public comments.
    #[error("actor may not add internal comments")]
    InternalCommentNotAllowed,
}
