//! Assignment, start, hold, resume and resolution rules.

use super::fixtures::*;
use crate::actor::Actor;
use crate::complaint::*;

fn assign(to: &str) -> ComplaintAction {
    ComplaintAction::Assign { assignee: uid(to) }
}

fn hold() -> ComplaintAction {
    ComplaintAction::PutOnHold {
        reason: "waiting for parts".to_owned(),
        until: None,
    }
}

fn resolve(photos: Vec<crate::ids::PhotoId>) -> ComplaintAction {
    ComplaintAction::Resolve {
        note: "Fixed it.".to_owned(),
        after_photos: photos,
    }
}

#[test]
fn wardens_and_admins_assign_a_skilled_staff_member() {
    let story = triaged();
    for by in [warden(), admin()] {
        let events = story.when(by.clone(), assign("plumber")).unwrap();
        assert_eq!(
            events,
            vec![ComplaintEvent::Assigned {
                assignee: uid("plumber"),
                previous: None,
                by: by.id.clone(),
                at: t(3),
            }]
        );
    }
    assert!(story.when(warden(), assign("warden")).is_ok());
}

#[test]
fn other_roles_may_not_assign() {
    let story = triaged();
    for by in [reporter(), other_resident(), auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), assign("plumber")),
            Err(forbidden(&by, ActionKind::Assign))
        );
    }
    assert_eq!(
        story.when(plumber(), assign("warden")),
        Err(forbidden(&plumber(), ActionKind::Assign))
    );
    assert_eq!(
        story.when(far_warden(), assign("plumber")),
        Err(ComplaintError::OutOfScope)
    );
}

#[test]
fn staff_may_assign_themselves_only_when_the_policy_allows_it() {
    let story = triaged();
    assert_eq!(
        story.when(plumber(), assign("plumber")),
        Err(ComplaintError::SelfAssignmentNotAllowed)
    );
    let allowed = story.complaint.decide(ComplaintCommand {
        by: plumber(),
        at: t(9),
        hostel: facts_with_self_assignment(),
        action: assign("plumber"),
    });
    assert!(allowed.is_ok());
    let unskilled = story.complaint.decide(ComplaintCommand {
        by: sparky(),
        at: t(9),
        hostel: facts_with_self_assignment(),
        action: assign("sparky"),
    });
    assert_eq!(
        unskilled,
        Err(ComplaintError::AssigneeLacksSkill {
            assignee: uid("sparky"),
            category: cat("plumbing")
        })
    );
}

#[test]
fn the_assignee_must_be_hostel_staff_with_the_category_skill() {
    let story = triaged();
    assert_eq!(
        story.when(warden(), assign("res-2")),
        Err(ComplaintError::AssigneeNotStaff {
            assignee: uid("res-2")
        })
    );
    assert_eq!(
        story.when(warden(), assign("sparky")),
        Err(ComplaintError::AssigneeLacksSkill {
            assignee: uid("sparky"),
            category: cat("plumbing")
        })
    );
}

#[test]
fn assignment_is_allowed_from_triaged_reopened_and_as_reassignment_during_work() {
    for (status, story) in every_status() {
        let result = story.when(warden(), assign("warden"));
        match status {
            Status::Triaged
            | Status::Reopened
            | Status::Assigned
            | Status::InProgress
            | Status::OnHold => {
                assert!(result.is_ok(), "{status}")
            }
            _ => assert_eq!(result, Err(invalid(ActionKind::Assign, status))),
        }
    }
}

#[test]
fn reassignment_records_the_previous_assignee_and_returns_to_assigned() {
    let story = on_hold().then(warden(), assign("warden"));
    let state = story.state();
    assert_eq!(state.status(), Status::Assigned);
    assert_eq!(state.assignee(), Some(&uid("warden")));
    assert!(state.hold().is_none());
    let history: Vec<_> = state
        .assignments()
        .iter()
        .map(|a| a.assignee.clone())
        .collect();
    assert_eq!(history, vec![uid("plumber"), uid("warden")]);
    assert!(matches!(
        story.events.last(),
        Some(ComplaintEvent::Assigned { previous: Some(p), .. }) if p == &uid("plumber")
    ));
}

#[test]
fn assigning_the_current_assignee_again_is_refused_but_allowed_after_reopening() {
    assert_eq!(
        in_progress().when(warden(), assign("plumber")),
        Err(ComplaintError::AlreadyAssigned {
            assignee: uid("plumber")
        })
    );
    assert!(reopened().when(warden(), assign("plumber")).is_ok());
}

#[test]
fn only_the_assignee_starts_work_from_assigned_or_reopened() {
    let story = assigned();
    assert_eq!(
        story.when(plumber(), ComplaintAction::StartWork).unwrap(),
        vec![ComplaintEvent::WorkStarted {
            by: uid("plumber"),
            at: t(4)
        }]
    );
    for by in [sparky(), warden(), admin()] {
        assert_eq!(
            story.when(by, ComplaintAction::StartWork),
            Err(ComplaintError::NotAssignee)
        );
    }
    for by in [reporter(), auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), ComplaintAction::StartWork),
            Err(forbidden(&by, ActionKind::StartWork))
        );
    }
    for (status, story) in every_status() {
        let result = story.when(plumber(), ComplaintAction::StartWork);
        match status {
            Status::Assigned | Status::Reopened => assert!(result.is_ok(), "{status}"),
            Status::Filed | Status::Triaged => assert_eq!(result, Err(ComplaintError::NotAssignee)),
            Status::Rejected | Status::Withdrawn => {
                assert_eq!(result, Err(ComplaintError::NotAssignee))
            }
            _ => assert_eq!(result, Err(invalid(ActionKind::StartWork, status))),
        }
    }
}

