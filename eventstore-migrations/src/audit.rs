//! The audit tables: `event_chain` (one SHA-256 link per event), `audit_checkpoints` (signed
//! checkpoints) and `audit_reads` (who read what). The API's `audit` module owns what they mean
//! (hashing, signing, verifying); this module owns their SQL. Chain and checkpoints are read and
//! written on the writer: the sealer needs its own writes back at once, and audit reads are rare.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::Db;
use crate::store::StoreError;

/// A link of the hash chain.
pub type ChainHash = [u8; 32];

/// One signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The position it covers up to.
    pub position: i64,
    /// The chain hash at that position.
    pub chain_hash: ChainHash,
    /// The exact RFC 3339 text that was signed.
    pub signed_at: String,
    /// The Ed25519 public key that signed it.
    pub public_key: Vec<u8>,
    /// The signature.
    pub signature: Vec<u8>,
}

fn to_hash(bytes: &[u8]) -> Result<ChainHash, StoreError> {
    ChainHash::try_from(bytes)
        .map_err(|_| StoreError::Corrupt("a stored chain hash is not 32 bytes".into()))
}

fn links_from(rows: Vec<(i64, Vec<u8>)>) -> Result<Vec<(i64, ChainHash)>, StoreError> {
    rows.into_iter()
        .map(|(p, h)| Ok((p, to_hash(&h)?)))
        .collect()
}

/// The last chain row: `(position, hash)`, or `None` before anything is sealed.
///
/// # Errors
/// Storage failures.
pub async fn last_link(db: &Db) -> Result<Option<(i64, ChainHash)>, StoreError> {
    let rows: Vec<(i64, Vec<u8>)> = crate::on_backend!(db.writer(), |conn| {
        sqlx::query_as::<Sql, (i64, Vec<u8>)>(
            "SELECT global_position, chain_hash FROM event_chain \
             ORDER BY global_position DESC LIMIT 1",
        )
        .fetch_all(&mut *conn)
        .await
    })?;
    Ok(links_from(rows)?.pop())
}

/// Chain rows with `after < position <= until`, in order.
///
/// # Errors
/// Storage failures.
pub async fn links(db: &Db, after: i64, until: i64) -> Result<Vec<(i64, ChainHash)>, StoreError> {
    let rows = crate::on_backend!(db.writer(), |conn| {
        sqlx::query_as::<Sql, (i64, Vec<u8>)>(
            "SELECT global_position, chain_hash FROM event_chain \
             WHERE global_position > $1 AND global_position <= $2 ORDER BY global_position",
        )
        .bind(after)
        .bind(until)
        .fetch_all(&mut *conn)
        .await
    })?;
    links_from(rows)
}

/// The stored hash at `position`, if any.
///
/// # Errors
/// Storage failures.
pub async fn link_at(db: &Db, position: i64) -> Result<Option<ChainHash>, StoreError> {
    Ok(links(db, position - 1, position)
        .await?
        .into_iter()
        .next()
        .map(|(_, h)| h))
}

/// Every checkpoint, in position order.
///
/// # Errors
/// Storage failures.
pub async fn checkpoints(db: &Db) -> Result<Vec<Checkpoint>, StoreError> {
    checkpoints_where(db, "ORDER BY position").await
}

/// The newest checkpoint, if any.
///
/// # Errors
/// Storage failures.
pub async fn last_checkpoint(db: &Db) -> Result<Option<Checkpoint>, StoreError> {
    Ok(checkpoints_where(db, "ORDER BY position DESC LIMIT 1")
        .await?
        .pop())
}

async fn checkpoints_where(db: &Db, tail: &str) -> Result<Vec<Checkpoint>, StoreError> {
    let sql = format!(
        "SELECT position, chain_hash, signed_at, public_key, signature FROM audit_checkpoints {tail}"
    );
    crate::on_backend!(db.writer(), |conn| {
        let rows = sqlx::query::<Sql>(&sql).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|row| {
                Ok(Checkpoint {
                    position: row.try_get("position")?,
                    chain_hash: to_hash(&row.try_get::<Vec<u8>, _>("chain_hash")?)?,
                    signed_at: row.try_get("signed_at")?,
                    public_key: row.try_get("public_key")?,
                    signature: row.try_get("signature")?,
                })
            })
            .collect()
    })
}

