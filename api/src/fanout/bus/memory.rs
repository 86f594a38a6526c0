//! The in-process bus of the embedded default: the same contract as the JetStream stream (a sequence
//! that equals the global position, an expected-last-sequence check on every publish) held in
//! memory. It keeps the most recent events (for subscribers that start a little behind and for
//! durable consumers) and a tokio broadcast channel for live subscribers.
//!
//! The bus lives and dies with the process, so it starts at the log head of the moment it is
//! created: nobody can have read from it before. Anything that must see events committed while the
//! process was down (a durable consumer in the embedded default) keeps its own checkpoint in the
//! database and reads the log up to the bus's first sequence.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::durable::MemoryDurableState;
use super::{BusError, Published};
use crate::fanout::event::BusEvent;

/// The receiving end of the live channel.
pub(super) type Live = broadcast::Receiver<Arc<BusEvent>>;

/// Events kept for late subscribers.
const RETAIN: usize = 10_000;
/// Capacity of the live channel.
const LIVE_CAPACITY: usize = 4096;

#[derive(Debug)]
struct State {
    /// The last sequence stored.
    last: u64,
    /// The most recent events, oldest first, ending at `last`.
    retained: VecDeque<Arc<BusEvent>>,
}

/// The in-process bus; clones share it.
#[derive(Debug, Clone)]
pub struct MemoryBus {
    state: Arc<Mutex<State>>,
    live: broadcast::Sender<Arc<BusEvent>>,
    durables: Arc<Mutex<HashMap<String, Arc<Mutex<MemoryDurableState>>>>>,
}

impl MemoryBus {
    /// A bus whose next accepted sequence is `last + 1`.
    pub fn starting_after(last: u64) -> Self {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        Self {
            state: Arc::new(Mutex::new(State {
                last,
                retained: VecDeque::new(),
            })),
            live,
            durables: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The state of durable consumer `name`, created at the first retained event when new.
    pub(super) fn durable_state(&self, name: &str) -> Arc<Mutex<MemoryDurableState>> {
        let first = self.state().map_or(0, |s| s.last - s.retained.len() as u64);
        let mut durables = match self.durables.lock() {
            Ok(durables) => durables,
            Err(poisoned) => poisoned.into_inner(),
        };
        durables
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(MemoryDurableState::starting_after(first))))
            .clone()
    }

    /// A receiver of live events (to wake waiting consumers).
    pub(super) fn live_receiver(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.live.subscribe()
    }

    fn state(&self) -> Result<std::sync::MutexGuard<'_, State>, BusError> {
        self.state
            .lock()
            .map_err(|_| BusError::Unavailable("the in-process bus lock is poisoned".into()))
    }

    pub(super) fn last_sequence(&self) -> Result<u64, BusError> {
        Ok(self.state()?.last)
    }

    pub(super) fn publish(&self, event: BusEvent) -> Result<Published, BusError> {
        let sequence = super::sequence_of(&event)?;
        let event = Arc::new(event);
        {
            let mut state = self.state()?;
            if state.last + 1 != sequence {
                if state.retained.iter().any(|e| e.event_id == event.event_id) {
                    return Ok(Published::Duplicate);
                }
                return Err(BusError::WrongLastSequence {
                    expected: sequence - 1,
                    actual: state.last,
                });
            }
            state.last = sequence;
            state.retained.push_back(event.clone());
            if state.retained.len() > RETAIN {
                state.retained.pop_front();
            }
            // Sent under the lock so live subscribers see sequences in order.
            let _ = self.live.send(event);
        }
        Ok(Published::Stored)
    }

    /// Live events after `after`: the retained ones first, then the live channel. Sequences that
    /// fell out of retention are simply missing (consumers notice the gap by position).
    pub(super) fn subscribe(&self, after: u64) -> Result<(Vec<Arc<BusEvent>>, Live), BusError> {
        let state = self.state()?;
        let receiver = self.live.subscribe();
        let backlog = state
            .retained
            .iter()
            .filter(|e| u64::try_from(e.position).is_ok_and(|p| p > after))
            .cloned()
            .collect();
        Ok((backlog, receiver))
    }

    /// The retained event at `sequence`, if still retained.
    pub(super) fn get(&self, sequence: u64) -> Result<Option<Arc<BusEvent>>, BusError> {
        let state = self.state()?;
        let first = state.last + 1 - state.retained.len() as u64;
        if sequence < first || sequence > state.last {
            return Ok(None);
        }
        let index = usize::try_from(sequence - first).unwrap_or(usize::MAX);
        Ok(state.retained.get(index).cloned())
    }
}
