//! Resume and back-pressure: a client that reconnects with `after=N` gets every event after N once
//! (on both buses), a resume too far behind gets `resync`, and a client that never reads is
//! disconnected while a reading client on the same instance misses nothing.

use std::sync::Arc;
use std::time::Duration;

use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::ids::UserId;
use cms_tests::nats::NatsServer;
use cms_tests::TestDatabase;

use super::{comment, eventually, file_in, options, positions, Ended, Ws};
use crate::support::{TestApp, HOSTEL};

#[tokio::test]
async fn a_client_resuming_after_a_dropped_connection_gets_no_gap_and_no_duplicate() {
    let nats = NatsServer::start();
    for with_nats in [false, true] {
        // Arrange
        let db = Arc::new(TestDatabase::postgres().await);
        let app = TestApp::spawn_on(db, Some(options(with_nats.then_some(&nats)))).await;
        app.seed_hostel().await;
        let id = file_in(&app, HOSTEL, "res-asha").await;
        let mut first = Ws::open(&app, &app.admin(), "").await;
        let (_, live_from) = first.until_live().await;
        let mut last = 0;
        for n in 0..20 {
            last = comment(&app, &id, "public", &format!("a{n}")).await;
        }

        // Act: read part of it, drop the connection, miss more, resume with after=N.
        let mut got = Vec::new();
        for _ in 0..8 {
            got.push(first.next(Duration::from_secs(10)).await.unwrap());
        }
        first.close().await;
        let resume_after = got.last().unwrap()["position"].as_i64().unwrap();
        for n in 0..20 {
            last = comment(&app, &id, "internal", &format!("b{n}")).await;
        }
        let mut second = Ws::open(&app, &app.admin(), &format!("after={resume_after}")).await;
        let (caught_up, _) = second.until_live().await;
        got.extend(caught_up);
        for n in 0..10 {
            last = comment(&app, &id, "public", &format!("c{n}")).await;
        }
        got.extend(second.events_through(last, Duration::from_secs(10)).await);

        // Assert
        let got = positions(&got);
        assert_eq!(
            got,
            ((live_from + 1)..=last).collect::<Vec<_>>(),
            "nats: {with_nats}"
        );
    }
}

#[tokio::test]
async fn a_resume_too_far_behind_gets_resync_and_then_live_events() {
    // Arrange
    let db = Arc::new(TestDatabase::sqlite());
    let mut opts = options(None);
    opts.gateway.max_catchup = 5;
    let app = TestApp::spawn_on(db, Some(opts)).await;
    app.seed_hostel().await;
    let id = file_in(&app, HOSTEL, "res-asha").await;
    for n in 0..10 {
        comment(&app, &id, "public", &format!("n{n}")).await;
    }
    let head = app.head().await;
    let hub = app.fanout.as_ref().unwrap().gateway.hub().clone();
    eventually(Duration::from_secs(10), "the hub reaches the head", || {
        let hub = hub.clone();
        async move { hub.position() >= head }
    })
    .await;

    // Act
    let mut ws = Ws::open(&app, &app.admin(), "after=1").await;
    let resync = ws.next(Duration::from_secs(10)).await.unwrap();
    let (replayed, live) = ws.until_live().await;
    let next = comment(&app, &id, "public", "after the resync").await;
    let events = ws.events_through(next, Duration::from_secs(10)).await;

    // Assert
    assert_eq!(resync["type"], "resync");
    assert_eq!(resync["reason"], "too_old");
    assert_eq!(resync["position"], head);
    assert!(replayed.is_empty(), "{replayed:?}");
    assert_eq!(live, head);
    assert_eq!(positions(&events), [next]);

    // A resume within the bound is caught up instead.
    let mut near = Ws::open(&app, &app.admin(), &format!("after={}", next - 3)).await;
    let (caught_up, _) = near.until_live().await;
    assert_eq!(positions(&caught_up), [next - 2, next - 1, next]);
}

