//! The worker's delivery guarantees: killed mid-job and restarted, a photo still ends with exactly
//! one `ThumbnailGenerated` and one set of objects; a repeated job is a no-op; a missing upload is
//! retried a bounded number of times and then recorded as `ThumbnailFailed`.

use std::time::Duration;

use cms_api::photos::jobs::PhotoJob;
use cms_api::photos::worker::Disposition;
use cms_domain::ids::{ComplaintId, PhotoId};
use cms_tests::Backend;
use reqwest::StatusCode;

use super::{
    count_events, filed, jpeg, photo_id, settled, spawn_bus_worker, spawn_worker, thumbnailer,
    upload,
};
use crate::support::TestApp;

fn job(complaint: &str, photo: &str, deliveries: u32) -> PhotoJob {
    PhotoJob {
        id: 0,
        complaint_id: ComplaintId::new(complaint.parse().unwrap()),
        photo_id: PhotoId::new(photo.parse().unwrap()),
        deliveries,
    }
}

/// Where the killed-worker test's workers take their jobs from.
#[derive(Clone, Copy)]
enum Source {
    /// The `photo_jobs` table fed from the log.
    Log,
    /// The durable JetStream consumer.
    JetStream,
}

async fn start_worker(
    app: &TestApp,
    source: Source,
    ack_wait: Duration,
) -> tokio::task::JoinHandle<()> {
    match source {
        Source::Log => spawn_worker(app, ack_wait),
        Source::JetStream => spawn_bus_worker(app, ack_wait).await,
    }
}

async fn a_worker_killed_mid_job_leaves_one_event_and_one_set_of_thumbnails(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    killed_mid_job(&app, Source::Log).await;
}

async fn killed_mid_job(app: &TestApp, source: Source) {
    app.seed_hostel().await;
    let (complaint, reporter) = filed(app, "res-1").await;
    let attached = upload(
        app,
        &reporter,
        &complaint,
        "before",
        "big.jpg",
        jpeg(3000, 2000),
    )
    .await;
    assert_eq!(attached.status, StatusCode::CREATED, "{:?}", attached.body);
    let photo = photo_id(&attached);
    let folder = format!("photos/{complaint}/{photo}/");
    let ack_wait = Duration::from_millis(500);

    // Kill the worker as soon as it has written its first rendition (mid-job: before recording).
    let first = start_worker(app, source, ack_wait).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while app.objects.list(&folder).await.unwrap().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker wrote nothing"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    first.abort();
    let _ = first.await;
    let generated_at_kill = count_events(app, "ThumbnailGenerated").await;

    // Two workers now race for the expired lease.
    let second = start_worker(app, source, ack_wait).await;
    let third = start_worker(app, source, ack_wait).await;
    let listed = settled(app, &reporter, &complaint, &photo).await;
    assert_eq!(listed["status"], "ready");
    tokio::time::sleep(ack_wait * 3).await;
    second.abort();
    third.abort();

    assert!(generated_at_kill <= 1);
    assert_eq!(count_events(app, "ThumbnailGenerated").await, 1);
    let mut objects = app.objects.list(&folder).await.unwrap();
    objects.sort();
    let expected: Vec<String> = ["full.jpg", "large-1024.jpg", "thumb-320.jpg", "upload"]
        .iter()
        .map(|name| format!("{folder}{name}"))
        .collect();
    assert_eq!(objects, expected);
}

#[tokio::test]
async fn photos_a_worker_killed_mid_job_leaves_one_event_and_one_set_of_thumbnails_on_postgres() {
    a_worker_killed_mid_job_leaves_one_event_and_one_set_of_thumbnails(Backend::Postgres).await;
}

#[tokio::test]
async fn photos_a_worker_killed_mid_job_leaves_one_event_and_one_set_of_thumbnails_on_sqlite() {
    a_worker_killed_mid_job_leaves_one_event_and_one_set_of_thumbnails(Backend::Sqlite).await;
}

/// The same over NATS: the jobs come from the durable JetStream consumer `thumbnailer`; the killed
/// worker's delivery is not acked, so JetStream delivers it again after the ack wait.
#[tokio::test]
async fn photos_a_worker_killed_mid_job_over_jetstream_leaves_one_event_and_one_set_of_thumbnails()
{
    let nats = cms_tests::nats::NatsServer::start();
    let db = std::sync::Arc::new(cms_tests::TestDatabase::postgres().await);
    let mut app = TestApp::spawn_on(db, Some(crate::fanout::options(Some(&nats)))).await;
    app.start_projectors();
    killed_mid_job(&app, Source::JetStream).await;
}

