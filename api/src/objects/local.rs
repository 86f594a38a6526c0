//! [`LocalFolder`]: objects as files under a folder (the embedded default, `<data_dir>/objects`).
//! Writes go to a temporary file that is hard-linked into place, so an object is never replaced and
//! never seen half-written. It cannot presign: photos are streamed through the API instead.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncReadExt;

use super::{check_key, ObjectBody, ObjectError, ObjectInfo, ObjectStore, Presigned, Put};

/// Chunk size when streaming a file.
const CHUNK: usize = 64 * 1024;

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
        check_key(key)?;
        Ok(self.root.join(key))
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

    async fn size(&self, key: &str) -> Result<Option<u64>, ObjectError> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn open(&self, key: &str) -> Result<Option<ObjectBody>, ObjectError> {
        let file = match tokio::fs::File::open(self.path(key)?).await {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata().await?.len();
        let stream = futures::stream::try_unfold(file, |mut file| async move {
            let mut buffer = vec![0; CHUNK];
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                return Ok(None);
            }
            buffer.truncate(read);
            Ok(Some((Bytes::from(buffer), file)))
        });
        Ok(Some(ObjectBody {
            size,
            stream: Box::pin(stream),
        }))
    }

    async fn list_tree(&self, prefix: &str) -> Result<Vec<ObjectInfo>, ObjectError> {
        let prefix = prefix.trim_end_matches('/').to_owned();
        let root = self.path(&prefix)?;
        tokio::task::spawn_blocking(move || -> Result<Vec<ObjectInfo>, ObjectError> {
            let mut found = Vec::new();
            let mut folders = vec![(root, prefix)];
            while let Some((folder, key)) = folders.pop() {
                let entries = match std::fs::read_dir(&folder) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == ErrorKind::NotFound => continue,
                    Err(e) => return Err(e.into()),
                };
                for entry in entries {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    // Temporary files of writes in flight start with a dot.
                    if name.starts_with('.') {
                        continue;
                    }
                    let meta = entry.metadata()?;
                    let child = format!("{key}/{name}");
                    if meta.is_dir() {
                        folders.push((entry.path(), child));
                    } else if meta.is_file() {
                        found.push(ObjectInfo {
                            key: child,
                            modified: meta.modified()?.into(),
                        });
                    }
                }
            }
            found.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(found)
        })
        .await
        .map_err(|e| ObjectError::Io(std::io::Error::other(e)))?
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn presign_get(
        &self,
        key: &str,
        _ttl: Duration,
    ) -> Result<Option<Presigned>, ObjectError> {
        check_key(key)?;
        Ok(None)
    }

    async fn presign_put(
        &self,
        key: &str,
        _content_type: &str,
        _length: u64,
        _ttl: Duration,
    ) -> Result<Option<Presigned>, ObjectError> {
        check_key(key)?;
        Ok(None)
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
        assert_eq!(store.size("a/b/2.json").await.unwrap(), Some(3));
        assert_eq!(store.size("a/b/9.json").await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_object_streams_back_in_chunks_and_a_folder_cannot_presign() {
        use futures::TryStreamExt;
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFolder::new(dir.path());
        let big: Vec<u8> = (0..200_000_u32).map(|i| (i % 251) as u8).collect();
        store.put_if_absent("p/big", &big).await.unwrap();

        let body = store.open("p/big").await.unwrap().unwrap();
        let chunks: Vec<Bytes> = body.stream.try_collect().await.unwrap();

        assert_eq!(body.size, 200_000);
        assert!(chunks.len() > 1);
        assert_eq!(chunks.concat(), big);
        assert!(store.open("p/none").await.unwrap().is_none());
        let ttl = Duration::from_secs(60);
        assert_eq!(store.presign_get("p/big", ttl).await.unwrap(), None);
        assert_eq!(
            store.presign_put("p/x", "image/png", 3, ttl).await.unwrap(),
            None
        );
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

    #[tokio::test]
    async fn a_tree_lists_every_object_below_a_folder_and_a_delete_removes_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFolder::new(dir.path().join("objects"));
        for key in ["p/a/1", "p/a/2", "p/b/c/3", "q/4"] {
            store.put_if_absent(key, key.as_bytes()).await.unwrap();
        }
        // A write in flight (a dot file) is not an object.
        std::fs::write(dir.path().join("objects/p/a/.tmp123"), b"half").unwrap();

        let tree = store.list_tree("p/").await.unwrap();
        let keys: Vec<&str> = tree.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["p/a/1", "p/a/2", "p/b/c/3"]);
        let now = chrono::Utc::now();
        assert!(tree
            .iter()
            .all(|o| (now - o.modified).num_seconds().abs() < 60));
        assert!(store.list_tree("none/").await.unwrap().is_empty());

        store.delete("p/a/1").await.unwrap();
        store.delete("p/a/1").await.unwrap();
        assert_eq!(store.get("p/a/1").await.unwrap(), None);
        assert_eq!(store.list("p/a/").await.unwrap(), ["p/a/2"]);
        assert!(matches!(
            store.delete("../x").await,
            Err(ObjectError::InvalidKey(_))
        ));
    }
}
