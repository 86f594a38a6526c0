//! Hostel administration over HTTP for every actor: registration (admins), the category catalogue,
//! staff and policy (admins and the hostel's wardens), and reading hostels back (anyone in scope;
//! residents without the staff list). Each command row runs on a hostel of its own.

use cms_tests::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::Who::{
    self, Admin, Auditor, ForeignStaff, ForeignWarden, OtherResident, Reporter, Service,
    SkilledStaff, UnskilledStaff, Warden,
};
use super::{check_refused, check_written, register_hostel, request, spawn_with_two_hostels};
use crate::support::{TestApp, HOSTEL};

/// A change to a registered hostel, with a valid body.
#[derive(Debug, Clone, Copy)]
enum HostelCmd {
    AddCategory(&'static str),
    RetireCategory(&'static str),
    AddStaff(&'static str),
    RemoveStaff(&'static str),
    SetPolicy(u32),
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Changed,
    Refused(StatusCode, &'static str),
}

use HostelCmd::{AddCategory, AddStaff, RemoveStaff, RetireCategory, SetPolicy};
use Outcome::{Changed, Refused};

const NOT_PERMITTED: Outcome = Refused(StatusCode::FORBIDDEN, "action_not_permitted");
const NOT_FOUND: Outcome = Refused(StatusCode::NOT_FOUND, "hostel_not_found");

impl HostelCmd {
    fn request(self, hostel: &str) -> (Method, String, Value) {
        let base = format!("/v1/hostels/{hostel}");
        match self {
            AddCategory(id) => (
                Method::POST,
                format!("{base}/categories"),
                json!({ "id": id, "name": "Carpentry" }),
            ),
            RetireCategory(id) => (
                Method::POST,
                format!("{base}/categories/{id}/retire"),
                Value::Null,
            ),
            AddStaff(id) => (
                Method::POST,
                format!("{base}/staff"),
                json!({ "id": id, "name": "New Hand", "skills": ["plumbing"], "role": "staff" }),
            ),
            RemoveStaff(id) => (Method::DELETE, format!("{base}/staff/{id}"), Value::Null),
            SetPolicy(days) => (
                Method::PUT,
                format!("{base}/policy"),
                json!({ "self_assignment_allowed": false, "dispute_window_days": days }),
            ),
        }
    }

    fn event(self) -> &'static str {
        match self {
            AddCategory(_) => "CategoryAdded",
            RetireCategory(_) => "CategoryRetired",
            AddStaff(_) => "StaffMemberAdded",
            RemoveStaff(_) => "StaffMemberRemoved",
            SetPolicy(_) => "PolicySet",
        }
    }

    /// Whether `view` (a GET of the hostel) shows this command's effect.
    fn shows_in(self, view: &Value) -> bool {
        let ids = |list: &str| -> Vec<String> {
            view[list]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i["id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        match self {
            AddCategory(id) => ids("categories").iter().any(|c| c == id),
            RetireCategory(id) => {
                ids("retired_categories").iter().any(|c| c == id)
                    && !ids("categories").iter().any(|c| c == id)
            }
            AddStaff(id) => ids("staff").iter().any(|m| m == id),
            RemoveStaff(id) => !ids("staff").iter().any(|m| m == id),
            SetPolicy(days) => view["policy"]["dispute_window_days"] == days,
        }
    }
}

/// Runs one row on a fresh hostel `hostel`, which is `who`'s home.
async fn check_hostel_row(
    app: &TestApp,
    hostel: &str,
    who: Who,
    cmd: HostelCmd,
    expect: Outcome,
) -> Result<(), String> {
    register_hostel(app, hostel).await;
    let head_before = app.head().await;
    let (method, path, body) = cmd.request(hostel);

    let answer = request(app, method, &path, &who.token_in(app, hostel), body).await;

    match expect {
        Refused(status, code) => check_refused(app, &answer, head_before, status, code).await,
        Changed => {
            let events = [cmd.event()];
            let position =
                check_written(app, &answer, StatusCode::OK, head_before, hostel, &events).await?;
            if answer.body["hostel_id"] != hostel {
                return Err(format!("body {} does not name {hostel}", answer.body));
            }
            let view = app
                .get(&format!("/v1/hostels/{hostel}"), &app.admin())
                .await
                .body;
            if !cmd.shows_in(&view) || view["position"] != position {
                return Err(format!(
                    "GET at {position} does not show the change: {view}"
                ));
            }
            Ok(())
        }
    }
}

async fn wardens_and_admins_manage_a_hostel_and_nobody_else_does(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let mut rows = Vec::new();
    for cmd in [
        AddCategory("carpentry"),
        RetireCategory("electrical"),
        AddStaff("staff-n"),
        RemoveStaff("staff-e"),
        SetPolicy(14),
    ] {
        for who in [Warden, Admin] {
            rows.push((who, cmd, Changed));
        }
        for who in [Reporter, SkilledStaff, UnskilledStaff, Auditor, Service] {
            rows.push((who, cmd, NOT_PERMITTED));
        }
        for who in [ForeignWarden, ForeignStaff] {
            rows.push((who, cmd, NOT_FOUND));
        }
    }
    rows.extend([
        (
            Warden,
            AddCategory("plumbing"),
            Refused(StatusCode::CONFLICT, "duplicate_category"),
        ),
        (
            Warden,
            RetireCategory("carpentry"),
            Refused(StatusCode::UNPROCESSABLE_ENTITY, "unknown_category"),
        ),
        (
            Admin,
            AddStaff("staff-p"),
            Refused(StatusCode::CONFLICT, "duplicate_staff_member"),
        ),
        (
            Warden,
            RemoveStaff("staff-x"),
            Refused(StatusCode::NOT_FOUND, "staff_member_not_found"),
        ),
        (
            Warden,
            SetPolicy(0),
            Refused(StatusCode::UNPROCESSABLE_ENTITY, "invalid_policy"),
        ),
        (
            Admin,
            SetPolicy(91),
            Refused(StatusCode::UNPROCESSABLE_ENTITY, "invalid_policy"),
        ),
    ]);
    let mut failures = Vec::new();

    // Act and Assert
    for (n, (who, cmd, expect)) in rows.into_iter().enumerate() {
        let hostel = format!("hostel-{n}");
        if let Err(problem) = check_hostel_row(&app, &hostel, who, cmd, expect).await {
            failures.push(format!("{who:?} / {cmd:?}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "on {backend}:\n{}",
        failures.join("\n")
    );
}

async fn only_admins_register_hostels(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let rows = [
        (Admin, Changed),
        (Reporter, NOT_PERMITTED),
        (SkilledStaff, NOT_PERMITTED),
        (Warden, NOT_PERMITTED),
        (Auditor, NOT_PERMITTED),
        (Service, NOT_PERMITTED),
        (ForeignWarden, NOT_FOUND),
    ];
    let mut failures = Vec::new();

    // Act and Assert
    for (n, (who, expect)) in rows.into_iter().enumerate() {
        let hostel = format!("new-{n}");
        let body = json!({
            "id": hostel, "name": "New", "wings": [], "room_pattern": "[0-9]{3}",
            "categories": [{"id": "plumbing", "name": "Plumbing"}]
        });
        let head_before = app.head().await;
        let answer = app
            .post("/v1/hostels", &who.token_in(&app, &hostel), body)
            .await;
        let outcome = match expect {
            Refused(status, code) => check_refused(&app, &answer, head_before, status, code).await,
            Changed => {
                let events = ["HostelRegistered"];
                match check_written(
                    &app,
                    &answer,
                    StatusCode::CREATED,
                    head_before,
                    &hostel,
                    &events,
                )
                .await
                {
                    Ok(position) => {
                        let view = app
                            .get(&format!("/v1/hostels/{hostel}"), &app.admin())
                            .await;
                        if view.status == StatusCode::OK && view.body["position"] == position {
                            Ok(())
                        } else {
                            Err(format!("GET after registering: {view:?}"))
                        }
                    }
                    Err(problem) => Err(problem),
                }
            }
        };
        if let Err(problem) = outcome {
            failures.push(format!("{who:?}: {problem}"));
        }
    }
    let head_before = app.head().await;
    let again = app
        .post(
            "/v1/hostels",
            &app.admin(),
            json!({ "id": HOSTEL, "name": "North", "room_pattern": "[0-9]{3}", "categories": [{"id": "plumbing", "name": "P"}] }),
        )
        .await;
    if let Err(problem) = check_refused(
        &app,
        &again,
        head_before,
        StatusCode::CONFLICT,
        "hostel_already_registered",
    )
    .await
    {
        failures.push(format!("registering {HOSTEL} twice: {problem}"));
    }
    assert!(
        failures.is_empty(),
        "on {backend}:\n{}",
        failures.join("\n")
    );
}

async fn everyone_in_scope_reads_a_hostel_and_residents_do_not_see_its_staff(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
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
        let one = app
            .get(&format!("/v1/hostels/{HOSTEL}"), &who.token(&app))
            .await;
        let all = app.get("/v1/hostels", &who.token(&app)).await;

        // Assert
        let resident = matches!(who, Reporter | OtherResident);
        let foreign = matches!(who, ForeignWarden | ForeignStaff);
        let listed: Vec<&str> = all.body.as_array().map_or(vec![], |hostels| {
            hostels.iter().filter_map(|h| h["id"].as_str()).collect()
        });
        let expected_list: &[&str] = match who {
            Admin | Auditor => &[HOSTEL, super::OTHER_HOSTEL],
            ForeignWarden | ForeignStaff => &[super::OTHER_HOSTEL],
            _ => &[HOSTEL],
        };
        let staff_shown = |view: &Value| view.get("staff").is_some_and(Value::is_array);
        let one_ok = if foreign {
            one.status == StatusCode::NOT_FOUND && one.code() == "hostel_not_found"
        } else {
            one.status == StatusCode::OK
                && one.body["id"] == HOSTEL
                && staff_shown(&one.body) != resident
        };
        let all_ok = all.status == StatusCode::OK
            && listed == expected_list
            && all
                .body
                .as_array()
                .is_some_and(|hs| hs.iter().all(|h| staff_shown(h) != resident));
        if !one_ok || !all_ok {
            failures.push(format!(
                "{who:?}: GET one {} {}, GET all {} {}",
                one.status, one.body, all.status, all.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "on {backend}:\n{}",
        failures.join("\n")
    );
}

on_both_backends!(
    wardens_and_admins_manage_a_hostel_and_nobody_else_does,
    only_admins_register_hostels,
    everyone_in_scope_reads_a_hostel_and_residents_do_not_see_its_staff,
);
