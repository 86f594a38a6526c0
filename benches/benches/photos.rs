//! Criterion benchmarks of the photo pipeline:
//! - `thumbnail/render_12mp_jpeg`: what the worker does per photo (decode a 4000 x 3000 JPEG under
//!   the limits, apply the orientation, encode the 320 px, 1024 px and full-size JPEGs);
//! - `thumbnail/decode_12mp_jpeg`: the decode alone, for scale;
//! - `upload/accept_5mb`: `POST /v1/complaints/{id}/photos` with a 5 MB photo, end to end over
//!   loopback HTTP against the real router on SQLite and a local folder (multipart parsing, magic
//!   bytes, SHA-256, the object write with fsync, the executor's append).
//!
//! Run: `cargo bench -p cms-benches --bench photos -- --warm-up-time 1 --measurement-time 10`.

// Benchmarks set up fixed, known-valid data; a failure there is a bug to see at once.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cms_api::app::Limits;
use cms_api::audit::AuditSigner;
use cms_api::auth::{JwtVerifier, TokenMinter, TokenSpec, VerifyingKeys};
use cms_api::objects::LocalFolder;
use cms_api::photos::render;
use cms_api::startup::{Parts, Service};
use cms_domain::actor::Role;
use cms_eventstore::store::EventStore;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use image::{ImageFormat, Rgb, RgbImage};
use serde_json::json;

const SECRET: &[u8] = b"benchmark-secret-of-at-least-32-bytes!!";

/// A 12-megapixel photo-like JPEG (gradients and texture, so it compresses like a photo).
fn twelve_megapixels() -> Vec<u8> {
    let image = RgbImage::from_fn(4000, 3000, |x, y| {
        let texture = ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 27) as u8;
        Rgb([
            (x / 16) as u8 ^ texture,
            (y / 12) as u8,
            ((x + y) / 28) as u8 ^ (texture >> 1),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn thumbnail(c: &mut Criterion) {
    let jpeg = twelve_megapixels();
    let mut group = c.benchmark_group("thumbnail");
    group.sample_size(10);
    group.bench_function("render_12mp_jpeg", |b| {
        b.iter(|| render::render(black_box(&jpeg)).unwrap());
    });
    group.bench_function("decode_12mp_jpeg", |b| {
        b.iter(|| render::decode_upright(black_box(&jpeg)).unwrap());
    });
    group.finish();
}

struct Server {
    base: String,
    client: reqwest::Client,
    resident: String,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cms.db").display());
    let store = EventStore::connect(&url, 5).await.unwrap();
    // The composition root `cms serve` uses, with the benchmark's own parts.
    let service = Service::start(Parts {
        reads: cms_api::reads::Reads::primary_only(store.db().clone()),
        store,
        verifier: JwtVerifier::new(
            VerifyingKeys::hs256(SECRET.to_vec()).unwrap(),
            "cms",
            "cms-api",
            Duration::from_secs(5),
        ),
        audit_signer: Some(AuditSigner::from_seed([7; 32])),
        objects: Arc::new(LocalFolder::new(dir.path().join("objects"))),
        fanout: None,
        limits: Limits::default(),
    })
    .await
    .unwrap();
    let router = service.router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let minter = TokenMinter::hs256(SECRET, "cms", "cms-api").unwrap();
    let token = |role, sub: &str, hostel: &str| {
        minter
            .mint(&TokenSpec {
                sub: sub.into(),
                role,
                hostels: vec![hostel.into()],
                name: None,
                ttl: Duration::from_secs(3600),
            })
            .unwrap()
    };
    let client = reqwest::Client::new();
    let registered = client
        .post(format!("{base}/v1/hostels"))
        .bearer_auth(token(Role::Admin, "admin", "*"))
        .json(&json!({
            "id": "north", "name": "North", "wings": ["B"], "room_pattern": "B[0-9]{3}",
            "categories": [{"id": "plumbing", "name": "Plumbing"}]
        }))
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success());
    Server {
        base,
        client,
        resident: token(Role::Resident, "res-bench", "north"),
        _dir: dir,
    }
}

impl Server {
    async fn file(&self) -> String {
        let answer: serde_json::Value = self
            .client
            .post(format!("{}/v1/complaints", self.base))
            .bearer_auth(&self.resident)
            .json(&json!({
                "hostel": "north", "wing": "B", "room": "B204", "category": "plumbing",
                "severity": "high", "title": "Leaking tap", "description": "Drips all night."
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["complaint_id"].as_str().unwrap().to_owned()
    }
}

fn upload(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(server());
    // 5 MB that pass the magic-byte check; decoding is the worker's job, not the upload's.
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    photo.extend((0..5_000_000_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let mut group = c.benchmark_group("upload");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(photo.len() as u64));
    let mut seq = 0_u32;
    group.bench_function("accept_5mb", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                let mut complaint = String::new();
                for i in 0..iterations {
                    if i % 10 == 0 {
                        complaint = server.file().await; // at most 10 photos per complaint
                    }
                    seq += 1;
                    let mut bytes = photo.clone();
                    bytes[4..8].copy_from_slice(&seq.to_be_bytes()); // distinct bytes, no dedupe
                    let form = reqwest::multipart::Form::new().text("role", "before").part(
                        "file",
                        reqwest::multipart::Part::bytes(bytes).file_name("p.jpg"),
                    );
                    let started = Instant::now();
                    let response = server
                        .client
                        .post(format!("{}/v1/complaints/{complaint}/photos", server.base))
                        .bearer_auth(&server.resident)
                        .multipart(form)
                        .send()
                        .await
                        .unwrap();
                    let status = response.status();
                    let _ = response.bytes().await.unwrap();
                    total += started.elapsed();
                    assert_eq!(status, reqwest::StatusCode::CREATED);
                }
                total
            })
        });
    });
    group.finish();
}

criterion_group!(benches, thumbnail, upload);
criterion_main!(benches);
