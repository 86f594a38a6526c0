//! The sealer: a projection-like task that follows the log by position, appends each event's chain
//! hash to `event_chain`, and signs a checkpoint every N events or T seconds (docs/adr/0006). Its
//! checkpoint is the chain itself (the last sealed position), so it restarts where it stopped, and a
//! hole in the log stops it (the log is gap-free, so a hole is a bug or tampering). With an object
//! store it copies every checkpoint there too, after the checkpoint commits (docs/adr/0007).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::chain::{self, canonical_time, GENESIS};
use super::copies;
use super::keys::AuditSigner;
use crate::objects::{ObjectError, ObjectStore};
use cms_eventstore::audit::{self as audit_store, ChainHash, Checkpoint};
use cms_eventstore::store::{EventStore, StoreError};

/// Events read and sealed per transaction.
const BATCH: i64 = 500;

/// When to sign a checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    /// After this many events since the last checkpoint (`CMS_AUDIT_CHECKPOINT_EVERY`).
    pub every: i64,
    /// Or after this long, when something was sealed since (`CMS_AUDIT_CHECKPOINT_SECS`).
    pub interval: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        Self {
            every: 1000,
            interval: Duration::from_secs(60),
        }
    }
}

/// Why sealing stopped.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The log has a hole where the next event should be.
    #[error("the log has a hole at position {0}: sealing stopped")]
    Hole(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A checkpoint could not be copied to the object store (retried on the next run).
    #[error("copying a checkpoint to the object store: {0}")]
    Objects(#[from] ObjectError),
}

/// Seals the log: appends chain hashes and checkpoints.
#[derive(Debug, Clone)]
pub struct Sealer {
    store: EventStore,
    signer: AuditSigner,
    policy: CheckpointPolicy,
    /// Where checkpoints are copied after they commit, if anywhere.
    objects: Option<Arc<dyn ObjectStore>>,
}

impl Sealer {
    pub fn new(store: EventStore, signer: AuditSigner, policy: CheckpointPolicy) -> Self {
        Self {
            store,
            signer,
            policy: CheckpointPolicy {
                every: policy.every.max(1),
                ..policy
            },
            objects: None,
        }
    }

    /// Also copies every checkpoint to `objects` (`audit/checkpoints/<position>.json`).
    #[must_use]
    pub fn with_objects(mut self, objects: Arc<dyn ObjectStore>) -> Self {
        self.objects = Some(objects);
        self
    }

    /// Copies to the object store every database checkpoint that has no copy yet (after an upgrade,
    /// or a copy that failed); returns how many were written.
    ///
    /// # Errors
    /// A copy that differs from the database's checkpoint, or a storage failure.
    pub async fn copy_out_all(&self) -> Result<usize, SealError> {
        let Some(objects) = &self.objects else {
            return Ok(0);
        };
        let mut written = 0;
        for c in audit_store::checkpoints(self.store.db()).await? {
            if copies::put(objects.as_ref(), &c).await? == crate::objects::Put::Created {
                written += 1;
            }
        }
        Ok(written)
    }

    /// Copies checkpoints that just committed; a copy is only ever written after its commit, so a
    /// sealer that lost a race never leaves a copy the database does not have.
    async fn copy_out(&self, committed: &[Checkpoint]) -> Result<(), SealError> {
        if let Some(objects) = &self.objects {
            for c in committed {
                copies::put(objects.as_ref(), c).await?;
            }
        }
        Ok(())
    }

    /// Seals every committed event not sealed yet; returns the last sealed position.
    ///
    /// # Errors
    /// A hole in the log, a concurrent sealer, or a storage failure.
    pub async fn seal_pending(&self) -> Result<i64, SealError> {
        let (mut last, mut previous) = audit_store::last_link(self.store.db())
            .await?
            .unwrap_or((0, GENESIS));
        let mut last_checkpoint = audit_store::last_checkpoint(self.store.db()).await?;
        loop {
            let events = self.store.read_log(last, BATCH).await?;
            if events.is_empty() {
                break;
            }
            let start = last;
            let mut rows = Vec::with_capacity(events.len());
            let mut signed = Vec::new();
            for event in &events {
                if event.global_position != last + 1 {
                    return Err(SealError::Hole(last + 1));
                }
                previous = chain::link(&previous, event);
                last = event.global_position;
                rows.push((last, previous));
                let since = last_checkpoint.as_ref().map_or(0, |c| c.position);
                if last - since >= self.policy.every {
                    let checkpoint = self.sign(last, &previous);
                    last_checkpoint = Some(checkpoint.clone());
                    signed.push(checkpoint);
                }
            }
            audit_store::append(self.store.db(), start, &rows, &signed).await?;
            self.copy_out(&signed).await?;
        }
        if let Some(due) = self.due_by_time(last, &previous, last_checkpoint.as_ref()) {
            audit_store::append(self.store.db(), last, &[], std::slice::from_ref(&due)).await?;
            last_checkpoint = Some(due);
        }
        // The newest checkpoint is copied on every run, so a copy that failed after its commit is
        // retried (older ones: `copy_out_all`, run when the sealer starts).
        if let Some(newest) = &last_checkpoint {
            self.copy_out(std::slice::from_ref(newest)).await?;
        }
        Ok(last)
    }

    fn due_by_time(
        &self,
        last: i64,
        hash: &ChainHash,
        previous: Option<&Checkpoint>,
    ) -> Option<Checkpoint> {
        let since = previous.map_or(0, |c| c.position);
        if last <= since {
            return None;
        }
        let old_enough = previous.is_none_or(|c| {
            DateTime::parse_from_rfc3339(&c.signed_at).is_ok_and(|at| {
                let age = Utc::now().signed_duration_since(at.with_timezone(&Utc));
                age.to_std().unwrap_or_default() >= self.policy.interval
            })
        });
        old_enough.then(|| self.sign(last, hash))
    }

    fn sign(&self, position: i64, hash: &ChainHash) -> Checkpoint {
        let signed_at = canonical_time(&Utc::now());
        let message = chain::checkpoint_message(position, hash, &signed_at);
        Checkpoint {
            position,
            chain_hash: *hash,
            signed_at,
            public_key: self.signer.public_key_bytes().to_vec(),
            signature: self.signer.sign(&message).to_vec(),
        }
    }

    /// Seals forever, every `tick`; errors are logged and retried on the next tick.
    pub async fn run(self, tick: Duration) {
        if let Err(error) = self.copy_out_all().await {
            tracing::warn!(%error, "audit sealer: copying checkpoints to the object store failed");
        }
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = self.seal_pending().await {
                tracing::warn!(%error, "audit sealer: sealing failed; retrying");
            }
        }
    }
}
