//! Shared fixtures: the hostel, the actors, times, and a [`Story`] that drives a complaint through
//! decisions and remembers the events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

use crate::actor::{Actor, HostelScope, Role};
use crate::complaint::*;
use crate::hostel::{Category, HostelFacts, HostelPolicy, StaffMember, StaffRole};
use crate::ids::*;

pub fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

pub fn cat(s: &str) -> CategoryId {
    CategoryId::parse(s).unwrap()
}

pub fn north() -> HostelId {
    HostelId::parse("north").unwrap()
}

pub fn south() -> HostelId {
    HostelId::parse("south").unwrap()
}

/// 2025-01-01T00:00:00Z plus `minutes`.
pub fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

pub fn complaint_id() -> ComplaintId {
    ComplaintId::new(Uuid::from_u128(1))
}

pub fn photo_id(n: u128) -> PhotoId {
    PhotoId::new(Uuid::from_u128(0x100 + n))
}

pub fn comment_id(n: u128) -> CommentId {
    CommentId::new(Uuid::from_u128(0x200 + n))
}

pub fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

pub fn member(id: &str, role: StaffRole, skills: &[&str]) -> StaffMember {
    StaffMember {
        id: uid(id),
        name: id.to_owned(),
        skills: skills.iter().map(|s| cat(s)).collect::<BTreeSet<_>>(),
        role,
    }
}

pub fn facts() -> HostelFacts {
    let staff = [
        member("plumber", StaffRole::Staff, &["plumbing"]),
        member("sparky", StaffRole::Staff, &["electrical"]),
        member("warden", StaffRole::Warden, &["plumbing", "electrical"]),
    ];
    HostelFacts {
        id: north(),
        name: "North Hall".to_owned(),
        wings: vec![WingId::parse("A").unwrap(), WingId::parse("B").unwrap()],
        room_pattern: "[AB]-[0-9]{3}".to_owned(),
        categories: vec![
            Category {
                id: cat("plumbing"),
                name: "Plumbing".to_owned(),
            },
            Category {
                id: cat("electrical"),
                name: "Electrical".to_owned(),
            },
        ],
        staff: staff
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect::<BTreeMap<_, _>>(),
        policy: HostelPolicy::default(),
    }
}

pub fn facts_with_self_assignment() -> HostelFacts {
    let mut facts = facts();
    facts.policy.self_assignment_allowed = true;
    facts
}

fn actor(id: &str, role: Role, scope: HostelScope) -> Actor {
    Actor::new(uid(id), role, scope)
}

pub fn reporter() -> Actor {
    actor("res-1", Role::Resident, HostelScope::one(north()))
}
pub fn other_resident() -> Actor {
    actor("res-2", Role::Resident, HostelScope::one(north()))
}
pub fn plumber() -> Actor {
    actor("plumber", Role::Staff, HostelScope::one(north()))
}
pub fn sparky() -> Actor {
    actor("sparky", Role::Staff, HostelScope::one(north()))
}
pub fn warden() -> Actor {
    actor("warden", Role::Warden, HostelScope::one(north()))
}
pub fn far_warden() -> Actor {
    actor("warden-s", Role::Warden, HostelScope::one(south()))
}
pub fn admin() -> Actor {
    actor("admin", Role::Admin, HostelScope::All)
}
pub fn auditor() -> Actor {
    actor("auditor", Role::Auditor, HostelScope::All)
}
pub fn service() -> Actor {
    actor("bot", Role::Service, HostelScope::All)
}

pub fn file_action() -> ComplaintAction {
    ComplaintAction::File {
        id: complaint_id(),
        reporter: uid("res-1"),
        wing: Some(WingId::parse("A").unwrap()),
        room: "A-101".to_owned(),
        category: cat("plumbing"),
        severity: Severity::High,
        title: "  Leaking tap  ".to_owned(),
        description: "The bathroom tap drips all night.".to_owned(),
    }
}

pub fn command(by: Actor, at: DateTime<Utc>, action: ComplaintAction) -> ComplaintCommand {
    ComplaintCommand {
        by,
        at,
        hostel: facts(),
        action,
    }
}

