//! The alert rules in deploy/prometheus: `promtool check rules` accepts them, their unit tests
//! (`promtool test rules`, which prove the alerts fire above their thresholds and not below) pass,
//! and every CMS metric they use is one the code declares.

use std::path::PathBuf;
use std::process::Command;

use super::promtool;

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus")
}

fn promtool_ok(args: &[&str]) -> String {
    let output = Command::new(promtool())
        .args(args)
        .current_dir(rules_dir())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn the_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let checked = promtool_ok(&["check", "rules", "cms-alerts.yml"]);
    assert!(checked.contains("SUCCESS"), "{checked}");

    let tested = promtool_ok(&["test", "rules", "cms-alerts.test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
    // The unit tests cover at least the error-rate and lag alerts, firing and not firing.
    let tests = std::fs::read_to_string(rules_dir().join("cms-alerts.test.yml")).unwrap();
    for alert in [
        "CmsHighErrorRate",
        "CmsProjectionLagging",
        "CmsRelayLagging",
    ] {
        assert!(
            tests.contains(&format!("alertname: {alert}")),
            "{alert} untested"
        );
    }
    assert!(tests.contains("exp_alerts: []"));
}

#[test]
fn every_cms_metric_the_alert_rules_use_is_declared_in_code() {
    let rules = std::fs::read_to_string(rules_dir().join("cms-alerts.yml")).unwrap();
    let declared = cms_api::metrics::names::all();
    let used: Vec<String> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("cms_") || word.starts_with("process_"))
        .map(|word| {
            // Histograms are exported as <name>_bucket, _sum and _count.
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .unwrap_or(word);
            base.to_owned()
        })
        .collect();
    assert!(used.len() >= 10, "{used:?}");
    for name in &used {
        assert!(
            declared.contains(&name.as_str()),
            "{name} is used by an alert but not declared in api/src/metrics/names.rs"
        );
    }
}