#[test]
fn the_assignee_or_a_warden_puts_work_on_hold_and_resumes_it() {
    let story = in_progress();
    for by in [plumber(), warden(), admin()] {
        assert!(story.when(by, hold()).is_ok());
    }
    assert_eq!(
        story.when(sparky(), hold()),
        Err(ComplaintError::NotAssignee)
    );
    for by in [reporter(), auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), hold()),
            Err(forbidden(&by, ActionKind::PutOnHold))
        );
    }
    let paused = story.then(warden(), hold());
    assert_eq!(paused.state().status(), Status::OnHold);
    assert_eq!(
        paused.state().hold().map(|h| h.reason.as_str()),
        Some("waiting for parts")
    );
    assert_eq!(
        paused.when(sparky(), ComplaintAction::ResumeWork),
        Err(ComplaintError::NotAssignee)
    );
    let resumed = paused.then(plumber(), ComplaintAction::ResumeWork);
    assert_eq!(resumed.state().status(), Status::InProgress);
    assert!(resumed.state().hold().is_none());
}

#[test]
fn hold_needs_a_reason_and_a_future_end() {
    let story = in_progress();
    let blank = ComplaintAction::PutOnHold {
        reason: " ".to_owned(),
        until: None,
    };
    assert_eq!(
        story.when(plumber(), blank),
        Err(ComplaintError::InvalidText {
            field: TextField::Reason
        })
    );
    let past = ComplaintAction::PutOnHold {
        reason: "parts".to_owned(),
        until: Some(t(0)),
    };
    assert_eq!(
        story.when(plumber(), past),
        Err(ComplaintError::InvalidHoldUntil)
    );
    let future = ComplaintAction::PutOnHold {
        reason: "parts".to_owned(),
        until: Some(t(600)),
    };
    assert!(story.when(plumber(), future).is_ok());
}

#[test]
fn hold_is_only_from_in_progress_and_resume_only_from_on_hold() {
    for (status, story) in every_status() {
        let held = story.when(warden(), hold());
        let resumed = story.when(warden(), ComplaintAction::ResumeWork);
        match status {
            Status::InProgress => assert!(held.is_ok()),
            _ => assert_eq!(held, Err(invalid(ActionKind::PutOnHold, status))),
        }
        match status {
            Status::OnHold => assert!(resumed.is_ok()),
            _ => assert_eq!(resumed, Err(invalid(ActionKind::ResumeWork, status))),
        }
    }
}

#[test]
fn only_the_assignee_resolves_work_in_progress() {
    let story = in_progress();
    for by in [sparky(), warden(), admin()] {
        assert_eq!(
            story.when(by, resolve(vec![])),
            Err(ComplaintError::NotAssignee)
        );
    }
    for by in [reporter(), auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), resolve(vec![])),
            Err(forbidden(&by, ActionKind::Resolve))
        );
    }
    let done = story.then(plumber(), resolve(vec![]));
    assert_eq!(done.state().status(), Status::Resolved);
    assert_eq!(
        done.state().resolution().map(|r| r.note.as_str()),
        Some("Fixed it.")
    );
    for (status, story) in every_status() {
        let result = story.when(plumber(), resolve(vec![]));
        match status {
            Status::InProgress => assert!(result.is_ok()),
            Status::Filed | Status::Triaged | Status::Rejected | Status::Withdrawn => {
                assert_eq!(result, Err(ComplaintError::NotAssignee))
            }
            _ => assert_eq!(result, Err(invalid(ActionKind::Resolve, status))),
        }
    }
}

#[test]
fn a_resolution_needs_a_note_and_after_photos_only() {
    let assignee: Actor = plumber();
    let story = in_progress()
        .then(assignee.clone(), after_photo(1))
        .then(assignee.clone(), photo(2, PhotoRole::Before));
    let blank = ComplaintAction::Resolve {
        note: "".to_owned(),
        after_photos: vec![],
    };
    assert_eq!(
        story.when(assignee.clone(), blank),
        Err(ComplaintError::InvalidText {
            field: TextField::Note
        })
    );
    assert_eq!(
        story.when(assignee.clone(), resolve(vec![photo_id(9)])),
        Err(ComplaintError::UnknownPhoto {
            photo_id: photo_id(9)
        })
    );
    assert_eq!(
        story.when(assignee.clone(), resolve(vec![photo_id(2)])),
        Err(ComplaintError::PhotoNotAfter {
            photo_id: photo_id(2)
        })
    );
    let events = story
        .when(assignee, resolve(vec![photo_id(1), photo_id(1)]))
        .unwrap();
    assert!(matches!(
        &events[..],
        [ComplaintEvent::Resolved { after_photos, .. }] if after_photos == &vec![photo_id(1)]
    ));
}

#[test]
fn self_assignment_never_takes_a_complaint_from_a_colleague() {
    let mut hostel = facts_with_self_assignment();
    let second = member("plumber-2", crate::hostel::StaffRole::Staff, &["plumbing"]);
    hostel.staff.insert(second.id.clone(), second);
    let colleague = Actor::new(
        uid("plumber-2"),
        crate::actor::Role::Staff,
        crate::actor::HostelScope::one(north()),
    );
    for story in [assigned(), in_progress(), on_hold(), reopened()] {
        let taken = story.complaint.decide(ComplaintCommand {
            by: colleague.clone(),
            at: t(20),
            hostel: hostel.clone(),
            action: assign("plumber-2"),
        });
        assert_eq!(
            taken,
            Err(ComplaintError::AlreadyAssigned {
                assignee: uid("plumber")
            })
        );
    }
    let reassigned_by_warden = assigned().complaint.decide(ComplaintCommand {
        by: warden(),
        at: t(20),
        hostel,
        action: assign("plumber-2"),
    });
    assert!(reassigned_by_warden.is_ok());
}
