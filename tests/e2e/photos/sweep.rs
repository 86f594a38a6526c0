//! The photo sweep (`cms photos sweep`): uploads no complaint attached are deleted once older than
//! the grace period; attached photos, recent uploads and foreign keys are left alone; an upload past
//! its completion window cannot be completed any more (so the sweep never races a completion).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cms_api::commands::executor::Executor;
use cms_api::objects::{LocalFolder, ObjectStore};
use cms_api::photos::keys;
use cms_api::photos::sweep::{sweep, SweepReport, MIN_GRACE};
use cms_domain::ids::{ComplaintId, PhotoId};
use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{distinct_jpeg, filed, photo_id, upload};
use crate::support::TestApp;

/// Moves the modification time of every file below `folder` back by `by`.
fn age_files(folder: &Path, by: Duration) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            age_files(&path, by);
        } else {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(SystemTime::now() - by).unwrap();
        }
    }
}

async fn exists(objects: &dyn ObjectStore, key: &str) -> bool {
    objects.size(key).await.unwrap().is_some()
}

#[tokio::test]
async fn photos_the_sweep_deletes_old_unattached_uploads_and_nothing_else() {
    // Arrange: an attached photo; an upload of the same complaint never attached; an upload for a
    // complaint that does not exist; a key that is not a photo's. All three hours old. Then one
    // unattached upload written just now.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("objects");
    let objects: Arc<dyn ObjectStore> = Arc::new(LocalFolder::new(&root));
    let app = TestApp::spawn_with_objects(Backend::Sqlite, objects.clone()).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let attached = upload(
        &app,
        &reporter,
        &complaint,
        "before",
        "tap.jpg",
        distinct_jpeg(1),
    )
    .await;
    assert_eq!(attached.status, StatusCode::CREATED, "{:?}", attached.body);
    let complaint = ComplaintId::new(Uuid::parse_str(&complaint).unwrap());
    let attached = PhotoId::new(Uuid::parse_str(&photo_id(&attached)).unwrap());
    let abandoned = PhotoId::new(Uuid::now_v7());
    let stranger = (
        ComplaintId::new(Uuid::now_v7()),
        PhotoId::new(Uuid::now_v7()),
    );
    let put = |key: String, bytes: Vec<u8>| {
        let objects = objects.clone();
        async move { objects.put_if_absent(&key, &bytes).await.unwrap() }
    };
    put(keys::upload(complaint, abandoned), distinct_jpeg(2)).await;
    put(keys::intent(complaint, abandoned), b"{}".to_vec()).await;
    put(keys::upload(stranger.0, stranger.1), distinct_jpeg(3)).await;
    put("photos/README.txt".to_owned(), b"not a photo".to_vec()).await;
    // Rendered but unknown to the log (as after restoring an older database backup).
    let restored = PhotoId::new(Uuid::now_v7());
    put(keys::upload(complaint, restored), distinct_jpeg(6)).await;
    put(keys::full(complaint, restored), distinct_jpeg(7)).await;
    age_files(&root, Duration::from_secs(3 * 3600));
    let recent = PhotoId::new(Uuid::now_v7());
    put(keys::upload(complaint, recent), distinct_jpeg(4)).await;
    let executor = Executor::new(app.store.clone());
    let grace = MIN_GRACE;

    // Act + Assert: a grace period shorter than the completion window is refused.
    assert!(sweep(
        &executor,
        objects.as_ref(),
        Duration::from_secs(3600),
        false
    )
    .await
    .is_err());

    // ... a dry run counts and deletes nothing.
    let counted = sweep(&executor, objects.as_ref(), grace, true)
        .await
        .unwrap();
    let expected = SweepReport {
        folders: 5,
        attached: 1,
        recent: 1,
        orphaned: 2,
        orphaned_objects: 3,
        deleted: 0,
        unrecognised: 1,
        rendered_unknown: 1,
    };
    assert_eq!(counted, expected);
    assert!(exists(objects.as_ref(), &keys::upload(complaint, abandoned)).await);

    // ... a sweep deletes exactly the two old orphaned folders.
    let swept = sweep(&executor, objects.as_ref(), grace, false)
        .await
        .unwrap();
    assert_eq!(
        swept,
        SweepReport {
            deleted: 3,
            ..expected
        }
    );
    for key in [
        keys::upload(complaint, abandoned),
        keys::intent(complaint, abandoned),
        keys::upload(stranger.0, stranger.1),
    ] {
        assert!(!exists(objects.as_ref(), &key).await, "{key} survived");
    }
    for key in [
        keys::upload(complaint, attached),
        keys::upload(complaint, recent),
        keys::upload(complaint, restored),
        keys::full(complaint, restored),
        "photos/README.txt".to_owned(),
    ] {
        assert!(exists(objects.as_ref(), &key).await, "{key} was deleted");
    }
    let listed = app
        .get(&format!("/v1/complaints/{complaint}/photos"), &reporter)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let listed = listed.body.to_string();
    assert!(listed.contains(&attached.to_string()), "{listed}");

    // ... and a second sweep finds nothing more to do.
    let again = sweep(&executor, objects.as_ref(), grace, false)
        .await
        .unwrap();
    assert_eq!((again.orphaned, again.deleted), (0, 0));
}

#[tokio::test]
async fn photos_an_upload_is_not_completed_after_its_window() {
    // Arrange: a declared upload whose URL expired two hours ago, its bytes in place.
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let id = ComplaintId::new(Uuid::parse_str(&complaint).unwrap());
    let photo = PhotoId::new(Uuid::now_v7());
    let bytes = distinct_jpeg(5);
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let intent = json!({
        "role": "before", "content_type": "image/jpeg", "size": bytes.len(), "sha256": sha256,
        "by": "res-1", "expires_at": chrono::Utc::now() - chrono::Duration::hours(2),
    });
    let objects = &app.objects;
    objects
        .put_if_absent(&keys::intent(id, photo), intent.to_string().as_bytes())
        .await
        .unwrap();
    objects
        .put_if_absent(&keys::upload(id, photo), &bytes)
        .await
        .unwrap();

    // Act
    let late = app
        .post(
            &format!("/v1/complaints/{complaint}/photos/{photo}/complete"),
            &reporter,
            json!({}),
        )
        .await;

    // Assert
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::GONE, "upload_expired"),
        "{:?}",
        late.body
    );
}
