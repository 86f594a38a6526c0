//! Multipart uploads on both backends with the local folder: the happy path to thumbnails in the
//! list and detail views, deduplication, who may attach and see, and what content is refused.

use std::time::Duration;

use cms_domain::actor::Role;
use cms_tests::Backend;
use reqwest::StatusCode;

use super::{
    assert_clean_jpeg, assign_to_plumber, distinct_jpeg, fetch_rendition, filed, get_raw, jpeg,
    photo_id, png, settled, spawn_worker, upload,
};
use crate::support::{TestApp, HOSTEL};

async fn a_photo_gets_thumbnails_that_the_list_and_detail_show(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let worker = spawn_worker(&app, Duration::from_secs(30));

    let attached = upload(
        &app,
        &reporter,
        &complaint,
        "before",
        "tap.jpg",
        jpeg(1600, 1200),
    )
    .await;

    assert_eq!(attached.status, StatusCode::CREATED, "{:?}", attached.body);
    assert!(attached.position() > 0);
    let photo = photo_id(&attached);
    assert_eq!(attached.body["photo"]["content_type"], "image/jpeg");
    assert_eq!(attached.body["photo"]["role"], "before");
    let listed = settled(&app, &reporter, &complaint, &photo).await;
    assert_eq!(listed["status"], "ready", "{listed:?}");
    assert_eq!(listed["renditions"]["thumb"]["width"], 320);
    assert_eq!(listed["renditions"]["large"]["width"], 1024);
    for (size, expected) in [
        ("thumb", (320, 240)),
        ("large", (1024, 768)),
        ("original", (1600, 1200)),
    ] {
        let served = fetch_rendition(&app, &reporter, &complaint, &photo, size).await;
        assert_eq!(served.status, StatusCode::OK, "{size}");
        assert_eq!(served.headers["content-type"], "image/jpeg", "{size}");
        assert_eq!(assert_clean_jpeg(&served.bytes), expected, "{size}");
    }
    // The detail is a projection too: the worker's ThumbnailGenerated reaches it shortly after the
    // photo list (which folds the log) shows the photo ready.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let detail = app
            .get(&format!("/v1/complaints/{complaint}"), &reporter)
            .await;
        let thumbnails = detail.body["photos"][0]["thumbnails"]
            .as_array()
            .map_or(0, Vec::len);
        if thumbnails == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the detail never showed both thumbnails: {:?}",
            detail.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The list is a projection: it catches up with the ThumbnailGenerated event.
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = app.get("/v1/complaints", &warden).await;
        let row = &list.body["items"][0];
        if row["first_thumbnail_url"].is_string() {
            assert_eq!(row["photo_count"], 1, "{row:?}");
            assert!(
                row.get("first_thumbnail").is_none(),
                "no object key: {row:?}"
            );
            let url = row["first_thumbnail_url"].as_str().unwrap();
            assert_eq!(
                url,
                format!("/v1/complaints/{complaint}/photos/{photo}?size=thumb")
            );
            let served = get_raw(&app, url, &warden).await;
            assert_eq!(served.status, StatusCode::OK);
            assert_eq!(assert_clean_jpeg(&served.bytes), (320, 240));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "list never showed the thumbnail: {:?}",
            list.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.abort();
}

#[tokio::test]
async fn photos_get_thumbnails_that_list_and_detail_show_on_postgres() {
    a_photo_gets_thumbnails_that_the_list_and_detail_show(Backend::Postgres).await;
}

#[tokio::test]
async fn photos_get_thumbnails_that_list_and_detail_show_on_sqlite() {
    a_photo_gets_thumbnails_that_the_list_and_detail_show(Backend::Sqlite).await;
}

#[tokio::test]
async fn photos_the_same_bytes_attached_twice_are_one_photo() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    let bytes = jpeg(300, 200);

    let first = upload(
        &app,
        &reporter,
        &complaint,
        "before",
        "a.jpg",
        bytes.clone(),
    )
    .await;
    let again = upload(&app, &warden, &complaint, "after", "b.jpg", bytes).await;

    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["existing"], true);
    assert_eq!(photo_id(&first), photo_id(&again));
    let list = app
        .get(&format!("/v1/complaints/{complaint}/photos"), &reporter)
        .await;
    assert_eq!(list.body["photos"].as_array().unwrap().len(), 1);
    assert_eq!(super::count_events(&app, "PhotoAttached").await, 1);
}

