//! What a hostel is made of: its catalogue of categories, its staff, its policy and the room pattern.
//! [`HostelFacts`] is the registered hostel's current shape; the executor copies it into every complaint
//! command so complaint decisions can check rooms, categories and staff without a lookup.

use std::collections::{BTreeMap, BTreeSet};

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, HostelId, UserId, WingId};

/// The longest room pattern accepted, in bytes.
pub const MAX_ROOM_PATTERN_LEN: usize = 200;
/// Compiled-size limit for a room pattern, so a pathological pattern cannot eat memory.
const ROOM_PATTERN_SIZE_LIMIT: usize = 1 << 16;

/// A complaint category in a hostel's catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Stable id (slug).
    pub id: CategoryId,
    /// Display name, 1-80 chars.
    pub name: String,
}

/// The kind of staff member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Maintenance staff.
    Staff,
    /// A warden who may also take complaints.
    Warden,
}

/// A person who may be assigned complaints in a hostel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// The user.
    pub id: UserId,
    /// Display name, 1-120 chars.
    pub name: String,
    /// The categories this person can work on; all active in the catalogue when added.
    pub skills: BTreeSet<CategoryId>,
    /// Staff or warden.
    pub role: StaffRole,
}

impl StaffMember {
    /// Whether the member can work on complaints of `category`.
    pub fn has_skill(&self, category: &CategoryId) -> bool {
        self.skills.contains(category)
    }
}

/// Per-hostel rules for complaints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostelPolicy {
    /// Whether staff may assign complaints to themselves.
    pub self_assignment_allowed: bool,
    /// Days after a resolution during which the reporter may dispute it (1-90).
    pub dispute_window_days: u32,
}

impl HostelPolicy {
    /// The accepted range of `dispute_window_days`.
    pub const DISPUTE_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 1..=90;

    /// Whether the policy's values lie in range.
    pub fn is_valid(&self) -> bool {
        Self::DISPUTE_WINDOW_DAYS.contains(&self.dispute_window_days)
    }

    /// The dispute window as a duration.
    pub fn dispute_window(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::days(i64::from(self.dispute_window_days))
    }
}

impl Default for HostelPolicy {
    fn default() -> Self {
        Self {
            self_assignment_allowed: false,
            dispute_window_days: 7,
        }
    }
}

/// The current shape of a registered hostel, as complaint decisions need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostelFacts {
    /// The hostel.
    pub id: HostelId,
    /// Display name.
    pub name: String,
    /// The wings, in registration order.
    pub wings: Vec<WingId>,
    /// A regex that a room string must match as a whole.
    pub room_pattern: String,
    /// The active categories, in the order they were added.
    pub categories: Vec<Category>,
    /// The staff, by user id.
    pub staff: BTreeMap<UserId, StaffMember>,
    /// The complaint policy.
    pub policy: HostelPolicy,
}

impl HostelFacts {
    /// Whether `room` matches the hostel's room pattern as a whole.
    pub fn check_room(&self, room: &str) -> bool {
        compile_room_pattern(&self.room_pattern).is_ok_and(|re| re.is_match(room))
    }

    /// Whether `category` is active in the catalogue.
    pub fn has_category(&self, category: &CategoryId) -> bool {
        self.category(category).is_some()
    }

    /// The active category with this id.
    pub fn category(&self, category: &CategoryId) -> Option<&Category> {
        self.categories.iter().find(|c| &c.id == category)
    }

    /// Whether `wing` is one of the hostel's wings.
    pub fn has_wing(&self, wing: &WingId) -> bool {
        self.wings.contains(wing)
    }

    /// The staff member with this user id.
    pub fn staff_member(&self, id: &UserId) -> Option<&StaffMember> {
        self.staff.get(id)
    }
}

/// Compiles a room pattern anchored at both ends, with a size limit.
///
/// # Errors
/// The reason, when the pattern is too long or does not compile within the limit.
pub fn compile_room_pattern(pattern: &str) -> Result<Regex, String> {
    if pattern.is_empty() {
        return Err("pattern is empty".to_owned());
    }
    if pattern.len() > MAX_ROOM_PATTERN_LEN {
        return Err(format!("pattern longer than {MAX_ROOM_PATTERN_LEN} bytes"));
    }
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(ROOM_PATTERN_SIZE_LIMIT)
        .dfa_size_limit(ROOM_PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "pattern too large when compiled".to_owned(),
            _ => "pattern is not a valid regular expression".to_owned(),
        })
}
