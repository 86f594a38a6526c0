//! Proves the test harness itself works: databases are created, reachable, isolated and removed.

use cms_tests::{Backend, TestDatabase, MAX_POOL_CONNECTIONS};
use sqlx::postgres::PgConnection;
use sqlx::Connection;

async fn pg_database_exists(name: &str) -> bool {
    let mut admin = PgConnection::connect(&cms_tests::server_url())
        .await
        .expect("connect to the admin database");
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut admin)
        .await
        .expect("query pg_database");
    admin.close().await.expect("close admin connection");
    found.is_some()
}

#[tokio::test]
async fn postgres_database_is_fresh_reachable_and_dropped() {
    let db = TestDatabase::postgres().await;
    assert_eq!(db.backend(), Backend::Postgres);
    let name = db
        .database_name()
        .expect("postgres database name")
        .to_owned();
    assert!(name.starts_with("cms_test_"), "{name}");
    assert!(
        db.url().contains(&name),
        "url {} names the database",
        db.url()
    );

    let pool = db.pg_pool().await;
    assert_eq!(pool.options().get_max_connections(), MAX_POOL_CONNECTIONS);
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&pool)
        .await
        .expect("select 1");
    assert_eq!(one, 1);
    let current: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&pool)
        .await
        .expect("current_database()");
    assert_eq!(current, name);
    let tables: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&pool)
    .await
    .expect("count tables");
    assert_eq!(tables, 0, "a new test database is empty");

    // The pool stays open on purpose: the drop must still succeed (DROP DATABASE ... WITH (FORCE)).
    assert!(pg_database_exists(&name).await);
    drop(db);
    assert!(
        !pg_database_exists(&name).await,
        "{name} must be dropped with its TestDatabase"
    );
    drop(pool);
}

#[tokio::test]
async fn postgres_databases_are_isolated() {
    let (a, b) = tokio::join!(TestDatabase::postgres(), TestDatabase::postgres());
    assert_ne!(a.url(), b.url());
    let pool_a = a.pg_pool().await;
    let pool_b = b.pg_pool().await;
    sqlx::query("create table t (id int primary key)")
        .execute(&pool_a)
        .await
        .expect("create table in a");
    let in_b: Option<String> = sqlx::query_scalar("select to_regclass('public.t')::text")
        .fetch_one(&pool_b)
        .await
        .expect("to_regclass");
    assert_eq!(
        in_b, None,
        "a table created in one test database is invisible in another"
    );
}

#[tokio::test]
async fn sqlite_database_is_writable_and_removed() {
    let db = TestDatabase::sqlite();
    assert_eq!(db.backend(), Backend::Sqlite);
    assert!(
        db.url().starts_with("sqlite://") && db.url().ends_with("cms.db?mode=rwc"),
        "{}",
        db.url()
    );
    let path = db.sqlite_path().expect("sqlite path").to_path_buf();

    let pool = db.sqlite_pool().await;
    sqlx::query("create table t (id integer primary key, v text not null)")
        .execute(&pool)
        .await
        .expect("create");
    sqlx::query("insert into t (v) values (?), (?)")
        .bind("a")
        .bind("b")
        .execute(&pool)
        .await
        .expect("insert");
    let n: i64 = sqlx::query_scalar("select count(*) from t")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(n, 2);
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&pool)
        .await
        .expect("select 1");
    assert_eq!(one, 1);
    assert!(path.is_file());

    pool.close().await;
    drop(db);
    assert!(
        !path.exists(),
        "the SQLite file goes away with its TestDatabase"
    );
}

async fn same_body_runs_on_every_backend(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    assert_eq!(db.backend(), backend);
    let one: i64 = match backend {
        Backend::Postgres => sqlx::query_scalar("select 1::bigint")
            .fetch_one(&db.pg_pool().await)
            .await
            .expect("pg select"),
        Backend::Sqlite => sqlx::query_scalar("select 1")
            .fetch_one(&db.sqlite_pool().await)
            .await
            .expect("sqlite select"),
    };
    assert_eq!(one, 1, "{backend}");
}

on_both_backends!(same_body_runs_on_every_backend);
