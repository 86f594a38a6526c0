//! End-to-end tests for CMS against real PostgreSQL and SQLite databases (see `cms_tests`).
//! Run them with `scripts/test.sh`, which provides a PostgreSQL server.
//!
//! One test binary: linking is the slowest step of a Rust test build, so every end-to-end test shares it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod backends;

mod audit;
mod commands;
mod cqrs_compat;
mod dashboard;
mod event_log;
mod export;
mod fanout;
mod harness_selftest;
mod ops;
mod photos;
mod pools;
mod read_side;
mod replicas;
mod support;
mod surface;
mod write_guarantees;
