//! Reads from a real hot standby (a private primary + streaming standby pair the harness starts):
//! a read that carries the consistency token of the command before it never misses that command,
//! most reads are served by the standby, and when the standby stops, reads fall back to the primary
//! and keep succeeding.

use std::sync::Arc;

use cms_api::reads::Reads;
use cms_domain::actor::Role;
use cms_tests::replica::ReplicatedCluster;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{TestApp, HOSTEL};

const LANES: usize = 8;
const PAIRS_PER_LANE: usize = 250;

/// Files a complaint titled `title` as `resident` and returns its id and the position of its event.
async fn file(app: &TestApp, token: &str, title: &str) -> (String, i64) {
    let body = json!({
        "hostel": HOSTEL, "wing": "B", "room": "B204", "category": "plumbing", "severity": "high",
        "title": title, "description": "The cold tap drips all night long."
    });
    let filed = app.post("/v1/complaints", token, body).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    (
        filed.body["complaint_id"].as_str().unwrap().to_owned(),
        filed.position(),
    )
}

/// Files then reads back with the token, `pairs` times; returns how many reads missed their write.
async fn command_then_read(app: &TestApp, lane: usize, pairs: usize) -> usize {
    let token = app.token(Role::Resident, &format!("res-{lane}"), &[HOSTEL]);
    let mut stale = 0;
    for pair in 0..pairs {
        let title = format!("Tap L{lane}P{pair}X");
        let (id, position) = file(app, &token, &title).await;
        let path = format!("/v1/complaints?q=L{lane}P{pair}X&min_position={position}&limit=5");
        let read = app.get(&path, &token).await;
        assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
        let ids: Vec<&Value> = read.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| &item["id"])
            .collect();
        if read.position() < position || ids != [&json!(id)] {
            stale += 1;
        }
    }
    stale
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_on_a_hot_standby_honour_the_token_and_fall_back_when_it_stops() {
    // Arrange: a primary + hot standby, CMS writing to the one and reading from the other.
    let mut cluster = tokio::task::spawn_blocking(ReplicatedCluster::start)
        .await
        .unwrap();
    let (app, reads): (TestApp, Arc<Reads>) =
        TestApp::spawn_with_replicas(&cluster.primary_url(), &[cluster.standby_url()]).await;
    app.seed_hostel().await;
    let before = reads.counts();

    // Act: 2,000 command-then-read pairs in 8 concurrent lanes.
    let stale: usize =
        join_all((0..LANES).map(|lane| command_then_read(&app, lane, PAIRS_PER_LANE)))
            .await
            .into_iter()
            .sum();
    let during = reads.counts();

    // Assert: no read missed its write, and the standby served (nearly) all of them.
    assert_eq!(stale, 0, "stale reads out of {}", LANES * PAIRS_PER_LANE);
    let served = during.replica - before.replica;
    let total = (LANES * PAIRS_PER_LANE) as u64;
    assert_eq!(
        served + (during.primary_behind - before.primary_behind),
        total,
        "{during:?}"
    );
    assert!(
        served * 10 >= total * 9,
        "only {served} of {total} reads were served by the standby: {during:?}"
    );
    let ready = app.get("/readyz", &app.admin()).await;
    assert_eq!(ready.status, StatusCode::OK);
    let replicas = ready.body["checks"]["replicas"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(replicas.starts_with("ok: "), "{replicas}");
    // `/readyz` answers anyone: the replica's address, never its URL (user, database name).
    assert!(replicas.contains("replica 0 ("), "{replicas}");
    assert!(!replicas.contains("postgres"), "{replicas}");

    // Act: the standby crashes; reads go on.
    cluster.stop_standby();
    let stale = command_then_read(&app, LANES, 50).await;

    // Assert: every read succeeded on the primary, and readiness shows the standby as degraded.
    assert_eq!(stale, 0);
    let after = reads.counts();
    assert_eq!(
        after.primary_unreachable - during.primary_unreachable,
        50,
        "{after:?}"
    );
    let ready = app.get("/readyz", &app.admin()).await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    let replicas = ready.body["checks"]["replicas"].as_str().unwrap();
    assert!(
        replicas.starts_with("degraded: ") && replicas.ends_with("unreachable"),
        "{replicas}"
    );
}
