//! Pins the stored JSON of every event variant of both aggregates. Stored names and field names are a
//! public contract: if this test fails, a change broke the stored format (add an upcaster and a new
//! event_version instead of editing the expectation).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::DomainEvent;
use serde_json::{json, Value};
use uuid::Uuid;

use cms_domain::complaint::*;
use cms_domain::hostel::*;
use cms_domain::ids::*;

const AT: &str = "2025-01-02T03:04:05Z";
const C: &str = "00000000-0000-0000-0000-000000000001";
const P: &str = "00000000-0000-0000-0000-000000000002";
const M: &str = "00000000-0000-0000-0000-000000000003";

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap()
}
fn user(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}
fn cat(s: &str) -> CategoryId {
    CategoryId::parse(s).unwrap()
}
fn photo() -> PhotoId {
    PhotoId::new(Uuid::from_u128(2))
}

/// Checks the JSON, the round trip, the stored name and the version of one event.
fn pin<E: DomainEvent>(event: E, name: &str, expected: Value) {
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({ name: expected }),
        "{name}"
    );
    let back: E = serde_json::from_value(json!({ name: expected })).unwrap();
    assert_eq!(back, event, "{name}");
    assert_eq!(event.event_type(), name);
    assert_eq!(event.event_version(), "1");
}

