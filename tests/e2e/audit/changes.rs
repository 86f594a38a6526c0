//! `GET /v1/complaints/{id}/changes` per role (the states at both ends equal `?as_of=`, the events
//! between, a field-level diff; residents never see internal comments) and the record of auditor
//! reads at `GET /v1/audit/reads` (auditors' reads are there with route and target; nobody else's;
//! only admins may list them).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::Value;

use crate::commands::Who::{Admin, Auditor, ForeignWarden, Reporter, SkilledStaff, Warden};
use crate::commands::{spawn_with_two_hostels, Cmd, Stage};

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A moment strictly between two commits.
async fn moment() -> String {
    tokio::time::sleep(Duration::from_millis(5)).await;
    let at = rfc3339(Utc::now());
    tokio::time::sleep(Duration::from_millis(5)).await;
    at
}

fn changed_fields(body: &Value) -> Vec<String> {
    body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap().to_owned())
        .collect()
}

fn types(body: &Value) -> Vec<&str> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

async fn changes_show_both_states_the_events_between_and_the_changed_fields(backend: Backend) {
    // Arrange: filed and triaged before t1; assigned, started and commented on internally before t2.
    let app = spawn_with_two_hostels(backend).await;
    let t0 = moment().await;
    let id = Stage::Triaged.drive(&app).await;
    let t1 = moment().await;
    for (who, cmd) in [
        (Warden, Cmd::Assign("staff-p")),
        (SkilledStaff, Cmd::Start),
        (Warden, Cmd::InternalComment),
    ] {
        let answer = cmd.send(&app, who, &id).await;
        assert!(answer.status.is_success(), "{cmd:?}: {answer:?}");
    }
    let t2 = moment().await;
    let changes = |from: &str, to: &str, who: crate::commands::Who| {
        let path = format!("/v1/complaints/{id}/changes?from={from}&to={to}");
        let token = who.token(&app);
        let app = &app;
        async move { app.get(&path, &token).await }
    };

    // Act
    let auditor = changes(&t1, &t2, Auditor).await;
    let reporter = changes(&t1, &t2, Reporter).await;
    let from_start = app
        .get(
            &format!("/v1/complaints/{id}/changes?to={t2}"),
            &Auditor.token(&app),
        )
        .await;
    let to_now = app
        .get(
            &format!("/v1/complaints/{id}/changes?from={t2}"),
            &Auditor.token(&app),
        )
        .await;
    let reversed = changes(&t2, &t1, Auditor).await;
    let foreign = changes(&t1, &t2, ForeignWarden).await;
    let before_filing = changes(&t0, &t0, Auditor).await;
    let at_t1 = app
        .get(
            &format!("/v1/complaints/{id}?as_of={t1}"),
            &Auditor.token(&app),
        )
        .await;
    let at_t2 = app
        .get(
            &format!("/v1/complaints/{id}?as_of={t2}"),
            &Auditor.token(&app),
        )
        .await;

    // Assert
    assert_eq!(
        auditor.status,
        StatusCode::OK,
        "{backend}: {:?}",
        auditor.body
    );
    // The detail at a moment is the state the changes compare, plus the timeline up to then.
    let state_at = |detail: &Value| {
        let mut state = detail.clone();
        let timeline = state.as_object_mut().unwrap().remove("timeline").unwrap();
        (state, timeline.as_array().unwrap().len())
    };
    let (state_t1, events_t1) = state_at(&at_t1.body);
    let (state_t2, events_t2) = state_at(&at_t2.body);
    assert_eq!(auditor.body["before"], state_t1, "{backend}");
    assert_eq!(auditor.body["after"], state_t2, "{backend}");
    assert_eq!(events_t2 - events_t1, 3, "{backend}");
    assert_eq!(
        types(&auditor.body),
        ["ComplaintAssigned", "WorkStarted", "CommentAdded"],
        "{backend}"
    );
    let fields = changed_fields(&auditor.body);
    for field in [
        "status",
        "assignee",
        "assignments",
        "comments",
        "updated_at",
    ] {
        assert!(
            fields.contains(&field.to_owned()),
            "{backend}: {field} not in {fields:?}"
        );
    }
    for field in ["title", "reporter", "hostel", "position"] {
        assert!(
            !fields.contains(&field.to_owned()),
            "{backend}: {field} in {fields:?}"
        );
    }
    let status = auditor.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "status")
        .unwrap();
    assert_eq!(status["before"], at_t1.body["status"], "{backend}");
    assert_eq!(status["after"], at_t2.body["status"], "{backend}");

    assert_eq!(reporter.status, StatusCode::OK, "{backend}");
    assert_eq!(
        types(&reporter.body),
        ["ComplaintAssigned", "WorkStarted"],
        "{backend}: a resident saw an internal comment's event"
    );
    assert!(
        !changed_fields(&reporter.body).contains(&"comments".to_owned()),
        "{backend}: a resident saw an internal comment in the diff"
    );

    assert_eq!(from_start.status, StatusCode::OK, "{backend}");
    assert_eq!(from_start.body["before"], Value::Null, "{backend}");
    assert_eq!(types(&from_start.body).len(), 5, "{backend}");
    assert!(changed_fields(&from_start.body).contains(&"title".to_owned()));
    assert_eq!(to_now.status, StatusCode::OK, "{backend}");
    assert!(types(&to_now.body).is_empty(), "{backend}");
    assert!(changed_fields(&to_now.body).is_empty(), "{backend}");

    assert_eq!(reversed.status, StatusCode::BAD_REQUEST, "{backend}");
    assert_eq!(reversed.code(), "invalid_query", "{backend}");
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{backend}");
    assert_eq!(before_filing.status, StatusCode::NOT_FOUND, "{backend}");
}

