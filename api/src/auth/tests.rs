//! Tests of token verification, minting and the extractor: every check the verifier makes, the
//! algorithm pinning (including the HS256-with-a-public-key confusion and `alg: none`), `kid` selection
//! across PEM and JWKS keys, and the 401 envelope.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use cms_domain::actor::{HostelScope, Role};
use cms_domain::ids::{HostelId, UserId};
use http_body_util::BodyExt;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::test_keys::keys;
use super::*;

const ISS: &str = "cms";
const AUD: &str = "cms-api";
const SECRET: &[u8] = b"a-test-secret-that-is-32-bytes-long!";
/// base64url of `{"alg":"none","typ":"JWT"}`.
const NONE_HEADER: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(role: &str, hostels: &[&str]) -> Value {
    json!({
        "sub": "user-1", "role": role, "hostels": hostels, "name": "Asha",
        "exp": now() + 600, "iat": now(), "iss": ISS, "aud": AUD, "jti": "j-1",
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn sign(header: Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn hs_token(claims: &Value) -> String {
    sign(
        Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET),
    )
}

fn verifier(keys: VerifyingKeys) -> JwtVerifier {
    JwtVerifier::new(keys, ISS, AUD, Duration::from_secs(30))
}

fn hs_verifier() -> JwtVerifier {
    verifier(VerifyingKeys::hs256(SECRET).unwrap())
}

fn rsa_verifier(kid: &str) -> JwtVerifier {
    let mut set = PublicKeySet::new();
    set.add_pem(kid, keys().rsa.public.as_bytes(), None)
        .unwrap();
    verifier(set.build().unwrap())
}

fn pem_minter(private_pem: &str, kid: &str) -> TokenMinter {
    TokenMinter::from_private_pem(private_pem.as_bytes(), None, Some(kid.to_owned()), ISS, AUD)
        .unwrap()
}

fn north() -> HostelId {
    HostelId::parse("north").unwrap()
}

#[test]
fn a_valid_token_becomes_the_actor_it_names() {
    let actor = hs_verifier()
        .verify(&hs_token(&claims("warden", &["north"])))
        .unwrap();
    assert_eq!(actor.id, UserId::parse("user-1").unwrap());
    assert_eq!(actor.role, Role::Warden);
    assert_eq!(actor.scope, HostelScope::one(north()));
}

#[test]
fn an_admin_with_star_covers_every_hostel() {
    let actor = hs_verifier()
        .verify(&hs_token(&claims("admin", &["*"])))
        .unwrap();
    assert_eq!(actor.scope, HostelScope::All);
}

#[test]
fn an_expired_token_is_refused() {
    let token = hs_token(&with(claims("staff", &[]), "exp", json!(now() - 120)));
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::Expired));
}

#[test]
fn a_token_not_valid_yet_is_refused() {
    let token = hs_token(&with(claims("staff", &[]), "nbf", json!(now() + 120)));
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::NotYetValid));
}

#[test]
fn a_past_nbf_is_accepted() {
    let token = hs_token(&with(claims("staff", &[]), "nbf", json!(now() - 5)));
    assert!(hs_verifier().verify(&token).is_ok());
}

#[test]
fn a_wrong_issuer_is_refused() {
    let token = hs_token(&with(claims("staff", &[]), "iss", json!("evil")));
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::WrongIssuer));
}

#[test]
fn a_wrong_audience_is_refused() {
    let token = hs_token(&with(claims("staff", &[]), "aud", json!("other-api")));
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::WrongAudience));
}

#[test]
fn an_audience_array_naming_cms_is_accepted() {
    let token = hs_token(&with(claims("staff", &[]), "aud", json!(["x", AUD])));
    assert!(hs_verifier().verify(&token).is_ok());
}

#[test]
fn each_required_claim_must_be_present() {
    for claim in ["exp", "iss", "aud", "sub"] {
        let token = hs_token(&without(claims("staff", &[]), claim));
        let err = hs_verifier().verify(&token).unwrap_err();
        assert_eq!(err.reason(), "invalid_claims", "{claim}: {err}");
        assert!(err.to_string().contains(claim), "{err}");
    }
}

#[test]
fn an_exp_given_as_a_string_is_refused() {
    let token = hs_token(&with(
        claims("staff", &[]),
        "exp",
        json!((now() + 600).to_string()),
    ));
    let err = hs_verifier().verify(&token).unwrap_err();
    assert_eq!(err.reason(), "invalid_claims", "{err}");
}

#[test]
fn an_nbf_given_as_a_string_is_refused() {
    let token = hs_token(&with(claims("staff", &[]), "nbf", json!("yesterday")));
    assert_eq!(
        hs_verifier().verify(&token).unwrap_err().reason(),
        "invalid_claims"
    );
}

