//! Read models for CMS, fed from the global event log (the read side lands here; see issue "Read
//! side"). What is here now is the rule every projector shares: a batch read after checkpoint `N` must
//! start at `N + 1` and have no holes, because the log is gap-free by construction and a hole means a
//! bug or tampering, never something to skip.

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
