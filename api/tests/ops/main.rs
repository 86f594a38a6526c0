//! Operations, tested on the real `cms` binary: the Prometheus exposition after real traffic (checked
//! by `promtool check metrics`), graceful shutdown on SIGTERM, and what reaches the logs.
//!
//! `promtool` must be installed (scripts/test.sh installs it when missing); without it these tests
//! fail, they are never skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alerts;
mod logs;
mod metrics;
mod shutdown;
mod support;