#[test]
fn a_token_signed_with_another_secret_is_refused() {
    let token = sign(
        Header::new(Algorithm::HS256),
        &claims("staff", &[]),
        &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
    );
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::BadSignature));
}

#[test]
fn an_unknown_role_and_a_bad_subject_are_invalid_claims() {
    let token = hs_token(&with(claims("root", &[]), "role", json!("root")));
    assert_eq!(
        hs_verifier().verify(&token).unwrap_err().reason(),
        "invalid_claims"
    );
    let token = hs_token(&with(claims("staff", &[]), "sub", json!("has space")));
    assert_eq!(
        hs_verifier().verify(&token).unwrap_err().reason(),
        "invalid_claims"
    );
}

#[test]
fn star_hostels_for_a_resident_is_refused() {
    let token = hs_token(&claims("resident", &["*"]));
    let err = hs_verifier().verify(&token).unwrap_err();
    assert_eq!(err.reason(), "invalid_claims");
    assert!(err.to_string().contains("resident"), "{err}");
}

#[test]
fn garbage_is_malformed() {
    for token in ["", "abc", "a.b.c", "a.b"] {
        assert_eq!(
            hs_verifier().verify(token),
            Err(AuthError::Malformed),
            "{token}"
        );
    }
    assert_eq!(
        hs_verifier().verify(&"a".repeat(10_000)),
        Err(AuthError::Malformed)
    );
}

#[test]
fn alg_none_is_refused() {
    let valid = hs_token(&claims("admin", &["*"]));
    let payload = valid.split('.').nth(1).unwrap();
    for token in [
        format!("{NONE_HEADER}.{payload}."),
        format!("{NONE_HEADER}.{payload}"),
    ] {
        assert!(hs_verifier().verify(&token).is_err());
        assert!(rsa_verifier("k1").verify(&token).is_err());
    }
}

#[test]
fn an_hs256_token_signed_with_the_rsa_public_key_is_refused() {
    // The classic confusion: the attacker knows the public key and uses its PEM as an HMAC secret.
    let forged_key = EncodingKey::from_secret(keys().rsa.public.as_bytes());
    let mut header = Header::new(Algorithm::HS256);
    assert_eq!(
        rsa_verifier("k1").verify(&sign(header.clone(), &claims("admin", &["*"]), &forged_key)),
        Err(AuthError::WrongAlgorithm)
    );
    header.kid = Some("k1".to_owned());
    assert_eq!(
        rsa_verifier("k1").verify(&sign(header, &claims("admin", &["*"]), &forged_key)),
        Err(AuthError::WrongAlgorithm)
    );
}

#[test]
fn an_hs256_verifier_refuses_rs256_tokens() {
    let token = pem_minter(&keys().rsa.private, "k1")
        .sign(&claims("staff", &[]))
        .unwrap();
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::WrongAlgorithm));
}

#[test]
fn rs256_and_eddsa_tokens_verify_with_their_pem_public_keys() {
    let k = keys();
    for (pair, kid) in [(&k.rsa, "rsa"), (&k.ed, "ed")] {
        let mut set = PublicKeySet::new();
        set.add_pem(kid, pair.public.as_bytes(), None).unwrap();
        let token = pem_minter(&pair.private, kid)
            .sign(&claims("auditor", &["*"]))
            .unwrap();
        let actor = verifier(set.build().unwrap()).verify(&token).unwrap();
        assert_eq!(actor.role, Role::Auditor);
    }
}

#[test]
fn a_token_without_kid_needs_exactly_one_public_key() {
    let k = keys();
    let token = TokenMinter::from_private_pem(k.rsa.private.as_bytes(), None, None, ISS, AUD)
        .unwrap()
        .sign(&claims("staff", &[]))
        .unwrap();
    assert!(rsa_verifier("only").verify(&token).is_ok());

    let mut two = PublicKeySet::new();
    two.add_pem("a", k.rsa.public.as_bytes(), None).unwrap();
    two.add_pem("b", k.rsa2.public.as_bytes(), None).unwrap();
    assert_eq!(
        verifier(two.build().unwrap()).verify(&token),
        Err(AuthError::UnknownKey)
    );
}

#[test]
fn an_unknown_kid_is_refused() {
    let token = pem_minter(&keys().rsa.private, "retired")
        .sign(&claims("staff", &[]))
        .unwrap();
    assert_eq!(
        rsa_verifier("current").verify(&token),
        Err(AuthError::UnknownKey)
    );
}

#[test]
fn a_token_signed_by_another_rsa_key_under_a_known_kid_is_refused() {
    let token = pem_minter(&keys().rsa2.private, "k1")
        .sign(&claims("staff", &[]))
        .unwrap();
    assert_eq!(
        rsa_verifier("k1").verify(&token),
        Err(AuthError::BadSignature)
    );
}

