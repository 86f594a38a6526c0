//! The read side on PostgreSQL and SQLite: the complaint list projection and its runner, the other
//! read models beside it (detail, event counts, dashboard), and the list queries. Each concern has
//! its file: [`rebuilds`], [`recovery`] (killed projectors and a poison event), [`lists`] (scoping and
//! keyset pagination), [`filters`] (filters, sorts and refused queries) and [`min_position`]
//! (read-your-writes). This file owns what they share: checkpoints and waiting for them, rebuilding,
//! and the second hostel and the command helpers (also used by the dashboard and CSV export tests).
//!
//! Equality of read models is checked on the full table contents (every column of every row, see
//! [`models`]), and the live rows are also checked against the aggregates themselves
//! (`GET /v1/complaints/{id}`).

use std::time::{Duration, Instant};

use cms_domain::actor::Role;
use cms_projections::checkpoint::{self, State};
use cms_projections::runner;
use cms_projections::Projection;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::TestApp;

mod filters;
mod lists;
mod min_position;
mod models;
mod rebuilds;
mod recovery;
mod workload;

pub(crate) const SOUTH: &str = "south";

async fn list_checkpoint(app: &TestApp) -> checkpoint::Checkpoint {
    checkpoint::current(&app.store.db().clone(), Projection::ComplaintList)
        .await
        .unwrap()
}

async fn detail_checkpoint(app: &TestApp) -> checkpoint::Checkpoint {
    checkpoint::current(&app.store.db().clone(), Projection::ComplaintDetail)
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
    runner::rebuild(&app.store.db().clone(), projection, 137, &mut |_, _| {})
        .await
        .unwrap()
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
