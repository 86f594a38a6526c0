//! Durable consumers: a name, a subject filter, explicit acks, an ack wait after which an unacked
//! event is delivered again, and a bound on deliveries (with optional backoff between them). On
//! JetStream this is a durable pull consumer; in process, a cursor and a pending list kept in the
//! bus (which lives as long as the process, see [`super::MemoryBus`]). A worker fetches, handles,
//! and acks; `attempt()` tells it when it is handling an event for the last time, so a poison event
//! can end in a failure event instead of a loop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::consumer::Consumer;
use futures::StreamExt;

use super::{BusError, MemoryBus};
use crate::fanout::event::BusEvent;

/// How a durable consumer redelivers.
#[derive(Debug, Clone)]
pub struct DurableOptions {
    /// An event not acked within this is delivered again.
    pub ack_wait: Duration,
    /// Deliveries at most (then the event is dropped from the consumer; JetStream's `max_deliver`).
    pub max_deliver: i64,
    /// Waits before the 1st, 2nd, ... redelivery (JetStream `backoff`; replaces `ack_wait` there).
    pub backoff: Vec<Duration>,
}

impl Default for DurableOptions {
    fn default() -> Self {
        Self {
            ack_wait: super::DEFAULT_ACK_WAIT,
            max_deliver: 5,
            backoff: Vec::new(),
        }
    }
}

pub(super) fn check_name(name: &str) -> Result<(), BusError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(BusError::Config(format!(
            "durable consumer name {name:?}: use 1-64 of A-Z, a-z, 0-9, '-' and '_'"
        )))
    }
}

/// Whether `subject` matches the NATS pattern `filter` (`*` one token, `>` the rest).
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut subject = subject.split('.');
    for part in filter.split('.') {
        if part == ">" {
            return subject.next().is_some();
        }
        match subject.next() {
            Some(token) if part == "*" || part == token => {}
            _ => return false,
        }
    }
    subject.next().is_none()
}

#[derive(Debug)]
/// The cursor and pending list of an in-process durable consumer.
pub struct MemoryDurableState {
    /// The last sequence looked at for first deliveries.
    cursor: u64,
    /// Delivered, not yet acked: sequence -> (due for redelivery at, deliveries so far).
    pending: BTreeMap<u64, (Instant, i64)>,
}

impl MemoryDurableState {
    pub(super) fn starting_after(cursor: u64) -> Self {
        Self {
            cursor,
            pending: BTreeMap::new(),
        }
    }
}

/// A durable consumer.
#[derive(Debug)]
pub enum DurableConsumer {
    Nats(Box<Consumer<pull::Config>>),
    Memory {
        bus: MemoryBus,
        filter: String,
        options: DurableOptions,
        state: Arc<Mutex<MemoryDurableState>>,
    },
}

/// One delivered event; ack it when handled.
#[derive(Debug)]
pub struct Delivery {
    /// The event.
    pub event: Arc<BusEvent>,
    /// 1 for the first delivery.
    pub attempt: i64,
    acker: Acker,
}

#[derive(Debug)]
enum Acker {
    Nats(Box<async_nats::jetstream::Message>),
    Memory(Arc<Mutex<MemoryDurableState>>),
}

impl Delivery {
    /// Acknowledges the event: it is not delivered again.
    ///
    /// # Errors
    /// NATS unreachable (the event will be delivered again after the ack wait).
    pub async fn ack(self) -> Result<(), BusError> {
        match self.acker {
            Acker::Nats(message) => message
                .double_ack()
                .await
                .map_err(|e| BusError::Unavailable(e.to_string())),
            Acker::Memory(state) => {
                let sequence = super::sequence_of(&self.event)?;
                if let Ok(mut state) = state.lock() {
                    state.pending.remove(&sequence);
                }
                Ok(())
            }
        }
    }
}

impl Delivery {
    /// Hands the event back: it is delivered again after `delay` (counting as a delivery).
    ///
    /// # Errors
    /// NATS unreachable (the event is then delivered again after the ack wait).
    pub async fn nak(self, delay: Duration) -> Result<(), BusError> {
        match self.acker {
            Acker::Nats(message) => message
                .ack_with(async_nats::jetstream::AckKind::Nak(Some(delay)))
                .await
                .map_err(|e| BusError::Unavailable(e.to_string())),
            Acker::Memory(state) => {
                let sequence = super::sequence_of(&self.event)?;
                if let Ok(mut state) = state.lock() {
                    if let Some(entry) = state.pending.get_mut(&sequence) {
                        entry.0 = Instant::now() + delay;
                    }
                }
                Ok(())
            }
        }
    }
}

impl DurableConsumer {
    /// Events the consumer has not had acked yet: waiting for a first delivery, or delivered and
    /// pending (JetStream's `num_pending + num_ack_pending`; in process, the pending ones plus those
    /// after the cursor, matching or not).
    ///
    /// # Errors
    /// NATS unreachable.
    pub async fn backlog(&self) -> Result<u64, BusError> {
        match self {
            DurableConsumer::Nats(consumer) => {
                let info = consumer
                    .get_info()
                    .await
                    .map_err(|e| BusError::Unavailable(e.to_string()))?;
                Ok(info.num_pending + info.num_ack_pending as u64)
            }
            DurableConsumer::Memory { bus, state, .. } => {
                let last = bus.last_sequence()?;
                let guard = state
                    .lock()
                    .map_err(|_| BusError::Unavailable("durable consumer lock poisoned".into()))?;
                Ok(guard.pending.len() as u64 + last.saturating_sub(guard.cursor))
            }
        }
    }

