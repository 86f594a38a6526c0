//! The read side on PostgreSQL and SQLite: the complaint list projection and its runner, rebuild,
//! crash recovery, a poison event, scoping, keyset pagination under concurrent writes, filters and
//! sorts, and read-your-writes with `Min-Position`.
//!
//! Equality of read models is checked on the full table contents (every column of every row), and
//! the live rows are also checked against the aggregates themselves (`GET /v1/complaints/{id}`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use cms_domain::actor::Role;
use cms_projections::checkpoint::{self, State};
use cms_projections::complaint_list::ListRow;
use cms_projections::event_counts::EventCount;
use cms_projections::runner::{self, RunnerConfig};
use cms_projections::Projection;
use cms_tests::Backend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{file_body, TestApp, HOSTEL};

on_both_backends!(
    flavor = "multi_thread", worker_threads = 2;
    rebuilding_after_a_random_workload_gives_the_live_rows,
    a_projector_killed_mid_way_and_restarted_ends_equal_to_a_rebuild,
    a_rebuild_runs_beside_the_live_model_and_switches_over_whole,
    a_poison_event_stops_only_its_projection_and_is_reported,
    residents_see_only_their_own_and_wardens_only_their_hostels,
    walking_the_pages_while_complaints_are_filed_returns_each_old_one_once,
    filters_and_sorts_return_the_right_rows,
    min_position_waits_for_the_projection_and_includes_the_new_complaint,
);

pub(crate) const SOUTH: &str = "south";
const LIST_SQL: &str =
    "SELECT id, hostel, wing, room, category, severity, priority, priority_rank, \
     status, assignee, reporter, title, description, filed_at, updated_at, photo_count, \
     first_photo_id, first_thumbnail, last_position FROM complaint_list ORDER BY id";

/// Every row of the complaint list.
async fn table(app: &TestApp) -> Vec<ListRow> {
    match app.store.read_db() {
        cms_projections::db::ReadDb::Postgres(pool) => sqlx::query_as::<_, ListRow>(LIST_SQL)
            .fetch_all(&pool)
            .await
            .unwrap(),
        cms_projections::db::ReadDb::Sqlite { read, .. } => sqlx::query_as::<_, ListRow>(LIST_SQL)
            .fetch_all(&read)
            .await
            .unwrap(),
    }
}

async fn list_checkpoint(app: &TestApp) -> checkpoint::Checkpoint {
    checkpoint::current(&app.store.read_db(), Projection::ComplaintList)
        .await
        .unwrap()
}

