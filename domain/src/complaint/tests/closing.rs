//! Closing and rejection rules, and what terminal complaints refuse.

use super::fixtures::*;
use crate::complaint::*;

fn reject() -> ComplaintAction {
    ComplaintAction::Reject {
        reason: "Duplicate".to_owned(),
    }
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
