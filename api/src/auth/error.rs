//! Why a bearer token was refused. [`AuthError`] names the failed check with a low-cardinality
//! [`AuthError::reason`] (a metric label) and maps to a 401 in the API error envelope. Neither the
//! message nor the reason ever echoes the token.

use axum::http::HeaderValue;

use crate::error::ApiError;

/// The check a bearer token failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("the request carries no bearer token")]
    Missing,
    /// Not a JWT: bad shape, bad base64, bad JSON, or an algorithm CMS does not know (`none`).
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    /// `exp` is in the past (beyond the leeway).
    #[error("the bearer token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the bearer token is not valid yet")]
    NotYetValid,
    /// The signature does not verify with the selected key.
    #[error("the bearer token's signature does not verify")]
    BadSignature,
    /// `iss` is not the configured issuer.
    #[error("the bearer token was issued by an unexpected issuer")]
    WrongIssuer,
    /// `aud` does not name the configured audience.
    #[error("the bearer token is meant for another audience")]
    WrongAudience,
    /// The header's `kid` names no configured key, or it has none and several keys are configured.
    #[error("the bearer token names no configured signing key")]
    UnknownKey,
    /// The header's `alg` is not the algorithm pinned for the selected key.
    #[error("the bearer token's algorithm is not allowed for its key")]
    WrongAlgorithm,
    /// A claim is missing, has the wrong type or breaks a rule (unknown role, `*` scope for a resident).
    #[error("the bearer token's claims are invalid: {detail}")]
    InvalidClaims {
        /// Which claim and which rule; never the claim's full value.
        detail: String,
    },
}

impl AuthError {
    /// A stable, low-cardinality label for metrics and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed => "malformed",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::BadSignature => "bad_signature",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::UnknownKey => "unknown_key",
            AuthError::WrongAlgorithm => "wrong_algorithm",
            AuthError::InvalidClaims { .. } => "invalid_claims",
        }
    }

    /// The stable API error code: `token_missing`, `token_expired` or `token_invalid`.
    pub const fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "token_missing",
            AuthError::Expired => "token_expired",
            AuthError::Malformed
            | AuthError::NotYetValid
            | AuthError::BadSignature
            | AuthError::WrongIssuer
            | AuthError::WrongAudience
            | AuthError::UnknownKey
            | AuthError::WrongAlgorithm
            | AuthError::InvalidClaims { .. } => "token_invalid",
        }
    }

    pub(crate) fn invalid_claims(detail: impl Into<String>) -> Self {
        AuthError::InvalidClaims {
            detail: detail.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        // RFC 6750 §3.1: no error attribute when the request simply lacks credentials.
        let challenge = match err {
            AuthError::Missing => HeaderValue::from_static("Bearer realm=\"cms\""),
            _ => HeaderValue::from_static("Bearer realm=\"cms\", error=\"invalid_token\""),
        };
        ApiError::unauthorized(err.code(), err.to_string()).with_www_authenticate(challenge)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn every_failure_is_a_401_with_one_of_three_codes() {
        let all = [
            AuthError::Missing,
            AuthError::Malformed,
            AuthError::Expired,
            AuthError::NotYetValid,
            AuthError::BadSignature,
            AuthError::WrongIssuer,
            AuthError::WrongAudience,
            AuthError::UnknownKey,
            AuthError::WrongAlgorithm,
            AuthError::invalid_claims("role"),
        ];
        for err in all {
            let api = ApiError::from(err.clone());
            assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
            assert!(["token_missing", "token_expired", "token_invalid"].contains(&api.code()));
            assert!(!err.reason().is_empty());
        }
        assert_eq!(ApiError::from(AuthError::Expired).code(), "token_expired");
        assert_eq!(ApiError::from(AuthError::Missing).code(), "token_missing");
    }
}
