//! The CMS service as a library: configuration, authentication, the event store and its executor,
//! the HTTP API and the command-line entry points. `main.rs` is a thin shell over [`cli`].
//!
//! Each module owns one concern; modules are declared here as they land.

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
mod domain_errors;
pub mod error;
pub mod fanout;
pub mod metrics;
pub mod objects;
pub mod photos;
pub mod progress;
pub mod projections;
pub mod reads;
pub mod routes;
pub mod secret;
pub mod startup;
pub mod state;
