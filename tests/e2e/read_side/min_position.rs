//! Read-your-writes: a read with `Min-Position` (header or query parameter) waits, boundedly, for
//! the projection to reach that position and then includes the write; with nothing projecting it
//! answers 503 `projection_behind`. On PostgreSQL a notification wakes the projector without polling.

use std::time::{Duration, Instant};

use cms_domain::actor::Role;
use cms_projections::runner::{self, RunnerConfig};
use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::json;

use super::caught_up;
use crate::support::{file_body, TestApp, HOSTEL};

on_both_backends!(
    flavor = "multi_thread", worker_threads = 2;
    min_position_waits_for_the_projection_and_includes_the_new_complaint,
);

async fn min_position_waits_for_the_projection_and_includes_the_new_complaint(backend: Backend) {
    // Arrange: no projector yet.
    let mut app = TestApp::spawn_without_projectors(backend).await;
    app.seed_hostel().await;
    let token = app.token(Role::Resident, "res-a", &[HOSTEL]);
    let filed = app.post("/v1/complaints", &token, file_body()).await;
    let position = filed.position();
    let id = filed.body["complaint_id"].as_str().unwrap().to_owned();
    let with_header = |token: &str| {
        app.client
            .get(format!("{}/v1/complaints", app.base))
            .bearer_auth(token)
            .header("Min-Position", position)
    };

    // With nothing projecting, the bounded wait ends in 503.
    let started = Instant::now();
    let behind = app.send(with_header(&token)).await;
    assert_eq!(behind.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(behind.code(), "projection_behind");
    assert_eq!(behind.headers["retry-after"], "1");
    assert!(started.elapsed() >= Duration::from_millis(1_500));
    let plain = app.get("/v1/complaints", &token).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.body["items"], json!([]));

    // Act: the projector starts 300 ms into the wait.
    let db = app.store.db().clone();
    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        runner::spawn(&db, RunnerConfig::for_db(&db))
    });
    let started = Instant::now();
    let answer = app.send(with_header(&token)).await;

    // Assert: it waited, then answered with the new complaint and a position at least the token.
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(answer.position() >= position);
    assert_eq!(answer.body["items"][0]["id"], json!(id));
    app.projectors = Some(starter.await.unwrap());

    // And command-then-read pairs with the token always see their write (query parameter form).
    for _ in 0..20 {
        let filed = app.post("/v1/complaints", &token, file_body()).await;
        let path = format!("/v1/complaints?min_position={}&limit=1", filed.position());
        let answer = app.get(&path, &token).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body["items"][0]["id"], filed.body["complaint_id"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_wakes_the_postgres_projector_without_polling() {
    // Arrange: a projector whose fallback poll is far longer than the test.
    let mut app = TestApp::spawn_without_projectors(Backend::Postgres).await;
    app.seed_hostel().await;
    let db = app.store.db().clone();
    let config = RunnerConfig {
        batch_size: 500,
        poll_interval: Duration::from_secs(600),
    };
    app.projectors = Some(runner::spawn(&db, config));
    caught_up(&app).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Act: a command, then a read that waits for its position.
    let token = app.token(Role::Resident, "res-a", &[HOSTEL]);
    let filed = app.post("/v1/complaints", &token, file_body()).await;
    let path = format!("/v1/complaints?min_position={}", filed.position());
    let answer = app.get(&path, &token).await;

    // Assert: the NOTIFY woke the projector well within the 2 s wait.
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["items"][0]["id"], filed.body["complaint_id"]);
}
