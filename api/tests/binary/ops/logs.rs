//! What reaches the logs: with `CMS_LOG_FORMAT=json` at debug level, every line is a JSON object, a
//! command's lines carry `complaint.id`, `hostel.id`, `user.id` and `event.type`, and no secret,
//! token, complaint text or search text is ever written.

use std::time::Duration;

use serde_json::{json, Value};

use super::http::send;
use super::server::Server;

const PLANTED_SECRET: &str = "planted-jwt-secret-0123456789-abcdefghij";
const PLANTED_TITLE: &str = "Planted title 7f3a";
const PLANTED_TEXT: &str = "planted complaint text 9c2e1b, never to be logged";
const PLANTED_SEARCH: &str = "plantedsearch5d8a";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn json_logs_carry_command_fields_and_never_a_token_a_secret_or_complaint_text() {
    // Arrange: JSON logs at debug level and a configured (planted) HS256 secret.
    let env = [
        ("RUST_LOG", "debug"),
        ("CMS_LOG_FORMAT", "json"),
        ("CMS_JWT_SECRET", PLANTED_SECRET),
    ];
    let mut server = Server::start(&env, false);
    let token = server.token(
        "resident",
        "res-asha",
        &[("CMS_JWT_SECRET", PLANTED_SECRET)],
    );
    let forged = server.token(
        "resident",
        "res-asha",
        &[("CMS_JWT_SECRET", "some-other-secret-of-more-than-32-bytes")],
    );
    let bearer = format!("Bearer {token}");
    let api = server.api;

    // Act: a command with text, a search, a refused token, then a clean stop.
    let body = json!({
        "hostel": "north-block", "wing": "B", "room": "B212", "category": "plumbing",
        "severity": "high", "title": PLANTED_TITLE, "description": PLANTED_TEXT
    })
    .to_string();
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Idempotency-Key", "logs-1"),
        ("traceparent", TRACEPARENT),
    ];
    let filed = send(api, "POST", "/v1/complaints", &headers, Some(&body));
    assert_eq!(filed.status, 201, "{}", filed.body);
    assert!(filed.header("x-request-id").is_some());
    let complaint = filed.json()["complaint_id"].as_str().unwrap().to_owned();
    let search = format!("/v1/complaints?q={PLANTED_SEARCH}");
    let found = send(api, "GET", &search, &[("Authorization", &bearer)], None);
    assert_eq!(found.status, 200, "{}", found.body);
    let forged_bearer = format!("Bearer {forged}");
    let refused = send(
        api,
        "GET",
        "/v1/complaints",
        &[("Authorization", &forged_bearer)],
        None,
    );
    assert_eq!(refused.status, 401);
    assert!(refused.header("x-request-id").is_some());
    server.terminate();
    let (status, _) = server.wait_exit(Duration::from_secs(30));
    assert!(status.success());
    let log = server.stderr();

    // Assert: nothing planted reached the log ...
    let signature = token.rsplit('.').next().unwrap();
    let forged_signature = forged.rsplit('.').next().unwrap();
    for planted in [
        PLANTED_SECRET,
        token.as_str(),
        signature,
        forged.as_str(),
        forged_signature,
        PLANTED_TITLE,
        PLANTED_TEXT,
        PLANTED_SEARCH,
    ] {
        assert!(
            !log.contains(planted),
            "{planted:?} reached the log:\n{log}"
        );
    }
    // ... every line is a JSON object ...
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect();
    assert!(lines.len() > 5, "{log}");
    // ... the command's line carries the structured fields and the caller's trace ...
    let committed = lines
        .iter()
        .find(|l| {
            l["span"]["name"] == "command"
                && l["span"]["complaint.id"] == complaint.as_str()
                && l["fields"]["message"] == "command ok"
        })
        .unwrap_or_else(|| panic!("no command line for {complaint}:\n{log}"));
    let span = &committed["span"];
    assert_eq!(span["hostel.id"], "north-block", "{committed}");
    assert_eq!(span["user.id"], "res-asha", "{committed}");
    assert_eq!(span["command"], "FileComplaint", "{committed}");
    assert_eq!(span["trace.parent"], TRACEPARENT, "{committed}");
    assert_eq!(span["event.type"], "ComplaintFiled", "{committed}");
    // ... the request span names the request id and trace id, and the refusal says why.
    let http = lines
        .iter()
        .flat_map(|l| l["spans"].as_array().cloned().unwrap_or_default())
        .find(|s| s["name"] == "http" && s["trace.id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        .unwrap_or_else(|| panic!("no http span with the trace id:\n{log}"));
    assert!(!http["request.id"].as_str().unwrap().is_empty(), "{http}");
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["auth.reason"] == "bad_signature"),
        "{log}"
    );
}
