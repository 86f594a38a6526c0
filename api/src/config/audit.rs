//! The audit settings: the Ed25519 key that signs checkpoints (by default
//! `<data_dir>/audit-signing-key`, created once) and how often the sealer signs one.

use std::path::PathBuf;
use std::time::Duration;

use super::types::{any_path, non_empty_path};
use super::DataDir;
use crate::audit::{AuditSigner, CheckpointPolicy};

/// The checkpoint signing key and policy.
#[derive(Clone, Debug, clap::Args)]
pub struct AuditSettings {
    /// Ed25519 key that signs audit checkpoints: a PKCS#8 PEM file or a file with the 32-byte seed in
    /// hex. Default: `<data_dir>/audit-signing-key`, created once with mode 0600.
    #[arg(long, global = true, env = "CMS_AUDIT_SIGNING_KEY", value_parser = any_path)]
    pub audit_signing_key: Option<PathBuf>,

    /// Sign an audit checkpoint after this many events.
    #[arg(long, global = true, env = "CMS_AUDIT_CHECKPOINT_EVERY", default_value_t = 1000,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub audit_checkpoint_every: i64,

    /// Or after this many seconds, when events were sealed since the last checkpoint.
    #[arg(long, global = true, env = "CMS_AUDIT_CHECKPOINT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub audit_checkpoint_secs: u64,
}

impl AuditSettings {
    /// The audit signing key: the configured file, else the embedded default's in `data_dir`
    /// (created when absent).
    ///
    /// # Errors
    /// The file cannot be read or created, or holds no Ed25519 key.
    pub fn signer(&self, data_dir: &DataDir) -> anyhow::Result<AuditSigner> {
        match non_empty_path(&self.audit_signing_key) {
            Some(path) => AuditSigner::from_file(path),
            None => AuditSigner::load_or_create(&data_dir.audit_key_file()),
        }
    }

    /// When the sealer signs checkpoints.
    pub fn checkpoint_policy(&self) -> CheckpointPolicy {
        CheckpointPolicy {
            every: self.audit_checkpoint_every,
            interval: Duration::from_secs(self.audit_checkpoint_secs),
        }
    }
}
