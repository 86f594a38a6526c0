//! Database pools that count the tasks waiting for a connection.
//!
//! sqlx 0.8 tells a pool's size and its idle connections, not how many tasks are queued for one, and
//! an exhausted pool shows first as that queue. [`MeteredPool`] wraps an sqlx pool and is used like
//! one (it is an [`Executor`] and an [`Acquire`], and has `acquire`, `begin` and `begin_with`): every
//! acquire counts as waiting from the call until a connection is in hand (or the caller gives up),
//! whether the pool hands out an idle connection, opens one or queues. The pool keeps the number
//! waiting now (sampled into a gauge) and records each wait in the histogram [`POOL_ACQUIRE_DURATION`]
//! labelled with the pool's name; the rate of its sum is the average number of waiting tasks
//! (Little's law), which a sampled gauge can miss.
//!
//! There is deliberately no `Deref` to the sqlx pool: a function taking `&sqlx::PgPool` would take a
//! `&MeteredPool` by coercion and silently stop counting. The raw pool is reached only by name,
//! [`MeteredPool::unmetered`], for what is not a query (connect options, `LISTEN` connections).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::TryStreamExt;
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, Database, Describe, Either, Execute, Executor, Pool, Transaction};

/// Histogram: seconds a task waited for a connection of a pool (label `pool`: [`PoolRole`]). Declared
/// here because the pools live in this crate; the API lists it with every other metric name.
pub const POOL_ACQUIRE_DURATION: &str = "cms_db_pool_acquire_duration_seconds";

/// What a pool is for: label `pool` of every pool metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolRole {
    /// The primary: commands, projectors, the sealer (SQLite: the single writer).
    Write,
    /// Where queries run: the replicas together when configured, else the primary (SQLite: readers).
    Read,
}

impl PoolRole {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            PoolRole::Write => "write",
            PoolRole::Read => "read",
        }
    }
}

/// An sqlx pool that counts who waits for its connections; cheap to clone (shared).
#[derive(Debug)]
pub struct MeteredPool<DB: Database> {
    pool: Pool<DB>,
    /// Tasks inside `acquire` now.
    waiting: Arc<AtomicU64>,
    /// The `pool` label of its waits (`write`, `read`).
    name: &'static str,
}

/// A PostgreSQL pool with wait counts.
pub type MeteredPgPool = MeteredPool<sqlx::Postgres>;
/// A SQLite pool with wait counts.
pub type MeteredSqlitePool = MeteredPool<sqlx::Sqlite>;

impl<DB: Database> Clone for MeteredPool<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            waiting: Arc::clone(&self.waiting),
            name: self.name,
        }
    }
}

/// A [`MeteredPool`]'s connections and waiting tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not checked out.
    pub idle: u32,
    /// The most connections the pool may open.
    pub max: u32,
    /// Tasks waiting for a connection now.
    pub waiting: u64,
}

/// Two pools counted as one (the replicas behind one `read` label).
impl std::ops::Add for PoolStats {
    type Output = PoolStats;

    fn add(self, other: PoolStats) -> PoolStats {
        PoolStats {
            size: self.size + other.size,
            idle: self.idle + other.idle,
            max: self.max + other.max,
            waiting: self.waiting + other.waiting,
        }
    }
}

impl PoolStats {
    /// Connections checked out by a task.
    pub fn in_use(&self) -> u32 {
        self.size.saturating_sub(self.idle)
    }
}

/// Counts one task as waiting until dropped, so a cancelled acquire is counted out (and its wait
/// recorded) too.
struct Waiting {
    waiting: Arc<AtomicU64>,
    name: &'static str,
    since: Instant,
}

impl Waiting {
    fn start<DB: Database>(pool: &MeteredPool<DB>) -> Self {
        pool.waiting.fetch_add(1, Ordering::Relaxed);
        Self {
            waiting: Arc::clone(&pool.waiting),
            name: pool.name,
            since: Instant::now(),
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        metrics::histogram!(POOL_ACQUIRE_DURATION, "pool" => self.name)
            .record(self.since.elapsed());
    }
}

impl<DB: Database> MeteredPool<DB> {
    /// Wraps `pool`, whose waits are recorded with the label `pool` = `role`.
    pub fn new(pool: Pool<DB>, role: PoolRole) -> Self {
        Self {
            pool,
            waiting: Arc::default(),
            name: role.as_str(),
        }
    }

    /// The `pool` label of its waits.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The sqlx pool itself, for what is not a query: its connect options, a dedicated connection.
    /// Queries run on it are not counted.
    pub fn unmetered(&self) -> &Pool<DB> {
        &self.pool
    }

    /// A connection, counted as waiting until it is in hand.
    ///
    /// # Errors
    /// The pool is closed, a new connection cannot be opened, or the acquire timeout passed.
    pub fn acquire(
        &self,
    ) -> impl std::future::Future<Output = Result<PoolConnection<DB>, sqlx::Error>> + Send + 'static
    {
        let waiting = Waiting::start(self);
        let acquire = self.pool.acquire();
        async move {
            let connection = acquire.await;
            drop(waiting);
            connection
        }
    }

    /// A connection in a transaction opened with `BEGIN`.
    ///
    /// # Errors
    /// As [`MeteredPool::acquire`], or `BEGIN` fails.
    pub async fn begin(&self) -> Result<Transaction<'static, DB>, sqlx::Error> {
        Transaction::begin(self.acquire().await?, None).await
    }

    /// A connection in a transaction opened with `statement` (SQLite's `BEGIN IMMEDIATE`).
    ///
    /// # Errors
    /// As [`MeteredPool::acquire`], or the statement fails.
    pub async fn begin_with(
        &self,
        statement: impl Into<Cow<'static, str>>,
    ) -> Result<Transaction<'static, DB>, sqlx::Error> {
        Transaction::begin(self.acquire().await?, Some(statement.into())).await
    }

    /// Closes every connection and refuses new acquires.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool's counts and its waiting tasks now.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}

// The same shape as sqlx's own `impl Executor for &Pool`: take a connection, run the query on it,
// give it back when the stream or future ends; only the acquire differs.
impl<'p, DB: Database> Executor<'p> for &'_ MeteredPool<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>
    where
        E: 'q + Execute<'q, DB>,
    {
        let acquire = self.acquire();
        Box::pin(async_stream::try_stream! {
            let mut connection = acquire.await?;
            let mut results = connection.fetch_many(query);
            while let Some(result) = results.try_next().await? {
                yield result;
            }
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        E: 'q + Execute<'q, DB>,
    {
        let acquire = self.acquire();
        Box::pin(async move { acquire.await?.fetch_optional(query).await })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement<'q>, sqlx::Error>> {
        let acquire = self.acquire();
        Box::pin(async move { acquire.await?.prepare_with(sql, parameters).await })
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<DB>, sqlx::Error>> {
        let acquire = self.acquire();
        Box::pin(async move { acquire.await?.describe(sql).await })
    }
}

impl<'a, DB: Database> Acquire<'a> for &'_ MeteredPool<DB> {
    type Database = DB;
    type Connection = PoolConnection<DB>;

    fn acquire(self) -> BoxFuture<'static, Result<PoolConnection<DB>, sqlx::Error>> {
        Box::pin(MeteredPool::acquire(self))
    }

    fn begin(self) -> BoxFuture<'static, Result<Transaction<'a, DB>, sqlx::Error>> {
        let acquire = MeteredPool::acquire(self);
        Box::pin(async move { Transaction::begin(acquire.await?, None).await })
    }
}
