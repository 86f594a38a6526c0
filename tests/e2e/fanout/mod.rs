//! Real-time fan-out end to end: the relay from the log to the bus (in process and JetStream on a
//! private nats-server), the WebSocket gateway, resume, scoping and the failure cases (relay and
//! NATS killed mid-burst, slow clients). Helpers live here; the tests in the submodules.

mod delivery;
mod durability;
mod refusals;
mod resume;
mod scoping;

use std::collections::BTreeSet;
use std::time::Duration;

use cms_api::fanout::{FanoutOptions, GatewayConfig, NatsConfig, RelayConfig};
use cms_domain::actor::Role;
use cms_tests::nats::NatsServer;
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{file_body, TestApp, HOSTEL};

/// The second hostel of the scoping tests.
pub const SOUTH: &str = "south";

/// Fan-out options for tests: fast polling, short retries, a 2 s send timeout.
pub fn options(nats: Option<&NatsServer>) -> FanoutOptions {
    FanoutOptions {
        nats: nats.map(|server| NatsConfig {
            timeout: Duration::from_secs(2),
            ..NatsConfig::new(server.url())
        }),
        relay: true,
        relay_config: RelayConfig {
            batch_size: 500,
            poll_interval: Duration::from_millis(10),
            retry_after: Duration::from_millis(100),
        },
        gateway: GatewayConfig {
            send_timeout: Duration::from_secs(2),
            ..GatewayConfig::default()
        },
    }
}

/// `ws://host:port` of an app.
fn ws_base(app: &TestApp) -> String {
    app.base.replacen("http://", "ws://", 1)
}

/// A ticket for `token`.
pub async fn ticket(app: &TestApp, token: &str) -> String {
    let answer = app.post("/v1/ws/ticket", token, json!({})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["ticket"].as_str().unwrap().to_owned()
}

/// A WebSocket client that reads JSON messages.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server said when it closed, or how reading ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Closed(Option<u16>),
    TimedOut,
    Broken,
}

impl Ws {
    /// Opens `/v1/ws?ticket=..&<query>` as the holder of `token`.
    pub async fn open(app: &TestApp, token: &str, query: &str) -> Ws {
        let ticket = ticket(app, token).await;
        let sep = if query.is_empty() { "" } else { "&" };
        let url = format!("{}/v1/ws?ticket={ticket}{sep}{query}", ws_base(app));
        let (stream, response) = tokio_tungstenite::connect_async(url).await.unwrap();
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        Ws { stream }
    }

    /// Tries to open `/v1/ws?<query>` with extra headers; the refusal's status and JSON body.
    pub async fn try_open(
        app: &TestApp,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Ws, (StatusCode, Value)> {
        let mut request = format!("{}/v1/ws?{query}", ws_base(app))
            .into_client_request()
            .unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Ws { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
                let body = response
                    .body()
                    .as_ref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                Err((status, body))
            }
            Err(other) => panic!("WebSocket connect failed: {other}"),
        }
    }

    /// Opens a socket over a TCP connection with a tiny receive buffer (for never-reading clients).
    pub async fn open_with_small_buffer(app: &TestApp, token: &str) -> Ws {
        let ticket = ticket(app, token).await;
        let address: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let tcp = socket.connect(address).await.unwrap();
        let url = format!("{}/v1/ws?ticket={ticket}", ws_base(app));
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .unwrap();
        Ws { stream }
    }

    /// The next JSON message within `wait`, or how the socket ended.
    pub async fn next(&mut self, wait: Duration) -> Result<Value, Ended> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .map_err(|_| Ended::TimedOut)?;
            match message {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return Err(Ended::Closed(frame.map(|f| u16::from(f.code))))
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Err(Ended::Broken),
            }
        }
    }

    /// Messages up to and including `{"type":"live"}`; returns the events before it and its position.
    pub async fn until_live(&mut self) -> (Vec<Value>, i64) {
        let mut events = Vec::new();
        loop {
            let message = self.next(Duration::from_secs(15)).await.unwrap();
            if message["type"] == "live" {
                return (events, message["position"].as_i64().unwrap());
            }
            events.push(message);
        }
    }

    /// Events until one at `position` or later arrives (or `wait` passes without progress).
    pub async fn events_through(&mut self, position: i64, wait: Duration) -> Vec<Value> {
        let mut events = Vec::new();
        while events
            .last()
            .and_then(|e: &Value| e["position"].as_i64())
            .is_none_or(|p| p < position)
        {
            match self.next(wait).await {
                Ok(message) if message["position"].is_i64() && message["type"] != "live" => {
                    events.push(message)
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        events
    }

    /// Sends a JSON text message.
    pub async fn send(&mut self, value: Value) {
        self.stream
            .send(Message::Text(value.to_string().into()))
            .await
            .unwrap();
    }

    /// Closes the socket from the client side.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// Positions of `events`, checking there is no duplicate.
pub fn positions(events: &[Value]) -> Vec<i64> {
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    let unique: BTreeSet<i64> = positions.iter().copied().collect();
    assert_eq!(unique.len(), positions.len(), "duplicates in {positions:?}");
    positions
}

/// Registers hostel `id` (wings A and B, plumbing) as admin.
pub async fn register_hostel(app: &TestApp, id: &str) {
    let answer = app
        .post(
            "/v1/hostels",
            &app.admin(),
            json!({
                "id": id, "name": id, "wings": ["A", "B"], "room_pattern": "[AB][0-9]{3}",
                "categories": [{"id": "plumbing", "name": "Plumbing"}]
            }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
}

/// Files a complaint in `hostel` as `resident`; returns its id.
pub async fn file_in(app: &TestApp, hostel: &str, resident: &str) -> String {
    let token = app.token(Role::Resident, resident, &[hostel]);
    let mut body = file_body();
    body["hostel"] = json!(hostel);
    let answer = app.post("/v1/complaints", &token, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body["complaint_id"].as_str().unwrap().to_owned()
}

/// Adds a comment as admin; returns the position.
pub async fn comment(app: &TestApp, complaint: &str, visibility: &str, body: &str) -> i64 {
    let answer = app
        .post(
            &format!("/v1/complaints/{complaint}/comments"),
            &app.admin(),
            json!({ "body": body, "visibility": visibility }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.position()
}

/// Waits until `condition` holds, checking every 20 ms, for at most `wait`.
pub async fn eventually<F, Fut>(wait: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + wait;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {wait:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A hostel-scoped staff token for `north`.
pub fn staff(app: &TestApp) -> String {
    app.token(Role::Staff, "staff-p", &[HOSTEL])
}
