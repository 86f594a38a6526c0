//! The keys that verify tokens, each pinned to exactly one algorithm. An HS256 secret (development)
//! accepts only HS256; an RSA public key only RS256; an Ed25519 key only EdDSA. Public keys come from PEM
//! text or a JWKS document and are chosen by the token's `kid`. This module does no I/O: configuration
//! reads the files and hands over their bytes.

use std::collections::HashMap;
use std::fmt;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::AuthError;

/// A public-key algorithm CMS accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[value(name = "RS256")]
    Rs256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

impl SigningAlgorithm {
    /// The jsonwebtoken algorithm.
    pub const fn algorithm(self) -> Algorithm {
        match self {
            SigningAlgorithm::Rs256 => Algorithm::RS256,
            SigningAlgorithm::EdDsa => Algorithm::EdDSA,
        }
    }
}

/// A key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The HS256 secret is empty.
    #[error("the HS256 secret is empty")]
    EmptySecret,
    /// A private key was given where a public key is expected.
    #[error("expected a public key but got a private key")]
    PrivateKeyGiven,
    /// A public key was given where a private key is expected.
    #[error("expected a private key but got something else")]
    NotAPrivateKey,
    /// The PEM is neither an RSA nor an Ed25519 key (or not of the configured algorithm).
    #[error("not a usable {expected} key in PEM form")]
    UnrecognisedPem {
        /// What was tried: "RS256", "EdDSA" or "RS256 or EdDSA".
        expected: &'static str,
    },
    /// The JWKS document does not parse.
    #[error("the JWKS document is not valid: {0}")]
    InvalidJwks(String),
    /// A JWKS key has no `kid`, so no token could select it.
    #[error("a JWKS key has no `kid`")]
    JwkWithoutKid,
    /// A JWKS key's parameters are invalid.
    #[error("JWKS key `{kid}` is invalid")]
    InvalidJwk {
        /// The key's id.
        kid: String,
    },
    /// The JWKS document holds no RS256 or EdDSA signing key.
    #[error("the JWKS document holds no RS256 or Ed25519 signing key")]
    NoUsableJwk,
    /// Two keys share a `kid`.
    #[error("two keys share the kid `{0}`")]
    DuplicateKid(String),
    /// No public key was added.
    #[error("no public key configured")]
    NoKeys,
}

/// The configured verification keys.
///
/// `Public` maps each `kid` to its key and pinned algorithm; `default_kid` is set when exactly one key
/// is configured, and is the only case in which a token without `kid` is accepted.
#[derive(Clone)]
pub enum VerifyingKeys {
    /// A shared HS256 secret (development and single-service setups).
    Hs256 {
        /// The secret bytes.
        secret: Vec<u8>,
    },
    /// Public keys chosen by `kid`.
    Public {
        /// kid -> (key, the one algorithm it verifies).
        keys: HashMap<String, (DecodingKey, Algorithm)>,
        /// The key used for tokens without `kid`; set only when there is exactly one key.
        default_kid: Option<String>,
    },
}

impl VerifyingKeys {
    /// An HS256 secret.
    ///
    /// # Errors
    /// [`KeyError::EmptySecret`] when `secret` is empty.
    pub fn hs256(secret: impl Into<Vec<u8>>) -> Result<Self, KeyError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        Ok(VerifyingKeys::Hs256 { secret })
    }

    /// The configured key ids (empty for HS256), sorted.
    pub fn kids(&self) -> Vec<&str> {
        match self {
            VerifyingKeys::Hs256 { .. } => Vec::new(),
            VerifyingKeys::Public { keys, .. } => {
                let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
                kids.sort_unstable();
                kids
            }
        }
    }

    /// The key and pinned algorithm for a token whose header names `kid`.
    pub(crate) fn select(&self, kid: Option<&str>) -> Result<(DecodingKey, Algorithm), AuthError> {
        match self {
            VerifyingKeys::Hs256 { secret } => {
                Ok((DecodingKey::from_secret(secret), Algorithm::HS256))
            }
            VerifyingKeys::Public { keys, default_kid } => {
                let kid = kid
                    .or(default_kid.as_deref())
                    .ok_or(AuthError::UnknownKey)?;
                keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
            }
        }
    }
}

impl fmt::Debug for VerifyingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyingKeys::Hs256 { .. } => f.debug_struct("Hs256").field("secret", &"***").finish(),
            VerifyingKeys::Public { keys, default_kid } => {
                let mut kids: Vec<(&String, &Algorithm)> =
                    keys.iter().map(|(kid, (_, alg))| (kid, alg)).collect();
                kids.sort_unstable_by_key(|(kid, _)| *kid);
                f.debug_struct("Public")
                    .field("keys", &kids)
                    .field("default_kid", default_kid)
                    .finish()
            }
        }
    }
}

/// Collects public keys from PEM and JWKS sources into [`VerifyingKeys::Public`].
#[derive(Default)]
pub struct PublicKeySet {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
}

