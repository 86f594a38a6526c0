//! `cms audit verify`: recompute the chain from the log, compare it with the stored chain and with
//! every signed checkpoint, and name the first damage and its kind.
//!
//! How each kind shows (the position reported is the first one that is wrong):
//! - a hole in the positions: a deleted row;
//! - a recomputed hash that differs from the stored one: an edited row (the event or its chain row),
//!   unless the event found there hashes correctly at another position q, and q's at this one: swapped
//!   rows (only one way: a row moved, as when a deletion is hidden by renumbering);
//! - stored and recomputed chains agree but a signed checkpoint does not: rows re-inserted with
//!   recomputed hashes somewhere after the previous checkpoint (the exact row is not knowable);
//! - the log ends below the last checkpoint, the last chain row or the position counter: a truncated tail;
//! - a checkpoint whose signature does not verify with the trusted key: a forged checkpoint.
//!
//! With the object store's copies of the checkpoints (docs/adr/0007), also: a database checkpoint
//! with no copy, a copy that differs from the database's, a validly signed copy the database lost
//! (then it is checked against the chain like the others), and a truncated tail whose database
//! checkpoints were deleted with it (the copies still reach further than the log).

use std::collections::BTreeMap;

use serde::Serialize;

use super::chain::{self, checkpoint_message, GENESIS};
use super::copies::{self, Copy};
use super::keys::signature_valid;
use crate::objects::{ObjectError, ObjectStore};
use cms_eventstore::audit::{self as audit_store, ChainHash, Checkpoint};
use cms_eventstore::store::{EventStore, RecordedEvent, StoreError};

const PAGE: i64 = 2000;

/// What is wrong, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Damage {
    /// A row's content (or its chain row) differs from what was sealed.
    EditedRow { position: i64 },
    /// No event at this position, though later ones exist.
    DeletedRow { position: i64 },
    /// The events at `position` and `with` exchanged places.
    SwappedRows { position: i64, with: i64 },
    /// The event sealed at `from` now sits at `position`.
    MovedRow { position: i64, from: i64 },
    /// The chain is consistent but disagrees with the signed checkpoint at `checkpoint`: rows after
    /// `after` were rewritten and their hashes recomputed.
    RewrittenChain { after: i64, checkpoint: i64 },
    /// The log ends at `position - 1`, below `expected_head`.
    TruncatedTail { position: i64, expected_head: i64 },
    /// The checkpoint's signature does not verify with the trusted key.
    ForgedCheckpoint { position: i64 },
    /// An event is present but its chain row is missing while later ones exist.
    MissingChainRow { position: i64 },
    /// The database has a checkpoint here that the object store has no copy of.
    CheckpointMissingFromStore { position: i64 },
    /// The object store's copy of this checkpoint differs from the database's.
    CheckpointMismatch { position: i64 },
    /// The object store has a validly signed checkpoint here that the database lost.
    CheckpointMissingFromDatabase { position: i64 },
}

impl Damage {
    /// The first position known to be wrong.
    pub fn position(&self) -> i64 {
        match *self {
            Damage::EditedRow { position }
            | Damage::DeletedRow { position }
            | Damage::SwappedRows { position, .. }
            | Damage::MovedRow { position, .. }
            | Damage::TruncatedTail { position, .. }
            | Damage::ForgedCheckpoint { position }
            | Damage::MissingChainRow { position }
            | Damage::CheckpointMissingFromStore { position }
            | Damage::CheckpointMismatch { position }
            | Damage::CheckpointMissingFromDatabase { position } => position,
            Damage::RewrittenChain { after, .. } => after + 1,
        }
    }

