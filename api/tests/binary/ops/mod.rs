//! Operations, tested on the real `cms` binary: the Prometheus exposition after real traffic (checked
//! by `promtool check metrics`), the alert rules (`promtool test rules`), graceful shutdown on
//! SIGTERM, and what reaches the logs. [`server`] runs the demo server they observe and [`http`]
//! talks to it byte by byte; this file finds `promtool`.
//!
//! `promtool` must be installed (scripts/test.sh installs it when missing); without it these tests
//! fail, they are never skipped.

use std::path::PathBuf;

mod alerts;
mod http;
mod logs;
mod metrics;
mod server;
mod shutdown;

/// `promtool`: `$PROMTOOL`, else the one on `PATH`. Missing is a failure, never a skip.
pub fn promtool() -> PathBuf {
    if let Some(path) = std::env::var_os("PROMTOOL") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("promtool"))
            .find(|candidate| candidate.is_file())
    });
    found.expect(
        "promtool is not installed: run scripts/test.sh (it installs it from Debian's prometheus \
         package) or set PROMTOOL",
    )
}
