//! SIGTERM: the server stops accepting at once, lets a request it has already received finish,
//! stops the projectors after their batch and exits 0, all within the configured grace period.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use super::http::{read_reply, request_head};
use super::server::Server;

/// Opens a request to file a complaint and sends all but the last bytes of its body, then waits
/// until the server counts it in flight (its handler is waiting for the rest of the body).
fn half_sent_request(server: &Server, token: &str, key: &str) -> (TcpStream, Vec<u8>) {
    let body = json!({
        "hostel": "north-block", "wing": "B", "room": "B211", "category": "plumbing",
        "severity": "high", "title": "Dripping tap", "description": "The tap drips all night."
    })
    .to_string();
    let bearer = format!("Bearer {token}");
    let head = request_head(
        "POST",
        "/v1/complaints",
        &[("Authorization", &bearer), ("Idempotency-Key", key)],
        Some(body.len()),
    );
    let mut stream = TcpStream::connect(server.api).unwrap();
    let (first, rest) = body.as_bytes().split_at(body.len() - 10);
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = server.scrape();
        if text.lines().any(|l| l == "cms_http_requests_in_flight 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the request never got in flight:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (stream, rest.to_vec())
}

#[test]
fn sigterm_refuses_new_connections_lets_the_in_flight_request_finish_and_exits_zero() {
    // Arrange: a request the server has received but whose body is not complete yet.
    let mut server = Server::start(
        &[("RUST_LOG", "info"), ("CMS_SHUTDOWN_TIMEOUT_SECS", "20")],
        true,
    );
    let token = server.token("resident", "res-asha", &[]);
    let (mut in_flight, rest) = half_sent_request(&server, &token, "shutdown-in-flight");

    // Act: SIGTERM, then (once the server has begun to shut down) the rest of the body.
    server.terminate();
    server.wait_for_stderr("shutting down", Duration::from_secs(10));
    // New connections are refused as soon as the signal is handled.
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(server.api).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    in_flight.write_all(&rest).unwrap();
    let reply = read_reply(&mut in_flight);
    let (status, took) = server.wait_exit(Duration::from_secs(20));

    // Assert: the in-flight command committed and was answered; the process exited cleanly and
    // in order (requests drained, then projectors stopped after their batch).
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.json()["position"].as_i64().unwrap() >= 1);
    assert!(
        status.success(),
        "exit {status:?}; stderr:\n{}",
        server.stderr()
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
    let stderr = server.stderr();
    let drained = stderr.find("in-flight requests finished").expect(&stderr);
    let projectors = stderr
        .find("projectors stopped after their current batch")
        .expect(&stderr);
    assert!(drained < projectors, "{stderr}");
    assert!(stderr.contains("shutdown complete"), "{stderr}");
}

#[test]
fn sigterm_with_a_request_that_never_finishes_exits_after_the_grace_period() {
    // Arrange: a grace period of 2 s and a request whose body never completes.
    let mut server = Server::start(
        &[("RUST_LOG", "info"), ("CMS_SHUTDOWN_TIMEOUT_SECS", "2")],
        true,
    );
    let token = server.token("resident", "res-asha", &[]);
    let (_stalled, _never_sent) = half_sent_request(&server, &token, "shutdown-stalled");

    // Act
    server.terminate();
    let (status, took) = server.wait_exit(Duration::from_secs(30));

    // Assert: it waited for the request about the grace period, no more, then exited cleanly.
    assert!(
        status.success(),
        "exit {status:?}; stderr:\n{}",
        server.stderr()
    );
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        server
            .stderr()
            .contains("still in flight after the grace period"),
        "{}",
        server.stderr()
    );
}
