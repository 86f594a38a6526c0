//! The `filing` family over HTTP, for every actor: `POST /v1/complaints` (residents file for
//! themselves, the service principal files on a resident's behalf, nobody else files, and nobody
//! files outside their hostels), triage (the staff side of the hostel, until someone is assigned)
//! and withdraw (the reporter, before work starts).

use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::Value;

use super::Cmd::{Triage, Withdraw};
use super::Expect::{self, Done, Refused};
use super::Stage::{Assigned, Closed, Filed, InProgress, OnHold, Resolved, Triaged, Withdrawn};
use super::Who::{
    self, Admin, Auditor, ForeignStaff, ForeignWarden, OtherResident, Reporter, Service,
    SkilledStaff, UnskilledStaff, Warden,
};
use super::{
    check_refused, check_written, run_table, spawn_with_two_hostels, COMPLAINT_NOT_FOUND,
    HOSTEL_NOT_FOUND, INVALID_TRANSITION, NOT_PERMITTED,
};
use crate::support::{file_body, TestApp};

/// Files as `who`, on behalf of `on_behalf_of` if given, and checks the outcome; on success the
/// complaint's reporter must be `reporter`.
async fn check_filing(
    app: &TestApp,
    who: Who,
    on_behalf_of: Option<&str>,
    expect: Expect,
) -> Result<(), String> {
    let mut body = file_body();
    if let Some(resident) = on_behalf_of {
        body["on_behalf_of"] = Value::from(resident);
    }
    let head_before = app.head().await;

    let answer = app.post("/v1/complaints", &who.token(app), body).await;

    match expect {
        Refused(status, code) => check_refused(app, &answer, head_before, status, code).await,
        Done(status) => {
            let id = answer.body["complaint_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let events = ["ComplaintFiled"];
            let position =
                check_written(app, &answer, StatusCode::CREATED, head_before, &id, &events).await?;
            if answer.body["status"] != status {
                return Err(format!("body {} but expected status {status}", answer.body));
            }
            let seen = app
                .get_fresh(&format!("/v1/complaints/{id}"), &app.admin())
                .await;
            let reporter = on_behalf_of.unwrap_or(who.id());
            if seen.body["status"] != status
                || seen.body["reporter"] != reporter
                || seen.position() != position
            {
                return Err(format!(
                    "GET shows {}, expected {status} by {reporter} at {position}",
                    seen.body
                ));
            }
            Ok(())
        }
    }
}

async fn residents_file_for_themselves_and_the_service_files_for_residents(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let rows: [(Who, Option<&str>, Expect); 12] = [
        (Reporter, None, Done("filed")),
        (Reporter, Some("res-r"), Done("filed")),
        (
            Reporter,
            Some("res-o"),
            Refused(StatusCode::FORBIDDEN, "not_reporter"),
        ),
        (OtherResident, None, Done("filed")),
        (Service, Some("res-r"), Done("filed")),
        (SkilledStaff, None, NOT_PERMITTED),
        (UnskilledStaff, None, NOT_PERMITTED),
        (Warden, Some("res-r"), NOT_PERMITTED),
        (Admin, None, NOT_PERMITTED),
        (Auditor, None, NOT_PERMITTED),
        (ForeignWarden, None, HOSTEL_NOT_FOUND),
        (ForeignStaff, None, HOSTEL_NOT_FOUND),
    ];
    let mut failures = Vec::new();

    // Act and Assert
    for (who, on_behalf_of, expect) in rows {
        if let Err(problem) = check_filing(&app, who, on_behalf_of, expect).await {
            failures.push(format!("{who:?} on behalf of {on_behalf_of:?}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "on {backend}:\n{}",
        failures.join("\n")
    );
}

async fn a_service_filing_must_name_the_resident_it_files_for(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;

    // Act
    let outcome = check_filing(
        &app,
        Service,
        None,
        Refused(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
    )
    .await;

    // Assert
    assert_eq!(outcome, Ok(()), "on {backend}");
}

async fn a_resident_cannot_file_in_another_hostel(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let token = app.token(
        cms_domain::actor::Role::Resident,
        "res-s",
        &[super::OTHER_HOSTEL],
    );
    let head_before = app.head().await;

    // Act
    let answer = app.post("/v1/complaints", &token, file_body()).await;

    // Assert
    let outcome = check_refused(
        &app,
        &answer,
        head_before,
        StatusCode::NOT_FOUND,
        "hostel_not_found",
    )
    .await;
    assert_eq!(outcome, Ok(()), "on {backend}");
}

async fn triage_is_for_staff_wardens_and_admins_of_the_hostel(backend: Backend) {
    run_table(
        backend,
        &[
            (Filed, Reporter, Triage, NOT_PERMITTED),
            (Filed, OtherResident, Triage, COMPLAINT_NOT_FOUND),
            (Filed, SkilledStaff, Triage, Done("triaged")),
            (Filed, UnskilledStaff, Triage, Done("triaged")),
            (Filed, Warden, Triage, Done("triaged")),
            (Filed, Admin, Triage, Done("triaged")),
            (Filed, Auditor, Triage, NOT_PERMITTED),
            (Filed, Service, Triage, NOT_PERMITTED),
            (Filed, ForeignWarden, Triage, COMPLAINT_NOT_FOUND),
            (Filed, ForeignStaff, Triage, COMPLAINT_NOT_FOUND),
            // Re-triage is allowed until someone is assigned.
            (Triaged, Warden, Triage, Done("triaged")),
            (Assigned, Warden, Triage, INVALID_TRANSITION),
            (InProgress, SkilledStaff, Triage, INVALID_TRANSITION),
            (Closed, Admin, Triage, INVALID_TRANSITION),
        ],
    )
    .await;
}

async fn only_the_reporter_withdraws_and_only_before_work_starts(backend: Backend) {
    run_table(
        backend,
        &[
            (Filed, Reporter, Withdraw, Done("withdrawn")),
            (Filed, OtherResident, Withdraw, COMPLAINT_NOT_FOUND),
            (Filed, SkilledStaff, Withdraw, NOT_PERMITTED),
            (Filed, UnskilledStaff, Withdraw, NOT_PERMITTED),
            (Filed, Warden, Withdraw, NOT_PERMITTED),
            (Filed, Admin, Withdraw, NOT_PERMITTED),
            (Filed, Auditor, Withdraw, NOT_PERMITTED),
            (Filed, Service, Withdraw, NOT_PERMITTED),
            (Filed, ForeignWarden, Withdraw, COMPLAINT_NOT_FOUND),
            (Filed, ForeignStaff, Withdraw, COMPLAINT_NOT_FOUND),
            (Triaged, Reporter, Withdraw, Done("withdrawn")),
            (Assigned, Reporter, Withdraw, Done("withdrawn")),
            (InProgress, Reporter, Withdraw, INVALID_TRANSITION),
            (OnHold, Reporter, Withdraw, INVALID_TRANSITION),
            (Resolved, Reporter, Withdraw, INVALID_TRANSITION),
            (Withdrawn, Reporter, Withdraw, INVALID_TRANSITION),
        ],
    )
    .await;
}

on_both_backends!(
    residents_file_for_themselves_and_the_service_files_for_residents,
    a_service_filing_must_name_the_resident_it_files_for,
    a_resident_cannot_file_in_another_hostel,
    triage_is_for_staff_wardens_and_admins_of_the_hostel,
    only_the_reporter_withdraws_and_only_before_work_starts,
);