    /// The kind's stable name.
    pub fn kind(&self) -> &'static str {
        match self {
            Damage::EditedRow { .. } => "edited_row",
            Damage::DeletedRow { .. } => "deleted_row",
            Damage::SwappedRows { .. } => "swapped_rows",
            Damage::MovedRow { .. } => "moved_row",
            Damage::RewrittenChain { .. } => "rewritten_chain",
            Damage::TruncatedTail { .. } => "truncated_tail",
            Damage::ForgedCheckpoint { .. } => "forged_checkpoint",
            Damage::MissingChainRow { .. } => "missing_chain_row",
            Damage::CheckpointMissingFromStore { .. } => "checkpoint_missing_from_store",
            Damage::CheckpointMismatch { .. } => "checkpoint_mismatch",
            Damage::CheckpointMissingFromDatabase { .. } => "checkpoint_missing_from_database",
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Events whose hash was recomputed.
    pub checked: i64,
    /// The last position covered by a chain row.
    pub sealed_head: i64,
    /// Checkpoints whose signature and hash were checked.
    pub checkpoints_checked: usize,
    /// Object-store copies of checkpoints compared with the database (0 without a store).
    pub copies_checked: usize,
    /// The first damage, if any.
    pub damage: Option<Damage>,
}

/// Why a verification could not run (damage is a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading checkpoint copies: {0}")]
    Objects(#[from] ObjectError),
}

/// Verifies the log from position `from` (the chain row before it is trusted) against checkpoints
/// signed by `trusted_key`; `progress` is called after each page with the last checked position.
///
/// # Errors
/// Storage failures (damage is a result, not an error).
pub async fn verify(
    store: &EventStore,
    trusted_key: &[u8; 32],
    from: i64,
    progress: impl FnMut(i64, i64),
) -> Result<Report, VerifyError> {
    verify_with_copies(store, None, trusted_key, from, progress).await
}

/// [`verify`], also comparing the database's checkpoints with their copies in `objects`.
///
/// # Errors
/// Storage or object-store failures (damage is a result, not an error).
pub async fn verify_with_copies(
    store: &EventStore,
    objects: Option<&dyn ObjectStore>,
    trusted_key: &[u8; 32],
    from: i64,
    mut progress: impl FnMut(i64, i64),
) -> Result<Report, VerifyError> {
    let from = from.max(1);
    let checkpoints = audit_store::checkpoints(store.db()).await?;
    let sealed_head = audit_store::last_link(store.db()).await?.map_or(0, |l| l.0);
    let counter = store.head().await?;
    let mut findings: Vec<Damage> = Vec::new();
    let mut by_position: BTreeMap<i64, Checkpoint> = BTreeMap::new();
    let trusted = |c: &Checkpoint| {
        let message = checkpoint_message(c.position, &c.chain_hash, &c.signed_at);
        c.public_key == trusted_key && signature_valid(&c.public_key, &message, &c.signature)
    };
    for c in checkpoints.iter().filter(|c| c.position >= from) {
        if trusted(c) {
            by_position.insert(c.position, c.clone());
        } else {
            findings.push(Damage::ForgedCheckpoint {
                position: c.position,
            });
        }
    }
    let mut copies_checked = 0;
    let mut lost_from_database = Vec::new();
    let mut copies_head = 0;
    if let Some(objects) = objects {
        let found: BTreeMap<i64, Copy> = copies::all(objects).await?.into_iter().collect();
        for c in checkpoints.iter().filter(|c| c.position >= from) {
            match found.get(&c.position) {
                None => findings.push(Damage::CheckpointMissingFromStore {
                    position: c.position,
                }),
                Some(Copy::Valid(copy)) if copy == c => {}
                Some(_) => findings.push(Damage::CheckpointMismatch {
                    position: c.position,
                }),
            }
        }
        for (&position, copy) in found.range(from..) {
            copies_checked += 1;
            if checkpoints.iter().any(|c| c.position == position) {
                continue;
            }
            match copy {
                Copy::Valid(c) if trusted(c) => {
                    copies_head = copies_head.max(position);
                    lost_from_database.push(position);
                    by_position.insert(position, c.clone());
                }
                Copy::Valid(_) | Copy::Unreadable => {
                    findings.push(Damage::ForgedCheckpoint { position });
                }
            }
        }
    }
    let target = store.head().await?.max(counter).max(sealed_head);
    let mut previous = if from == 1 {
        GENESIS
    } else {
        match audit_store::link_at(store.db(), from - 1).await? {
            Some(hash) => hash,
            None => {
                return Err(VerifyError::Store(StoreError::Corrupt(format!(
                    "no chain row at {} to start from",
                    from - 1
                ))))
            }
        }
    };
    let mut cursor = from - 1;
    let mut last_good_checkpoint = from - 1;
    let mut checked = 0;
    'walk: loop {
        let events = store.read_log(cursor, PAGE).await?;
        let Some(last) = events.last().map(|e| e.global_position) else {
            break;
        };
        let stored: BTreeMap<i64, ChainHash> = audit_store::links(store.db(), cursor, last)
            .await?
            .into_iter()
            .collect();
        for event in &events {
            let position = cursor + 1;
            if event.global_position != position {
                findings.push(Damage::DeletedRow { position });
                break 'walk;
            }
            let hash = chain::link(&previous, event);
            match stored.get(&position) {
                Some(s) if *s == hash => {}
                Some(_) => {
                    findings.push(classify(store, event, &previous).await?);
                    break 'walk;
                }
                None if position <= sealed_head => {
                    findings.push(Damage::MissingChainRow { position });
                    break 'walk;
                }
                None => {}
            }
            if let Some(c) = by_position.get(&position) {
                if c.chain_hash != hash {
                    findings.push(Damage::RewrittenChain {
                        after: last_good_checkpoint,
                        checkpoint: position,
                    });
                    break 'walk;
                }
                last_good_checkpoint = position;
            }
            previous = hash;
            cursor = position;
            checked += 1;
        }
        progress(cursor, target);
    }
    let damaged = !findings.is_empty();
    if !damaged {
        // A trusted copy the database lost, inside the log: it was checked against the chain above.
        if let Some(&position) = lost_from_database.iter().find(|&&p| p <= cursor) {
            findings.push(Damage::CheckpointMissingFromDatabase { position });
        }
    }
    let expected_head = checkpoints
        .last()
        .map_or(0, |c| c.position)
        .max(sealed_head)
        .max(counter)
        .max(copies_head);
    if !damaged && cursor < expected_head {
        findings.push(Damage::TruncatedTail {
            position: cursor + 1,
            expected_head,
        });
    }
    let damage = findings.into_iter().min_by_key(Damage::position);
    Ok(Report {
        checked,
        sealed_head,
        checkpoints_checked: by_position.len(),
        copies_checked,
        damage,
    })
}

