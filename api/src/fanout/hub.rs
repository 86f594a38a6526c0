//! [`Hub`]: the one bus consumer of an API instance (a JetStream ordered consumer, or the in-process
//! bus subscription). It turns the bus into a complete, ordered sequence of positions: a gap between
//! the last position it routed and the next bus event (NATS restarted, the in-process channel
//! overflowed) is read from the log, and while the bus is unreachable the hub follows the log head
//! itself. Each event is then routed only to the sockets that may care: sockets attach with a
//! [`Route`] (every event, some hostels, or one reporter's complaints) and a bounded queue of their
//! own, so an event wakes only its audience and a slow socket costs at most its queue. A socket whose
//! queue is full is detached: its receiver closes after what it holds, and the gateway tells it to
//! resync.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::bus::{Bus, BusError};
use super::event::BusEvent;
use super::resolver::Resolver;
use cms_eventstore::store::EventStore;

/// How often the hub checks that its subscription still moves while the bus (or the log) does.
const STALL_CHECK: Duration = Duration::from_secs(2);
/// Events read from the log per query when the hub fills a gap.
const FILL_BATCH: i64 = 500;

/// Which events a socket's queue receives (before the socket's own filter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Every event (admins, auditors, users of several hostels).
    All,
    /// Events of these hostels.
    Hostels(Vec<String>),
    /// Events of complaints this resident reported.
    Reporter(String),
}

#[derive(Debug, Default)]
struct Routes {
    next_id: u64,
    /// The last position routed: a queue attached now receives exactly the events after it.
    position: i64,
    all: HashMap<u64, mpsc::Sender<Arc<BusEvent>>>,
    hostels: HashMap<String, HashMap<u64, mpsc::Sender<Arc<BusEvent>>>>,
    reporters: HashMap<String, HashMap<u64, mpsc::Sender<Arc<BusEvent>>>>,
    attached: usize,
}

impl Routes {
    fn remove(&mut self, id: u64, route: &Route) {
        let removed = match route {
            Route::All => self.all.remove(&id).is_some(),
            Route::Hostels(hostels) => {
                let mut any = false;
                for hostel in hostels {
                    if let Some(map) = self.hostels.get_mut(hostel) {
                        any |= map.remove(&id).is_some();
                        if map.is_empty() {
                            self.hostels.remove(hostel);
                        }
                    }
                }
                any
            }
            Route::Reporter(reporter) => match self.reporters.get_mut(reporter) {
                Some(map) => {
                    let any = map.remove(&id).is_some();
                    if map.is_empty() {
                        self.reporters.remove(reporter);
                    }
                    any
                }
                None => false,
            },
        };
        if removed {
            self.attached = self.attached.saturating_sub(1);
        }
    }

    /// Sends `event` to its audience; queues that are full or closed are detached.
    fn route(&mut self, event: &Arc<BusEvent>) {
        let mut dropped: Vec<u64> = Vec::new();
        let mut offer = |map: &HashMap<u64, mpsc::Sender<Arc<BusEvent>>>| {
            for (id, sender) in map {
                if sender.try_send(event.clone()).is_err() {
                    dropped.push(*id);
                }
            }
        };
        offer(&self.all);
        if let Some(map) = event.hostel.as_ref().and_then(|h| self.hostels.get(h)) {
            offer(map);
        }
        if let Some(map) = event.reporter.as_ref().and_then(|r| self.reporters.get(r)) {
            offer(map);
        }
        for id in dropped {
            // Whichever map holds it; ids are unique across maps.
            let in_all = self.all.remove(&id).is_some();
            let mut in_hostels = false;
            for map in self.hostels.values_mut() {
                in_hostels |= map.remove(&id).is_some();
            }
            let mut in_reporters = false;
            for map in self.reporters.values_mut() {
                in_reporters |= map.remove(&id).is_some();
            }
            if in_all || in_hostels || in_reporters {
                self.attached = self.attached.saturating_sub(1);
            }
        }
        self.hostels.retain(|_, map| !map.is_empty());
        self.reporters.retain(|_, map| !map.is_empty());
    }
}

#[derive(Debug)]
struct Inner {
    routes: Mutex<Routes>,
    /// A copy of `routes.position` readable without the lock.
    position: AtomicI64,
}

impl Inner {
    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn dispatch(&self, event: Arc<BusEvent>) {
        let mut routes = self.routes();
        if event.position <= routes.position {
            return;
        }
        routes.position = event.position;
        self.position.store(event.position, Ordering::Release);
        routes.route(&event);
    }
}

/// A socket's queue: events after `from` on its route, in position order, complete unless the
/// queue was detached for being full (then the receiver closes after the events it holds).
#[derive(Debug)]
pub struct Feed {
    /// The events.
    pub receiver: mpsc::Receiver<Arc<BusEvent>>,
    /// Every event up to this position was routed before the queue attached.
    pub from: i64,
    id: u64,
    route: Route,
    hub: Arc<Inner>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.hub.routes().remove(self.id, &self.route);
    }
}

