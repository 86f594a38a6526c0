//! The one-shot `cms` commands on the embedded default (SQLite in a fresh data folder): `cms token`
//! refuses what it must, `cms projections status` and `rebuild` report the lag and catch up, and
//! `cms photos sweep` reports what it found and refuses a short grace period.

use std::path::Path;

use crate::support::cms_quiet;

fn run_ok(data_dir: &Path, args: &[&str]) -> String {
    let output = cms_quiet(data_dir).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn cms_token_refuses_an_all_hostels_token_for_a_resident() {
    let data = tempfile::tempdir().unwrap();
    let output = cms_quiet(data.path())
        .args([
            "token", "--role", "resident", "--sub", "res-a", "--hostel", "*",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot cover every hostel"));
}

#[test]
fn projections_status_reports_the_lag_and_rebuild_catches_up() {
    // Arrange: a log with one hostel's events and no projector run yet.
    let data = tempfile::tempdir().unwrap();
    run_ok(
        data.path(),
        &[
            "hostel",
            "register",
            "--id",
            "north-block",
            "--name",
            "North",
            "--wing",
            "A",
            "--room-pattern",
            "A[0-9]{3}",
            "--category",
            "plumbing:Plumbing",
        ],
    );

    // Act
    let before = run_ok(data.path(), &["projections", "status"]);
    let rebuilt = run_ok(data.path(), &["projections", "rebuild", "--all"]);
    let after = run_ok(data.path(), &["projections", "status"]);

    // Assert: one line per projection with position, head, lag and state.
    let row = |text: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.starts_with("complaint_list"))
            .unwrap();
        line.split_whitespace().map(str::to_owned).collect()
    };
    let before = row(&before);
    let head: i64 = before[2].parse().unwrap();
    assert!(head >= 1, "{before:?}");
    assert_eq!(before[1], "0");
    assert_eq!(before[3], head.to_string());
    assert_eq!(before[4], "running");
    assert!(
        rebuilt.contains(&format!("complaint_list: rebuilt {head} events")),
        "{rebuilt}"
    );
    assert!(rebuilt.contains("events/s"), "{rebuilt}");
    let after = row(&after);
    assert_eq!(
        after[1..],
        [
            head.to_string(),
            head.to_string(),
            "0".into(),
            "running".into()
        ]
    );
    let unknown = cms_quiet(data.path())
        .args(["projections", "rebuild", "nonsense"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
}

#[test]
fn cms_photos_sweep_reports_what_it_found_and_refuses_a_short_grace_period() {
    // Arrange: the embedded default (SQLite, local folder) with one orphaned upload folder.
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().join(
        "objects/photos/0190f1c2-0000-7000-8000-000000000001/0190f1c2-0000-7000-8000-0000000000a1",
    );
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("upload"), b"never attached").unwrap();

    // Act
    let short = cms_quiet(data.path())
        .args(["photos", "sweep", "--older-than-hours", "1"])
        .output()
        .unwrap();
    let dry = run_ok(data.path(), &["photos", "sweep", "--dry-run"]);

    // Assert: the folder is recent (just written), so nothing would go, and it is still there.
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 2 hours"));
    assert!(
        dry.contains("photo folders: 1 (0 attached, 1 unattached but recent, 0 orphaned); would delete 0 objects"),
        "{dry}"
    );
    assert!(folder.join("upload").exists());
}