fn jwks() -> String {
    let k = keys();
    let mut rsa = Jwk::from_encoding_key(
        &EncodingKey::from_rsa_pem(k.rsa.private.as_bytes()).unwrap(),
        Algorithm::RS256,
    )
    .unwrap();
    rsa.common.key_id = Some("rsa-2024".to_owned());
    let mut ed = Jwk::from_encoding_key(
        &EncodingKey::from_ed_pem(k.ed.private.as_bytes()).unwrap(),
        Algorithm::EdDSA,
    )
    .unwrap();
    ed.common.key_id = Some("ed-2025".to_owned());
    serde_json::to_string(&JwkSet {
        keys: vec![rsa, ed],
    })
    .unwrap()
}

fn jwks_verifier() -> JwtVerifier {
    let mut set = PublicKeySet::new();
    set.add_jwks(&jwks()).unwrap();
    verifier(set.build().unwrap())
}

#[test]
fn a_jwks_with_two_kids_verifies_tokens_of_both() {
    let k = keys();
    let verifier = jwks_verifier();
    assert_eq!(verifier.keys().kids(), vec!["ed-2025", "rsa-2024"]);
    for (pem, kid) in [(&k.rsa.private, "rsa-2024"), (&k.ed.private, "ed-2025")] {
        let token = pem_minter(pem, kid)
            .sign(&claims("staff", &["north"]))
            .unwrap();
        assert!(verifier.verify(&token).is_ok(), "{kid}");
    }
}

#[test]
fn a_token_whose_alg_does_not_match_its_kid_is_refused() {
    // Signed with RSA but naming the Ed25519 key.
    let token = pem_minter(&keys().rsa.private, "ed-2025")
        .sign(&claims("staff", &[]))
        .unwrap();
    assert_eq!(
        jwks_verifier().verify(&token),
        Err(AuthError::WrongAlgorithm)
    );
}

#[test]
fn a_jwks_key_without_kid_and_a_jwks_without_signing_keys_are_refused() {
    let no_kid = jwks().replace("\"kid\":\"rsa-2024\",", "");
    assert!(matches!(
        PublicKeySet::new().add_jwks(&no_kid),
        Err(KeyError::JwkWithoutKid)
    ));
    let oct = r#"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#;
    assert!(matches!(
        PublicKeySet::new().add_jwks(oct),
        Err(KeyError::NoUsableJwk)
    ));
    assert!(matches!(
        PublicKeySet::new().add_jwks("{"),
        Err(KeyError::InvalidJwks(_))
    ));
}

#[test]
fn duplicate_kids_are_refused() {
    let mut set = PublicKeySet::new();
    set.add_pem("k", keys().rsa.public.as_bytes(), None)
        .unwrap();
    assert!(matches!(
        set.add_pem("k", keys().ed.public.as_bytes(), None),
        Err(KeyError::DuplicateKid(_))
    ));
}

#[test]
fn pem_keys_are_checked_against_their_role_and_pinned_algorithm() {
    let k = keys();
    assert!(matches!(
        public_key_from_pem(k.rsa.private.as_bytes(), None),
        Err(KeyError::PrivateKeyGiven)
    ));
    assert!(matches!(
        public_key_from_pem(k.ed.public.as_bytes(), Some(SigningAlgorithm::Rs256)),
        Err(KeyError::UnrecognisedPem { .. })
    ));
    assert!(matches!(
        public_key_from_pem(b"not a pem", None),
        Err(KeyError::UnrecognisedPem { .. })
    ));
    assert!(matches!(
        TokenMinter::from_private_pem(k.rsa.public.as_bytes(), None, None, ISS, AUD),
        Err(KeyError::NotAPrivateKey)
    ));
    assert_eq!(
        public_key_from_pem(k.ed.public.as_bytes(), None).unwrap().1,
        Algorithm::EdDSA
    );
}

#[test]
fn the_leeway_is_capped_at_thirty_seconds() {
    let lax = JwtVerifier::new(
        VerifyingKeys::hs256(SECRET).unwrap(),
        ISS,
        AUD,
        Duration::from_secs(300),
    );
    assert_eq!(lax.leeway(), Duration::from_secs(30));
    let a_minute_ago = hs_token(&with(claims("staff", &[]), "exp", json!(now() - 60)));
    assert_eq!(lax.verify(&a_minute_ago), Err(AuthError::Expired));
    let moments_ago = hs_token(&with(claims("staff", &[]), "exp", json!(now() - 10)));
    assert!(lax.verify(&moments_ago).is_ok());
}

fn spec(role: Role, hostels: &[&str]) -> TokenSpec {
    TokenSpec {
        sub: "u-42".to_owned(),
        role,
        hostels: hostels.iter().map(|h| (*h).to_owned()).collect(),
        name: Some("Ravi".to_owned()),
        ttl: Duration::from_secs(3600),
    }
}

