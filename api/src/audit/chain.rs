//! The hash chain over the log: `chain_hash(p) = SHA-256(chain_hash(p-1) || JCS(event p))`, with 32
//! zero bytes before position 1. The canonical event and the signed checkpoint body are defined here
//! and in docs/audit-format.md; changing either breaks every stored chain.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::jcs;
use cms_eventstore::store::RecordedEvent;

use cms_eventstore::audit::ChainHash;

/// The hash before position 1.
pub const GENESIS: ChainHash = [0; 32];

/// `recorded_at` as it enters the canonical form: RFC 3339, UTC, exactly six fractional digits, `Z`.
pub fn canonical_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The JSON object whose JCS bytes are chained for `event`.
pub fn canonical_event(event: &RecordedEvent) -> Value {
    json!({
        "position": event.global_position,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "sequence": event.sequence,
        "event_type": event.event_type,
        "event_version": event.event_version,
        "payload": event.payload,
        "metadata": event.metadata,
        "recorded_at": canonical_time(&event.recorded_at),
    })
}

/// The chain hash of `event` following `previous`.
pub fn link(previous: &ChainHash, event: &RecordedEvent) -> ChainHash {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(jcs::canonicalize(&canonical_event(event)));
    hasher.finalize().into()
}

/// The bytes a checkpoint's Ed25519 signature covers: JCS of
/// `{"chain_hash": <lowercase hex>, "position": N, "time": <signed_at>}`.
pub fn checkpoint_message(position: i64, chain_hash: &ChainHash, signed_at: &str) -> Vec<u8> {
    jcs::canonicalize(&json!({
        "position": position,
        "chain_hash": hex::encode(chain_hash),
        "time": signed_at,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    fn event(position: i64) -> RecordedEvent {
        RecordedEvent {
            global_position: position,
            event_id: Uuid::nil(),
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 1).unwrap(),
            aggregate_type: "Complaint".into(),
            aggregate_id: "c-1".into(),
            sequence: position,
            event_type: "Probed".into(),
            event_version: "1".into(),
            payload: json!({ "b": 1, "a": "x" }),
            metadata: json!({}),
        }
    }

    #[test]
    fn the_canonical_event_has_sorted_keys_and_microsecond_utc_time() {
        let bytes = jcs::canonicalize(&canonical_event(&event(1)));
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"aggregate_id":"c-1","aggregate_type":"Complaint","event_type":"Probed","event_version":"1","metadata":{},"payload":{"a":"x","b":1},"position":1,"recorded_at":"2026-11-27T00:00:01.000000Z","sequence":1}"#
        );
    }

    #[test]
    fn each_link_depends_on_the_previous_hash_and_the_position() {
        let first = link(&GENESIS, &event(1));
        let mut expected = Sha256::new();
        expected.update([0_u8; 32]);
        expected.update(jcs::canonicalize(&canonical_event(&event(1))));
        assert_eq!(first, <[u8; 32]>::from(expected.finalize()));
        assert_ne!(link(&first, &event(2)), link(&GENESIS, &event(2)));
        let mut moved = event(1);
        moved.global_position = 2;
        assert_ne!(link(&first, &moved), link(&first, &event(1)));
    }
}
