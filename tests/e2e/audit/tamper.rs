//! Randomized tamperings, each made directly in SQL with the append-only guards switched off, then
//! verified, then undone from a shadow copy: edited rows, deleted rows, swapped rows, rows re-inserted
//! with recomputed chain hashes (only a signed checkpoint catches those), truncated tails, and
//! truncated tails whose database checkpoints were deleted too (only the object store's copies
//! catch those). Every one must be reported at its first bad position with its kind.

use cms_api::audit::chain::{link, GENESIS};
use cms_eventstore::audit::ChainHash;
use cms_eventstore::Db;
use std::sync::Arc;

use cms_api::audit::{verify, verify_with_copies, CheckpointPolicy, Damage, Sealer};
use cms_api::objects::{LocalFolder, ObjectStore};
use cms_eventstore::store::{Append, EventStore, NewEvent};
use cms_tests::{Backend, TestDatabase};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use uuid::Uuid;

use crate::support::audit_signer;

/// Events in the sealed log under test, and the checkpoint interval.
const EVENTS: i64 = 240;
const EVERY: i64 = 20;

/// A sealed log of [`EVENTS`] distinct events over a few aggregates, checkpointed every [`EVERY`].
async fn sealed_log(db: &TestDatabase) -> EventStore {
    sealed_log_copied_to(db, None).await
}

/// [`sealed_log`], its checkpoints also copied to `objects`.
async fn sealed_log_copied_to(
    db: &TestDatabase,
    objects: Option<Arc<dyn ObjectStore>>,
) -> EventStore {
    let store = EventStore::connect(db.url(), 3).await.unwrap();
    store.migrate().await.unwrap();
    let mut sequences = [0_i64; 7];
    for i in 0..EVENTS {
        let aggregate = usize::try_from(i % 7).unwrap();
        let append = Append {
            aggregate_type: "Probe".into(),
            aggregate_id: format!("agg-{aggregate}"),
            expected_sequence: sequences[aggregate],
            events: vec![NewEvent {
                event_id: Uuid::now_v7(),
                event_type: "Probed".into(),
                event_version: "1".into(),
                payload: json!({ "i": i, "text": format!("é€😀 \u{1}\"{i}\""), "nested": { "b": [i, null, true], "a": 0.5 } }),
                metadata: json!({ "actor_id": format!("user-{}", i % 3), "command": "Probe" }),
            }],
            idempotency: None,
        };
        store.append(append).await.unwrap();
        sequences[aggregate] += 1;
    }
    let policy = CheckpointPolicy {
        every: EVERY,
        interval: std::time::Duration::from_secs(3600),
    };
    let mut sealer = Sealer::new(store.clone(), audit_signer(), policy);
    if let Some(objects) = objects {
        sealer = sealer.with_objects(objects);
    }
    assert_eq!(sealer.seal_pending().await.unwrap(), EVENTS);
    store
}

/// Raw SQL as the database owner, with the guards off.
struct Tamperer {
    store: EventStore,
    /// SQLite: the trigger definitions dropped at the start, recreated at the end.
    sqlite_triggers: Vec<String>,
}

