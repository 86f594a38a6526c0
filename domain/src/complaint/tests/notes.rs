//! Comment and rating rules.

use super::fixtures::*;
use crate::complaint::*;

fn comment(n: u128, visibility: Visibility) -> ComplaintAction {
    ComplaintAction::AddComment {
        comment_id: comment_id(n),
        body: " Any news? ".to_owned(),
        visibility,
    }
}

fn rate(stars: u8) -> ComplaintAction {
    ComplaintAction::RateResolution {
        stars,
        comment: Some("Quick fix".to_owned()),
    }
}

#[test]
fn the_reporter_adds_public_comments_only() {
    let story = filed();
    let events = story
        .when(reporter(), comment(1, Visibility::Public))
        .unwrap();
    assert_eq!(
        events,
        vec![ComplaintEvent::CommentAdded {
            comment_id: comment_id(1),
            body: "Any news?".to_owned(),
            visibility: Visibility::Public,
            by: uid("res-1"),
            at: t(2),
        }]
    );
    assert_eq!(
        story.when(reporter(), comment(1, Visibility::Internal)),
        Err(ComplaintError::InternalCommentNotAllowed)
    );
}

#[test]
fn another_resident_may_not_comment() {
    assert_eq!(
        filed().when(other_resident(), comment(1, Visibility::Public)),
        Err(ComplaintError::NotReporter)
    );
}

#[test]
fn staff_wardens_and_admins_add_public_and_internal_comments() {
    let story = filed();
    for by in [plumber(), sparky(), warden(), admin()] {
        for visibility in [Visibility::Public, Visibility::Internal] {
            assert!(story.when(by.clone(), comment(1, visibility)).is_ok());
        }
    }
    for by in [auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), comment(1, Visibility::Public)),
            Err(forbidden(&by, ActionKind::AddComment))
        );
    }
    assert_eq!(
        story.when(far_warden(), comment(1, Visibility::Public)),
        Err(ComplaintError::OutOfScope)
    );
}

#[test]
fn comments_are_allowed_on_open_and_closed_complaints_only() {
    for (status, story) in every_status() {
        let result = story.when(warden(), comment(1, Visibility::Internal));
        match status {
            Status::Rejected | Status::Withdrawn => {
                assert_eq!(result, Err(invalid(ActionKind::AddComment, status)))
            }
            _ => assert!(result.is_ok(), "{status}"),
        }
    }
}

#[test]
fn a_comment_needs_a_body_of_at_most_4000_chars() {
    let story = filed();
    for body in ["  ".to_owned(), "b".repeat(4001)] {
        let action = ComplaintAction::AddComment {
            comment_id: comment_id(1),
            body,
            visibility: Visibility::Public,
        };
        assert_eq!(
            story.when(reporter(), action),
            Err(ComplaintError::InvalidText {
                field: TextField::Body
            })
        );
    }
}

#[test]
fn repeating_a_comment_id_adds_nothing() {
    let story = filed().then(warden(), comment(1, Visibility::Internal));
    assert_eq!(story.state().comments().len(), 1);
    assert_eq!(
        story.when(warden(), comment(1, Visibility::Internal)),
        Ok(vec![])
    );
    assert_eq!(
        story
            .then(warden(), comment(2, Visibility::Public))
            .state()
            .comments()
            .len(),
        2
    );
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

#[test]
fn an_internal_comment_does_not_move_updated_at_and_a_public_one_does() {
    let filed = filed();
    let filed_at = filed.state().updated_at();

    let noted = filed.then(warden(), comment(1, Visibility::Internal));
    assert_eq!(
        noted.state().updated_at(),
        filed_at,
        "the reporter must not learn that an internal note was written"
    );

    let answered = noted.then(warden(), comment(2, Visibility::Public));
    assert_eq!(answered.state().updated_at(), t(answered.clock));
    assert!(answered.state().updated_at() > filed_at);
}
