//! The checks every table row makes: an accepted command answers 2xx with a `position` equal to the
//! `Consistency-Token` header and its events are in the log; a refused one answers its status and stable
//! code and leaves the log as it was. [`run_table`] runs a whole complaint table on one app.

use cms_tests::Backend;
use reqwest::StatusCode;

use super::{spawn_with_two_hostels, Cmd, Expect, Stage, Who};
use crate::support::{Answer, TestApp};

/// The accepted command's checks that do not depend on the aggregate: 2xx with `status_code`, a
/// `position` equal to the `Consistency-Token` header and to the new head, and exactly the `events`
/// appended to `aggregate_id` since `head_before`. Returns the position.
pub async fn check_written(
    app: &TestApp,
    answer: &Answer,
    status_code: StatusCode,
    head_before: i64,
    aggregate_id: &str,
    events: &[&str],
) -> Result<i64, String> {
    if answer.status != status_code {
        return Err(format!(
            "expected {status_code}, got {} {}",
            answer.status, answer.body
        ));
    }
    let header = answer
        .headers
        .get("consistency-token")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let position = answer.position();
    if header != Some(position) {
        return Err(format!(
            "body position {position} but Consistency-Token {header:?}"
        ));
    }
    let head = app.head().await;
    if position != head || position <= head_before {
        return Err(format!(
            "position {position}, head before {head_before}, head now {head}"
        ));
    }
    let written = app.store.read_log(head_before, 100).await.unwrap();
    let written_types: Vec<&str> = written.iter().map(|e| e.event_type.as_str()).collect();
    if written_types != events || written.iter().any(|e| e.aggregate_id != aggregate_id) {
        let ids: Vec<&str> = written.iter().map(|e| e.aggregate_id.as_str()).collect();
        return Err(format!(
            "log gained {written_types:?} on {ids:?}, expected {events:?} on {aggregate_id}"
        ));
    }
    Ok(position)
}

/// The refused request's checks: the status, the stable code, and an unchanged log.
pub async fn check_refused(
    app: &TestApp,
    answer: &Answer,
    head_before: i64,
    status: StatusCode,
    code: &str,
) -> Result<(), String> {
    if answer.status != status || answer.code() != code {
        return Err(format!(
            "expected {status} {code}, got {} {}",
            answer.status, answer.body
        ));
    }
    let head = app.head().await;
    if head != head_before {
        return Err(format!(
            "a refused request moved the head from {head_before} to {head}"
        ));
    }
    Ok(())
}

/// Runs one complaint row: `who` sends `cmd` on a fresh complaint driven to `stage`.
pub async fn check(
    app: &TestApp,
    stage: Stage,
    who: Who,
    cmd: Cmd,
    expect: Expect,
) -> Result<(), String> {
    let id = stage.drive(app).await;
    let head_before = app.head().await;

    let answer = cmd.send(app, who, &id).await;

    match expect {
        Expect::Refused(status, code) => {
            check_refused(app, &answer, head_before, status, code).await
        }
        Expect::Done(status) => {
            let position =
                check_written(app, &answer, StatusCode::OK, head_before, &id, cmd.events()).await?;
            check_complaint_body(&answer, &id, status)?;
            let seen = app
                .get_fresh(&format!("/v1/complaints/{id}"), &app.admin())
                .await;
            if seen.body["status"] != status || seen.position() != position {
                return Err(format!(
                    "GET shows {} at {}, expected {status} at {position}",
                    seen.body["status"],
                    seen.position()
                ));
            }
            Ok(())
        }
    }
}

fn check_complaint_body(answer: &Answer, id: &str, status: &str) -> Result<(), String> {
    if answer.body["status"] != status || answer.body["complaint_id"] != id {
        return Err(format!(
            "body {} but expected status {status} on {id}",
            answer.body
        ));
    }
    Ok(())
}

/// Runs every row of a complaint table on one app; panics listing each row that did not hold.
pub async fn run_table(backend: Backend, rows: &[(Stage, Who, Cmd, Expect)]) {
    let app = spawn_with_two_hostels(backend).await;
    let mut failures = Vec::new();
    for &(stage, who, cmd, expect) in rows {
        if let Err(problem) = check(&app, stage, who, cmd, expect).await {
            failures.push(format!("{stage:?} / {who:?} / {cmd:?}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "on {}:\n{}",
        app.backend,
        failures.join("\n")
    );
}
