//! Criterion benchmarks of the pure domain work behind every command: deciding and applying
//! `FileComplaint`, and rebuilding a complaint from a stored history of 20 events (a full lifecycle with
//! a hold, a photo, a dispute, comments and a rating) the way the executor does on every command:
//! `serde_json` payloads deserialised into `ComplaintEvent`s and folded into the aggregate.
//!
//! Run: `cargo bench -p cms-benches --bench domain -- --warm-up-time 1 --measurement-time 3`.

// Benchmarks set up fixed, known-valid data; a failure there is a bug to see at once.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use cms_api::commands::executor::Executor;
use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::complaint::{
    Complaint, ComplaintAction, ComplaintCommand, ComplaintEvent, PhotoRole, Priority, Severity,
    Visibility,
};
use cms_domain::hostel::{Category, HostelFacts, HostelPolicy, StaffMember, StaffRole};
use cms_domain::ids::{CategoryId, CommentId, ComplaintId, HostelId, PhotoId, UserId, WingId};
use cms_eventstore::store::{EventStore, RecordedEvent};
use cqrs_es::Aggregate;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use uuid::Uuid;

const COMPLAINT: Uuid = Uuid::from_u128(0xC0);

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn hostel() -> HostelId {
    HostelId::parse("north").unwrap()
}

fn plumbing() -> CategoryId {
    CategoryId::parse("plumbing").unwrap()
}

/// 2025-01-01T00:00:00Z plus `minutes`.
fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

/// A hostel shaped like a real one: two wings, a room pattern, three categories, a few staff.
fn facts() -> HostelFacts {
    let member = |id: &str, role: StaffRole, skills: &[&str]| StaffMember {
        id: uid(id),
        name: id.to_owned(),
        skills: skills
            .iter()
            .map(|s| CategoryId::parse(s).unwrap())
            .collect::<BTreeSet<_>>(),
        role,
    };
    let staff = [
        member("plumber", StaffRole::Staff, &["plumbing"]),
        member("sparky", StaffRole::Staff, &["electrical"]),
        member(
            "warden",
            StaffRole::Warden,
            &["plumbing", "electrical", "carpentry"],
        ),
    ];
    HostelFacts {
        id: hostel(),
        name: "North Hall".to_owned(),
        wings: vec![WingId::parse("A").unwrap(), WingId::parse("B").unwrap()],
        room_pattern: "[AB][0-9]{3}".to_owned(),
        categories: ["plumbing", "electrical", "carpentry"]
            .into_iter()
            .map(|id| Category {
                id: CategoryId::parse(id).unwrap(),
                name: id.to_owned(),
            })
            .collect(),
        staff: staff
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect::<BTreeMap<_, _>>(),
        policy: HostelPolicy::default(),
    }
}

fn actor(id: &str, role: Role) -> Actor {
    Actor::new(uid(id), role, HostelScope::one(hostel()))
}

fn command(by: Actor, minute: i64, action: ComplaintAction) -> ComplaintCommand {
    ComplaintCommand {
        by,
        at: t(minute),
        hostel: facts(),
        action,
    }
}

fn file_command() -> ComplaintCommand {
    command(
        actor("res-1", Role::Resident),
        0,
        ComplaintAction::File {
            id: ComplaintId::new(COMPLAINT),
            reporter: uid("res-1"),
            wing: Some(WingId::parse("B").unwrap()),
            room: "B204".to_owned(),
            category: plumbing(),
            severity: Severity::High,
            title: "Leaking tap in the bathroom".to_owned(),
            description: "The cold tap drips all night and the floor stays wet.".to_owned(),
        },
    )
}

fn comment(n: u128, body: &str, visibility: Visibility) -> ComplaintAction {
    ComplaintAction::AddComment {
        comment_id: CommentId::new(Uuid::from_u128(0x200 + n)),
        body: body.to_owned(),
        visibility,
    }
}

