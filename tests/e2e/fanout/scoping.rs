//! Scoping under load: two residents and a staff member of `north` follow everything they may see
//! while about 1,000 events happen in `north` and `south`, public and internal. Each must get
//! exactly what the REST rules allow (0 foreign, 0 missing, 0 twice). The sockets are read while the
//! events happen, as a dashboard reads them: a client that stops reading is the slow-client tests'
//! business (`refusals.rs`), not this one's.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cms_domain::actor::Role;
use cms_tests::nats::NatsServer;
use cms_tests::TestDatabase;
use reqwest::StatusCode;
use serde_json::json;

use super::{eventually, file_in, options, positions, register_hostel, staff, Ended, Ws, SOUTH};
use crate::support::{TestApp, HOSTEL};

#[tokio::test]
async fn two_residents_and_a_staff_member_get_no_foreign_event_among_a_thousand() {
    // Arrange
    let nats = NatsServer::start();
    let db = Arc::new(TestDatabase::postgres().await);
    let app = Arc::new(TestApp::spawn_on(db, Some(options(Some(&nats)))).await);
    app.seed_hostel().await;
    register_hostel(&app, SOUTH).await;
    let asha = app.token(Role::Resident, "res-asha", &[HOSTEL]);
    let bo = app.token(Role::Resident, "res-bo", &[HOSTEL]);
    let mut sockets = [
        Ws::open(&app, &asha, "").await,
        Ws::open(&app, &bo, "").await,
        Ws::open(&app, &staff(&app), "").await,
    ];
    let mut live_from = 0;
    for ws in &mut sockets {
        live_from = ws.until_live().await.1.max(live_from);
    }
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            let done = done.clone();
            tokio::spawn(async move {
                let mut events = Vec::new();
                // Until the log is written and the socket has been quiet for a while.
                loop {
                    match ws.next(Duration::from_millis(1500)).await {
                        Ok(message) if message["type"] != "live" => events.push(message),
                        Ok(_) => {}
                        Err(Ended::TimedOut) if done.load(Ordering::SeqCst) => return events,
                        Err(Ended::TimedOut) => {}
                        Err(ended) => panic!("the socket ended: {ended:?}"),
                    }
                }
            })
        })
        .collect();

    // Act: complaints of asha and bo in north and of cy in south, then 991 comments among them,
    // every third one internal, from four writers.
    let mut complaints = Vec::new();
    for (resident, hostel) in [("res-asha", HOSTEL), ("res-bo", HOSTEL), ("res-cy", SOUTH)] {
        for _ in 0..3 {
            complaints.push((file_in(&app, hostel, resident).await, resident));
        }
    }
    let complaints = Arc::new(complaints);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let app = app.clone();
            let complaints = complaints.clone();
            tokio::spawn(async move {
                for n in (w..991).step_by(4) {
                    let (id, _) = &complaints[n % complaints.len()];
                    let visibility = if n % 3 == 0 { "internal" } else { "public" };
                    let answer = app
                        .post(
                            &format!("/v1/complaints/{id}/comments"),
                            &app.admin(),
                            json!({ "body": format!("note {n}"), "visibility": visibility }),
                        )
                        .await;
                    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let head = app.head().await;
    let hub = app.fanout.as_ref().unwrap().gateway.hub().clone();
    eventually(Duration::from_secs(30), "the hub reaches the head", || {
        let hub = hub.clone();
        async move { hub.position() >= head }
    })
    .await;
    done.store(true, Ordering::SeqCst);

    // Assert: expected sets computed from the log with the REST rules, independently.
    let reporters: HashMap<&str, &str> =
        complaints.iter().map(|(id, r)| (id.as_str(), *r)).collect();
    let log = app.store.read_log(live_from, 100_000).await.unwrap();
    assert_eq!(log.len(), 1000, "events after the sockets went live");
    let visible_to = |who: &str| -> BTreeSet<i64> {
        log.iter()
            .filter(|e| {
                let internal = e.event_type == "CommentAdded"
                    && e.payload["CommentAdded"]["visibility"] != "public";
                match who {
                    "staff" => match e.aggregate_type.as_str() {
                        "Complaint" => reporters
                            .get(e.aggregate_id.as_str())
                            .is_some_and(|r| *r != "res-cy"),
                        _ => e.aggregate_id == HOSTEL,
                    },
                    resident => {
                        !internal && reporters.get(e.aggregate_id.as_str()) == Some(&resident)
                    }
                }
            })
            .map(|e| e.global_position)
            .collect()
    };
    for (reader, who) in readers.into_iter().zip(["res-asha", "res-bo", "staff"]) {
        let events = reader.await.unwrap();
        let got: BTreeSet<i64> = positions(&events).into_iter().collect();
        let expected = visible_to(who);
        let foreign: Vec<_> = got.difference(&expected).collect();
        let missing: Vec<_> = expected.difference(&got).collect();
        assert!(foreign.is_empty(), "{who}: foreign events {foreign:?}");
        assert!(missing.is_empty(), "{who}: missing events {missing:?}");
        assert!(!expected.is_empty(), "{who} should see something");
    }
}
