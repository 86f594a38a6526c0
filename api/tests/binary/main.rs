//! The real `cms` executable (`CARGO_BIN_EXE_cms`), run as a process the way an operator runs it:
//! [`demo`] (`cms serve --demo` with no configuration), [`cli`] (the one-shot commands), [`fanout`]
//! (two `cms serve` processes on one PostgreSQL database and one nats-server) and [`ops`] (metrics,
//! alert rules, logs and graceful shutdown).
//!
//! One test binary: every test binary links the whole service, and linking is the slowest step of
//! the build, so these tests share one. [`support`] holds what they all need.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod demo;
mod fanout;
mod ops;
mod support;
