//! Where thumbnail jobs come from. The worker sees a [`PhotoJobs`] source with JetStream's shape
//! (next with a wait, explicit ack, nak with a delay, a delivery count), so a durable JetStream
//! consumer on `cms.complaints.*.*.PhotoAttached` can replace [`LogPhotoJobs`] without touching
//! [`super::worker::process`].
//!
//! [`LogPhotoJobs`] works on both event-store backends with no broker: it copies `PhotoAttached`
//! events from the log into the `photo_jobs` table (docs/adr/0011) and leases them to workers. A job
//! leased and never acked (a worker killed mid-job) is delivered again once its ack wait has passed.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use cms_domain::complaint::ComplaintEvent;
use cms_domain::ids::{ComplaintId, PhotoId};

use cms_eventstore::photo_jobs;
use cms_eventstore::store::{EventStore, StoreError};

/// One photo to thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoJob {
    /// The source's handle for ack and nak (for the log source and JetStream alike: the global
    /// position of the `PhotoAttached` event, which is the stream sequence).
    pub id: i64,
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// The photo.
    pub photo_id: PhotoId,
    /// How many times this job has been handed out, this time included (1 on the first delivery).
    pub deliveries: u32,
}

/// A job source failed (the worker logs it and tries again later).
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("job source: {0}")]
    Source(String),
}

impl From<sqlx::Error> for JobsError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(error))
    }
}

/// A queue of thumbnail jobs with at-least-once delivery.
#[async_trait]
pub trait PhotoJobs: Send + Sync {
    /// The next job whose turn has come, waiting up to `wait` for one; `None` when none came. The job
    /// is leased: unless acked or nakked within the source's ack wait, it is delivered again.
    ///
    /// # Errors
    /// The source is unreachable.
    async fn next(&self, wait: Duration) -> Result<Option<PhotoJob>, JobsError>;

    /// The job is finished for good (thumbnails recorded, or the failure recorded).
    ///
    /// # Errors
    /// The source is unreachable (the job will then be delivered again: processing is idempotent).
    async fn ack(&self, job: &PhotoJob) -> Result<(), JobsError>;

    /// The job failed this time; deliver it again after `delay`.
    ///
    /// # Errors
    /// The source is unreachable (the lease then expires on its own).
    async fn nak(&self, job: &PhotoJob, delay: Duration) -> Result<(), JobsError>;

    /// Jobs not yet acked (for the queue-depth gauge).
    ///
    /// # Errors
    /// The source is unreachable.
    async fn depth(&self) -> Result<u64, JobsError>;
}

/// Thumbnail jobs taken from the event log through the `photo_jobs` table.
#[derive(Debug, Clone)]
pub struct LogPhotoJobs {
    store: EventStore,
    ack_wait: Duration,
    poll: Duration,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl LogPhotoJobs {
    /// Jobs from `store`'s log; a leased job comes back after `ack_wait`; an empty queue is looked
    /// at again every `poll`.
    pub fn new(store: EventStore, ack_wait: Duration, poll: Duration) -> Self {
        Self {
            store,
            ack_wait,
            poll,
        }
    }

    /// Copies the `PhotoAttached` events after the feed's position into `photo_jobs` and moves the
    /// position, in one transaction; returns how many events it read.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn feed(&self) -> Result<usize, JobsError> {
        let after = photo_jobs::fed_through(self.store.db()).await?;
        let events = self.store.read_log(after, 500).await?;
        let Some(last) = events.last().map(|e| e.global_position) else {
            return Ok(0);
        };
        let now = Utc::now().timestamp_millis();
        let jobs: Vec<(i64, String, String)> = events
            .iter()
            .filter(|e| {
                e.aggregate_type == cms_domain::complaint::AGGREGATE_TYPE
                    && e.event_type == "PhotoAttached"
            })
            .filter_map(
                |e| match serde_json::from_value::<ComplaintEvent>(e.payload.clone()) {
                    Ok(ComplaintEvent::PhotoAttached { photo_id, .. }) => Some((
                        e.global_position,
                        e.aggregate_id.clone(),
                        photo_id.to_string(),
                    )),
                    _ => None,
                },
            )
            .collect();
        photo_jobs::enqueue(self.store.db(), &jobs, last, now).await?;
        Ok(events.len())
    }

    async fn claim(&self) -> Result<Option<PhotoJob>, JobsError> {
        let now = Utc::now().timestamp_millis();
        let lease_end = now + millis(self.ack_wait);
        let row = photo_jobs::claim(self.store.db(), now, lease_end).await?;
        row.map(|row| {
            let parse = |what: &str, text: &str| {
                text.parse::<uuid::Uuid>().map_err(|_| {
                    JobsError::Source(format!("job {}: bad {what} {text:?}", row.position))
                })
            };
            Ok(PhotoJob {
                id: row.position,
                complaint_id: ComplaintId::new(parse("complaint id", &row.complaint_id)?),
                photo_id: PhotoId::new(parse("photo id", &row.photo_id)?),
                deliveries: u32::try_from(row.deliveries).unwrap_or(u32::MAX),
            })
        })
        .transpose()
    }
}

