//! The Ed25519 key that signs audit checkpoints: from `CMS_AUDIT_SIGNING_KEY` (a PKCS#8 PEM file or a
//! file holding the 32-byte seed in hex), or in the embedded default a seed created once at
//! `<data_dir>/audit-signing-key` with mode 0600, like the development JWT secret.

use std::path::Path;

use anyhow::{bail, Context};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::auth::load_or_create_dev_secret;

/// The signing key's file name inside the data directory (embedded default).
pub const AUDIT_KEY_FILE: &str = "audit-signing-key";

/// Signs checkpoints; its public half verifies them.
#[derive(Clone)]
pub struct AuditSigner {
    key: SigningKey,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSigner")
            .field("public_key", &hex::encode(self.public_key_bytes()))
            .finish()
    }
}

impl AuditSigner {
    /// A signer from a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// Reads a key file: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) or 64 hex characters (the seed).
    ///
    /// # Errors
    /// The file cannot be read or holds neither form.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the audit signing key {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("audit signing key {}", path.display()))
    }

    /// Reads the embedded default's key at `path`, creating it (mode 0600) when absent.
    ///
    /// # Errors
    /// The file cannot be created or read, or holds no valid key.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        let text = load_or_create_dev_secret(path)?;
        Self::parse(&String::from_utf8_lossy(&text))
            .with_context(|| format!("audit signing key {}", path.display()))
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            let key = SigningKey::from_pkcs8_pem(text)
                .map_err(|e| anyhow::anyhow!("not an Ed25519 PKCS#8 key: {e}"))?;
            return Ok(Self { key });
        }
        let bytes = hex::decode(text).context("neither PEM nor a hex seed")?;
        let Ok(seed) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            bail!("a hex seed must be 32 bytes (64 hex characters)");
        };
        Ok(Self::from_seed(seed))
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The 32-byte public key.
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The public key as an SPKI PEM document.
    pub fn public_key_pem(&self) -> String {
        self.key
            .verifying_key()
            .to_public_key_pem(Default::default())
            .unwrap_or_default()
    }
}

/// True when `signature` is `public_key`'s valid signature of `message`.
pub fn signature_valid(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(public_key) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let Ok(signature) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&public_key) else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(&signature))
        .is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let signer = AuditSigner::from_seed([7; 32]);
        let signature = signer.sign(b"checkpoint");
        assert!(signature_valid(
            &signer.public_key_bytes(),
            b"checkpoint",
            &signature
        ));
        assert!(!signature_valid(
            &signer.public_key_bytes(),
            b"checkpoinT",
            &signature
        ));
        let other = AuditSigner::from_seed([8; 32]);
        assert!(!signature_valid(
            &other.public_key_bytes(),
            b"checkpoint",
            &signature
        ));
    }

    #[test]
    fn the_default_key_is_created_once_and_a_hex_seed_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_KEY_FILE);
        let first = AuditSigner::load_or_create(&path).unwrap();
        let again = AuditSigner::from_file(&path).unwrap();
        assert_eq!(first.public_key_bytes(), again.public_key_bytes());
        assert!(first
            .public_key_pem()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
    }
}
