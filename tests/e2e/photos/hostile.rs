//! A hostile corpus, generated here: a JPEG with EXIF GPS and orientation 6, a header declaring
//! 50,000 x 50,000 pixels, a truncated file, JPEG+ZIP and JPEG+HTML polyglots. Each is refused or
//! made safe: what is served is always a re-encoded JPEG without metadata or trailing payload, upright.

use std::time::Duration;

use cms_tests::Backend;
use reqwest::StatusCode;

use super::{
    assert_clean_jpeg, fetch_rendition, filed, jpeg, photo_id, settled, spawn_worker, upload,
};
use crate::support::TestApp;

/// A TIFF IFD entry, big-endian.
fn entry(tag: u16, kind: u16, count: u32, value: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(tag.to_be_bytes());
    out.extend(kind.to_be_bytes());
    out.extend(count.to_be_bytes());
    out.extend(value);
    out
}

/// An APP1 Exif segment with Orientation = 6 (rotate 90 degrees clockwise to display) and a GPS IFD
/// holding latitude N 12 deg 58' 1".
fn exif_segment() -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0 at 8: two entries, then the next-IFD offset.
    tiff.extend(2_u16.to_be_bytes());
    tiff.extend(entry(0x0112, 3, 1, [0, 6, 0, 0]));
    tiff.extend(entry(0x8825, 4, 1, 38_u32.to_be_bytes()));
    tiff.extend(0_u32.to_be_bytes());
    // GPS IFD at 38: latitude ref and latitude (three rationals at 68).
    tiff.extend(2_u16.to_be_bytes());
    tiff.extend(entry(0x0001, 2, 2, *b"N\0\0\0"));
    tiff.extend(entry(0x0002, 5, 3, 68_u32.to_be_bytes()));
    tiff.extend(0_u32.to_be_bytes());
    for (numerator, denominator) in [(12_u32, 1_u32), (58, 1), (1, 1)] {
        tiff.extend(numerator.to_be_bytes());
        tiff.extend(denominator.to_be_bytes());
    }
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    segment.extend(payload);
    segment
}

/// `jpeg` with `segment` inserted right after the start-of-image marker.
fn with_segment(jpeg: &[u8], segment: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend(segment);
    out.extend(&jpeg[2..]);
    out
}

/// A 200 x 100 JPEG (left half red, right half blue) carrying GPS and orientation 6.
pub fn gps_rotated_jpeg() -> Vec<u8> {
    with_segment(&jpeg(200, 100), &exif_segment())
}

/// A small JPEG whose frame header claims 50,000 x 50,000 pixels.
pub fn declared_giant_jpeg() -> Vec<u8> {
    let mut bytes = jpeg(16, 16);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline JPEG has SOF0");
    // FFC0, length (2), precision (1), height (2), width (2).
    bytes[sof + 5..sof + 7].copy_from_slice(&50_000_u16.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&50_000_u16.to_be_bytes());
    bytes
}

#[test]
fn photos_the_decoder_refuses_a_declared_giant_before_allocating() {
    let error = cms_api::photos::render::render(&declared_giant_jpeg()).unwrap_err();
    assert!(
        matches!(error, cms_api::photos::render::RenderError::TooLarge(_)),
        "{error:?}"
    );
    let exif = cms_api::photos::render::decode_upright(&gps_rotated_jpeg()).unwrap();
    assert_eq!(
        (exif.width(), exif.height()),
        (100, 200),
        "orientation 6 turns it upright"
    );
}

fn is_red(pixel: image::Rgb<u8>) -> bool {
    pixel[0] > 150 && pixel[2] < 100
}

fn is_blue(pixel: image::Rgb<u8>) -> bool {
    pixel[2] > 150 && pixel[0] < 100
}

