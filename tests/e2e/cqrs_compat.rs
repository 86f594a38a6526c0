//! The event store seen through cqrs-es: `PersistedEventStore` over `CqrsRepository` loads the
//! aggregates the executor wrote, and the repository streams all events in commit order (cqrs-es's own
//! `replay_all` would order them by per-aggregate sequence).

use cms_domain::actor::Role;
use cms_domain::complaint::{Complaint, Status};
use cms_eventstore::store::{CqrsRepository, EventStore};
use cms_tests::Backend;
use cqrs_es::persist::{PersistedEventRepository, PersistedEventStore};
use cqrs_es::EventStore as _;

use crate::support::TestApp;

async fn cqrs_es_loads_what_the_executor_wrote_and_streams_in_commit_order(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let first = app.file("res-a").await;
    let second = app.file("res-b").await;
    let warden = app.token(Role::Warden, "warden-w", &["north"]);
    let triaged = app
        .post(
            &format!("/v1/complaints/{first}/triage"),
            &warden,
            serde_json::json!({"priority": "P1"}),
        )
        .await;
    assert_eq!(triaged.status, reqwest::StatusCode::OK);
    let repository = CqrsRepository::new(EventStore::clone(&app.store));
    let store =
        PersistedEventStore::<CqrsRepository, Complaint>::new_event_store(repository.clone());

    // Act
    let context = store.load_aggregate(&first).await.unwrap();
    let mut stream = repository.stream_all_events::<Complaint>().await.unwrap();
    let mut streamed = Vec::new();
    while let Some(event) = stream.next::<Complaint>(&[]).await {
        let event = event.unwrap();
        streamed.push((event.aggregate_id, event.sequence));
    }

    // Assert
    assert_eq!(
        context.aggregate.status(),
        Some(Status::Triaged),
        "{backend:?}"
    );
    assert_eq!(
        streamed,
        vec![(first.clone(), 1), (second.clone(), 1), (first.clone(), 2)],
        "{backend:?}: commit order, not per-aggregate order"
    );
}

on_both_backends!(cqrs_es_loads_what_the_executor_wrote_and_streams_in_commit_order);
