//! [`Bus`]: where the relay publishes the log and where consumers read it. Two implementations with
//! one contract: JetStream ([`NatsBus`], with `CMS_NATS_URL`) and the in-process bus ([`MemoryBus`],
//! the embedded default). The contract:
//! - a publish of the event at position P succeeds only when the bus's last sequence is P - 1 (or it
//!   reports the event as a duplicate), so bus sequence == global position and the bus's last
//!   sequence is the relay's checkpoint;
//! - [`Bus::subscribe`] yields events in sequence order (a gap can appear only where the bus lost or
//!   expired events; consumers that need completeness fill gaps from the log);
//! - [`Bus::durable`] is a named consumer on a subject filter with explicit acks and bounded
//!   redelivery (for workers such as the thumbnailer).

mod durable;
mod memory;
mod nats;

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::broadcast;

pub use durable::{Delivery, DurableConsumer, DurableOptions};
pub use memory::MemoryBus;
pub use nats::{NatsBus, NatsConfig};

use super::event::BusEvent;

/// The subject prefix of the in-process bus (JetStream's is configurable, `cms` by default).
pub const DEFAULT_PREFIX: &str = "cms";

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The bus's last sequence is not the one the publish expected: another relay (or an earlier
    /// attempt of this one) stored it already. Read the last sequence again and go on from there.
    #[error("the bus's last sequence is not {expected} (it is {actual}; 0 = unknown)")]
    WrongLastSequence { expected: u64, actual: u64 },
    /// NATS is unreachable or timed out; retry later.
    #[error("the bus is unavailable: {0}")]
    Unavailable(String),
    /// A setting or an existing stream does not fit.
    #[error("bus configuration: {0}")]
    Config(String),
    /// A message or an acknowledgement that makes no sense.
    #[error("bus data is inconsistent: {0}")]
    Corrupt(String),
    /// A subscriber fell behind and missed this many events (in-process bus).
    #[error("the subscriber missed {0} events")]
    Lagged(u64),
}

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Stored at the sequence equal to the event's position.
    Stored,
    /// The bus already had this event id (an earlier attempt was stored).
    Duplicate,
}

/// The bus, JetStream or in-process; clones share it.
#[derive(Debug, Clone)]
pub enum Bus {
    Nats(Box<NatsBus>),
    Memory(MemoryBus),
}

/// A live subscription, in sequence order.
pub enum Subscription {
    /// JetStream (an ordered consumer).
    Stream(Pin<Box<dyn Stream<Item = Result<Arc<BusEvent>, BusError>> + Send>>),
    /// In-process: retained events first, then the live channel.
    Memory {
        backlog: VecDeque<Arc<BusEvent>>,
        live: broadcast::Receiver<Arc<BusEvent>>,
    },
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Subscription::Stream(_) => "Subscription::Stream",
            Subscription::Memory { .. } => "Subscription::Memory",
        })
    }
}

impl Subscription {
    /// The next event; `None` when the subscription ended (the bus went away).
    pub async fn next(&mut self) -> Option<Result<Arc<BusEvent>, BusError>> {
        match self {
            Subscription::Stream(stream) => futures::StreamExt::next(stream).await,
            Subscription::Memory { backlog, live } => {
                if let Some(event) = backlog.pop_front() {
                    return Some(Ok(event));
                }
                match live.recv().await {
                    Ok(event) => Some(Ok(event)),
                    Err(broadcast::error::RecvError::Lagged(n)) => Some(Err(BusError::Lagged(n))),
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            }
        }
    }
}

pub(crate) fn sequence_of(event: &BusEvent) -> Result<u64, BusError> {
    u64::try_from(event.position)
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| BusError::Corrupt(format!("position {} is not positive", event.position)))
}

impl Bus {
    /// The in-process bus, starting after `log_head` (see [`MemoryBus`]).
    pub fn memory_after(log_head: i64) -> Self {
        Bus::Memory(MemoryBus::starting_after(
            u64::try_from(log_head).unwrap_or(0),
        ))
    }

    /// Connects to JetStream (in the background; see [`NatsBus::connect`]).
    ///
    /// # Errors
    /// A malformed URL.
    pub async fn nats(config: NatsConfig) -> Result<Self, BusError> {
        Ok(Bus::Nats(Box::new(NatsBus::connect(config).await?)))
    }

    /// `nats` or `memory`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Bus::Nats(_) => "nats",
            Bus::Memory(_) => "memory",
        }
    }

    /// The subject prefix (`cms`).
    pub fn subject_prefix(&self) -> &str {
        match self {
            Bus::Nats(bus) => bus.subject_prefix(),
            Bus::Memory(_) => DEFAULT_PREFIX,
        }
    }

    /// Creates or checks the stream (JetStream); nothing to do in process.
    ///
    /// # Errors
    /// NATS unreachable, or an existing stream that does not fit.
    pub async fn ensure(&self) -> Result<(), BusError> {
        match self {
            Bus::Nats(bus) => bus.ensure_stream().await,
            Bus::Memory(_) => Ok(()),
        }
    }

    /// The last stored sequence: the relay's checkpoint.
    ///
    /// # Errors
    /// NATS unreachable.
    pub async fn last_sequence(&self) -> Result<u64, BusError> {
        match self {
            Bus::Nats(bus) => bus.last_sequence().await,
            Bus::Memory(bus) => bus.last_sequence(),
        }
    }

    /// Publishes consecutive events, pipelined on JetStream (each still with its expected last
    /// sequence); returns how many, from the first, are stored, and the error that stopped the rest.
    pub async fn publish_all(&self, events: Vec<BusEvent>) -> (usize, Option<BusError>) {
        match self {
            Bus::Nats(bus) => bus.publish_all(&events).await,
            Bus::Memory(bus) => {
                let mut stored = 0;
                for event in events {
                    match bus.publish(event) {
                        Ok(_) => stored += 1,
                        Err(error) => return (stored, Some(error)),
                    }
                }
                (stored, None)
            }
        }
    }

    /// Every event after sequence `after`, then live ones, in order.
    ///
    /// # Errors
    /// NATS unreachable.
    pub async fn subscribe(&self, after: u64) -> Result<Subscription, BusError> {
        match self {
            Bus::Nats(bus) => bus.subscribe(after).await,
            Bus::Memory(bus) => {
                let (backlog, live) = bus.subscribe(after)?;
                Ok(Subscription::Memory {
                    backlog: backlog.into(),
                    live,
                })
            }
        }
    }

    /// The durable consumer `name` on `filter` (a subject pattern such as
    /// `cms.complaints.*.*.PhotoAttached`), created with `options` or reused.
    ///
    /// # Errors
    /// NATS unreachable, or an invalid name or filter.
    pub async fn durable(
        &self,
        name: &str,
        filter: &str,
        options: DurableOptions,
    ) -> Result<DurableConsumer, BusError> {
        durable::check_name(name)?;
        match self {
            Bus::Nats(bus) => bus.durable(name, filter, &options).await,
            Bus::Memory(bus) => Ok(DurableConsumer::memory(bus, name, filter, options)),
        }
    }
}

/// Default ack wait of durable consumers.
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);
