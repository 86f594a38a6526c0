//! What the JWT settings resolve to: the [`JwtVerifier`] of `cms serve` and the [`TokenMinter`] of
//! `cms token`. Keys come from exactly one source: public keys (PEM and JWKS), a private key alone,
//! or an HS256 secret (configured, or the development file in the data directory).

use std::time::Duration;

use anyhow::{bail, Context};
use cms_domain::actor::Role;

use super::JwtSettings;
use crate::auth::{
    load_or_create_dev_secret, JwtVerifier, PublicKeySet, TokenMinter, TokenSpec, VerifyingKeys,
};
use crate::config::DataDir;
use crate::secret::Secret;

/// The smallest HS256 secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// Where the verification keys come from.
enum KeySource {
    /// PEM public keys and/or a JWKS file.
    Public,
    /// Only a private key: its public half verifies.
    PrivateKeyOnly,
    /// An HS256 secret (configured or the development file).
    Secret(Secret<Vec<u8>>),
}

impl JwtSettings {
    /// The verifier for bearer tokens: public keys (PEM and JWKS) when configured; else the public
    /// half of `CMS_JWT_PRIVATE_KEY`; else the HS256 secret (`CMS_JWT_SECRET` or the development file
    /// in `data_dir`, created on first use).
    ///
    /// # Errors
    /// When a key file cannot be read or parsed, a secret is too short, or both a secret and keys are
    /// configured.
    pub fn verifier(&self, data_dir: &DataDir) -> anyhow::Result<JwtVerifier> {
        let keys = match self.key_source(data_dir)? {
            KeySource::Public => self.public_keys()?,
            KeySource::PrivateKeyOnly => {
                let minter = self.pem_minter()?;
                let (key, alg) = minter
                    .public_key()?
                    .context("the private key has no public half")?;
                let mut set = PublicKeySet::new();
                let kid = minter.kid().unwrap_or("default").to_owned();
                set.add_key(kid, key, alg)?;
                set.build()?
            }
            KeySource::Secret(secret) => VerifyingKeys::hs256(secret.into_inner())?,
        };
        Ok(JwtVerifier::new(
            keys,
            &self.jwt_issuer,
            &self.jwt_audience,
            self.leeway(),
        ))
    }

    /// The minter for `cms token`. With public keys configured it needs `CMS_JWT_PRIVATE_KEY`, and it
    /// checks that a token it signs verifies with the configured keys.
    ///
    /// # Errors
    /// When production public keys are configured without the private key, the private key does not
    /// match them, or a key or secret cannot be loaded.
    pub fn token_minter(&self, data_dir: &DataDir) -> anyhow::Result<TokenMinter> {
        match self.key_source(data_dir)? {
            KeySource::Public => {
                if self.private_key().is_none() {
                    bail!("public keys are configured (CMS_JWT_PUBLIC_KEYS / CMS_JWT_JWKS_FILE): minting needs the matching private key in CMS_JWT_PRIVATE_KEY");
                }
                let minter = self.pem_minter()?;
                self.check_minter_matches_verifier(&minter, data_dir)?;
                Ok(minter)
            }
            KeySource::PrivateKeyOnly => self.pem_minter(),
            KeySource::Secret(secret) => Ok(TokenMinter::hs256(
                secret.expose(),
                &self.jwt_issuer,
                &self.jwt_audience,
            )?),
        }
    }

    fn key_source(&self, data_dir: &DataDir) -> anyhow::Result<KeySource> {
        let public = !self.jwt_public_keys.is_empty() || self.jwks_file().is_some();
        if self.secret().is_some() && (public || self.private_key().is_some()) {
            bail!("configure either CMS_JWT_SECRET (HS256) or key files (CMS_JWT_PUBLIC_KEYS, CMS_JWT_JWKS_FILE, CMS_JWT_PRIVATE_KEY), not both");
        }
        if public {
            return Ok(KeySource::Public);
        }
        if self.private_key().is_some() {
            return Ok(KeySource::PrivateKeyOnly);
        }
        let secret = match self.secret() {
            Some(secret) => Secret::new(secret.as_bytes().to_vec()),
            None => Secret::new(load_or_create_dev_secret(&data_dir.dev_secret_file())?),
        };
        if secret.expose().len() < MIN_SECRET_BYTES {
            bail!("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long");
        }
        Ok(KeySource::Secret(secret))
    }

    fn public_keys(&self) -> anyhow::Result<VerifyingKeys> {
        let mut set = PublicKeySet::new();
        for entry in self.jwt_public_keys.items() {
            let pem = std::fs::read(&entry.path)
                .with_context(|| format!("reading JWT public key {}", entry.path.display()))?;
            set.add_pem(entry.kid(), &pem, self.jwt_algorithm)
                .with_context(|| format!("loading JWT public key {}", entry.path.display()))?;
        }
        if let Some(path) = self.jwks_file() {
            let json = std::fs::read_to_string(path)
                .with_context(|| format!("reading JWKS file {}", path.display()))?;
            set.add_jwks(&json)
                .with_context(|| format!("loading JWKS file {}", path.display()))?;
        }
        Ok(set.build()?)
    }

    fn pem_minter(&self) -> anyhow::Result<TokenMinter> {
        let path = self
            .private_key()
            .context("CMS_JWT_PRIVATE_KEY is not set")?;
        let pem = Secret::new(
            std::fs::read(path)
                .with_context(|| format!("reading JWT private key {}", path.display()))?,
        );
        TokenMinter::from_private_pem(
            pem.expose(),
            self.jwt_algorithm,
            self.kid().map(str::to_owned),
            &self.jwt_issuer,
            &self.jwt_audience,
        )
        .with_context(|| format!("loading JWT private key {}", path.display()))
    }

    fn check_minter_matches_verifier(
        &self,
        minter: &TokenMinter,
        data_dir: &DataDir,
    ) -> anyhow::Result<()> {
        let verifier = self.verifier(data_dir)?;
        let probe = TokenSpec {
            sub: "cms-key-check".to_owned(),
            role: Role::Auditor,
            hostels: vec![crate::auth::ALL_HOSTELS.to_owned()],
            name: None,
            ttl: Duration::from_secs(60),
        };
        let token = minter.mint(&probe)?;
        verifier.verify(&token).map(|_| ()).with_context(|| {
            format!(
                "a token signed with CMS_JWT_PRIVATE_KEY (kid {:?}) does not verify with the configured public keys (kids {:?}); check CMS_JWT_KID",
                minter.kid(),
                verifier.keys().kids()
            )
        })
    }
}