#[tokio::test]
async fn photos_a_repeated_job_records_nothing_new() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let attached = upload(
        &app,
        &reporter,
        &complaint,
        "before",
        "a.jpg",
        jpeg(500, 400),
    )
    .await;
    let photo = photo_id(&attached);
    let worker = thumbnailer(&app);

    let first = worker.process(&job(&complaint, &photo, 1)).await;
    let head = app.head().await;
    let again = worker.process(&job(&complaint, &photo, 1)).await;

    assert_eq!(
        (first, again),
        (Disposition::Generated, Disposition::Generated)
    );
    assert_eq!(app.head().await, head, "the repeat appended nothing");
    assert_eq!(count_events(&app, "ThumbnailGenerated").await, 1);
}

#[tokio::test]
async fn photos_a_missing_upload_is_retried_a_bounded_number_of_times_then_fails() {
    let app = TestApp::spawn(Backend::Postgres).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let attached = upload(&app, &reporter, &complaint, "before", "a.jpg", jpeg(64, 64)).await;
    let photo = photo_id(&attached);
    // Point the worker at an empty store: the upload is "missing" on every delivery.
    let mut worker = thumbnailer(&app);
    let empty = tempfile::tempdir().unwrap();
    worker.objects = std::sync::Arc::new(cms_api::objects::LocalFolder::new(empty.path()));
    let max = worker.config.max_deliveries;

    for delivery in 1..max {
        let disposition = worker.process(&job(&complaint, &photo, delivery)).await;
        assert!(
            matches!(disposition, Disposition::Retry(..)),
            "{delivery}: {disposition:?}"
        );
    }
    let last = worker.process(&job(&complaint, &photo, max)).await;

    assert!(
        matches!(&last, Disposition::Failed(reason) if reason.contains("missing")),
        "{last:?}"
    );
    assert_eq!(count_events(&app, "ThumbnailFailed").await, 1);
    let listed = settled(&app, &reporter, &complaint, &photo).await;
    assert_eq!(listed["status"], "failed");
}

async fn jobs_are_leased_nakked_acked_and_redelivered_after_the_ack_wait(backend: Backend) {
    use cms_api::photos::jobs::{LogPhotoJobs, PhotoJobs};
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let mut photos = Vec::new();
    for width in [30, 31] {
        let answer = upload(
            &app,
            &reporter,
            &complaint,
            "before",
            "a.jpg",
            jpeg(width, 20),
        )
        .await;
        photos.push(photo_id(&answer));
    }
    let jobs = LogPhotoJobs::new(
        app.store.clone(),
        Duration::from_millis(300),
        Duration::from_millis(5),
    );
    let none = Duration::from_millis(20);

    assert_eq!(jobs.depth().await.unwrap(), 2);
    let first = jobs.next(none).await.unwrap().unwrap();
    let second = jobs.next(none).await.unwrap().unwrap();
    assert_eq!(jobs.next(none).await.unwrap(), None, "both are leased");
    assert_eq!(
        [first.photo_id.to_string(), second.photo_id.to_string()],
        [photos[0].clone(), photos[1].clone()]
    );
    assert_eq!((first.deliveries, second.deliveries), (1, 1));

    jobs.ack(&first).await.unwrap();
    jobs.nak(&second, Duration::from_millis(100)).await.unwrap();
    assert_eq!(jobs.depth().await.unwrap(), 1);
    assert_eq!(
        jobs.next(none).await.unwrap(),
        None,
        "nakked: not before its delay"
    );
    let again = jobs.next(Duration::from_secs(5)).await.unwrap().unwrap();
    assert_eq!((again.id, again.deliveries), (second.id, 2));
    // Leased and never settled (a worker that died): delivered again after the ack wait.
    let after_wait = jobs.next(Duration::from_secs(5)).await.unwrap().unwrap();
    assert_eq!((after_wait.id, after_wait.deliveries), (second.id, 3));
    jobs.ack(&after_wait).await.unwrap();
    assert_eq!(jobs.depth().await.unwrap(), 0);
    assert_eq!(
        jobs.next(Duration::from_millis(400)).await.unwrap(),
        None,
        "acked jobs never return"
    );
}

#[tokio::test]
async fn photos_jobs_are_leased_nakked_acked_and_redelivered_on_postgres() {
    jobs_are_leased_nakked_acked_and_redelivered_after_the_ack_wait(Backend::Postgres).await;
}

#[tokio::test]
async fn photos_jobs_are_leased_nakked_acked_and_redelivered_on_sqlite() {
    jobs_are_leased_nakked_acked_and_redelivered_after_the_ack_wait(Backend::Sqlite).await;
}
