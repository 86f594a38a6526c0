//! The `photo_jobs` table: thumbnail jobs copied from the log's `PhotoAttached` events (the feed
//! remembers how far it read, in `photo_job_feed`) and leased to workers (docs/adr/0011). The API's
//! `photos::jobs` owns what a job is; this module owns the SQL.

use crate::db::Db;

/// A leased job as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    /// The `PhotoAttached` event's position: the job's id.
    pub position: i64,
    /// The complaint.
    pub complaint_id: String,
    /// The photo.
    pub photo_id: String,
    /// How often it was handed out, this time included.
    pub deliveries: i32,
}

/// A job to enqueue: `(position, complaint id, photo id)`.
pub type NewJob = (i64, String, String);

/// How far the feed has read the log.
///
/// # Errors
/// Storage failures.
pub async fn fed_through(db: &Db) -> Result<i64, sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query_scalar::<Sql, i64>("SELECT last_position FROM photo_job_feed")
            .fetch_one(&mut *conn)
            .await
    })
}

/// Enqueues `jobs` (visible from `now_ms`; a job already there is left alone) and moves the feed to
/// `through`, in one transaction.
///
/// # Errors
/// Storage failures.
pub async fn enqueue(
    db: &Db,
    jobs: &[NewJob],
    through: i64,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    crate::on_backend!(
        db.writer(),
        tx | conn | {
            for (position, complaint, photo) in jobs {
                sqlx::query::<Sql>(
                    "INSERT INTO photo_jobs (position, complaint_id, photo_id, visible_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (position) DO NOTHING",
                )
                .bind(position)
                .bind(complaint)
                .bind(photo)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
            }
            let greatest = if DIALECT.is_postgres() {
                "GREATEST"
            } else {
                "MAX"
            };
            sqlx::query::<Sql>(&format!(
                "UPDATE photo_job_feed SET last_position = {greatest}(last_position, $1)"
            ))
            .bind(through)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
    )
}

/// Leases the oldest visible job until `lease_end_ms`, counting the delivery. On PostgreSQL a job
/// another worker is claiming is skipped; SQLite has one writer, so the sub-select and the update
/// cannot interleave with another claim.
///
/// # Errors
/// Storage failures.
pub async fn claim(db: &Db, now_ms: i64, lease_end_ms: i64) -> Result<Option<JobRow>, sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        let sql = format!(
            "UPDATE photo_jobs SET deliveries = deliveries + 1, visible_at = $1 \
             WHERE position = (SELECT position FROM photo_jobs \
                               WHERE done_at IS NULL AND visible_at <= $2 \
                               ORDER BY position LIMIT 1{}) \
             RETURNING position, complaint_id, photo_id, deliveries",
            DIALECT.lock_row_skip_locked
        );
        sqlx::query_as::<Sql, JobRow>(&sql)
            .bind(lease_end_ms)
            .bind(now_ms)
            .fetch_optional(&mut *conn)
            .await
    })
}

/// Marks job `position` done.
///
/// # Errors
/// Storage failures.
pub async fn ack(db: &Db, position: i64, now_ms: i64) -> Result<(), sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query::<Sql>("UPDATE photo_jobs SET done_at = $1 WHERE position = $2")
            .bind(now_ms)
            .bind(position)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// Makes job `position` visible again at `visible_at_ms` (unless it is done).
///
/// # Errors
/// Storage failures.
pub async fn nak(db: &Db, position: i64, visible_at_ms: i64) -> Result<(), sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query::<Sql>(
            "UPDATE photo_jobs SET visible_at = $1 WHERE position = $2 AND done_at IS NULL",
        )
        .bind(visible_at_ms)
        .bind(position)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

/// Jobs not yet done.
///
/// # Errors
/// Storage failures.
pub async fn depth(db: &Db) -> Result<i64, sqlx::Error> {
    crate::on_backend!(db.writer(), |conn| {
        sqlx::query_scalar::<Sql, i64>("SELECT COUNT(*) FROM photo_jobs WHERE done_at IS NULL")
            .fetch_one(&mut *conn)
            .await
    })
}
