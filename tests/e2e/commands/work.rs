//! The `work` family over HTTP: assign, start, hold, resume and resolve, for every actor, plus the
//! statuses each command is refused in and the hostel policy on staff assigning themselves.

use cms_domain::actor::Role;
use cms_tests::Backend;
use reqwest::StatusCode;

use super::Cmd::{Assign, Hold, Resolve, Resume, Start, Triage};
use super::Expect::{Done, Refused};
use super::Stage::{Assigned, Closed, Filed, InProgress, OnHold, Reopened, Resolved, Triaged};
use super::Who::{
    Admin, Auditor, ForeignStaff, ForeignWarden, OtherResident, Reporter, Service, SkilledStaff,
    UnskilledStaff, Warden,
};
use super::{
    run_table, COMPLAINT_NOT_FOUND, INVALID_TRANSITION, NOT_ASSIGNEE, NOT_PERMITTED, OTHER_HOSTEL,
};
use crate::support::file_body;

const LACKS_SKILL: super::Expect =
    Refused(StatusCode::UNPROCESSABLE_ENTITY, "assignee_lacks_skill");

async fn assignment_is_for_wardens_and_admins_and_skilled_staff_taking_it_themselves(
    backend: Backend,
) {
    run_table(
        backend,
        &[
            (Triaged, Reporter, Assign("staff-p"), NOT_PERMITTED),
            (
                Triaged,
                OtherResident,
                Assign("staff-p"),
                COMPLAINT_NOT_FOUND,
            ),
            (Triaged, SkilledStaff, Assign("staff-p"), Done("assigned")),
            (Triaged, SkilledStaff, Assign("staff-e"), NOT_PERMITTED),
            (Triaged, UnskilledStaff, Assign("staff-e"), LACKS_SKILL),
            (Triaged, UnskilledStaff, Assign("staff-p"), NOT_PERMITTED),
            (Triaged, Warden, Assign("staff-p"), Done("assigned")),
            (Triaged, Warden, Assign("staff-e"), LACKS_SKILL),
            (
                Triaged,
                Warden,
                Assign("staff-nobody"),
                Refused(StatusCode::UNPROCESSABLE_ENTITY, "assignee_not_staff"),
            ),
            (Triaged, Admin, Assign("staff-p"), Done("assigned")),
            (Triaged, Auditor, Assign("staff-p"), NOT_PERMITTED),
            (Triaged, Service, Assign("staff-p"), NOT_PERMITTED),
            (
                Triaged,
                ForeignWarden,
                Assign("staff-p"),
                COMPLAINT_NOT_FOUND,
            ),
            (
                Triaged,
                ForeignStaff,
                Assign("staff-s"),
                COMPLAINT_NOT_FOUND,
            ),
            // Staff of another hostel are not eligible even when named by the warden.
            (
                Triaged,
                Warden,
                Assign("staff-s"),
                Refused(StatusCode::UNPROCESSABLE_ENTITY, "assignee_not_staff"),
            ),
            (Filed, Warden, Assign("staff-p"), INVALID_TRANSITION),
            (
                Assigned,
                Warden,
                Assign("staff-p"),
                Refused(StatusCode::CONFLICT, "already_assigned"),
            ),
            (Reopened, Warden, Assign("warden-w"), Done("assigned")),
            (Resolved, Warden, Assign("staff-p"), INVALID_TRANSITION),
            (Closed, Admin, Assign("staff-p"), INVALID_TRANSITION),
        ],
    )
    .await;
}

async fn only_the_assignee_starts_work(backend: Backend) {
    run_table(
        backend,
        &[
            (Assigned, Reporter, Start, NOT_PERMITTED),
            (Assigned, OtherResident, Start, COMPLAINT_NOT_FOUND),
            (Assigned, SkilledStaff, Start, Done("in_progress")),
            (Assigned, UnskilledStaff, Start, NOT_ASSIGNEE),
            (Assigned, Warden, Start, NOT_ASSIGNEE),
            (Assigned, Admin, Start, NOT_ASSIGNEE),
            (Assigned, Auditor, Start, NOT_PERMITTED),
            (Assigned, Service, Start, NOT_PERMITTED),
            (Assigned, ForeignWarden, Start, COMPLAINT_NOT_FOUND),
            (Assigned, ForeignStaff, Start, COMPLAINT_NOT_FOUND),
            (Reopened, SkilledStaff, Start, Done("in_progress")),
            (Triaged, SkilledStaff, Start, NOT_ASSIGNEE),
            (InProgress, SkilledStaff, Start, INVALID_TRANSITION),
            (OnHold, SkilledStaff, Start, INVALID_TRANSITION),
        ],
    )
    .await;
}

