//! The database handle and the one way CMS writes SQL for both backends.
//!
//! [`Db`] is PostgreSQL (one pool) or SQLite (its single writer and a reader pool). SQL is written
//! once with `$N` placeholders, which both backends accept, and instantiated per backend by a macro,
//! so sqlx's concrete connection types stay concrete and the two backends cannot drift:
//! - [`on_backend!`](crate::on_backend) runs one block on a connection of the right backend. The
//!   block is expanded once per backend, with `conn` bound to that backend's connection (or
//!   transaction), `Sql` to its sqlx database type and `DIALECT` to its [`Dialect`]; the compiler checks it twice. Most SQL in CMS is
//!   written this way.
//! - [`for_each_backend!`](crate::for_each_backend) instantiates a whole module body once per
//!   backend (`pg`, `lite`), for code whose functions call each other with a connection in hand (a
//!   projector step: lock, read the log, apply, checkpoint).
//!
//! Where the dialects differ (row locks, how a write transaction starts, byte columns) the
//! difference is a field of [`Dialect`], never a `match` in the caller.

use crate::pool::{MeteredPgPool, MeteredSqlitePool};

/// The database; cheap to clone (pools are shared).
#[derive(Debug, Clone)]
pub enum Db {
    /// PostgreSQL: one pool for writes and reads (the primary, or a replica that only reads).
    Postgres(MeteredPgPool),
    /// SQLite: the single writer connection and the reader pool.
    Sqlite {
        /// The one writer: appends, projector steps and every other write take turns on it.
        write: MeteredSqlitePool,
        /// Readers for queries and cheap checks (WAL mode: they never block the writer).
        read: MeteredSqlitePool,
    },
}

/// Which backend a [`Db`] is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Backend {
    /// The name used in logs and health output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// What differs between the two SQL dialects CMS writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The backend.
    pub backend: Backend,
    /// Appended to a `SELECT` that takes a row lock and skips rows another transaction holds.
    pub lock_row_skip_locked: &'static str,
    /// Appended to a `SELECT` that takes a row lock and waits for it.
    pub lock_row: &'static str,
    /// The statement that starts a write transaction (SQLite must take its write lock up front, or a
    /// read-then-write transaction fails with `SQLITE_BUSY` instead of waiting its turn).
    pub begin_write: &'static str,
    /// The statement that starts a read-only transaction whose reads all see one snapshot (SQLite:
    /// a deferred transaction in WAL mode reads one snapshot from its first read on).
    pub begin_snapshot: &'static str,
}

impl Dialect {
    /// PostgreSQL: row locks, plain `BEGIN`.
    pub const POSTGRES: Dialect = Dialect {
        backend: Backend::Postgres,
        lock_row_skip_locked: " FOR UPDATE SKIP LOCKED",
        lock_row: " FOR UPDATE",
        begin_write: "BEGIN",
        begin_snapshot: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    };

    /// SQLite: no row locks (`BEGIN IMMEDIATE` already excludes every other writer).
    pub const SQLITE: Dialect = Dialect {
        backend: Backend::Sqlite,
        lock_row_skip_locked: "",
        lock_row: "",
        begin_write: "BEGIN IMMEDIATE",
        begin_snapshot: "BEGIN",
    };

    /// True on PostgreSQL (for the few expressions whose text differs).
    pub const fn is_postgres(self) -> bool {
        matches!(self.backend, Backend::Postgres)
    }
}

impl Db {
    /// The backend.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Postgres(_) => Dialect::POSTGRES,
            Db::Sqlite { .. } => Dialect::SQLITE,
        }
    }

    /// The pool writes go to (SQLite: the single writer).
    pub fn writer(&self) -> Pools<'_> {
        match self {
            Db::Postgres(pool) => Pools::Postgres(pool),
            Db::Sqlite { write, .. } => Pools::Sqlite(write),
        }
    }

    /// The pool reads go to (SQLite: the readers).
    pub fn reader(&self) -> Pools<'_> {
        match self {
            Db::Postgres(pool) => Pools::Postgres(pool),
            Db::Sqlite { read, .. } => Pools::Sqlite(read),
        }
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (`LISTEN`, advisory locks, replicas).
    pub fn postgres(&self) -> Option<&MeteredPgPool> {
        match self {
            Db::Postgres(pool) => Some(pool),
            Db::Sqlite { .. } => None,
        }
    }
}

