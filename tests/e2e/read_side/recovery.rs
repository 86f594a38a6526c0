//! Projector checkpoints under failure: projectors killed at random moments (sometimes two at once)
//! end where a rebuild ends, and a poison event stops only its own projections at the position
//! before it, is reported (checkpoint, status, `/readyz`, `Min-Position` reads) and stops a rebuild
//! at the same place.

use std::time::{Duration, Instant};

use cms_projections::checkpoint::{self, State};
use cms_projections::runner::{self, RunnerConfig};
use cms_projections::Projection;
use cms_tests::Backend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;

use super::models::{detail_table, event_counts, rows_match_aggregates, table};
use super::workload::random_workload;
use super::{caught_up, detail_checkpoint, list_checkpoint, rebuild, rebuild_one};
use crate::support::TestApp;

on_both_backends!(
    flavor = "multi_thread", worker_threads = 2;
    a_projector_killed_mid_way_and_restarted_ends_equal_to_a_rebuild,
    a_poison_event_stops_only_its_projection_and_is_reported,
);

async fn a_projector_killed_mid_way_and_restarted_ends_equal_to_a_rebuild(backend: Backend) {
    // Arrange: a log with no projector following it.
    let app = TestApp::spawn_without_projectors(backend).await;
    app.seed_hostel().await;
    random_workload(&app, 11, 300).await;
    let head = app.head().await;
    let db = app.store.db().clone();
    let config = RunnerConfig {
        batch_size: 7,
        poll_interval: Duration::from_millis(2),
    };

    // Act: start projectors (sometimes two at once) and kill them at random moments until done.
    let mut rng = StdRng::seed_from_u64(3);
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while list_checkpoint(&app).await.position < head
        || detail_checkpoint(&app).await.position < head
    {
        let first = runner::spawn(&db, config);
        let second = rng.gen_bool(0.3).then(|| runner::spawn(&db, config));
        // The window grows with every kill (5 ms a kill: three projections share SQLite's single
        // writer), so a slow or loaded machine still makes progress in the end.
        let window = 15 + 5 * kills;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(1..window))).await;
        drop(first);
        drop(second);
        kills += 1;
        assert!(
            Instant::now() < deadline,
            "no progress after {kills} kills: {:?}",
            list_checkpoint(&app).await
        );
    }
    let restarted = table(&app).await;
    let checkpoint = list_checkpoint(&app).await;

    // Assert: the same as a rebuild from scratch.
    assert!(kills > 1, "the projector was never interrupted");
    assert_eq!(checkpoint.position, head);
    assert_eq!(checkpoint.state, State::Running);
    rebuild(&app).await;
    assert_eq!(table(&app).await, restarted);
    rows_match_aggregates(&app, &restarted).await;
    assert_eq!(detail_checkpoint(&app).await.position, head);
    let details = detail_table(&app).await;
    rebuild_one(&app, Projection::ComplaintDetail).await;
    assert_eq!(detail_table(&app).await, details);
}

/// Appends an event whose payload is not a complaint event, as a stranger with write access could.
async fn insert_poison(app: &TestApp) -> i64 {
    let id = uuid::Uuid::now_v7().to_string();
    match app.store.db().clone() {
        cms_eventstore::Db::Postgres(pool) => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata) VALUES ('Complaint', $1, 1, 'ComplaintFiled', \
                 '1', '{\"ComplaintFiled\": {\"nonsense\": true}}', '{}')",
            )
            .bind(&id)
            .execute(&pool)
            .await
            .unwrap();
        }
        cms_eventstore::Db::Sqlite { write, .. } => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, global_position, event_id) VALUES \
                 ('Complaint', ?1, 1, 'ComplaintFiled', '1', \
                 '{\"ComplaintFiled\": {\"nonsense\": true}}', '{}', \
                 (SELECT last_position + 1 FROM event_log_head), ?2)",
            )
            .bind(&id)
            .bind(uuid::Uuid::new_v4().to_string())
            .execute(&write)
            .await
            .unwrap();
        }
    }
    app.head().await
}

async fn a_poison_event_stops_only_its_projection_and_is_reported(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let before = app.file("res-a").await;
    caught_up(&app).await;

    // Act: a poison event, then an ordinary command after it.
    let poison = insert_poison(&app).await;
    let after = app.file("res-a").await;
    let stopped = caught_up(&app).await;

    // Assert: stopped exactly before the poison, reported with the reason; writes still work.
    assert_eq!(stopped.state, State::Failed);
    assert_eq!(stopped.position, poison - 1);
    let error = stopped.error.clone().unwrap();
    assert!(error.contains(&format!("position {poison}")), "{error}");
    let status = checkpoint::status(&app.store.db().clone()).await.unwrap();
    let row = status
        .iter()
        .find(|s| s.projection == "complaint_list")
        .unwrap();
    // The other projection went on past the poison event.
    let counts = event_counts(&app).await;
    assert_eq!(counts.iter().map(|c| c.events).sum::<i64>(), poison + 1);
    let other = checkpoint::current(&app.store.db().clone(), Projection::EventCounts)
        .await
        .unwrap();
    assert_eq!((other.position, other.state), (poison + 1, State::Running));
    assert_eq!(row.state, State::Failed);
    assert_eq!(
        (row.position, row.head, row.lag),
        (poison - 1, poison + 1, 2)
    );
    assert_eq!(row.error.as_deref(), Some(error.as_str()));
    // It does not move on by itself, and the list still answers at the stopped position.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(list_checkpoint(&app).await.position, poison - 1);
    let list = app.get("/v1/complaints", &app.admin()).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.position(), poison - 1);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![before.as_str()]);
    assert!(!ids.contains(&after.as_str()));
    let waiting = app
        .send(
            app.client
                .get(format!("{}/v1/complaints", app.base))
                .bearer_auth(app.admin())
                .header("Min-Position", poison + 1),
        )
        .await;
    assert_eq!(waiting.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(waiting.code(), "projection_behind");
    assert!(waiting.headers.contains_key("retry-after"));
    let ready = app.get("/readyz", "").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.body["checks"]["projections"],
        "degraded: complaint_list, complaint_detail, dashboard failed"
    );
    // A rebuild meets the same event and stops at the same place.
    let rebuilt = rebuild(&app).await;
    assert_eq!(rebuilt.checkpoint.position, poison - 1);
    assert_eq!(rebuilt.checkpoint.state, State::Failed);
}
