//! The CMS domain: the `Complaint` and `Hostel` aggregates, their commands, events, errors and the
//! complaint state machine. Everything here is pure and synchronous: no I/O, no clock, no randomness.
//! Time and new ids arrive inside commands, and a complaint decision receives the facts of its hostel in
//! the command, so `decide` is a plain function of (state, command). Both aggregates implement
//! `cqrs_es::Aggregate`; their `handle` only runs `decide` and writes the events to the sink.

pub mod actor;
pub mod complaint;
pub mod hostel;
pub mod ids;
mod text;
