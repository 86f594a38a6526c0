//! The exposition at `/metrics` (the separate `CMS_METRICS_ADDR` listener) after real traffic:
//! `promtool check metrics` accepts it, and the key series carry the expected labels and no ids.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use super::http::send;
use super::promtool;
use super::server::Server;

/// One sample line: name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap();
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().unwrap_or(f64::NAN),
            }
        })
        .collect()
}

/// The value of the one sample named `name` whose labels include `labels`; panics when absent.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .unwrap_or_else(|| {
            let near: Vec<&Sample> = samples.iter().filter(|s| s.name == name).collect();
            panic!("no {name} with {labels:?}; series of that name: {near:?}")
        })
        .value
}

#[test]
fn the_exposition_after_real_traffic_passes_promtool_and_has_labelled_series() {
    // Arrange: the demo server with its metrics listener, and tokens.
    let server = Server::start(&[("RUST_LOG", "warn")], true);
    let resident = server.token("resident", "res-asha", &[]);
    let forged = server.token(
        "resident",
        "res-asha",
        &[("CMS_JWT_SECRET", "another-secret-that-is-at-least-32-bytes")],
    );
    let bearer = format!("Bearer {resident}");
    let forged = format!("Bearer {forged}");
    let api = server.api;

    // Act: real traffic of every kind.
    assert_eq!(send(api, "GET", "/healthz", &[], None).status, 200);
    assert_eq!(send(api, "GET", "/readyz", &[], None).status, 200);
    let body = json!({
        "hostel": "north-block", "wing": "B", "room": "B210", "category": "plumbing",
        "severity": "urgent", "title": "No hot water", "description": "No hot water in the shower."
    })
    .to_string();
    let keyed = [
        ("Authorization", bearer.as_str()),
        ("Idempotency-Key", "metrics-file-1"),
    ];
    let filed = send(api, "POST", "/v1/complaints", &keyed, Some(&body));
    assert_eq!(filed.status, 201, "{}", filed.body);
    let complaint = filed.json()["complaint_id"].as_str().unwrap().to_owned();
    let again = send(api, "POST", "/v1/complaints", &keyed, Some(&body));
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // The complaint was just filed: confirming a fix that never happened is refused by the domain.
    let refused = send(
        api,
        "POST",
        &format!("/v1/complaints/{complaint}/confirm"),
        &[("Authorization", bearer.as_str())],
        None,
    );
    assert!((400..500).contains(&refused.status), "{}", refused.body);
    let path = format!("/v1/complaints/{complaint}");
    let position = filed.json()["position"].as_i64().unwrap().to_string();
    assert_eq!(
        send(
            api,
            "GET",
            &path,
            &[("Authorization", &bearer), ("Min-Position", &position)],
            None
        )
        .status,
        200
    );
    assert_eq!(
        send(api, "GET", &path, &[("Authorization", &forged)], None).status,
        401
    );
    let malformed = [("Authorization", "Bearer not-a-jwt")];
    assert_eq!(send(api, "GET", &path, &malformed, None).status, 401);
    assert_eq!(send(api, "GET", &path, &[], None).status, 401);
    assert_eq!(send(api, "GET", "/no/such/route", &[], None).status, 404);

    let text = server.scrape();

    // Assert: promtool accepts the exposition as it is served.
    let mut check = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool check metrics failed:\n{}{}\n--- exposition ---\n{text}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // ... and the key series are there with their labels.
    let samples = parse(&text);
    let http = "cms_http_requests_total";
    let filing = [
        ("route", "/v1/complaints"),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert_eq!(value(&samples, http, &filing), 2.0);
    let detail = [("route", "/v1/complaints/{id}"), ("method", "GET")];
    assert_eq!(
        value(&samples, http, &[detail[0], detail[1], ("status", "200")]),
        1.0
    );
    assert_eq!(
        value(&samples, http, &[detail[0], detail[1], ("status", "401")]),
        3.0
    );
    assert_eq!(
        value(&samples, http, &[("route", "unmatched"), ("status", "404")]),
        1.0
    );
    let latency = "cms_http_request_duration_seconds_bucket";
    for le in ["0.001", "2", "10", "+Inf"] {
        assert!(value(&samples, latency, &[detail[0], detail[1], ("le", le)]) <= 4.0);
    }
    assert_eq!(
        value(&samples, latency, &[detail[0], detail[1], ("le", "+Inf")]),
        4.0
    );
    // The scrape is served by another listener: nothing is in flight on the API.
    assert_eq!(value(&samples, "cms_http_requests_in_flight", &[]), 0.0);

    let commands = "cms_commands_total";
    let file = ("command", "FileComplaint");
    assert_eq!(value(&samples, commands, &[file, ("outcome", "ok")]), 1.0);
    assert_eq!(
        value(
            &samples,
            commands,
            &[file, ("outcome", "idempotent_replay")]
        ),
        1.0
    );
    assert!(samples
        .iter()
        .any(|s| s.name == commands
            && s.labels.get("outcome").map(String::as_str) == Some("rejected")));
    assert!(value(&samples, "cms_event_append_duration_seconds_count", &[]) >= 1.0);
    assert!(value(&samples, "cms_events_appended_total", &[]) >= 1.0);

    let rejections = "cms_auth_rejections_total";
    assert_eq!(
        value(&samples, rejections, &[("reason", "bad_signature")]),
        1.0
    );
    assert_eq!(value(&samples, rejections, &[("reason", "malformed")]), 1.0);
    assert_eq!(value(&samples, rejections, &[("reason", "missing")]), 1.0);

    for pool in ["write", "read"] {
        for state in ["idle", "in_use"] {
            let v = value(
                &samples,
                "cms_db_pool_connections",
                &[("pool", pool), ("state", state)],
            );
            assert!(v >= 0.0);
        }
        assert!(value(&samples, "cms_db_pool_max_connections", &[("pool", pool)]) >= 1.0);
        // Every acquire was timed (the demo runs on SQLite: appends on the writer, reads on the
        // readers). The waiting gauge is a sample: projectors may be queued for the one writer.
        assert!(value(&samples, "cms_db_pool_waiting", &[("pool", pool)]) >= 0.0);
        let waits = "cms_db_pool_acquire_duration_seconds_count";
        assert!(value(&samples, waits, &[("pool", pool)]) >= 1.0, "{pool}");
    }
    assert!(value(&samples, "cms_log_head_position", &[]) >= 1.0);
    for projection in ["complaint_list", "event_counts", "dashboard"] {
        let p = [("projection", projection)];
        assert!(value(&samples, "cms_projection_lag_events", &p) >= 0.0);
        assert!(value(&samples, "cms_projection_position", &p) >= 0.0);
        let running = [("projection", projection), ("state", "running")];
        assert_eq!(value(&samples, "cms_projection_state", &running), 1.0);
    }

    assert!(value(&samples, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(value(&samples, "process_cpu_seconds_total", &[]) > 0.0);
    assert!(value(&samples, "process_open_fds", &[]) >= 3.0);
    assert!(value(&samples, "cms_memory_limit_bytes", &[]) > 1e6);
    assert_eq!(value(&samples, "cms_build_info", &[]), 1.0);

    // No ids or user data in any label; the WebSocket, relay and photo metrics are only declared
    // (recorded by work built elsewhere), so they do not appear.
    for secret in [
        complaint.as_str(),
        "res-asha",
        "north-block",
        "No hot water",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into the metrics");
    }
    // The thumbnail worker runs inside `cms serve`: its queue depth is exported.
    assert!(text.contains("cms_thumbnail_queue_depth"), "{text}");
    // The in-process relay runs inside `cms serve`: its position is exported.
    assert!(text.contains("cms_relay_position"), "{text}");
    for placeholder in ["cms_ws_messages_", "cms_ws_resyncs_"] {
        assert!(
            !text.contains(placeholder),
            "{placeholder}* is exported but not recorded"
        );
    }
}
