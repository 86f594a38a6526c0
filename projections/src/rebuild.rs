//! Blue/green rebuilds: a projection is replayed from position 0 into tables built beside the live
//! ones, with a checkpoint of their own, in short transactions (so commands and the live projector go on
//! meanwhile), and switched over in ONE transaction once caught up. Readers see the old, complete model
//! until that commit and the new, complete one after it; never a half-built one.
//!
//! - PostgreSQL: the new tables live in schema `cms_rebuild` (created `LIKE` the live ones, with a
//!   copy of `projection_checkpoints`), written by a dedicated connection whose `search_path` puts
//!   `cms_rebuild` first, so the projection's own SQL (unqualified names) writes there while it reads
//!   the log from the live schema. The switch locks the live checkpoint row, applies what the log
//!   gained meanwhile, drops the live tables and moves the new ones in (`ALTER TABLE .. SET SCHEMA`),
//!   and takes over the checkpoint. One rebuild runs at a time per database (an advisory lock).
//! - SQLite: the new tables are TEMP tables of a dedicated connection (unqualified names resolve to
//!   `temp` before `main`); each batch takes its turn on the process's writer pool so appends are not
//!   starved; the switch, in `BEGIN IMMEDIATE`, applies the tail and copies the rows into the emptied
//!   live tables. WAL readers see the copy only when it commits.
//!
//! A rebuild that stops half-way leaves the live model untouched; the next one starts afresh.

use std::time::Instant;

use sqlx::{Connection, Executor};

use crate::checkpoint::Checkpoint;
use crate::runner::{Rebuilt, Step};
use crate::Projection;
use cms_eventstore::Db;

/// The schema PostgreSQL rebuilds write into.
const SHADOW_SCHEMA: &str = "cms_rebuild";
/// `pg_advisory_lock` key: one rebuild at a time per database ("cms-rebuild" in ASCII, truncated).
const REBUILD_LOCK: i64 = 0x636d_735f_7265_6275;

/// Rebuilds `projection` from position 0 beside the live model and switches over when caught up.
/// `progress(position, head)` is called after every batch.
///
/// # Errors
/// Storage failures (the live model is untouched). A poison event does not fail the rebuild: the
/// projection ends `failed` at that event, as a live runner would.
pub async fn rebuild(
    db: &Db,
    projection: Projection,
    batch_size: i64,
    progress: &mut (dyn FnMut(i64, i64) + Send),
) -> Result<Rebuilt, sqlx::Error> {
    let started = Instant::now();
    let checkpoint = match db {
        Db::Postgres(pool) => {
            let mut conn =
                sqlx::PgConnection::connect_with(&*pool.unmetered().connect_options()).await?;
            let result = postgres(&mut conn, projection, batch_size, progress).await;
            let _ = conn.close().await;
            result?
        }
        Db::Sqlite { write, .. } => {
            let mut conn =
                sqlx::SqliteConnection::connect_with(&*write.unmetered().connect_options()).await?;
            let result = sqlite(&mut conn, write, projection, batch_size, progress).await;
            let _ = conn.close().await;
            result?
        }
    };
    Ok(Rebuilt {
        events: checkpoint.position,
        checkpoint,
        elapsed: started.elapsed(),
    })
}

async fn postgres(
    conn: &mut sqlx::PgConnection,
    projection: Projection,
    batch_size: i64,
    progress: &mut (dyn FnMut(i64, i64) + Send),
) -> Result<Checkpoint, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(REBUILD_LOCK)
        .execute(&mut *conn)
        .await?;
    let live: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut *conn)
        .await?;
    let live = quote(&live);
    let shadow = quote(SHADOW_SCHEMA);

    // Green tables and checkpoint, empty.
    let mut setup = format!(
        "CREATE SCHEMA IF NOT EXISTS {shadow}; \
         CREATE TABLE IF NOT EXISTS {shadow}.projection_checkpoints \
         (LIKE {live}.projection_checkpoints INCLUDING ALL); \
         DELETE FROM {shadow}.projection_checkpoints; "
    );
    for table in projection.tables() {
        let table = quote(table);
        setup.push_str(&format!(
            "DROP TABLE IF EXISTS {shadow}.{table}; \
             CREATE TABLE {shadow}.{table} (LIKE {live}.{table} INCLUDING ALL); "
        ));
    }
    setup.push_str(&format!("SET search_path TO {shadow}, {live};"));
    conn.execute(setup.as_str()).await?;

    // Replay in short transactions.
    let mut tx = conn.begin().await?;
    crate::checkpoint::pg::ensure(&mut tx, projection).await?;
    tx.commit().await?;
    loop {
        let mut tx = conn.begin().await?;
        let head = cms_eventstore::log::pg::head(&mut tx).await?;
        let (step, next) = pg::batch(&mut tx, projection, batch_size).await?;
        tx.commit().await?;
        progress(next.position, head.max(next.position));
        if !matches!(step, Step::Applied(_)) {
            break;
        }
    }

    // Switch: hold the live checkpoint, catch up, move the tables in, take over the checkpoint.
    let mut tx = conn.begin().await?;
    sqlx::query(&format!(
        "SELECT 1 FROM {live}.projection_checkpoints WHERE projection = $1 FOR UPDATE"
    ))
    .bind(projection.name())
    .execute(&mut *tx)
    .await?;
    let checkpoint = pg::catch_up(&mut tx, projection, batch_size).await?;
    let mut switch = String::new();
    for table in projection.tables() {
        let table = quote(table);
        switch.push_str(&format!(
            "DROP TABLE {live}.{table}; ALTER TABLE {shadow}.{table} SET SCHEMA {live}; "
        ));
    }
    tx.execute(switch.as_str()).await?;
    sqlx::query(&format!(
        "UPDATE {live}.projection_checkpoints SET last_position = $2, status = $3, error = $4, \
         updated_at = now() WHERE projection = $1"
    ))
    .bind(projection.name())
    .bind(checkpoint.position)
    .bind(checkpoint.state.as_str())
    .bind(checkpoint.error.as_deref())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(REBUILD_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(checkpoint)
}

