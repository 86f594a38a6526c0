//! The development HS256 secret: with no key configured, `cms serve` and `cms token` share a random
//! secret created once at `<data_dir>/jwt-secret` with mode 0600, so tokens work out of the box and the
//! secret never leaves the machine.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The development secret's file name inside the data directory.
pub const DEV_SECRET_FILE: &str = "jwt-secret";

/// Reads the development HS256 secret at `path`, or creates it (32 random bytes as 64 hex characters,
/// mode 0600) when absent. The file is written under a temporary name and hard-linked into place, so
/// two processes starting at once agree on one secret and never read a half-written file.
///
/// # Errors
/// When the directory or file cannot be created, written or read.
pub fn load_or_create_dev_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            return Ok(text.trim().as_bytes().to_vec());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading JWT secret {}", path.display())),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    let mut bytes = [0_u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = hex::encode(bytes);
    let tmp = dir.join(format!(
        ".{DEV_SECRET_FILE}.{}.{}",
        std::process::id(),
        hex::encode(&bytes[..4])
    ));
    let written = write_private_file(&tmp, secret.as_bytes())
        .with_context(|| format!("writing {}", tmp.display()));
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    });
    // Best effort: a stray temporary file is harmless, the secret is already in place or not.
    let _ = std::fs::remove_file(&tmp);
    if linked? {
        tracing::info!(path = %path.display(), "created a development secret (JWT or audit key)");
        Ok(secret.into_bytes())
    } else {
        // Another process created it first: use theirs.
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading JWT secret {}", path.display()))?;
        Ok(text.trim().as_bytes().to_vec())
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the JWT secret file is readable by other users; chmod 600 it");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn processes_starting_together_agree_on_one_dev_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(DEV_SECRET_FILE);
        let secrets: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_or_create_dev_secret(&path).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(secrets.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn the_secret_is_created_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEV_SECRET_FILE);
        let first = load_or_create_dev_secret(&path).unwrap();
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load_or_create_dev_secret(&path).unwrap(), first);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
