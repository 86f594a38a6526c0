//! `cms audit export` checked by a small independent verifier that shares no code with the service:
//! canonical bytes from `serde_json`'s own sorted, compact writer (equal to RFC 8785 for what CMS
//! stores: ASCII member names, integers, strings), SHA-256 from `sha2` and signatures from
//! `ed25519-dalek` directly.

use std::time::Duration;

use cms_api::audit::{export, CheckpointPolicy, Sealer};
use cms_tests::Backend;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::commands::{spawn_with_two_hostels, Stage};
use crate::support::audit_signer;

/// Checks an export; returns (events, checkpoints) verified, or the first problem.
fn independent_check(ndjson: &str, trusted_key: &[u8; 32]) -> Result<(usize, usize), String> {
    let mut lines = ndjson
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap());
    let header = lines.next().ok_or("empty export")?;
    let mut previous: Vec<u8> =
        hex::decode(header["previous_chain_hash"].as_str().unwrap()).unwrap();
    let mut hashes = std::collections::HashMap::new();
    let mut checkpoints = 0;
    let key = VerifyingKey::from_bytes(trusted_key).unwrap();
    for line in lines {
        match line["kind"].as_str() {
            Some("event") => {
                // serde_json's Map is a BTreeMap here: members come out sorted, no whitespace.
                let canonical = serde_json::to_vec(&line["canonical"]).unwrap();
                let hash = Sha256::new()
                    .chain_update(&previous)
                    .chain_update(&canonical)
                    .finalize();
                let position = line["canonical"]["position"].as_i64().unwrap();
                if line["chain_hash"].as_str() != Some(hex::encode(hash).as_str()) {
                    return Err(format!("chain hash differs at {position}"));
                }
                previous = hash.to_vec();
                hashes.insert(position, hex::encode(hash));
            }
            Some("checkpoint") => {
                let message = serde_json::to_vec(&json!({
                    "chain_hash": line["chain_hash"], "position": line["position"], "time": line["time"]
                }))
                .unwrap();
                let signature: [u8; 64] = hex::decode(line["signature"].as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap();
                key.verify(&message, &Signature::from_bytes(&signature))
                    .map_err(|e| format!("checkpoint {}: {e}", line["position"]))?;
                let position = line["position"].as_i64().unwrap();
                if hashes.get(&position).map(String::as_str) != line["chain_hash"].as_str() {
                    return Err(format!("checkpoint {position} disagrees with the chain"));
                }
                checkpoints += 1;
            }
            other => return Err(format!("unknown line kind {other:?}")),
        }
    }
    Ok((hashes.len(), checkpoints))
}

async fn an_export_verifies_with_an_independent_checker_and_a_forged_line_does_not(
    backend: Backend,
) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    Stage::Rated.drive(&app).await;
    Stage::Reopened.drive(&app).await;
    let head = app.head().await;
    let policy = CheckpointPolicy {
        every: 4,
        interval: Duration::from_secs(3600),
    };
    Sealer::new(app.store.clone(), audit_signer(), policy)
        .seal_pending()
        .await
        .unwrap();
    let key = audit_signer().public_key_bytes();

    // Act
    let mut out = Vec::new();
    let written = export(&app.store, &key, 1, &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let checked = independent_check(&text, &key);
    let forged = text.replacen("\"stars\":4", "\"stars\":5", 1);
    let forged_checked = independent_check(&forged, &key);

    // Assert
    assert_eq!(written, head, "{backend}");
    let expected_checkpoints = usize::try_from(head / 4).unwrap();
    assert_eq!(
        checked,
        Ok((usize::try_from(head).unwrap(), expected_checkpoints)),
        "{backend}"
    );
    assert_ne!(
        forged, text,
        "{backend}: the workload has a rating to forge"
    );
    assert!(forged_checked.is_err(), "{backend}");
}

on_both_backends!(an_export_verifies_with_an_independent_checker_and_a_forged_line_does_not);