/// Names the damage at the event whose recomputed hash differs from the stored one.
async fn classify(
    store: &EventStore,
    event: &RecordedEvent,
    previous: &ChainHash,
) -> Result<Damage, StoreError> {
    let position = event.global_position;
    // Does this row belong somewhere later? Try it at every later sealed position.
    let mut cursor = position;
    let mut before: Option<ChainHash> = None;
    loop {
        let page = audit_store::links(store.db(), cursor - 1, cursor - 1 + PAGE).await?;
        if page.is_empty() {
            break;
        }
        for (q, hash) in &page {
            if *q > position {
                if let Some(prior) = before {
                    let mut moved = event.clone();
                    moved.global_position = *q;
                    if chain::link(&prior, &moved) == *hash {
                        return swap_or_move(store, position, *q, previous).await;
                    }
                }
            }
            before = Some(*hash);
            cursor = *q + 1;
        }
    }
    Ok(Damage::EditedRow { position })
}

async fn swap_or_move(
    store: &EventStore,
    position: i64,
    from: i64,
    previous: &ChainHash,
) -> Result<Damage, StoreError> {
    let stored = audit_store::link_at(store.db(), position).await?;
    let other = store.read_log(from - 1, 1).await?;
    if let (Some(stored), Some(other)) = (stored, other.first()) {
        let mut back = other.clone();
        back.global_position = position;
        if other.global_position == from && chain::link(previous, &back) == stored {
            return Ok(Damage::SwappedRows {
                position,
                with: from,
            });
        }
    }
    Ok(Damage::MovedRow { position, from })
}
