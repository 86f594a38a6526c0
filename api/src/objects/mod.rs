//! The object store: immutable blobs under slash-separated keys, written once (put-if-absent), read
//! back whole or as a stream, and (on S3) handed out as short-lived presigned URLs. Objects are never
//! replaced; the only deletes are the photo sweep's, of uploads no complaint ever attached
//! (`crate::photos::sweep`). Two
//! implementations: [`LocalFolder`] (the embedded default, `<data_dir>/objects`) and [`S3Store`]
//! (aws-sdk-s3 against any S3-compatible endpoint). The audit sealer copies signed checkpoints here
//! (docs/adr/0007); photos, their thumbnails and their upload intents live here too (docs/adr/0010).

mod local;
mod s3;

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

pub use local::LocalFolder;
pub use s3::{S3Config, S3Store};

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
    /// The remote store refused or failed a request (the message names the operation and the
    /// service's error code, never credentials).
    #[error("object store: {0}")]
    Remote(String),
}

/// One stored object, as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its key.
    pub key: String,
    /// When it was written.
    pub modified: chrono::DateTime<chrono::Utc>,
}

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// The object was written.
    Created,
    /// The same bytes were already there.
    AlreadyPresent,
}

/// An object opened for reading: its size and its bytes as a stream of chunks.
pub struct ObjectBody {
    /// Bytes in the object.
    pub size: u64,
    /// The content, in order.
    pub stream: BoxStream<'static, Result<Bytes, ObjectError>>,
}

impl Debug for ObjectBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBody")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A request a client may send directly to the store until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    /// The method to use (`GET` or `PUT`).
    pub method: &'static str,
    /// The signed URL.
    pub url: String,
    /// Headers the client must send exactly as given (they are part of the signature).
    pub headers: Vec<(String, String)>,
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

    /// The size in bytes of the object under `key`, or `None` when there is none.
    ///
    /// # Errors
    /// An invalid key or I/O.
    async fn size(&self, key: &str) -> Result<Option<u64>, ObjectError>;

    /// The object under `key` as a stream (for serving large objects without holding them), or `None`.
    ///
    /// # Errors
    /// An invalid key or I/O (errors while streaming arrive inside the stream).
    async fn open(&self, key: &str) -> Result<Option<ObjectBody>, ObjectError>;

    /// The keys directly under `prefix` (a "folder" ending in `/`), sorted.
    ///
    /// # Errors
    /// An invalid prefix or I/O.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError>;

    /// Every object under `prefix` (a "folder" ending in `/`) at any depth, with when it was
    /// written, sorted by key (so a folder's objects are next to each other).
    ///
    /// # Errors
    /// An invalid prefix or I/O.
    async fn list_tree(&self, prefix: &str) -> Result<Vec<ObjectInfo>, ObjectError>;

    /// Removes the object under `key`; nothing to do when there is none. Only the photo sweep
    /// deletes, and only what no complaint refers to.
    ///
    /// # Errors
    /// An invalid key or I/O.
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;

    /// A GET of `key` that a client may send directly for `ttl`, when the store can sign one
    /// (S3); `None` when objects must be streamed through the API (a local folder).
    ///
    /// # Errors
    /// An invalid key or a signing failure.
    async fn presign_get(&self, key: &str, ttl: Duration)
        -> Result<Option<Presigned>, ObjectError>;

    /// A PUT of exactly `length` bytes of `content_type` to `key` that a client may send directly
    /// for `ttl`; the content type and length are signed, so another type or size is refused by the
    /// store. `None` when the store cannot sign uploads (a local folder).
    ///
    /// # Errors
    /// An invalid key or a signing failure.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        ttl: Duration,
    ) -> Result<Option<Presigned>, ObjectError>;
}

/// Whether `key` is a relative path of non-empty `[A-Za-z0-9._-]` segments without `.` or `..`
/// (both stores accept exactly these keys, so a key valid here is valid everywhere).
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

fn check_key(key: &str) -> Result<(), ObjectError> {
    if valid_key(key) {
        Ok(())
    } else {
        Err(ObjectError::InvalidKey(key.to_owned()))
    }
}
