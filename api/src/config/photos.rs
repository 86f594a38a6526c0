//! The thumbnail worker's settings: whether `cms serve` runs it, how often a job is delivered before
//! the photo is given up on, and how long a job stays leased to one worker.

use std::time::Duration;

use crate::photos::worker::WorkerConfig;

/// The thumbnail worker.
#[derive(Clone, Debug, clap::Args)]
pub struct PhotoSettings {
    /// Run the thumbnail worker inside `cms serve` (the embedded default). Set to `false` when
    /// `cms worker thumbnails` runs separately.
    #[arg(long, global = true, env = "CMS_SERVE_THUMBNAILS", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub serve_thumbnails: bool,

    /// Deliveries of one thumbnail job before the photo is marked `ThumbnailFailed`.
    #[arg(long, global = true, env = "CMS_THUMBNAIL_MAX_DELIVERIES", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub thumbnail_max_deliveries: u32,

    /// Seconds a thumbnail job stays leased to a worker before it is delivered again (a worker that
    /// died mid-job is noticed after this long).
    #[arg(long, global = true, env = "CMS_THUMBNAIL_ACK_WAIT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub thumbnail_ack_wait_secs: u64,
}

impl PhotoSettings {
    /// `CMS_THUMBNAIL_ACK_WAIT_SECS` as a duration.
    pub fn ack_wait(&self) -> Duration {
        Duration::from_secs(self.thumbnail_ack_wait_secs)
    }

    /// The worker's retry policy, with `CMS_THUMBNAIL_MAX_DELIVERIES`.
    pub fn worker_config(&self) -> WorkerConfig {
        WorkerConfig {
            max_deliveries: self.thumbnail_max_deliveries,
            ..WorkerConfig::default()
        }
    }
}
