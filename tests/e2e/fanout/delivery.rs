//! A command reaches WebSocket clients: over the in-process bus on both stores, over JetStream
//! (where the stream sequence is the position and the subject names hostel, complaint and type),
//! and from one instance to a client of another instance on the same database and NATS.

use std::sync::Arc;
use std::time::Duration;

use cms_domain::actor::Role;
use cms_tests::nats::NatsServer;
use cms_tests::{Backend, TestDatabase};
use reqwest::StatusCode;
use serde_json::json;

use super::{comment, eventually, file_in, options, Ended, Ws};
use crate::support::{TestApp, HOSTEL};

async fn a_command_reaches_a_websocket_client_over_the_in_process_bus(backend: Backend) {
    // Arrange
    let db = Arc::new(TestDatabase::new(backend).await);
    let app = TestApp::spawn_on(db, Some(options(None))).await;
    app.seed_hostel().await;
    let mut ws = Ws::open(&app, &app.admin(), "").await;
    let (backlog, _) = ws.until_live().await;
    assert!(
        backlog.is_empty(),
        "{backend}: a fresh socket replays nothing"
    );

    // Act
    let id = file_in(&app, HOSTEL, "res-asha").await;
    let head = app.head().await;

    // Assert
    let events = ws.events_through(head, Duration::from_secs(10)).await;
    let last = events
        .last()
        .unwrap_or_else(|| panic!("{backend}: nothing arrived"));
    assert_eq!(last["position"], head, "{backend}");
    assert_eq!(last["type"], "ComplaintFiled", "{backend}");
    assert_eq!(last["complaint_id"], id.as_str(), "{backend}");
    assert_eq!(last["hostel"], HOSTEL, "{backend}");
    assert_eq!(last["data"]["ComplaintFiled"]["room"], "B204", "{backend}");
    assert!(last["at"].is_string(), "{backend}");
}

on_both_backends!(a_command_reaches_a_websocket_client_over_the_in_process_bus);

#[tokio::test]
async fn a_command_reaches_a_websocket_client_over_jetstream_where_sequence_equals_position() {
    // Arrange
    let nats = NatsServer::start();
    let db = Arc::new(TestDatabase::postgres().await);
    let app = TestApp::spawn_on(db, Some(options(Some(&nats)))).await;
    app.seed_hostel().await;
    let mut ws = Ws::open(&app, &app.admin(), "").await;
    ws.until_live().await;

    // Act: the comment carries a W3C trace context.
    let id = file_in(&app, HOSTEL, "res-asha").await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let commented = app
        .send(
            app.client
                .post(format!("{}/v1/complaints/{id}/comments", app.base))
                .bearer_auth(app.admin())
                .header("traceparent", traceparent)
                .json(&json!({ "body": "Parts ordered", "visibility": "internal" })),
        )
        .await;
    assert_eq!(commented.status, StatusCode::OK, "{:?}", commented.body);
    let position = commented.position();

    // Assert: the socket got both, in order.
    let events = ws.events_through(position, Duration::from_secs(10)).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ComplaintFiled", "CommentAdded"]);
    // ... and the stream holds every event at sequence == position under the documented subject.
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream("CMS_EVENTS").await.unwrap();
    let log = app.store.read_log(0, 1000).await.unwrap();
    assert_eq!(log.len() as i64, position);
    for event in &log {
        let seq = u64::try_from(event.global_position).unwrap();
        let message = stream.get_raw_message(seq).await.unwrap();
        assert_eq!(message.sequence, seq);
        let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(body["position"], event.global_position);
        assert_eq!(body["event_id"], json!(event.event_id));
        let expected = if event.aggregate_type == "Complaint" {
            format!("cms.complaints.{HOSTEL}.{id}.{}", event.event_type)
        } else {
            format!("cms.hostels.{HOSTEL}.{}", event.event_type)
        };
        assert_eq!(message.subject.as_str(), expected);
        let msg_id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned());
        assert_eq!(msg_id, Some(event.event_id.to_string()));
        // Each event's trace context travels with it: the traced command's, and for the others the
        // trace their request started (recorded in their metadata).
        let trace = message
            .headers
            .get("traceparent")
            .map(|v| v.as_str().to_owned());
        let recorded = event.metadata["traceparent"].as_str().map(str::to_owned);
        assert!(recorded.is_some(), "position {}", event.global_position);
        assert_eq!(trace, recorded, "position {}", event.global_position);
        assert_eq!(
            trace.as_deref() == Some(traceparent),
            event.global_position == position,
            "position {}",
            event.global_position
        );
    }
}

