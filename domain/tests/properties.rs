//! Property test over random command sequences. Random actions from random actors (the reporter,
//! another resident, a skilled and an unskilled staff member, a warden, an admin, a service) are
//! handled one after another by a live aggregate through cqrs-es `handle`. After every step:
//! (1) folding all emitted events into a fresh aggregate gives the live state (and a refused command
//! changes nothing), and (2) every observed status change is allowed by `Status::allows`. A companion
//! test checks that the generator actually reaches every status.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeDelta, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use uuid::Uuid;

use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::complaint::*;
use cms_domain::hostel::{Category, HostelFacts, HostelPolicy, StaffMember, StaffRole};
use cms_domain::ids::*;

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn cat(s: &str) -> CategoryId {
    CategoryId::parse(s).unwrap()
}

fn north() -> HostelId {
    HostelId::parse("north").unwrap()
}

fn facts(self_assignment_allowed: bool, dispute_window_days: u32) -> HostelFacts {
    let member = |id: &str, role, skills: &[&str]| StaffMember {
        id: uid(id),
        name: id.to_owned(),
        skills: skills.iter().map(|s| cat(s)).collect::<BTreeSet<_>>(),
        role,
    };
    let staff = [
        member("plumber", StaffRole::Staff, &["plumbing"]),
        member("sparky", StaffRole::Staff, &["electrical"]),
        member("warden", StaffRole::Warden, &["plumbing", "electrical"]),
    ];
    HostelFacts {
        id: north(),
        name: "North".to_owned(),
        wings: vec![WingId::parse("A").unwrap()],
        room_pattern: "A-[0-9]{3}".to_owned(),
        categories: ["plumbing", "electrical"]
            .iter()
            .map(|id| Category {
                id: cat(id),
                name: id.to_string(),
            })
            .collect(),
        staff: staff
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect::<BTreeMap<_, _>>(),
        policy: HostelPolicy {
            self_assignment_allowed,
            dispute_window_days,
        },
    }
}

fn actors() -> Vec<Actor> {
    let here = || HostelScope::one(north());
    vec![
        Actor::new(uid("res-1"), Role::Resident, here()),
        Actor::new(uid("res-2"), Role::Resident, here()),
        Actor::new(uid("plumber"), Role::Staff, here()),
        Actor::new(uid("sparky"), Role::Staff, here()),
        Actor::new(uid("warden"), Role::Warden, here()),
        Actor::new(uid("admin"), Role::Admin, HostelScope::All),
        Actor::new(uid("bot"), Role::Service, HostelScope::All),
    ]
}

const USERS: [&str; 5] = ["plumber", "sparky", "warden", "res-1", "admin"];

fn text(valid: bool) -> String {
    if valid {
        "a reason".to_owned()
    } else {
        " ".to_owned()
    }
}

fn photo_id(n: u8) -> PhotoId {
    PhotoId::new(Uuid::from_u128(u128::from(n) + 1))
}

