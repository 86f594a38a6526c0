//! Photos end to end: uploads (multipart everywhere, presigned PUT on S3), validation, the thumbnail
//! worker and serving, against real PostgreSQL/SQLite and a real S3-compatible server (s3s-fs).
//! Every image, hostile or not, is generated here; no binary fixtures are committed.

mod hostile;
mod s3;
mod sweep;
mod upload;
mod worker;

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use cms_api::commands::executor::Executor;
use cms_api::photos::jobs::LogPhotoJobs;
use cms_api::photos::worker::{run as run_worker, Thumbnailer, WorkerConfig};
use cms_domain::actor::Role;
use image::{ImageFormat, Rgb, RgbImage};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{Answer, TestApp, HOSTEL};

/// A JPEG whose left half is red and right half blue.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Jpeg)
}

/// The same picture as PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Png)
}

fn encode(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        // A little texture so different sizes and seeds give different bytes.
        let noise = ((x * 7 + y * 13) % 5) as u8;
        if x < width / 2 {
            Rgb([220 + noise, 20, 20])
        } else {
            Rgb([20, 20, 220 + noise])
        }
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A distinct small JPEG per `seed` (for tests that need many different photos).
pub fn distinct_jpeg(seed: u32) -> Vec<u8> {
    jpeg(40 + seed, 30)
}

/// Uploads `bytes` as `file_name` with `role` to `complaint` as `token`.
pub async fn upload(
    app: &TestApp,
    token: &str,
    complaint: &str,
    role: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Answer {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(file_name.to_owned())
        .mime_str("image/jpeg")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("role", role.to_owned())
        .part("file", part);
    let url = format!("{}/v1/complaints/{complaint}/photos", app.base);
    app.send(app.client.post(url).bearer_auth(token).multipart(form))
        .await
}

/// The photo id of an attach answer.
pub fn photo_id(answer: &Answer) -> String {
    answer.body["photo"]["photo_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no photo in {:?}", answer.body))
        .to_owned()
}

/// A worker that retries quickly.
pub fn fast_config() -> WorkerConfig {
    WorkerConfig {
        max_deliveries: 3,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        idle_wait: Duration::from_millis(50),
    }
}

/// The worker `cms serve` runs, on this app's store and objects.
pub fn thumbnailer(app: &TestApp) -> Thumbnailer {
    Thumbnailer {
        executor: Arc::new(Executor::new(app.store.clone())),
        objects: app.objects.clone(),
        config: fast_config(),
    }
}

/// Runs the thumbnail worker in a task (leases expire after `ack_wait`).
pub fn spawn_worker(app: &TestApp, ack_wait: Duration) -> tokio::task::JoinHandle<()> {
    let jobs = LogPhotoJobs::new(app.store.clone(), ack_wait, Duration::from_millis(10));
    tokio::spawn(run_worker(thumbnailer(app), Arc::new(jobs)))
}

/// Runs the thumbnail worker in a task, its jobs from the app's bus through the durable consumer
/// (deliveries not acked within `ack_wait` come again).
pub async fn spawn_bus_worker(app: &TestApp, ack_wait: Duration) -> tokio::task::JoinHandle<()> {
    let bus = &app.fanout.as_ref().expect("an app with a bus").bus;
    let jobs = cms_api::photos::jobs::BusPhotoJobs::new(bus, ack_wait, 5)
        .await
        .unwrap();
    tokio::spawn(run_worker(thumbnailer(app), Arc::new(jobs)))
}

/// Polls the photo list until `photo` leaves `pending`; returns the photo as listed.
pub async fn settled(app: &TestApp, token: &str, complaint: &str, photo: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let list = app
            .get(&format!("/v1/complaints/{complaint}/photos"), token)
            .await;
        assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
        let found = list.body["photos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["photo_id"] == photo)
            .cloned()
            .unwrap_or_else(|| panic!("photo {photo} not listed: {:?}", list.body));
        if found["status"] != "pending" {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "photo {photo} still pending after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The raw answer to a GET (image bytes are not JSON).
pub struct Raw {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Vec<u8>,
}

/// GET `path` as `token` without following redirects.
pub async fn get_raw(app: &TestApp, path: &str, token: &str) -> Raw {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    Raw {
        status: response.status(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

/// A photo rendition's bytes: streamed by the API, or fetched from the presigned URL it redirects to
/// (without credentials: the URL alone must be enough).
pub async fn fetch_rendition(
    app: &TestApp,
    token: &str,
    complaint: &str,
    photo: &str,
    size: &str,
) -> Raw {
    let path = format!("/v1/complaints/{complaint}/photos/{photo}?size={size}");
    let answer = get_raw(app, &path, token).await;
    assert_eq!(
        answer.headers["x-content-type-options"], "nosniff",
        "{path}"
    );
    if answer.status != StatusCode::TEMPORARY_REDIRECT {
        return answer;
    }
    let location = answer.headers["location"].to_str().unwrap().to_owned();
    let response = reqwest::get(&location).await.unwrap();
    Raw {
        status: response.status(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

/// The JPEG markers before the image data (to prove no APP1/EXIF, APP13 or comment survived).
pub fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() {
        assert_eq!(bytes[at], 0xFF, "JPEG segment expected at {at}");
        let marker = bytes[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break; // start of scan: image data follows
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        at += 2 + length;
    }
    markers
}

/// Asserts `bytes` is a clean JPEG: no EXIF/XMP (APP1), no Photoshop/IPTC (APP13), no comments,
/// nothing after the end-of-image marker; returns its dimensions.
pub fn assert_clean_jpeg(bytes: &[u8]) -> (u32, u32) {
    let markers = jpeg_markers(bytes);
    for forbidden in [0xE1, 0xED, 0xFE] {
        assert!(
            !markers.contains(&forbidden),
            "marker {forbidden:#x} in {markers:x?}"
        );
    }
    assert!(
        bytes.ends_with(&[0xFF, 0xD9]),
        "data after the end of the image"
    );
    let image = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap();
    (image.width(), image.height())
}

/// Files a complaint as `resident` in the seeded hostel.
pub async fn filed(app: &TestApp, resident: &str) -> (String, String) {
    let complaint = app.file(resident).await;
    (complaint, app.token(Role::Resident, resident, &[HOSTEL]))
}

/// Triages `complaint` and assigns it to `staff-p` (by the warden).
pub async fn assign_to_plumber(app: &TestApp, complaint: &str) {
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    for (route, body) in [
        ("triage", json!({ "priority": "P2" })),
        ("assign", json!({ "assignee": "staff-p" })),
    ] {
        let answer = app
            .post(
                &format!("/v1/complaints/{complaint}/{route}"),
                &warden,
                body,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{route}: {:?}", answer.body);
    }
}

/// How many events of `event_type` the log holds.
pub async fn count_events(app: &TestApp, event_type: &str) -> usize {
    app.store
        .read_log(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == event_type)
        .count()
}
