//! `write_dir` writes the events and the truth, and reports errors.

use custos_sim::{SimConfig, SimError, Simulator, Truth, write_dir};

use crate::common::small;

#[test]
fn writes_events_and_truth_matching_the_iterator() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let config = small(3, 8);
    let summary = write_dir(config, &out).unwrap();
    let events = std::fs::read_to_string(out.join("events.ndjson")).unwrap();
    assert!(events.ends_with('\n'));
    let lines: Vec<&str> = events.lines().collect();
    assert_eq!(lines.len() as u64, summary.events);
    assert_eq!(summary.by_type.values().sum::<u64>(), summary.events);
    let from_iterator: Vec<String> = Simulator::new(config).unwrap().collect();
    assert_eq!(lines, from_iterator);
    let truth_text = std::fs::read_to_string(out.join("truth.json")).unwrap();
    assert!(
        truth_text.starts_with("{\n  \"version\": 1,"),
        "pretty JSON"
    );
    let truth: Truth = serde_json::from_str(&truth_text).unwrap();
    assert_eq!(truth.events, summary.events);
    assert_eq!(truth.seed, 8);
    assert_eq!(truth.start, "2025-03-03T00:00:00Z");
    assert_eq!(truth.end, "2025-03-06T00:00:00Z");
    assert_eq!(truth.attacks.len(), summary.attacks);
    assert_eq!(
        summary.by_type["customer"],
        lines
            .iter()
            .filter(|l| l.contains("\"type\":\"customer\""))
            .count() as u64
    );
}

#[test]
fn rejects_bad_configs_naming_the_field() {
    let check = |config: SimConfig, field: &str| {
        let err = Simulator::new(config).err().unwrap();
        assert!(matches!(err, SimError::InvalidConfig { .. }));
        assert!(err.to_string().contains(field), "{err}");
    };
    let ok = SimConfig::default();
    check(SimConfig { days: 0, ..ok }, "`days`");
    check(SimConfig { agents: 0, ..ok }, "`agents`");
    check(SimConfig { customers: 0, ..ok }, "`customers`");
    check(
        SimConfig {
            start: ok.start + 3600,
            ..ok
        },
        "`start`",
    );
    check(
        SimConfig {
            start: 253_402_300_800,
            ..ok
        },
        "`start`",
    );
    assert!(ok.validate().is_ok());
}

#[test]
fn reports_io_errors_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = write_dir(small(1, 1), &file).err().unwrap();
    assert!(matches!(err, SimError::Io { .. }), "{err}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}
