//! Who sees which rows of `GET /v1/complaints` (residents their own, staff and wardens their
//! hostels', admins and auditors all), and keyset pagination that returns every old complaint exactly
//! once while new ones are filed during the walk.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use cms_domain::actor::Role;
use cms_tests::Backend;
use reqwest::StatusCode;

use super::{caught_up, file_as, get_ids, seed_south, SOUTH};
use crate::support::{file_body, TestApp, HOSTEL};

on_both_backends!(
    flavor = "multi_thread", worker_threads = 2;
    residents_see_only_their_own_and_wardens_only_their_hostels,
    walking_the_pages_while_complaints_are_filed_returns_each_old_one_once,
);

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
