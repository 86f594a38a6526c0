//! What counting the tasks that wait for a connection costs (docs/adr/0013): an acquire and a
//! `SELECT 1` through the sqlx pool itself, and through `MeteredPool` with the service's Prometheus
//! recorder installed (so every wait is recorded in the real histogram). SQLite in memory, one
//! connection, so the database's own work is as small as it gets and the difference shows.
//!
//! Run: `cargo bench -p cms-benches --bench pool -- --warm-up-time 1 --measurement-time 3`.

// Benchmarks set up fixed, known-valid data; a failure there is a bug to see at once.
#![allow(clippy::unwrap_used)]

use std::str::FromStr;

use cms_eventstore::pool::{MeteredPool, PoolRole};
use criterion::{criterion_group, criterion_main, Criterion};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

async fn sqlite() -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:").unwrap())
        .await
        .unwrap()
}

fn pools(c: &mut Criterion) {
    let runtime = runtime();
    let (raw, metered) = runtime.block_on(async {
        cms_api::metrics::install().unwrap();
        (
            sqlite().await,
            MeteredPool::new(sqlite().await, PoolRole::Write),
        )
    });

    let mut group = c.benchmark_group("pool");
    group.bench_function("acquire/sqlx", |b| {
        b.to_async(&runtime)
            .iter(|| async { drop(raw.acquire().await.unwrap()) });
    });
    group.bench_function("acquire/metered", |b| {
        b.to_async(&runtime)
            .iter(|| async { drop(metered.acquire().await.unwrap()) });
    });
    group.bench_function("select_1/sqlx", |b| {
        b.to_async(&runtime).iter(|| async {
            let one: i64 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&raw)
                .await
                .unwrap();
            one
        });
    });
    group.bench_function("select_1/metered", |b| {
        b.to_async(&runtime).iter(|| async {
            let one: i64 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&metered)
                .await
                .unwrap();
            one
        });
    });
    group.finish();
}

criterion_group!(benches, pools);
criterion_main!(benches);