/// Waits until the complaint list has caught up with the log (or stopped).
pub(crate) async fn caught_up(app: &TestApp) -> checkpoint::Checkpoint {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let checkpoint = list_checkpoint(app).await;
        if checkpoint.position == app.head().await || checkpoint.state == State::Failed {
            return checkpoint;
        }
        assert!(
            Instant::now() < deadline,
            "projection stuck at {checkpoint:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn rebuild(app: &TestApp) -> runner::Rebuilt {
    rebuild_one(app, Projection::ComplaintList).await
}

pub(crate) async fn rebuild_one(app: &TestApp, projection: Projection) -> runner::Rebuilt {
    runner::rebuild(&app.store.read_db(), projection, 137, &mut |_, _| {})
        .await
        .unwrap()
}

/// Every row of `complaint_detail` (id, state JSON, timeline JSON, last position).
async fn detail_table(app: &TestApp) -> Vec<(String, String, String, i64)> {
    let sql = "SELECT id, state, timeline, last_position FROM complaint_detail ORDER BY id";
    match app.store.read_db() {
        cms_projections::db::ReadDb::Postgres(pool) => {
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        }
        cms_projections::db::ReadDb::Sqlite { read, .. } => {
            sqlx::query_as(sql).fetch_all(&read).await.unwrap()
        }
    }
}

async fn detail_checkpoint(app: &TestApp) -> checkpoint::Checkpoint {
    checkpoint::current(&app.store.read_db(), Projection::ComplaintDetail)
        .await
        .unwrap()
}

/// Every complaint's detail from the projection equals the one folded from the log (`?at_position`),
/// timeline included; then a rebuild of the detail projection gives the same rows.
async fn details_match_aggregates_and_a_rebuild(app: &TestApp) {
    let admin = app.admin();
    let head = app.head().await;
    let live = detail_table(app).await;
    assert!(!live.is_empty());
    for (id, ..) in &live {
        let projected = app.get_fresh(&format!("/v1/complaints/{id}"), &admin).await;
        assert_eq!(projected.status, StatusCode::OK, "{:?}", projected.body);
        assert_eq!(
            projected.headers["consistency-token"],
            head.to_string().as_str()
        );
        let folded = app
            .get(&format!("/v1/complaints/{id}?at_position={head}"), &admin)
            .await;
        assert_eq!(projected.body, folded.body, "{id}");
        assert!(!projected.body["timeline"].as_array().unwrap().is_empty());
    }
    rebuild_one(app, Projection::ComplaintDetail).await;
    assert_eq!(detail_table(app).await, live);
}

/// Every row of `event_counts`, once that projection has caught up with the log.
async fn event_counts(app: &TestApp) -> Vec<EventCount> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let db = app.store.read_db();
    while checkpoint::current(&db, Projection::EventCounts)
        .await
        .unwrap()
        .position
        < app.head().await
    {
        assert!(Instant::now() < deadline, "event_counts stuck");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sql = "SELECT aggregate_type, event_type, events, last_position FROM event_counts \
               ORDER BY aggregate_type, event_type";
    match db {
        cms_projections::db::ReadDb::Postgres(pool) => {
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        }
        cms_projections::db::ReadDb::Sqlite { read, .. } => {
            sqlx::query_as(sql).fetch_all(&read).await.unwrap()
        }
    }
}

/// Registers `south` (same shape as `north`) with its warden `warden-s`.
pub(crate) async fn seed_south(app: &TestApp) {
    let admin = app.admin();
    let registered = app
        .post(
            "/v1/hostels",
            &admin,
            json!({
                "id": SOUTH, "name": "South", "wings": ["A", "B"], "room_pattern": "[AB][0-9]{3}",
                "categories": [{"id": "plumbing", "name": "Plumbing"}, {"id": "electrical", "name": "Electrical"}]
            }),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{:?}",
        registered.body
    );
}

pub(crate) async fn file_as(app: &TestApp, resident: &str, hostel: &str, body: Value) -> String {
    let token = app.token(Role::Resident, resident, &[hostel]);
    let mut body = body;
    body["hostel"] = json!(hostel);
    let answer = app.post("/v1/complaints", &token, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body["complaint_id"].as_str().unwrap().to_owned()
}

pub(crate) async fn act(
    app: &TestApp,
    token: &str,
    id: &str,
    route: &str,
    body: Value,
) -> Option<String> {
    let answer = app
        .post(&format!("/v1/complaints/{id}/{route}"), token, body)
        .await;
    if answer.status.is_success() {
        answer.body["status"].as_str().map(str::to_owned)
    } else {
        None
    }
}

/// Issues `commands` random commands (filing and driving complaints through their life); returns how
/// many were accepted.
async fn random_workload(app: &TestApp, seed: u64, commands: usize) -> usize {
    let mut rng = StdRng::seed_from_u64(seed);
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    let staff = app.token(Role::Staff, "staff-p", &[HOSTEL]);
    let mut open: Vec<(String, String, String)> = Vec::new(); // (id, reporter, status)
    let mut accepted = 0;
    for n in 0..commands {
        if open.is_empty() || rng.gen_bool(0.25) {
            let reporter = format!("res-{}", rng.gen_range(0..6));
            let mut body = file_body();
            body["title"] = json!(format!("Problem {n}"));
            body["severity"] = json!(["low", "medium", "high", "urgent"][rng.gen_range(0..4)]);
            let id = file_as(app, &reporter, HOSTEL, body).await;
            open.push((id, reporter, "filed".to_owned()));
            accepted += 1;
            continue;
        }
        let i = rng.gen_range(0..open.len());
        let (id, reporter, status) = open[i].clone();
        let resident = app.token(Role::Resident, &reporter, &[HOSTEL]);
        let pick = rng.gen_range(0..10);
        let priority = ["P1", "P2", "P3", "P4"][rng.gen_range(0..4)];
        let (token, route, body) = match (status.as_str(), pick) {
            ("filed", 0) => (&resident, "withdraw", json!({})),
            ("filed", 1) => (&warden, "reject", json!({ "reason": "not ours" })),
            ("filed" | "triaged", _) if pick < 5 => {
                (&warden, "triage", json!({ "priority": priority }))
            }
            ("filed", _) => (&warden, "triage", json!({ "priority": priority })),
            ("triaged", 9) => (&warden, "close", json!({})),
            ("triaged", _) => (&warden, "assign", json!({ "assignee": "staff-p" })),
            ("assigned" | "reopened", _) => (&staff, "start", json!({})),
            ("in_progress", 0..=2) => (&staff, "hold", json!({ "reason": "parts" })),
            ("in_progress", 3..=4) => (
                &staff,
                "comments",
                json!({ "body": "working", "visibility": "internal" }),
            ),
            ("in_progress", _) => (&staff, "resolve", json!({ "note": "fixed" })),
            ("on_hold", _) => (&staff, "resume", json!({})),
            ("resolved", 0..=3) => (&resident, "dispute", json!({ "reason": "still broken" })),
            ("resolved", _) => (&resident, "confirm", json!({})),
            _ => {
                open.swap_remove(i);
                let id = file_as(app, &reporter, HOSTEL, file_body()).await;
                open.push((id, reporter, "filed".to_owned()));
                accepted += 1;
                continue;
            }
        };
        if let Some(status) = act(app, token, &id, route, body).await {
            open[i].2 = status;
            accepted += 1;
        }
    }
    accepted
}

/// Every live row agrees with its aggregate (folded from the log: `?at_position=<head>`).
async fn rows_match_aggregates(app: &TestApp, rows: &[ListRow]) {
    let admin = app.admin();
    let head = app.head().await;
    for row in rows {
        let path = format!("/v1/complaints/{}?at_position={head}", row.id);
        let detail = app.get(&path, &admin).await;
        assert_eq!(detail.status, StatusCode::OK);
        let d = &detail.body;
        assert_eq!(d["status"], json!(row.status), "{}", row.id);
        assert_eq!(d["priority"], json!(row.priority), "{}", row.id);
        assert_eq!(d["assignee"], json!(row.assignee), "{}", row.id);
        assert_eq!(d["reporter"], json!(row.reporter), "{}", row.id);
        assert_eq!(d["severity"], json!(row.severity), "{}", row.id);
        assert_eq!(d["title"], json!(row.title), "{}", row.id);
        assert_eq!(d["position"], json!(row.last_position), "{}", row.id);
    }
}

async fn rebuilding_after_a_random_workload_gives_the_live_rows(backend: Backend) {
    // Arrange: a live projector follows 1,200 random commands.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let accepted = random_workload(&app, 7, 1_200).await;
    assert!(accepted > 900, "only {accepted} commands were accepted");
    let live_checkpoint = caught_up(&app).await;
    assert_eq!(live_checkpoint.state, State::Running);
    let live = table(&app).await;
    assert!(live.len() > 200, "{} complaints", live.len());
    rows_match_aggregates(&app, &live).await;

    // Act: rebuild from 0 (with the live projector still running beside it).
    let rebuilt = rebuild(&app).await;

    // Assert: identical rows and checkpoint.
    assert_eq!(rebuilt.checkpoint.position, live_checkpoint.position);
    assert_eq!(rebuilt.events, app.head().await);
    assert_eq!(table(&app).await, live);
    // The same for event_counts, whose counts add up to the log's length.
    let live_counts = event_counts(&app).await;
    assert_eq!(
        live_counts.iter().map(|c| c.events).sum::<i64>(),
        app.head().await
    );
    rebuild_one(&app, Projection::EventCounts).await;
    assert_eq!(event_counts(&app).await, live_counts);
    // And for the dashboard model (complaints and resolutions).
    let live_dashboard = crate::dashboard::tables(&app).await;
    assert!(
        !live_dashboard.1.is_empty(),
        "the workload resolved nothing"
    );
    rebuild_one(&app, Projection::Dashboard).await;
    assert_eq!(crate::dashboard::tables(&app).await, live_dashboard);
    // And for the complaint detail.
    while detail_checkpoint(&app).await.position < app.head().await {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    details_match_aggregates_and_a_rebuild(&app).await;
}

async fn a_projector_killed_mid_way_and_restarted_ends_equal_to_a_rebuild(backend: Backend) {
    // Arrange: a log with no projector following it.
    let app = TestApp::spawn_without_projectors(backend).await;
    app.seed_hostel().await;
    random_workload(&app, 11, 300).await;
    let head = app.head().await;
    let db = app.store.read_db();
    let config = RunnerConfig {
        batch_size: 7,
        poll_interval: Duration::from_millis(2),
    };

    // Act: start projectors (sometimes two at once) and kill them at random moments until done.
    let mut rng = StdRng::seed_from_u64(3);
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while list_checkpoint(&app).await.position < head
        || detail_checkpoint(&app).await.position < head
    {
        let first = runner::spawn(&db, config);
        let second = rng.gen_bool(0.3).then(|| runner::spawn(&db, config));
        // The window grows with every kill (5 ms a kill: three projections share SQLite's single
        // writer), so a slow or loaded machine still makes progress in the end.
        let window = 15 + 5 * kills;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(1..window))).await;
        drop(first);
        drop(second);
        kills += 1;
        assert!(
            Instant::now() < deadline,
            "no progress after {kills} kills: {:?}",
            list_checkpoint(&app).await
        );
    }
    let restarted = table(&app).await;
    let checkpoint = list_checkpoint(&app).await;

    // Assert: the same as a rebuild from scratch.
    assert!(kills > 1, "the projector was never interrupted");
    assert_eq!(checkpoint.position, head);
    assert_eq!(checkpoint.state, State::Running);
    rebuild(&app).await;
    assert_eq!(table(&app).await, restarted);
    rows_match_aggregates(&app, &restarted).await;
    assert_eq!(detail_checkpoint(&app).await.position, head);
    let details = detail_table(&app).await;
    rebuild_one(&app, Projection::ComplaintDetail).await;
    assert_eq!(detail_table(&app).await, details);
}

async fn a_rebuild_runs_beside_the_live_model_and_switches_over_whole(backend: Backend) {
    // Arrange: a live projector has followed a workload.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    random_workload(&app, 5, 600).await;
    caught_up(&app).await;
    let before = table(&app).await;
    let head = app.head().await;
    let db = app.store.read_db();
    let (signal, started) = tokio::sync::oneshot::channel::<()>();
    let mut signal = Some(signal);
    let mut report = move |position: i64, _head: i64| {
        if position >= head / 3 {
            if let Some(signal) = signal.take() {
                let _ = signal.send(());
            }
        }
    };

    // Act: rebuild one event per batch; a third of the way through, file a complaint and read it back
    // from the live list, and read the whole list a few times.
    let rebuilding = async {
        let rebuilt = runner::rebuild(&db, Projection::ComplaintList, 1, &mut report)
            .await
            .unwrap();
        (rebuilt, Instant::now())
    };
    let probing = async {
        started.await.unwrap();
        let token = app.token(Role::Resident, "res-probe", &[HOSTEL]);
        let filed = app.post("/v1/complaints", &token, file_body()).await;
        assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
        let id = filed.body["complaint_id"].as_str().unwrap().to_owned();
        let path = format!("/v1/complaints?min_position={}", filed.position());
        let listed = app.get(&path, &token).await;
        assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
        assert_eq!(listed.body["items"][0]["id"], json!(id));
        let seen = Instant::now();
        let mut sizes = Vec::new();
        for _ in 0..10 {
            sizes.push(table(&app).await.len());
        }
        (id, seen, sizes)
    };
    let ((rebuilt, finished), (id, seen, sizes)) = tokio::join!(rebuilding, probing);

    // Assert: commands and the live projector went on during the rebuild, readers always saw a whole
    // model, and the switched-in model is the complete one, new complaint included.
    assert!(
        seen < finished,
        "the new complaint reached the live list only after the rebuild"
    );
    assert!(sizes.iter().all(|n| *n > before.len()), "{sizes:?}");
    assert!(rebuilt.checkpoint.position > head, "{rebuilt:?}");
    assert_eq!(rebuilt.checkpoint.state, State::Running);
    caught_up(&app).await;
    let after = table(&app).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.iter().any(|row| row.id == id));
    rows_match_aggregates(&app, &after).await;
    rebuild(&app).await;
    assert_eq!(table(&app).await, after);
}