pub fn after_photo(n: u8) -> ComplaintAction {
    photo(n, PhotoRole::After)
}

pub fn photo(n: u8, role: PhotoRole) -> ComplaintAction {
    ComplaintAction::AttachPhoto {
        photo_id: photo_id(u128::from(n)),
        object_key: format!("photos/{n}.jpg"),
        content_type: "image/jpeg".to_owned(),
        size: 1000,
        sha256: sha(n),
        role,
    }
}

/// A complaint driven through decisions; `events` is everything it emitted.
pub struct Story {
    pub complaint: Complaint,
    pub events: Vec<ComplaintEvent>,
    pub clock: i64,
}

impl Story {
    pub fn new() -> Self {
        Self {
            complaint: Complaint::default(),
            events: Vec::new(),
            clock: 0,
        }
    }

    /// Runs a command that must succeed, one minute after the previous one.
    pub fn then(mut self, by: Actor, action: ComplaintAction) -> Self {
        self.clock += 1;
        let events = self
            .complaint
            .decide(command(by, t(self.clock), action))
            .unwrap();
        for event in events {
            cqrs_es::Aggregate::apply(&mut self.complaint, event.clone());
            self.events.push(event);
        }
        self
    }

    /// Decides a command one minute after the last, without applying it.
    pub fn when(
        &self,
        by: Actor,
        action: ComplaintAction,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        self.when_at(by, t(self.clock + 1), action)
    }

    pub fn when_at(
        &self,
        by: Actor,
        at: DateTime<Utc>,
        action: ComplaintAction,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        self.complaint.decide(command(by, at, action))
    }

    pub fn state(&self) -> &ComplaintState {
        self.complaint.state().unwrap()
    }
}

pub fn filed() -> Story {
    Story::new().then(reporter(), file_action())
}

pub fn triaged() -> Story {
    filed().then(
        plumber(),
        ComplaintAction::Triage {
            priority: Priority::P2,
            category: None,
        },
    )
}

pub fn assigned() -> Story {
    triaged().then(
        warden(),
        ComplaintAction::Assign {
            assignee: uid("plumber"),
        },
    )
}

pub fn in_progress() -> Story {
    assigned().then(plumber(), ComplaintAction::StartWork)
}

pub fn on_hold() -> Story {
    in_progress().then(
        plumber(),
        ComplaintAction::PutOnHold {
            reason: "waiting for parts".to_owned(),
            until: None,
        },
    )
}

pub fn resolved() -> Story {
    in_progress().then(
        plumber(),
        ComplaintAction::Resolve {
            note: "Replaced the washer.".to_owned(),
            after_photos: vec![],
        },
    )
}

pub fn reopened() -> Story {
    resolved().then(
        reporter(),
        ComplaintAction::DisputeResolution {
            reason: "Still dripping".to_owned(),
        },
    )
}

pub fn closed() -> Story {
    resolved().then(reporter(), ComplaintAction::ConfirmResolution)
}

pub fn closed_unresolved() -> Story {
    triaged().then(warden(), ComplaintAction::Close { reason: None })
}

pub fn rejected() -> Story {
    filed().then(
        warden(),
        ComplaintAction::Reject {
            reason: "Not a maintenance issue".to_owned(),
        },
    )
}

pub fn withdrawn() -> Story {
    filed().then(reporter(), ComplaintAction::Withdraw { reason: None })
}

/// One story per status.
pub fn every_status() -> Vec<(Status, Story)> {
    vec![
        (Status::Filed, filed()),
        (Status::Triaged, triaged()),
        (Status::Assigned, assigned()),
        (Status::InProgress, in_progress()),
        (Status::OnHold, on_hold()),
        (Status::Resolved, resolved()),
        (Status::Reopened, reopened()),
        (Status::Closed, closed()),
        (Status::Rejected, rejected()),
        (Status::Withdrawn, withdrawn()),
    ]
}

pub fn invalid(action: ActionKind, status: Status) -> ComplaintError {
    ComplaintError::InvalidTransition { action, status }
}

pub fn forbidden(actor: &Actor, action: ActionKind) -> ComplaintError {
    ComplaintError::NotPermitted {
        role: actor.role,
        action,
    }
}
