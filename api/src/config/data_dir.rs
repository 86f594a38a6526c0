//! [`DataDir`]: the folder of the embedded defaults (`CMS_DATA_DIR`), and where each of them lives in
//! it: the SQLite file, the development JWT secret, the audit signing key and the local object store.

use std::path::{Path, PathBuf};

/// The folder of the embedded defaults; each setting group asks it where its file lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir(PathBuf);

impl DataDir {
    /// The folder itself.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The SQLite file used when `CMS_DATABASE_URL` is unset.
    pub fn sqlite_file(&self) -> PathBuf {
        self.0.join("cms.db")
    }

    /// The development HS256 secret, created on first use when no JWT key is configured.
    pub fn dev_secret_file(&self) -> PathBuf {
        self.0.join(crate::auth::DEV_SECRET_FILE)
    }

    /// The audit signing key used when `CMS_AUDIT_SIGNING_KEY` is unset.
    pub fn audit_key_file(&self) -> PathBuf {
        self.0.join(crate::audit::AUDIT_KEY_FILE)
    }

    /// The local object store used when `CMS_S3_ENDPOINT` is unset.
    pub fn objects(&self) -> PathBuf {
        self.0.join("objects")
    }
}

impl From<PathBuf> for DataDir {
    fn from(path: PathBuf) -> Self {
        Self(path)
    }
}