    pub(super) fn memory(
        bus: &MemoryBus,
        name: &str,
        filter: &str,
        options: DurableOptions,
    ) -> Self {
        let state = bus.durable_state(name);
        DurableConsumer::Memory {
            bus: bus.clone(),
            filter: filter.to_owned(),
            options,
            state,
        }
    }

    /// Up to `max` events (redeliveries first), waiting up to `wait` for the first one.
    ///
    /// # Errors
    /// NATS unreachable, or an undecodable message.
    pub async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError> {
        match self {
            DurableConsumer::Nats(consumer) => {
                let mut batch = consumer
                    .fetch()
                    .max_messages(max)
                    .expires(wait)
                    .messages()
                    .await
                    .map_err(|e| BusError::Unavailable(e.to_string()))?;
                let mut out = Vec::new();
                while let Some(message) = batch.next().await {
                    let message = message.map_err(|e| BusError::Unavailable(e.to_string()))?;
                    let attempt = message.info().map_or(1, |i| i.delivered);
                    let event: BusEvent = serde_json::from_slice(&message.payload)
                        .map_err(|e| BusError::Corrupt(format!("undecodable bus message: {e}")))?;
                    out.push(Delivery {
                        event: Arc::new(event),
                        attempt,
                        acker: Acker::Nats(Box::new(message)),
                    });
                }
                Ok(out)
            }
            DurableConsumer::Memory {
                bus,
                filter,
                options,
                state,
            } => {
                let deadline = Instant::now() + wait;
                let mut live = bus.live_receiver();
                loop {
                    let out = memory_take(bus, filter, options, state, max)?;
                    if !out.is_empty() || Instant::now() >= deadline {
                        return Ok(out);
                    }
                    // Wake on a new event, or soon enough for a redelivery that falls due.
                    let nap = deadline
                        .saturating_duration_since(Instant::now())
                        .min(Duration::from_millis(100));
                    let _ = tokio::time::timeout(nap, live.recv()).await;
                }
            }
        }
    }
}

fn memory_take(
    bus: &MemoryBus,
    filter: &str,
    options: &DurableOptions,
    state: &Arc<Mutex<MemoryDurableState>>,
    max: usize,
) -> Result<Vec<Delivery>, BusError> {
    let now = Instant::now();
    let mut guard = state
        .lock()
        .map_err(|_| BusError::Unavailable("durable consumer lock poisoned".into()))?;
    let mut out = Vec::new();
    let due: Vec<(u64, i64)> = guard
        .pending
        .iter()
        .filter(|(_, (at, _))| *at <= now)
        .map(|(seq, (_, n))| (*seq, *n))
        .collect();
    for (sequence, delivered) in due {
        if out.len() >= max {
            break;
        }
        guard.pending.remove(&sequence);
        if delivered >= options.max_deliver {
            continue;
        }
        if let Some(event) = bus.get(sequence)? {
            let attempt = delivered + 1;
            guard
                .pending
                .insert(sequence, (now + redelivery_wait(options, attempt), attempt));
            out.push(Delivery {
                event,
                attempt,
                acker: Acker::Memory(state.clone()),
            });
        }
    }
    let last = bus.last_sequence()?;
    while out.len() < max && guard.cursor < last {
        guard.cursor += 1;
        let sequence = guard.cursor;
        let Some(event) = bus.get(sequence)? else {
            continue; // expired from retention
        };
        if !subject_matches(filter, &event.subject(super::DEFAULT_PREFIX)) {
            continue;
        }
        guard
            .pending
            .insert(sequence, (now + redelivery_wait(options, 1), 1));
        out.push(Delivery {
            event,
            attempt: 1,
            acker: Acker::Memory(state.clone()),
        });
    }
    Ok(out)
}

fn redelivery_wait(options: &DurableOptions, attempt: i64) -> Duration {
    let index = usize::try_from(attempt - 1).unwrap_or(0);
    options
        .backoff
        .get(index)
        .or(options.backoff.last())
        .copied()
        .unwrap_or(options.ack_wait)
}

#[cfg(test)]
mod tests {
    use super::subject_matches;

    #[test]
    fn subject_patterns_match_like_nats() {
        assert!(subject_matches(
            "cms.complaints.*.*.PhotoAttached",
            "cms.complaints.north.c1.PhotoAttached"
        ));
        assert!(!subject_matches(
            "cms.complaints.*.*.PhotoAttached",
            "cms.complaints.north.c1.ComplaintFiled"
        ));
        assert!(subject_matches("cms.>", "cms.hostels.north.StaffAdded"));
        assert!(!subject_matches("cms.>", "cms"));
        assert!(!subject_matches(
            "cms.hostels.*",
            "cms.hostels.north.StaffAdded"
        ));
    }
}
