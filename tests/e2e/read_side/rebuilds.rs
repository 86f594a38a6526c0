//! Rebuilding read models from the log: after a random workload every rebuilt model (list, event
//! counts, dashboard, detail) equals the live one, and a rebuild runs beside the live model, which
//! keeps answering and following new commands, and switches over whole.

use std::time::{Duration, Instant};

use cms_domain::actor::Role;
use cms_projections::checkpoint::State;
use cms_projections::runner;
use cms_projections::Projection;
use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::json;

use super::models::{
    details_match_aggregates_and_a_rebuild, event_counts, rows_match_aggregates, table,
};
use super::workload::random_workload;
use super::{caught_up, detail_checkpoint, rebuild, rebuild_one};
use crate::support::{file_body, TestApp, HOSTEL};

on_both_backends!(
    flavor = "multi_thread", worker_threads = 2;
    rebuilding_after_a_random_workload_gives_the_live_rows,
    a_rebuild_runs_beside_the_live_model_and_switches_over_whole,
);

async fn rebuilding_after_a_random_workload_gives_the_live_rows(backend: Backend) {
    // Arrange: a live projector follows 1,200 random commands.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let accepted = random_workload(&app, 7, 1_200).await;
    assert!(accepted > 900, "only {accepted} commands were accepted");
    let live_checkpoint = caught_up(&app).await;
    assert_eq!(live_checkpoint.state, State::Running);
    let live = table(&app).await;
    assert!(live.len() > 200, "{} complaints", live.len());
    rows_match_aggregates(&app, &live).await;

    // Act: rebuild from 0 (with the live projector still running beside it).
    let rebuilt = rebuild(&app).await;

    // Assert: identical rows and checkpoint.
    assert_eq!(rebuilt.checkpoint.position, live_checkpoint.position);
    assert_eq!(rebuilt.events, app.head().await);
    assert_eq!(table(&app).await, live);
    // The same for event_counts, whose counts add up to the log's length.
    let live_counts = event_counts(&app).await;
    assert_eq!(
        live_counts.iter().map(|c| c.events).sum::<i64>(),
        app.head().await
    );
    rebuild_one(&app, Projection::EventCounts).await;
    assert_eq!(event_counts(&app).await, live_counts);
    // And for the dashboard model (complaints and resolutions).
    let live_dashboard = crate::dashboard::tables(&app).await;
    assert!(
        !live_dashboard.1.is_empty(),
        "the workload resolved nothing"
    );
    rebuild_one(&app, Projection::Dashboard).await;
    assert_eq!(crate::dashboard::tables(&app).await, live_dashboard);
    // And for the complaint detail.
    while detail_checkpoint(&app).await.position < app.head().await {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    details_match_aggregates_and_a_rebuild(&app).await;
}

async fn a_rebuild_runs_beside_the_live_model_and_switches_over_whole(backend: Backend) {
    // Arrange: a live projector has followed a workload.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    random_workload(&app, 5, 600).await;
    caught_up(&app).await;
    let before = table(&app).await;
    let head = app.head().await;
    let db = app.store.db().clone();
    let (signal, started) = tokio::sync::oneshot::channel::<()>();
    let mut signal = Some(signal);
    let mut report = move |position: i64, _head: i64| {
        if position >= head / 3 {
            if let Some(signal) = signal.take() {
                let _ = signal.send(());
            }
        }
    };

    // Act: rebuild one event per batch; a third of the way through, file a complaint and read it back
    // from the live list, and read the whole list a few times.
    let rebuilding = async {
        let rebuilt = runner::rebuild(&db, Projection::ComplaintList, 1, &mut report)
            .await
            .unwrap();
        (rebuilt, Instant::now())
    };
    let probing = async {
        started.await.unwrap();
        let token = app.token(Role::Resident, "res-probe", &[HOSTEL]);
        let filed = app.post("/v1/complaints", &token, file_body()).await;
        assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
        let id = filed.body["complaint_id"].as_str().unwrap().to_owned();
        let path = format!("/v1/complaints?min_position={}", filed.position());
        let listed = app.get(&path, &token).await;
        assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
        assert_eq!(listed.body["items"][0]["id"], json!(id));
        let seen = Instant::now();
        let mut sizes = Vec::new();
        for _ in 0..10 {
            sizes.push(table(&app).await.len());
        }
        (id, seen, sizes)
    };
    let ((rebuilt, finished), (id, seen, sizes)) = tokio::join!(rebuilding, probing);

    // Assert: commands and the live projector went on during the rebuild, readers always saw a whole
    // model, and the switched-in model is the complete one, new complaint included.
    assert!(
        seen < finished,
        "the new complaint reached the live list only after the rebuild"
    );
    assert!(sizes.iter().all(|n| *n > before.len()), "{sizes:?}");
    assert!(rebuilt.checkpoint.position > head, "{rebuilt:?}");
    assert_eq!(rebuilt.checkpoint.state, State::Running);
    caught_up(&app).await;
    let after = table(&app).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.iter().any(|row| row.id == id));
    rows_match_aggregates(&app, &after).await;
    rebuild(&app).await;
    assert_eq!(table(&app).await, after);
}
