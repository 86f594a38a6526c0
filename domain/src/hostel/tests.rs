//! Given/when/then tests of the Hostel rules: registration by admins, catalogue and staff changes by
//! admins or in-scope wardens, policy bounds, and the facts handed to complaint commands.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::*;
use crate::actor::{Actor, HostelScope, Role};
use crate::ids::{UserId, WingId};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

fn north() -> HostelId {
    HostelId::parse("north").unwrap()
}

fn cat(id: &str) -> CategoryId {
    CategoryId::parse(id).unwrap()
}

fn category(id: &str) -> Category {
    Category {
        id: cat(id),
        name: format!("{id} works"),
    }
}

fn actor(id: &str, role: Role, scope: HostelScope) -> Actor {
    Actor::new(UserId::parse(id).unwrap(), role, scope)
}

fn admin() -> Actor {
    actor("admin", Role::Admin, HostelScope::All)
}

fn warden() -> Actor {
    actor("warden", Role::Warden, HostelScope::one(north()))
}

fn far_warden() -> Actor {
    actor(
        "warden-s",
        Role::Warden,
        HostelScope::one(HostelId::parse("south").unwrap()),
    )
}

fn others() -> Vec<Actor> {
    vec![
        actor("res", Role::Resident, HostelScope::one(north())),
        actor("staff", Role::Staff, HostelScope::one(north())),
        actor("aud", Role::Auditor, HostelScope::All),
        actor("bot", Role::Service, HostelScope::All),
    ]
}

fn register(by: Actor) -> HostelCommand {
    HostelCommand::RegisterHostel {
        by,
        at: at(),
        id: north(),
        name: " North Hall ".to_owned(),
        wings: vec![WingId::parse("A").unwrap(), WingId::parse("B").unwrap()],
        room_pattern: "[AB]-[0-9]{3}".to_owned(),
        categories: vec![category("plumbing"), category("electrical")],
    }
}

fn registered() -> Hostel {
    run(Hostel::default(), register(admin()))
}

fn run(mut hostel: Hostel, command: HostelCommand) -> Hostel {
    for event in hostel.decide(command).unwrap() {
        hostel.apply(event);
    }
    hostel
}

fn plumber(skills: &[&str]) -> StaffMember {
    StaffMember {
        id: UserId::parse("plumber").unwrap(),
        name: "Pat Plumber".to_owned(),
        skills: skills.iter().map(|s| cat(s)).collect::<BTreeSet<_>>(),
        role: StaffRole::Staff,
    }
}

fn add_staff(by: Actor, member: StaffMember) -> HostelCommand {
    HostelCommand::AddStaffMember {
        by,
        at: at(),
        member,
    }
}

fn retire(by: Actor, id: &str) -> HostelCommand {
    HostelCommand::RetireCategory {
        by,
        at: at(),
        category: cat(id),
    }
}

fn policy(by: Actor, days: u32) -> HostelCommand {
    HostelCommand::SetPolicy {
        by,
        at: at(),
        policy: HostelPolicy {
            self_assignment_allowed: true,
            dispute_window_days: days,
        },
    }
}

#[test]
fn an_admin_registers_a_hostel_with_default_policy() {
    TestFramework::<Hostel>::with(())
        .given_no_previous_events()
        .when(register(admin()))
        .then_expect_events(vec![HostelEvent::Registered {
            id: north(),
            name: "North Hall".to_owned(),
            wings: vec![WingId::parse("A").unwrap(), WingId::parse("B").unwrap()],
            room_pattern: "[AB]-[0-9]{3}".to_owned(),
            categories: vec![category("plumbing"), category("electrical")],
            by: UserId::parse("admin").unwrap(),
            at: at(),
        }]);
    let hostel = registered();
    let facts = hostel.facts().unwrap();
    assert_eq!(
        facts.policy,
        HostelPolicy {
            self_assignment_allowed: false,
            dispute_window_days: 7
        }
    );
    assert_eq!(hostel.name(), Some("North Hall"));
    assert_eq!(hostel.registered_at(), Some(at()));
    assert_eq!(Hostel::TYPE, "Hostel");
}

#[test]
fn only_admins_register_hostels() {
    for by in others().into_iter().chain([warden()]) {
        let role = by.role;
        assert_eq!(
            Hostel::default().decide(register(by)),
            Err(HostelError::NotPermitted { role })
        );
    }
}

