//! A private PostgreSQL primary with a streaming hot standby, for the read-replica tests.
//!
//! [`ReplicatedCluster::start`] runs `initdb` for the primary (WAL level `replica`), starts it on a free
//! port of 127.0.0.1, clones it with `pg_basebackup -R` and starts the clone as a hot standby on a second
//! free port. When the harness runs as root, every server command runs as the `postgres` user (the
//! server refuses root). The binaries come from the highest `/usr/lib/postgresql/*/bin`; their absence
//! is a test failure, never a skip (`scripts/test.sh` installs PostgreSQL when it is missing). Both
//! servers stop (immediately) and their files go away when the value is dropped.

use crate::free_port;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A primary and its hot standby.
#[derive(Debug)]
pub struct ReplicatedCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    primary_port: u16,
    standby_port: u16,
    standby_running: bool,
}

impl ReplicatedCluster {
    /// Starts the pair and waits until the standby streams from the primary.
    ///
    /// # Panics
    /// When the PostgreSQL binaries are missing or a server does not start (with its log).
    pub fn start() -> Self {
        let bin = server_bin_dir().expect(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (scripts/test.sh installs them)",
        );
        let dir = tempfile::Builder::new()
            .prefix("cms-replica-")
            .tempdir()
            .expect("a temp dir");
        if is_root() {
            run(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let primary_port = free_port();
        let standby_port = free_port_except(primary_port);
        let cluster = Self {
            bin,
            dir,
            primary_port,
            standby_port,
            standby_running: false,
        };
        cluster.init_primary();
        cluster.start_server("primary", primary_port);
        cluster.clone_standby();
        let mut cluster = cluster;
        cluster.start_server("standby", standby_port);
        cluster.standby_running = true;
        cluster
    }

    /// The primary's URL (database `postgres`).
    pub fn primary_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.primary_port
        )
    }

    /// The standby's URL (database `postgres`; read-only).
    pub fn standby_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.standby_port
        )
    }

    /// Stops the standby at once (`pg_ctl stop -m immediate`), as a crash would.
    pub fn stop_standby(&mut self) {
        if self.standby_running {
            self.pg_ctl(&["stop", "-m", "immediate", "-w", "-D"], "standby");
            self.standby_running = false;
        }
    }

    fn data(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn init_primary(&self) {
        let data = self.data("primary");
        let out = self.as_postgres(
            Command::new(self.bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
                .args(["--no-sync", "--no-instructions"]),
        );
        check(&out, "initdb");
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nwal_level = replica\n\
             max_wal_senders = 4\nhot_standby = on\nfsync = off\nsynchronous_commit = on\n\
             max_connections = 60\n",
            self.dir.path().display()
        );
        append(&data.join("postgresql.conf"), &settings);
    }

    fn clone_standby(&self) {
        let out = self.as_postgres(
            Command::new(self.bin.join("pg_basebackup"))
                .args(["-h", "127.0.0.1", "-U", "postgres", "-X", "stream", "-R"])
                .arg("-p")
                .arg(self.primary_port.to_string())
                .arg("-D")
                .arg(self.data("standby")),
        );
        check(&out, "pg_basebackup");
    }

    fn start_server(&self, name: &str, port: u16) {
        let log = self.dir.path().join(format!("{name}.log"));
        let out = self.as_postgres(
            Command::new(self.bin.join("pg_ctl"))
                .args(["start", "-w", "-t", "60", "-D"])
                .arg(self.data(name))
                .arg("-l")
                .arg(&log)
                .arg("-o")
                .arg(format!("-p {port}")),
        );
        if !out.status.success() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "{name} did not start: {}\n{text}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        wait_for_port(port, Duration::from_secs(30));
    }

    fn pg_ctl(&self, args: &[&str], name: &str) {
        let _ = self.as_postgres(
            Command::new(self.bin.join("pg_ctl"))
                .args(args)
                .arg(self.data(name)),
        );
    }

    fn as_postgres(&self, command: &mut Command) -> Output {
        if is_root() {
            let mut wrapped = Command::new("runuser");
            wrapped
                .args(["-u", "postgres", "--"])
                .arg(command.get_program())
                .args(command.get_args());
            run(&mut wrapped)
        } else {
            run(command)
        }
    }
}

impl Drop for ReplicatedCluster {
    fn drop(&mut self) {
        self.stop_standby();
        self.pg_ctl(&["stop", "-m", "immediate", "-w", "-D"], "primary");
    }
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("running {:?}: {e}", command.get_program()))
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    file.write_all(text.as_bytes()).expect("writing the config");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The highest installed `/usr/lib/postgresql/<major>/bin` holding the server tools.
fn server_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            ["initdb", "pg_ctl", "pg_basebackup", "postgres"]
                .iter()
                .all(|tool| bin.join(tool).is_file())
                .then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn free_port_except(taken: u16) -> u16 {
    loop {
        let port = free_port();
        if port != taken {
            return port;
        }
    }
}

fn wait_for_port(port: u16, patience: Duration) {
    let deadline = Instant::now() + patience;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
