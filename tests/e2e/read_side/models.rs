//! The read models read back whole (every column of every row) so two states can be compared with
//! `assert_eq!`, and the checks of live rows against the aggregates they were projected from.

use std::time::{Duration, Instant};

use cms_projections::checkpoint;
use cms_projections::complaint_list::ListRow;
use cms_projections::event_counts::EventCount;
use cms_projections::Projection;
use reqwest::StatusCode;
use serde_json::json;

use super::rebuild_one;
use crate::support::TestApp;

const LIST_SQL: &str =
    "SELECT id, hostel, wing, room, category, severity, priority, priority_rank, \
     status, assignee, reporter, title, description, filed_at, updated_at, photo_count, \
     first_photo_id, first_thumbnail, last_position FROM complaint_list ORDER BY id";

/// Every row of the complaint list.
pub(super) async fn table(app: &TestApp) -> Vec<ListRow> {
    match app.store.db().clone() {
        cms_eventstore::Db::Postgres(pool) => sqlx::query_as::<_, ListRow>(LIST_SQL)
            .fetch_all(&pool)
            .await
            .unwrap(),
        cms_eventstore::Db::Sqlite { read, .. } => sqlx::query_as::<_, ListRow>(LIST_SQL)
            .fetch_all(&read)
            .await
            .unwrap(),
    }
}

/// Every row of `complaint_detail` (id, state JSON, timeline JSON, last position).
pub(super) async fn detail_table(app: &TestApp) -> Vec<(String, String, String, i64)> {
    let sql = "SELECT id, state, timeline, last_position FROM complaint_detail ORDER BY id";
    match app.store.db().clone() {
        cms_eventstore::Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(&pool).await.unwrap(),
        cms_eventstore::Db::Sqlite { read, .. } => {
            sqlx::query_as(sql).fetch_all(&read).await.unwrap()
        }
    }
}

/// Every row of `event_counts`, once that projection has caught up with the log.
pub(super) async fn event_counts(app: &TestApp) -> Vec<EventCount> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let db = app.store.db().clone();
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
        cms_eventstore::Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(&pool).await.unwrap(),
        cms_eventstore::Db::Sqlite { read, .. } => {
            sqlx::query_as(sql).fetch_all(&read).await.unwrap()
        }
    }
}

/// Every live row agrees with its aggregate (folded from the log: `?at_position=<head>`).
pub(super) async fn rows_match_aggregates(app: &TestApp, rows: &[ListRow]) {
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

/// Every complaint's detail from the projection equals the one folded from the log (`?at_position`),
/// timeline included; then a rebuild of the detail projection gives the same rows.
pub(super) async fn details_match_aggregates_and_a_rebuild(app: &TestApp) {
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
