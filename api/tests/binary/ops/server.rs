//! A `cms serve --demo` process on free ports (port 0) with its stdout banner read and its stderr
//! captured, SIGTERM, and tokens from `cms token` for its data folder.

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http::send;
use crate::support::{cms, stdout_lines, url_in};

/// A running `cms serve --demo`.
pub struct Server {
    child: Option<Child>,
    pub api: SocketAddr,
    pub metrics: Option<SocketAddr>,
    stderr: Arc<Mutex<String>>,
    pub data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn address_in(line: &str) -> SocketAddr {
    let word = url_in(line);
    let host = word.trim_start_matches("http://");
    let host = host.split('/').next().unwrap();
    host.parse().unwrap()
}

impl Server {
    /// Starts `cms serve --demo` with `env` added, on port 0 for the API and (with `metrics`) for
    /// the metrics listener, and waits for its banner.
    pub fn start(env: &[(&str, &str)], with_metrics: bool) -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut command = cms(data.path());
        command.args(["serve", "--demo", "--http-addr", "127.0.0.1:0"]);
        if with_metrics {
            command.args(["--metrics-addr", "127.0.0.1:0"]);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines_rx = stdout_lines(&mut child);
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0_u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut banner: Vec<String> = Vec::new();
        while banner
            .iter()
            .filter(|l| l.contains("demo complaint"))
            .count()
            < 4
        {
            let line = lines_rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!(
                        "cms serve printed no complete banner: {banner:?}\nstderr: {}",
                        stderr.lock().unwrap()
                    )
                });
            banner.push(line);
        }
        let api = address_in(&banner[0]);
        let metrics = banner
            .iter()
            .find(|l| l.trim_start().starts_with("metrics:"))
            .map(|l| address_in(l));
        assert_eq!(metrics.is_some(), with_metrics, "{banner:?}");
        Server {
            child: Some(child),
            api,
            metrics,
            stderr,
            data,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `text`.
    pub fn wait_for_stderr(&self, text: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.stderr().contains(text) {
            assert!(
                Instant::now() < deadline,
                "stderr never said {text:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        crate::support::terminate(self.pid());
    }

    /// Waits for the process to exit, at most `within`; returns its status and how long it took.
    pub fn wait_exit(&mut self, within: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return (status, started.elapsed());
            }
            assert!(
                started.elapsed() < within,
                "cms did not exit within {within:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A token minted by `cms token` for this server's data folder.
    pub fn token(&self, role: &str, sub: &str, env: &[(&str, &str)]) -> String {
        let mut command = cms(self.data.path());
        for (name, value) in env {
            command.env(name, value);
        }
        crate::support::token(command, role, sub, "north-block")
    }

    /// The exposition at `/metrics`.
    pub fn scrape(&self) -> String {
        let reply = send(self.metrics.unwrap(), "GET", "/metrics", &[], None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("text/plain"),
            "{:?}",
            reply.headers
        );
        reply.body
    }
}
