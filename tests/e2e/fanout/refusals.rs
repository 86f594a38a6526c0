//! Everything `/v1/ws` refuses, each with its stable code before the upgrade, and the limits on an
//! open socket (inbound size, bad messages, sockets per user).

use cms_eventstore::Db;
use std::sync::Arc;
use std::time::Duration;

use cms_domain::actor::Role;
use cms_tests::{Backend, TestDatabase};
use reqwest::StatusCode;
use serde_json::json;

use super::{file_in, options, register_hostel, staff, ticket, Ended, Ws, SOUTH};
use crate::support::{TestApp, HOSTEL};

#[tokio::test]
async fn websocket_requests_are_refused_with_clear_errors_before_the_upgrade() {
    // Arrange
    let db = Arc::new(TestDatabase::sqlite());
    let mut opts = options(None);
    opts.gateway.allowed_origins = vec!["https://dash.example".into()];
    let app = TestApp::spawn_on(db, Some(opts)).await;
    app.seed_hostel().await;
    register_hostel(&app, SOUTH).await;
    let asha = app.token(Role::Resident, "res-asha", &[HOSTEL]);
    let bos = file_in(&app, HOSTEL, "res-bo").await;
    let head = app.head().await;
    let refused = |query: String, headers: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            match Ws::try_open(app, &query, &headers).await {
                Ok(_) => panic!("{query} was accepted"),
                Err((status, body)) => (
                    status,
                    body["error"]["code"].as_str().unwrap_or("").to_owned(),
                ),
            }
        }
    };

    // Act + Assert
    let cases = [
        (
            "".to_owned(),
            vec![],
            StatusCode::UNAUTHORIZED,
            "ws_unauthenticated",
        ),
        (
            format!("token={asha}"),
            vec![],
            StatusCode::BAD_REQUEST,
            "token_in_query",
        ),
        (
            "ticket=nope".to_owned(),
            vec![],
            StatusCode::UNAUTHORIZED,
            "invalid_ticket",
        ),
        (
            "after=-1".to_owned(),
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "colour=red".to_owned(),
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "hostel=North_Wing".to_owned(),
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "complaint=42".to_owned(),
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            format!("ticket={}", ticket(&app, &asha).await),
            vec![("origin", "https://evil.example".to_owned())],
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
        ),
        (
            format!("ticket={}&complaint={bos}", ticket(&app, &asha).await),
            vec![],
            StatusCode::NOT_FOUND,
            "complaint_not_found",
        ),
        (
            format!("ticket={}&hostel={SOUTH}", ticket(&app, &staff(&app)).await),
            vec![],
            StatusCode::NOT_FOUND,
            "hostel_not_found",
        ),
        (
            format!("ticket={}&after={}", ticket(&app, &asha).await, head + 10),
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
    ];
    for (query, headers, status, code) in cases {
        let shown = query.clone();
        assert_eq!(
            refused(query, headers).await,
            (status, code.to_owned()),
            "{shown}"
        );
    }

    // A refused request leaves its ticket unused: the same ticket opens a socket once the request
    // asks only for what the user may see.
    let once = ticket(&app, &asha).await;
    assert_eq!(
        refused(format!("ticket={once}&complaint={bos}"), vec![]).await,
        (StatusCode::NOT_FOUND, "complaint_not_found".to_owned())
    );
    // An allowed origin passes; a ticket works once.
    let mut ws = Ws::try_open(
        &app,
        &format!("ticket={once}"),
        &[("origin", "https://dash.example")],
    )
    .await
    .unwrap_or_else(|(s, b)| panic!("{s} {b}"));
    ws.until_live().await;
    assert_eq!(
        refused(format!("ticket={once}"), vec![]).await,
        (StatusCode::UNAUTHORIZED, "invalid_ticket".to_owned())
    );

    // A plain GET with a good ticket is not a WebSocket request.
    let plain = app
        .send(app.client.get(format!(
            "{}/v1/ws?ticket={}",
            app.base,
            ticket(&app, &asha).await
        )))
        .await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
    assert_eq!(plain.code(), "websocket_upgrade_required");

    // A ticket needs a valid token.
    let no_token = app.post("/v1/ws/ticket", "not-a-token", json!({})).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sockets_per_user_and_inbound_messages_are_bounded() {
    // Arrange
    let db = Arc::new(TestDatabase::new(Backend::Sqlite).await);
    let mut opts = options(None);
    opts.gateway.max_sockets_per_user = 2;
    opts.gateway.max_message_bytes = 512;
    let app = TestApp::spawn_on(db, Some(opts)).await;
    app.seed_hostel().await;
    let token = staff(&app);

    // Act + Assert: a third socket for the same user is refused.
    let mut one = Ws::open(&app, &token, "").await;
    let mut two = Ws::open(&app, &token, "").await;
    one.until_live().await;
    two.until_live().await;
    refused_for_the_limit(&app, &token).await;

    // A message it cannot use gets an error; subscribing to a hostel it may see works.
    one.send(json!({ "op": "dance" })).await;
    let error = one.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["code"], "invalid_message");
    one.send(json!({ "op": "subscribe", "hostel": SOUTH }))
        .await;
    assert_eq!(
        one.next(Duration::from_secs(5)).await.unwrap()["code"],
        "hostel_not_found"
    );
    one.send(json!({ "op": "subscribe", "hostel": HOSTEL }))
        .await;
    let subscribed = one.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(subscribed["type"], "subscribed");
    assert_eq!(subscribed["hostels"], json!([HOSTEL]));

    // An oversized message closes the socket (1009: message too big) and frees the slot.
    two.send(json!({ "op": "subscribe", "hostel": "x".repeat(600) }))
        .await;
    let end = loop {
        match two.next(Duration::from_secs(5)).await {
            Ok(_) => {}
            Err(end) => break end,
        }
    };
    assert!(matches!(end, Ended::Closed(_) | Ended::Broken), "{end:?}");
    // The closed socket's slot is released.
    eventually_open(&app, &token).await;
}