#[test]
fn a_hostel_is_registered_once() {
    assert_eq!(
        registered().decide(register(admin())),
        Err(HostelError::AlreadyRegistered)
    );
}

#[test]
fn facts_are_absent_before_registration() {
    assert_eq!(Hostel::default().facts(), None);
    assert!(!Hostel::default().is_registered());
}

fn register_with(
    edit: impl FnOnce(&mut String, &mut Vec<WingId>, &mut String, &mut Vec<Category>),
) -> HostelCommand {
    let mut command = register(admin());
    if let HostelCommand::RegisterHostel {
        name,
        wings,
        room_pattern,
        categories,
        ..
    } = &mut command
    {
        edit(name, wings, room_pattern, categories);
    }
    command
}

#[test]
fn registration_validates_name_wings_pattern_and_categories() {
    let cases = [
        (
            register_with(|n, _, _, _| *n = "  ".to_owned()),
            HostelError::InvalidName,
        ),
        (
            register_with(|n, _, _, _| *n = "n".repeat(121)),
            HostelError::InvalidName,
        ),
        (
            register_with(|_, w, _, _| w.push(WingId::parse("A").unwrap())),
            HostelError::DuplicateWing {
                wing: WingId::parse("A").unwrap(),
            },
        ),
        (
            register_with(|_, _, _, c| c.clear()),
            HostelError::NoCategories,
        ),
        (
            register_with(|_, _, _, c| c.push(category("plumbing"))),
            HostelError::DuplicateCategory {
                category: cat("plumbing"),
            },
        ),
        (
            register_with(|_, _, _, c| c[0].name = " ".to_owned()),
            HostelError::InvalidCategoryName,
        ),
    ];
    for (command, error) in cases {
        assert_eq!(Hostel::default().decide(command), Err(error));
    }
}

#[test]
fn the_room_pattern_must_compile_and_be_short() {
    for pattern in ["(", "", &"a".repeat(201), "[a-z]{1000}{1000}"] {
        let command = register_with(|_, _, p, _| *p = pattern.to_owned());
        assert!(
            matches!(
                Hostel::default().decide(command),
                Err(HostelError::InvalidRoomPattern { .. })
            ),
            "{pattern}"
        );
    }
}

#[test]
fn check_room_matches_the_whole_room_string() {
    let facts = registered().facts().unwrap();
    assert!(facts.check_room("A-101"));
    assert!(!facts.check_room("A-1011"));
    assert!(!facts.check_room("xA-101"));
    let alternation = HostelFacts {
        room_pattern: "A-1|B-2".to_owned(),
        ..facts
    };
    assert!(alternation.check_room("B-2"));
    assert!(!alternation.check_room("A-12"));
}

#[test]
fn admins_and_in_scope_wardens_manage_the_catalogue() {
    let hostel = registered();
    for by in [admin(), warden()] {
        let command = HostelCommand::AddCategory {
            by: by.clone(),
            at: at(),
            category: category("carpentry"),
        };
        let updated = run(hostel.clone(), command);
        assert!(updated.facts().unwrap().has_category(&cat("carpentry")));
        assert!(!run(updated, retire(by, "carpentry"))
            .facts()
            .unwrap()
            .has_category(&cat("carpentry")));
    }
    assert_eq!(
        hostel.decide(retire(far_warden(), "plumbing")),
        Err(HostelError::OutOfScope)
    );
    for by in others() {
        let role = by.role;
        assert_eq!(
            hostel.decide(retire(by, "plumbing")),
            Err(HostelError::NotPermitted { role })
        );
    }
}

#[test]
fn changes_before_registration_are_refused() {
    assert_eq!(
        Hostel::default().decide(retire(admin(), "plumbing")),
        Err(HostelError::NotRegistered)
    );
}

