//! Error classification shared by both aggregates. Each domain error says which kind of refusal it is,
//! so the API can pick a status code family without knowing the rule; it still maps every variant to
//! its own stable code.

use serde::{Deserialize, Serialize};

/// The family a domain refusal belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The command's input breaks a rule about its own values (length, format, range).
    Validation,
    /// The actor's role, scope or relation to the aggregate does not allow the command.
    Forbidden,
    /// The command is well formed and permitted but conflicts with the aggregate's current state.
    Conflict,
    /// The aggregate, or something the command refers to inside it, does not exist.
    NotFound,
}
