//! Commands to the Hostel aggregate. Each carries the acting [`Actor`] and the time of the request; the
//! domain never reads a clock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::facts::{Category, HostelPolicy, StaffMember};
use crate::actor::Actor;
use crate::ids::{CategoryId, HostelId, UserId, WingId};

/// A request to change a hostel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HostelCommand {
    /// Create the hostel. Admin only.
    RegisterHostel {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
        /// The new hostel's id (equal to the aggregate id).
        id: HostelId,
        /// Display name, 1-120 chars.
        name: String,
        /// Wings; no duplicates.
        wings: Vec<WingId>,
        /// Regex a room must match as a whole; at most 200 bytes.
        room_pattern: String,
        /// The initial catalogue; at least one category, no duplicate ids.
        categories: Vec<Category>,
    },
    /// Add a category, or reactivate a retired one.
    AddCategory {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
        /// The category.
        category: Category,
    },
    /// Retire an active category: no new complaints in it.
    RetireCategory {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
        /// The category.
        category: CategoryId,
    },
    /// Add a staff member.
    AddStaffMember {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
        /// The member; skills must be active categories.
        member: StaffMember,
    },
    /// Remove a staff member.
    RemoveStaffMember {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
        /// The member's user id.
        id: UserId,
    },
    /// Replace the complaint policy.
    SetPolicy {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
        /// The new policy.
        policy: HostelPolicy,
    },
}

impl HostelCommand {
    /// The actor issuing the command.
    pub fn by(&self) -> &Actor {
        match self {
            HostelCommand::RegisterHostel { by, .. }
            | HostelCommand::AddCategory { by, .. }
            | HostelCommand::RetireCategory { by, .. }
            | HostelCommand::AddStaffMember { by, .. }
            | HostelCommand::RemoveStaffMember { by, .. }
            | HostelCommand::SetPolicy { by, .. } => by,
        }
    }

    /// The command's stable name, stored in every event's metadata (`command`) and used as a metrics
    /// label: a public contract that never follows a Rust rename.
    pub const fn command_name(&self) -> &'static str {
        match self {
            HostelCommand::RegisterHostel { .. } => "RegisterHostel",
            HostelCommand::AddCategory { .. } => "AddCategory",
            HostelCommand::RetireCategory { .. } => "RetireCategory",
            HostelCommand::AddStaffMember { .. } => "AddStaffMember",
            HostelCommand::RemoveStaffMember { .. } => "RemoveStaffMember",
            HostelCommand::SetPolicy { .. } => "SetPolicy",
        }
    }

    /// The time of the request.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            HostelCommand::RegisterHostel { at, .. }
            | HostelCommand::AddCategory { at, .. }
            | HostelCommand::RetireCategory { at, .. }
            | HostelCommand::AddStaffMember { at, .. }
            | HostelCommand::RemoveStaffMember { at, .. }
            | HostelCommand::SetPolicy { at, .. } => *at,
        }
    }
}
