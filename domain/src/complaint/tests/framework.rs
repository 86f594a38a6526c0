//! The cqrs-es wiring: `handle` emits exactly what `decide` returns, and `TestFramework` agrees.

use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::fixtures::*;
use crate::complaint::*;

type ComplaintTest = TestFramework<Complaint>;

#[test]
fn the_framework_files_a_complaint_from_no_events() {
    let expected = Complaint::default()
        .decide(command(reporter(), t(0), file_action()))
        .unwrap();
    ComplaintTest::with(())
        .given_no_previous_events()
        .when(command(reporter(), t(0), file_action()))
        .then_expect_events(expected);
}

#[test]
fn the_framework_reports_a_refusal() {
    ComplaintTest::with(())
        .given(filed().events)
        .when(command(reporter(), t(9), ComplaintAction::StartWork))
        .then_expect_error(forbidden(&reporter(), ActionKind::StartWork));
}

#[test]
fn the_framework_emits_both_events_of_a_confirmation() {
    let story = resolved();
    let expected = story
        .when(reporter(), ComplaintAction::ConfirmResolution)
        .unwrap();
    assert_eq!(expected.len(), 2);
    ComplaintTest::with(())
        .given(story.events)
        .when(command(
            reporter(),
            t(6),
            ComplaintAction::ConfirmResolution,
        ))
        .then_expect_events(expected);
}

#[test]
fn the_aggregate_type_is_complaint() {
    assert_eq!(Complaint::TYPE, "Complaint");
}

#[test]
fn the_state_round_trips_through_json() {
    let story = resolved().then(
        reporter(),
        ComplaintAction::RateResolution {
            stars: 4,
            comment: None,
        },
    );
    let json = serde_json::to_string(&story.complaint).unwrap();
    let back: Complaint = serde_json::from_str(&json).unwrap();
    assert_eq!(back, story.complaint);
}

/// One action of each kind, valid enough to reach the permission check.
fn one_of_each() -> Vec<ComplaintAction> {
    vec![
        file_action(),
        ComplaintAction::Triage {
            priority: Priority::P3,
            category: None,
        },
        ComplaintAction::Assign {
            assignee: uid("plumber"),
        },
        ComplaintAction::StartWork,
        ComplaintAction::PutOnHold {
            reason: "parts".to_owned(),
            until: None,
        },
        ComplaintAction::ResumeWork,
        ComplaintAction::AddComment {
            comment_id: comment_id(1),
            body: "hello".to_owned(),
            visibility: Visibility::Public,
        },
        ComplaintAction::Resolve {
            note: "done".to_owned(),
            after_photos: vec![],
        },
        ComplaintAction::ConfirmResolution,
        ComplaintAction::DisputeResolution {
            reason: "no".to_owned(),
        },
        ComplaintAction::Close { reason: None },
        ComplaintAction::Reject {
            reason: "no".to_owned(),
        },
        ComplaintAction::Withdraw { reason: None },
        ComplaintAction::RateResolution {
            stars: 5,
            comment: None,
        },
        after_photo(1),
        ComplaintAction::RecordThumbnail {
            photo_id: photo_id(1),
            thumbnails: vec![],
        },
        ComplaintAction::RecordThumbnailFailure {
            photo_id: photo_id(1),
            reason: "x".to_owned(),
        },
    ]
}

#[test]
fn an_auditor_changes_nothing_in_any_status() {
    for (status, story) in every_status() {
        for action in one_of_each() {
            let kind = action.kind();
            let result = story.when(auditor(), action);
            let expected = match kind {
                ActionKind::File => ComplaintError::AlreadyFiled,
                _ => forbidden(&auditor(), kind),
            };
            assert_eq!(result, Err(expected), "{status} {kind}");
        }
    }
}
