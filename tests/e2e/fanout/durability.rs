//! Failures in the middle of a burst: relays killed (aborted mid-publish) and restarted, two relays
//! at once, and the NATS server killed and restarted while commands flow. The stream must end with
//! every event exactly once at sequence == position, and WebSocket clients with none missing and
//! none twice.

use std::sync::Arc;
use std::time::Duration;

use cms_api::fanout::{Bus, NatsConfig, Relay, RelayConfig, RelayHandle};
use cms_tests::nats::NatsServer;
use cms_tests::TestDatabase;
use reqwest::StatusCode;
use serde_json::json;

use super::{eventually, file_in, options, positions, Ws};
use crate::support::{TestApp, HOSTEL};

/// Checks the stream holds exactly the log: sequence n is the event at position n, once.
async fn assert_stream_is_the_log(nats: &NatsServer, app: &TestApp) {
    let head = app.head().await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    eventually(
        Duration::from_secs(20),
        "the stream reaches the log head",
        || {
            let js = js.clone();
            async move {
                let Ok(mut stream) = js.get_stream("CMS_EVENTS").await else {
                    return false;
                };
                stream
                    .info()
                    .await
                    .is_ok_and(|i| i.state.last_sequence == u64::try_from(head).unwrap())
            }
        },
    )
    .await;
    let mut stream = js.get_stream("CMS_EVENTS").await.unwrap();
    let state = stream.info().await.unwrap().state.clone();
    assert_eq!(
        state.messages, state.last_sequence,
        "no gaps, no extra messages"
    );
    assert_eq!(state.first_sequence, 1);
    let log = app.store.read_log(0, 100_000).await.unwrap();
    assert_eq!(log.len() as i64, head);
    for event in &log {
        let seq = u64::try_from(event.global_position).unwrap();
        let message = stream.get_raw_message(seq).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(body["position"], event.global_position, "sequence {seq}");
        assert_eq!(body["event_id"], json!(event.event_id), "sequence {seq}");
    }
}

#[tokio::test]
async fn relays_killed_and_restarted_mid_burst_store_each_event_exactly_once_in_order() {
    // Arrange: an instance without a relay of its own; relays come and go beside it.
    let nats = NatsServer::start();
    let db = Arc::new(TestDatabase::postgres().await);
    let mut opts = options(Some(&nats));
    opts.relay = false;
    let app = Arc::new(TestApp::spawn_on(db, Some(opts)).await);
    app.seed_hostel().await;
    let mut ids = Vec::new();
    for resident in ["res-a", "res-b", "res-c"] {
        ids.push(file_in(&app, HOSTEL, resident).await);
    }
    let config = RelayConfig {
        batch_size: 7,
        poll_interval: Duration::from_millis(5),
        retry_after: Duration::from_millis(50),
    };

    // Act: 300 commands from 3 writers while pairs of relays start and are aborted at random.
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let app = app.clone();
            let id = ids[w].clone();
            tokio::spawn(async move {
                for n in 0..100 {
                    let answer = app
                        .post(
                            &format!("/v1/complaints/{id}/comments"),
                            &app.admin(),
                            json!({ "body": format!("w{w} n{n}") }),
                        )
                        .await;
                    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
                }
            })
        })
        .collect();
    let mut kills = 0;
    while !writers.iter().all(tokio::task::JoinHandle::is_finished) {
        let first = start_relay(&nats, &app, config).await;
        let second = start_relay(&nats, &app, config).await;
        tokio::time::sleep(Duration::from_millis(rand::random::<u64>() % 60 + 10)).await;
        first.abort();
        second.abort();
        kills += 2;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let last = start_relay(&nats, &app, config).await;

    // Assert
    assert!(kills >= 4, "the relays were killed {kills} times");
    assert_stream_is_the_log(&nats, &app).await;
    drop(last);
}

/// A relay with a NATS connection of its own.
async fn start_relay(nats: &NatsServer, app: &TestApp, config: RelayConfig) -> RelayHandle {
    let bus = Bus::nats(NatsConfig::new(nats.url())).await.unwrap();
    Relay::new(app.store.clone(), bus, config).spawn()
}

#[tokio::test]
async fn nats_killed_and_restarted_while_commands_flow_loses_and_duplicates_nothing() {
    // Arrange
    let mut nats = NatsServer::start();
    let db = Arc::new(TestDatabase::postgres().await);
    let app = Arc::new(TestApp::spawn_on(db, Some(options(Some(&nats)))).await);
    app.seed_hostel().await;
    let id = file_in(&app, HOSTEL, "res-asha").await;
    let mut ws = Ws::open(&app, &app.admin(), "").await;
    let (_, live_from) = ws.until_live().await;

    // Act: 150 commands; NATS is killed after the 40th and restarted 1.5 s later.
    let (killed_tx, killed_rx) = tokio::sync::oneshot::channel();
    let writer = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut killed_tx = Some(killed_tx);
            for n in 0..150 {
                let answer = app
                    .post(
                        &format!("/v1/complaints/{id}/comments"),
                        &app.admin(),
                        json!({ "body": format!("n{n}") }),
                    )
                    .await;
                assert_eq!(
                    answer.status,
                    StatusCode::OK,
                    "command {n}: {:?}",
                    answer.body
                );
                if n == 40 {
                    let _ = killed_tx.take().unwrap().send(());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    killed_rx.await.unwrap();
    nats.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nats.restart();
    writer.await.unwrap();
    let head = app.head().await;

    // Assert: the stream caught up exactly; the client has every position once.
    assert_stream_is_the_log(&nats, &app).await;
    let events = ws.events_through(head, Duration::from_secs(20)).await;
    let got = positions(&events);
    assert_eq!(got, ((live_from + 1)..=head).collect::<Vec<_>>());
}