/// The per-instance fan-out point.
#[derive(Debug)]
pub struct Hub {
    inner: Arc<Inner>,
    /// Shared with the follower (and the gateway), so a complaint is resolved once per process.
    resolver: Resolver,
    task: JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hub {
    /// Follows `bus` from after `start_after` (the log head at start), filling gaps from `store`.
    pub fn spawn(bus: Bus, store: EventStore, start_after: i64) -> Arc<Self> {
        let inner = Arc::new(Inner {
            routes: Mutex::new(Routes {
                position: start_after,
                ..Routes::default()
            }),
            position: AtomicI64::new(start_after),
        });
        let span = tracing::info_span!("hub", bus = bus.kind());
        let resolver = Resolver::new(store.clone());
        let follower = Follower {
            bus,
            store,
            resolver: resolver.clone(),
            inner: inner.clone(),
        };
        let task = tokio::spawn(follower.run().instrument(span));
        Arc::new(Self {
            inner,
            resolver,
            task,
        })
    }

    /// Who each complaint concerns (hostel, reporter), cached for the hub and the gateway.
    pub(crate) fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// Attaches a queue of `capacity` events on `route`.
    pub fn attach(&self, route: Route, capacity: usize) -> Feed {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let mut routes = self.inner.routes();
        routes.next_id += 1;
        let id = routes.next_id;
        match &route {
            Route::All => {
                routes.all.insert(id, sender);
            }
            Route::Hostels(hostels) => {
                for hostel in hostels {
                    routes
                        .hostels
                        .entry(hostel.clone())
                        .or_default()
                        .insert(id, sender.clone());
                }
            }
            Route::Reporter(reporter) => {
                routes
                    .reporters
                    .entry(reporter.clone())
                    .or_default()
                    .insert(id, sender);
            }
        }
        routes.attached += 1;
        Feed {
            receiver,
            from: routes.position,
            id,
            route,
            hub: self.inner.clone(),
        }
    }

    /// The last position the hub has routed.
    pub fn position(&self) -> i64 {
        self.inner.position.load(Ordering::Acquire)
    }

    /// Queues attached right now.
    pub fn receivers(&self) -> usize {
        self.inner.routes().attached
    }
}

struct Follower {
    bus: Bus,
    store: EventStore,
    resolver: Resolver,
    inner: Arc<Inner>,
}

impl Follower {
    fn position(&self) -> i64 {
        self.inner.position.load(Ordering::Acquire)
    }

    async fn run(self) {
        loop {
            let after = u64::try_from(self.position()).unwrap_or(0);
            match self.bus.subscribe(after).await {
                Ok(subscription) => self.follow(subscription).await,
                Err(error) => {
                    tracing::debug!(%error, "hub: cannot subscribe to the bus; following the log");
                    self.fill_to_head().await;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn follow(&self, mut subscription: super::bus::Subscription) {
        let mut watchdog = tokio::time::interval(STALL_CHECK);
        watchdog.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        watchdog.tick().await; // the first tick is immediate; judge after a whole period
        let mut seen_at_last_check = self.position();
        loop {
            let item = tokio::select! {
                item = subscription.next() => item,
                _ = watchdog.tick() => {
                    let now = self.position();
                    let stalled = now == seen_at_last_check;
                    seen_at_last_check = now;
                    if stalled && self.stalled(now).await {
                        return;
                    }
                    continue;
                }
            };
            match item {
                Some(Ok(event)) => {
                    if event.position > self.position() + 1 {
                        self.fill(event.position - 1).await;
                    }
                    self.inner.dispatch(event);
                }
                // The next event shows the gap, which is read from the log.
                Some(Err(BusError::Lagged(n))) => {
                    tracing::debug!(missed = n, "hub fell behind the in-process bus");
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "hub: bus subscription failed; subscribing again");
                    return;
                }
                None => return,
            }
        }
    }

    /// Whether a subscription that has not moved should be replaced: the bus moved on without it
    /// (its server restarted), or the bus is unreachable (then the log is followed meanwhile).
    async fn stalled(&self, now: i64) -> bool {
        match self.bus.last_sequence().await {
            Ok(last) => i64::try_from(last).is_ok_and(|last| last > now),
            Err(_) => {
                self.fill_to_head().await;
                false
            }
        }
    }

    async fn fill_to_head(&self) {
        if let Ok(head) = self.store.head().await {
            if head > self.position() {
                self.fill(head).await;
            }
        }
    }

    /// Routes every event up to `upto` from the log, retrying until the log answers.
    async fn fill(&self, upto: i64) {
        while self.position() < upto {
            let after = self.position();
            let limit = (upto - after).min(FILL_BATCH);
            let events = match self.store.read_log(after, limit).await {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(%error, "hub: reading the log failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            if events.is_empty() {
                return;
            }
            for event in &events {
                match self.resolver.bus_event(event).await {
                    Ok(bus_event) => self.inner.dispatch(Arc::new(bus_event)),
                    Err(error) => {
                        tracing::warn!(%error, "hub: resolving an event failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        break;
                    }
                }
            }
        }
    }
}
