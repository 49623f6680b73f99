//! The generator binary: its files, its flags and its errors.

use std::collections::HashSet;

use predicates::str::contains;

use crate::{generator, repo_root, small_scenario};

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn writes_a_split_dataset_with_documented_columns() {
    let dir = tempfile::tempdir().unwrap();
    generator()
        .arg("-c")
        .arg(small_scenario())
        .arg("-o")
        .arg(dir.path())
        .arg("--jsonl")
        .assert()
        .success();

    for part in ["train", "test"] {
        let m = lines(&dir.path().join(part).join("metrics.csv"));
        assert_eq!(m[0], "timestamp,host,cpu,ram,disk,net_in,net_out,processes");
        // 4 hosts × 2 days at 2 minutes.
        assert_eq!(m.len() - 1, 4 * 2 * 720, "{part} rows");
        let mut last = String::new();
        for row in &m[1..] {
            let f: Vec<&str> = row.split(',').collect();
            assert_eq!(f.len(), 8, "{row}");
            assert!(f[0] >= last.as_str(), "rows out of time order: {row}");
            last = f[0].to_string();
            for v in &f[2..7] {
                let x: f64 = v.parse().unwrap();
                assert!(x >= 0.0, "{row}");
            }
            for v in &f[2..5] {
                assert!(v.parse::<f64>().unwrap() <= 100.0, "{row}");
            }
        }
        let log = lines(&dir.path().join(part).join("logs.log"));
        assert!(log.len() > 1000, "{part}: only {} log lines", log.len());
        let json = lines(&dir.path().join(part).join("logs.jsonl"));
        assert_eq!(json.len(), log.len());
        let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
        assert!(v["timestamp"].is_string() && v["level"].is_string() && v["message"].is_string());
    }

    let train_labels = lines(&dir.path().join("train/labels.csv"));
    assert_eq!(
        train_labels,
        ["id,host,start,end,kind,metrics,cause,detail"],
        "the training period has incidents"
    );
    let labels = vigil_core::label::read_labels(&dir.path().join("test/labels.csv")).unwrap();
    assert!(labels.len() >= 3, "{labels:?}");
    assert!(
        labels
            .iter()
            .any(|l| l.kind == "cascading_failure" && l.cause.is_some())
    );
    assert!(
        labels
            .iter()
            .all(|l| l.start.to_rfc3339().as_str() >= "2026-03-04")
    );

    // Sessions an incident bent exist in the logs of the test period.
    let log = std::fs::read_to_string(dir.path().join("test/logs.log")).unwrap();
    let bent = lines(&dir.path().join("test/session_labels.csv"));
    assert!(bent.len() > 1, "no session was affected by an incident");
    for row in &bent[1..] {
        let session = row.split(',').next().unwrap();
        assert!(log.contains(session), "{session} is not in the logs");
    }
    for level in ["INFO", "WARN", "ERROR", "FATAL"] {
        assert!(log.contains(&format!(" {level} ")), "no {level} line");
    }

    for f in [
        "scenario.toml",
        "summary.json",
        "charts/distributions.png",
        "charts/web-1/2026-03.png",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    assert!(
        !std::fs::read_dir(dir.path().join("test"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().starts_with('.')),
        "temporary files left"
    );
}

#[test]
fn the_effective_scenario_reproduces_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    generator()
        .arg("-c")
        .arg(small_scenario())
        .arg("-o")
        .arg(&a)
        .args(["--seed", "99", "--no-charts"])
        .assert()
        .success();
    let b = dir.path().join("b");
    generator()
        .arg("-c")
        .arg(a.join("scenario.toml"))
        .arg("-o")
        .arg(&b)
        .arg("--no-charts")
        .assert()
        .success();
    assert_eq!(
        std::fs::read(a.join("test/metrics.csv")).unwrap(),
        std::fs::read(b.join("test/metrics.csv")).unwrap()
    );
}

#[test]
fn split_flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    generator()
        .arg("-c")
        .arg(small_scenario())
        .arg("-o")
        .arg(dir.path())
        .args(["--split", "1d:2d", "--no-charts", "-q"])
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        lines(&dir.path().join("train/metrics.csv")).len() - 1,
        4 * 720
    );
    assert_eq!(
        lines(&dir.path().join("test/metrics.csv")).len() - 1,
        4 * 2 * 720
    );

    let whole = tempfile::tempdir().unwrap();
    generator()
        .arg("-c")
        .arg(small_scenario())
        .arg("-o")
        .arg(whole.path())
        .args(["--no-split", "--no-charts"])
        .assert()
        .success();
    assert_eq!(
        lines(&whole.path().join("metrics.csv")).len() - 1,
        4 * 4 * 720
    );
    assert!(!whole.path().join("train").exists());
    let labels = lines(&whole.path().join("labels.csv"));
    let first_day = labels[1..].iter().any(|l| l.contains(",2026-03-02T"));
    assert!(
        first_day,
        "without a split, incidents may start on day one: {labels:?}"
    );
}

