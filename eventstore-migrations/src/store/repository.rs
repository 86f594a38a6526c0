//! The event store seen through cqrs-es's `PersistedEventRepository`, so cqrs-es tooling
//! (`PersistedEventStore`, upcasters, replay streams) works over our schema.
//!
//! Differences from postgres-es, on purpose: snapshots are refused (ADR 0002), and
//! `stream_all_events` streams in global-position (commit) order and reports a failed read as an
//! error item instead of ending the stream early.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use serde_json::Value;
use uuid::Uuid;

use super::{Append, AppendError, EventStore, NewEvent, RecordedEvent, StoreError};

const PAGE: i64 = 500;

/// Adapts an [`EventStore`] to cqrs-es.
#[derive(Debug, Clone)]
pub struct CqrsRepository {
    store: EventStore,
}

impl CqrsRepository {
    /// Wraps `store`.
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }
}

fn to_serialized(event: RecordedEvent) -> Result<SerializedEvent, PersistenceError> {
    Ok(SerializedEvent {
        aggregate_id: event.aggregate_id,
        sequence: usize::try_from(event.sequence)
            .map_err(|e| PersistenceError::DeserializationError(Box::new(e)))?,
        aggregate_type: event.aggregate_type,
        event_type: event.event_type,
        event_version: event.event_version,
        payload: event.payload,
        metadata: event.metadata,
    })
}

fn store_error(error: StoreError) -> PersistenceError {
    PersistenceError::ConnectionError(Box::new(error))
}

impl PersistedEventRepository for CqrsRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self
            .store
            .load(A::TYPE, aggregate_id)
            .await
            .map_err(store_error)?;
        events.into_iter().map(to_serialized).collect()
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self.get_events::<A>(aggregate_id).await?;
        Ok(events
            .into_iter()
            .filter(|e| e.sequence > last_sequence)
            .collect())
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(PersistenceError::UnknownError(
                "snapshots are disabled for this event store".into(),
            ));
        }
        let Some(first) = events.first() else {
            return Ok(());
        };
        let expected_sequence = i64::try_from(first.sequence.saturating_sub(1))
            .map_err(|e| PersistenceError::UnknownError(Box::new(e)))?;
        let append = Append {
            aggregate_type: A::TYPE.to_owned(),
            aggregate_id: first.aggregate_id.clone(),
            expected_sequence,
            events: events
                .iter()
                .map(|e| NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: e.event_type.clone(),
                    event_version: e.event_version.clone(),
                    payload: e.payload.clone(),
                    metadata: e.metadata.clone(),
                })
                .collect(),
            idempotency: None,
        };
        match self.store.append(append).await {
            Ok(_) => Ok(()),
            Err(AppendError::Conflict | AppendError::DuplicateKey) => {
                Err(PersistenceError::OptimisticLockError)
            }
            Err(AppendError::Store(e)) => Err(store_error(e)),
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.get_events::<A>(aggregate_id).await?;
        let (mut feed, stream) = ReplayStream::new(events.len().max(1));
        for event in events {
            feed.push(Ok(event)).await?;
        }
        Ok(stream)
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let (mut feed, stream) = ReplayStream::new(PAGE as usize);
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut after = 0;
            loop {
                let page = match store.read_log(after, PAGE).await {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = feed.push(Err(store_error(e))).await;
                        return;
                    }
                };
                let Some(last) = page.last() else { return };
                after = last.global_position;
                for event in page.into_iter().filter(|e| e.aggregate_type == A::TYPE) {
                    if feed.push(to_serialized(event)).await.is_err() {
                        return; // the reader went away
                    }
                }
            }
        });
        Ok(stream)
    }
}
