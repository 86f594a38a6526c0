//! End-to-end tests for CMS against real PostgreSQL and SQLite databases (see `cms_tests`).
//! Run them with `scripts/test.sh`, which provides a PostgreSQL server.

mod harness_selftest;