#[test]
fn every_default_process_runs_and_the_embedded_default_matches_the_file() {
    let out = generator()
        .arg("--print-default")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let file = std::fs::read(repo_root().join("data/scenarios/default.toml")).unwrap();
    assert_eq!(out, file);

    let dir = tempfile::tempdir().unwrap();
    generator()
        .arg("-o")
        .arg(dir.path())
        .args(["--duration", "28d", "--split", "21d:", "--no-charts"])
        .assert()
        .success();
    let mut seen = HashSet::new();
    for part in ["train", "test"] {
        for row in lines(&dir.path().join(part).join("metrics.csv"))
            .iter()
            .skip(1)
        {
            if let Some(p) = row.rsplit(',').next() {
                seen.extend(p.split(';').filter(|s| !s.is_empty()).map(str::to_string));
            }
        }
    }
    for name in [
        "node_exporter",
        "nginx",
        "haproxy",
        "redis",
        "traffic_burst",
        "analytics_query",
        "backup",
        "backup_verify",
        "apt_update",
        "logrotate",
        "lb_rebalance",
        "data_migration",
        "etl_batch",
        "idle",
    ] {
        assert!(seen.contains(name), "{name} never ran in 28 days: {seen:?}");
    }
}

#[test]
fn bad_scenarios_fail_with_exit_2_and_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(small_scenario()).unwrap();
    let cases = [
        (
            text.replace("duration = \"4d\"", "duration = \"-4d\""),
            "negative",
        ),
        (
            text.replace(
                "probability = 0.3\n[[incidents]]\nkind = \"memory_leak\"",
                "probability = 3\n[[incidents]]\nkind = \"memory_leak\"",
            ),
            "incidents[0].probability: expected a probability in [0, 1], found 3",
        ),
        (
            text.replace("kind = \"backup\"", "kind = \"backups\""),
            "unknown variant `backups`",
        ),
        (
            text.replace("seed = 7", "seed = 7\nseeed = 8"),
            "unknown field `seeed`",
        ),
    ];
    for (body, message) in cases {
        std::fs::write(&bad, body).unwrap();
        generator()
            .arg("-c")
            .arg(&bad)
            .arg("-o")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .stderr(contains(message))
            .stderr(contains("bad.toml"));
    }
    assert!(
        !dir.path().join("out").exists(),
        "a failed run wrote output"
    );
    generator()
        .arg("-c")
        .arg(dir.path().join("missing.toml"))
        .assert()
        .code(2)
        .stderr(contains("missing.toml"));
    generator()
        .args(["--split", "3d"])
        .assert()
        .code(2)
        .stderr(contains("TRAIN:TEST"));
}

/// Issue 18: `generator --no-split` into a folder of an earlier split run left its
/// `train/` and `test/` beside a summary of the new run (so a pipeline would train on
/// stale data). A run replaces what it owns and says so; files it does not own stay.
#[test]
fn no_split_over_a_split_run_leaves_no_stale_parts() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        generator()
            .arg("-c")
            .arg(small_scenario())
            .arg("-o")
            .arg(dir.path())
            .args(["--no-charts", "-q"])
            .args(extra)
            .assert()
            .success();
    };
    run(&["--split", "1d:2d"]);
    std::fs::write(dir.path().join("train/notes.txt"), "mine").unwrap();
    run(&["--no-split"]);
    assert!(dir.path().join("metrics.csv").exists());
    assert!(!dir.path().join("train/metrics.csv").exists());
    assert!(
        !dir.path().join("test").exists(),
        "an emptied part folder goes"
    );
    assert!(
        dir.path().join("train/notes.txt").exists(),
        "a user's file stays"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
    assert!(summary.contains("which an earlier run left"), "{summary}");
    // And back: the split run removes the whole-period files.
    run(&["--split", "1d:2d", "--no-logs"]);
    assert!(!dir.path().join("metrics.csv").exists());
    assert!(!dir.path().join("test/logs.log").exists());
    assert!(dir.path().join("test/metrics.csv").exists());
}
