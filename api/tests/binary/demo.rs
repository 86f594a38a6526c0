//! `cms serve --demo` as a newcomer meets it: no configuration (embedded SQLite in a fresh data
//! folder), tokens from `cms token`, a complete complaint lifecycle over HTTP, photos rendered by the
//! embedded thumbnail worker, and a clean exit on SIGTERM.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{cms_quiet, stdout_lines, terminate, url_in, Killed};

/// A token for the demo's hostel `north-block`.
fn token(data_dir: &Path, role: &str, sub: &str) -> String {
    crate::support::token(cms_quiet(data_dir), role, sub, "north-block")
}

#[tokio::test]
async fn the_demo_serves_a_complete_lifecycle_with_minted_tokens_and_stops_on_sigterm() {
    // Arrange: `cms serve --demo` on a free port, reading the address it prints.
    let data = tempfile::tempdir().unwrap();
    let mut child = cms_quiet(data.path())
        .args(["serve", "--demo", "--http-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The banner: the address line, three hint lines, then one line per demo complaint.
    let lines_rx = stdout_lines(&mut child);
    let mut server = Killed(child);
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
    let base = url_in(&banner[0]);
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
    terminate(server.0.id());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = server.0.try_wait().unwrap() {
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

#[tokio::test]
async fn serve_renders_uploaded_photos_with_its_embedded_thumbnail_worker() {
    // Arrange: the embedded default (SQLite, photos in <data_dir>/objects, the worker inside serve).
    let data = tempfile::tempdir().unwrap();
    let mut child = cms_quiet(data.path())
        .args(["serve", "--demo", "--http-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = stdout_lines(&mut child);
    let _server = Killed(child);
    let base = url_in(&lines.recv().unwrap());
    let chair = lines
        .iter()
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