/// Drives one complaint through a full lifecycle with real decisions; returns its 20 events.
fn lifecycle() -> Vec<ComplaintEvent> {
    let resident = || actor("res-1", Role::Resident);
    let plumber = || actor("plumber", Role::Staff);
    let warden = || actor("warden", Role::Warden);
    let photo = PhotoId::new(Uuid::from_u128(0x100));
    let steps: Vec<(Actor, ComplaintAction)> = vec![
        (
            plumber(),
            ComplaintAction::Triage {
                priority: Priority::P2,
                category: None,
            },
        ),
        (
            warden(),
            ComplaintAction::Assign {
                assignee: uid("plumber"),
            },
        ),
        (
            resident(),
            comment(1, "It is getting worse at night.", Visibility::Public),
        ),
        (
            warden(),
            comment(
                2,
                "Washer stock is low; check the store.",
                Visibility::Internal,
            ),
        ),
        (plumber(), ComplaintAction::StartWork),
        (
            plumber(),
            ComplaintAction::PutOnHold {
                reason: "Waiting for a replacement cartridge.".to_owned(),
                until: Some(t(60 * 24)),
            },
        ),
        (
            plumber(),
            comment(3, "Part ordered, arriving tomorrow.", Visibility::Public),
        ),
        (plumber(), ComplaintAction::ResumeWork),
        (
            plumber(),
            ComplaintAction::AttachPhoto {
                photo_id: photo,
                object_key: "photos/north/after-1.jpg".to_owned(),
                content_type: "image/jpeg".to_owned(),
                size: 245_760,
                sha256: "ab".repeat(32),
                role: PhotoRole::After,
            },
        ),
        (
            plumber(),
            ComplaintAction::Resolve {
                note: "Replaced the cartridge and the washer.".to_owned(),
                after_photos: vec![photo],
            },
        ),
        (
            resident(),
            ComplaintAction::DisputeResolution {
                reason: "Still dripping in the morning.".to_owned(),
            },
        ),
        (
            resident(),
            comment(
                4,
                "It drips slower, but it still drips.",
                Visibility::Public,
            ),
        ),
        (plumber(), ComplaintAction::StartWork),
        (
            plumber(),
            comment(5, "The valve seat was worn too.", Visibility::Public),
        ),
        (
            plumber(),
            ComplaintAction::Resolve {
                note: "Reground the valve seat.".to_owned(),
                after_photos: vec![],
            },
        ),
        (resident(), ComplaintAction::ConfirmResolution),
        (
            resident(),
            ComplaintAction::RateResolution {
                stars: 4,
                comment: Some("Took two visits, but fixed.".to_owned()),
            },
        ),
    ];
    let later = steps
        .into_iter()
        .zip(1..)
        .map(|((by, action), minute)| command(by, minute, action));
    let mut complaint = Complaint::default();
    let mut events = Vec::new();
    for cmd in std::iter::once(file_command()).chain(later) {
        for event in complaint.decide(cmd).unwrap() {
            complaint.apply(event.clone());
            events.push(event);
        }
    }
    events
}

/// The lifecycle as the store returns it: one row per event, JSON payloads.
fn recorded(events: &[ComplaintEvent]) -> Vec<RecordedEvent> {
    events
        .iter()
        .zip(1_i64..)
        .map(|(event, sequence)| RecordedEvent {
            global_position: 1000 + sequence,
            event_id: Uuid::from_u128(0xE000 + sequence as u128),
            recorded_at: event.at(),
            aggregate_type: "Complaint".to_owned(),
            aggregate_id: COMPLAINT.to_string(),
            sequence,
            event_type: event.stored_name().to_owned(),
            event_version: "1".to_owned(),
            payload: serde_json::to_value(event).unwrap(),
            metadata: json!({
                "command_id": Uuid::from_u128(0xF000 + sequence as u128).to_string(),
                "actor": event.by().as_str(),
                "request_id": "bench",
            }),
        })
        .collect()
}

fn file_complaint(c: &mut Criterion) {
    let mut group = c.benchmark_group("file_complaint");
    group.bench_function("decide", |b| {
        let complaint = Complaint::default();
        b.iter_batched(
            file_command,
            |cmd| complaint.decide(black_box(cmd)).unwrap(),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("decide_apply", |b| {
        b.iter_batched(
            file_command,
            |cmd| {
                let mut complaint = Complaint::default();
                for event in complaint.decide(black_box(cmd)).unwrap() {
                    complaint.apply(event);
                }
                complaint
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn fold_history(c: &mut Criterion) {
    let events = lifecycle();
    assert_eq!(events.len(), 20, "the lifecycle should produce 20 events");
    let rows = recorded(&events);
    let payloads: Vec<Value> = rows.iter().map(|row| row.payload.clone()).collect();
    // `Executor::fold` never touches the store; any store will do, and SQLite in memory needs no server.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime
        .block_on(EventStore::connect("sqlite::memory:", 1))
        .unwrap();
    let executor = Executor::new(store);
    let expected = executor.fold::<Complaint>(rows.clone()).unwrap().state;
    let mut direct = Complaint::default();
    for event in events.clone() {
        direct.apply(event);
    }
    assert_eq!(
        expected, direct,
        "folding the JSON history must rebuild the same complaint"
    );

    let mut group = c.benchmark_group("fold_history_20_events");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("apply_typed", |b| {
        b.iter_batched(
            || events.clone(),
            |events| {
                let mut complaint = Complaint::default();
                for event in events {
                    complaint.apply(event);
                }
                complaint
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("deserialize_apply", |b| {
        b.iter_batched(
            || payloads.clone(),
            |payloads| {
                let mut complaint = Complaint::default();
                for payload in payloads {
                    let event: ComplaintEvent = serde_json::from_value(payload).unwrap();
                    complaint.apply(event);
                }
                complaint
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("executor_fold", |b| {
        b.iter_batched(
            || rows.clone(),
            |rows| executor.fold::<Complaint>(black_box(rows)).unwrap(),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("executor_fold_then_decide_comment", |b| {
        let next = command(
            actor("res-1", Role::Resident),
            30,
            comment(9, "Thanks, all good now.", Visibility::Public),
        );
        b.iter_batched(
            || (rows.clone(), next.clone()),
            |(rows, cmd)| {
                let loaded = executor.fold::<Complaint>(black_box(rows)).unwrap();
                loaded.state.decide(cmd).unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, file_complaint, fold_history);
criterion_main!(benches);
