//! Two real `cms serve` processes on one PostgreSQL database and one nats-server: a command sent
//! to one reaches a WebSocket client of the other, and still does after the first process is
//! killed (the other's relay takes the lead). Also: `cms relay` without NATS refuses clearly.
//! PostgreSQL is `CMS_TEST_DATABASE_URL` (default 127.0.0.1:5432) and the server binary
//! `CMS_TEST_NATS_SERVER` (default `nats-server` on PATH), as scripts/test.sh provides them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, Executor};

use crate::support::{cms_quiet, free_port, stdout_lines, terminate, url_in, Killed};

const SECRET: &str = "fan-out-binary-test-secret-of-32-bytes!";

/// `cms` with a clean environment, quiet logs and the test's HS256 key.
fn cms(data_dir: &Path) -> Command {
    let mut command = cms_quiet(data_dir);
    command.env("CMS_JWT_SECRET", SECRET);
    command
}

fn nats_server(store: &Path) -> (Killed, String) {
    let binary = std::env::var("CMS_TEST_NATS_SERVER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "nats-server".into());
    let port = free_port();
    let child = Killed(
        Command::new(&binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {binary} ({e}); run scripts/test.sh or set CMS_TEST_NATS_SERVER"
                )
            }),
    );
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, format!("nats://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nats-server did not listen on {port}");
}

/// A fresh PostgreSQL database, dropped at the end.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn create() -> Self {
        let admin = std::env::var("CMS_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("cms_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        let url = format!("{base}/{name}");
        Self { admin, name, url }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            });
        })
        .join();
    }
}

/// Starts `cms serve` and returns it with its base URL (from the first banner line).
fn serve(data_dir: &Path, database: &str, nats: &str) -> (Killed, String) {
    let mut child = cms(data_dir)
        .args(["serve", "--http-addr", "127.0.0.1:0"])
        .env("CMS_DATABASE_URL", database)
        .env("CMS_NATS_URL", nats)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = stdout_lines(&mut child);
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("cms serve printed no banner");
    assert!(first.contains("nats bus, relay"), "{first}");
    (Killed(child), url_in(&first))
}

fn token(data_dir: &Path, role: &str, sub: &str, hostel: &str) -> String {
    crate::support::token(cms(data_dir), role, sub, hostel)
}

async fn post(base: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The next event of `type` on the socket (skipping others), within 20 s.
async fn next_of_type<S>(ws: &mut S, wanted: &str) -> Value
where
    S: futures::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {wanted} within 20 s"))
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == wanted {
                return value;
            }
        }
    }
}

#[tokio::test]
async fn two_cms_serve_processes_deliver_a_command_to_a_websocket_on_the_other_even_after_one_dies_and_close_sockets_on_sigterm(
) {
    // Arrange: one database, one nats-server, two `cms serve` processes.
    let dirs = [
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    ];
    let (_nats, nats_url) = nats_server(dirs[2].path());
    let db = Database::create().await;
    let (a, base_a) = serve(dirs[0].path(), &db.url, &nats_url);
    let (mut b, base_b) = serve(dirs[1].path(), &db.url, &nats_url);
    let admin = token(dirs[0].path(), "admin", "admin", "*");
    let resident = token(dirs[0].path(), "resident", "res-asha", "north");
    let (status, body) = post(
        &base_a,
        "/v1/hostels",
        &admin,
        json!({"id": "north", "name": "North", "wings": ["B"], "room_pattern": "B[0-9]{3}",
               "categories": [{"id": "plumbing", "name": "Plumbing"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, ticket) = post(&base_b, "/v1/ws/ticket", &admin, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ticket}");
    let url = format!(
        "{}/v1/ws?ticket={}",
        base_b.replacen("http://", "ws://", 1),
        ticket["ticket"].as_str().unwrap()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    next_of_type(&mut ws, "live").await;
    let complaint = json!({"hostel": "north", "wing": "B", "room": "B204", "category": "plumbing",
                           "severity": "high", "title": "Leaking tap",
                           "description": "The cold tap drips all night long."});

    // Act + Assert: filed on A, seen on B.
    let (status, filed) = post(&base_a, "/v1/complaints", &resident, complaint.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    let event = next_of_type(&mut ws, "ComplaintFiled").await;
    assert_eq!(event["complaint_id"], filed["complaint_id"]);
    assert_eq!(event["position"], filed["position"]);

    // A dies; a command to B still reaches B's socket (B's relay takes the lead if A had it).
    drop(a);
    let mut second = complaint;
    second["room"] = json!("B205");
    let (status, filed) = post(&base_b, "/v1/complaints", &resident, second).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    let event = next_of_type(&mut ws, "ComplaintFiled").await;
    assert_eq!(event["complaint_id"], filed["complaint_id"]);
    let _ = base_a;

    // B gets SIGTERM: its socket is closed with 1001 (going away) and B exits 0 well within the grace.
    terminate(b.0.id());
    let close = loop {
        let message = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("no close within 20 s of SIGTERM");
        match message {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                break frame.map(|f| u16::from(f.code));
            }
            Some(Ok(_)) => {}
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(close, Some(1001));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = b.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "cms serve still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn cms_relay_without_nats_refuses_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let output = cms(data.path()).arg("relay").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("needs CMS_NATS_URL"), "{stderr}");
}
