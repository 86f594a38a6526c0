//! The commands layer, between the routes and the event store. Routes parse, authorise and render;
//! a command function loads what the decision needs (the aggregate, visible to the caller; its
//! hostel's facts), lets the domain decide and appends through the [`executor::Executor`], which
//! answers with the committed events and their positions.
//!
//! - [`complaints`]: every command on an existing complaint ([`complaints::act`]) and the helpers
//!   complaint routes share (visibility, hostel facts, the answer's body);
//! - [`photos`]: attaching an upload, with the dry run that comes before any byte is stored;
//! - [`hostels`]: every hostel command, for the routes and for `cms hostel`;
//! - [`executor`]: load, decide, append, with retries on conflicts and idempotency keys;
//! - [`http`]: the command headers that travel into event metadata and the answer that carries the
//!   consistency token.

pub mod complaints;
pub mod executor;
pub mod hostels;
pub mod http;
pub mod photos;
