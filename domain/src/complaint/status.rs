//! The complaint state machine: the [`Status`] enum and its transition table. Decisions consult the
//! status with exhaustive matches; [`Status::allows`] is the table they must agree with, and the property
//! test checks every observed status change against it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a complaint is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed by a resident, not yet looked at.
    Filed,
    /// Priority set by staff or a warden.
    Triaged,
    /// A staff member is responsible for it.
    Assigned,
    /// The assignee is working on it.
    InProgress,
    /// Work paused (parts, access).
    OnHold,
    /// The assignee reports it fixed; the reporter may confirm or dispute.
    Resolved,
    /// The reporter disputed the resolution.
    Reopened,
    /// Finished (terminal).
    Closed,
    /// Refused by a warden (terminal).
    Rejected,
    /// Withdrawn by the reporter (terminal).
    Withdrawn,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: [Status; 10] = [
        Status::Filed,
        Status::Triaged,
        Status::Assigned,
        Status::InProgress,
        Status::OnHold,
        Status::Resolved,
        Status::Reopened,
        Status::Closed,
        Status::Rejected,
        Status::Withdrawn,
    ];

    /// The stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Filed => "filed",
            Status::Triaged => "triaged",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::OnHold => "on_hold",
            Status::Resolved => "resolved",
            Status::Reopened => "reopened",
            Status::Closed => "closed",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Whether no command can move the complaint on (Closed, Rejected, Withdrawn).
    pub const fn is_terminal(self) -> bool {
        match self {
            Status::Closed | Status::Rejected | Status::Withdrawn => true,
            Status::Filed
            | Status::Triaged
            | Status::Assigned
            | Status::InProgress
            | Status::OnHold
            | Status::Resolved
            | Status::Reopened => false,
        }
    }

    /// The transition table: whether a complaint in `self` may move to `next`. Re-triage
    /// (Triaged -> Triaged) and reassignment (Assigned -> Assigned) count as transitions.
    pub const fn allows(self, next: Status) -> bool {
        use Status::*;
        match self {
            Filed => matches!(next, Triaged | Closed | Rejected | Withdrawn),
            Triaged => matches!(next, Triaged | Assigned | Closed | Rejected | Withdrawn),
            Assigned => matches!(next, Assigned | InProgress | Closed | Rejected | Withdrawn),
            InProgress => matches!(next, OnHold | Resolved | Assigned | Closed),
            OnHold => matches!(next, InProgress | Assigned | Closed),
            Resolved => matches!(next, Closed | Reopened),
            Reopened => matches!(next, Assigned | InProgress | Closed),
            Closed | Rejected | Withdrawn => false,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn terminal_statuses_allow_nothing() {
        for from in Status::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert!(Status::ALL.iter().all(|to| !from.allows(*to)), "{from}");
        }
    }

    #[test]
    fn every_non_terminal_status_may_be_closed() {
        for from in Status::ALL.into_iter().filter(|s| !s.is_terminal()) {
            assert!(from.allows(Status::Closed), "{from}");
        }
    }

    #[test]
    fn the_happy_path_is_allowed() {
        let path = [
            Status::Filed,
            Status::Triaged,
            Status::Assigned,
            Status::InProgress,
            Status::OnHold,
            Status::InProgress,
            Status::Resolved,
            Status::Reopened,
            Status::InProgress,
            Status::Resolved,
            Status::Closed,
        ];
        assert!(path.windows(2).all(|w| w[0].allows(w[1])));
    }

    #[test]
    fn statuses_serialise_as_their_names() {
        for status in Status::ALL {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
    }
}