#[tokio::test]
async fn a_client_that_never_reads_is_disconnected_and_a_reading_client_misses_nothing() {
    // Arrange: a 1 s send timeout; the never-reading client has a 4 KiB receive buffer.
    let db = Arc::new(TestDatabase::postgres().await);
    let mut opts = options(None);
    opts.gateway.send_timeout = Duration::from_secs(1);
    opts.gateway.queue = 64;
    let app = TestApp::spawn_on(db, Some(opts)).await;
    let gateway = app.fanout.as_ref().unwrap().gateway.clone();
    app.seed_hostel().await;
    let id = file_in(&app, HOSTEL, "res-asha").await;
    let slow_actor = Actor::new(
        UserId::parse("admin-slow").unwrap(),
        Role::Admin,
        HostelScope::All,
    );
    let slow_token = app.token(Role::Admin, "admin-slow", &["*"]);
    let _never_reads = Ws::open_with_small_buffer(&app, &slow_token).await;
    let mut reader = Ws::open(&app, &app.admin(), "").await;
    let (_, live_from) = reader.until_live().await;
    eventually(Duration::from_secs(5), "both sockets are attached", || {
        let gateway = gateway.clone();
        async move { gateway.hub().receivers() == 2 }
    })
    .await;

    // Act: 4,000-character comments until the gateway lets the slow socket go.
    let body = "x".repeat(4000);
    let mut last = live_from;
    let mut sent = 0;
    let mut got = Vec::new();
    while gateway.sockets_of(&slow_actor) > 0 {
        assert!(
            sent < 2000,
            "the never-reading socket is still open after {sent} events"
        );
        for _ in 0..20 {
            last = comment(&app, &id, "public", &body).await;
            sent += 1;
        }
        got.extend(reader.events_through(last, Duration::from_secs(10)).await);
    }

    // Assert: its slot and its broadcast receiver are gone; the reader has every event once.
    eprintln!("the never-reading socket was closed after {sent} events");
    assert_eq!(gateway.hub().receivers(), 1);
    last = comment(&app, &id, "public", "one more").await;
    got.extend(reader.events_through(last, Duration::from_secs(10)).await);
    assert_eq!(
        positions(&got),
        ((live_from + 1)..=last).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_client_that_falls_behind_its_queue_gets_resync_then_close_4008() {
    // Arrange: a queue of 4 events, a long send timeout, a client that reads only later.
    let db = Arc::new(TestDatabase::postgres().await);
    let mut opts = options(None);
    opts.gateway.queue = 4;
    opts.gateway.send_timeout = Duration::from_secs(60);
    let app = TestApp::spawn_on(db, Some(opts)).await;
    app.seed_hostel().await;
    let id = file_in(&app, HOSTEL, "res-asha").await;
    let mut ws = Ws::open_with_small_buffer(&app, &app.admin()).await;
    let (_, live_from) = ws.until_live().await;

    // Act: more 4,000-character events than the buffers and the queue hold, then start reading.
    let body = "y".repeat(4000);
    for _ in 0..80 {
        comment(&app, &id, "public", &body).await;
    }
    let mut received = Vec::new();
    let end = loop {
        match ws.next(Duration::from_secs(15)).await {
            Ok(message) => received.push(message),
            Err(end) => break end,
        }
    };

    // Assert: some events in order, then resync naming the last one delivered, then 4008.
    let (resync, events) = received.split_last().unwrap();
    assert_eq!(resync["type"], "resync", "{resync}");
    assert_eq!(resync["reason"], "slow_consumer");
    let got = positions(events);
    assert!(!got.is_empty() && got.len() < 81, "{} events", got.len());
    assert_eq!(
        got,
        ((live_from + 1)..=(live_from + got.len() as i64)).collect::<Vec<_>>()
    );
    assert_eq!(resync["position"], *got.last().unwrap());
    assert_eq!(end, Ended::Closed(Some(4008)));
}
