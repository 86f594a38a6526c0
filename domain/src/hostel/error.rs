//! Refusals of the Hostel aggregate. Messages state facts; the API maps each variant to a stable code.

use crate::actor::Role;
use crate::ids::{CategoryId, UserId, WingId};

/// Why a hostel command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostelError {
    /// The hostel has not been registered.
    #[error("hostel is not registered")]
    NotRegistered,
    /// The hostel is already registered.
    #[error("hostel is already registered")]
    AlreadyRegistered,
    /// The actor's role may not issue this command.
    #[error("role {role} may not change this hostel")]
    NotPermitted {
        /// The actor's role.
        role: Role,
    },
    /// The actor's hostel scope does not cover this hostel.
    #[error("hostel is outside the actor's scope")]
    OutOfScope,
    /// The hostel name is empty or longer than 120 chars.
    #[error("hostel name must be 1-120 characters")]
    InvalidName,
    /// A category name is empty or longer than 80 chars.
    #[error("category name must be 1-80 characters")]
    InvalidCategoryName,
    /// A staff member's name is empty or longer than 120 chars.
    #[error("staff member name must be 1-120 characters")]
    InvalidStaffName,
    /// The room pattern is unusable.
    #[error("invalid room pattern: {reason}")]
    InvalidRoomPattern {
        /// What is wrong with it.
        reason: String,
    },
    /// A wing is listed twice.
    #[error("wing {wing} is listed twice")]
    DuplicateWing {
        /// The wing.
        wing: WingId,
    },
    /// Registration without any category.
    #[error("a hostel needs at least one category")]
    NoCategories,
    /// The category is already active (or listed twice at registration).
    #[error("category {category} already exists")]
    DuplicateCategory {
        /// The category.
        category: CategoryId,
    },
    /// No category with this id was ever added.
    #[error("category {category} does not exist")]
    UnknownCategory {
        /// The category.
        category: CategoryId,
    },
    /// The category has been retired.
    #[error("category {category} is retired")]
    CategoryRetired {
        /// The category.
        category: CategoryId,
    },
    /// Retiring this category would leave the catalogue empty.
    #[error("category {category} is the last active category")]
    LastActiveCategory {
        /// The category.
        category: CategoryId,
    },
    /// No staff member with this user id.
    #[error("staff member {id} does not exist")]
    UnknownStaffMember {
        /// The user.
        id: UserId,
    },
    /// A staff member with this user id already exists.
    #[error("staff member {id} already exists")]
    DuplicateStaffMember {
        /// The user.
        id: UserId,
    },
    /// The policy's dispute window is outside 1-90 days.
    #[error("dispute window of {dispute_window_days} days is outside 1-90")]
    InvalidPolicy {
        /// The refused value.
        dispute_window_days: u32,
    },
}
