//! [`TokenMinter`]: signs CMS tokens for `cms token`, tests and development. It holds either the HS256
//! secret the server verifies with, or a private key (RS256 or EdDSA) whose public half the server has
//! under the same `kid`. It enforces the verifier's scope rule, so it never signs a token the server
//! would refuse for its claims.

use std::time::Duration;

use cms_domain::actor::Role;
use cms_domain::ids::UserId;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

use super::claims::{
    hostels_from_scope, may_see_all_hostels, scope_from_hostels, Claims, ALL_HOSTELS,
};
use super::keys::{contains, KeyError, SigningAlgorithm};
use super::AuthError;

/// What a token should say. The same rules as verification apply: `sub` must be a valid user id,
/// `hostels` valid hostel slugs, or `["*"]` for admin and auditor only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// The user id (`sub`).
    pub sub: String,
    /// The role.
    pub role: Role,
    /// Hostel slugs, or `["*"]` for every hostel.
    pub hostels: Vec<String>,
    /// A display name.
    pub name: Option<String>,
    /// How long the token is valid, from now.
    pub ttl: Duration,
}

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// `hostels: ["*"]` for a role that may not hold it.
    #[error("a {0} token cannot cover every hostel; only admin and auditor tokens can")]
    ScopeNotAllowed(Role),
    /// `sub` or `hostels` break the claim rules.
    #[error("{0}")]
    InvalidClaims(String),
    /// The lifetime is zero or above [`TokenMinter::MAX_TTL`].
    #[error("the token lifetime must be between 1 second and 366 days")]
    InvalidTtl,
    /// The crypto backend refused to sign.
    #[error("signing the token failed: {0}")]
    Signing(String),
}

/// Signs CMS tokens.
#[derive(Debug)]
pub struct TokenMinter {
    key: EncodingKey,
    alg: Algorithm,
    kid: Option<String>,
    issuer: String,
    audience: String,
}

impl TokenMinter {
    /// The longest lifetime a minted token may have.
    pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

    /// A minter for the HS256 `secret`.
    ///
    /// # Errors
    /// [`KeyError::EmptySecret`] when `secret` is empty.
    pub fn hs256(
        secret: &[u8],
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        Ok(Self {
            key: EncodingKey::from_secret(secret),
            alg: Algorithm::HS256,
            kid: None,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// A minter for a PEM private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`), pinned to
    /// `algorithm` or detected (RSA first, then Ed25519). Tokens carry `kid` in their header.
    ///
    /// # Errors
    /// [`KeyError::NotAPrivateKey`] or [`KeyError::UnrecognisedPem`].
    pub fn from_private_pem(
        pem: &[u8],
        algorithm: Option<SigningAlgorithm>,
        kid: Option<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, KeyError> {
        if !contains(pem, b"PRIVATE KEY") {
            return Err(KeyError::NotAPrivateKey);
        }
        let rsa = || {
            EncodingKey::from_rsa_pem(pem)
                .ok()
                .filter(|key| Jwk::from_encoding_key(key, Algorithm::RS256).is_ok())
                .map(|key| (key, Algorithm::RS256))
        };
        let ed = || {
            EncodingKey::from_ed_pem(pem)
                .ok()
                .filter(|key| Jwk::from_encoding_key(key, Algorithm::EdDSA).is_ok())
                .map(|key| (key, Algorithm::EdDSA))
        };
        let (found, expected) = match algorithm {
            Some(SigningAlgorithm::Rs256) => (rsa(), "RS256"),
            Some(SigningAlgorithm::EdDsa) => (ed(), "EdDSA"),
            None => (rsa().or_else(ed), "RS256 or EdDSA"),
        };
        let (key, alg) = found.ok_or(KeyError::UnrecognisedPem { expected })?;
        Ok(Self {
            key,
            alg,
            kid,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The `kid` put in token headers.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public half of an RS256/EdDSA key, for a verifier that has only the private key file.
    /// `None` for HS256.
    ///
    /// # Errors
    /// [`KeyError::UnrecognisedPem`] when the public key cannot be derived.
    pub fn public_key(&self) -> Result<Option<(DecodingKey, Algorithm)>, KeyError> {
        if self.alg == Algorithm::HS256 {
            return Ok(None);
        }
        let unusable = || KeyError::UnrecognisedPem {
            expected: "RS256 or EdDSA",
        };
        let jwk = Jwk::from_encoding_key(&self.key, self.alg).map_err(|_| unusable())?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| unusable())?;
        Ok(Some((key, self.alg)))
    }

    /// The claims a token for `spec` issued at `now` (seconds since the epoch) carries.
    ///
    /// # Errors
    /// [`MintError::ScopeNotAllowed`], [`MintError::InvalidClaims`] or [`MintError::InvalidTtl`].
    pub fn claims(&self, spec: &TokenSpec, now: u64) -> Result<Claims, MintError> {
        if spec.hostels.iter().any(|h| h == ALL_HOSTELS) && !may_see_all_hostels(spec.role) {
            return Err(MintError::ScopeNotAllowed(spec.role));
        }
        let sub = UserId::parse(&spec.sub).map_err(|e| {
            MintError::InvalidClaims(format!("`sub` is not a valid user id: {}", e.problem))
        })?;
        let scope = scope_from_hostels(spec.role, &spec.hostels).map_err(|e| match e {
            AuthError::InvalidClaims { detail } => MintError::InvalidClaims(detail),
            other => MintError::InvalidClaims(other.to_string()),
        })?;
        if spec.ttl < Duration::from_secs(1) || spec.ttl > Self::MAX_TTL {
            return Err(MintError::InvalidTtl);
        }
        Ok(Claims {
            sub: sub.as_str().to_owned(),
            role: spec.role.as_str().to_owned(),
            hostels: hostels_from_scope(&scope),
            name: spec.name.clone(),
            exp: now + spec.ttl.as_secs(),
            iat: now,
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Some(uuid::Uuid::new_v4().to_string()),
        })
    }

    /// Signs a token for `spec`, valid from now for `spec.ttl`.
    ///
    /// # Errors
    /// [`MintError`] when the spec breaks a rule or signing fails.
    pub fn mint(&self, spec: &TokenSpec) -> Result<String, MintError> {
        let claims = self.claims(spec, jsonwebtoken::get_current_timestamp())?;
        self.sign(&claims)
    }

    /// Signs arbitrary claims with this minter's key and header.
    ///
    /// # Errors
    /// [`MintError::Signing`] when the backend refuses.
    pub fn sign(&self, claims: &impl serde::Serialize) -> Result<String, MintError> {
        let mut header = Header::new(self.alg);
        header.kid = self.kid.clone();
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| MintError::Signing(e.to_string()))
    }
}
