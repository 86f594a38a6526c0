//! Authentication: JWT bearer tokens verified into the domain's
//! [`Actor`](cms_domain::actor::Actor), and minted for `cms token`. Keys are pinned to one algorithm
//! each (HS256 secret, RS256 or EdDSA public keys chosen by `kid`, from PEM or JWKS); `exp`, `iss`,
//! `aud` and `sub` are required, `nbf` is checked when present, and the leeway is at most 30 seconds.
//! Handlers take [`AuthUser`]; the router state provides an `Arc<JwtVerifier>`.

mod claims;
mod dev_secret;
mod error;
mod extractor;
mod keys;
mod minter;
mod verifier;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod test_keys;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use claims::{
    hostels_from_scope, may_see_all_hostels, scope_from_hostels, Claims, ALL_HOSTELS,
};
pub use dev_secret::{load_or_create_dev_secret, DEV_SECRET_FILE};
pub use error::AuthError;
pub use extractor::{bearer_token, AuthUser};
pub use keys::{public_key_from_pem, KeyError, PublicKeySet, SigningAlgorithm, VerifyingKeys};
pub use minter::{MintError, TokenMinter, TokenSpec};
pub use verifier::JwtVerifier;