fn complaint_events() -> Vec<(ComplaintEvent, &'static str, Value)> {
    let by = || user("u-1");
    vec![
        (
            ComplaintEvent::Filed {
                id: ComplaintId::new(Uuid::from_u128(1)),
                hostel: HostelId::parse("north").unwrap(),
                wing: Some(WingId::parse("A").unwrap()),
                room: "A-101".into(),
                category: cat("plumbing"),
                severity: Severity::Urgent,
                title: "Leak".into(),
                description: "Water everywhere".into(),
                reporter: user("res-1"),
                by: by(),
                at: at(),
            },
            "ComplaintFiled",
            json!({"id": C, "hostel": "north", "wing": "A", "room": "A-101", "category": "plumbing",
                   "severity": "urgent", "title": "Leak", "description": "Water everywhere",
                   "reporter": "res-1", "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::Triaged {
                priority: Priority::P1,
                category: Some(cat("electrical")),
                previous_category: Some(cat("plumbing")),
                by: by(),
                at: at(),
            },
            "ComplaintTriaged",
            json!({"priority": "P1", "category": "electrical", "previous_category": "plumbing",
                   "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::Assigned {
                assignee: user("s-1"),
                previous: None,
                by: by(),
                at: at(),
            },
            "ComplaintAssigned",
            json!({"assignee": "s-1", "previous": null, "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::WorkStarted { by: by(), at: at() },
            "WorkStarted",
            json!({"by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::PutOnHold {
                reason: "parts".into(),
                until: Some(at()),
                by: by(),
                at: at(),
            },
            "ComplaintPutOnHold",
            json!({"reason": "parts", "until": AT, "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::WorkResumed { by: by(), at: at() },
            "WorkResumed",
            json!({"by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::CommentAdded {
                comment_id: CommentId::new(Uuid::from_u128(3)),
                body: "hi".into(),
                visibility: Visibility::Internal,
                by: by(),
                at: at(),
            },
            "CommentAdded",
            json!({"comment_id": M, "body": "hi", "visibility": "internal", "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::Resolved {
                note: "done".into(),
                after_photos: vec![photo()],
                by: by(),
                at: at(),
            },
            "ComplaintResolved",
            json!({"note": "done", "after_photos": [P], "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::ResolutionConfirmed { by: by(), at: at() },
            "ResolutionConfirmed",
            json!({"by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::ResolutionDisputed {
                reason: "no".into(),
                by: by(),
                at: at(),
            },
            "ResolutionDisputed",
            json!({"reason": "no", "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::Reopened { by: by(), at: at() },
            "ComplaintReopened",
            json!({"by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::Closed {
                reason: None,
                by: by(),
                at: at(),
            },
            "ComplaintClosed",
            json!({"reason": null, "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::Rejected {
                reason: "dup".into(),
                by: by(),
                at: at(),
            },
            "ComplaintRejected",
            json!({"reason": "dup", "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::Withdrawn {
                reason: Some("fixed".into()),
                by: by(),
                at: at(),
            },
            "ComplaintWithdrawn",
            json!({"reason": "fixed", "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::ResolutionRated {
                stars: 4,
                comment: None,
                by: by(),
                at: at(),
            },
            "ResolutionRated",
            json!({"stars": 4, "comment": null, "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::PhotoAttached {
                photo_id: photo(),
                object_key: "photos/x.jpg".into(),
                content_type: "image/jpeg".into(),
                size: 1234,
                sha256: "ab".repeat(32),
                role: PhotoRole::After,
                by: by(),
                at: at(),
            },
            "PhotoAttached",
            json!({"photo_id": P, "object_key": "photos/x.jpg", "content_type": "image/jpeg",
                   "size": 1234, "sha256": "ab".repeat(32), "role": "after", "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::ThumbnailGenerated {
                photo_id: photo(),
                thumbnails: vec![
                    Thumbnail {
                        size: ThumbnailSize::Thumb320,
                        object_key: "t/320".into(),
                        width: 320,
                        height: 240,
                    },
                    Thumbnail {
                        size: ThumbnailSize::Large1024,
                        object_key: "t/1024".into(),
                        width: 1024,
                        height: 768,
                    },
                ],
                by: by(),
                at: at(),
            },
            "ThumbnailGenerated",
            json!({"photo_id": P, "thumbnails": [
                      {"size": "thumb320", "object_key": "t/320", "width": 320, "height": 240},
                      {"size": "large1024", "object_key": "t/1024", "width": 1024, "height": 768}],
                   "by": "u-1", "at": AT}),
        ),
        (
            ComplaintEvent::ThumbnailFailed {
                photo_id: photo(),
                reason: "corrupt".into(),
                by: by(),
                at: at(),
            },
            "ThumbnailFailed",
            json!({"photo_id": P, "reason": "corrupt", "by": "u-1", "at": AT}),
        ),
    ]
}

fn hostel_events() -> Vec<(HostelEvent, &'static str, Value)> {
    let by = || user("admin");
    let category = Category {
        id: cat("plumbing"),
        name: "Plumbing".into(),
    };
    vec![
        (
            HostelEvent::Registered {
                id: HostelId::parse("north").unwrap(),
                name: "North Hall".into(),
                wings: vec![WingId::parse("A").unwrap()],
                room_pattern: "[A]-[0-9]{3}".into(),
                categories: vec![category.clone()],
                by: by(),
                at: at(),
            },
            "HostelRegistered",
            json!({"id": "north", "name": "North Hall", "wings": ["A"], "room_pattern": "[A]-[0-9]{3}",
                   "categories": [{"id": "plumbing", "name": "Plumbing"}], "by": "admin", "at": AT}),
        ),
        (
            HostelEvent::CategoryAdded {
                category,
                by: by(),
                at: at(),
            },
            "CategoryAdded",
            json!({"category": {"id": "plumbing", "name": "Plumbing"}, "by": "admin", "at": AT}),
        ),
        (
            HostelEvent::CategoryRetired {
                category: cat("plumbing"),
                by: by(),
                at: at(),
            },
            "CategoryRetired",
            json!({"category": "plumbing", "by": "admin", "at": AT}),
        ),
        (
            HostelEvent::StaffMemberAdded {
                member: StaffMember {
                    id: user("s-1"),
                    name: "Sam".into(),
                    skills: BTreeSet::from([cat("plumbing"), cat("electrical")]),
                    role: StaffRole::Warden,
                },
                by: by(),
                at: at(),
            },
            "StaffMemberAdded",
            json!({"member": {"id": "s-1", "name": "Sam", "skills": ["electrical", "plumbing"], "role": "warden"},
                   "by": "admin", "at": AT}),
        ),
        (
            HostelEvent::StaffMemberRemoved {
                id: user("s-1"),
                by: by(),
                at: at(),
            },
            "StaffMemberRemoved",
            json!({"id": "s-1", "by": "admin", "at": AT}),
        ),
        (
            HostelEvent::PolicySet {
                policy: HostelPolicy {
                    self_assignment_allowed: true,
                    dispute_window_days: 14,
                },
                by: by(),
                at: at(),
            },
            "PolicySet",
            json!({"policy": {"self_assignment_allowed": true, "dispute_window_days": 14}, "by": "admin", "at": AT}),
        ),
    ]
}

#[test]
fn every_complaint_event_has_its_pinned_json() {
    let events = complaint_events();
    let names: Vec<&str> = events.iter().map(|(_, name, _)| *name).collect();
    assert_eq!(names, ComplaintEvent::STORED_NAMES.to_vec());
    for (event, name, expected) in events {
        pin(event, name, expected);
    }
}

#[test]
fn every_hostel_event_has_its_pinned_json() {
    let events = hostel_events();
    let names: Vec<&str> = events.iter().map(|(_, name, _)| *name).collect();
    assert_eq!(names, HostelEvent::STORED_NAMES.to_vec());
    for (event, name, expected) in events {
        pin(event, name, expected);
    }
}

#[test]
fn stored_events_with_invalid_ids_do_not_deserialise() {
    let bad = json!({"StaffMemberRemoved": {"id": "has space", "by": "admin", "at": AT}});
    assert!(serde_json::from_value::<HostelEvent>(bad).is_err());
    let bad = json!({"CategoryRetired": {"category": "Plumbing", "by": "admin", "at": AT}});
    assert!(serde_json::from_value::<HostelEvent>(bad).is_err());
}

/// Command names are stored in every event's metadata and hashed into idempotency records, so they
/// are a contract like event names: pinned here, one per action kind, never repeated.
#[test]
fn every_complaint_command_keeps_its_stored_name() {
    let names = [
        (ActionKind::File, "FileComplaint"),
        (ActionKind::Triage, "TriageComplaint"),
        (ActionKind::Assign, "AssignComplaint"),
        (ActionKind::StartWork, "StartWork"),
        (ActionKind::PutOnHold, "PutOnHold"),
        (ActionKind::ResumeWork, "ResumeWork"),
        (ActionKind::AddComment, "AddComment"),
        (ActionKind::Resolve, "ResolveComplaint"),
        (ActionKind::ConfirmResolution, "ConfirmResolution"),
        (ActionKind::DisputeResolution, "DisputeResolution"),
        (ActionKind::Close, "CloseComplaint"),
        (ActionKind::Reject, "RejectComplaint"),
        (ActionKind::Withdraw, "WithdrawComplaint"),
        (ActionKind::RateResolution, "RateResolution"),
        (ActionKind::AttachPhoto, "AttachPhoto"),
        (ActionKind::RecordThumbnail, "RecordThumbnail"),
        (ActionKind::RecordThumbnailFailure, "RecordThumbnailFailure"),
    ];
    for (kind, name) in names {
        assert_eq!(kind.command_name(), name, "{kind}");
    }
    let distinct: BTreeSet<&str> = names.iter().map(|(k, _)| k.command_name()).collect();
    assert_eq!(distinct.len(), names.len());
}

#[test]
fn every_hostel_command_keeps_its_stored_name() {
    let by = cms_domain::actor::Actor::new(
        user("admin-1"),
        cms_domain::actor::Role::Admin,
        cms_domain::actor::HostelScope::All,
    );
    let category = Category {
        id: cat("plumbing"),
        name: "Plumbing".into(),
    };
    let commands = [
        (
            HostelCommand::AddCategory {
                by: by.clone(),
                at: at(),
                category,
            },
            "AddCategory",
        ),
        (
            HostelCommand::RetireCategory {
                by: by.clone(),
                at: at(),
                category: cat("plumbing"),
            },
            "RetireCategory",
        ),
        (
            HostelCommand::RemoveStaffMember {
                by,
                at: at(),
                id: user("staff-1"),
            },
            "RemoveStaffMember",
        ),
    ];
    for (command, name) in commands {
        assert_eq!(command.command_name(), name);
    }
}
