//! [`AuthUser`]: the axum extractor that authenticates a request from its `Authorization: Bearer`
//! header. The verifier comes from the router state through `Arc<JwtVerifier>: FromRef<S>`; a refusal
//! is a 401 in the error envelope with a `WWW-Authenticate: Bearer` challenge.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use cms_domain::actor::Actor;

use super::{AuthError, JwtVerifier};
use crate::error::ApiError;

/// The authenticated caller.
///
/// ```ignore
/// async fn me(AuthUser(actor): AuthUser) -> String { actor.id.to_string() }
/// // state: #[derive(Clone, FromRef)] struct AppState { verifier: Arc<JwtVerifier>, .. }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser(pub Actor);

impl<S> FromRequestParts<S> for AuthUser
where
    Arc<JwtVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<JwtVerifier>::from_ref(state);
        let actor = bearer_token(&parts.headers)
            .and_then(|token| verifier.verify(token))
            .map_err(|err| {
                metrics::counter!(crate::metrics::names::AUTH_REJECTIONS, "reason" => err.reason())
                    .increment(1);
                tracing::debug!(auth.reason = err.reason(), "bearer token refused");
                ApiError::from(err)
            })?;
        Ok(AuthUser(actor))
    }
}

/// The token of the request's single `Authorization: Bearer` header (scheme case-insensitive).
///
/// # Errors
/// [`AuthError::Missing`] without a bearer credential; [`AuthError::Malformed`] when the header is
/// repeated or not visible ASCII.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::Malformed);
    }
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}
