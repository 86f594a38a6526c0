//! Who sees a complaint: `GET /v1/complaints/{id}` for every actor, internal comments hidden from
//! residents, and the 404 that answers a resident reaching for someone else's complaint or staff
//! reaching into another hostel, for the read and for every command alike.

use cms_tests::Backend;
use reqwest::StatusCode;

use super::Stage::{self, Assigned, Closed, Filed, InProgress, OnHold, Resolved, Triaged};
use super::Who::{
    self, Admin, Auditor, ForeignStaff, ForeignWarden, OtherResident, Reporter, Service,
    SkilledStaff, UnskilledStaff, Warden,
};
use super::{run_table, spawn_with_two_hostels, Cmd, COMPLAINT_NOT_FOUND};

/// A stage in which `cmd` is valid for somebody, so a 404 can only come from visibility.
fn stage_for(cmd: Cmd) -> Stage {
    match cmd {
        Cmd::Triage | Cmd::Reject | Cmd::Withdraw => Filed,
        Cmd::Assign(_) => Triaged,
        Cmd::Start => Assigned,
        Cmd::Hold | Cmd::Comment | Cmd::InternalComment | Cmd::Resolve | Cmd::Close => InProgress,
        Cmd::Resume => OnHold,
        Cmd::Confirm | Cmd::Dispute => Resolved,
        Cmd::Rate(_) => Closed,
    }
}

async fn everyone_in_scope_reads_a_complaint_except_other_residents(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let id = InProgress.drive(&app).await;
    let position = app.head().await;
    let mut failures = Vec::new();

    for who in [
        Reporter,
        OtherResident,
        SkilledStaff,
        UnskilledStaff,
        Warden,
        Admin,
        Auditor,
        Service,
        ForeignWarden,
        ForeignStaff,
    ] {
        // Act
        let seen = app
            .get_fresh(&format!("/v1/complaints/{id}"), &who.token(&app))
            .await;

        // Assert
        let hidden = matches!(who, OtherResident | ForeignWarden | ForeignStaff);
        let ok = if hidden {
            seen.status == StatusCode::NOT_FOUND && seen.code() == "complaint_not_found"
        } else {
            seen.status == StatusCode::OK
                && seen.body["id"] == id.as_str()
                && seen.body["status"] == "in_progress"
                && seen.body["assignee"] == "staff-p"
                && seen.position() == position
        };
        if !ok {
            failures.push(format!("{who:?}: {} {}", seen.status, seen.body));
        }
    }
    let absent = app
        .get(
            &format!("/v1/complaints/{}", uuid::Uuid::now_v7()),
            &app.admin(),
        )
        .await;
    if absent.status != StatusCode::NOT_FOUND || absent.code() != "complaint_not_found" {
        failures.push(format!(
            "absent complaint: {} {}",
            absent.status, absent.body
        ));
    }
    assert_eq!(app.head().await, position, "reads wrote to the log");
    assert!(
        failures.is_empty(),
        "on {backend}:\n{}",
        failures.join("\n")
    );
}

async fn a_resident_never_sees_internal_comments_while_the_staff_side_does(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let id = InProgress.drive(&app).await;
    for (who, cmd) in [
        (Reporter, Cmd::Comment),
        (SkilledStaff, Cmd::InternalComment),
        (Warden, Cmd::Comment),
    ] {
        let answer = cmd.send(&app, who, &id).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{who:?} {cmd:?}: {:?}",
            answer.body
        );
    }
    let mut failures = Vec::new();

    for who in [
        Reporter,
        SkilledStaff,
        UnskilledStaff,
        Warden,
        Admin,
        Auditor,
        Service,
    ] {
        // Act
        let seen = app
            .get_fresh(&format!("/v1/complaints/{id}"), &who.token(&app))
            .await;

        // Assert
        let visibilities: Vec<&str> = seen.body["comments"].as_array().map_or(vec![], |comments| {
            comments
                .iter()
                .filter_map(|c| c["visibility"].as_str())
                .collect()
        });
        let expected: &[&str] = if who == Reporter {
            &["public", "public"]
        } else {
            &["public", "internal", "public"]
        };
        if seen.status != StatusCode::OK || visibilities != expected {
            failures.push(format!(
                "{who:?} sees {visibilities:?}, expected {expected:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "on {backend}:\n{}",
        failures.join("\n")
    );
}

async fn every_command_on_another_residents_complaint_is_not_found(backend: Backend) {
    let rows: Vec<_> = Cmd::ALL
        .into_iter()
        .map(|cmd| (stage_for(cmd), OtherResident, cmd, COMPLAINT_NOT_FOUND))
        .collect();
    run_table(backend, &rows).await;
}

async fn every_command_from_staff_or_wardens_of_another_hostel_is_not_found(backend: Backend) {
    let rows: Vec<_> = Cmd::ALL
        .into_iter()
        .flat_map(|cmd| {
            [ForeignWarden, ForeignStaff]
                .map(|who: Who| (stage_for(cmd), who, cmd, COMPLAINT_NOT_FOUND))
        })
        .collect();
    run_table(backend, &rows).await;
}

/// The other half of the two tables above: in the same stages, each command does go through for the
/// actor it is meant for, so their 404s are about visibility and nothing else.
async fn every_command_goes_through_for_its_own_actor_in_the_same_stages(backend: Backend) {
    use super::Expect::Done;
    let rows = [
        (Cmd::Triage, SkilledStaff, "triaged"),
        (Cmd::Assign("staff-p"), Warden, "assigned"),
        (Cmd::Start, SkilledStaff, "in_progress"),
        (Cmd::Hold, SkilledStaff, "on_hold"),
        (Cmd::Resume, SkilledStaff, "in_progress"),
        (Cmd::Comment, Reporter, "in_progress"),
        (Cmd::InternalComment, UnskilledStaff, "in_progress"),
        (Cmd::Resolve, SkilledStaff, "resolved"),
        (Cmd::Confirm, Reporter, "closed"),
        (Cmd::Dispute, Reporter, "reopened"),
        (Cmd::Close, Warden, "closed"),
        (Cmd::Reject, Warden, "rejected"),
        (Cmd::Withdraw, Reporter, "withdrawn"),
        (Cmd::Rate(5), Reporter, "closed"),
    ]
    .map(|(cmd, who, status)| (stage_for(cmd), who, cmd, Done(status)));
    run_table(backend, &rows).await;
}

on_both_backends!(
    everyone_in_scope_reads_a_complaint_except_other_residents,
    a_resident_never_sees_internal_comments_while_the_staff_side_does,
    every_command_on_another_residents_complaint_is_not_found,
    every_command_from_staff_or_wardens_of_another_hostel_is_not_found,
    every_command_goes_through_for_its_own_actor_in_the_same_stages,
);
