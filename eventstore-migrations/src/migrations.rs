//! The SQL migrations of the CMS event store and read models, one directory per backend, embedded at
//! compile time.
//!
//! Both backends keep the same tables and the same guarantees (a commit-ordered, gap-free global
//! position; an append-only `events` table; per-principal idempotency records). `cms migrate` and
//! `cms serve` apply them through [`postgres`] and [`sqlite`].

use sqlx::migrate::Migrator;

static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The PostgreSQL migrations, in order.
pub fn postgres() -> &'static Migrator {
    &POSTGRES
}

/// The SQLite migrations, in order.
pub fn sqlite() -> &'static Migrator {
    &SQLITE
}