fn action() -> impl Strategy<Value = ComplaintAction> {
    let file = (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(electrical, room_ok, title_ok)| ComplaintAction::File {
            id: ComplaintId::new(Uuid::from_u128(7)),
            reporter: uid("res-1"),
            wing: None,
            room: if room_ok { "A-101" } else { "B-1" }.to_owned(),
            category: cat(if electrical { "electrical" } else { "plumbing" }),
            severity: Severity::Medium,
            title: if title_ok { "Broken tap" } else { "x" }.to_owned(),
            description: "It has been broken for a week.".to_owned(),
        },
    );
    let priority = prop_oneof![
        Just(Priority::P1),
        Just(Priority::P2),
        Just(Priority::P3),
        Just(Priority::P4)
    ];
    let category = prop::option::of(prop_oneof![
        Just("plumbing"),
        Just("electrical"),
        Just("carpentry")
    ]);
    prop_oneof![
        1 => file,
        3 => (priority, category).prop_map(|(priority, c)| ComplaintAction::Triage { priority, category: c.map(cat) }),
        4 => (0..USERS.len()).prop_map(|i| ComplaintAction::Assign { assignee: uid(USERS[i]) }),
        4 => Just(ComplaintAction::StartWork),
        2 => (any::<bool>(), prop::option::of(-100i64..1000)).prop_map(|(ok, until)| ComplaintAction::PutOnHold {
            reason: text(ok),
            until: until.map(|m| Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(m)),
        }),
        2 => Just(ComplaintAction::ResumeWork),
        2 => (0u128..4, any::<bool>(), any::<bool>()).prop_map(|(n, ok, public)| ComplaintAction::AddComment {
            comment_id: CommentId::new(Uuid::from_u128(100 + n)),
            body: text(ok),
            visibility: if public { Visibility::Public } else { Visibility::Internal },
        }),
        4 => prop::collection::vec(0u8..4, 0..3).prop_map(|ids| ComplaintAction::Resolve {
            note: "fixed".to_owned(),
            after_photos: ids.into_iter().map(photo_id).collect(),
        }),
        2 => Just(ComplaintAction::ConfirmResolution),
        4 => any::<bool>().prop_map(|ok| ComplaintAction::DisputeResolution { reason: text(ok) }),
        1 => prop::option::of(any::<bool>()).prop_map(|r| ComplaintAction::Close { reason: r.map(text) }),
        1 => any::<bool>().prop_map(|ok| ComplaintAction::Reject { reason: text(ok) }),
        1 => prop::option::of(any::<bool>()).prop_map(|r| ComplaintAction::Withdraw { reason: r.map(text) }),
        2 => (0u8..7, prop::option::of(any::<bool>()))
            .prop_map(|(stars, c)| ComplaintAction::RateResolution { stars, comment: c.map(text) }),
        3 => (0u8..12, 0u8..12, any::<bool>()).prop_map(|(n, digest, after)| ComplaintAction::AttachPhoto {
            photo_id: photo_id(n),
            object_key: format!("photos/{n}"),
            content_type: "image/png".to_owned(),
            size: 10,
            sha256: format!("{digest:02x}").repeat(32),
            role: if after { PhotoRole::After } else { PhotoRole::Before },
        }),
        2 => (0u8..12, any::<bool>()).prop_map(|(n, ok)| ComplaintAction::RecordThumbnail {
            photo_id: photo_id(n),
            thumbnails: if ok {
                vec![Thumbnail { size: ThumbnailSize::Thumb320, object_key: "t".to_owned(), width: 1, height: 1 }]
            } else {
                vec![]
            },
        }),
        1 => (0u8..12, any::<bool>()).prop_map(|(n, ok)| ComplaintAction::RecordThumbnailFailure {
            photo_id: photo_id(n),
            reason: text(ok),
        }),
    ]
}

/// Who issues a step's command: one of [`actors`] at random, or the actor most likely permitted
/// (chosen from the live state), so that sequences get deep into the state machine.
#[derive(Clone, Debug)]
enum Who {
    Random(usize),
    Fitting,
}

/// One step: who, what, and how many minutes after the previous step.
type Step = (Who, ComplaintAction, i64);

fn fitting(actors: &[Actor], live: &Complaint, action: &ComplaintAction) -> Actor {
    let named = |id: &str| {
        actors
            .iter()
            .find(|a| a.id.as_str() == id)
            .cloned()
            .unwrap()
    };
    match action {
        ComplaintAction::File { .. }
        | ComplaintAction::ConfirmResolution
        | ComplaintAction::DisputeResolution { .. }
        | ComplaintAction::Withdraw { .. }
        | ComplaintAction::RateResolution { .. }
        | ComplaintAction::AddComment { .. } => named("res-1"),
        ComplaintAction::Triage { .. } | ComplaintAction::AttachPhoto { .. } => named("plumber"),
        ComplaintAction::Assign { .. }
        | ComplaintAction::Close { .. }
        | ComplaintAction::Reject { .. } => named("warden"),
        ComplaintAction::StartWork
        | ComplaintAction::PutOnHold { .. }
        | ComplaintAction::ResumeWork
        | ComplaintAction::Resolve { .. } => live
            .state()
            .and_then(|s| s.assignee())
            .map_or_else(|| named("warden"), |id| named(id.as_str())),
        ComplaintAction::RecordThumbnail { .. }
        | ComplaintAction::RecordThumbnailFailure { .. } => named("bot"),
    }
}

