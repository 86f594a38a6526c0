//! The thumbnail worker: for each [`PhotoJob`], read the upload, render it off the async threads
//! ([`super::render`]), write the renditions to their deterministic keys (put-if-absent: a retry
//! writes the same bytes, so nothing is overwritten), then run `RecordThumbnail`, which the aggregate
//! answers with no event when thumbnails are already recorded. A job that dies anywhere is simply
//! done again.
//!
//! [`process`] knows nothing of where jobs come from; [`run`] drives it from any [`PhotoJobs`]
//! source: explicit ack, nak with exponential backoff, and a bounded number of deliveries after
//! which the photo gets `ThumbnailFailed` instead of looping. An undecodable photo fails at once
//! (decoding is deterministic: a retry cannot help) and never holds up other photos.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::complaint::{
    Complaint, ComplaintAction, ComplaintCommand, Thumbnail, ThumbnailSize,
};
use cms_domain::ids::UserId;
use serde_json::json;
use uuid::Uuid;

use super::jobs::{PhotoJob, PhotoJobs};
use super::keys;
use super::render::{self, RenderError, Renditions};
use crate::commands::executor::{request_hash, CommandContext, ExecuteError, Executor};
use crate::objects::ObjectStore;

pub use crate::metrics::names::{
    THUMBNAIL_DURATION, THUMBNAIL_FAILURES, THUMBNAIL_JOBS, THUMBNAIL_QUEUE_DEPTH,
};

/// The id the worker acts under (role `service`, every hostel).
pub const WORKER_USER: &str = "thumbnailer";

/// How the worker retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Deliveries of one job before the photo is given up on (`ThumbnailFailed`).
    pub max_deliveries: u32,
    /// First retry delay; doubled on each further delivery.
    pub backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// How long [`run`] waits for a job before looking at the queue depth again.
    pub idle_wait: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            max_deliveries: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            idle_wait: Duration::from_secs(1),
        }
    }
}

impl WorkerConfig {
    /// The delay before delivery `deliveries + 1`.
    pub fn backoff_after(&self, deliveries: u32) -> Duration {
        let factor = 2_u32.saturating_pow(deliveries.saturating_sub(1).min(16));
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// What the worker needs: the executor (to load complaints and record results) and the store.
#[derive(Debug, Clone)]
pub struct Thumbnailer {
    pub executor: Arc<Executor>,
    pub objects: Arc<dyn ObjectStore>,
    pub config: WorkerConfig,
}

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Thumbnails are recorded (now or before): ack.
    Generated,
    /// `ThumbnailFailed` is recorded (now or before): ack.
    Failed(String),
    /// Nothing to do (the photo or complaint is unknown): ack.
    Skipped(String),
    /// A transient failure: nak, deliver again after the delay.
    Retry(Duration, String),
}

impl Disposition {
    fn label(&self) -> &'static str {
        match self {
            Disposition::Generated => "generated",
            Disposition::Failed(_) => "failed",
            Disposition::Skipped(_) => "skipped",
            Disposition::Retry(..) => "retried",
        }
    }
}

/// A failure of one attempt.
#[derive(Debug, thiserror::Error)]
enum Attempt {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("{0}")]
    Transient(String),
}

fn worker_actor() -> Actor {
    // A constant that satisfies the UserId rules.
    #[allow(clippy::expect_used)]
    let id = UserId::parse(WORKER_USER).expect("the worker's user id is valid");
    Actor::new(id, Role::Service, HostelScope::All)
}

impl Thumbnailer {
    /// Handles one delivery of `job`; never panics on bad input.
    #[tracing::instrument(skip_all, fields(complaint.id = %job.complaint_id, photo.id = %job.photo_id, deliveries = job.deliveries))]
    pub async fn process(&self, job: &PhotoJob) -> Disposition {
        let started = Instant::now();
        let disposition = match self.attempt(job).await {
            Ok(done) => done,
            Err(Attempt::Render(reason)) => {
                metrics::counter!(THUMBNAIL_FAILURES, "kind" => "undecodable").increment(1);
                self.give_up(job, &reason.to_string()).await
            }
            Err(Attempt::Transient(reason)) => {
                metrics::counter!(THUMBNAIL_FAILURES, "kind" => "transient").increment(1);
                if job.deliveries >= self.config.max_deliveries {
                    let reason = format!("gave up after {} attempts: {reason}", job.deliveries);
                    self.give_up(job, &reason).await
                } else {
                    Disposition::Retry(self.config.backoff_after(job.deliveries), reason)
                }
            }
        };
        metrics::histogram!(THUMBNAIL_DURATION).record(started.elapsed().as_secs_f64());
        metrics::counter!(THUMBNAIL_JOBS, "outcome" => disposition.label()).increment(1);
        match &disposition {
            Disposition::Generated => tracing::info!("thumbnails recorded"),
            Disposition::Failed(reason) => tracing::warn!(%reason, "thumbnailing failed for good"),
            Disposition::Skipped(reason) => tracing::warn!(%reason, "thumbnail job skipped"),
            Disposition::Retry(delay, reason) => {
                tracing::warn!(%reason, ?delay, "thumbnailing failed; will retry");
            }
        }
        disposition
    }

