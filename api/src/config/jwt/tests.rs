//! The JWT settings end to end: parsed like the command line, then minting and verifying tokens with
//! every key source.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use cms_domain::actor::Role;

use super::PublicKeyPath;
use crate::auth::test_keys::keys;
use crate::auth::{JwtVerifier, TokenMinter};
use crate::config::test_support::{in_dir, parse, spec, write};
use crate::config::Settings;

fn verifier(s: &Settings) -> anyhow::Result<JwtVerifier> {
    s.jwt.verifier(&s.data_dir)
}

fn minter(s: &Settings) -> anyhow::Result<TokenMinter> {
    s.jwt.token_minter(&s.data_dir)
}

#[test]
fn a_leeway_above_thirty_seconds_is_refused() {
    assert!(Settings::try_parse_from(["cms", "--jwt-leeway-secs", "31"]).is_err());
    assert_eq!(
        parse(&["--jwt-leeway-secs", "5"]).jwt.leeway(),
        Duration::from_secs(5)
    );
}

#[test]
fn public_key_entries_take_an_optional_kid() {
    let s = parse(&["--jwt-public-keys", "k1=/keys/a.pem,/keys/2025.pem"]);
    let kids: Vec<String> = s
        .jwt
        .jwt_public_keys
        .items()
        .iter()
        .map(PublicKeyPath::kid)
        .collect();
    assert_eq!(kids, vec!["k1", "2025"]);
    assert_eq!(
        s.jwt.jwt_public_keys.items()[0].path,
        PathBuf::from("/keys/a.pem")
    );
    assert!("=x.pem".parse::<PublicKeyPath>().is_err());
    assert!("k=".parse::<PublicKeyPath>().is_err());
}

#[test]
fn with_nothing_configured_serve_and_token_share_a_secret_file_created_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = in_dir(dir.path(), &[]);
    let token = minter(&s).unwrap().mint(&spec()).unwrap();
    let path = s.data_dir.dev_secret_file();
    let first = std::fs::read_to_string(&path).unwrap();
    assert_eq!(first.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let actor = verifier(&in_dir(dir.path(), &[]))
        .unwrap()
        .verify(&token)
        .unwrap();
    assert_eq!(actor.role, Role::Warden);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "only the secret file remains");
}

#[test]
fn a_short_secret_and_a_secret_next_to_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(verifier(&in_dir(dir.path(), &["--jwt-secret", "short"])).is_err());
    let public = write(dir.path(), "k.pem", &keys().rsa.public);
    let both = in_dir(
        dir.path(),
        &[
            "--jwt-secret",
            &"s".repeat(40),
            "--jwt-public-keys",
            &public,
        ],
    );
    assert!(verifier(&both).is_err());
    assert!(minter(&both).is_err());
}

#[test]
fn a_configured_secret_verifies_what_it_mints() {
    let dir = tempfile::tempdir().unwrap();
    let s = in_dir(dir.path(), &["--jwt-secret", &"s".repeat(40)]);
    let token = minter(&s).unwrap().mint(&spec()).unwrap();
    assert!(verifier(&s).unwrap().verify(&token).is_ok());
    assert!(!s.data_dir.dev_secret_file().exists());
}

#[test]
fn the_minter_refuses_public_key_config_without_the_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let public = write(dir.path(), "prod.pem", &keys().rsa.public);
    let s = in_dir(dir.path(), &["--jwt-public-keys", &public]);
    assert!(verifier(&s).is_ok());
    let err = minter(&s).unwrap_err().to_string();
    assert!(err.contains("CMS_JWT_PRIVATE_KEY"), "{err}");
    assert!(!s.data_dir.dev_secret_file().exists());
}

#[test]
fn public_keys_with_the_matching_private_key_mint_verifiable_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let rsa = write(dir.path(), "rsa.pem", &k.rsa.public);
    let ed = write(dir.path(), "ed.pem", &k.ed.public);
    let private = write(dir.path(), "ed.key", &k.ed.private);
    let list = format!("rsa-1={rsa},ed-1={ed}");
    let s = in_dir(
        dir.path(),
        &[
            "--jwt-public-keys",
            &list,
            "--jwt-private-key",
            &private,
            "--jwt-kid",
            "ed-1",
        ],
    );
    let token = minter(&s).unwrap().mint(&spec()).unwrap();
    assert!(verifier(&s).unwrap().verify(&token).is_ok());

    let wrong_kid = in_dir(
        dir.path(),
        &[
            "--jwt-public-keys",
            &list,
            "--jwt-private-key",
            &private,
            "--jwt-kid",
            "rsa-1",
        ],
    );
    let err = format!("{:#}", minter(&wrong_kid).unwrap_err());
    assert!(err.contains("CMS_JWT_KID"), "{err}");
}

#[test]
fn a_private_key_alone_verifies_with_its_public_half() {
    let dir = tempfile::tempdir().unwrap();
    let private = write(dir.path(), "rsa.key", &keys().rsa.private);
    let s = in_dir(dir.path(), &["--jwt-private-key", &private]);
    let token = minter(&s).unwrap().mint(&spec()).unwrap();
    assert!(verifier(&s).unwrap().verify(&token).is_ok());
}

#[test]
fn a_jwks_file_is_loaded_and_bad_key_files_name_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let minter = TokenMinter::from_private_pem(
        keys().ed.private.as_bytes(),
        None,
        Some("ed-1".to_owned()),
        "cms",
        "cms-api",
    )
    .unwrap();
    let (key, alg) = minter.public_key().unwrap().unwrap();
    let mut jwk = jsonwebtoken::jwk::Jwk::from_decoding_key(&key, Some(alg)).unwrap();
    jwk.common.key_id = Some("ed-1".to_owned());
    let jwks = serde_json::json!({ "keys": [jwk] }).to_string();
    let file = write(dir.path(), "jwks.json", &jwks);
    let s = in_dir(dir.path(), &["--jwt-jwks-file", &file]);
    assert!(verifier(&s)
        .unwrap()
        .verify(&minter.mint(&spec()).unwrap())
        .is_ok());

    let garbage = write(dir.path(), "bad.pem", "not a key");
    let err = format!(
        "{:#}",
        verifier(&in_dir(dir.path(), &["--jwt-public-keys", &garbage])).unwrap_err()
    );
    assert!(err.contains("bad.pem"), "{err}");
}
