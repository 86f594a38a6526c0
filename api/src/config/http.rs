//! The HTTP API's settings: where it listens, the largest request body it reads, and how long a
//! SIGTERM lets in-flight work finish.

use std::net::SocketAddr;
use std::time::Duration;

/// The HTTP listener and its limits.
#[derive(Clone, Debug, clap::Args)]
pub struct HttpSettings {
    /// Address the HTTP API listens on.
    #[arg(
        long,
        global = true,
        env = "CMS_HTTP_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub http_addr: SocketAddr,

    /// Maximum size of a JSON request body, in bytes.
    #[arg(long, global = true, env = "CMS_BODY_LIMIT_BYTES", default_value_t = 65536,
          value_parser = parse_body_limit)]
    pub body_limit_bytes: usize,

    /// On SIGTERM, how long in-flight requests may take to finish, and then the projectors their
    /// current batch, in seconds; whatever is still running then is dropped.
    #[arg(long, global = true, env = "CMS_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub shutdown_timeout_secs: u64,
}

impl HttpSettings {
    /// `CMS_SHUTDOWN_TIMEOUT_SECS` as a duration.
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

fn parse_body_limit(s: &str) -> Result<usize, String> {
    let limit: usize = s.parse().map_err(|e| format!("{e}"))?;
    if limit < 1024 {
        return Err("the body limit must be at least 1024 bytes".to_owned());
    }
    Ok(limit)
}
