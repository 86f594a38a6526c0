//! [`Hub`]: the one bus consumer of an API instance (a JetStream ordered consumer, or the in-process
//! bus subscription) feeding a tokio broadcast channel that every WebSocket of the instance reads.
//! The channel holds shared `Arc`s, so a socket that falls behind costs no memory of its own; it is
//! told to resync and closed (see the gateway). When the bus subscription breaks (NATS restarted),
//! the hub subscribes again after the last position it saw; what a socket misses meanwhile it reads
//! from the log, so the hub never needs to be complete, only fast.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::bus::{Bus, BusError};
use super::event::BusEvent;

/// How often the hub checks that its subscription still moves while the bus does.
const STALL_CHECK: Duration = Duration::from_secs(2);

/// The per-instance fan-out point.
#[derive(Debug)]
pub struct Hub {
    sender: broadcast::Sender<Arc<BusEvent>>,
    position: Arc<AtomicI64>,
    task: JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hub {
    /// Follows `bus` from after `start_after` (the log head at start) with a broadcast buffer of
    /// `capacity` events.
    pub fn spawn(bus: Bus, start_after: i64, capacity: usize) -> Arc<Self> {
        let (sender, _) = broadcast::channel(capacity.max(16));
        let position = Arc::new(AtomicI64::new(start_after));
        let span = tracing::info_span!("hub", bus = bus.kind());
        let task = tokio::spawn(follow(bus, sender.clone(), position.clone()).instrument(span));
        Arc::new(Self {
            sender,
            position,
            task,
        })
    }

    /// A receiver of every event the hub sees from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.sender.subscribe()
    }

    /// The last position the hub has seen on the bus.
    pub fn position(&self) -> i64 {
        self.position.load(Ordering::Acquire)
    }

    /// Sockets (receivers) attached right now.
    pub fn receivers(&self) -> usize {
        self.sender.receiver_count()
    }
}

async fn follow(bus: Bus, sender: broadcast::Sender<Arc<BusEvent>>, position: Arc<AtomicI64>) {
    loop {
        let after = u64::try_from(position.load(Ordering::Acquire)).unwrap_or(0);
        match bus.subscribe(after).await {
            Ok(mut subscription) => {
                let mut watchdog = tokio::time::interval(STALL_CHECK);
                watchdog.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                watchdog.tick().await; // the first tick is immediate; judge after a whole period
                let mut seen_at_last_check = position.load(Ordering::Acquire);
                loop {
                    let item = tokio::select! {
                        item = subscription.next() => item,
                        _ = watchdog.tick() => {
                            // A consumer that stalled (its server restarted and it has not noticed
                            // yet) while the stream moved on: subscribe again.
                            let now = position.load(Ordering::Acquire);
                            let stalled = now == seen_at_last_check
                                && bus
                                    .last_sequence()
                                    .await
                                    .is_ok_and(|last| i64::try_from(last).is_ok_and(|l| l > now));
                            seen_at_last_check = now;
                            if stalled {
                                tracing::info!(position = now, "hub: the bus moved on without us; subscribing again");
                                break;
                            }
                            continue;
                        }
                    };
                    let Some(item) = item else { break };
                    match item {
                        Ok(event) => {
                            if event.position <= position.load(Ordering::Acquire) {
                                continue;
                            }
                            position.store(event.position, Ordering::Release);
                            // No receivers is fine: nobody is connected.
                            let _ = sender.send(event);
                        }
                        // Sockets notice the gap by position and read it from the log.
                        Err(BusError::Lagged(n)) => {
                            tracing::debug!(missed = n, "hub fell behind the in-process bus");
                        }
                        Err(error) => {
                            tracing::warn!(%error, "hub: bus subscription failed; subscribing again");
                            break;
                        }
                    }
                }
            }
            Err(error) => tracing::debug!(%error, "hub: cannot subscribe to the bus yet"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