async fn sqlite(
    conn: &mut sqlx::SqliteConnection,
    writer: &cms_eventstore::pool::MeteredSqlitePool,
    projection: Projection,
    batch_size: i64,
    progress: &mut (dyn FnMut(i64, i64) + Send),
) -> Result<Checkpoint, sqlx::Error> {
    // Green tables: TEMP copies of the live tables' definitions, and of the checkpoints table.
    for table in projection
        .tables()
        .iter()
        .copied()
        .chain(["projection_checkpoints"])
    {
        let sql: String = sqlx::query_scalar(
            "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = $1",
        )
        .bind(table)
        .fetch_one(&mut *conn)
        .await?;
        let temp = sql
            .strip_prefix("CREATE TABLE")
            .map(|rest| format!("CREATE TEMP TABLE{rest}"))
            .ok_or_else(|| {
                sqlx::Error::Protocol(format!("unexpected definition of {table}: {sql}"))
            })?;
        conn.execute(format!("DROP TABLE IF EXISTS temp.{}", quote(table)).as_str())
            .await?;
        conn.execute(temp.as_str()).await?;
    }

    // Replay in short write transactions. Each waits its turn for the process's writer connection
    // and holds it meanwhile: SQLite's lock is not fair, and a connection that writes batch after
    // batch would starve the appender and the live projector, which queue on that pool.
    {
        let _turn = writer.acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        crate::checkpoint::lite::ensure(&mut tx, projection).await?;
        tx.commit().await?;
    }
    loop {
        let turn = writer.acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let head = cms_eventstore::log::lite::head(&mut tx).await?;
        let (step, next) = lite::batch(&mut tx, projection, batch_size).await?;
        tx.commit().await?;
        drop(turn);
        progress(next.position, head.max(next.position));
        if !matches!(step, Step::Applied(_)) {
            break;
        }
    }

    // Switch: catch up and copy into the live tables, in one write transaction.
    let turn = writer.acquire().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let checkpoint = lite::catch_up(&mut tx, projection, batch_size).await?;
    for table in projection.tables() {
        let table = quote(table);
        tx.execute(
            format!(
                "DELETE FROM main.{table}; INSERT INTO main.{table} SELECT * FROM temp.{table};"
            )
            .as_str(),
        )
        .await?;
    }
    sqlx::query(
        "UPDATE main.projection_checkpoints SET last_position = $2, status = $3, error = $4, \
         updated_at = $5 WHERE projection = $1",
    )
    .bind(projection.name())
    .bind(checkpoint.position)
    .bind(checkpoint.state.as_str())
    .bind(checkpoint.error.as_deref())
    .bind(chrono::Utc::now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    drop(turn);
    for table in projection
        .tables()
        .iter()
        .copied()
        .chain(["projection_checkpoints"])
    {
        conn.execute(format!("DROP TABLE temp.{}", quote(table)).as_str())
            .await?;
    }
    Ok(checkpoint)
}

cms_eventstore::for_each_backend! {
    same_backend(crate::checkpoint, crate::runner);
    /// One batch into the green model, its checkpoint locked (the rebuild's lock, or SQLite's
    /// single writer, keeps every other rebuilder out).
    pub(super) async fn batch(
        conn: &mut Conn,
        projection: Projection,
        batch_size: i64,
    ) -> Result<(Step, Checkpoint), sqlx::Error> {
        let Some(current) = checkpoint::lock(conn, projection, true).await? else {
            return Err(sqlx::Error::RowNotFound);
        };
        runner::advance(conn, projection, current, batch_size).await
    }

    /// Batches until the green model has caught up with the log (or stopped on a failure).
    pub(super) async fn catch_up(
        conn: &mut Conn,
        projection: Projection,
        batch_size: i64,
    ) -> Result<Checkpoint, sqlx::Error> {
        loop {
            let (step, next) = batch(conn, projection, batch_size).await?;
            if !matches!(step, Step::Applied(_)) {
                return Ok(next);
            }
        }
    }
}

/// A double-quoted SQL identifier.
fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}