    async fn attempt(&self, job: &PhotoJob) -> Result<Disposition, Attempt> {
        let transient = |e: &dyn std::fmt::Display| Attempt::Transient(e.to_string());
        let loaded = self
            .executor
            .load::<Complaint>(&job.complaint_id.to_string())
            .await
            .map_err(|e| transient(&e))?;
        let Some(state) = loaded.state.state() else {
            return Ok(Disposition::Skipped("no such complaint".into()));
        };
        let Some(photo) = state.photo(&job.photo_id) else {
            return Ok(Disposition::Skipped("no such photo".into()));
        };
        if !photo.thumbnails.is_empty() {
            return Ok(Disposition::Generated);
        }
        if let Some(reason) = &photo.thumbnail_failed {
            return Ok(Disposition::Failed(reason.clone()));
        }
        let upload = self
            .objects
            .get(&photo.object_key)
            .await
            .map_err(|e| transient(&e))?
            .ok_or_else(|| Attempt::Transient(format!("upload {} is missing", photo.object_key)))?;
        let renditions: Renditions = tokio::task::spawn_blocking(move || render::render(&upload))
            .await
            .map_err(|e| transient(&e))??;
        let (complaint, photo_id) = (job.complaint_id, job.photo_id);
        // The full-size image first: once thumbnails are recorded, every served size exists.
        self.objects
            .put_if_absent(&keys::full(complaint, photo_id), &renditions.full.jpeg)
            .await
            .map_err(|e| transient(&e))?;
        let mut thumbnails = Vec::new();
        for size in [ThumbnailSize::Thumb320, ThumbnailSize::Large1024] {
            let rendition = renditions.of(size);
            let key = keys::thumbnail(complaint, photo_id, size);
            self.objects
                .put_if_absent(&key, &rendition.jpeg)
                .await
                .map_err(|e| transient(&e))?;
            thumbnails.push(Thumbnail {
                size,
                object_key: key,
                width: rendition.width,
                height: rendition.height,
            });
        }
        self.record(
            job,
            ComplaintAction::RecordThumbnail {
                photo_id,
                thumbnails,
            },
        )
        .await
        .map_err(Attempt::Transient)?;
        Ok(Disposition::Generated)
    }

    async fn give_up(&self, job: &PhotoJob, reason: &str) -> Disposition {
        let reason: String = reason.chars().take(1000).collect();
        let action = ComplaintAction::RecordThumbnailFailure {
            photo_id: job.photo_id,
            reason: reason.clone(),
        };
        match self.record(job, action).await {
            Ok(()) => Disposition::Failed(reason),
            Err(e) => Disposition::Retry(
                self.config.backoff_after(job.deliveries),
                format!("recording the failure: {e}"),
            ),
        }
    }

    async fn record(&self, job: &PhotoJob, action: ComplaintAction) -> Result<(), String> {
        let executor = &self.executor;
        let target = job.complaint_id.to_string();
        let loaded = executor
            .load::<Complaint>(&target)
            .await
            .map_err(|e| e.to_string())?;
        let hostel = loaded
            .state
            .hostel()
            .cloned()
            .ok_or("the complaint vanished")?;
        let facts = crate::commands::complaints::hostel_facts(executor, &hostel)
            .await
            .map_err(|e| e.to_string())?;
        let actor = worker_actor();
        let name = action.command_name();
        let ctx = CommandContext {
            actor: actor.clone(),
            command: name,
            idempotency_key: None,
            request_hash: request_hash(name, &target, &json!({ "photo_id": job.photo_id })),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            traceparent: None,
            hostel_id: Some(hostel.to_string()),
        };
        let command = ComplaintCommand {
            by: actor.clone(),
            at: Utc::now(),
            hostel: facts,
            action,
        };
        executor
            .execute::<Complaint, _>(&ctx, &target, Some(loaded), 200, command, |_| json!({}))
            .await
            .map(|_| ())
            .map_err(|e: ExecuteError<_>| e.to_string())
    }
}

/// Takes jobs from `jobs` and processes them one at a time until the task is dropped or aborted.
/// Source failures are logged and retried after a pause; they never end the loop.
pub async fn run(thumbnailer: Thumbnailer, jobs: Arc<dyn PhotoJobs>) {
    let wait = thumbnailer.config.idle_wait;
    loop {
        match jobs.depth().await {
            Ok(depth) => {
                #[allow(clippy::cast_precision_loss)]
                metrics::gauge!(THUMBNAIL_QUEUE_DEPTH).set(depth as f64);
            }
            Err(e) => tracing::warn!(error = %e, "thumbnail queue depth unavailable"),
        }
        let job = match jobs.next(wait).await {
            Ok(Some(job)) => job,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, "thumbnail job source failed; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        let settled = match thumbnailer.process(&job).await {
            Disposition::Retry(delay, _) => jobs.nak(&job, delay).await,
            Disposition::Generated | Disposition::Failed(_) | Disposition::Skipped(_) => {
                jobs.ack(&job).await
            }
        };
        if let Err(e) = settled {
            tracing::warn!(error = %e, job = job.id, "could not settle a thumbnail job; it will come again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let config = WorkerConfig {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            ..WorkerConfig::default()
        };
        assert_eq!(config.backoff_after(1), Duration::from_millis(100));
        assert_eq!(config.backoff_after(2), Duration::from_millis(200));
        assert_eq!(config.backoff_after(3), Duration::from_millis(400));
        assert_eq!(config.backoff_after(9), Duration::from_millis(500));
    }
}
