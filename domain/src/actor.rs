//! Who issues a command: the user id, the role and the hostels the actor may act in. The API builds an
//! [`Actor`] from the verified token and puts it in every command; rules in the aggregates read it.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{HostelId, UserId};

/// The role a user acts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A student living in a hostel; files and follows their own complaints.
    Resident,
    /// Maintenance staff; triages and works on complaints.
    Staff,
    /// Runs one or more hostels; assigns, closes and rejects complaints, manages the hostel.
    Warden,
    /// Runs the whole system.
    Admin,
    /// Reads everything, changes nothing.
    Auditor,
    /// A machine caller (bots, the thumbnail worker).
    Service,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 6] = [
        Role::Resident,
        Role::Staff,
        Role::Warden,
        Role::Admin,
        Role::Auditor,
        Role::Service,
    ];

    /// The stable snake_case name (as in tokens and JSON).
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Staff => "staff",
            Role::Warden => "warden",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or(UnknownRole)
    }
}

/// The hostels an actor may act in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostelScope {
    /// Every hostel (admins, auditors, services).
    All,
    /// Only the listed hostels.
    Only(BTreeSet<HostelId>),
}

impl HostelScope {
    /// A scope of exactly one hostel.
    pub fn one(hostel: HostelId) -> Self {
        HostelScope::Only(BTreeSet::from([hostel]))
    }

    /// Whether `hostel` lies inside this scope.
    pub fn covers(&self, hostel: &HostelId) -> bool {
        match self {
            HostelScope::All => true,
            HostelScope::Only(hostels) => hostels.contains(hostel),
        }
    }
}

/// The issuer of a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user.
    pub id: UserId,
    /// The role the user acts in.
    pub role: Role,
    /// The hostels the user may act in.
    pub scope: HostelScope,
}

impl Actor {
    /// Builds an actor.
    pub fn new(id: UserId, role: Role, scope: HostelScope) -> Self {
        Self { id, role, scope }
    }

    /// Whether the actor's scope covers `hostel`.
    pub fn covers(&self, hostel: &HostelId) -> bool {
        self.scope.covers(hostel)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::json!(role.as_str())
            );
        }
        assert_eq!("root".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn scope_all_covers_every_hostel_and_only_covers_its_list() {
        let north = HostelId::parse("north").unwrap();
        let south = HostelId::parse("south").unwrap();
        assert!(HostelScope::All.covers(&north));
        let only = HostelScope::one(north.clone());
        assert!(only.covers(&north));
        assert!(!only.covers(&south));
        let actor = Actor::new(UserId::parse("w").unwrap(), Role::Warden, only);
        assert!(actor.covers(&north) && !actor.covers(&south));
    }

    #[test]
    fn scope_serialises_as_snake_case() {
        let north = HostelId::parse("north").unwrap();
        assert_eq!(
            serde_json::to_value(HostelScope::All).unwrap(),
            serde_json::json!("all")
        );
        assert_eq!(
            serde_json::to_value(HostelScope::one(north)).unwrap(),
            serde_json::json!({"only": ["north"]})
        );
    }
}
