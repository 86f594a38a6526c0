//! Copies of the signed checkpoints in the object store, one object per checkpoint under
//! `audit/checkpoints/<position, 20 digits>.json`, written once by the sealer after the database
//! commit and compared with the database by `cms audit verify` (docs/adr/0007). The JSON is the same
//! as `GET /v1/audit/checkpoints` shows.

use serde::{Deserialize, Serialize};

use crate::objects::{ObjectError, ObjectStore, Put};
use cms_eventstore::audit::{ChainHash, Checkpoint};

/// The folder of checkpoint copies.
pub const PREFIX: &str = "audit/checkpoints/";

/// The key of the copy of the checkpoint at `position`.
pub fn key(position: i64) -> String {
    format!("{PREFIX}{position:020}.json")
}

/// The position a key names, if it is a checkpoint key.
pub fn position_of(key: &str) -> Option<i64> {
    key.strip_prefix(PREFIX)?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    position: i64,
    chain_hash: String,
    time: String,
    public_key: String,
    signature: String,
}

/// The object's bytes for a checkpoint.
pub fn encode(c: &Checkpoint) -> Vec<u8> {
    let stored = Stored {
        position: c.position,
        chain_hash: hex::encode(c.chain_hash),
        time: c.signed_at.clone(),
        public_key: hex::encode(&c.public_key),
        signature: hex::encode(&c.signature),
    };
    let mut bytes = serde_json::to_vec(&stored).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// A checkpoint read back from its object; `None` when the bytes are not one.
pub fn decode(bytes: &[u8]) -> Option<Checkpoint> {
    let stored: Stored = serde_json::from_slice(bytes).ok()?;
    let chain_hash: ChainHash = hex::decode(&stored.chain_hash).ok()?.try_into().ok()?;
    Some(Checkpoint {
        position: stored.position,
        chain_hash,
        signed_at: stored.time,
        public_key: hex::decode(&stored.public_key).ok()?,
        signature: hex::decode(&stored.signature).ok()?,
    })
}

/// Writes the copy of `c` (the same copy already there is fine).
///
/// # Errors
/// A different object already has its key, or the store failed.
pub async fn put(objects: &dyn ObjectStore, c: &Checkpoint) -> Result<Put, ObjectError> {
    objects.put_if_absent(&key(c.position), &encode(c)).await
}

/// A copy as found in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copy {
    /// It decodes as a checkpoint at the position its key names.
    Valid(Checkpoint),
    /// It does not decode, or names another position than its key.
    Unreadable,
}

/// Every copy in the store, by the position its key names, in order.
///
/// # Errors
/// The store failed.
pub async fn all(objects: &dyn ObjectStore) -> Result<Vec<(i64, Copy)>, ObjectError> {
    let mut copies = Vec::new();
    for key in objects.list(PREFIX).await? {
        let Some(position) = position_of(&key) else {
            continue;
        };
        let copy = match objects.get(&key).await?.as_deref().and_then(decode) {
            Some(c) if c.position == position => Copy::Valid(c),
            _ => Copy::Unreadable,
        };
        copies.push((position, copy));
    }
    Ok(copies)
}