impl PublicKeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a PEM public key (SubjectPublicKeyInfo `PUBLIC KEY`, or PKCS#1 `RSA PUBLIC KEY`). Without
    /// `algorithm` the key is tried as RSA, then as Ed25519.
    ///
    /// # Errors
    /// [`KeyError::PrivateKeyGiven`], [`KeyError::UnrecognisedPem`] or [`KeyError::DuplicateKid`].
    pub fn add_pem(
        &mut self,
        kid: impl Into<String>,
        pem: &[u8],
        algorithm: Option<SigningAlgorithm>,
    ) -> Result<&mut Self, KeyError> {
        let (key, alg) = public_key_from_pem(pem, algorithm)?;
        self.add_key(kid.into(), key, alg)
    }

    /// Adds every RS256 and Ed25519 signing key of a JWKS document. Keys meant for encryption, or of
    /// other types (EC, oct), are skipped with a warning; a key without `kid` is an error.
    ///
    /// # Errors
    /// [`KeyError::InvalidJwks`], [`KeyError::JwkWithoutKid`], [`KeyError::InvalidJwk`],
    /// [`KeyError::NoUsableJwk`] or [`KeyError::DuplicateKid`].
    pub fn add_jwks(&mut self, json: &str) -> Result<&mut Self, KeyError> {
        let set: JwkSet =
            serde_json::from_str(json).map_err(|e| KeyError::InvalidJwks(e.to_string()))?;
        let mut added = 0_usize;
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().ok_or(KeyError::JwkWithoutKid)?;
            let Some(alg) = jwk_algorithm(jwk) else {
                tracing::warn!(jwk.kid = %kid, "skipping a JWKS key that is not an RS256 or Ed25519 signing key");
                continue;
            };
            let key = DecodingKey::from_jwk(jwk)
                .map_err(|_| KeyError::InvalidJwk { kid: kid.clone() })?;
            if !is_usable(&key, alg) {
                return Err(KeyError::InvalidJwk { kid });
            }
            self.add_key(kid, key, alg)?;
            added += 1;
        }
        if added == 0 {
            return Err(KeyError::NoUsableJwk);
        }
        Ok(self)
    }

    /// Adds one key under `kid`.
    ///
    /// # Errors
    /// [`KeyError::DuplicateKid`] when `kid` is already taken.
    pub fn add_key(
        &mut self,
        kid: String,
        key: DecodingKey,
        alg: Algorithm,
    ) -> Result<&mut Self, KeyError> {
        if self.keys.contains_key(&kid) {
            return Err(KeyError::DuplicateKid(kid));
        }
        self.keys.insert(kid, (key, alg));
        Ok(self)
    }

    /// The finished key set.
    ///
    /// # Errors
    /// [`KeyError::NoKeys`] when nothing was added.
    pub fn build(self) -> Result<VerifyingKeys, KeyError> {
        let default_kid = match self.keys.len() {
            0 => return Err(KeyError::NoKeys),
            1 => self.keys.keys().next().cloned(),
            _ => None,
        };
        Ok(VerifyingKeys::Public {
            keys: self.keys,
            default_kid,
        })
    }
}

/// Parses a PEM public key, pinned to `algorithm` or detected (RSA first, then Ed25519).
///
/// # Errors
/// [`KeyError::PrivateKeyGiven`] or [`KeyError::UnrecognisedPem`].
pub fn public_key_from_pem(
    pem: &[u8],
    algorithm: Option<SigningAlgorithm>,
) -> Result<(DecodingKey, Algorithm), KeyError> {
    if contains(pem, b"PRIVATE KEY") {
        return Err(KeyError::PrivateKeyGiven);
    }
    let rsa = || {
        DecodingKey::from_rsa_pem(pem)
            .ok()
            .filter(|key| is_usable(key, Algorithm::RS256))
            .map(|key| (key, Algorithm::RS256))
    };
    let ed = || {
        DecodingKey::from_ed_pem(pem)
            .ok()
            .filter(|key| is_usable(key, Algorithm::EdDSA))
            .map(|key| (key, Algorithm::EdDSA))
    };
    let (found, expected) = match algorithm {
        Some(SigningAlgorithm::Rs256) => (rsa(), "RS256"),
        Some(SigningAlgorithm::EdDsa) => (ed(), "EdDSA"),
        None => (rsa().or_else(ed), "RS256 or EdDSA"),
    };
    found.ok_or(KeyError::UnrecognisedPem { expected })
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The algorithm a JWK signs with, if it is one CMS accepts.
fn jwk_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    let declared_matches = match jwk.common.key_algorithm {
        None => true,
        Some(declared) => declared == KeyAlgorithm::from(alg),
    };
    declared_matches.then_some(alg)
}

/// Whether the key parses as a public key of `alg`. jsonwebtoken only parses keys when it verifies,
/// and its Ed25519 verifier panics on a key shorter than 32 bytes, so keys are checked once, here.
fn is_usable(key: &DecodingKey, alg: Algorithm) -> bool {
    match Jwk::from_decoding_key(key, Some(alg)) {
        Ok(jwk) => match jwk.algorithm {
            AlgorithmParameters::RSA(params) => params.n.len() > 2 && !params.e.is_empty(),
            AlgorithmParameters::OctetKeyPair(_) => true,
            _ => false,
        },
        Err(_) => false,
    }
}
