//! The database the read side works on: a PostgreSQL pool, or SQLite's single writer plus its readers.
//!
//! Read-model SQL is written once with `$N` placeholders (both backends accept them) and compiled for
//! each backend by [`for_each_backend!`](crate::for_each_backend), so the two backends cannot drift.
//! The pools are [`MeteredPool`](crate::pool::MeteredPool)s, which count the tasks waiting for a
//! connection. A replica is a `ReadDb::Postgres` of its own (the API's `reads` module routes to it).

use crate::pool::{MeteredPgPool, MeteredSqlitePool};

/// A handle on the read side's database; cheap to clone (pools are shared).
#[derive(Debug, Clone)]
pub enum ReadDb {
    /// PostgreSQL: one pool for projector writes and queries (the primary, or a replica for queries).
    Postgres(MeteredPgPool),
    /// SQLite: the single writer connection (shared with the event appender) and the reader pool.
    Sqlite {
        /// The one writer connection: projector steps run in `BEGIN IMMEDIATE` on it.
        write: MeteredSqlitePool,
        /// Readers for queries and cheap checks.
        read: MeteredSqlitePool,
    },
}

/// Instantiates a module body once per backend: `pg` for PostgreSQL, `lite` for SQLite. Inside, `Db`
/// is the sqlx database type, `Conn` its connection, and `LOCK_ROW` the row-lock clause a projector
/// appends to its checkpoint read (`FOR UPDATE SKIP LOCKED` on PostgreSQL; nothing on SQLite, whose
/// `BEGIN IMMEDIATE` already excludes every other writer), and `PG` whether it is PostgreSQL (for the
/// few expressions whose dialects differ). `batch_b`, `log_b`, `checkpoint_b`, `runner_b`, `list_b`, `detail_b`,
/// `dash_b` and `counts_b` name the same backend's module of the log, the checkpoints and each read model.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_backend {
    ($($body:tt)*) => {
        #[allow(dead_code)]
        pub(crate) mod pg {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::{batch::pg as batch_b, checkpoint::pg as checkpoint_b, complaint_detail::pg as detail_b, complaint_list::pg as list_b, dashboard::pg as dash_b, event_counts::pg as counts_b, log::pg as log_b, runner::pg as runner_b};
            pub(crate) type Db = sqlx::Postgres;
            pub(crate) type Conn = sqlx::PgConnection;
            pub(crate) const LOCK_ROW: &str = " FOR UPDATE SKIP LOCKED";
            pub(crate) const LOCK_ROW_WAIT: &str = " FOR UPDATE";
            pub(crate) const PG: bool = true;
            $($body)*
        }
        #[allow(dead_code)]
        pub(crate) mod lite {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::{batch::lite as batch_b, checkpoint::lite as checkpoint_b, complaint_detail::lite as detail_b, complaint_list::lite as list_b, dashboard::lite as dash_b, event_counts::lite as counts_b, log::lite as log_b, runner::lite as runner_b};
            pub(crate) type Db = sqlx::Sqlite;
            pub(crate) type Conn = sqlx::SqliteConnection;
            pub(crate) const LOCK_ROW: &str = "";
            pub(crate) const LOCK_ROW_WAIT: &str = "";
            pub(crate) const PG: bool = false;
            $($body)*
        }
    };
}