#[test]
fn catalogue_changes_check_existence_and_keep_one_category() {
    let hostel = registered();
    let duplicate = HostelCommand::AddCategory {
        by: admin(),
        at: at(),
        category: category("plumbing"),
    };
    assert_eq!(
        hostel.decide(duplicate),
        Err(HostelError::DuplicateCategory {
            category: cat("plumbing")
        })
    );
    assert_eq!(
        hostel.decide(retire(admin(), "carpentry")),
        Err(HostelError::UnknownCategory {
            category: cat("carpentry")
        })
    );
    let one_left = run(hostel, retire(admin(), "electrical"));
    assert_eq!(
        one_left.decide(retire(admin(), "electrical")),
        Err(HostelError::CategoryRetired {
            category: cat("electrical")
        })
    );
    assert_eq!(
        one_left.decide(retire(admin(), "plumbing")),
        Err(HostelError::LastActiveCategory {
            category: cat("plumbing")
        })
    );
    assert_eq!(one_left.retired_categories(), &[category("electrical")]);
    let restored = run(
        one_left,
        HostelCommand::AddCategory {
            by: admin(),
            at: at(),
            category: category("electrical"),
        },
    );
    assert!(restored.facts().unwrap().has_category(&cat("electrical")));
    assert!(restored.retired_categories().is_empty());
}

#[test]
fn staff_members_need_active_skills_and_unique_ids() {
    let hostel = registered();
    let added = run(hostel.clone(), add_staff(warden(), plumber(&["plumbing"])));
    let facts = added.facts().unwrap();
    assert!(facts
        .staff_member(&UserId::parse("plumber").unwrap())
        .unwrap()
        .has_skill(&cat("plumbing")));
    assert_eq!(
        added.decide(add_staff(admin(), plumber(&[]))),
        Err(HostelError::DuplicateStaffMember {
            id: UserId::parse("plumber").unwrap()
        })
    );
    assert_eq!(
        hostel.decide(add_staff(admin(), plumber(&["carpentry"]))),
        Err(HostelError::UnknownCategory {
            category: cat("carpentry")
        })
    );
    let retired = run(hostel.clone(), retire(admin(), "electrical"));
    assert_eq!(
        retired.decide(add_staff(admin(), plumber(&["electrical"]))),
        Err(HostelError::CategoryRetired {
            category: cat("electrical")
        })
    );
    let mut nameless = plumber(&[]);
    nameless.name = String::new();
    assert_eq!(
        hostel.decide(add_staff(admin(), nameless)),
        Err(HostelError::InvalidStaffName)
    );
    assert_eq!(
        hostel.decide(add_staff(far_warden(), plumber(&[]))),
        Err(HostelError::OutOfScope)
    );
}

#[test]
fn staff_members_are_removed_by_id() {
    let added = run(registered(), add_staff(admin(), plumber(&["plumbing"])));
    let remove = |by| HostelCommand::RemoveStaffMember {
        by,
        at: at(),
        id: UserId::parse("plumber").unwrap(),
    };
    let removed = run(added.clone(), remove(warden()));
    assert_eq!(removed.staff().count(), 0);
    assert_eq!(
        removed.decide(remove(admin())),
        Err(HostelError::UnknownStaffMember {
            id: UserId::parse("plumber").unwrap()
        })
    );
    for by in others() {
        let role = by.role;
        assert_eq!(
            added.decide(remove(by)),
            Err(HostelError::NotPermitted { role })
        );
    }
}

#[test]
fn the_dispute_window_is_one_to_ninety_days() {
    let hostel = registered();
    for days in [1, 90] {
        let updated = run(hostel.clone(), policy(warden(), days));
        assert_eq!(updated.policy().map(|p| p.dispute_window_days), Some(days));
    }
    for days in [0, 91] {
        assert_eq!(
            hostel.decide(policy(admin(), days)),
            Err(HostelError::InvalidPolicy {
                dispute_window_days: days
            })
        );
    }
    for by in others() {
        let role = by.role;
        assert_eq!(
            hostel.decide(policy(by, 7)),
            Err(HostelError::NotPermitted { role })
        );
    }
}

#[test]
fn the_hostel_state_round_trips_through_json() {
    let hostel = run(registered(), add_staff(admin(), plumber(&["plumbing"])));
    let json = serde_json::to_string(&hostel).unwrap();
    assert_eq!(serde_json::from_str::<Hostel>(&json).unwrap(), hostel);
    let facts = hostel.facts().unwrap();
    let json = serde_json::to_string(&facts).unwrap();
    assert_eq!(serde_json::from_str::<HostelFacts>(&json).unwrap(), facts);
}