/// One pool of a [`Db`], as [`on_backend!`](crate::on_backend) takes it.
#[derive(Debug, Clone, Copy)]
pub enum Pools<'a> {
    /// A PostgreSQL pool.
    Postgres(&'a MeteredPgPool),
    /// A SQLite pool.
    Sqlite(&'a MeteredSqlitePool),
}

/// Runs a block once on the right backend, with a connection from a [`Pools`] (`db.reader()`,
/// `db.writer()`).
///
/// - `on_backend!(pools, |conn| body)`: `conn` is a `&mut` connection of that backend.
/// - `on_backend!(pools, tx |conn| body)`: `conn` is a `&mut` connection inside a write transaction
///   begun with [`Dialect::begin_write`]; the block's `Ok` commits it, an `Err` (or an early
///   `return` from the surrounding function) rolls it back.
/// - `on_backend!(pools, snapshot |conn| body)`: the same inside a read-only transaction whose reads
///   all see one snapshot ([`Dialect::begin_snapshot`]), for a read model and its checkpoint read
///   together.
/// - `|conn, backend|` also names the calling module's per-backend module (`self::pg` or
///   `self::lite`, made by [`for_each_backend!`](crate::for_each_backend)) `backend`, so the block
///   can call `backend::step(conn)`.
///
/// Inside the block `DIALECT` is the backend's [`Dialect`] and `Sql` the sqlx database type. The
/// block is an `async` context of the caller: use `.await` and `?` as in the surrounding function
/// (its error type must take `sqlx::Error` via `From`), and end it with a `Result`.
#[macro_export]
macro_rules! on_backend {
    ($pools:expr, tx |$conn:ident $(, $backend:ident)?| $body:expr) => {
        $crate::on_backend!(@in begin_write, $pools, $conn, [$($backend)?], $body)
    };
    ($pools:expr, snapshot |$conn:ident $(, $backend:ident)?| $body:expr) => {
        $crate::on_backend!(@in begin_snapshot, $pools, $conn, [$($backend)?], $body)
    };
    (@in $begin:ident, $pools:expr, $conn:ident, [$($backend:ident)?], $body:expr) => {
        match $pools {
            $crate::db::Pools::Postgres(pool) => {
                $crate::on_backend!(@tx $begin, pool, pg, Postgres, PgConnection, POSTGRES, $conn, [$($backend)?], $body)
            }
            $crate::db::Pools::Sqlite(pool) => {
                $crate::on_backend!(@tx $begin, pool, lite, Sqlite, SqliteConnection, SQLITE, $conn, [$($backend)?], $body)
            }
        }
    };
    ($pools:expr, |$conn:ident $(, $backend:ident)?| $body:expr) => {
        match $pools {
            $crate::db::Pools::Postgres(pool) => {
                $crate::on_backend!(@conn pool, pg, Postgres, PgConnection, POSTGRES, $conn, [$($backend)?], $body)
            }
            $crate::db::Pools::Sqlite(pool) => {
                $crate::on_backend!(@conn pool, lite, Sqlite, SqliteConnection, SQLITE, $conn, [$($backend)?], $body)
            }
        }
    };
    (@tx $begin:ident, $pool:ident, $module:ident, $sql:ident, $connection:ident, $dialect:ident, $conn:ident, [$($backend:ident)?], $body:expr) => {{
        $(#[allow(unused_imports)] use self::$module as $backend;)?
        #[allow(dead_code)]
        const DIALECT: $crate::db::Dialect = $crate::db::Dialect::$dialect;
        #[allow(dead_code)]
        type Sql = ::sqlx::$sql;
        let mut tx = $pool.begin_with(DIALECT.$begin).await?;
        let result = {
            let $conn: &mut ::sqlx::$connection = &mut *tx;
            $body
        };
        if result.is_ok() {
            tx.commit().await?;
        }
        result
    }};
    (@conn $pool:ident, $module:ident, $sql:ident, $connection:ident, $dialect:ident, $conn:ident, [$($backend:ident)?], $body:expr) => {{
        $(#[allow(unused_imports)] use self::$module as $backend;)?
        #[allow(dead_code)]
        const DIALECT: $crate::db::Dialect = $crate::db::Dialect::$dialect;
        #[allow(dead_code)]
        type Sql = ::sqlx::$sql;
        let mut connection = $pool.acquire().await?;
        let $conn: &mut ::sqlx::$connection = &mut *connection;
        $body
    }};
}

/// Instantiates a module body once per backend: `pg` for PostgreSQL, `lite` for SQLite. Inside, `Sql`
/// is the sqlx database type, `Conn` its connection and `DIALECT` its [`Dialect`]. The generated
/// modules are `pub` (and hidden from the docs) so another crate's backend module can call them.
///
/// An optional first line `same_backend(path, ...);` imports the same backend's module of other
/// modules under their last name (or `path as name`), so `log::read(conn, ..)` inside `pg` calls
/// `cms_eventstore::log::pg::read`:
///
/// ```ignore
/// cms_eventstore::for_each_backend! {
///     same_backend(crate::checkpoint, cms_eventstore::log);
///     pub(crate) async fn step(conn: &mut Conn) -> Result<(), sqlx::Error> {
///         let head = log::head(conn).await?;
///         checkpoint::write(conn, head).await
///     }
/// }
/// ```
#[macro_export]
macro_rules! for_each_backend {
    (same_backend($($($segment:ident)::+ $(as $alias:ident)?),+ $(,)?); $($body:tt)*) => {
        $crate::for_each_backend!(@modules [$([[$($segment)::+] [$($alias)?]])+] $($body)*);
    };
    (@modules [$([[$($path:tt)*] [$($alias:ident)?]])*] $($body:tt)*) => {
        #[doc(hidden)]
        #[allow(dead_code)]
        pub mod pg {
            #[allow(unused_imports)]
            use super::*;
            $($crate::for_each_backend!(@import pg [$($path)*] [$($alias)?] $($path)*);)*
            pub(crate) type Sql = ::sqlx::Postgres;
            pub(crate) type Conn = ::sqlx::PgConnection;
            pub(crate) const DIALECT: $crate::db::Dialect = $crate::db::Dialect::POSTGRES;
            $($body)*
        }
        #[doc(hidden)]
        #[allow(dead_code)]
        pub mod lite {
            #[allow(unused_imports)]
            use super::*;
            $($crate::for_each_backend!(@import lite [$($path)*] [$($alias)?] $($path)*);)*
            pub(crate) type Sql = ::sqlx::Sqlite;
            pub(crate) type Conn = ::sqlx::SqliteConnection;
            pub(crate) const DIALECT: $crate::db::Dialect = $crate::db::Dialect::SQLITE;
            $($body)*
        }
    };
    (@import $backend:ident [$($path:tt)*] [$alias:ident] $($ignored:tt)*) => {
        #[allow(unused_imports)]
        use $($path)*::$backend as $alias;
    };
    (@import $backend:ident [$($path:tt)*] [] $last:ident) => {
        #[allow(unused_imports)]
        use $($path)*::$backend as $last;
    };
    (@import $backend:ident [$($path:tt)*] [] $skip:tt $($rest:tt)+) => {
        $crate::for_each_backend!(@import $backend [$($path)*] [] $($rest)+);
    };
    ($($body:tt)*) => {
        $crate::for_each_backend!(@modules [] $($body)*);
    };
}
