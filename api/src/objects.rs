//! The object store: immutable blobs under slash-separated keys, written once (put-if-absent) and read
//! back. The embedded default is a folder, `<data_dir>/objects`; an S3 implementation comes with the
//! photos work. The audit sealer copies every signed checkpoint here so that deleting checkpoints from
//! the database does not hide a truncated log (docs/adr/0007).

use std::fmt::Debug;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

/// Why an object operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Another object with different bytes already has this key (objects are never overwritten).
    #[error("object {0} already exists with different contents")]
    Conflict(String),
    /// The key is not a relative path of `[A-Za-z0-9._-]` segments.
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    #[error("object store I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// The object was written.
    Created,
    /// The same bytes were already there.
    AlreadyPresent,
}

/// Write-once blob storage.
#[async_trait]
pub trait ObjectStore: Debug + Send + Sync {
    /// Stores `bytes` under `key` unless an object is already there: the same bytes are fine
    /// ([`Put::AlreadyPresent`]), different ones are an error.
    ///
    /// # Errors
    /// [`ObjectError::Conflict`], an invalid key, or I/O.
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Put, ObjectError>;

    /// The object under `key`, or `None`.
    ///
    /// # Errors
    /// An invalid key or I/O.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError>;

    /// The keys directly under `prefix` (a "folder" ending in `/`), sorted.
    ///
    /// # Errors
    /// An invalid prefix or I/O.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError>;
}

/// Objects as files under a folder; a key's segments are subfolders.
#[derive(Debug, Clone)]
pub struct LocalFolder {
    root: PathBuf,
}

impl LocalFolder {
    /// The store rooted at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder it writes to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, ObjectError> {
        let valid = !key.is_empty()
            && key.split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            });
        if valid {
            Ok(self.root.join(key))
        } else {
            Err(ObjectError::InvalidKey(key.to_owned()))
        }
    }
}

#[async_trait]
impl ObjectStore for LocalFolder {
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Put, ObjectError> {
        let path = self.path(key)?;
        let folder = path.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&folder).await?;
        let existing = tokio::fs::read(&path).await;
        match existing {
            Ok(found) if found == bytes => return Ok(Put::AlreadyPresent),
            Ok(_) => return Err(ObjectError::Conflict(key.to_owned())),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        // Write a temporary file, then hard-link it into place: the link fails if another writer got
        // there first, so an object is never replaced and never seen half-written.
        let bytes = bytes.to_vec();
        let key = key.to_owned();
        tokio::task::spawn_blocking(move || -> Result<Put, ObjectError> {
            let mut temp = tempfile::NamedTempFile::new_in(&folder)?;
            std::io::Write::write_all(&mut temp, &bytes)?;
            temp.as_file().sync_all()?;
            match std::fs::hard_link(temp.path(), &path) {
                Ok(()) => Ok(Put::Created),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if std::fs::read(&path)? == bytes {
                        Ok(Put::AlreadyPresent)
                    } else {
                        Err(ObjectError::Conflict(key))
                    }
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
        .map_err(|e| ObjectError::Io(std::io::Error::other(e)))?
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let folder = self.path(prefix.trim_end_matches('/'))?;
        let mut entries = match tokio::fs::read_dir(&folder).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut keys = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Temporary files of writes in flight start with a dot.
            if entry.file_type().await?.is_file() && !name.starts_with('.') {
                keys.push(format!("{}/{name}", prefix.trim_end_matches('/')));
            }
        }
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_object_is_written_once_and_never_replaced_by_different_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFolder::new(dir.path().join("objects"));

        let first = store.put_if_absent("a/b/1.json", b"one").await.unwrap();
        let again = store.put_if_absent("a/b/1.json", b"one").await.unwrap();
        let other = store.put_if_absent("a/b/1.json", b"two").await;
        store.put_if_absent("a/b/2.json", b"two").await.unwrap();

        assert_eq!(first, Put::Created);
        assert_eq!(again, Put::AlreadyPresent);
        assert!(matches!(other, Err(ObjectError::Conflict(_))));
        assert_eq!(store.get("a/b/1.json").await.unwrap().unwrap(), b"one");
        assert_eq!(store.get("a/b/3.json").await.unwrap(), None);
        assert_eq!(
            store.list("a/b/").await.unwrap(),
            ["a/b/1.json", "a/b/2.json"]
        );
        assert!(store.list("nothing/").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn keys_cannot_leave_the_folder() {
        let store = LocalFolder::new("/tmp/never-written");
        for key in ["", "../x", "a//b", "/abs", "a/./b", "a b"] {
            assert!(
                matches!(store.get(key).await, Err(ObjectError::InvalidKey(_))),
                "{key:?}"
            );
        }
    }
}
