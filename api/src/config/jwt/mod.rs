//! The JWT settings: an HS256 secret, or PEM public keys and a JWKS file (with a private key where
//! tokens are minted), the key id and algorithm, and the `iss`, `aud` and leeway every token is
//! checked against. What they resolve to, the verifier and the minter, is in [`keys`].

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use super::types::{any_path, non_empty, non_empty_path, non_empty_secret, List};
use crate::auth::{JwtVerifier, SigningAlgorithm};
use crate::secret::Secret;

mod keys;
#[cfg(test)]
mod tests;

pub use keys::MIN_SECRET_BYTES;

/// One entry of `CMS_JWT_PUBLIC_KEYS`: `path` or `kid=path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyPath {
    /// The explicit key id, if given.
    pub kid: Option<String>,
    /// The PEM file.
    pub path: PathBuf,
}

impl PublicKeyPath {
    /// The key id: the explicit one, else the file name without extension (`keys/2025.pem` -> `2025`).
    pub fn kid(&self) -> String {
        match &self.kid {
            Some(kid) => kid.clone(),
            None => self
                .path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

impl FromStr for PublicKeyPath {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (kid, path) = match s.split_once('=') {
            Some((kid, path)) => (Some(kid.trim().to_owned()), path.trim()),
            None => (None, s),
        };
        if path.is_empty() || kid.as_deref() == Some("") {
            return Err(format!("expected `path` or `kid=path`, got `{s}`"));
        }
        Ok(Self {
            kid,
            path: PathBuf::from(path),
        })
    }
}

/// The keys and claims of bearer tokens.
#[derive(Clone, Debug, clap::Args)]
pub struct JwtSettings {
    /// HS256 secret (at least 32 bytes). With no secret and no public keys, a random one is created
    /// once at `<data_dir>/jwt-secret` (mode 0600) and reused.
    #[arg(long, global = true, env = "CMS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret<String>>,

    /// Comma-separated PEM public keys (RS256 or EdDSA) as `path` or `kid=path`; the kid defaults to
    /// the file name without extension.
    #[arg(
        long,
        global = true,
        env = "CMS_JWT_PUBLIC_KEYS",
        default_value = "",
        hide_default_value = true
    )]
    pub jwt_public_keys: List<PublicKeyPath>,

    /// JWKS file with RS256 (RSA) and EdDSA (Ed25519) public keys, chosen by `kid`.
    #[arg(long, global = true, env = "CMS_JWT_JWKS_FILE", value_parser = any_path)]
    pub jwt_jwks_file: Option<PathBuf>,

    /// PEM private key (RS256 or EdDSA) used by `cms token` to mint tokens.
    #[arg(long, global = true, env = "CMS_JWT_PRIVATE_KEY", value_parser = any_path)]
    pub jwt_private_key: Option<PathBuf>,

    /// Key id written into minted tokens' headers.
    #[arg(long, global = true, env = "CMS_JWT_KID")]
    pub jwt_kid: Option<String>,

    /// Algorithm of the PEM keys; absent: detected (RSA first, then Ed25519).
    #[arg(long, global = true, env = "CMS_JWT_ALGORITHM", value_enum)]
    pub jwt_algorithm: Option<SigningAlgorithm>,

    /// Expected `iss` claim.
    #[arg(long, global = true, env = "CMS_JWT_ISSUER", default_value = "cms")]
    pub jwt_issuer: String,

    /// Expected `aud` claim.
    #[arg(
        long,
        global = true,
        env = "CMS_JWT_AUDIENCE",
        default_value = "cms-api"
    )]
    pub jwt_audience: String,

    /// Clock-skew allowance for `exp` and `nbf`, in seconds (0-30).
    #[arg(long, global = true, env = "CMS_JWT_LEEWAY_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=30))]
    pub jwt_leeway_secs: u64,
}

impl JwtSettings {
    /// `CMS_JWT_KID`, if set and not empty.
    pub fn kid(&self) -> Option<&str> {
        non_empty(&self.jwt_kid)
    }

    /// The `exp`/`nbf` leeway.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.jwt_leeway_secs).min(JwtVerifier::MAX_LEEWAY)
    }

    fn secret(&self) -> Option<&str> {
        non_empty_secret(&self.jwt_secret)
    }

    fn jwks_file(&self) -> Option<&Path> {
        non_empty_path(&self.jwt_jwks_file)
    }

    fn private_key(&self) -> Option<&Path> {
        non_empty_path(&self.jwt_private_key)
    }
}