/// Appends an event whose payload is not a complaint event, as a stranger with write access could.
async fn insert_poison(app: &TestApp) -> i64 {
    let id = uuid::Uuid::now_v7().to_string();
    match app.store.read_db() {
        cms_projections::db::ReadDb::Postgres(pool) => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata) VALUES ('Complaint', $1, 1, 'ComplaintFiled', \
                 '1', '{\"ComplaintFiled\": {\"nonsense\": true}}', '{}')",
            )
            .bind(&id)
            .execute(&pool)
            .await
            .unwrap();
        }
        cms_projections::db::ReadDb::Sqlite { write, .. } => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, global_position, event_id) VALUES \
                 ('Complaint', ?1, 1, 'ComplaintFiled', '1', \
                 '{\"ComplaintFiled\": {\"nonsense\": true}}', '{}', \
                 (SELECT last_position + 1 FROM event_log_head), ?2)",
            )
            .bind(&id)
            .bind(uuid::Uuid::new_v4().to_string())
            .execute(&write)
            .await
            .unwrap();
        }
    }
    app.head().await
}

async fn a_poison_event_stops_only_its_projection_and_is_reported(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let before = app.file("res-a").await;
    caught_up(&app).await;

    // Act: a poison event, then an ordinary command after it.
    let poison = insert_poison(&app).await;
    let after = app.file("res-a").await;
    let stopped = caught_up(&app).await;

    // Assert: stopped exactly before the poison, reported with the reason; writes still work.
    assert_eq!(stopped.state, State::Failed);
    assert_eq!(stopped.position, poison - 1);
    let error = stopped.error.clone().unwrap();
    assert!(error.contains(&format!("position {poison}")), "{error}");
    let status = checkpoint::status(&app.store.read_db()).await.unwrap();
    let row = status
        .iter()
        .find(|s| s.projection == "complaint_list")
        .unwrap();
    // The other projection went on past the poison event.
    let counts = event_counts(&app).await;
    assert_eq!(counts.iter().map(|c| c.events).sum::<i64>(), poison + 1);
    let other = checkpoint::current(&app.store.read_db(), Projection::EventCounts)
        .await
        .unwrap();
    assert_eq!((other.position, other.state), (poison + 1, State::Running));
    assert_eq!(row.state, State::Failed);
    assert_eq!(
        (row.position, row.head, row.lag),
        (poison - 1, poison + 1, 2)
    );
    assert_eq!(row.error.as_deref(), Some(error.as_str()));
    // It does not move on by itself, and the list still answers at the stopped position.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(list_checkpoint(&app).await.position, poison - 1);
    let list = app.get("/v1/complaints", &app.admin()).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.position(), poison - 1);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![before.as_str()]);
    assert!(!ids.contains(&after.as_str()));
    let waiting = app
        .send(
            app.client
                .get(format!("{}/v1/complaints", app.base))
                .bearer_auth(app.admin())
                .header("Min-Position", poison + 1),
        )
        .await;
    assert_eq!(waiting.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(waiting.code(), "projection_behind");
    assert!(waiting.headers.contains_key("retry-after"));
    let ready = app.get("/readyz", "").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.body["checks"]["projections"],
        "degraded: complaint_list, complaint_detail, dashboard failed"
    );
    // A rebuild meets the same event and stops at the same place.
    let rebuilt = rebuild(&app).await;
    assert_eq!(rebuilt.checkpoint.position, poison - 1);
    assert_eq!(rebuilt.checkpoint.state, State::Failed);
}