#[tokio::test]
async fn photos_only_the_reporter_before_and_the_hostels_staff_may_attach_and_only_those_who_see_the_complaint_may_look(
) {
    let app = TestApp::spawn(Backend::Postgres).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    assign_to_plumber(&app, &complaint).await;
    let other_resident = app.token(Role::Resident, "res-2", &[HOSTEL]);
    let assignee = app.token(Role::Staff, "staff-p", &[HOSTEL]);
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    let auditor = app.token(Role::Auditor, "aud-1", &["*"]);
    let foreign_warden = app.token(Role::Warden, "warden-s", &["south"]);

    let cases = [
        (
            &other_resident,
            "before",
            StatusCode::NOT_FOUND,
            "complaint_not_found",
        ),
        (
            &foreign_warden,
            "before",
            StatusCode::NOT_FOUND,
            "complaint_not_found",
        ),
        (
            &reporter,
            "after",
            StatusCode::FORBIDDEN,
            "action_not_permitted",
        ),
        (
            &auditor,
            "before",
            StatusCode::FORBIDDEN,
            "action_not_permitted",
        ),
        (&reporter, "before", StatusCode::CREATED, ""),
        (&assignee, "after", StatusCode::CREATED, ""),
        (&warden, "before", StatusCode::CREATED, ""),
    ];
    let mut seed = 0;
    let mut photo = String::new();
    for (token, role, status, code) in cases {
        seed += 1;
        let answer = upload(&app, token, &complaint, role, "p.jpg", distinct_jpeg(seed)).await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{role} #{seed}: {:?}",
            answer.body
        );
        if status == StatusCode::CREATED {
            photo = photo_id(&answer);
        }
    }
    assert_eq!(super::count_events(&app, "PhotoAttached").await, 3);

    let list_path = format!("/v1/complaints/{complaint}/photos");
    let photo_path = format!("{list_path}/{photo}?size=thumb");
    for token in [&other_resident, &foreign_warden] {
        let list = app.get(&list_path, token).await;
        assert_eq!(
            (list.status, list.code()),
            (StatusCode::NOT_FOUND, "complaint_not_found")
        );
        let fetched = get_raw(&app, &photo_path, token).await;
        assert_eq!(fetched.status, StatusCode::NOT_FOUND);
    }
    let unknown = get_raw(
        &app,
        &format!("{list_path}/{}", uuid::Uuid::now_v7()),
        &reporter,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let pending = app.get(&format!("{list_path}/{photo}"), &reporter).await;
    assert_eq!(
        (pending.status, pending.code()),
        (StatusCode::CONFLICT, "photo_not_ready")
    );
    assert_eq!(pending.headers["retry-after"], "1");
}

#[tokio::test]
async fn photos_uploads_are_judged_by_content_and_size_with_clear_errors() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let text = b"just some text pretending to be a photo".to_vec();
    let mut huge = jpeg(64, 64);
    huge.resize(10 * 1024 * 1024 + 1, 0);

    for (name, bytes, status, code) in [
        (
            "evil.svg",
            svg,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_photo_type",
        ),
        (
            "notes.jpg",
            text,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_photo_type",
        ),
        (
            "huge.jpg",
            huge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo_too_large",
        ),
        (
            "empty.jpg",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_photo",
        ),
    ] {
        let answer = upload(&app, &reporter, &complaint, "before", name, bytes).await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{name}: {:?}",
            answer.body
        );
        assert!(!answer.body["error"]["message"].as_str().unwrap().is_empty());
    }
    let bad_role = upload(&app, &reporter, &complaint, "during", "a.jpg", jpeg(10, 10)).await;
    assert_eq!(
        (bad_role.status, bad_role.code()),
        (StatusCode::BAD_REQUEST, "invalid_photo_role")
    );
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(jpeg(10, 10)));
    let no_role = app
        .send(
            app.client
                .post(format!("{}/v1/complaints/{complaint}/photos", app.base))
                .bearer_auth(&reporter)
                .multipart(form),
        )
        .await;
    assert_eq!(
        (no_role.status, no_role.code()),
        (StatusCode::BAD_REQUEST, "invalid_multipart")
    );
    let json_body = app
        .post(
            &format!("/v1/complaints/{complaint}/photos"),
            &reporter,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A PNG named .jpg is a PNG: the name and the part's declared type count for nothing.
    let renamed = upload(
        &app,
        &reporter,
        &complaint,
        "before",
        "really-a-png.jpg",
        png(20, 20),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::CREATED, "{:?}", renamed.body);
    assert_eq!(renamed.body["photo"]["content_type"], "image/png");
    for seed in 1..10 {
        let answer = upload(
            &app,
            &reporter,
            &complaint,
            "before",
            "p.jpg",
            distinct_jpeg(seed),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "#{seed}: {:?}",
            answer.body
        );
    }
    let eleventh = upload(
        &app,
        &reporter,
        &complaint,
        "before",
        "p.jpg",
        distinct_jpeg(99),
    )
    .await;
    assert_eq!(
        (eleventh.status, eleventh.code()),
        (StatusCode::CONFLICT, "photo_limit_reached")
    );
    assert_eq!(super::count_events(&app, "PhotoAttached").await, 10);
}
