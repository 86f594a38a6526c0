//! The `cms` binary as a newcomer meets it: `cms serve --demo` with no configuration (embedded SQLite
//! in a fresh data folder), tokens from `cms token`, a complete complaint lifecycle over HTTP, and a
//! clean exit on SIGTERM.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

/// `cms` with a clean environment: nothing but the data folder is configured.
fn cms(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cms"));
    for (name, _) in std::env::vars() {
        if name.starts_with("CMS_") {
            command.env_remove(name);
        }
    }
    command
        .env("CMS_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    command
}

/// Kills the server if the test ends early.
struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn token(data_dir: &Path, role: &str, sub: &str) -> String {
    let output = cms(data_dir)
        .args([
            "token",
            "--role",
            role,
            "--sub",
            sub,
            "--hostel",
            "north-block",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_demo_serves_a_complete_lifecycle_with_minted_tokens_and_stops_on_sigterm() {
    // Arrange: `cms serve --demo` on a free port, reading the address it prints.
    let data = tempfile::tempdir().unwrap();
    let mut child = cms(data.path())
        .args(["serve", "--demo", "--http-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The banner: the address line, three hint lines, then one line per demo complaint.
    let (lines_tx, lines_rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut server = Server(Some(child));
    let mut banner = Vec::new();
    while banner
        .iter()
        .filter(|l: &&String| l.contains("demo complaint"))
        .count()
        < 4
    {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("cms serve --demo printed no complete banner: {banner:?}"));
        banner.push(line);
    }
    let base = banner[0]
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let client = reqwest::Client::new();
    let resident = token(data.path(), "resident", "res-asha");
    let warden = token(data.path(), "warden", "warden-meera");
    let staff = token(data.path(), "staff", "staff-ravi");
    let post = |path: String, token: &str, body: Option<Value>| {
        let mut request = client.post(format!("{base}{path}")).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };

    // Act + Assert: the seeded complaints are there, and a new one goes through its whole life.
    assert!(
        banner.iter().any(|l| l.contains("demo complaint")),
        "{banner:?}"
    );
    let seeded_chair = banner
        .iter()
        .find(|l| l.contains("(chair, resolved)"))
        .unwrap();
    let chair = seeded_chair.split_whitespace().nth(2).unwrap();
    let (status, body) = post(format!("/v1/complaints/{chair}/confirm"), &resident, None).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("closed")),
        "{body}"
    );

    let (status, filed) = post(
        "/v1/complaints".into(),
        &resident,
        Some(json!({
            "hostel": "north-block", "wing": "B", "room": "B210", "category": "plumbing",
            "severity": "urgent", "title": "No hot water", "description": "No hot water in the shower today."
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    let id = filed["complaint_id"].as_str().unwrap().to_owned();
    let steps = [
        (
            "triage",
            &warden,
            Some(json!({ "priority": "P1" })),
            "triaged",
        ),
        (
            "assign",
            &warden,
            Some(json!({ "assignee": "staff-ravi" })),
            "assigned",
        ),
        ("start", &staff, None, "in_progress"),
        (
            "resolve",
            &staff,
            Some(json!({ "note": "Replaced the heater element." })),
            "resolved",
        ),
        ("confirm", &resident, None, "closed"),
        ("rating", &resident, Some(json!({ "stars": 5 })), "closed"),
    ];
    let mut last_position = filed["position"].as_i64().unwrap();
    for (command, token, body, expected) in steps {
        let (status, answer) = post(format!("/v1/complaints/{id}/{command}"), token, body).await;
        assert_eq!(status, StatusCode::OK, "{command}: {answer}");
        assert_eq!(answer["status"], json!(expected), "{command}");
        let position = answer["position"].as_i64().unwrap();
        assert!(position > last_position, "{command}: positions must grow");
        last_position = position;
    }
    let detail: Value = client
        .get(format!("{base}/v1/complaints/{id}"))
        .bearer_auth(&resident)
        .header("Min-Position", last_position)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["rating"]["stars"], json!(5));
    assert_eq!(detail["status"], json!("closed"));

    // SIGTERM: the server finishes and exits successfully.
    let mut child = server.0.take().unwrap();
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        exited.is_some_and(|s| s.success()),
        "cms serve did not exit cleanly on SIGTERM: {exited:?}"
    );
}

#[test]
fn cms_token_refuses_an_all_hostels_token_for_a_resident() {
    let data = tempfile::tempdir().unwrap();
    let output = cms(data.path())
        .args([
            "token", "--role", "resident", "--sub", "res-a", "--hostel", "*",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot cover every hostel"));
}

fn run_ok(data_dir: &Path, args: &[&str]) -> String {
    let output = cms(data_dir).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn projections_status_reports_the_lag_and_rebuild_catches_up() {
    // Arrange: a log with one hostel's events and no projector run yet.
    let data = tempfile::tempdir().unwrap();
    run_ok(
        data.path(),
        &[
            "hostel",
            "register",
            "--id",
            "north-block",
            "--name",
            "North",
            "--wing",
            "A",
            "--room-pattern",
            "A[0-9]{3}",
            "--category",
            "plumbing:Plumbing",
        ],
    );

    // Act
    let before = run_ok(data.path(), &["projections", "status"]);
    let rebuilt = run_ok(data.path(), &["projections", "rebuild", "--all"]);
    let after = run_ok(data.path(), &["projections", "status"]);

    // Assert: one line per projection with position, head, lag and state.
    let row = |text: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.starts_with("complaint_list"))
            .unwrap();
        line.split_whitespace().map(str::to_owned).collect()
    };
    let before = row(&before);
    let head: i64 = before[2].parse().unwrap();
    assert!(head >= 1, "{before:?}");
    assert_eq!(before[1], "0");
    assert_eq!(before[3], head.to_string());
    assert_eq!(before[4], "running");
    assert!(
        rebuilt.contains(&format!("complaint_list: rebuilt {head} events")),
        "{rebuilt}"
    );
    assert!(rebuilt.contains("events/s"), "{rebuilt}");
    let after = row(&after);
    assert_eq!(
        after[1..],
        [
            head.to_string(),
            head.to_string(),
            "0".into(),
            "running".into()
        ]
    );
    let unknown = cms(data.path())
        .args(["projections", "rebuild", "nonsense"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn serve_renders_uploaded_photos_with_its_embedded_thumbnail_worker() {
    // Arrange: the embedded default (SQLite, photos in <data_dir>/objects, the worker inside serve).
    let data = tempfile::tempdir().unwrap();
    let mut child = cms(data.path())
        .args(["serve", "--demo", "--http-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(Some(child));
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    let base = lines
        .next()
        .unwrap()
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let chair = lines
        .find(|l| l.contains("(chair, resolved)"))
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_owned();
    let resident = token(data.path(), "resident", "res-asha");
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_fn(800, 600, |x, _| image::Rgb([(x % 256) as u8, 40, 90]))
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let client = reqwest::Client::new();

    // Act: upload, then wait for the worker.
    let form = reqwest::multipart::Form::new().text("role", "before").part(
        "file",
        reqwest::multipart::Part::bytes(jpeg.into_inner()).file_name("chair.jpg"),
    );
    let attached = client
        .post(format!("{base}/v1/complaints/{chair}/photos"))
        .bearer_auth(&resident)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(attached.status(), StatusCode::CREATED);
    let attached: Value = attached.json().await.unwrap();
    let photo = attached["photo"]["photo_id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let list: Value = client
            .get(format!("{base}/v1/complaints/{chair}/photos"))
            .bearer_auth(&resident)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if list["photos"][0]["status"] == "ready" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never rendered: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Assert: the thumbnail is served from the data folder.
    let thumb = client
        .get(format!(
            "{base}/v1/complaints/{chair}/photos/{photo}?size=thumb"
        ))
        .bearer_auth(&resident)
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(thumb.headers()["x-content-type-options"], "nosniff");
    let bytes = thumb.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 240));
    assert!(data
        .path()
        .join(format!("objects/photos/{chair}/{photo}/thumb-320.jpg"))
        .is_file());
}

#[test]
fn cms_photos_sweep_reports_what_it_found_and_refuses_a_short_grace_period() {
    // Arrange: the embedded default (SQLite, local folder) with one orphaned upload folder.
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().join(
        "objects/photos/0190f1c2-0000-7000-8000-000000000001/0190f1c2-0000-7000-8000-0000000000a1",
    );
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("upload"), b"never attached").unwrap();

    // Act
    let short = cms(data.path())
        .args(["photos", "sweep", "--older-than-hours", "1"])
        .output()
        .unwrap();
    let dry = run_ok(data.path(), &["photos", "sweep", "--dry-run"]);

    // Assert: the folder is recent (just written), so nothing would go, and it is still there.
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 2 hours"));
    assert!(
        dry.contains("photo folders: 1 (0 attached, 1 unattached but recent, 0 orphaned); would delete 0 objects"),
        "{dry}"
    );
    assert!(folder.join("upload").exists());
}
