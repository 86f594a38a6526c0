//! Read models for CMS, fed from the global event log (ARCHITECTURE section 4, docs/adr/0005).
//!
//! Every projection reads the log in global-position order in batches, checks that the positions
//! continue its checkpoint without holes (the log is gap-free by construction, so a hole means a bug or
//! tampering: stop, never skip), and writes its read-model rows and its checkpoint in one transaction.
//! The database handle, the log reader and the one way to write SQL for both backends come from
//! `cms_eventstore`.
//! - [`checkpoint`]: the `projection_checkpoints` rows and `cms projections status`;
//! - [`runner`]: one step (lock, read, apply, checkpoint), the long-running loop, and rebuild;
//! - [`complaint_list`]: the complaint list read model and its keyset-paginated query;
//! - [`dashboard`]: per-hostel dashboards, aggregated in SQL at request time;
//! - [`event_counts`]: events per type (never decodes a payload, so it survives a poison event).

mod batch;
pub mod checkpoint;
pub mod complaint_detail;
pub mod complaint_list;
pub mod dashboard;
pub mod event_counts;
mod rebuild;
pub mod runner;

use std::fmt;
use std::str::FromStr;

/// A projection: a read model with its own checkpoint. Each has a stable name (its checkpoint row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Projection {
    /// One row per complaint, for listings (`GET /v1/complaints`).
    ComplaintList,
    /// Per complaint: the folded state and a timeline (`GET /v1/complaints/{id}`).
    ComplaintDetail,
    /// Events per (aggregate type, event type).
    EventCounts,
    /// Per-complaint facts and resolutions for hostel dashboards (`GET /v1/hostels/{id}/dashboard`).
    Dashboard,
}

impl Projection {
    /// Every projection, in the order they are run and reported.
    pub const ALL: [Projection; 4] = [
        Projection::ComplaintList,
        Projection::ComplaintDetail,
        Projection::EventCounts,
        Projection::Dashboard,
    ];

    /// The stable name: the checkpoint row's key and the CLI argument.
    pub const fn name(self) -> &'static str {
        match self {
            Projection::ComplaintList => "complaint_list",
            Projection::ComplaintDetail => "complaint_detail",
            Projection::EventCounts => "event_counts",
            Projection::Dashboard => "dashboard",
        }
    }

    /// The read-model tables a rebuild empties.
    pub const fn tables(self) -> &'static [&'static str] {
        match self {
            Projection::ComplaintList => &["complaint_list"],
            Projection::ComplaintDetail => &["complaint_detail"],
            Projection::EventCounts => &["event_counts"],
            Projection::Dashboard => &["dashboard_complaints", "dashboard_resolutions"],
        }
    }
}

impl fmt::Display for Projection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no projection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown projection {0:?} (known: complaint_list, complaint_detail, event_counts, dashboard)"
)]
pub struct UnknownProjection(pub String);

impl FromStr for Projection {
    type Err = UnknownProjection;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Projection::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownProjection(s.to_owned()))
    }
}

/// How far a projection got through a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The position of the last event applied (the new checkpoint).
    pub through: i64,
    /// The event that could not be applied, and why; the projection stops there.
    pub failure: Option<String>,
}

/// A batch of positions that does not continue the checkpoint without holes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the log has a hole: expected position {expected}, found {found}")]
pub struct Hole {
    /// The position that should have come next.
    pub expected: i64,
    /// The position that came instead.
    pub found: i64,
}

/// Checks that `positions` continue `checkpoint` one by one.
///
/// # Errors
/// The first [`Hole`]: a position that is not the one after its predecessor.
pub fn check_contiguous(
    checkpoint: i64,
    positions: impl IntoIterator<Item = i64>,
) -> Result<(), Hole> {
    for (expected, found) in (checkpoint + 1..).zip(positions) {
        if found != expected {
            return Err(Hole { expected, found });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{check_contiguous, Hole};

    #[test]
    fn a_batch_that_continues_the_checkpoint_is_accepted() {
        assert_eq!(check_contiguous(10, [11, 12, 13]), Ok(()));
        assert_eq!(check_contiguous(0, []), Ok(()));
    }

    #[test]
    fn a_skipped_repeated_or_early_position_is_a_hole() {
        assert_eq!(
            check_contiguous(10, [11, 13]),
            Err(Hole {
                expected: 12,
                found: 13
            })
        );
        assert_eq!(
            check_contiguous(10, [11, 11]),
            Err(Hole {
                expected: 12,
                found: 11
            })
        );
        assert_eq!(
            check_contiguous(10, [12]),
            Err(Hole {
                expected: 11,
                found: 12
            })
        );
        assert_eq!(
            check_contiguous(10, [10]),
            Err(Hole {
                expected: 11,
                found: 10
            })
        );
    }
}
