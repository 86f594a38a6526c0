//! Test-only key material: two RSA and one Ed25519 key pair generated once per test run with the
//! `openssl` command line into a temporary directory, and read back as PEM text.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// A PEM key pair.
pub(crate) struct Pair {
    pub(crate) private: String,
    pub(crate) public: String,
}

/// The test key pairs.
pub(crate) struct TestKeys {
    pub(crate) rsa: Pair,
    pub(crate) rsa2: Pair,
    pub(crate) ed: Pair,
}

/// The key pairs, generated on first use.
pub(crate) fn keys() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        TestKeys {
            rsa: pair(
                dir.path(),
                "rsa",
                &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            ),
            rsa2: pair(
                dir.path(),
                "rsa2",
                &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            ),
            ed: pair(dir.path(), "ed", &["-algorithm", "ed25519"]),
        }
    })
}

fn pair(dir: &Path, name: &str, algorithm: &[&str]) -> Pair {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    run(Command::new("openssl")
        .arg("genpkey")
        .args(algorithm)
        .arg("-out")
        .arg(&private));
    run(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public));
    Pair {
        private: std::fs::read_to_string(private).unwrap(),
        public: std::fs::read_to_string(public).unwrap(),
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .expect("openssl must be installed to run the auth tests");
    assert!(
        output.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
