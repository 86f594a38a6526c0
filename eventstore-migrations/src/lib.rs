//! The CMS event store (crate `cms_eventstore`; its folder keeps the name `eventstore-migrations`,
//! where the migrations still live): everything CMS keeps in its database apart from the read models.
//!
//! - [`db`]: the database handle ([`Db`]: PostgreSQL, or SQLite's writer and readers) and the one
//!   way SQL is written for both backends ([`on_backend!`], [`for_each_backend!`], [`db::Dialect`]);
//! - [`pool`]: the pools, which count the tasks waiting for a connection;
//! - [`store`]: the event store: loading an aggregate, the append with its idempotency record, the
//!   whole-event read of the log, and the cqrs-es repository over it;
//! - [`log`]: the one reader of the log that its consumers use, and the one definition of its head;
//! - [`audit`]: the hash chain, the signed checkpoints and the record of auditor reads;
//! - [`photo_jobs`]: thumbnail jobs fed from the log and leased to workers;
//! - [`sockets`]: WebSocket tickets and open sessions, shared by every instance;
//! - [`postgres`]: what only PostgreSQL has (leases, `LISTEN`, a standby's replay lag);
//! - [`migrations`]: the SQL migrations of both backends, embedded at compile time.
//!
//! The API crate writes no SQL: every statement CMS runs is in this crate or, for the read models,
//! in `cms_projections`.
//!
//! What the store guarantees (ARCHITECTURE section 3, docs/adr/0002): every event gets a global
//! position that is commit-ordered, contiguous and gap-free; rows are never updated or deleted; a
//! command's events and its idempotency record commit together or not at all.

pub mod audit;
pub mod db;
pub mod log;
pub mod migrations;
pub mod photo_jobs;
pub mod pool;
pub mod postgres;
pub mod sockets;
pub mod store;

pub use db::Db;