#[tokio::test]
async fn postgres_changes_show_both_states_the_events_between_and_the_changed_fields() {
    changes_show_both_states_the_events_between_and_the_changed_fields(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_changes_show_both_states_the_events_between_and_the_changed_fields() {
    changes_show_both_states_the_events_between_and_the_changed_fields(Backend::Sqlite).await;
}

async fn an_auditors_reads_are_recorded_for_admins_and_nobody_elses(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let id = Stage::InProgress.drive(&app).await;
    let auditor = Auditor.token(&app);
    let admin = Admin.token(&app);
    let history = app
        .get(&format!("/v1/complaints/{id}/history"), &admin)
        .await;
    let filed = history.body["events"][0]["position"].as_i64().unwrap();
    let at = moment().await;

    // Act: the auditor reads each recorded route once; a resident and an admin read too.
    let paths = [
        format!("/v1/complaints/{id}/history"),
        format!("/v1/complaints/{id}?as_of={at}"),
        format!("/v1/complaints/{id}?at_position={filed}"),
        format!("/v1/complaints/{id}/changes?to={at}"),
        "/v1/audit/events?after=1&limit=3".to_owned(),
        "/v1/audit/checkpoints".to_owned(),
    ];
    for path in &paths {
        let answer = app.get(path, &auditor).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{backend} {path}: {:?}",
            answer.body
        );
    }
    let _ = app
        .get(
            &format!("/v1/complaints/{id}/history"),
            &Reporter.token(&app),
        )
        .await;
    let _ = app
        .get(&format!("/v1/complaints/{id}/history"), &admin)
        .await;
    let _ = app.get("/v1/audit/events", &admin).await;
    let listed = app.get("/v1/audit/reads", &admin).await;
    let paged = app.get("/v1/audit/reads?after=4&limit=1", &admin).await;
    let refused: Vec<StatusCode> = [Auditor, Reporter, Warden, SkilledStaff]
        .iter()
        .map(|who| who.token(&app))
        .collect::<Vec<_>>()
        .iter()
        .map(|token| app.get("/v1/audit/reads", token))
        .collect::<futures::future::JoinAll<_>>()
        .await
        .into_iter()
        .map(|a| a.status)
        .collect();

    // Assert
    assert_eq!(
        listed.status,
        StatusCode::OK,
        "{backend}: {:?}",
        listed.body
    );
    let reads = listed.body["reads"].as_array().unwrap();
    let seen: Vec<(&str, &str, Option<&str>, Option<&str>)> = reads
        .iter()
        .map(|r| {
            (
                r["user_id"].as_str().unwrap(),
                r["route"].as_str().unwrap(),
                r["target"].as_str(),
                r["span"].as_str(),
            )
        })
        .collect();
    let as_of = format!("as_of={at}");
    let at_position = format!("at_position={filed}");
    let to = format!("from=,to={at}");
    assert_eq!(
        seen,
        [
            (
                "auditor-1",
                "/v1/complaints/{id}/history",
                Some(id.as_str()),
                None
            ),
            (
                "auditor-1",
                "/v1/complaints/{id}",
                Some(id.as_str()),
                Some(as_of.as_str())
            ),
            (
                "auditor-1",
                "/v1/complaints/{id}",
                Some(id.as_str()),
                Some(at_position.as_str())
            ),
            (
                "auditor-1",
                "/v1/complaints/{id}/changes",
                Some(id.as_str()),
                Some(to.as_str())
            ),
            (
                "auditor-1",
                "/v1/audit/events",
                None,
                Some("after=1,limit=3")
            ),
            ("auditor-1", "/v1/audit/checkpoints", None, None),
        ],
        "{backend}"
    );
    assert!(reads
        .iter()
        .all(|r| r["role"] == "auditor" && r["read_at"].is_string()));
    let paged = paged.body["reads"].as_array().unwrap();
    assert_eq!(paged.len(), 1, "{backend}");
    assert_eq!(paged[0]["id"], reads[4]["id"], "{backend}");
    assert!(
        refused.iter().all(|s| *s == StatusCode::FORBIDDEN),
        "{backend}: {refused:?}"
    );
    let events = app.store.read_log(0, 1000).await.unwrap();
    assert!(
        events.iter().all(|e| !e.event_type.contains("Read")),
        "{backend}: a read went into the event log"
    );
}

#[tokio::test]
async fn postgres_an_auditors_reads_are_recorded_for_admins_and_nobody_elses() {
    an_auditors_reads_are_recorded_for_admins_and_nobody_elses(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_an_auditors_reads_are_recorded_for_admins_and_nobody_elses() {
    an_auditors_reads_are_recorded_for_admins_and_nobody_elses(Backend::Sqlite).await;
}
