//! A `cms serve --demo` process on free ports with its stdout banner and stderr captured, a tiny
//! blocking HTTP/1.1 client (so a test can also hold a request half-sent), tokens from `cms token`,
//! and `promtool`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `cms` with a clean environment: nothing but the data folder is configured.
pub fn cms(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cms"));
    for (name, _) in std::env::vars() {
        if name.starts_with("CMS_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command.env("CMS_DATA_DIR", data_dir);
    command
}

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
    let word = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap();
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
        let (lines_tx, lines_rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
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

    /// Sends SIGTERM (through `kill`, no unsafe code).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
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
        command.args([
            "token",
            "--role",
            role,
            "--sub",
            sub,
            "--hostel",
            "north-block",
        ]);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
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

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// The head of a request (`Connection: close`), with a JSON content type and length when a body
/// follows.
pub fn request_head(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body_len: Option<usize>,
) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(len) = body_len {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {len}\r\n"
        ));
    }
    head.push_str("\r\n");
    head
}

/// Sends one request and reads the whole response.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(request_head(method, path, headers, body.map(str::len)).as_bytes())
        .unwrap();
    if let Some(body) = body {
        stream.write_all(body.as_bytes()).unwrap();
    }
    read_reply(&mut stream)
}

/// Reads a whole response from a `Connection: close` stream.
pub fn read_reply(stream: &mut TcpStream) -> Reply {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

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
