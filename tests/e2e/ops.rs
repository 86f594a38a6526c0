//! Operations through the HTTP API: the caller's `traceparent` travels into the metadata of the
//! events its command wrote (one trace links the request and its events), a request without one
//! starts a trace of its own, and every response, even a refusal or a 404, carries a request id.

use cms_domain::actor::Role;
use cms_tests::Backend;
use reqwest::StatusCode;

use crate::support::{file_body, TestApp, HOSTEL};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

async fn ops_a_commands_traceparent_is_stored_in_the_metadata_of_its_events(backend: Backend) {
    // Arrange
    let app = TestApp::spawn_without_projectors(backend).await;
    app.seed_hostel().await;
    let token = app.token(Role::Resident, "res-1", &[HOSTEL]);
    let before = app.head().await;

    // Act: one command with a trace context, one without.
    let traced = app
        .send(
            app.client
                .post(format!("{}/v1/complaints", app.base))
                .bearer_auth(&token)
                .header("traceparent", TRACEPARENT)
                .json(&file_body()),
        )
        .await;
    let untraced = app.post("/v1/complaints", &token, file_body()).await;

    // Assert
    assert_eq!(
        traced.status,
        StatusCode::CREATED,
        "{backend}: {:?}",
        traced.body
    );
    assert_eq!(untraced.status, StatusCode::CREATED, "{backend}");
    let events = app.store.read_log(before, 100).await.unwrap();
    let of = |id: &serde_json::Value| -> Vec<serde_json::Value> {
        events
            .iter()
            .filter(|e| e.aggregate_id == id.as_str().unwrap())
            .map(|e| e.metadata.clone())
            .collect()
    };
    let traced_events = of(&traced.body["complaint_id"]);
    assert!(!traced_events.is_empty(), "{backend}");
    for metadata in traced_events {
        assert_eq!(
            metadata["traceparent"], TRACEPARENT,
            "{backend}: {metadata}"
        );
        assert_eq!(metadata["command"], "FileComplaint", "{backend}");
    }
    // The untraced command started a trace of its own: a valid context, new trace id, shared by
    // all its events.
    let started: Vec<String> = of(&untraced.body["complaint_id"])
        .iter()
        .map(|metadata| {
            metadata["traceparent"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(!started.is_empty(), "{backend}");
    let trace_id = |traceparent: &str| traceparent.split('-').nth(1).map(str::to_owned);
    let first = &started[0];
    let parts: Vec<&str> = first.split('-').collect();
    assert_eq!(parts.len(), 4, "{backend}: {first}");
    assert_eq!((parts[0], parts[3]), ("00", "01"), "{backend}: {first}");
    assert_eq!(
        (parts[1].len(), parts[2].len()),
        (32, 16),
        "{backend}: {first}"
    );
    assert!(
        first.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()),
        "{backend}: {first}"
    );
    assert_ne!(trace_id(first), trace_id(TRACEPARENT), "{backend}");
    assert!(started.iter().all(|t| t == first), "{backend}: {started:?}");
}

on_both_backends!(ops_a_commands_traceparent_is_stored_in_the_metadata_of_its_events);

#[tokio::test]
async fn ops_every_response_carries_a_request_id_and_a_callers_id_is_kept() {
    // Arrange
    let app = TestApp::spawn_without_projectors(Backend::Sqlite).await;
    let paths = ["/healthz", "/readyz", "/v1/complaints", "/no/such/route"];

    for path in paths {
        // Act
        let url = format!("{}{path}", app.base);
        let fresh = app.send(app.client.get(&url)).await;
        let kept = app
            .send(
                app.client
                    .get(&url)
                    .header("x-request-id", "caller-chosen-id"),
            )
            .await;

        // Assert: a new UUID when the caller sent none, the caller's own otherwise.
        let id = fresh.headers["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{path}: {id}");
        assert_eq!(kept.headers["x-request-id"], "caller-chosen-id", "{path}");
    }
}

#[tokio::test]
async fn ops_readyz_reports_each_projections_lag_and_degrades_past_100_events() {
    // Arrange: nothing runs the projections, so they stay at 0 while the log grows.
    let app = TestApp::spawn_without_projectors(Backend::Sqlite).await;
    app.seed_hostel().await;
    let head = app.head().await;

    // Act
    let small = app.get("/readyz", "").await;
    let token = app.token(Role::Resident, "res-1", &[HOSTEL]);
    while app.head().await <= 100 {
        let filed = app.post("/v1/complaints", &token, file_body()).await;
        assert_eq!(filed.status, StatusCode::CREATED);
    }
    let big_head = app.head().await;
    let big = app.get("/readyz", "").await;

    // Assert: a lag is reported per projection; past 100 events it is degraded, yet still ready.
    assert_eq!(small.status, StatusCode::OK);
    assert_eq!(
        small.body["checks"]["projection_lag"],
        format!("ok: complaint_list {head}, complaint_detail {head}, event_counts {head}, dashboard {head} events behind"),
        "{:?}",
        small.body
    );
    assert_eq!(big.status, StatusCode::OK);
    assert_eq!(big.body["status"], "ok");
    assert_eq!(
        big.body["checks"]["projection_lag"],
        format!(
            "degraded: complaint_list {big_head}, complaint_detail {big_head}, event_counts {big_head}, dashboard {big_head} events behind"
        )
    );
}

async fn ops_projectors_asked_to_stop_finish_their_batch_at_once_and_move_no_further(
    backend: Backend,
) {
    use cms_projections::checkpoint;
    use cms_projections::runner::{self, RunnerConfig};
    use cms_projections::Projection;
    use std::time::{Duration, Instant};

    // Arrange: projectors that poll only every 30 s, caught up with a small log.
    let app = TestApp::spawn_without_projectors(backend).await;
    app.seed_hostel().await;
    let db = app.store.db().clone();
    let config = RunnerConfig {
        batch_size: 2,
        poll_interval: Duration::from_secs(30),
    };
    let projectors = runner::spawn(&db, config);
    let head = app.head().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    for projection in Projection::ALL {
        while checkpoint::current(&db, projection).await.unwrap().position < head {
            assert!(
                Instant::now() < deadline,
                "{backend}: {projection} never caught up"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    // Act: stop them while they wait for their next poll.
    let asked = Instant::now();
    let stopped = projectors.shutdown(Duration::from_secs(10)).await;
    let took = asked.elapsed();
    app.file("res-1").await;

    // Assert: they stopped on their own, without waiting out the poll, and no longer follow.
    assert!(stopped, "{backend}");
    assert!(took < Duration::from_secs(5), "{backend}: {took:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    for projection in Projection::ALL {
        let checkpoint = checkpoint::current(&db, projection).await.unwrap();
        assert_eq!(checkpoint.position, head, "{backend}: {projection}");
    }
}

on_both_backends!(ops_projectors_asked_to_stop_finish_their_batch_at_once_and_move_no_further);

#[tokio::test]
async fn ops_readyz_reports_the_bus_and_the_object_store_and_degrades_when_nats_is_down() {
    // Arrange: an instance on NATS.
    let mut nats = cms_tests::nats::NatsServer::start();
    let db = std::sync::Arc::new(cms_tests::TestDatabase::postgres().await);
    let app = TestApp::spawn_on(db, Some(crate::fanout::options(Some(&nats)))).await;
    app.seed_hostel().await;
    let head = app.head().await;

    // Act + Assert: once the relay has published the log, the bus line shows the stream's head.
    let expected = format!("ok: nats bus, stream at {head} (hub at {head})");
    crate::fanout::eventually(
        std::time::Duration::from_secs(15),
        "readyz shows the bus",
        || async {
            let ready = app.get("/readyz", "").await;
            ready.body["checks"]["bus"] == expected.as_str()
        },
    )
    .await;
    let ready = app.get("/readyz", "").await;
    assert_eq!(
        ready.body["checks"]["object_store"], "ok",
        "{:?}",
        ready.body
    );

    // NATS goes away: degraded, still ready (commands work; the hub follows the log).
    nats.kill();
    let ready = app.get("/readyz", "").await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    assert_eq!(ready.body["status"], "ok");
    let bus = ready.body["checks"]["bus"].as_str().unwrap();
    assert!(bus.starts_with("degraded: nats bus"), "{bus}");
}
