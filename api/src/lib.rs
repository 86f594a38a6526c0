//! The CMS service as a library: configuration, authentication, the event store and its executor,
//! the HTTP API and the command-line entry points. `main.rs` is a thin shell over [`cli`].
//!
//! Each module owns one concern; modules are declared here as they land.

pub mod auth;
pub mod config;
pub mod error;
pub mod executor;
pub mod store;
pub mod admin;
pub mod app;
pub mod cli;
pub mod demo;
mod domain_errors;
pub mod routes;
