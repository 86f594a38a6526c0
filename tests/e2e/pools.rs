//! The database pools count the tasks waiting for a connection (the `cms_db_pool_waiting` gauge):
//! every way of getting one (acquire, a transaction, a query run on the pool itself) is counted while
//! it waits and uncounted once it has a connection or gives up.

use cms_eventstore::Db;
use std::time::Duration;

use cms_eventstore::pool::MeteredPool;
use cms_eventstore::store::EventStore;
use cms_tests::{Backend, TestDatabase};
use sqlx::{Database, Executor};

/// Polls until the pool reports `waiting` tasks; panics after a few seconds.
async fn until_waiting<DB: Database>(pool: &MeteredPool<DB>, waiting: u64, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats = pool.stats();
        if stats.waiting == waiting {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: expected {waiting} waiting, the pool reports {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Holds every connection of `pool`, queues one task of each kind behind them plus one that is
/// cancelled, checks the counts at each step, then lets the queue drain.
async fn waiting_tasks_are_counted<DB: Database>(pool: &MeteredPool<DB>, what: &str)
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    // Arrange: every connection checked out.
    let max = pool.stats().max;
    let mut held = Vec::new();
    for _ in 0..max {
        held.push(pool.acquire().await.unwrap());
    }
    let stats = pool.stats();
    assert_eq!(
        (stats.in_use(), stats.idle, stats.waiting),
        (max, 0, 0),
        "{what}: {stats:?}"
    );

    // Act: three tasks queue, each asking in its own way.
    let acquire = tokio::spawn({
        let pool = pool.clone();
        async move { pool.acquire().await.map(drop) }
    });
    let begin = tokio::spawn({
        let pool = pool.clone();
        async move { pool.begin().await?.rollback().await }
    });
    let query = tokio::spawn({
        let pool = pool.clone();
        async move { sqlx::raw_sql("SELECT 1").execute(&pool).await.map(drop) }
    });
    until_waiting(pool, 3, what).await;

    // ... a fourth queues and gives up (its request was cancelled).
    let cancelled = tokio::spawn({
        let pool = pool.clone();
        async move { pool.acquire().await.map(drop) }
    });
    until_waiting(pool, 4, what).await;
    cancelled.abort();
    assert!(cancelled.await.unwrap_err().is_cancelled(), "{what}");
    until_waiting(pool, 3, what).await;

    // ... and the held connections go back.
    drop(held);
    for (task, name) in [(acquire, "acquire"), (begin, "begin"), (query, "query")] {
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .unwrap_or_else(|_| panic!("{what}: the queued {name} never got a connection"))
            .unwrap()
            .unwrap_or_else(|error| panic!("{what}: the queued {name} failed: {error}"));
    }

    // Assert
    let stats = pool.stats();
    assert_eq!(stats.waiting, 0, "{what}: {stats:?}");
    assert!(stats.size <= max, "{what}: {stats:?}");
}

async fn pools_count_the_tasks_waiting_for_a_connection(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = EventStore::connect(db.url(), 2).await.unwrap();
    match store.db() {
        Db::Postgres(s) => {
            assert_eq!(s.name(), "write");
            waiting_tasks_are_counted(s, "postgres write pool").await;
        }
        Db::Sqlite { write, read } => {
            assert_eq!((write.name(), read.name()), ("write", "read"));
            waiting_tasks_are_counted(write, "sqlite writer").await;
            waiting_tasks_are_counted(read, "sqlite readers").await;
        }
    }
}

on_both_backends!(pools_count_the_tasks_waiting_for_a_connection);
