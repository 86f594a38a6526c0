//! The claims a CMS token carries and their translation to and from the domain's [`Actor`]. `hostels`
//! lists hostel slugs; `["*"]` means every hostel and is accepted only for the admin and auditor roles,
//! both when a token is verified and when one is minted, so the minter never signs a token the verifier
//! would refuse.

use std::collections::BTreeSet;

use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::ids::{HostelId, UserId};
use serde::{Deserialize, Serialize};

use super::AuthError;

/// The `hostels` entry that means "every hostel".
pub const ALL_HOSTELS: &str = "*";

/// The claims of a CMS token, as minted. Verification also accepts tokens from other issuers whose
/// `aud` is an array or that carry extra claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The role, in snake_case (`resident`, `staff`, `warden`, `admin`, `auditor`, `service`).
    pub role: String,
    /// Hostel slugs the user may act in; `["*"]` for all (admin and auditor only).
    pub hostels: Vec<String>,
    /// A display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issue time, seconds since the epoch.
    pub iat: u64,
    /// Not-before, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The issuer.
    pub iss: String,
    /// The audience.
    pub aud: String,
    /// A unique token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// The claims that make an [`Actor`]; `exp`, `nbf`, `iss` and `aud` were checked by jsonwebtoken.
#[derive(Debug, Deserialize)]
pub(crate) struct ActorClaims {
    sub: String,
    role: String,
    #[serde(default)]
    hostels: Vec<String>,
}

impl ActorClaims {
    /// The actor these claims describe.
    pub(crate) fn into_actor(self) -> Result<Actor, AuthError> {
        let id = UserId::parse(&self.sub).map_err(|e| {
            AuthError::invalid_claims(format!("`sub` is not a valid user id: {}", e.problem))
        })?;
        let role: Role = self
            .role
            .parse()
            .map_err(|_| AuthError::invalid_claims("`role` names no known role"))?;
        let scope = scope_from_hostels(role, &self.hostels)?;
        Ok(Actor::new(id, role, scope))
    }
}

/// Whether `role` may hold [`HostelScope::All`].
pub const fn may_see_all_hostels(role: Role) -> bool {
    match role {
        Role::Admin | Role::Auditor => true,
        Role::Resident | Role::Staff | Role::Warden | Role::Service => false,
    }
}

/// The scope a `hostels` claim grants to `role`.
///
/// # Errors
/// [`AuthError::InvalidClaims`] when `*` is mixed with slugs, given to a role other than admin or
/// auditor, or a slug is not a valid hostel id.
pub fn scope_from_hostels(role: Role, hostels: &[String]) -> Result<HostelScope, AuthError> {
    if hostels.iter().any(|h| h == ALL_HOSTELS) {
        if hostels.len() != 1 {
            return Err(AuthError::invalid_claims(
                "`hostels` may not mix \"*\" with hostel ids",
            ));
        }
        if !may_see_all_hostels(role) {
            return Err(AuthError::invalid_claims(format!(
                "`hostels: [\"*\"]` is not allowed for the {role} role"
            )));
        }
        return Ok(HostelScope::All);
    }
    let ids = hostels
        .iter()
        .map(|slug| HostelId::parse(slug))
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(|e| {
            AuthError::invalid_claims(format!(
                "`hostels` holds an invalid hostel id: {}",
                e.problem
            ))
        })?;
    Ok(HostelScope::Only(ids))
}

/// The `hostels` claim for a scope.
pub fn hostels_from_scope(scope: &HostelScope) -> Vec<String> {
    match scope {
        HostelScope::All => vec![ALL_HOSTELS.to_owned()],
        HostelScope::Only(ids) => ids.iter().map(|id| id.as_str().to_owned()).collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn slugs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn star_is_all_hostels_for_admins_and_auditors_only() {
        for role in Role::ALL {
            let scope = scope_from_hostels(role, &slugs(&["*"]));
            assert_eq!(scope.is_ok(), may_see_all_hostels(role), "{role}");
        }
        assert_eq!(
            scope_from_hostels(Role::Admin, &slugs(&["*"])).unwrap(),
            HostelScope::All
        );
    }

    #[test]
    fn star_cannot_be_mixed_with_slugs() {
        assert!(scope_from_hostels(Role::Admin, &slugs(&["*", "north"])).is_err());
    }

    #[test]
    fn slugs_become_a_scope_and_round_trip() {
        let scope = scope_from_hostels(Role::Warden, &slugs(&["south", "north"])).unwrap();
        assert!(scope.covers(&HostelId::parse("north").unwrap()));
        assert_eq!(hostels_from_scope(&scope), slugs(&["north", "south"]));
        assert_eq!(hostels_from_scope(&HostelScope::All), slugs(&["*"]));
    }

    #[test]
    fn an_invalid_slug_is_refused() {
        let err = scope_from_hostels(Role::Staff, &slugs(&["North Wing"])).unwrap_err();
        assert_eq!(err.reason(), "invalid_claims");
    }
}
