//! The Hostel decisions: who may change a hostel and which changes are valid. Registration is for
//! admins; every later change is for an admin or a warden whose scope covers the hostel.

use std::collections::BTreeSet;

use super::facts::{compile_room_pattern, Category, HostelFacts};
use super::{Hostel, HostelCommand, HostelError, HostelEvent};
use crate::actor::{Actor, Role};
use crate::ids::CategoryId;
use crate::text::bounded;

const NAME_MAX: usize = 120;
const CATEGORY_NAME_MAX: usize = 80;

impl Hostel {
    /// Decides which events `command` causes, without changing the hostel.
    ///
    /// # Errors
    /// A [`HostelError`] naming the broken rule; no event is then emitted.
    pub fn decide(&self, command: HostelCommand) -> Result<Vec<HostelEvent>, HostelError> {
        match command {
            HostelCommand::RegisterHostel {
                by,
                at,
                id,
                name,
                wings,
                room_pattern,
                categories,
            } => {
                if by.role != Role::Admin {
                    return Err(HostelError::NotPermitted { role: by.role });
                }
                if self.is_registered() {
                    return Err(HostelError::AlreadyRegistered);
                }
                let name = bounded(&name, 1, NAME_MAX).ok_or(HostelError::InvalidName)?;
                let mut seen = BTreeSet::new();
                if let Some(wing) = wings.iter().find(|w| !seen.insert(*w)) {
                    return Err(HostelError::DuplicateWing { wing: wing.clone() });
                }
                compile_room_pattern(&room_pattern)
                    .map_err(|reason| HostelError::InvalidRoomPattern { reason })?;
                if categories.is_empty() {
                    return Err(HostelError::NoCategories);
                }
                let mut seen = BTreeSet::new();
                let mut clean = Vec::with_capacity(categories.len());
                for category in categories {
                    if !seen.insert(category.id.clone()) {
                        return Err(HostelError::DuplicateCategory {
                            category: category.id,
                        });
                    }
                    clean.push(valid_category(category)?);
                }
                Ok(vec![HostelEvent::Registered {
                    id,
                    name,
                    wings,
                    room_pattern,
                    categories: clean,
                    by: by.id,
                    at,
                }])
            }
            HostelCommand::AddCategory { by, at, category } => {
                let facts = self.manageable(&by)?;
                if facts.has_category(&category.id) {
                    return Err(HostelError::DuplicateCategory {
                        category: category.id,
                    });
                }
                let category = valid_category(category)?;
                Ok(vec![HostelEvent::CategoryAdded {
                    category,
                    by: by.id,
                    at,
                }])
            }
            HostelCommand::RetireCategory { by, at, category } => {
                let facts = self.manageable(&by)?;
                self.check_active(facts, &category)?;
                if facts.categories.len() == 1 {
                    return Err(HostelError::LastActiveCategory { category });
                }
                Ok(vec![HostelEvent::CategoryRetired {
                    category,
                    by: by.id,
                    at,
                }])
            }
            HostelCommand::AddStaffMember { by, at, mut member } => {
                let facts = self.manageable(&by)?;
                if facts.staff.contains_key(&member.id) {
                    return Err(HostelError::DuplicateStaffMember { id: member.id });
                }
                member.name =
                    bounded(&member.name, 1, NAME_MAX).ok_or(HostelError::InvalidStaffName)?;
                for skill in &member.skills {
                    self.check_active(facts, skill)?;
                }
                Ok(vec![HostelEvent::StaffMemberAdded {
                    member,
                    by: by.id,
                    at,
                }])
            }
            HostelCommand::RemoveStaffMember { by, at, id } => {
                let facts = self.manageable(&by)?;
                if !facts.staff.contains_key(&id) {
                    return Err(HostelError::UnknownStaffMember { id });
                }
                Ok(vec![HostelEvent::StaffMemberRemoved { id, by: by.id, at }])
            }
            HostelCommand::SetPolicy { by, at, policy } => {
                self.manageable(&by)?;
                if !policy.is_valid() {
                    return Err(HostelError::InvalidPolicy {
                        dispute_window_days: policy.dispute_window_days,
                    });
                }
                Ok(vec![HostelEvent::PolicySet {
                    policy,
                    by: by.id,
                    at,
                }])
            }
        }
    }

    /// The facts of a registered hostel that `by` may manage.
    fn manageable(&self, by: &Actor) -> Result<&HostelFacts, HostelError> {
        match by.role {
            Role::Admin | Role::Warden => {}
            Role::Resident | Role::Staff | Role::Auditor | Role::Service => {
                return Err(HostelError::NotPermitted { role: by.role })
            }
        }
        let facts = self.facts_ref().ok_or(HostelError::NotRegistered)?;
        if by.role == Role::Warden && !by.covers(&facts.id) {
            return Err(HostelError::OutOfScope);
        }
        Ok(facts)
    }

    fn check_active(&self, facts: &HostelFacts, category: &CategoryId) -> Result<(), HostelError> {
        if facts.has_category(category) {
            Ok(())
        } else if self.is_retired(category) {
            Err(HostelError::CategoryRetired {
                category: category.clone(),
            })
        } else {
            Err(HostelError::UnknownCategory {
                category: category.clone(),
            })
        }
    }
}

fn valid_category(category: Category) -> Result<Category, HostelError> {
    let name =
        bounded(&category.name, 1, CATEGORY_NAME_MAX).ok_or(HostelError::InvalidCategoryName)?;
    Ok(Category {
        id: category.id,
        name,
    })
}
