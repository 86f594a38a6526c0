//! What the process tells its operators, whatever the subcommand: the log format and the separate
//! Prometheus metrics listener.

use std::net::SocketAddr;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Logs and metrics.
#[derive(Clone, Debug, clap::Args)]
pub struct TelemetrySettings {
    /// Address of the separate Prometheus metrics listener; absent: no metrics listener.
    #[arg(long, global = true, env = "CMS_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Log format.
    #[arg(long, global = true, env = "CMS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}
