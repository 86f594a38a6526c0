//! A real S3-compatible server for tests: s3s-fs 0.14.1 (docs/adr/0010), which checks SigV4
//! signatures, so presigned URLs, their expiry and their signed headers are tested for real.
//!
//! [`S3Server::start`] runs one server per call on a free port of 127.0.0.1 with its own temp data
//! folder and kills it on drop. The binary comes from `CMS_TEST_S3S_FS`, else
//! [`DEFAULT_S3S_FS`] (where `scripts/test.sh` installs it), else `s3s-fs` on `PATH`. A missing
//! binary fails the test with instructions; it never skips.

use std::net::{SocketAddr, TcpStream};

use crate::free_port;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable naming the s3s-fs binary.
pub const S3S_FS_ENV: &str = "CMS_TEST_S3S_FS";
/// Where `scripts/test.sh` installs s3s-fs 0.14.1.
pub const DEFAULT_S3S_FS: &str = "/root/.cache/cms-tools/s3s-fs-0.14.1/bin/s3s-fs";
/// The access key every test server accepts.
pub const ACCESS_KEY: &str = "cms-test-access";
/// The secret key every test server accepts.
pub const SECRET_KEY: &str = "cms-test-secret-key-0123456789";
/// The region the servers sign with.
pub const REGION: &str = "us-east-1";

/// A running s3s-fs.
pub struct S3Server {
    child: Child,
    address: SocketAddr,
    _data: tempfile::TempDir,
}

impl std::fmt::Debug for S3Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Server")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The s3s-fs binary to run.
///
/// # Panics
/// When none is found: run `scripts/test.sh` (it installs one) or set `CMS_TEST_S3S_FS`.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var(S3S_FS_ENV) {
        if !path.trim().is_empty() {
            return PathBuf::from(path.trim());
        }
    }
    let default = PathBuf::from(DEFAULT_S3S_FS);
    if default.is_file() {
        return default;
    }
    if let Some(found) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("s3s-fs"))
            .find(|p| p.is_file())
    }) {
        return found;
    }
    panic!(
        "s3s-fs not found (looked at ${S3S_FS_ENV}, {DEFAULT_S3S_FS} and PATH). The photo tests need a \
         real S3-compatible server: run `scripts/test.sh`, which installs s3s-fs 0.14.1 once, or \
         `cargo install s3s-fs --version 0.14.1 --features binary --locked --root /root/.cache/cms-tools/s3s-fs-0.14.1`."
    )
}

impl S3Server {
    /// Starts a server with an empty data folder and waits until it accepts connections.
    ///
    /// # Panics
    /// When the binary is missing or the server does not come up within 10 seconds.
    pub fn start() -> S3Server {
        let binary = binary();
        let data = tempfile::Builder::new()
            .prefix("cms-test-s3-")
            .tempdir()
            .expect("temp dir for s3s-fs");
        // A port picked and released can be taken by someone else before the server binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&binary)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(data.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: most likely the port was taken
                }
                if TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
                    return S3Server {
                        child,
                        address,
                        _data: data,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("s3s-fs ({}) did not start listening", binary.display());
    }

    /// `http://127.0.0.1:<port>` (presigned URLs must be fetched from exactly this host).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
