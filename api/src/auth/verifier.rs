//! [`JwtVerifier`]: turns a bearer token into the domain's [`Actor`] or says which check failed. The
//! key is chosen first (by `kid`), then the header's `alg` must equal the algorithm pinned to that key,
//! so an HS256 token can never be checked against an RSA public key used as an HMAC secret. Then
//! jsonwebtoken checks the signature and `exp`, `iss`, `aud`, `sub` (all required) and `nbf` (when
//! present), with a leeway of at most 30 seconds.

use std::time::Duration;

use cms_domain::actor::Actor;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};

use super::claims::ActorClaims;
use super::{AuthError, VerifyingKeys};

/// Tokens longer than this are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Verifies CMS bearer tokens.
#[derive(Debug)]
pub struct JwtVerifier {
    keys: VerifyingKeys,
    issuer: String,
    audience: String,
    leeway: Duration,
}

impl JwtVerifier {
    /// The largest clock-skew allowance; larger requests are capped to it.
    pub const MAX_LEEWAY: Duration = Duration::from_secs(30);

    /// A verifier that accepts tokens from `issuer` for `audience`. `leeway` is capped at
    /// [`Self::MAX_LEEWAY`].
    pub fn new(
        keys: VerifyingKeys,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        leeway: Duration,
    ) -> Self {
        Self {
            keys,
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: leeway.min(Self::MAX_LEEWAY),
        }
    }

    /// The configured keys.
    pub fn keys(&self) -> &VerifyingKeys {
        &self.keys
    }

    /// The expected `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The expected `aud`.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The effective leeway (never above 30 s).
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// Verifies `token` and returns the actor it names.
    ///
    /// # Errors
    /// The [`AuthError`] of the first check that failed.
    pub fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        self.verify_with_expiry(token).map(|(actor, _)| actor)
    }

    /// Verifies `token` and returns the actor it names and its `exp` (seconds since the epoch), for
    /// connections that must end when the token does (WebSockets).
    ///
    /// # Errors
    /// The [`AuthError`] of the first check that failed.
    pub fn verify_with_expiry(&self, token: &str) -> Result<(Actor, i64), AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        let (key, alg) = self.keys.select(header.kid.as_deref())?;
        if header.alg != alg {
            return Err(AuthError::WrongAlgorithm);
        }
        // The payload is decoded as a plain map first so that jsonwebtoken's own checks (exp, nbf,
        // iss, aud, required claims) run before CMS's claim shape is looked at.
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key,
            &self.validation(alg),
        )
        .map_err(|e| map_jwt_error(e.kind()))?;
        let exp = data
            .claims
            .get("exp")
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
            .ok_or_else(|| AuthError::invalid_claims("`exp` is not a whole number of seconds"))?;
        let claims: ActorClaims = serde_json::from_value(serde_json::Value::Object(data.claims))
            .map_err(|e| AuthError::invalid_claims(e.to_string()))?;
        Ok((claims.into_actor()?, exp))
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = self.leeway.as_secs();
        validation
    }
}

fn map_jwt_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => AuthError::WrongAlgorithm,
        // A required claim that is absent or not of its type (`"exp": "soon"`) lands here.
        ErrorKind::MissingRequiredClaim(claim) => AuthError::invalid_claims(format!(
            "required claim `{claim}` is missing or has the wrong type"
        )),
        ErrorKind::InvalidClaimFormat(claim) => {
            AuthError::invalid_claims(format!("claim `{claim}` has the wrong type"))
        }
        ErrorKind::InvalidSubject => AuthError::invalid_claims("unexpected `sub`"),
        // Keys are checked when loaded, so a key the crypto backend refuses is a signature failure.
        ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidKeyFormat => AuthError::BadSignature,
        _ => AuthError::Malformed,
    }
}
