//! The auditor's HTTP reads: a complaint's history per role (residents never see internal comments'
//! events, foreigners get 404), its state as of a past time or position equal to what the live
//! system answered then, and the global log, checkpoints and key.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use cms_api::audit::chain::checkpoint_message;
use cms_api::audit::keys::signature_valid;
use cms_api::audit::{CheckpointPolicy, Sealer};
use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::Value;

use crate::commands::Who::{
    self, Admin, Auditor, ForeignStaff, ForeignWarden, OtherResident, Reporter, Service,
    SkilledStaff, UnskilledStaff, Warden,
};
use crate::commands::{spawn_with_two_hostels, Cmd, Stage};
use crate::support::{audit_signer, HOSTEL};
use cms_domain::actor::Role;

fn types(history: &Value) -> Vec<String> {
    history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn history_shows_each_role_what_it_may_see(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let id = Stage::InProgress.drive(&app).await;
    for (who, cmd) in [(Warden, Cmd::InternalComment), (Reporter, Cmd::Comment)] {
        let answer = cmd.send(&app, who, &id).await;
        assert!(answer.status.is_success(), "{answer:?}");
    }
    let everything = [
        "ComplaintFiled",
        "ComplaintTriaged",
        "ComplaintAssigned",
        "WorkStarted",
        "CommentAdded",
        "CommentAdded",
    ];
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
            .get(&format!("/v1/complaints/{id}/history"), &who.token(&app))
            .await;

        // Assert
        let ok = match who {
            OtherResident | ForeignWarden | ForeignStaff => {
                seen.status == StatusCode::NOT_FOUND && seen.code() == "complaint_not_found"
            }
            Reporter => {
                // The internal comment's event is not there at all, nor a gap in sequence numbers
                // where it was (a resident's history has none).
                seen.status == StatusCode::OK
                    && types(&seen.body) == everything[..5]
                    && seen.body["events"]
                        .as_array()
                        .is_some_and(|events| events.iter().all(|e| e.get("sequence").is_none()))
            }
            _ => seen.status == StatusCode::OK && types(&seen.body) == everything,
        };
        if !ok {
            failures.push(format!("{who:?}: {} {}", seen.status, seen.body));
        }
    }
    let auditor = app
        .get(
            &format!("/v1/complaints/{id}/history"),
            &Auditor.token(&app),
        )
        .await;
    let events = auditor.body["events"].as_array().unwrap();
    let filed = &events[0];
    assert_eq!(filed["sequence"], 1);
    assert_eq!(filed["version"], "1");
    assert_eq!(filed["actor"]["id"], "res-r");
    assert_eq!(filed["actor"]["role"], "resident");
    assert_eq!(filed["command"], "FileComplaint");
    assert!(filed["correlation_id"].is_string());
    assert!(filed["recorded_at"].is_string());
    assert!(filed["payload"]["ComplaintFiled"].is_object());
    let internal = &events[4];
    assert_eq!(
        internal["payload"]["CommentAdded"]["visibility"],
        "internal"
    );
    assert_eq!(internal["actor"]["role"], "warden");
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(failures.is_empty(), "{backend}:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn postgres_history_shows_each_role_what_it_may_see() {
    history_shows_each_role_what_it_may_see(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_history_shows_each_role_what_it_may_see() {
    history_shows_each_role_what_it_may_see(Backend::Sqlite).await;
}

async fn as_of_a_past_time_equals_what_the_live_system_answered_then(backend: Backend) {
    // Arrange: a workload, recording what GET answered after every step, and when.
    let app = spawn_with_two_hostels(backend).await;
    let before_filing = Utc::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let id = app.file(Reporter.id()).await;
    let steps: [(Who, Cmd); 8] = [
        (Warden, Cmd::Triage),
        (Warden, Cmd::Assign("staff-p")),
        (SkilledStaff, Cmd::Start),
        (Warden, Cmd::InternalComment),
        (SkilledStaff, Cmd::Hold),
        (SkilledStaff, Cmd::Resume),
        (SkilledStaff, Cmd::Resolve),
        (Reporter, Cmd::Confirm),
    ];
    let mut recorded = Vec::new();
    for step in 0..=steps.len() {
        if step > 0 {
            let (who, cmd) = steps[step - 1];
            let answer = cmd.send(&app, who, &id).await;
            assert!(answer.status.is_success(), "{cmd:?}: {answer:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        for who in [Reporter, Warden, Auditor] {
            let live = app
                .get_fresh(&format!("/v1/complaints/{id}"), &who.token(&app))
                .await;
            assert_eq!(live.status, StatusCode::OK);
            recorded.push((Utc::now(), who, live.body));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Act + Assert
    for (at, who, live) in &recorded {
        let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
        let token = who.token(&app);
        let by_time = app
            .get(&format!("/v1/complaints/{id}?as_of={at}"), &token)
            .await;
        assert_eq!(&by_time.body, live, "{backend} {who:?} as of {at}");
        let position = live["position"].as_i64().unwrap();
        let by_position = app
            .get(
                &format!("/v1/complaints/{id}?at_position={position}"),
                &token,
            )
            .await;
        assert_eq!(&by_position.body, live, "{backend} {who:?} at {position}");
    }
    let early = before_filing.to_rfc3339_opts(SecondsFormat::Micros, true);
    let absent = app
        .get(
            &format!("/v1/complaints/{id}?as_of={early}"),
            &Auditor.token(&app),
        )
        .await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND, "{backend}");
    let both = app
        .get(
            &format!("/v1/complaints/{id}?as_of={early}&at_position=1"),
            &Auditor.token(&app),
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST, "{backend}");
    let foreign = app
        .get(
            &format!("/v1/complaints/{id}?at_position=1000"),
            &ForeignWarden.token(&app),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{backend}");
}

#[tokio::test]
async fn postgres_as_of_a_past_time_equals_what_the_live_system_answered_then() {
    as_of_a_past_time_equals_what_the_live_system_answered_then(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_as_of_a_past_time_equals_what_the_live_system_answered_then() {
    as_of_a_past_time_equals_what_the_live_system_answered_then(Backend::Sqlite).await;
}

async fn auditors_page_through_the_log_and_check_signed_checkpoints_with_the_public_key(
    backend: Backend,
) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    Stage::Closed.drive(&app).await;
    let head = app.head().await;
    let policy = CheckpointPolicy {
        every: 5,
        interval: Duration::from_secs(3600),
    };
    Sealer::new(app.store.clone(), audit_signer(), policy)
        .seal_pending()
        .await
        .unwrap();

    // Act
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = app
            .get(
                &format!("/v1/audit/events?after={after}&limit=7"),
                &Auditor.token(&app),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{backend}: {:?}", page.body);
        let events = page.body["events"].as_array().unwrap().clone();
        if events.is_empty() {
            break;
        }
        after = page.body["next_after"].as_i64().unwrap();
        seen.extend(events);
    }
    let checkpoints = app.get("/v1/audit/checkpoints", &Admin.token(&app)).await;
    let key = app
        .send(app.client.get(format!("{}/v1/audit/key", app.base)))
        .await;
    let refused: Vec<StatusCode> = [Reporter, Warden, SkilledStaff, Service]
        .into_iter()
        .map(|who| who.token(&app))
        .collect::<Vec<_>>()
        .iter()
        .map(|token| app.get("/v1/audit/events", token))
        .collect::<futures::future::JoinAll<_>>()
        .await
        .into_iter()
        .map(|a| a.status)
        .collect();
    let too_big = app
        .get("/v1/audit/events?limit=1001", &Auditor.token(&app))
        .await;
    // The global log spans every hostel: an auditor or admin of one hostel does not read it.
    let one_hostel_auditor = app.token(Role::Auditor, "auditor-2", &[HOSTEL]);
    let one_hostel_admin = app.token(Role::Admin, "admin-2", &[HOSTEL]);
    let scoped = [
        app.get("/v1/audit/events", &one_hostel_auditor).await,
        app.get("/v1/audit/events", &one_hostel_admin).await,
        app.get("/v1/audit/reads", &one_hostel_admin).await,
    ];

    // Assert
    let positions: Vec<i64> = seen
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, (1..=head).collect::<Vec<_>>(), "{backend}");
    assert!(seen
        .iter()
        .all(|e| e["chain_hash"].as_str().is_some_and(|h| h.len() == 64)));
    assert!(
        refused.iter().all(|s| *s == StatusCode::FORBIDDEN),
        "{backend}: {refused:?}"
    );
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST, "{backend}");
    for answer in &scoped {
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{backend}: {:?}",
            answer.body
        );
        assert_eq!(answer.code(), "hostel_scope_required", "{backend}");
    }
    assert_eq!(key.status, StatusCode::OK);
    let public = hex::decode(key.body["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(public, audit_signer().public_key_bytes());
    let list = checkpoints.body["checkpoints"].as_array().unwrap();
    assert_eq!(list.len(), usize::try_from(head / 5).unwrap(), "{backend}");
    for c in list {
        let hash: [u8; 32] = hex::decode(c["chain_hash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let message = checkpoint_message(
            c["position"].as_i64().unwrap(),
            &hash,
            c["time"].as_str().unwrap(),
        );
        let signature = hex::decode(c["signature"].as_str().unwrap()).unwrap();
        assert!(
            signature_valid(&public, &message, &signature),
            "{backend}: {c}"
        );
        let at = seen[usize::try_from(c["position"].as_i64().unwrap() - 1).unwrap()]["chain_hash"]
            .clone();
        assert_eq!(at, c["chain_hash"], "{backend}");
    }
}

on_both_backends!(auditors_page_through_the_log_and_check_signed_checkpoints_with_the_public_key);
