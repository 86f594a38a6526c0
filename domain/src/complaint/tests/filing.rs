//! Filing, triage and withdrawal rules.

use super::fixtures::*;
use crate::complaint::*;
use crate::ids::WingId;

fn file_with(edit: impl FnOnce(&mut ComplaintAction)) -> ComplaintAction {
    let mut action = file_action();
    edit(&mut action);
    action
}

fn file_by(
    by: crate::actor::Actor,
    action: ComplaintAction,
) -> Result<Vec<ComplaintEvent>, ComplaintError> {
    Complaint::default().decide(command(by, t(0), action))
}

#[test]
fn a_resident_files_a_complaint_for_themselves_with_trimmed_texts() {
    let events = file_by(reporter(), file_action()).unwrap();
    assert_eq!(
        events,
        vec![ComplaintEvent::Filed {
            id: complaint_id(),
            hostel: north(),
            wing: Some(WingId::parse("A").unwrap()),
            room: "A-101".to_owned(),
            category: cat("plumbing"),
            severity: Severity::High,
            title: "Leaking tap".to_owned(),
            description: "The bathroom tap drips all night.".to_owned(),
            reporter: uid("res-1"),
            by: uid("res-1"),
            at: t(0),
        }]
    );
    let story = filed();
    assert_eq!(story.state().status(), Status::Filed);
    assert_eq!(story.state().filed_at(), t(1));
    assert!(story.complaint.is_filed());
}

#[test]
fn the_service_role_files_on_behalf_of_a_resident() {
    let events = file_by(service(), file_action()).unwrap();
    assert!(matches!(
        &events[..],
        [ComplaintEvent::Filed { reporter, by, .. }] if reporter == &uid("res-1") && by == &uid("bot")
    ));
}

#[test]
fn a_resident_cannot_file_for_another_resident() {
    assert_eq!(
        file_by(other_resident(), file_action()),
        Err(ComplaintError::NotReporter)
    );
}

#[test]
fn staff_wardens_admins_and_auditors_cannot_file() {
    for by in [plumber(), warden(), admin(), auditor()] {
        assert_eq!(
            file_by(by.clone(), file_action()),
            Err(forbidden(&by, ActionKind::File))
        );
    }
}

#[test]
fn a_resident_cannot_file_in_a_hostel_outside_their_scope() {
    let mut facts = facts();
    facts.id = south();
    let result = Complaint::default().decide(ComplaintCommand {
        by: reporter(),
        at: t(0),
        hostel: facts,
        action: file_action(),
    });
    assert_eq!(result, Err(ComplaintError::OutOfScope));
}

#[test]
fn the_room_must_match_the_whole_pattern() {
    for room in ["A-1011", "xA-101", "C-101", "", "a-101"] {
        let action = file_with(|a| {
            if let ComplaintAction::File { room: r, .. } = a {
                *r = room.to_owned();
            }
        });
        assert_eq!(
            file_by(reporter(), action),
            Err(ComplaintError::InvalidRoom),
            "{room}"
        );
    }
}

#[test]
fn the_category_must_be_in_the_catalogue() {
    let action = file_with(|a| {
        if let ComplaintAction::File { category, .. } = a {
            *category = cat("carpentry");
        }
    });
    assert_eq!(
        file_by(reporter(), action),
        Err(ComplaintError::UnknownCategory {
            category: cat("carpentry")
        })
    );
}

#[test]
fn the_wing_must_be_a_wing_of_the_hostel_when_given() {
    let unknown = file_with(|a| {
        if let ComplaintAction::File { wing, .. } = a {
            *wing = Some(WingId::parse("Z").unwrap());
        }
    });
    assert_eq!(
        file_by(reporter(), unknown),
        Err(ComplaintError::UnknownWing {
            wing: WingId::parse("Z").unwrap()
        })
    );
    let none = file_with(|a| {
        if let ComplaintAction::File { wing, .. } = a {
            *wing = None;
        }
    });
    assert!(file_by(reporter(), none).is_ok());
}

fn with_title(title: &str) -> ComplaintAction {
    file_with(|a| {
        if let ComplaintAction::File { title: t, .. } = a {
            *t = title.to_owned();
        }
    })
}

fn with_description(text: &str) -> ComplaintAction {
    file_with(|a| {
        if let ComplaintAction::File { description, .. } = a {
            *description = text.to_owned();
        }
    })
}

#[test]
fn the_title_is_3_to_120_chars_after_trimming() {
    for ok in ["abc", "ééé", &"x".repeat(120), "   abc   "] {
        assert!(file_by(reporter(), with_title(ok)).is_ok(), "{ok}");
    }
    for bad in ["ab", "   ab   ", &"x".repeat(121)] {
        assert_eq!(
            file_by(reporter(), with_title(bad)),
            Err(ComplaintError::InvalidTitle)
        );
    }
}