async fn the_assignee_or_a_manager_puts_work_on_hold(backend: Backend) {
    run_table(
        backend,
        &[
            (InProgress, Reporter, Hold, NOT_PERMITTED),
            (InProgress, OtherResident, Hold, COMPLAINT_NOT_FOUND),
            (InProgress, SkilledStaff, Hold, Done("on_hold")),
            (InProgress, UnskilledStaff, Hold, NOT_ASSIGNEE),
            (InProgress, Warden, Hold, Done("on_hold")),
            (InProgress, Admin, Hold, Done("on_hold")),
            (InProgress, Auditor, Hold, NOT_PERMITTED),
            (InProgress, Service, Hold, NOT_PERMITTED),
            (InProgress, ForeignWarden, Hold, COMPLAINT_NOT_FOUND),
            (InProgress, ForeignStaff, Hold, COMPLAINT_NOT_FOUND),
            (Assigned, SkilledStaff, Hold, INVALID_TRANSITION),
            (OnHold, Warden, Hold, INVALID_TRANSITION),
            (Resolved, SkilledStaff, Hold, INVALID_TRANSITION),
        ],
    )
    .await;
}

async fn the_assignee_or_a_manager_resumes_work(backend: Backend) {
    run_table(
        backend,
        &[
            (OnHold, Reporter, Resume, NOT_PERMITTED),
            (OnHold, OtherResident, Resume, COMPLAINT_NOT_FOUND),
            (OnHold, SkilledStaff, Resume, Done("in_progress")),
            (OnHold, UnskilledStaff, Resume, NOT_ASSIGNEE),
            (OnHold, Warden, Resume, Done("in_progress")),
            (OnHold, Admin, Resume, Done("in_progress")),
            (OnHold, Auditor, Resume, NOT_PERMITTED),
            (OnHold, Service, Resume, NOT_PERMITTED),
            (OnHold, ForeignWarden, Resume, COMPLAINT_NOT_FOUND),
            (OnHold, ForeignStaff, Resume, COMPLAINT_NOT_FOUND),
            (InProgress, SkilledStaff, Resume, INVALID_TRANSITION),
            (Assigned, Warden, Resume, INVALID_TRANSITION),
        ],
    )
    .await;
}

async fn only_the_assignee_resolves(backend: Backend) {
    run_table(
        backend,
        &[
            (InProgress, Reporter, Resolve, NOT_PERMITTED),
            (InProgress, OtherResident, Resolve, COMPLAINT_NOT_FOUND),
            (InProgress, SkilledStaff, Resolve, Done("resolved")),
            (InProgress, UnskilledStaff, Resolve, NOT_ASSIGNEE),
            (InProgress, Warden, Resolve, NOT_ASSIGNEE),
            (InProgress, Admin, Resolve, NOT_ASSIGNEE),
            (InProgress, Auditor, Resolve, NOT_PERMITTED),
            (InProgress, Service, Resolve, NOT_PERMITTED),
            (InProgress, ForeignWarden, Resolve, COMPLAINT_NOT_FOUND),
            (InProgress, ForeignStaff, Resolve, COMPLAINT_NOT_FOUND),
            (Assigned, SkilledStaff, Resolve, INVALID_TRANSITION),
            (OnHold, SkilledStaff, Resolve, INVALID_TRANSITION),
            (Resolved, SkilledStaff, Resolve, INVALID_TRANSITION),
        ],
    )
    .await;
}

/// `south` keeps the default policy, so its plumber may not take work on their own; its warden still
/// assigns them. (This also shows the foreigners' tokens work at home.)
async fn staff_cannot_assign_themselves_where_the_hostel_forbids_it(backend: Backend) {
    // Arrange
    let app = super::spawn_with_two_hostels(backend).await;
    let resident = app.token(Role::Resident, "res-s", &[OTHER_HOSTEL]);
    let mut body = file_body();
    body["hostel"] = OTHER_HOSTEL.into();
    let filed = app.post("/v1/complaints", &resident, body).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    let id = filed.body["complaint_id"].as_str().unwrap().to_owned();
    let triaged = Triage.send(&app, ForeignWarden, &id).await;
    assert_eq!(triaged.status, StatusCode::OK, "{:?}", triaged.body);
    let head_before = app.head().await;

    // Act
    let taken = Assign("staff-s").send(&app, ForeignStaff, &id).await;
    let given = Assign("staff-s").send(&app, ForeignWarden, &id).await;

    // Assert
    let refused = StatusCode::FORBIDDEN;
    let code = "self_assignment_not_allowed";
    assert_eq!(
        (taken.status, taken.code()),
        (refused, code),
        "on {backend}: {:?}",
        taken.body
    );
    assert_eq!(
        given.status,
        StatusCode::OK,
        "on {backend}: {:?}",
        given.body
    );
    assert_eq!(given.body["status"], "assigned");
    assert_eq!(
        given.position(),
        head_before + 1,
        "on {backend}: only the warden's command was written"
    );
}

on_both_backends!(
    staff_cannot_assign_themselves_where_the_hostel_forbids_it,
    assignment_is_for_wardens_and_admins_and_skilled_staff_taking_it_themselves,
    only_the_assignee_starts_work,
    the_assignee_or_a_manager_puts_work_on_hold,
    the_assignee_or_a_manager_resumes_work,
    only_the_assignee_resolves,
);