#[tokio::test]
async fn an_instance_without_fan_out_answers_503() {
    let app = TestApp::spawn_without_projectors(Backend::Sqlite).await;
    let answer = app.post("/v1/ws/ticket", &app.admin(), json!({})).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.code(), "fanout_unavailable");
}

/// Polls `open` until it gives a socket (up to 5 s).
async fn eventually_open(app: &TestApp, token: &str) -> Ws {
    for _ in 0..100 {
        if let Ok(ws) =
            Ws::try_open(app, &format!("ticket={}", ticket(app, token).await), &[]).await
        {
            return ws;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no socket slot came free within 5 s");
}

async fn refused_for_the_limit(app: &TestApp, token: &str) {
    match Ws::try_open(app, &format!("ticket={}", ticket(app, token).await), &[]).await {
        Err((status, body)) => {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
            assert_eq!(body["error"]["code"], "too_many_sockets");
        }
        Ok(_) => panic!("a socket over the limit was accepted"),
    }
}

async fn the_sockets_per_user_limit_holds_across_instances_and_forgets_a_dead_one(
    backend: Backend,
) {
    // Arrange: two instances on one database, two sockets per user, sessions expiring after 2 s
    // without a heartbeat.
    let db = Arc::new(TestDatabase::new(backend).await);
    let mut opts = options(None);
    opts.gateway.max_sockets_per_user = 2;
    opts.gateway.session_ttl = Duration::from_secs(2);
    let a = TestApp::spawn_on(db.clone(), Some(opts.clone())).await;
    a.seed_hostel().await;
    let b = TestApp::spawn_on(db.clone(), Some(opts)).await;
    let token = staff(&a);

    // Act + Assert: one socket on each instance; a third is refused on both, although each
    // instance alone has only one.
    let mut one = Ws::open(&a, &token, "").await;
    let mut two = Ws::open(&b, &token, "").await;
    one.until_live().await;
    two.until_live().await;
    refused_for_the_limit(&a, &token).await;
    refused_for_the_limit(&b, &token).await;
    // The user's key in the sessions table, read while their sockets are open.
    let key: String = match a.store.db() {
        Db::Postgres(s) => sqlx::query_scalar("SELECT user_key FROM ws_sessions LIMIT 1")
            .fetch_one(s)
            .await
            .unwrap(),
        Db::Sqlite { write: s, .. } => {
            sqlx::query_scalar("SELECT user_key FROM ws_sessions LIMIT 1")
                .fetch_one(s)
                .await
                .unwrap()
        }
    };

    // ... closing the one on `a` frees a slot on `b`.
    one.close().await;
    let three = eventually_open(&b, &token).await;
    refused_for_the_limit(&a, &token).await;
    two.close().await;
    three.close().await;

    // ... and an instance that died (its two rows never extended) stops counting after the TTL.
    let expires_at = chrono::Utc::now().timestamp_millis() + 1_500;
    for n in 0..2 {
        let insert = "INSERT INTO ws_sessions (session_id, user_key, instance_id, expires_at) \
                      VALUES ($1, $2, 'dead-instance', $3)";
        match a.store.db() {
            Db::Postgres(s) => {
                sqlx::query(insert)
                    .bind(format!("dead-{n}"))
                    .bind(&key)
                    .bind(expires_at)
                    .execute(s)
                    .await
                    .unwrap();
            }
            Db::Sqlite { write: s, .. } => {
                sqlx::query(insert)
                    .bind(format!("dead-{n}"))
                    .bind(&key)
                    .bind(expires_at)
                    .execute(s)
                    .await
                    .unwrap();
            }
        }
    }
    refused_for_the_limit(&a, &token).await;
    let revived = eventually_open(&a, &token).await;
    revived.close().await;
}

on_both_backends!(the_sockets_per_user_limit_holds_across_instances_and_forgets_a_dead_one);
