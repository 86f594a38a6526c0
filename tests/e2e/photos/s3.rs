//! Photos through a real S3-compatible server (s3s-fs, which checks SigV4 like S3): the object-store
//! contract, the multipart path to served thumbnails, the presigned PUT flow and its refusals
//! (another content type, a longer body, an expired URL, an overwrite), and `complete` checks.

use std::sync::Arc;
use std::time::Duration;

use cms_api::objects::{ObjectError, ObjectStore, Put, S3Config, S3Store};
use cms_api::secret::Secret;
use cms_tests::s3::{S3Server, ACCESS_KEY, REGION, SECRET_KEY};
use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{
    assert_clean_jpeg, distinct_jpeg, fetch_rendition, filed, jpeg, photo_id, settled,
    spawn_worker, upload,
};
use crate::support::TestApp;

async fn bucket(server: &S3Server) -> S3Store {
    let store = S3Store::new(&S3Config {
        endpoint: server.endpoint(),
        bucket: "cms-photos".into(),
        region: REGION.into(),
        access_key_id: Secret::new(ACCESS_KEY.into()),
        secret_access_key: Secret::new(SECRET_KEY.into()),
    });
    store.create_bucket_if_missing().await.unwrap();
    store
}

async fn app_on_s3(server: &S3Server, backend: Backend) -> TestApp {
    let store: Arc<dyn ObjectStore> = Arc::new(bucket(server).await);
    let app = TestApp::spawn_with_objects(backend, store).await;
    app.seed_hostel().await;
    app
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Asks for an upload URL for `bytes` declared as `content_type`.
async fn request_upload(
    app: &TestApp,
    token: &str,
    complaint: &str,
    content_type: &str,
    bytes: &[u8],
) -> Value {
    let answer = app
        .post(
            &format!("/v1/complaints/{complaint}/photos/uploads"),
            token,
            json!({ "role": "before", "content_type": content_type, "size": bytes.len(), "sha256": sha256(bytes) }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body
}

/// PUTs `body` to a presigned upload with its signed headers, `content_type` replacing the declared one.
async fn put(upload: &Value, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    let mut request = reqwest::Client::new().put(upload["url"].as_str().unwrap());
    for (name, value) in upload["headers"].as_object().unwrap() {
        if name.eq_ignore_ascii_case("content-length") {
            continue; // reqwest sets it from the body
        }
        let value = if name.eq_ignore_ascii_case("content-type") {
            content_type
        } else {
            value.as_str().unwrap()
        };
        request = request.header(name, value);
    }
    request.body(body).send().await.unwrap()
}

#[tokio::test]
async fn photos_the_s3_store_keeps_the_object_store_contract() {
    let server = S3Server::start();
    let store = bucket(&server).await;

    assert_eq!(
        store.put_if_absent("a/b/1.json", b"one").await.unwrap(),
        Put::Created
    );
    assert_eq!(
        store.put_if_absent("a/b/1.json", b"one").await.unwrap(),
        Put::AlreadyPresent
    );
    assert!(matches!(
        store.put_if_absent("a/b/1.json", b"two").await,
        Err(ObjectError::Conflict(_))
    ));
    assert!(matches!(
        store.put_if_absent("a/b/1.json", b"owt").await,
        Err(ObjectError::Conflict(_))
    ));
    store.put_if_absent("a/b/2.json", b"second").await.unwrap();
    store
        .put_if_absent("a/b/c/3.json", b"deeper")
        .await
        .unwrap();

    assert_eq!(store.get("a/b/1.json").await.unwrap().unwrap(), b"one");
    assert_eq!(store.get("a/b/9.json").await.unwrap(), None);
    assert_eq!(store.size("a/b/2.json").await.unwrap(), Some(6));
    assert_eq!(store.size("a/b/9.json").await.unwrap(), None);
    assert_eq!(
        store.list("a/b/").await.unwrap(),
        ["a/b/1.json", "a/b/2.json"]
    );
    assert!(store.list("none/").await.unwrap().is_empty());
    let tree = store.list_tree("a/").await.unwrap();
    let keys: Vec<&str> = tree.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["a/b/1.json", "a/b/2.json", "a/b/c/3.json"]);
    let now = chrono::Utc::now();
    assert!(tree
        .iter()
        .all(|o| (now - o.modified).num_seconds().abs() < 60));
    store.delete("a/b/2.json").await.unwrap();
    store.delete("a/b/2.json").await.unwrap(); // gone already: nothing to do
    assert_eq!(store.get("a/b/2.json").await.unwrap(), None);
    assert_eq!(store.list("a/b/").await.unwrap(), ["a/b/1.json"]);
    assert!(matches!(
        store.get("../x").await,
        Err(ObjectError::InvalidKey(_))
    ));
    assert!(matches!(
        store.delete("../x").await,
        Err(ObjectError::InvalidKey(_))
    ));
    // The credentials are never in the Debug output.
    assert!(!format!("{store:?}").contains(SECRET_KEY));
}

#[tokio::test]
async fn photos_audit_checkpoint_copies_are_written_to_and_verified_from_s3() {
    let server = S3Server::start();
    let objects: Arc<dyn ObjectStore> = Arc::new(bucket(&server).await);
    let app = TestApp::spawn_with_objects(Backend::Postgres, objects.clone()).await;
    app.seed_hostel().await;
    let sealer = cms_api::audit::Sealer::new(
        app.store.clone(),
        crate::support::audit_signer(),
        cms_api::audit::CheckpointPolicy {
            every: 2,
            interval: Duration::from_secs(3600),
        },
    )
    .with_objects(objects.clone());

    let head = sealer.seal_pending().await.unwrap();

    let copies = objects.list(cms_api::audit::copies::PREFIX).await.unwrap();
    assert!(head >= 4);
    assert!(!copies.is_empty());
    assert_eq!(copies.len() as i64, head / 2, "{copies:?}");
    let report = cms_api::audit::verify_with_copies(
        &app.store,
        Some(objects.as_ref()),
        &crate::support::audit_signer().public_key_bytes(),
        1,
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.copies_checked, copies.len());
    assert!(report.damage.is_none(), "{:?}", report.damage);
}

async fn upload_thumbnail_and_list_through_s3(backend: Backend) {
    let server = S3Server::start();
    let app = app_on_s3(&server, backend).await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let worker = spawn_worker(&app, Duration::from_secs(30));

    let attached = upload(
        &app,
        &reporter,
        &complaint,
        "before",
        "a.jpg",
        jpeg(1200, 900),
    )
    .await;
    assert_eq!(attached.status, StatusCode::CREATED, "{:?}", attached.body);
    let photo = photo_id(&attached);
    let listed = settled(&app, &reporter, &complaint, &photo).await;

    assert_eq!(listed["status"], "ready", "{listed:?}");
    let redirect = super::get_raw(
        &app,
        &format!("/v1/complaints/{complaint}/photos/{photo}?size=thumb"),
        &reporter,
    )
    .await;
    assert_eq!(redirect.status, StatusCode::TEMPORARY_REDIRECT);
    let location = redirect.headers["location"].to_str().unwrap();
    assert!(location.starts_with(&server.endpoint()), "{location}");
    assert!(location.contains("X-Amz-Expires=60"), "{location}");
    let thumb = fetch_rendition(&app, &reporter, &complaint, &photo, "thumb").await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(assert_clean_jpeg(&thumb.bytes), (320, 240));
    // A tampered URL (another key, same signature) is refused by the server.
    let tampered = location.replace("thumb-320.jpg", "large-1024.jpg");
    assert_ne!(tampered, location);
    assert_eq!(
        reqwest::get(&tampered).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    worker.abort();
}

#[tokio::test]
async fn photos_upload_thumbnail_and_list_through_s3_on_postgres() {
    upload_thumbnail_and_list_through_s3(Backend::Postgres).await;
}

#[tokio::test]
async fn photos_upload_thumbnail_and_list_through_s3_on_sqlite() {
    upload_thumbnail_and_list_through_s3(Backend::Sqlite).await;
}

#[tokio::test]
async fn photos_a_presigned_put_accepts_only_the_declared_type_and_length_and_never_overwrites() {
    let server = S3Server::start();
    let app = app_on_s3(&server, Backend::Postgres).await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let bytes = jpeg(640, 480);
    let answer = request_upload(&app, &reporter, &complaint, "image/jpeg", &bytes).await;
    let upload_spec = &answer["upload"];
    let photo = answer["photo_id"].as_str().unwrap();
    assert_eq!(upload_spec["method"], "PUT");
    assert!(upload_spec["url"]
        .as_str()
        .unwrap()
        .contains("X-Amz-Expires=300"));

    let other_type = put(upload_spec, "text/html", bytes.clone()).await;
    let mut longer = bytes.clone();
    longer.extend([0_u8; 100]);
    let longer = put(upload_spec, "image/jpeg", longer).await;
    assert_eq!(other_type.status(), StatusCode::FORBIDDEN);
    assert_eq!(longer.status(), StatusCode::FORBIDDEN);
    let complete_path = format!("/v1/complaints/{complaint}/photos/{photo}/complete");
    let early = app.post(&complete_path, &reporter, json!({})).await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "upload_missing")
    );

    let accepted = put(upload_spec, "image/jpeg", bytes.clone()).await;
    assert!(accepted.status().is_success(), "{}", accepted.status());
    let overwrite = put(
        upload_spec,
        "image/jpeg",
        jpeg(640, 481)[..bytes.len()].to_vec(),
    )
    .await;
    assert_eq!(overwrite.status(), StatusCode::PRECONDITION_FAILED);

    let completed = app.post(&complete_path, &reporter, json!({})).await;
    assert_eq!(
        completed.status,
        StatusCode::CREATED,
        "{:?}",
        completed.body
    );
    assert_eq!(photo_id(&completed), photo);
    assert_eq!(completed.body["photo"]["sha256"], sha256(&bytes));
    let again = app.post(&complete_path, &reporter, json!({})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(super::count_events(&app, "PhotoAttached").await, 1);
}

/// The photo id comes from the Idempotency-Key: a key that already named other bytes (here a presigned
/// upload, then a multipart upload of another photo under the same key) is refused with 422, not a
/// 500 from the object store's put-if-absent conflict, and the first object is kept.
#[tokio::test]
async fn photos_an_idempotency_key_reused_for_another_photo_is_refused() {
    // Arrange: a presigned upload declared under key K, and its bytes PUT.
    let server = S3Server::start();
    let app = app_on_s3(&server, Backend::Sqlite).await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let (first, second) = (distinct_jpeg(1), distinct_jpeg(2));
    let declared = app
        .send(
            app.client
                .post(format!(
                    "{}/v1/complaints/{complaint}/photos/uploads",
                    app.base
                ))
                .bearer_auth(&reporter)
                .header("Idempotency-Key", "photo-key-1")
                .json(&json!({ "role": "before", "content_type": "image/jpeg",
                    "size": first.len(), "sha256": sha256(&first) })),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{:?}", declared.body);
    let put_first = put(&declared.body["upload"], "image/jpeg", first.clone()).await;
    assert!(put_first.status().is_success(), "{}", put_first.status());

    // Act: other bytes, multipart, the same key.
    let part = reqwest::multipart::Part::bytes(second)
        .file_name("other.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("role", "before")
        .part("file", part);
    let reused = app
        .send(
            app.client
                .post(format!("{}/v1/complaints/{complaint}/photos", app.base))
                .bearer_auth(&reporter)
                .header("Idempotency-Key", "photo-key-1")
                .multipart(form),
        )
        .await;

    // Assert
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
        "{:?}",
        reused.body
    );
    let photo = declared.body["photo_id"].as_str().unwrap();
    let completed = app
        .post(
            &format!("/v1/complaints/{complaint}/photos/{photo}/complete"),
            &reporter,
            json!({}),
        )
        .await;
    assert_eq!(
        completed.status,
        StatusCode::CREATED,
        "{:?}",
        completed.body
    );
    assert_eq!(completed.body["photo"]["sha256"], sha256(&first));
    assert_eq!(super::count_events(&app, "PhotoAttached").await, 1);
}

#[tokio::test]
async fn photos_an_expired_presigned_url_is_refused() {
    let server = S3Server::start();
    let store = bucket(&server).await;
    let presigned = store
        .presign_put(
            "photos/expiring/upload",
            "image/jpeg",
            3,
            Duration::from_secs(1),
        )
        .await
        .unwrap()
        .unwrap();
    let get = store
        .presign_get("photos/expiring/upload", Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let spec = json!({
        "url": presigned.url,
        "headers": presigned.headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    let late_put = put(&spec, "image/jpeg", vec![0xFF, 0xD8, 0xFF]).await;
    let late_get = reqwest::get(&get.url).await.unwrap();

    assert_eq!(late_put.status(), StatusCode::FORBIDDEN);
    assert_eq!(late_get.status(), StatusCode::FORBIDDEN);
    assert_eq!(store.size("photos/expiring/upload").await.unwrap(), None);
}

#[tokio::test]
async fn photos_complete_refuses_what_was_never_uploaded_or_does_not_match() {
    let server = S3Server::start();
    let app = app_on_s3(&server, Backend::Sqlite).await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let other = app.token(
        cms_domain::actor::Role::Resident,
        "res-2",
        &[crate::support::HOSTEL],
    );
    let (_, other_token) = (filed(&app, "res-2").await, other);

    let unknown = app
        .post(
            &format!(
                "/v1/complaints/{complaint}/photos/{}/complete",
                uuid::Uuid::now_v7()
            ),
            &reporter,
            json!({}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "upload_not_found")
    );

    // Declared one photo, uploaded other bytes of the same type and length.
    let declared = jpeg(300, 200);
    let answer = request_upload(&app, &reporter, &complaint, "image/jpeg", &declared).await;
    let photo = answer["photo_id"].as_str().unwrap().to_owned();
    let mut different = declared.clone();
    let last = different.len() - 3;
    different[last] ^= 0x55;
    assert!(put(&answer["upload"], "image/jpeg", different)
        .await
        .status()
        .is_success());
    let complete_path = format!("/v1/complaints/{complaint}/photos/{photo}/complete");
    let mismatch = app.post(&complete_path, &reporter, json!({})).await;
    assert_eq!(
        (mismatch.status, mismatch.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "upload_mismatch")
    );
    assert!(mismatch.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("SHA-256"));

    // Declared a PNG, uploaded a JPEG's bytes under the PNG content type.
    let png_decl = jpeg(100, 100);
    let answer = request_upload(&app, &reporter, &complaint, "image/png", &png_decl).await;
    assert!(put(&answer["upload"], "image/png", png_decl)
        .await
        .status()
        .is_success());
    let wrong_type = app
        .post(
            &format!(
                "/v1/complaints/{complaint}/photos/{}/complete",
                answer["photo_id"].as_str().unwrap()
            ),
            &reporter,
            json!({}),
        )
        .await;
    assert_eq!(
        (wrong_type.status, wrong_type.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "upload_mismatch")
    );

    // Another resident can neither complete nor request uploads on this complaint.
    let foreign = app.post(&complete_path, &other_token, json!({})).await;
    assert_eq!(
        (foreign.status, foreign.code()),
        (StatusCode::NOT_FOUND, "complaint_not_found")
    );
    let foreign_upload = app
        .post(&format!("/v1/complaints/{complaint}/photos/uploads"), &other_token,
              json!({ "role": "before", "content_type": "image/jpeg", "size": 10, "sha256": "ab".repeat(32) }))
        .await;
    assert_eq!(foreign_upload.status, StatusCode::NOT_FOUND);
    let too_big = app
        .post(&format!("/v1/complaints/{complaint}/photos/uploads"), &reporter,
              json!({ "role": "before", "content_type": "image/jpeg", "size": 10 * 1024 * 1024 + 1, "sha256": "ab".repeat(32) }))
        .await;
    assert_eq!(
        (too_big.status, too_big.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "photo_too_large")
    );
    let svg = app
        .post(&format!("/v1/complaints/{complaint}/photos/uploads"), &reporter,
              json!({ "role": "before", "content_type": "image/svg+xml", "size": 10, "sha256": "ab".repeat(32) }))
        .await;
    assert_eq!(
        (svg.status, svg.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_photo_type")
    );
    assert_eq!(super::count_events(&app, "PhotoAttached").await, 0);
}

#[tokio::test]
async fn photos_presigned_uploads_are_refused_on_a_local_folder() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let bytes = jpeg(10, 10);

    let answer = app
        .post(
            &format!("/v1/complaints/{complaint}/photos/uploads"),
            &reporter,
            json!({ "role": "before", "content_type": "image/jpeg", "size": bytes.len(), "sha256": sha256(&bytes) }),
        )
        .await;

    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::CONFLICT, "presigned_uploads_unavailable")
    );
}
