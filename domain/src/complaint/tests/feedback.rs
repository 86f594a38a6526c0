//! Confirmation, dispute and rating rules.

use chrono::TimeDelta;

use super::fixtures::*;
use crate::complaint::*;

fn dispute() -> ComplaintAction {
    ComplaintAction::DisputeResolution {
        reason: "Still dripping".to_owned(),
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
            ComplaintEvent::Closed {
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
            ComplaintEvent::Reopened {
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

fn rate(stars: u8) -> ComplaintAction {
    ComplaintAction::RateResolution {
        stars,
        comment: Some("Quick fix".to_owned()),
    }
}

#[test]
fn the_reporter_rates_a_resolution_once() {
    let story = resolved();
    assert_eq!(
        story.when(reporter(), rate(5)).unwrap(),
        vec![ComplaintEvent::ResolutionRated {
            stars: 5,
            comment: Some("Quick fix".to_owned()),
            by: uid("res-1"),
            at: t(6),
        }]
    );
    let rated = story.then(reporter(), rate(4));
    assert_eq!(rated.state().rating().map(|r| r.stars), Some(4));
    assert_eq!(
        rated.when(reporter(), rate(5)),
        Err(ComplaintError::AlreadyRated)
    );
}

#[test]
fn a_rating_is_one_to_five_stars() {
    let story = resolved();
    for stars in [0, 6, 255] {
        assert_eq!(
            story.when(reporter(), rate(stars)),
            Err(ComplaintError::InvalidRating { stars })
        );
    }
    let blank = ComplaintAction::RateResolution {
        stars: 3,
        comment: Some(" ".to_owned()),
    };
    assert_eq!(
        story.when(reporter(), blank),
        Err(ComplaintError::InvalidText {
            field: TextField::Comment
        })
    );
}

#[test]
fn only_the_reporter_rates() {
    let story = resolved();
    assert_eq!(
        story.when(other_resident(), rate(5)),
        Err(ComplaintError::NotReporter)
    );
    for by in [plumber(), warden(), admin(), auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), rate(5)),
            Err(forbidden(&by, ActionKind::RateResolution))
        );
    }
}

#[test]
fn rating_needs_a_resolution_resolved_or_closed_after_it() {
    for (status, story) in every_status() {
        let result = story.when(reporter(), rate(3));
        match status {
            Status::Resolved | Status::Closed => assert!(result.is_ok(), "{status}"),
            _ => assert_eq!(result, Err(invalid(ActionKind::RateResolution, status))),
        }
    }
    assert_eq!(
        closed_unresolved().when(reporter(), rate(3)),
        Err(invalid(ActionKind::RateResolution, Status::Closed))
    );
}