async fn hostile_images_are_refused_or_served_re_encoded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let (complaint, reporter) = filed(&app, "res-1").await;
    let worker = spawn_worker(&app, Duration::from_secs(30));
    let base = jpeg(120, 80);
    let mut zip_polyglot = base.clone();
    zip_polyglot.extend(b"PK\x03\x04\x14\0\0\0\0\0secret.txt");
    zip_polyglot.extend(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let mut html_polyglot = jpeg(130, 80);
    html_polyglot.extend(b"<html><body><script>alert(document.cookie)</script></body></html>");
    let mut truncated = jpeg(400, 300);
    truncated.truncate(truncated.len() / 2);
    let header_only = jpeg(50, 50)[..20].to_vec();

    let mut photos = Vec::new();
    for (name, bytes) in [
        ("gps", gps_rotated_jpeg()),
        ("giant", declared_giant_jpeg()),
        ("zip", zip_polyglot),
        ("html", html_polyglot),
        ("truncated", truncated),
        ("header-only", header_only),
    ] {
        let answer = upload(
            &app,
            &reporter,
            &complaint,
            "before",
            &format!("{name}.jpg"),
            bytes,
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{name}: {:?}",
            answer.body
        );
        photos.push((name, photo_id(&answer)));
    }

    for (name, photo) in &photos {
        let listed = settled(&app, &reporter, &complaint, photo).await;
        match (*name, listed["status"].as_str().unwrap()) {
            ("giant" | "header-only", status) => {
                assert_eq!(status, "failed", "{name}: {listed:?}");
                assert!(listed["failure"].as_str().unwrap().len() > 5);
                let refused = app
                    .get(
                        &format!("/v1/complaints/{complaint}/photos/{photo}?size=thumb"),
                        &reporter,
                    )
                    .await;
                assert_eq!(
                    (refused.status, refused.code()),
                    (StatusCode::UNPROCESSABLE_ENTITY, "photo_unrenderable"),
                    "{name}"
                );
            }
            // A truncated JPEG may decode (grey where data is missing) or not; either way it is safe.
            ("truncated", "failed") => {}
            (_, status) => {
                assert_eq!(status, "ready", "{name}: {listed:?}");
                for size in ["thumb", "large", "original"] {
                    let served = fetch_rendition(&app, &reporter, &complaint, photo, size).await;
                    assert_eq!(served.status, StatusCode::OK, "{name} {size}");
                    assert_clean_jpeg(&served.bytes);
                    let text = String::from_utf8_lossy(&served.bytes);
                    assert!(
                        !text.contains("PK\u{3}\u{4}") && !text.contains("<script"),
                        "{name} {size}"
                    );
                    assert!(!text.contains("Exif"), "{name} {size}");
                }
            }
        }
    }

    let (_, gps) = &photos[0];
    let original = fetch_rendition(&app, &reporter, &complaint, gps, "original").await;
    let upright = image::load_from_memory(&original.bytes).unwrap().to_rgb8();
    assert_eq!(upright.dimensions(), (100, 200), "orientation applied");
    // Stored left red / right blue; turned 90 degrees clockwise the top is red, the bottom blue.
    assert!(
        is_red(*upright.get_pixel(50, 30)),
        "{:?}",
        upright.get_pixel(50, 30)
    );
    assert!(
        is_blue(*upright.get_pixel(50, 170)),
        "{:?}",
        upright.get_pixel(50, 170)
    );
    let thumb = fetch_rendition(&app, &reporter, &complaint, gps, "thumb").await;
    assert_eq!(assert_clean_jpeg(&thumb.bytes), (100, 200));
    worker.abort();
}

#[tokio::test]
async fn photos_hostile_images_are_refused_or_served_re_encoded_on_postgres() {
    hostile_images_are_refused_or_served_re_encoded(Backend::Postgres).await;
}

#[tokio::test]
async fn photos_hostile_images_are_refused_or_served_re_encoded_on_sqlite() {
    hostile_images_are_refused_or_served_re_encoded(Backend::Sqlite).await;
}
