//! `GET /v1/hostels/{id}/dashboard` on PostgreSQL and SQLite: after a scripted workload, every figure
//! equals what the complaints' own timestamps and states (read back from the aggregate view) imply;
//! the time windows move with the request's clock; a rebuild gives the same model as the live
//! projector; and only staff-side roles in scope may read it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use cms_domain::actor::Role;
use cms_projections::dashboard::{self, Dashboard, DashboardRow, ResolutionRow};
use cms_projections::Projection;
use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::read_side::{act, file_as, rebuild_one, seed_south, SOUTH};
use crate::support::{file_body, TestApp, HOSTEL};

on_both_backends!(
    flavor = "multi_thread", worker_threads = 2;
    the_dashboard_matches_the_workload_and_a_rebuild,
    only_staff_side_roles_in_scope_read_a_dashboard,
);

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap() as f64 / 1e6
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: none"));
    assert!(
        (actual - expected).abs() < 0.01,
        "{what}: {actual} != {expected}"
    );
}

/// Waits until the dashboard projection has caught up with the log.
async fn dashboard_caught_up(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let db = app.store.db().clone();
    loop {
        let checkpoint = cms_projections::checkpoint::current(&db, Projection::Dashboard)
            .await
            .unwrap();
        if checkpoint.position == app.head().await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stuck at {checkpoint:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

const COMPLAINTS_SQL: &str = "SELECT id, hostel, category, priority, status, assignee, filed_at, \
     first_assigned_at, resolved_at, resolutions, reopens, rating, last_position \
     FROM dashboard_complaints ORDER BY id";
const RESOLUTIONS_SQL: &str = "SELECT complaint_id, seq, hostel, resolved_by, resolved_at \
     FROM dashboard_resolutions ORDER BY complaint_id, seq";

/// Every row of the dashboard model, once the projection has caught up with the log.
pub(crate) async fn tables(app: &TestApp) -> (Vec<DashboardRow>, Vec<ResolutionRow>) {
    dashboard_caught_up(app).await;
    match app.store.db().clone() {
        cms_eventstore::Db::Postgres(pool) => (
            sqlx::query_as(COMPLAINTS_SQL)
                .fetch_all(&pool)
                .await
                .unwrap(),
            sqlx::query_as(RESOLUTIONS_SQL)
                .fetch_all(&pool)
                .await
                .unwrap(),
        ),
        cms_eventstore::Db::Sqlite { read, .. } => (
            sqlx::query_as(COMPLAINTS_SQL)
                .fetch_all(&read)
                .await
                .unwrap(),
            sqlx::query_as(RESOLUTIONS_SQL)
                .fetch_all(&read)
                .await
                .unwrap(),
        ),
    }
}

async fn detail(app: &TestApp, id: &str) -> Value {
    let answer = app
        .get_fresh(&format!("/v1/complaints/{id}"), &app.admin())
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.body
}

async fn step(app: &TestApp, token: &str, id: &str, route: &str, body: Value) {
    assert!(
        act(app, token, id, route, body).await.is_some(),
        "{route} refused on {id}"
    );
}

async fn at(app: &TestApp, board: DateTime<Utc>) -> Dashboard {
    dashboard::dashboard(&app.store.db().clone(), HOSTEL, board)
        .await
        .unwrap()
}

async fn the_dashboard_matches_the_workload_and_a_rebuild(backend: Backend) {
    // Arrange: five complaints in north through different lives, one in south.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    seed_south(&app).await;
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    let staff_p = app.token(Role::Staff, "staff-p", &[HOSTEL]);
    let staff_e = app.token(Role::Staff, "staff-e", &[HOSTEL]);
    let res_a = app.token(Role::Resident, "res-a", &[HOSTEL]);
    let res_b = app.token(Role::Resident, "res-b", &[HOSTEL]);
    let mut electrical = file_body();
    electrical["category"] = json!("electrical");

    // c1: resolved by staff-p, rated 4, confirmed.
    let c1 = file_as(&app, "res-a", HOSTEL, file_body()).await;
    step(&app, &warden, &c1, "triage", json!({"priority": "P1"})).await;
    step(&app, &warden, &c1, "assign", json!({"assignee": "staff-p"})).await;
    step(&app, &staff_p, &c1, "start", json!({})).await;
    step(&app, &staff_p, &c1, "resolve", json!({"note": "fixed"})).await;
    let resolved_1 = time(&detail(&app, &c1).await["resolution"]["at"]);
    step(&app, &res_a, &c1, "rating", json!({"stars": 4})).await;
    step(&app, &res_a, &c1, "confirm", json!({})).await;
    // c2: resolved by staff-e, disputed (reopened), started again.
    let c2 = file_as(&app, "res-b", HOSTEL, electrical.clone()).await;
    step(&app, &warden, &c2, "triage", json!({"priority": "P2"})).await;
    step(&app, &warden, &c2, "assign", json!({"assignee": "staff-e"})).await;
    step(&app, &staff_e, &c2, "start", json!({})).await;
    step(&app, &staff_e, &c2, "resolve", json!({"note": "done"})).await;
    let resolved_2 = time(&detail(&app, &c2).await["resolution"]["at"]);
    step(&app, &res_b, &c2, "dispute", json!({"reason": "still off"})).await;
    step(&app, &staff_e, &c2, "start", json!({})).await;
    // c3: assigned to staff-p; c4: just filed; c5: withdrawn; south: one filed.
    let c3 = file_as(&app, "res-a", HOSTEL, file_body()).await;
    step(&app, &warden, &c3, "triage", json!({"priority": "P3"})).await;
    step(&app, &warden, &c3, "assign", json!({"assignee": "staff-p"})).await;
    let c4 = file_as(&app, "res-b", HOSTEL, electrical).await;
    let c5 = file_as(&app, "res-a", HOSTEL, file_body()).await;
    step(&app, &res_a, &c5, "withdraw", json!({})).await;
    file_as(&app, "res-s", SOUTH, file_body()).await;
    let head = app.head().await;

    let mut details = BTreeMap::new();
    for id in [&c1, &c2, &c3, &c4, &c5] {
        details.insert(id.clone(), detail(&app, id).await);
    }
    let filed = |id: &str| time(&details[id]["filed_at"]);
    let assigned = |id: &str| time(&details[id]["assignments"][0]["at"]);

    // Act
    let answer = app
        .get(
            &format!("/v1/hostels/{HOSTEL}/dashboard?min_position={head}"),
            &warden,
        )
        .await;

    // Assert: every figure.
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let b = &answer.body;
    assert_eq!(b["position"], json!(head));
    assert_eq!(
        answer.headers["consistency-token"].to_str().unwrap(),
        head.to_string()
    );
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    for d in details.values() {
        *by_status
            .entry(d["status"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(b["by_status"], json!(by_status));
    assert_eq!(b["by_status"]["in_progress"], json!(1));
    assert_eq!(b["by_category"], json!({"plumbing": 3, "electrical": 2}));
    assert_eq!(
        b["by_priority"],
        json!({"P1": 1, "P2": 1, "P3": 1, "untriaged": 2})
    );
    assert_eq!(b["oldest_open"]["id"], json!(c2));
    // The model keeps microseconds (both databases do); the aggregate keeps nanoseconds.
    let micros = filed(&c2).timestamp_micros();
    assert_eq!(
        time(&b["oldest_open"]["filed_at"]).timestamp_micros(),
        micros
    );
    let to_assign = [
        seconds(filed(&c1), assigned(&c1)),
        seconds(filed(&c2), assigned(&c2)),
        seconds(filed(&c3), assigned(&c3)),
    ];
    let to_resolve = [
        seconds(filed(&c1), resolved_1),
        seconds(filed(&c2), resolved_2),
    ];
    for window in ["last_7_days", "last_30_days"] {
        let a = &b["time_to_assign"][window];
        assert_eq!(a["count"], json!(3));
        close(a["mean_seconds"].as_f64(), mean(&to_assign), "assign mean");
        close(
            a["median_seconds"].as_f64(),
            median(&to_assign),
            "assign median",
        );
        let r = &b["time_to_resolve"][window];
        assert_eq!(r["count"], json!(2));
        close(
            r["mean_seconds"].as_f64(),
            mean(&to_resolve),
            "resolve mean",
        );
        close(
            r["median_seconds"].as_f64(),
            median(&to_resolve),
            "resolve median",
        );
    }
    let days = b["resolved_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(
        days.iter()
            .map(|d| d["resolved"].as_i64().unwrap())
            .sum::<i64>(),
        2
    );
    assert_eq!(
        days.last().unwrap()["day"],
        json!(resolved_2.date_naive().to_string())
    );
    assert_eq!(b["reopen_rate"], json!(0.5));
    assert_eq!(b["average_rating"], json!(4.0));
    assert_eq!(b["ratings"], json!(1));
    assert_eq!(
        b["staff"],
        json!([
            {"staff": "staff-e", "open_assigned": 1, "in_progress": 1, "resolved_last_7_days": 1},
            {"staff": "staff-p", "open_assigned": 1, "in_progress": 0, "resolved_last_7_days": 1},
        ])
    );

    // The windows follow the clock: 8 days later only the 30-day window holds them; 31 days later none.
    let now = Utc::now();
    let later = at(&app, now + Duration::days(8)).await;
    assert_eq!(later.time_to_assign.last_7_days.count, 0);
    assert_eq!(later.time_to_assign.last_7_days.median_seconds, None);
    assert_eq!(later.time_to_assign.last_30_days.count, 3);
    assert_eq!(later.time_to_resolve.last_30_days.count, 2);
    assert!(later.staff.iter().all(|s| s.resolved_last_7_days == 0));
    let much_later = at(&app, now + Duration::days(31)).await;
    assert_eq!(much_later.time_to_resolve.last_30_days.count, 0);
    assert!(much_later.resolved_per_day.iter().all(|d| d.resolved == 0));
    assert_eq!(much_later.by_status, later.by_status);

    // Rebuild equals live (same clock).
    let live = at(&app, now).await;
    let rows = tables(&app).await;
    rebuild_one(&app, Projection::Dashboard).await;
    assert_eq!(at(&app, now).await, live);
    assert_eq!(tables(&app).await, rows);
    let south = dashboard::dashboard(&app.store.db().clone(), SOUTH, now)
        .await
        .unwrap();
    assert_eq!(south.by_status, BTreeMap::from([("filed".to_owned(), 1)]));
    assert!(south.oldest_open.is_some());
}

async fn only_staff_side_roles_in_scope_read_a_dashboard(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    seed_south(&app).await;
    let path = format!("/v1/hostels/{HOSTEL}/dashboard");

    // Act + Assert: staff, wardens, admins and auditors in scope read it.
    for token in [
        app.token(Role::Staff, "staff-p", &[HOSTEL]),
        app.token(Role::Warden, "warden-w", &[HOSTEL]),
        app.admin(),
        app.token(Role::Auditor, "aud-1", &["*"]),
    ] {
        let answer = app.get(&path, &token).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.body["hostel"], json!(HOSTEL));
    }
    // Residents are refused; out of scope and unknown hostels are 404.
    let resident = app
        .get(&path, &app.token(Role::Resident, "res-a", &[HOSTEL]))
        .await;
    assert_eq!(resident.status, StatusCode::FORBIDDEN);
    assert_eq!(resident.code(), "action_not_permitted");
    let other = app
        .get(&path, &app.token(Role::Warden, "warden-s", &[SOUTH]))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.code(), "hostel_not_found");
    let unknown = app.get("/v1/hostels/east/dashboard", &app.admin()).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let unknown_parameter = app.get(&format!("{path}?colour=red"), &app.admin()).await;
    assert_eq!(unknown_parameter.status, StatusCode::BAD_REQUEST);
    let anonymous = app.get(&path, "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
