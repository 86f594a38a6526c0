//! What every test of the `cms` executable needs: the command with a clean environment, a guard that
//! kills a process when the test ends, its stdout as a channel of lines, the URL its banner prints,
//! SIGTERM, tokens from `cms token`, and a free port.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;

/// `cms` with a clean environment: no `CMS_*` variable and no `RUST_LOG` from the caller, only the
/// data folder configured. Tests add what they need.
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

/// [`cms`] logging warnings only.
pub fn cms_quiet(data_dir: &Path) -> Command {
    let mut command = cms(data_dir);
    command.env("RUST_LOG", "warn");
    command
}

/// Kills (and reaps) a child process when the test ends, however it ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child's stdout (which must be piped), line by line, read on a thread of its own. The channel
/// closes when the process closes its stdout.
pub fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (lines_tx, lines_rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout is piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    lines_rx
}

/// The `http://...` word of a banner line.
pub fn url_in(line: &str) -> String {
    line.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned()
}

/// Sends SIGTERM to `pid` (through `kill`, no unsafe code).
pub fn terminate(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A token minted by `cms token` (run as `command`, whose environment decides the key) for `sub`
/// acting as `role` in `hostel`.
pub fn token(mut command: Command, role: &str, sub: &str, hostel: &str) -> String {
    let output = command
        .args(["token", "--role", role, "--sub", sub, "--hostel", hostel])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A port on 127.0.0.1 that was free a moment ago (for servers that cannot bind port 0 and say
/// which port they got).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}