/// The last position the chain covers (0 before anything is sealed): the sealer's own head, which
/// trails the log's ([`crate::log::head`]).
const SEALED_THROUGH: &str = "SELECT COALESCE(max(global_position), 0) FROM event_chain";

/// Appends chain rows (which must follow position `expected_last`) and checkpoints in one
/// transaction. On PostgreSQL an advisory lock serialises sealers; on SQLite the single writer does.
///
/// # Errors
/// Storage failures, including a concurrent sealer having moved the chain.
pub async fn append(
    db: &Db,
    expected_last: i64,
    rows: &[(i64, ChainHash)],
    new_checkpoints: &[Checkpoint],
) -> Result<(), StoreError> {
    crate::on_backend!(
        db.writer(),
        tx | conn
            | {
                if DIALECT.is_postgres() {
                    sqlx::query::<Sql>("SELECT pg_advisory_xact_lock(6265746765)")
                        .execute(&mut *conn)
                        .await?;
                }
                let last: i64 = sqlx::query_scalar::<Sql, i64>(SEALED_THROUGH)
                    .fetch_one(&mut *conn)
                    .await?;
                if last != expected_last {
                    return Err(StoreError::Corrupt("another sealer moved the chain".into()));
                }
                for chunk in rows.chunks(1000) {
                    let mut insert = sqlx::QueryBuilder::<Sql>::new(
                        "INSERT INTO event_chain (global_position, chain_hash) ",
                    );
                    insert.push_values(chunk, |mut values, (position, hash)| {
                        values.push_bind(*position).push_bind(hash.to_vec());
                    });
                    insert.build().execute(&mut *conn).await?;
                }
                for c in new_checkpoints {
                    sqlx::query::<Sql>(
                "INSERT INTO audit_checkpoints (position, chain_hash, signed_at, public_key, signature) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(c.position)
            .bind(c.chain_hash.to_vec())
            .bind(&c.signed_at)
            .bind(&c.public_key)
            .bind(&c.signature)
            .execute(&mut *conn)
            .await?;
                }
                Ok(())
            }
    )
}

/// An auditor's read, about to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct NewRead<'a> {
    /// When.
    pub read_at: DateTime<Utc>,
    /// Who.
    pub user_id: &'a str,
    /// In which role.
    pub role: &'a str,
    /// The route template.
    pub route: &'a str,
    /// The complaint read, when the route names one.
    pub target: Option<&'a str>,
    /// The moment or range read.
    pub span: Option<&'a str>,
}

/// One recorded read, as `GET /v1/audit/reads` lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Read {
    /// Its id, in recording order.
    pub id: i64,
    /// When.
    pub read_at: DateTime<Utc>,
    /// Who.
    pub user_id: String,
    /// In which role.
    pub role: String,
    /// The route template.
    pub route: String,
    /// The complaint read, when the route names one.
    pub target: Option<String>,
    /// The moment or range read (`as_of=..`, `from=..,to=..`, `after=..,limit=..`).
    pub span: Option<String>,
}

/// Records an auditor's read in `audit_reads`.
///
/// # Errors
/// Storage failures.
pub async fn record_read(db: &Db, read: NewRead<'_>) -> Result<(), StoreError> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query::<Sql>(
            "INSERT INTO audit_reads (read_at, user_id, role, route, target, span) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(read.read_at)
        .bind(read.user_id)
        .bind(read.role)
        .bind(read.route)
        .bind(read.target)
        .bind(read.span)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

/// Up to `limit` recorded reads with an id above `after`, oldest first.
///
/// # Errors
/// Storage failures.
pub async fn reads(db: &Db, after: i64, limit: i64) -> Result<Vec<Read>, StoreError> {
    Ok(crate::on_backend!(db.writer(), |conn| {
        sqlx::query_as::<Sql, Read>(
            "SELECT id, read_at, user_id, role, route, target, span FROM audit_reads \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
    })?)
}