#[async_trait]
impl PhotoJobs for LogPhotoJobs {
    async fn next(&self, wait: Duration) -> Result<Option<PhotoJob>, JobsError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            self.feed().await?;
            if let Some(job) = self.claim().await? {
                return Ok(Some(job));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(self.poll.min(deadline - now)).await;
        }
    }

    async fn ack(&self, job: &PhotoJob) -> Result<(), JobsError> {
        photo_jobs::ack(self.store.db(), job.id, Utc::now().timestamp_millis()).await?;
        Ok(())
    }

    async fn nak(&self, job: &PhotoJob, delay: Duration) -> Result<(), JobsError> {
        let visible_at = Utc::now().timestamp_millis() + millis(delay);
        photo_jobs::nak(self.store.db(), job.id, visible_at).await?;
        Ok(())
    }

    async fn depth(&self) -> Result<u64, JobsError> {
        self.feed().await?;
        let count = photo_jobs::depth(self.store.db()).await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// Thumbnail jobs from a durable bus consumer on `cms.complaints.*.*.PhotoAttached`: on JetStream a
/// durable pull consumer (explicit ack, ack wait, bounded deliveries with backoff) that survives
/// restarts of the worker and of NATS. The job id is the stream sequence, which is the event's global
/// position. Deliveries handed out and not yet settled are kept here until acked or nakked; a worker
/// that dies leaves them to the ack wait.
#[derive(Debug)]
pub struct BusPhotoJobs {
    consumer: crate::fanout::bus::DurableConsumer,
    pending: tokio::sync::Mutex<std::collections::HashMap<i64, crate::fanout::bus::Delivery>>,
}

/// The durable consumer's name: one queue shared by every thumbnail worker.
pub const THUMBNAILER_CONSUMER: &str = "thumbnailer";

impl BusPhotoJobs {
    /// Creates (or binds to) the durable consumer `thumbnailer` on `bus`, creating the stream first
    /// when it does not exist yet.
    ///
    /// # Errors
    /// The bus is unreachable or refuses the consumer.
    pub async fn new(
        bus: &crate::fanout::bus::Bus,
        ack_wait: Duration,
        max_deliveries: u32,
    ) -> Result<Self, JobsError> {
        // The relay may not have created the stream yet; creating or checking it is idempotent.
        bus.ensure()
            .await
            .map_err(|e| JobsError::Source(e.to_string()))?;
        let filter = format!("{}.complaints.*.*.PhotoAttached", bus.subject_prefix());
        let options = crate::fanout::bus::DurableOptions {
            ack_wait,
            max_deliver: i64::from(max_deliveries),
            backoff: Vec::new(),
        };
        let consumer = bus
            .durable(THUMBNAILER_CONSUMER, &filter, options)
            .await
            .map_err(|e| JobsError::Source(e.to_string()))?;
        Ok(Self {
            consumer,
            pending: tokio::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }
}

#[async_trait]
impl PhotoJobs for BusPhotoJobs {
    async fn next(&self, wait: Duration) -> Result<Option<PhotoJob>, JobsError> {
        let source = |e: crate::fanout::bus::BusError| JobsError::Source(e.to_string());
        let Some(delivery) = self.consumer.fetch(1, wait).await.map_err(source)?.pop() else {
            return Ok(None);
        };
        let event = delivery.event.clone();
        let ids = (
            event.aggregate_id.parse::<ComplaintId>(),
            event.data["PhotoAttached"]["photo_id"]
                .as_str()
                .unwrap_or_default()
                .parse::<PhotoId>(),
        );
        let (Ok(complaint_id), Ok(photo_id)) = ids else {
            // Not a photo event (the filter makes this a damaged message): settle it, never loop.
            tracing::error!(
                position = event.position,
                "thumbnail job without complaint or photo id; dropped"
            );
            delivery.ack().await.map_err(source)?;
            return Ok(None);
        };
        let job = PhotoJob {
            id: event.position,
            complaint_id,
            photo_id,
            deliveries: u32::try_from(delivery.attempt).unwrap_or(u32::MAX),
        };
        self.pending.lock().await.insert(job.id, delivery);
        Ok(Some(job))
    }

    async fn ack(&self, job: &PhotoJob) -> Result<(), JobsError> {
        if let Some(delivery) = self.pending.lock().await.remove(&job.id) {
            delivery
                .ack()
                .await
                .map_err(|e| JobsError::Source(e.to_string()))?;
        }
        Ok(())
    }

    async fn nak(&self, job: &PhotoJob, delay: Duration) -> Result<(), JobsError> {
        if let Some(delivery) = self.pending.lock().await.remove(&job.id) {
            delivery
                .nak(delay)
                .await
                .map_err(|e| JobsError::Source(e.to_string()))?;
        }
        Ok(())
    }

    async fn depth(&self) -> Result<u64, JobsError> {
        self.consumer
            .backlog()
            .await
            .map_err(|e| JobsError::Source(e.to_string()))
    }
}
