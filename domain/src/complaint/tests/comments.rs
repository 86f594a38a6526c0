//! Comment rules.

use super::fixtures::*;
use crate::complaint::*;

fn comment(n: u128, visibility: Visibility) -> ComplaintAction {
    ComplaintAction::AddComment {
        comment_id: comment_id(n),
        body: " Any news? ".to_owned(),
        visibility,
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
