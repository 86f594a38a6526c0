//! The Hostel aggregate: a hostel's catalogue of complaint categories, its staff, its room pattern and
//! its complaint policy. Complaint commands carry a copy of [`HostelFacts`] taken from here.

mod command;
mod decide;
mod error;
mod event;
mod facts;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::HostelCommand;
pub use error::HostelError;
pub use event::HostelEvent;
pub use facts::{
    compile_room_pattern, Category, HostelFacts, HostelPolicy, StaffMember, StaffRole,
    MAX_ROOM_PATTERN_LEN,
};

use crate::ids::{CategoryId, HostelId};

/// A hostel, folded from its events. `Default` is the state before registration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Hostel {
    facts: Option<HostelFacts>,
    retired: Vec<Category>,
    registered_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

impl Hostel {
    /// The current facts, `None` before registration.
    pub fn facts(&self) -> Option<HostelFacts> {
        self.facts.clone()
    }

    /// The current facts by reference, `None` before registration.
    pub fn facts_ref(&self) -> Option<&HostelFacts> {
        self.facts.as_ref()
    }

    /// Whether the hostel has been registered.
    pub fn is_registered(&self) -> bool {
        self.facts.is_some()
    }

    /// The hostel id, once registered.
    pub fn id(&self) -> Option<&HostelId> {
        self.facts.as_ref().map(|f| &f.id)
    }

    /// The display name, once registered.
    pub fn name(&self) -> Option<&str> {
        self.facts.as_ref().map(|f| f.name.as_str())
    }

    /// The active categories (empty before registration).
    pub fn categories(&self) -> &[Category] {
        self.facts.as_ref().map_or(&[], |f| f.categories.as_slice())
    }

    /// The retired categories, in retirement order.
    pub fn retired_categories(&self) -> &[Category] {
        &self.retired
    }

    /// The staff members in user-id order (empty before registration).
    pub fn staff(&self) -> impl Iterator<Item = &StaffMember> {
        self.facts.iter().flat_map(|f| f.staff.values())
    }

    /// The complaint policy, once registered.
    pub fn policy(&self) -> Option<&HostelPolicy> {
        self.facts.as_ref().map(|f| &f.policy)
    }

    /// When the hostel was registered.
    pub fn registered_at(&self) -> Option<DateTime<Utc>> {
        self.registered_at
    }

    /// When the hostel last changed.
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }

    fn is_retired(&self, category: &CategoryId) -> bool {
        self.retired.iter().any(|c| &c.id == category)
    }
}

/// The aggregate type of hostels in the event store (`events.aggregate_type`): stored, so stable.
pub const AGGREGATE_TYPE: &str = "Hostel";

impl Aggregate for Hostel {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = HostelCommand;
    type Event = HostelEvent;
    type Error = HostelError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _service: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.updated_at = Some(event.at());
        match event {
            HostelEvent::Registered {
                id,
                name,
                wings,
                room_pattern,
                categories,
                at,
                ..
            } => {
                self.facts = Some(HostelFacts {
                    id,
                    name,
                    wings,
                    room_pattern,
                    categories,
                    staff: Default::default(),
                    policy: HostelPolicy::default(),
                });
                self.registered_at = Some(at);
            }
            HostelEvent::CategoryAdded { category, .. } => {
                self.retired.retain(|c| c.id != category.id);
                if let Some(facts) = &mut self.facts {
                    facts.categories.retain(|c| c.id != category.id);
                    facts.categories.push(category);
                }
            }
            HostelEvent::CategoryRetired { category, .. } => {
                if let Some(facts) = &mut self.facts {
                    if let Some(pos) = facts.categories.iter().position(|c| c.id == category) {
                        self.retired.push(facts.categories.remove(pos));
                    }
                }
            }
            HostelEvent::StaffMemberAdded { member, .. } => {
                if let Some(facts) = &mut self.facts {
                    facts.staff.insert(member.id.clone(), member);
                }
            }
            HostelEvent::StaffMemberRemoved { id, .. } => {
                if let Some(facts) = &mut self.facts {
                    facts.staff.remove(&id);
                }
            }
            HostelEvent::PolicySet { policy, .. } => {
                if let Some(facts) = &mut self.facts {
                    facts.policy = policy;
                }
            }
        }
    }
}
