//! Confirmation, dispute, closing and rejection rules.

use chrono::TimeDelta;

use super::fixtures::*;
use crate::complaint::*;

fn dispute() -> ComplaintAction {
    ComplaintAction::DisputeResolution {
        reason: "Still dripping".to_owned(),
    }
}

fn reject() -> ComplaintAction {
    ComplaintAction::Reject {
        reason: "Duplicate".to_owned(),
    }
}

#[test]
fn the_reporter_confirms_a_resolution_and_the_complaint_closes() {
    let story = resolved();
    let events = story
        .when(reporter(), ComplaintAction::ConfirmResolution)
        .unwrap();
    assert_eq!(
        events,
        vec![
            ComplaintEvent::ResolutionConfirmed {
                by: uid("res-1"),
                at: t(6)
            },
            ComplaintEvent::ComplaintClosed {
                reason: None,
                by: uid("res-1"),
                at: t(6)
            },
        ]
    );
    assert_eq!(closed().state().status(), Status::Closed);
}

#[test]
fn only_the_reporter_confirms_or_disputes() {
    let story = resolved();
    for action in [ComplaintAction::ConfirmResolution, dispute()] {
        let kind = action.kind();
        assert_eq!(
            story.when(other_resident(), action.clone()),
            Err(ComplaintError::NotReporter)
        );
        for by in [plumber(), warden(), admin(), auditor(), service()] {
            assert_eq!(
                story.when(by.clone(), action.clone()),
                Err(forbidden(&by, kind))
            );
        }
    }
}

#[test]
fn confirmation_and_dispute_need_a_resolved_complaint() {
    for (status, story) in every_status() {
        for action in [ComplaintAction::ConfirmResolution, dispute()] {
            let kind = action.kind();
            let result = story.when(reporter(), action);
            match status {
                Status::Resolved => assert!(result.is_ok()),
                _ => assert_eq!(result, Err(invalid(kind, status))),
            }
        }
    }
}

#[test]
fn a_dispute_within_the_window_reopens_the_complaint() {
    let story = resolved();
    let resolved_at = story.state().resolution().unwrap().at;
    let last_moment = resolved_at + TimeDelta::days(7);
    let events = story.when_at(reporter(), last_moment, dispute()).unwrap();
    assert_eq!(
        events,
        vec![
            ComplaintEvent::ResolutionDisputed {
                reason: "Still dripping".to_owned(),
                by: uid("res-1"),
                at: last_moment,
            },
            ComplaintEvent::ComplaintReopened {
                by: uid("res-1"),
                at: last_moment
            },
        ]
    );
    let story = reopened();
    assert_eq!(story.state().status(), Status::Reopened);
    assert!(story.state().resolution().is_none());
    assert_eq!(story.state().disputes().len(), 1);
}

#[test]
fn a_dispute_after_the_window_is_refused() {
    let story = resolved();
    let too_late =
        story.state().resolution().unwrap().at + TimeDelta::days(7) + TimeDelta::seconds(1);
    assert_eq!(
        story.when_at(reporter(), too_late, dispute()),
        Err(ComplaintError::DisputeWindowClosed { days: 7 })
    );
    let mut wide = facts();
    wide.policy.dispute_window_days = 30;
    let result = story.complaint.decide(ComplaintCommand {
        by: reporter(),
        at: too_late,
        hostel: wide,
        action: dispute(),
    });
    assert!(result.is_ok());
}

#[test]
fn a_dispute_needs_a_reason() {
    let blank = ComplaintAction::DisputeResolution {
        reason: "".to_owned(),
    };
    assert_eq!(
        resolved().when(reporter(), blank),
        Err(ComplaintError::InvalidText {
            field: TextField::Reason
        })
    );
}

#[test]
fn wardens_and_admins_close_any_open_complaint() {
    let close = ComplaintAction::Close {
        reason: Some("Handled offline".to_owned()),
    };
    for (status, story) in every_status() {
        for by in [warden(), admin()] {
            let result = story.when(by, close.clone());
            if status.is_terminal() {
                assert_eq!(result, Err(invalid(ActionKind::Close, status)));
            } else {
                assert!(result.is_ok(), "{status}");
            }
        }
    }
    let story = filed();
    for by in [
        reporter(),
        other_resident(),
        plumber(),
        auditor(),
        service(),
    ] {
        assert_eq!(
            story.when(by.clone(), close.clone()),
            Err(forbidden(&by, ActionKind::Close))
        );
    }
    assert_eq!(
        story.when(far_warden(), close),
        Err(ComplaintError::OutOfScope)
    );
    let ended = closed_unresolved();
    assert_eq!(ended.state().status(), Status::Closed);
    assert_eq!(
        ended.state().outcome().map(|o| o.by.clone()),
        Some(uid("warden"))
    );
}

#[test]
fn wardens_and_admins_reject_before_work_starts() {
    for (status, story) in every_status() {
        let result = story.when(admin(), reject());
        match status {
            Status::Filed | Status::Triaged | Status::Assigned => {
                assert!(result.is_ok(), "{status}")
            }
            _ => assert_eq!(result, Err(invalid(ActionKind::Reject, status))),
        }
    }
    let story = filed();
    for by in [reporter(), plumber(), auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), reject()),
            Err(forbidden(&by, ActionKind::Reject))
        );
    }
    let blank = ComplaintAction::Reject {
        reason: " ".to_owned(),
    };
    assert_eq!(
        story.when(warden(), blank),
        Err(ComplaintError::InvalidText {
            field: TextField::Reason
        })
    );
    let ended = rejected();
    assert_eq!(ended.state().status(), Status::Rejected);
    assert_eq!(
        ended.state().outcome().and_then(|o| o.reason.clone()),
        Some("Not a maintenance issue".to_owned())
    );
}

#[test]
fn terminal_complaints_refuse_every_state_change() {
    for story in [closed(), rejected(), withdrawn()] {
        let status = story.state().status();
        assert_eq!(
            story.when(warden(), ComplaintAction::Close { reason: None }),
            Err(invalid(ActionKind::Close, status))
        );
        assert_eq!(
            story.when(
                warden(),
                ComplaintAction::Assign {
                    assignee: uid("plumber")
                }
            ),
            Err(invalid(ActionKind::Assign, status))
        );
    }
}
