//! The bus settings: NATS JetStream (stream `CMS_EVENTS`) when `CMS_NATS_URL` is set, else the
//! in-process bus; and whether `cms serve` runs the relay (log -> bus) itself.

use std::time::Duration;

use super::types::non_empty_secret;
use crate::secret::Secret;

/// JetStream and the relay.
#[derive(Clone, Debug, clap::Args)]
pub struct NatsSettings {
    /// NATS server URL (enables JetStream); absent: the in-process bus.
    #[arg(long, global = true, env = "CMS_NATS_URL", hide_env_values = true)]
    pub nats_url: Option<Secret<String>>,

    /// JetStream: how long stream `CMS_EVENTS` keeps events (limits retention), in seconds.
    #[arg(long, global = true, env = "CMS_NATS_STREAM_MAX_AGE_SECS", default_value_t = 604_800,
          value_parser = clap::value_parser!(u64).range(60..))]
    pub nats_stream_max_age_secs: u64,

    /// JetStream: replicas of stream `CMS_EVENTS` (3 in a production cluster).
    #[arg(long, global = true, env = "CMS_NATS_REPLICAS", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=5))]
    pub nats_replicas: u64,

    /// Run the relay (log -> bus) inside `cms serve`; `false` when `cms relay` runs on its own.
    #[arg(long, global = true, env = "CMS_RELAY_IN_SERVE", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub relay_in_serve: bool,
}

impl NatsSettings {
    /// `CMS_NATS_URL`, if set and not empty.
    pub fn url(&self) -> Option<&str> {
        non_empty_secret(&self.nats_url)
    }

    /// The JetStream settings, when `CMS_NATS_URL` is set (else the in-process bus).
    pub fn config(&self) -> Option<crate::fanout::NatsConfig> {
        self.url().map(|url| crate::fanout::NatsConfig {
            max_age: Duration::from_secs(self.nats_stream_max_age_secs),
            replicas: usize::try_from(self.nats_replicas).unwrap_or(1),
            ..crate::fanout::NatsConfig::new(url.trim())
        })
    }
}
