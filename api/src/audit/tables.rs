//! SQL for `event_chain` and `audit_checkpoints` on both backends. Reads and writes go through the
//! writer pool: the sealer needs its own writes back at once, and audit reads are rare.

use sqlx::Row;

use super::chain::ChainHash;
use crate::store::{EventStore, StoreError};

/// One signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub position: i64,
    pub chain_hash: ChainHash,
    /// The exact RFC 3339 text that was signed.
    pub signed_at: String,
    pub public_key: Vec<u8>,
    pub signature: Vec<u8>,
}

fn to_hash(bytes: Vec<u8>) -> Result<ChainHash, StoreError> {
    ChainHash::try_from(bytes.as_slice())
        .map_err(|_| StoreError::Corrupt("a stored chain hash is not 32 bytes".into()))
}

/// The last chain row: `(position, hash)`, or `None` before anything is sealed.
///
/// # Errors
/// Storage failures.
pub async fn last_link(store: &EventStore) -> Result<Option<(i64, ChainHash)>, StoreError> {
    const SQL: &str =
        "SELECT global_position, chain_hash FROM event_chain ORDER BY global_position DESC LIMIT 1";
    let row: Option<(i64, Vec<u8>)> = match store {
        EventStore::Postgres(s) => sqlx::query_as(SQL).fetch_optional(s.pool()).await?,
        EventStore::Sqlite(s) => sqlx::query_as(SQL).fetch_optional(s.pool()).await?,
    };
    row.map(|(p, h)| Ok((p, to_hash(h)?))).transpose()
}

/// Chain rows with `after < position <= until`, in order.
///
/// # Errors
/// Storage failures.
pub async fn links(
    store: &EventStore,
    after: i64,
    until: i64,
) -> Result<Vec<(i64, ChainHash)>, StoreError> {
    let rows: Vec<(i64, Vec<u8>)> = match store {
        EventStore::Postgres(s) => {
            sqlx::query_as(
                "SELECT global_position, chain_hash FROM event_chain \
                 WHERE global_position > $1 AND global_position <= $2 ORDER BY global_position",
            )
            .bind(after)
            .bind(until)
            .fetch_all(s.pool())
            .await?
        }
        EventStore::Sqlite(s) => {
            sqlx::query_as(
                "SELECT global_position, chain_hash FROM event_chain \
                 WHERE global_position > ?1 AND global_position <= ?2 ORDER BY global_position",
            )
            .bind(after)
            .bind(until)
            .fetch_all(s.pool())
            .await?
        }
    };
    rows.into_iter()
        .map(|(p, h)| Ok((p, to_hash(h)?)))
        .collect()
}

/// The stored hash at `position`, if any.
///
/// # Errors
/// Storage failures.
pub async fn link_at(store: &EventStore, position: i64) -> Result<Option<ChainHash>, StoreError> {
    Ok(links(store, position - 1, position)
        .await?
        .into_iter()
        .next()
        .map(|(_, h)| h))
}

/// Every checkpoint, in position order.
///
/// # Errors
/// Storage failures.
pub async fn checkpoints(store: &EventStore) -> Result<Vec<Checkpoint>, StoreError> {
    checkpoints_where(store, "ORDER BY position").await
}

async fn checkpoints_where(store: &EventStore, tail: &str) -> Result<Vec<Checkpoint>, StoreError> {
    let sql = format!(
        "SELECT position, chain_hash, signed_at, public_key, signature FROM audit_checkpoints {tail}"
    );
    let sql = sql.as_str();
    macro_rules! decode {
        ($rows:expr) => {
            $rows
                .iter()
                .map(|row| {
                    Ok(Checkpoint {
                        position: row.try_get("position")?,
                        chain_hash: to_hash(row.try_get("chain_hash")?)?,
                        signed_at: row.try_get("signed_at")?,
                        public_key: row.try_get("public_key")?,
                        signature: row.try_get("signature")?,
                    })
                })
                .collect()
        };
    }
    match store {
        EventStore::Postgres(s) => decode!(sqlx::query(sql).fetch_all(s.pool()).await?),
        EventStore::Sqlite(s) => decode!(sqlx::query(sql).fetch_all(s.pool()).await?),
    }
}

/// The newest checkpoint, if any.
///
/// # Errors
/// Storage failures.
pub async fn last_checkpoint(store: &EventStore) -> Result<Option<Checkpoint>, StoreError> {
    Ok(checkpoints_where(store, "ORDER BY position DESC LIMIT 1")
        .await?
        .pop())
}

/// The position counter (`event_log_head`), which only a superuser can rewind.
///
/// # Errors
/// Storage failures.
pub async fn counter(store: &EventStore) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT last_position FROM event_log_head";
    Ok(match store {
        EventStore::Postgres(s) => sqlx::query_scalar(SQL).fetch_one(s.pool()).await?,
        EventStore::Sqlite(s) => sqlx::query_scalar(SQL).fetch_one(s.pool()).await?,
    })
}

/// Appends chain rows (which must follow the current last one) and checkpoints in one transaction.
/// On PostgreSQL an advisory lock serialises sealers; on SQLite the single writer does.
///
/// # Errors
/// Storage failures, including a concurrent sealer having written the same positions.
pub async fn append(
    store: &EventStore,
    expected_last: i64,
    rows: &[(i64, ChainHash)],
    new_checkpoints: &[Checkpoint],
) -> Result<(), StoreError> {
    let stale = || StoreError::Corrupt("another sealer moved the chain".into());
    match store {
        EventStore::Postgres(s) => {
            let mut tx = s.pool().begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(6265746765)")
                .execute(&mut *tx)
                .await?;
            let last: i64 =
                sqlx::query_scalar("SELECT COALESCE(max(global_position), 0) FROM event_chain")
                    .fetch_one(&mut *tx)
                    .await?;
            if last != expected_last {
                return Err(stale());
            }
            let positions: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let hashes: Vec<Vec<u8>> = rows.iter().map(|r| r.1.to_vec()).collect();
            sqlx::query(
                "INSERT INTO event_chain (global_position, chain_hash) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bytea[]) ORDER BY 1",
            )
            .bind(&positions)
            .bind(&hashes)
            .execute(&mut *tx)
            .await?;
            for c in new_checkpoints {
                sqlx::query(
                    "INSERT INTO audit_checkpoints (position, chain_hash, signed_at, public_key, signature) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(c.position)
                .bind(c.chain_hash.to_vec())
                .bind(&c.signed_at)
                .bind(&c.public_key)
                .bind(&c.signature)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        EventStore::Sqlite(s) => {
            let mut tx = s.pool().begin_with("BEGIN IMMEDIATE").await?;
            let last: i64 =
                sqlx::query_scalar("SELECT COALESCE(max(global_position), 0) FROM event_chain")
                    .fetch_one(&mut *tx)
                    .await?;
            if last != expected_last {
                return Err(stale());
            }
            for (position, hash) in rows {
                sqlx::query(
                    "INSERT INTO event_chain (global_position, chain_hash) VALUES (?1, ?2)",
                )
                .bind(position)
                .bind(hash.to_vec())
                .execute(&mut *tx)
                .await?;
            }
            for c in new_checkpoints {
                sqlx::query(
                    "INSERT INTO audit_checkpoints (position, chain_hash, signed_at, public_key, signature) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .bind(c.position)
                .bind(c.chain_hash.to_vec())
                .bind(&c.signed_at)
                .bind(&c.public_key)
                .bind(&c.signature)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}
