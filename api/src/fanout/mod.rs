//! Real-time fan-out (ARCHITECTURE section 5, docs/adr/0012): the relay copies the log, in position
//! order, onto a [`bus::Bus`] (JetStream stream `CMS_EVENTS`, or the in-process bus of the embedded
//! default) so that bus sequence == global position; each API instance runs one [`hub::Hub`] that
//! follows the bus into an in-process broadcast; the WebSocket gateway ([`gateway`]) serves each
//! socket what its user may see, catching up from the log on resume.

pub mod bus;
pub mod event;
pub mod gateway;
pub mod hub;
pub mod relay;
pub mod resolver;

pub use bus::{Bus, BusError, NatsConfig};
pub use event::BusEvent;
pub use gateway::{Gateway, GatewayConfig};
pub use hub::Hub;
pub use relay::{Relay, RelayConfig, RelayHandle};
pub use resolver::Resolver;

use std::sync::Arc;

use cms_eventstore::store::{EventStore, StoreError};

/// Why the fan-out could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How one process takes part in the fan-out.
#[derive(Debug, Clone)]
pub struct FanoutOptions {
    /// JetStream, or `None` for the in-process bus.
    pub nats: Option<NatsConfig>,
    /// Run the relay here. Ignored for the in-process bus, which always needs its own relay.
    pub relay: bool,
    /// The relay's pacing.
    pub relay_config: RelayConfig,
    /// The gateway's limits.
    pub gateway: GatewayConfig,
}

/// The fan-out of one process: the bus, its relay (when it runs here), the hub and the gateway.
/// Dropping it stops the relay and the hub.
#[derive(Debug)]
pub struct Fanout {
    pub bus: Bus,
    pub gateway: Arc<Gateway>,
    pub relay: Option<RelayHandle>,
}

impl Fanout {
    /// Connects the bus and starts the relay (if asked, or for the in-process bus) and the hub,
    /// which follows the bus from the log head of this moment.
    ///
    /// # Errors
    /// A malformed NATS URL, or the log head cannot be read.
    pub async fn start(store: &EventStore, options: FanoutOptions) -> Result<Self, StartError> {
        let head = store.head().await?;
        let (bus, relay) = match options.nats {
            Some(config) => (Bus::nats(config).await?, options.relay),
            None => (Bus::memory_after(head), true),
        };
        let relay =
            relay.then(|| Relay::new(store.clone(), bus.clone(), options.relay_config).spawn());
        let hub = Hub::spawn(bus.clone(), store.clone(), head);
        let gateway =
            Arc::new(Gateway::new(store.clone(), hub, options.gateway).with_bus(bus.clone()));
        gateway.spawn_session_heartbeat();
        Ok(Self {
            bus,
            gateway,
            relay,
        })
    }
}
