//! A seeded random workload: complaints filed and driven through their lives by random commands, so
//! the read-model tests project a log that no test wrote by hand.

use cms_domain::actor::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::{act, file_as};
use crate::support::{file_body, TestApp, HOSTEL};

/// Issues `commands` random commands (filing and driving complaints through their life); returns how
/// many were accepted.
pub(super) async fn random_workload(app: &TestApp, seed: u64, commands: usize) -> usize {
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