#[test]
fn minted_tokens_verify_to_the_same_actor() {
    let minter = TokenMinter::hs256(SECRET, ISS, AUD).unwrap();
    let spec = spec(Role::Resident, &["north"]);
    let actor = hs_verifier().verify(&minter.mint(&spec).unwrap()).unwrap();
    assert_eq!(actor.id.as_str(), "u-42");
    assert_eq!(
        (actor.role, actor.scope),
        (Role::Resident, HostelScope::one(north()))
    );

    let ed = pem_minter(&keys().ed.private, "ed");
    let (key, alg) = ed.public_key().unwrap().unwrap();
    let mut set = PublicKeySet::new();
    set.add_key("ed".to_owned(), key, alg).unwrap();
    let token = ed.mint(&spec_all()).unwrap();
    assert_eq!(
        verifier(set.build().unwrap()).verify(&token).unwrap().scope,
        HostelScope::All
    );
}

fn spec_all() -> TokenSpec {
    spec(Role::Admin, &["*"])
}

#[test]
fn the_minter_refuses_all_hostels_for_a_resident_and_a_zero_ttl() {
    let minter = TokenMinter::hs256(SECRET, ISS, AUD).unwrap();
    assert!(matches!(
        minter.mint(&spec(Role::Resident, &["*"])),
        Err(MintError::ScopeNotAllowed(Role::Resident))
    ));
    for bad in [
        spec(Role::Staff, &["North Wing"]),
        spec(Role::Admin, &["*", "north"]),
    ] {
        assert!(
            matches!(minter.mint(&bad), Err(MintError::InvalidClaims(_))),
            "{bad:?}"
        );
    }
    let mut bad_sub = spec_all();
    bad_sub.sub = "a b".to_owned();
    assert!(matches!(
        minter.mint(&bad_sub),
        Err(MintError::InvalidClaims(_))
    ));
    let mut zero = spec_all();
    zero.ttl = Duration::ZERO;
    assert!(matches!(minter.mint(&zero), Err(MintError::InvalidTtl)));
}

#[test]
fn minted_claims_carry_iat_exp_and_a_jti() {
    let minter = TokenMinter::hs256(SECRET, ISS, AUD).unwrap();
    let claims = minter.claims(&spec_all(), 1_000).unwrap();
    assert_eq!((claims.iat, claims.exp), (1_000, 4_600));
    assert_eq!(claims.hostels, vec!["*".to_owned()]);
    assert!(claims.jti.is_some());
    assert_eq!((claims.iss.as_str(), claims.aud.as_str()), (ISS, AUD));
}

#[test]
fn debug_output_never_shows_the_secret() {
    let keys = format!("{:?}", VerifyingKeys::hs256(SECRET).unwrap());
    let verifier = format!("{:?}", hs_verifier());
    let minter = format!("{:?}", TokenMinter::hs256(SECRET, ISS, AUD).unwrap());
    let secret = std::str::from_utf8(SECRET).unwrap();
    for text in [keys, verifier, minter] {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("116, 101"), "{text}"); // byte-array form of "te"
    }
}

async fn get_me(authorization: Option<&str>) -> (StatusCode, Option<String>, Value) {
    async fn me(AuthUser(actor): AuthUser) -> String {
        actor.id.to_string()
    }
    let app = Router::new()
        .route("/me", get(me))
        .with_state(Arc::new(hs_verifier()));
    let mut request = Request::get("/me");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)));
    (status, challenge, body)
}

#[tokio::test]
async fn the_extractor_accepts_a_valid_bearer_token() {
    let token = hs_token(&claims("staff", &["north"]));
    let (status, _, body) = get_me(Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, body), (StatusCode::OK, json!("user-1")));
    let (status, _, _) = get_me(Some(&format!("bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_extractor_answers_401_token_missing_with_a_challenge() {
    for header in [None, Some("Basic dXNlcjpwYXNz"), Some("Bearer ")] {
        let (status, challenge, body) = get_me(header).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(body["error"]["code"], "token_missing");
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"cms\""));
    }
}

#[tokio::test]
async fn the_extractor_answers_token_expired_and_token_invalid_without_echoing_the_token() {
    let expired = hs_token(&with(claims("staff", &[]), "exp", json!(now() - 120)));
    let (status, challenge, body) = get_me(Some(&format!("Bearer {expired}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "token_expired");
    assert!(challenge.unwrap().contains("invalid_token"));
    assert!(!body.to_string().contains(&expired));

    let (_, _, body) = get_me(Some("Bearer not.a.token")).await;
    assert_eq!(body["error"]["code"], "token_invalid");
    assert!(!body.to_string().contains("not.a.token"));
}
