//! The sealer: a projection-like task that follows the log by position, appends each event's chain
//! hash to `event_chain`, and signs a checkpoint every N events or T seconds (docs/adr/0006). Its
//! checkpoint is the chain itself (the last sealed position), so it restarts where it stopped, and a
//! hole in the log stops it (the log is gap-free, so a hole is a bug or tampering).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::chain::{self, canonical_time, ChainHash, GENESIS};
use super::keys::AuditSigner;
use super::tables::{self, Checkpoint};
use crate::store::{EventStore, StoreError};

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
}

/// Seals the log: appends chain hashes and checkpoints.
#[derive(Debug, Clone)]
pub struct Sealer {
    store: EventStore,
    signer: AuditSigner,
    policy: CheckpointPolicy,
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
        }
    }

    /// Seals every committed event not sealed yet; returns the last sealed position.
    ///
    /// # Errors
    /// A hole in the log, a concurrent sealer, or a storage failure.
    pub async fn seal_pending(&self) -> Result<i64, SealError> {
        let (mut last, mut previous) = tables::last_link(&self.store)
            .await?
            .unwrap_or((0, GENESIS));
        let mut last_checkpoint = tables::last_checkpoint(&self.store).await?;
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
            tables::append(&self.store, start, &rows, &signed).await?;
        }
        if let Some(due) = self.due_by_time(last, &previous, last_checkpoint.as_ref()) {
            tables::append(&self.store, last, &[], &[due]).await?;
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