impl Tamperer {
    /// Runs `sql` (one or more statements) in one transaction: one fsync, not one per statement.
    async fn exec(&self, sql: &str) {
        let sql = &format!("BEGIN; {}; COMMIT;", sql.trim_end().trim_end_matches(';'));
        match self.store.db() {
            Db::Postgres(s) => sqlx::raw_sql(sql).execute(s).await.map(drop),
            Db::Sqlite { write: s, .. } => sqlx::raw_sql(sql).execute(s).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Switches the guards off and keeps a shadow copy of the sealed state.
    async fn start(store: &EventStore) -> Self {
        let mut tamperer = Self {
            store: store.clone(),
            sqlite_triggers: Vec::new(),
        };
        match store.db() {
            Db::Postgres(_) => {
                tamperer
                    .exec(
                        "ALTER TABLE events DISABLE TRIGGER USER; \
                         ALTER TABLE event_chain DISABLE TRIGGER USER; \
                         ALTER TABLE audit_checkpoints DISABLE TRIGGER USER; \
                         ALTER TABLE event_log_head DISABLE TRIGGER USER;",
                    )
                    .await;
            }
            Db::Sqlite { write: s, .. } => {
                let triggers: Vec<(String, String)> = sqlx::query_as(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
                     AND tbl_name IN ('events', 'event_chain', 'audit_checkpoints', 'event_log_head')",
                )
                .fetch_all(s)
                .await
                .unwrap();
                for (name, _) in &triggers {
                    tamperer.exec(&format!("DROP TRIGGER {name}")).await;
                }
                tamperer.sqlite_triggers = triggers.into_iter().map(|t| t.1).collect();
            }
        }
        tamperer
            .exec(
                "CREATE TABLE events_orig AS SELECT * FROM events; \
                 CREATE TABLE event_chain_orig AS SELECT * FROM event_chain; \
                 CREATE TABLE audit_checkpoints_orig AS SELECT * FROM audit_checkpoints;",
            )
            .await;
        tamperer
    }

    /// Puts the sealed state back.
    async fn restore(&self) {
        self.exec(
            "DELETE FROM events; INSERT INTO events SELECT * FROM events_orig; \
             DELETE FROM event_chain; INSERT INTO event_chain SELECT * FROM event_chain_orig; \
             DELETE FROM audit_checkpoints; \
             INSERT INTO audit_checkpoints SELECT * FROM audit_checkpoints_orig; \
             UPDATE event_log_head SET last_position = (SELECT max(global_position) FROM events_orig);",
        )
        .await;
    }

    async fn finish(self) {
        for sql in &self.sqlite_triggers {
            self.exec(sql).await;
        }
        if matches!(self.store.db(), Db::Postgres(_)) {
            self.exec(
                "ALTER TABLE events ENABLE TRIGGER USER; \
                 ALTER TABLE event_chain ENABLE TRIGGER USER; \
                 ALTER TABLE audit_checkpoints ENABLE TRIGGER USER; \
                 ALTER TABLE event_log_head ENABLE TRIGGER USER;",
            )
            .await;
        }
    }

    /// Recomputes and rewrites the stored chain from `from` on, as a careful forger would.
    async fn recompute_chain(&self, from: i64) {
        let previous: ChainHash = if from == 1 {
            GENESIS
        } else {
            cms_eventstore::audit::link_at(self.store.db(), from - 1)
                .await
                .unwrap()
                .unwrap()
        };
        self.exec(&format!(
            "DELETE FROM event_chain WHERE global_position >= {from}"
        ))
        .await;
        let events = self.store.read_log(from - 1, 100_000).await.unwrap();
        let mut hash = previous;
        let mut inserts = String::new();
        for event in &events {
            hash = link(&hash, event);
            let literal = match self.store.db() {
                Db::Postgres(_) => format!("'\\x{}'::bytea", hex::encode(hash)),
                Db::Sqlite { .. } => format!("X'{}'", hex::encode(hash)),
            };
            inserts.push_str(&format!(
                "INSERT INTO event_chain (global_position, chain_hash) VALUES ({}, {literal});",
                event.global_position
            ));
        }
        if !inserts.is_empty() {
            self.exec(&inserts).await;
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Edit,
    Delete,
    Swap,
    Reinsert,
    Truncate,
    /// A truncated tail whose chain rows, position counter and database checkpoints went with it.
    TruncateEverything,
}

const KINDS: [Kind; 6] = [
    Kind::Edit,
    Kind::Delete,
    Kind::Swap,
    Kind::Reinsert,
    Kind::Truncate,
    Kind::TruncateEverything,
];

/// Makes one tampering of `kind` at random positions; returns the damage verify must report.
async fn tamper(t: &Tamperer, kind: Kind, rng: &mut StdRng, backend: Backend) -> Damage {
    match kind {
        Kind::Edit => {
            let p = rng.gen_range(1..=EVENTS);
            let edits: &[&str] = match backend {
                Backend::Postgres => &[
                    "payload = '{\"forged\": true}'",
                    "metadata = jsonb_set(metadata, '{actor_id}', '\"someone-else\"')",
                    "recorded_at = recorded_at + interval '1 microsecond'",
                    "event_type = 'Forged'",
                    "aggregate_id = 'agg-x'",
                ],
                Backend::Sqlite => &[
                    "payload = '{\"forged\": true}'",
                    "metadata = json_set(metadata, '$.actor_id', 'someone-else')",
                    "event_type = 'Forged'",
                    "aggregate_id = 'agg-x'",
                ],
            };
            let edit = edits[rng.gen_range(0..edits.len())];
            t.exec(&format!(
                "UPDATE events SET {edit} WHERE global_position = {p}"
            ))
            .await;
            Damage::EditedRow { position: p }
        }
        Kind::Delete => {
            let p = rng.gen_range(1..EVENTS);
            t.exec(&format!("DELETE FROM events WHERE global_position = {p}"))
                .await;
            Damage::DeletedRow { position: p }
        }
        Kind::Swap => {
            let i = rng.gen_range(1..EVENTS);
            let j = rng.gen_range(i + 1..=EVENTS);
            t.exec(&format!(
                "UPDATE events SET global_position = -global_position WHERE global_position IN ({i}, {j}); \
                 UPDATE events SET global_position = CASE global_position WHEN -{i} THEN {j} ELSE {i} END \
                 WHERE global_position IN (-{i}, -{j});"
            ))
            .await;
            Damage::SwappedRows {
                position: i,
                with: j,
            }
        }
        Kind::Reinsert => {
            // Delete a row and insert it again with another payload, then recompute every chain
            // hash from there: the chain is consistent, only a signed checkpoint disagrees.
            let p = rng.gen_range(1..=EVENTS);
            t.exec(&format!(
                "DELETE FROM events WHERE global_position = {p}; \
                 INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                                     payload, metadata, global_position, event_id, recorded_at) \
                 SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, \
                        '{{\"i\": -1}}', metadata, global_position, event_id, recorded_at \
                 FROM events_orig WHERE global_position = {p};"
            ))
            .await;
            t.recompute_chain(p).await;
            let checkpoint = (p + EVERY - 1) / EVERY * EVERY;
            Damage::RewrittenChain {
                after: checkpoint - EVERY,
                checkpoint,
            }
        }
        Kind::Truncate => {
            let keep = rng.gen_range(0..EVENTS);
            t.exec(&format!(
                "DELETE FROM events WHERE global_position > {keep}; \
                 DELETE FROM event_chain WHERE global_position > {keep}; \
                 UPDATE event_log_head SET last_position = {keep};"
            ))
            .await;
            Damage::TruncatedTail {
                position: keep + 1,
                expected_head: EVENTS,
            }
        }
        Kind::TruncateEverything => {
            let keep = rng.gen_range(0..EVENTS - EVERY);
            t.exec(&format!(
                "DELETE FROM events WHERE global_position > {keep}; \
                 DELETE FROM event_chain WHERE global_position > {keep}; \
                 DELETE FROM audit_checkpoints WHERE position > {keep}; \
                 UPDATE event_log_head SET last_position = {keep};"
            ))
            .await;
            Damage::TruncatedTail {
                position: keep + 1,
                expected_head: EVENTS,
            }
        }
    }
}

async fn every_tampering_is_caught_at_its_position_with_its_kind(backend: Backend, rounds: usize) {
    // Arrange
    let db = TestDatabase::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let folder = LocalFolder::new(dir.path());
    let store = sealed_log_copied_to(&db, Some(Arc::new(folder.clone()))).await;
    let key = audit_signer().public_key_bytes();
    let objects: Option<&dyn ObjectStore> = Some(&folder);
    let clean = verify_with_copies(&store, objects, &key, 1, |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        clean.damage, None,
        "{backend}: the untouched log is damaged"
    );
    assert_eq!(clean.checked, EVENTS);
    assert_eq!(
        clean.checkpoints_checked,
        usize::try_from(EVENTS / EVERY).unwrap()
    );
    let seed: u64 = rand::thread_rng().gen();
    let mut rng = StdRng::seed_from_u64(seed);
    let tamperer = Tamperer::start(&store).await;
    let mut missed = Vec::new();

    for round in 0..rounds {
        // Act
        let kind = KINDS[round % KINDS.len()];
        let expected = tamper(&tamperer, kind, &mut rng, backend).await;
        let report = verify_with_copies(&store, objects, &key, 1, |_, _| {})
            .await
            .unwrap();

        // Assert
        if report.damage.as_ref() != Some(&expected) {
            missed.push(format!(
                "{kind:?}: expected {expected:?}, got {:?}",
                report.damage
            ));
        }
        tamperer.restore().await;
    }
    let after = verify_with_copies(&store, objects, &key, 1, |_, _| {})
        .await
        .unwrap();
    tamperer.finish().await;
    assert_eq!(after.damage, None, "{backend}: restoring left damage");
    assert!(
        missed.is_empty(),
        "{backend} (seed {seed}): {} of {rounds} tamperings misreported:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

// 1,000 random tamperings on PostgreSQL, in four tests of 250 (each with its own random seed, printed
// on failure) so that they run in parallel and each stays well under a minute on a small machine.
#[tokio::test]
async fn postgres_catches_250_random_tamperings_at_the_right_position_and_kind_part_1_of_4() {
    every_tampering_is_caught_at_its_position_with_its_kind(Backend::Postgres, 250).await;
}

#[tokio::test]
async fn postgres_catches_250_random_tamperings_at_the_right_position_and_kind_part_2_of_4() {
    every_tampering_is_caught_at_its_position_with_its_kind(Backend::Postgres, 250).await;
}

#[tokio::test]
async fn postgres_catches_250_random_tamperings_at_the_right_position_and_kind_part_3_of_4() {
    every_tampering_is_caught_at_its_position_with_its_kind(Backend::Postgres, 250).await;
}

#[tokio::test]
async fn postgres_catches_250_random_tamperings_at_the_right_position_and_kind_part_4_of_4() {
    every_tampering_is_caught_at_its_position_with_its_kind(Backend::Postgres, 250).await;
}

#[tokio::test]
async fn sqlite_catches_50_random_tamperings_at_the_right_position_and_kind() {
    every_tampering_is_caught_at_its_position_with_its_kind(Backend::Sqlite, 50).await;
}

async fn a_forged_checkpoint_signature_is_reported_and_the_guards_refuse_chain_edits(
    backend: Backend,
) {
    // Arrange
    let db = TestDatabase::new(backend).await;
    let store = sealed_log(&db).await;
    let key = audit_signer().public_key_bytes();

    // Act
    let refused = match store.db() {
        Db::Postgres(s) => sqlx::query("DELETE FROM event_chain")
            .execute(s)
            .await
            .map(drop),
        Db::Sqlite { write: s, .. } => sqlx::query("DELETE FROM event_chain")
            .execute(s)
            .await
            .map(drop),
    };
    let other_key = cms_api::audit::AuditSigner::from_seed([1; 32]).public_key_bytes();
    let report = verify(&store, &other_key, 1, |_, _| {}).await.unwrap();
    let fine = verify(&store, &key, 1, |_, _| {}).await.unwrap();

    // Assert
    assert!(
        refused.unwrap_err().to_string().contains("append-only"),
        "{backend}"
    );
    assert_eq!(
        report.damage,
        Some(Damage::ForgedCheckpoint { position: EVERY }),
        "{backend}"
    );
    assert_eq!(fine.damage, None, "{backend}");
}

on_both_backends!(a_forged_checkpoint_signature_is_reported_and_the_guards_refuse_chain_edits);

async fn a_checkpoint_is_signed_when_the_interval_passes_and_verify_can_start_later(
    backend: Backend,
) {
    // Arrange: a sealed log checkpointed every 20 events, then 3 more events sealed with a zero
    // interval, so the time rule signs the new head at once.
    let db = TestDatabase::new(backend).await;
    let store = sealed_log(&db).await;
    for i in 0..3 {
        let append = Append {
            aggregate_type: "Probe".into(),
            aggregate_id: format!("late-{i}"),
            expected_sequence: 0,
            events: vec![NewEvent {
                event_id: Uuid::now_v7(),
                event_type: "Probed".into(),
                event_version: "1".into(),
                payload: json!({ "late": i }),
                metadata: json!({}),
            }],
            idempotency: None,
        };
        store.append(append).await.unwrap();
    }
    let policy = CheckpointPolicy {
        every: 1000,
        interval: std::time::Duration::ZERO,
    };
    let key = audit_signer().public_key_bytes();

    // Act
    let sealed = Sealer::new(store.clone(), audit_signer(), policy)
        .seal_pending()
        .await
        .unwrap();
    let tamperer = Tamperer::start(&store).await;
    tamperer
        .exec("UPDATE events SET payload = '{\"forged\": true}' WHERE global_position = 10")
        .await;
    let from_start = verify(&store, &key, 1, |_, _| {}).await.unwrap();
    let from_later = verify(&store, &key, 11, |_, _| {}).await.unwrap();
    tamperer.restore().await;
    tamperer.finish().await;

    // Assert
    let newest = cms_eventstore::audit::last_checkpoint(store.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sealed, EVENTS + 3, "{backend}");
    assert_eq!(newest.position, EVENTS + 3, "{backend}");
    assert_eq!(
        from_start.damage,
        Some(Damage::EditedRow { position: 10 }),
        "{backend}"
    );
    assert_eq!(
        from_later.damage, None,
        "{backend}: damage before --from was reported"
    );
    assert_eq!(from_later.checked, EVENTS + 3 - 10, "{backend}");
}

on_both_backends!(a_checkpoint_is_signed_when_the_interval_passes_and_verify_can_start_later);

async fn checkpoint_copies_in_the_object_store_catch_what_the_database_alone_cannot(
    backend: Backend,
) {
    // Arrange: a sealed log whose 12 checkpoints were copied to a folder.
    let db = TestDatabase::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let folder = LocalFolder::new(dir.path());
    let store = sealed_log_copied_to(&db, Some(Arc::new(folder.clone()))).await;
    let key = audit_signer().public_key_bytes();
    let objects: Option<&dyn ObjectStore> = Some(&folder);
    let copy_of = |p: i64| dir.path().join(format!("audit/checkpoints/{p:020}.json"));
    let keys = folder.list("audit/checkpoints/").await.unwrap();
    let clean = verify_with_copies(&store, objects, &key, 1, |_, _| {})
        .await
        .unwrap();
    let tamperer = Tamperer::start(&store).await;

    // Act 1: a truncation that also deleted the database's checkpoints after it.
    tamperer
        .exec(
            "DELETE FROM events WHERE global_position > 95; \
             DELETE FROM event_chain WHERE global_position > 95; \
             DELETE FROM audit_checkpoints WHERE position > 95; \
             UPDATE event_log_head SET last_position = 95;",
        )
        .await;
    let database_alone = verify(&store, &key, 1, |_, _| {}).await.unwrap();
    let with_copies = verify_with_copies(&store, objects, &key, 1, |_, _| {})
        .await
        .unwrap();
    tamperer.restore().await;

    // Act 2: one database checkpoint deleted (the log intact).
    tamperer
        .exec("DELETE FROM audit_checkpoints WHERE position = 60")
        .await;
    let lost = verify_with_copies(&store, objects, &key, 1, |_, _| {})
        .await
        .unwrap();
    tamperer.restore().await;

    // Act 3: a copy deleted; then a copy replaced by another validly signed checkpoint.
    let original = std::fs::read(copy_of(40)).unwrap();
    std::fs::remove_file(copy_of(40)).unwrap();
    let missing = verify_with_copies(&store, objects, &key, 1, |_, _| {})
        .await
        .unwrap();
    let mut other = cms_api::audit::copies::decode(&original).unwrap();
    other.signed_at = "2000-01-01T00:00:00.000000Z".into();
    let message = cms_api::audit::chain::checkpoint_message(
        other.position,
        &other.chain_hash,
        &other.signed_at,
    );
    other.signature = audit_signer().sign(&message).to_vec();
    std::fs::write(copy_of(40), cms_api::audit::copies::encode(&other)).unwrap();
    let mismatch = verify_with_copies(&store, objects, &key, 1, |_, _| {})
        .await
        .unwrap();
    let overwrite = cms_api::audit::copies::put(&folder, &other).await;
    std::fs::write(copy_of(40), &original).unwrap();
    let refused = cms_api::audit::copies::put(&folder, &other).await;
    let again = Sealer::new(store.clone(), audit_signer(), CheckpointPolicy::default())
        .with_objects(Arc::new(folder.clone()))
        .copy_out_all()
        .await
        .unwrap();
    tamperer.finish().await;

    // Assert
    assert_eq!(keys.len(), 12, "{backend}: {keys:?}");
    assert_eq!(keys[0], "audit/checkpoints/00000000000000000020.json");
    assert_eq!(clean.damage, None, "{backend}");
    assert_eq!(clean.copies_checked, 12, "{backend}");
    assert_eq!(
        database_alone.damage, None,
        "{backend}: the database alone cannot see this truncation"
    );
    assert_eq!(
        with_copies.damage,
        Some(Damage::TruncatedTail {
            position: 96,
            expected_head: EVENTS
        }),
        "{backend}"
    );
    assert_eq!(
        lost.damage,
        Some(Damage::CheckpointMissingFromDatabase { position: 60 }),
        "{backend}"
    );
    assert_eq!(
        missing.damage,
        Some(Damage::CheckpointMissingFromStore { position: 40 }),
        "{backend}"
    );
    assert_eq!(
        mismatch.damage,
        Some(Damage::CheckpointMismatch { position: 40 }),
        "{backend}"
    );
    assert!(overwrite.is_ok(), "{backend}: the same bytes are accepted");
    assert!(
        matches!(refused, Err(cms_api::objects::ObjectError::Conflict(_))),
        "{backend}: a copy was overwritten"
    );
    assert_eq!(again, 0, "{backend}: every checkpoint already had its copy");
}

#[tokio::test]
async fn postgres_checkpoint_copies_in_the_object_store_catch_what_the_database_alone_cannot() {
    checkpoint_copies_in_the_object_store_catch_what_the_database_alone_cannot(Backend::Postgres)
        .await;
}

#[tokio::test]
async fn sqlite_checkpoint_copies_in_the_object_store_catch_what_the_database_alone_cannot() {
    checkpoint_copies_in_the_object_store_catch_what_the_database_alone_cannot(Backend::Sqlite)
        .await;
}