fn scenario() -> impl Strategy<Value = (bool, u32, Vec<Step>)> {
    let gap = prop_oneof![3 => 0i64..120, 1 => 0i64..(3 * 24 * 60)];
    let who = prop_oneof![1 => (0..7usize).prop_map(Who::Random), 2 => Just(Who::Fitting)];
    (
        any::<bool>(),
        1u32..=5,
        prop::collection::vec((who, action(), gap), 1..80),
    )
}

fn replay(events: &[ComplaintEvent]) -> Complaint {
    let mut fresh = Complaint::default();
    for event in events {
        fresh.apply(event.clone());
    }
    fresh
}

/// Runs a scenario, checking both properties; returns the statuses reached.
fn run(
    self_assign: bool,
    window: u32,
    steps: Vec<Step>,
) -> Result<BTreeSet<Status>, TestCaseError> {
    let actors = actors();
    let hostel = facts(self_assign, window);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut live = Complaint::default();
    let mut log: Vec<ComplaintEvent> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut clock = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    // The reporter files first, so most sequences explore a filed complaint.
    let first: Step = (Who::Fitting, file_valid(), 0);
    for (who, action, gap) in std::iter::once(first).chain(steps) {
        clock += TimeDelta::minutes(gap);
        let by = match who {
            Who::Random(i) => actors[i].clone(),
            Who::Fitting => fitting(&actors, &live, &action),
        };
        let command = ComplaintCommand {
            by,
            at: clock,
            hostel: hostel.clone(),
            action,
        };
        // The live aggregate goes through cqrs-es `handle`, exactly as the executor drives it.
        let before = live.clone();
        let sink = EventSink::<Complaint>::default();
        if runtime.block_on(live.handle(command, &(), &sink)).is_err() {
            prop_assert_eq!(&live, &before, "a refused command changed the state");
            continue;
        }
        let events = runtime.block_on(sink.collect());
        let mut shadow = before;
        for event in events {
            let from = shadow.status();
            shadow.apply(event.clone());
            if let (Some(from), Some(to)) = (from, shadow.status()) {
                prop_assert!(
                    from == to || from.allows(to),
                    "{from} -> {to} via {}",
                    event.stored_name()
                );
            }
            let json = serde_json::to_value(&event).unwrap();
            prop_assert_eq!(
                &serde_json::from_value::<ComplaintEvent>(json).unwrap(),
                &event
            );
            log.push(event);
        }
        prop_assert_eq!(&replay(&log), &live);
        let snapshot = serde_json::to_value(&live).unwrap();
        prop_assert_eq!(
            &serde_json::from_value::<Complaint>(snapshot).unwrap(),
            &live
        );
        seen.extend(live.status());
    }
    Ok(seen)
}

fn file_valid() -> ComplaintAction {
    ComplaintAction::File {
        id: ComplaintId::new(Uuid::from_u128(7)),
        reporter: uid("res-1"),
        wing: None,
        room: "A-101".to_owned(),
        category: cat("plumbing"),
        severity: Severity::Low,
        title: "Broken tap".to_owned(),
        description: "It has been broken for a week.".to_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replaying_the_events_gives_the_live_state_and_status_changes_follow_the_table(
        (self_assign, window, steps) in scenario()
    ) {
        run(self_assign, window, steps)?;
    }
}

#[test]
fn the_generator_reaches_every_status() {
    let mut runner = TestRunner::deterministic();
    let strategy = scenario();
    let mut seen = BTreeSet::new();
    for _ in 0..256 {
        let (self_assign, window, steps) = strategy.new_tree(&mut runner).unwrap().current();
        seen.extend(run(self_assign, window, steps).unwrap());
    }
    let missing: Vec<_> = Status::ALL.iter().filter(|s| !seen.contains(s)).collect();
    assert!(missing.is_empty(), "never reached: {missing:?}");
}
