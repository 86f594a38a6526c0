//! The write path's guarantees over HTTP: concurrent commands on one complaint lose no update and
//! keep sequences contiguous; a command repeated with its `Idempotency-Key` takes effect once; bad
//! input is refused with a stable code and writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use cms_api::auth::TokenMinter;
use cms_domain::actor::Role;
use cms_tests::Backend;
use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{file_body, TestApp, AUDIENCE, BODY_LIMIT, HOSTEL, ISSUER, SECRET};

async fn fifty_concurrent_commands_on_one_complaint_lose_no_update(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let id = app.file("res-a").await;
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);

    // Act: 50 comments at once, on the same aggregate.
    let answers: Vec<_> = futures::future::join_all((0..50).map(|i| {
        let (app, warden, id) = (&app, &warden, &id);
        async move {
            app.post(
                &format!("/v1/complaints/{id}/comments"),
                warden,
                json!({ "body": format!("note {i}"), "visibility": "internal" }),
            )
            .await
        }
    }))
    .await;

    // Assert
    let accepted: Vec<_> = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .collect();
    for answer in &answers {
        assert!(
            answer.status == StatusCode::OK
                || (answer.status == StatusCode::CONFLICT
                    && answer.code() == "concurrent_modification"),
            "{backend:?}: unexpected answer {:?} {:?}",
            answer.status,
            answer.body
        );
    }
    let events = app.store.load("Complaint", &id).await.unwrap();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(
        sequences,
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "{backend:?}"
    );
    let comments: BTreeSet<String> = events
        .iter()
        .filter(|e| e.event_type == "CommentAdded")
        .map(|e| {
            e.payload["CommentAdded"]["comment_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let acknowledged: BTreeSet<String> = accepted
        .iter()
        .map(|a| a.body["comment_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        comments, acknowledged,
        "{backend:?}: a lost or unacknowledged update"
    );
    assert!(!accepted.is_empty(), "{backend:?}: every command lost");
    let by_position: BTreeMap<i64, &str> = events
        .iter()
        .map(|e| (e.global_position, e.event_type.as_str()))
        .collect();
    for answer in &accepted {
        assert_eq!(
            by_position.get(&answer.position()),
            Some(&"CommentAdded"),
            "{backend:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_fifty_concurrent_commands_on_one_complaint_lose_no_update() {
    fifty_concurrent_commands_on_one_complaint_lose_no_update(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_fifty_concurrent_commands_on_one_complaint_lose_no_update() {
    fifty_concurrent_commands_on_one_complaint_lose_no_update(Backend::Sqlite).await;
}

async fn a_thousand_commands_sent_twice_with_one_key_take_effect_once(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let resident = app.token(Role::Resident, "res-a", &[HOSTEL]);
    let before = app.head().await;

    // Act: each key sent twice at the same time.
    let pairs: Vec<_> = stream::iter(0..1_000)
        .map(|i| {
            let (app, resident) = (&app, &resident);
            async move {
                let key = format!("file-{i}");
                let mut body = file_body();
                body["title"] = json!(format!("Leak number {i}"));
                let (first, second) = tokio::join!(
                    app.post_keyed("/v1/complaints", resident, &key, body.clone()),
                    app.post_keyed("/v1/complaints", resident, &key, body),
                );
                (first, second)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    // Assert
    let mut complaints = BTreeSet::new();
    for (first, second) in &pairs {
        assert_eq!(
            first.status,
            StatusCode::CREATED,
            "{backend:?}: {:?}",
            first.body
        );
        assert_eq!(
            second.status,
            StatusCode::CREATED,
            "{backend:?}: {:?}",
            second.body
        );
        assert_eq!(
            first.body, second.body,
            "{backend:?}: a repeat answered differently"
        );
        let replays = [first, second]
            .iter()
            .filter(|a| a.headers.get("idempotent-replayed").is_some())
            .count();
        assert_eq!(
            replays, 1,
            "{backend:?}: exactly one of the pair is a replay"
        );
        complaints.insert(first.body["complaint_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(complaints.len(), 1_000, "{backend:?}");
    let log = app.store.read_log(before, 10_000).await.unwrap();
    assert_eq!(
        log.len(),
        1_000,
        "{backend:?}: exactly one event set per key"
    );
    let filed: BTreeSet<String> = log.iter().map(|e| e.aggregate_id.clone()).collect();
    assert_eq!(filed, complaints, "{backend:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_thousand_commands_sent_twice_with_one_key_take_effect_once() {
    a_thousand_commands_sent_twice_with_one_key_take_effect_once(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_a_thousand_commands_sent_twice_with_one_key_take_effect_once() {
    a_thousand_commands_sent_twice_with_one_key_take_effect_once(Backend::Sqlite).await;
}

async fn a_key_reused_with_another_body_is_refused_and_keys_are_per_user(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let alice = app.token(Role::Resident, "res-a", &[HOSTEL]);
    let bob = app.token(Role::Resident, "res-b", &[HOSTEL]);
    let first = app
        .post_keyed("/v1/complaints", &alice, "k-1", file_body())
        .await;
    let head = app.head().await;

    // Act
    let mut other = file_body();
    other["room"] = json!("A101");
    let reused = app.post_keyed("/v1/complaints", &alice, "k-1", other).await;
    let bobs = app
        .post_keyed("/v1/complaints", &bob, "k-1", file_body())
        .await;

    // Assert
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(
        reused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{backend:?}"
    );
    assert_eq!(reused.code(), "idempotency_key_reused");
    assert_eq!(
        bobs.status,
        StatusCode::CREATED,
        "{backend:?}: keys must be per user"
    );
    assert_ne!(bobs.body["complaint_id"], first.body["complaint_id"]);
    assert_eq!(
        app.head().await,
        head + 1,
        "{backend:?}: only Bob's command was written"
    );
}

on_both_backends!(a_key_reused_with_another_body_is_refused_and_keys_are_per_user);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token_with(secret: &[u8], claims: Value) -> String {
    TokenMinter::hs256(secret, ISSUER, AUDIENCE)
        .unwrap()
        .sign(&claims)
        .unwrap()
}

async fn bad_input_gets_a_stable_code_and_writes_nothing(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let id = app.file("res-a").await;
    let staff = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    let resident = app.token(Role::Resident, "res-a", &[HOSTEL]);
    let head = app.head().await;
    let claims = |exp: u64| {
        json!({ "sub": "res-a", "role": "resident", "hostels": [HOSTEL], "iss": ISSUER, "aud": AUDIENCE,
                "iat": now() - 100, "exp": exp })
    };
    let expired = token_with(SECRET, claims(now() - 60));
    let forged = token_with(b"another-secret-another-secret-00", claims(now() + 600));
    let triage = format!("{}/v1/complaints/{id}/triage", app.base);
    let post_raw = |token: &str, content_type: &str, body: String| {
        app.client
            .post(format!("{}/v1/complaints", app.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
    };
    let mut unknown_field = file_body();
    unknown_field["colour"] = json!("red");
    let mut bad_room = file_body();
    bad_room["room"] = json!("Z999");
    let mut bad_category = file_body();
    bad_category["category"] = json!("gardening");
    let mut bad_severity = file_body();
    bad_severity["severity"] = json!("apocalyptic");
    let oversize = json!({ "description": "x".repeat(BODY_LIMIT * 2) }).to_string();

    // Act
    let cases = vec![
        (
            "malformed json",
            app.send(post_raw(
                &resident,
                "application/json",
                "{\"hostel\":".into(),
            ))
            .await,
            400,
            "malformed_json",
        ),
        (
            "unknown field",
            app.post("/v1/complaints", &resident, unknown_field).await,
            422,
            "invalid_body",
        ),
        (
            "bad severity",
            app.post("/v1/complaints", &resident, bad_severity).await,
            422,
            "invalid_body",
        ),
        (
            "no content type",
            app.send(post_raw(&resident, "text/plain", file_body().to_string()))
                .await,
            415,
            "unsupported_media_type",
        ),
        (
            "oversize body",
            app.send(post_raw(&resident, "application/json", oversize))
                .await,
            413,
            "payload_too_large",
        ),
        (
            "bad id in path",
            app.post(
                "/v1/complaints/not-a-uuid/triage",
                &staff,
                json!({"priority": "P1"}),
            )
            .await,
            400,
            "invalid_path",
        ),
        (
            "bad priority",
            app.send(
                app.client
                    .post(&triage)
                    .bearer_auth(&staff)
                    .json(&json!({"priority": "P9"})),
            )
            .await,
            422,
            "invalid_body",
        ),
        (
            "invalid room",
            app.post("/v1/complaints", &resident, bad_room).await,
            422,
            "invalid_room",
        ),
        (
            "unknown category",
            app.post("/v1/complaints", &resident, bad_category).await,
            422,
            "unknown_category",
        ),
        (
            "no token",
            app.send(
                app.client
                    .post(format!("{}/v1/complaints", app.base))
                    .json(&file_body()),
            )
            .await,
            401,
            "token_missing",
        ),
        (
            "expired token",
            app.post("/v1/complaints", &expired, file_body()).await,
            401,
            "token_expired",
        ),
        (
            "wrongly signed token",
            app.post("/v1/complaints", &forged, file_body()).await,
            401,
            "token_invalid",
        ),
        (
            "garbage token",
            app.post("/v1/complaints", "not.a.jwt", file_body()).await,
            401,
            "token_invalid",
        ),
        (
            "oversize idempotency key",
            app.post_keyed("/v1/complaints", &resident, &"k".repeat(300), file_body())
                .await,
            400,
            "invalid_idempotency_key",
        ),
        (
            "unknown route",
            app.get("/v1/nothing-here", &resident).await,
            404,
            "route_not_found",
        ),
    ];

    // Assert
    for (name, answer, status, code) in cases {
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{backend:?} {name}: {:?}",
            answer.body
        );
        assert_eq!(answer.code(), code, "{backend:?} {name}: {:?}", answer.body);
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{backend:?} {name}: no message"
        );
    }
    assert_eq!(
        app.head().await,
        head,
        "{backend:?}: bad input wrote something"
    );
}

on_both_backends!(bad_input_gets_a_stable_code_and_writes_nothing);

/// A transaction cancelled in the middle of its `BEGIN` (a client that hangs up, a projector that is
/// stopped) must not leave SQLite's single writer inside a transaction: sqlx cannot roll back a `BEGIN`
/// whose reply nobody received, and every later `BEGIN IMMEDIATE` would then be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_cancelled_mid_begin_do_not_wedge_the_sqlite_writer() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use sqlx::Connection;

    // Arrange
    let app = TestApp::spawn_without_projectors(Backend::Sqlite).await;
    let cms_eventstore::Db::Sqlite { write, .. } = app.store.db().clone() else {
        unreachable!("a SQLite app has a SQLite store")
    };
    let mut rng = StdRng::seed_from_u64(11);

    // Act: start and cancel 2,000 write transactions at moments spread across the BEGIN round trip.
    for _ in 0..2_000 {
        let pool = write.clone();
        let task = tokio::spawn(async move {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query("SELECT 1").execute(&mut *tx).await?;
            tx.commit().await
        });
        for _ in 0..rng.gen_range(0..40) {
            tokio::task::yield_now().await;
        }
        task.abort();
        if let Ok(finished) = task.await {
            finished.expect("an uncancelled transaction commits");
        }
    }

    // Assert: the writer starts transactions and commands are accepted.
    let mut conn = write.acquire().await.unwrap();
    assert!(!conn.is_in_transaction());
    conn.begin_with("BEGIN IMMEDIATE")
        .await
        .expect("the writer is not stuck in a leaked transaction")
        .commit()
        .await
        .unwrap();
    drop(conn);
    app.seed_hostel().await;
    app.file("res-a").await;
}