#[tokio::test]
async fn a_command_to_one_instance_reaches_a_websocket_client_on_another() {
    // Arrange: two instances on one database and one NATS; both run a relay (one leads).
    let nats = NatsServer::start();
    let db = Arc::new(TestDatabase::postgres().await);
    let a = TestApp::spawn_on(db.clone(), Some(options(Some(&nats)))).await;
    let b = TestApp::spawn_on(db, Some(options(Some(&nats)))).await;
    a.seed_hostel().await;
    let mut on_b = Ws::open(&b, &b.admin(), "").await;
    on_b.until_live().await;

    // Act
    let id = file_in(&a, HOSTEL, "res-asha").await;
    let mut last = 0;
    for n in 0..20 {
        last = comment(&a, &id, "public", &format!("update {n}")).await;
    }

    // Assert: B's client gets A's events, each once, in order; the stream holds each event once.
    let events = on_b.events_through(last, Duration::from_secs(15)).await;
    let got: Vec<i64> = super::positions(&events);
    let filed = events
        .iter()
        .find(|e| e["type"] == "ComplaintFiled")
        .expect("the filing reached B");
    let first = filed["position"].as_i64().unwrap();
    assert_eq!(got, (first..=last).collect::<Vec<_>>());
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    eventually(
        Duration::from_secs(10),
        "the stream reaches the head",
        || {
            let js = js.clone();
            async move {
                let mut stream = js.get_stream("CMS_EVENTS").await.unwrap();
                let state = stream.info().await.unwrap().state.clone();
                state.last_sequence == u64::try_from(last).unwrap()
                    && state.messages == state.last_sequence
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_token_offered_as_a_subprotocol_opens_a_socket_and_the_socket_closes_when_it_expires() {
    // Arrange
    let db = Arc::new(TestDatabase::sqlite());
    let app = TestApp::spawn_on(db, Some(options(None))).await;
    let token = app.token_with_ttl(Role::Admin, "admin-2", &["*"], Duration::from_secs(3));
    let protocols = format!("cms.v1, bearer.{token}");

    // Act
    let mut ws = Ws::try_open(&app, "", &[("sec-websocket-protocol", protocols.as_str())])
        .await
        .unwrap_or_else(|(status, body)| panic!("refused: {status} {body}"));
    let (_, _) = ws.until_live().await;
    let started = std::time::Instant::now();
    let end = loop {
        match ws.next(Duration::from_secs(15)).await {
            Ok(_) => {}
            Err(end) => break end,
        }
    };

    // Assert: closed with 4001 around the token's expiry, not before.
    assert_eq!(end, Ended::Closed(Some(4001)));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_durable_consumer_redelivers_an_unacked_event_and_not_an_acked_one() {
    use cms_api::fanout::bus::DurableOptions;
    let nats = NatsServer::start();
    for with_nats in [false, true] {
        // Arrange
        let db = Arc::new(TestDatabase::sqlite());
        let nats_opt = with_nats.then_some(&nats);
        let app = TestApp::spawn_on(db, Some(options(nats_opt))).await;
        let bus = app.fanout.as_ref().unwrap().bus.clone();
        app.seed_hostel().await;
        eventually(Duration::from_secs(10), "the bus has the stream", || {
            let bus = bus.clone();
            async move { bus.last_sequence().await.is_ok_and(|n| n > 0) }
        })
        .await;
        let consumer = bus
            .durable(
                "filings",
                "cms.complaints.*.*.ComplaintFiled",
                DurableOptions {
                    ack_wait: Duration::from_secs(1),
                    max_deliver: 3,
                    backoff: Vec::new(),
                },
            )
            .await
            .unwrap();

        // Act
        let first = file_in(&app, HOSTEL, "res-asha").await;
        let second = file_in(&app, HOSTEL, "res-bo").await;
        let mut got = Vec::new();
        while got.len() < 2 {
            let batch = consumer.fetch(10, Duration::from_secs(5)).await.unwrap();
            assert!(!batch.is_empty(), "nothing delivered (nats: {with_nats})");
            got.extend(batch);
        }
        let ids: Vec<String> = got.iter().map(|d| d.event.aggregate_id.clone()).collect();
        assert_eq!(ids, [first.clone(), second.clone()], "nats: {with_nats}");
        assert!(got.iter().all(|d| d.attempt == 1));
        let mut got = got.into_iter();
        got.next().unwrap().ack().await.unwrap();
        drop(got); // the second is never acked

        // Assert: only the unacked one comes back, as a second attempt.
        let again = consumer.fetch(10, Duration::from_secs(5)).await.unwrap();
        assert_eq!(again.len(), 1, "nats: {with_nats}");
        assert_eq!(again[0].event.aggregate_id, second);
        assert_eq!(again[0].attempt, 2);
        for delivery in again {
            delivery.ack().await.unwrap();
        }
        let none = consumer.fetch(10, Duration::from_secs(2)).await.unwrap();
        assert!(none.is_empty(), "nats: {with_nats}");
    }
}

#[tokio::test]
async fn sockets_are_closed_with_going_away_when_the_server_shuts_down() {
    // Arrange: an open, live socket.
    let db = Arc::new(TestDatabase::sqlite());
    let app = TestApp::spawn_on(db, Some(options(None))).await;
    app.seed_hostel().await;
    let mut ws = Ws::open(&app, &app.admin(), "").await;
    ws.until_live().await;

    // Act: what `cms serve` does on SIGTERM.
    app.fanout.as_ref().unwrap().gateway.close_all();

    // Assert: the client is told to go elsewhere (1001), and a socket opened afterwards is too.
    let end = loop {
        match ws.next(Duration::from_secs(10)).await {
            Ok(_) => {}
            Err(end) => break end,
        }
    };
    assert_eq!(end, Ended::Closed(Some(1001)));
    let mut late = Ws::open(&app, &app.admin(), "").await;
    let end = loop {
        match late.next(Duration::from_secs(10)).await {
            Ok(_) => {}
            Err(end) => break end,
        }
    };
    assert_eq!(end, Ended::Closed(Some(1001)));
}
