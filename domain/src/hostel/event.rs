//! Events of the Hostel aggregate. The serde names are the stored event names, a public contract that
//! never follows a Rust rename; `tests/event_json.rs` pins the JSON of every variant.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::facts::{Category, HostelPolicy, StaffMember};
use crate::ids::{CategoryId, HostelId, UserId, WingId};

/// Something that happened to a hostel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HostelEvent {
    /// The hostel was created.
    #[serde(rename = "HostelRegistered")]
    Registered {
        /// The hostel.
        id: HostelId,
        /// Display name (trimmed).
        name: String,
        /// Wings.
        wings: Vec<WingId>,
        /// Whole-string room regex.
        room_pattern: String,
        /// The initial catalogue.
        categories: Vec<Category>,
        /// Who registered it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A category was added or reactivated.
    #[serde(rename = "CategoryAdded")]
    CategoryAdded {
        /// The category.
        category: Category,
        /// Who.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A category was retired.
    #[serde(rename = "CategoryRetired")]
    CategoryRetired {
        /// The category.
        category: CategoryId,
        /// Who.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A staff member was added.
    #[serde(rename = "StaffMemberAdded")]
    StaffMemberAdded {
        /// The member.
        member: StaffMember,
        /// Who.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A staff member was removed.
    #[serde(rename = "StaffMemberRemoved")]
    StaffMemberRemoved {
        /// The member's user id.
        id: UserId,
        /// Who.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The complaint policy was replaced.
    #[serde(rename = "PolicySet")]
    PolicySet {
        /// The new policy.
        policy: HostelPolicy,
        /// Who.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
}

impl HostelEvent {
    /// Every stored event name of the aggregate.
    pub const STORED_NAMES: [&'static str; 6] = [
        "HostelRegistered",
        "CategoryAdded",
        "CategoryRetired",
        "StaffMemberAdded",
        "StaffMemberRemoved",
        "PolicySet",
    ];

    /// The stored event name.
    pub const fn stored_name(&self) -> &'static str {
        match self {
            HostelEvent::Registered { .. } => "HostelRegistered",
            HostelEvent::CategoryAdded { .. } => "CategoryAdded",
            HostelEvent::CategoryRetired { .. } => "CategoryRetired",
            HostelEvent::StaffMemberAdded { .. } => "StaffMemberAdded",
            HostelEvent::StaffMemberRemoved { .. } => "StaffMemberRemoved",
            HostelEvent::PolicySet { .. } => "PolicySet",
        }
    }

    /// Who caused the event.
    pub fn by(&self) -> &UserId {
        match self {
            HostelEvent::Registered { by, .. }
            | HostelEvent::CategoryAdded { by, .. }
            | HostelEvent::CategoryRetired { by, .. }
            | HostelEvent::StaffMemberAdded { by, .. }
            | HostelEvent::StaffMemberRemoved { by, .. }
            | HostelEvent::PolicySet { by, .. } => by,
        }
    }

    /// When it happened (the command's time).
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            HostelEvent::Registered { at, .. }
            | HostelEvent::CategoryAdded { at, .. }
            | HostelEvent::CategoryRetired { at, .. }
            | HostelEvent::StaffMemberAdded { at, .. }
            | HostelEvent::StaffMemberRemoved { at, .. }
            | HostelEvent::PolicySet { at, .. } => *at,
        }
    }
}

impl DomainEvent for HostelEvent {
    fn event_type(&self) -> String {
        self.stored_name().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