async fn get_ids(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let answer = app.get(path, token).await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {:?}", answer.body);
    assert_eq!(
        answer.headers["consistency-token"].to_str().unwrap(),
        answer.position().to_string()
    );
    answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn residents_see_only_their_own_and_wardens_only_their_hostels(backend: Backend) {
    // Arrange: complaints of three residents in two hostels.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    seed_south(&app).await;
    let mut by_reporter: HashMap<&str, Vec<String>> = HashMap::new();
    let mut by_hostel: HashMap<&str, Vec<String>> = HashMap::new();
    for (reporter, hostel, n) in [
        ("res-a", HOSTEL, 4),
        ("res-b", HOSTEL, 3),
        ("res-c", SOUTH, 5),
    ] {
        for _ in 0..n {
            let id = file_as(&app, reporter, hostel, file_body()).await;
            by_reporter.entry(reporter).or_default().push(id.clone());
            by_hostel.entry(hostel).or_default().push(id);
        }
    }
    caught_up(&app).await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    // Act + Assert
    for reporter in ["res-a", "res-b", "res-c"] {
        let hostel = if reporter == "res-c" { SOUTH } else { HOSTEL };
        let token = app.token(Role::Resident, reporter, &[hostel]);
        let seen = get_ids(&app, "/v1/complaints?limit=100", &token).await;
        assert_eq!(
            sorted(seen),
            sorted(by_reporter[reporter].clone()),
            "{reporter}"
        );
        // Filtering by someone else's reporter id shows nothing foreign either.
        let foreign = get_ids(&app, "/v1/complaints?reporter=res-c", &token).await;
        assert!(reporter == "res-c" || foreign.is_empty());
    }
    let north_warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    let seen = get_ids(&app, "/v1/complaints?limit=100", &north_warden).await;
    assert_eq!(sorted(seen), sorted(by_hostel[HOSTEL].clone()));
    let south_staff = app.token(Role::Staff, "staff-s", &[SOUTH]);
    let seen = get_ids(&app, "/v1/complaints?limit=100", &south_staff).await;
    assert_eq!(sorted(seen), sorted(by_hostel[SOUTH].clone()));
    let seen = get_ids(
        &app,
        &format!("/v1/complaints?hostel={HOSTEL}"),
        &south_staff,
    )
    .await;
    assert!(seen.is_empty());
    let both = app.token(Role::Warden, "warden-x", &[HOSTEL, SOUTH]);
    assert_eq!(
        get_ids(&app, "/v1/complaints?limit=100", &both).await.len(),
        12
    );
    for token in [app.admin(), app.token(Role::Auditor, "auditor-1", &["*"])] {
        assert_eq!(
            get_ids(&app, "/v1/complaints?limit=100", &token)
                .await
                .len(),
            12
        );
    }
}

async fn walking_the_pages_while_complaints_are_filed_returns_each_old_one_once(backend: Backend) {
    // Arrange: 45 complaints, then a writer that keeps filing during the walk.
    let app = std::sync::Arc::new(TestApp::spawn(backend).await);
    app.seed_hostel().await;
    let mut existing = HashSet::new();
    for n in 0..45 {
        existing.insert(file_as(&app, &format!("res-{}", n % 4), HOSTEL, file_body()).await);
    }
    caught_up(&app).await;
    let writer = {
        let app = app.clone();
        tokio::spawn(async move {
            for n in 0..20 {
                file_as(&app, &format!("res-{}", n % 4), HOSTEL, file_body()).await;
            }
        })
    };
    let admin = app.admin();

    for sort in ["filed_at", "priority"] {
        // Act: walk every page, 7 at a time.
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/complaints?limit=7&sort={sort}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let answer = app.get(&path, &admin).await;
            assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
            let items = answer.body["items"].as_array().unwrap();
            assert!(items.len() <= 7);
            seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            match answer.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        // Assert: no complaint twice, every old one present.
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a complaint came twice");
        for id in &existing {
            assert!(unique.contains(id), "{sort}: {id} missing");
        }
    }
    writer.await.unwrap();
}

async fn filters_and_sorts_return_the_right_rows(backend: Backend) {
    // Arrange: complaints that differ in every filtered field.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    seed_south(&app).await;
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    let mut ids = BTreeMap::new();
    for (name, hostel, category, severity, title) in [
        ("a", HOSTEL, "plumbing", "low", "Leaking TAP in bathroom"),
        ("b", HOSTEL, "electrical", "high", "Flickering light"),
        ("c", HOSTEL, "plumbing", "urgent", "Burst pipe, 100% wet"),
        ("d", SOUTH, "electrical", "medium", "Dead socket"),
        ("e", HOSTEL, "electrical", "low", "Fan noise"),
    ] {
        let mut body = file_body();
        body["category"] = json!(category);
        body["severity"] = json!(severity);
        body["title"] = json!(title);
        ids.insert(
            name,
            file_as(&app, &format!("res-{name}"), hostel, body).await,
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let middle = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(3)).await;
    let mut body = file_body();
    body["description"] = json!("The radiator makes a LOUD knocking noise");
    ids.insert("f", file_as(&app, "res-f", HOSTEL, body).await);
    assert!(act(
        &app,
        &warden,
        &ids["c"],
        "triage",
        json!({"priority": "P1"})
    )
    .await
    .is_some());
    assert!(act(
        &app,
        &warden,
        &ids["a"],
        "triage",
        json!({"priority": "P3"})
    )
    .await
    .is_some());
    assert!(act(
        &app,
        &warden,
        &ids["b"],
        "triage",
        json!({"priority": "P2"})
    )
    .await
    .is_some());
    assert!(act(
        &app,
        &warden,
        &ids["b"],
        "assign",
        json!({"assignee": "staff-e"})
    )
    .await
    .is_some());
    let admin = app.admin();
    let withdraw = app.token(Role::Resident, "res-e", &[HOSTEL]);
    assert!(act(&app, &withdraw, &ids["e"], "withdraw", json!({}))
        .await
        .is_some());
    caught_up(&app).await;
    let names = |found: Vec<String>| -> Vec<&str> {
        found
            .iter()
            .map(|id| *ids.iter().find(|(_, v)| *v == id).unwrap().0)
            .collect()
    };
    let query = |q: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move { get_ids(app, &format!("/v1/complaints?{q}"), &admin).await }
    };

    // Act + Assert: filters (default sort: newest filed first).
    assert_eq!(names(query("").await), ["f", "e", "d", "c", "b", "a"]);
    assert_eq!(names(query("hostel=south").await), ["d"]);
    assert_eq!(
        names(query("status=triaged,withdrawn").await),
        ["e", "c", "a"]
    );
    assert_eq!(names(query("status=assigned").await), ["b"]);
    // A status repeated 6,000 times (60 KB of query) is one status: one bound parameter per
    // distinct status, however long the list.
    let repeated = format!("status={}triaged", "withdrawn,".repeat(6_000));
    assert_eq!(
        names(get_ids(&app, &format!("/v1/complaints?{repeated}"), &admin).await),
        ["e", "c", "a"]
    );
    assert_eq!(names(query("category=electrical").await), ["e", "d", "b"]);
    assert_eq!(names(query("severity=low").await), ["e", "a"]);
    assert_eq!(names(query("priority=P1").await), ["c"]);
    assert_eq!(names(query("assignee=staff-e").await), ["b"]);
    assert_eq!(names(query("reporter=res-d").await), ["d"]);
    assert_eq!(names(query("q=BATHroom").await), ["a"]);
    assert_eq!(names(query("q=cold%20tap").await).len(), 5);
    assert_eq!(names(query("q=NOISE").await), ["f", "e"]);
    assert_eq!(names(query("q=100%25").await), ["c"]);
    assert_eq!(names(query("q=%25").await), ["c"]);
    assert_eq!(
        names(query("category=plumbing&severity=urgent").await),
        ["c"]
    );
    let from = middle.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let from = from.replace('+', "%2B");
    assert_eq!(
        names(get_ids(&app, &format!("/v1/complaints?filed_from={from}"), &admin).await),
        ["f"]
    );
    assert_eq!(
        names(get_ids(&app, &format!("/v1/complaints?filed_to={from}"), &admin).await),
        ["e", "d", "c", "b", "a"]
    );
    // Sorts.
    let by_priority = names(query("sort=priority").await);
    assert_eq!(by_priority[..3], ["c", "b", "a"]);
    assert_eq!(by_priority.len(), 6);
    assert_eq!(names(query("sort=updated_at").await)[..2], ["e", "b"]);
    // Rejections.
    for (q, code) in [
        ("limit=101", "invalid_query"),
        ("limit=0", "invalid_query"),
        ("status=lost", "invalid_query"),
        ("min_position=-1", "invalid_query"),
        ("severity=huge", "invalid_query"),
        ("sort=title", "invalid_query"),
        ("colour=red", "invalid_query"),
        ("cursor=not-a-cursor", "invalid_cursor"),
    ] {
        let answer = app.get(&format!("/v1/complaints?{q}"), &admin).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(answer.code(), code, "{q}");
    }
    // A cursor is bound to its sort, and a tampered one is refused.
    let page = app.get("/v1/complaints?limit=2", &admin).await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let other_sort = app
        .get(
            &format!("/v1/complaints?limit=2&sort=priority&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(other_sort.code(), "invalid_cursor");
    let mut tampered = cursor.clone();
    tampered.insert(3, 'x');
    let answer = app
        .get(&format!("/v1/complaints?limit=2&cursor={tampered}"), &admin)
        .await;
    assert_eq!(answer.code(), "invalid_cursor");
    let next = app
        .get(&format!("/v1/complaints?limit=2&cursor={cursor}"), &admin)
        .await;
    assert_eq!(next.status, StatusCode::OK);
    let item = &next.body["items"][0];
    assert_eq!(item["id"], json!(ids["d"]));
    assert_eq!(item["hostel"], json!(SOUTH));
    assert_eq!(item["photo_count"], json!(0));
    assert_eq!(item["first_thumbnail_url"], Value::Null);
    assert!(
        item.get("first_thumbnail").is_none(),
        "object keys stay inside: {item}"
    );
}

async fn min_position_waits_for_the_projection_and_includes_the_new_complaint(backend: Backend) {
    // Arrange: no projector yet.
    let mut app = TestApp::spawn_without_projectors(backend).await;
    app.seed_hostel().await;
    let token = app.token(Role::Resident, "res-a", &[HOSTEL]);
    let filed = app.post("/v1/complaints", &token, file_body()).await;
    let position = filed.position();
    let id = filed.body["complaint_id"].as_str().unwrap().to_owned();
    let with_header = |token: &str| {
        app.client
            .get(format!("{}/v1/complaints", app.base))
            .bearer_auth(token)
            .header("Min-Position", position)
    };

    // With nothing projecting, the bounded wait ends in 503.
    let started = Instant::now();
    let behind = app.send(with_header(&token)).await;
    assert_eq!(behind.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(behind.code(), "projection_behind");
    assert_eq!(behind.headers["retry-after"], "1");
    assert!(started.elapsed() >= Duration::from_millis(1_500));
    let plain = app.get("/v1/complaints", &token).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.body["items"], json!([]));

    // Act: the projector starts 300 ms into the wait.
    let db = app.store.read_db();
    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        runner::spawn(&db, RunnerConfig::for_db(&db))
    });
    let started = Instant::now();
    let answer = app.send(with_header(&token)).await;

    // Assert: it waited, then answered with the new complaint and a position at least the token.
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(answer.position() >= position);
    assert_eq!(answer.body["items"][0]["id"], json!(id));
    app.projectors = Some(starter.await.unwrap());

    // And command-then-read pairs with the token always see their write (query parameter form).
    for _ in 0..20 {
        let filed = app.post("/v1/complaints", &token, file_body()).await;
        let path = format!("/v1/complaints?min_position={}&limit=1", filed.position());
        let answer = app.get(&path, &token).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body["items"][0]["id"], filed.body["complaint_id"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_wakes_the_postgres_projector_without_polling() {
    // Arrange: a projector whose fallback poll is far longer than the test.
    let mut app = TestApp::spawn_without_projectors(Backend::Postgres).await;
    app.seed_hostel().await;
    let db = app.store.read_db();
    let config = RunnerConfig {
        batch_size: 500,
        poll_interval: Duration::from_secs(600),
    };
    app.projectors = Some(runner::spawn(&db, config));
    caught_up(&app).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Act: a command, then a read that waits for its position.
    let token = app.token(Role::Resident, "res-a", &[HOSTEL]);
    let filed = app.post("/v1/complaints", &token, file_body()).await;
    let path = format!("/v1/complaints?min_position={}", filed.position());
    let answer = app.get(&path, &token).await;

    // Assert: the NOTIFY woke the projector well within the 2 s wait.
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["items"][0]["id"], filed.body["complaint_id"]);
}