#[test]
fn the_description_is_10_to_4000_chars_after_trimming() {
    assert!(file_by(reporter(), with_description(&"d".repeat(10))).is_ok());
    assert!(file_by(reporter(), with_description(&"d".repeat(4000))).is_ok());
    for bad in [
        "short",
        &format!("  {}  ", "d".repeat(9)),
        &"d".repeat(4001),
    ] {
        assert_eq!(
            file_by(reporter(), with_description(bad)),
            Err(ComplaintError::InvalidDescription)
        );
    }
}

#[test]
fn filing_an_already_filed_complaint_is_refused() {
    assert_eq!(
        filed().when(reporter(), file_action()),
        Err(ComplaintError::AlreadyFiled)
    );
}

#[test]
fn any_other_command_on_an_unfiled_complaint_is_refused() {
    let result = Complaint::default().decide(command(warden(), t(0), ComplaintAction::StartWork));
    assert_eq!(result, Err(ComplaintError::NotFiled));
}

#[test]
fn a_command_carrying_another_hostels_facts_is_refused() {
    let mut facts = facts();
    facts.id = south();
    let result = filed().complaint.decide(ComplaintCommand {
        by: admin(),
        at: t(5),
        hostel: facts,
        action: ComplaintAction::Close { reason: None },
    });
    assert_eq!(
        result,
        Err(ComplaintError::HostelMismatch {
            expected: north(),
            given: south()
        })
    );
}

fn triage(category: Option<&str>) -> ComplaintAction {
    ComplaintAction::Triage {
        priority: Priority::P1,
        category: category.map(cat),
    }
}

#[test]
fn staff_wardens_and_admins_triage_and_others_may_not() {
    let story = filed();
    for by in [plumber(), sparky(), warden(), admin()] {
        assert!(story.when(by, triage(None)).is_ok());
    }
    for by in [reporter(), other_resident(), auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), triage(None)),
            Err(forbidden(&by, ActionKind::Triage))
        );
    }
    assert_eq!(
        story.when(far_warden(), triage(None)),
        Err(ComplaintError::OutOfScope)
    );
}

#[test]
fn triage_may_correct_the_category_and_records_the_previous_one() {
    let story = filed();
    let events = story.when(warden(), triage(Some("electrical"))).unwrap();
    assert_eq!(
        events,
        vec![ComplaintEvent::Triaged {
            priority: Priority::P1,
            category: Some(cat("electrical")),
            previous_category: Some(cat("plumbing")),
            by: uid("warden"),
            at: t(2),
        }]
    );
    let story = story.then(warden(), triage(Some("electrical")));
    assert_eq!(story.state().category(), &cat("electrical"));
    assert_eq!(story.state().priority(), Some(Priority::P1));
}

#[test]
fn triage_with_the_current_category_is_no_correction() {
    let events = filed().when(warden(), triage(Some("plumbing"))).unwrap();
    assert!(matches!(
        &events[..],
        [ComplaintEvent::Triaged {
            category: None,
            previous_category: None,
            ..
        }]
    ));
}

#[test]
fn triage_refuses_a_category_outside_the_catalogue() {
    assert_eq!(
        filed().when(warden(), triage(Some("carpentry"))),
        Err(ComplaintError::UnknownCategory {
            category: cat("carpentry")
        })
    );
}

#[test]
fn triage_is_allowed_only_when_filed_or_triaged() {
    for (status, story) in every_status() {
        let result = story.when(warden(), triage(None));
        match status {
            Status::Filed | Status::Triaged => assert!(result.is_ok(), "{status}"),
            _ => assert_eq!(result, Err(invalid(ActionKind::Triage, status))),
        }
    }
}

#[test]
fn the_reporter_may_withdraw_before_work_starts() {
    let withdraw = ComplaintAction::Withdraw {
        reason: Some(" changed my mind ".to_owned()),
    };
    for (status, story) in every_status() {
        let result = story.when(reporter(), withdraw.clone());
        match status {
            Status::Filed | Status::Triaged | Status::Assigned => assert!(
                matches!(&result.unwrap()[..], [ComplaintEvent::Withdrawn { reason: Some(r), .. }] if r == "changed my mind"),
                "{status}"
            ),
            _ => assert_eq!(result, Err(invalid(ActionKind::Withdraw, status))),
        }
    }
    let story = withdrawn();
    assert_eq!(story.state().status(), Status::Withdrawn);
    assert!(story.state().outcome().is_some());
}

#[test]
fn only_the_reporter_may_withdraw() {
    let withdraw = ComplaintAction::Withdraw { reason: None };
    let story = filed();
    assert_eq!(
        story.when(other_resident(), withdraw.clone()),
        Err(ComplaintError::NotReporter)
    );
    for by in [plumber(), warden(), admin(), auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), withdraw.clone()),
            Err(forbidden(&by, ActionKind::Withdraw))
        );
    }
    let blank = ComplaintAction::Withdraw {
        reason: Some("  ".to_owned()),
    };
    assert_eq!(
        story.when(reporter(), blank),
        Err(ComplaintError::InvalidText {
            field: TextField::Reason
        })
    );
}
