//! `cms audit export`: the log, its chain hashes and its checkpoints as NDJSON, in the format of
//! docs/audit-format.md, so a third party can verify them with any RFC 8785 library and SHA-256.
//!
//! Lines: one `header`, then one `event` line per position (its canonical object and stored chain
//! hash), then one `checkpoint` line per checkpoint at or after `from`.

use std::io::Write;

use serde_json::json;

use super::chain::canonical_event;
use cms_eventstore::audit as audit_store;
use cms_eventstore::store::{EventStore, StoreError};

const PAGE: i64 = 1000;

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the export from position `from` to `out`; returns the number of events written.
///
/// # Errors
/// Storage failures or a failing writer.
pub async fn export(
    store: &EventStore,
    public_key: &[u8; 32],
    from: i64,
    out: &mut impl Write,
) -> Result<i64, ExportError> {
    let from = from.max(1);
    let previous = if from == 1 {
        Some([0_u8; 32])
    } else {
        audit_store::link_at(store.db(), from - 1).await?
    };
    let header = json!({
        "kind": "header",
        "format": "cms-audit-export",
        "version": 1,
        "from": from,
        "previous_chain_hash": previous.map(hex::encode),
        "public_key": hex::encode(public_key),
    });
    writeln!(out, "{header}")?;
    let mut cursor = from - 1;
    let mut written = 0;
    loop {
        let events = store.read_log(cursor, PAGE).await?;
        let Some(last) = events.last().map(|e| e.global_position) else {
            break;
        };
        let links: std::collections::BTreeMap<i64, _> =
            audit_store::links(store.db(), cursor, last)
                .await?
                .into_iter()
                .collect();
        for event in &events {
            let line = json!({
                "kind": "event",
                "canonical": canonical_event(event),
                "chain_hash": links.get(&event.global_position).map(hex::encode),
            });
            writeln!(out, "{line}")?;
            written += 1;
        }
        cursor = last;
    }
    for c in audit_store::checkpoints(store.db()).await? {
        if c.position < from {
            continue;
        }
        let line = json!({
            "kind": "checkpoint",
            "position": c.position,
            "chain_hash": hex::encode(c.chain_hash),
            "time": c.signed_at,
            "public_key": hex::encode(&c.public_key),
            "signature": hex::encode(&c.signature),
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(written)
}
