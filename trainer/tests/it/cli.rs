//! The trainer binary: what it writes and how it refuses bad input.

use predicates::str::contains;

use crate::{small_metrics, trainer};

#[test]
fn trains_from_the_command_line_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_metrics(dir.path());
    let model = dir.path().join("m");
    let args = |m: &std::path::Path| {
        vec![
            "metrics".to_string(),
            "--input".into(),
            input.display().to_string(),
            "--model".into(),
            m.display().to_string(),
            "--model-kind".into(),
            "dense_autoencoder".into(),
            "--epochs".into(),
            "2".into(),
            "--window".into(),
            "8".into(),
        ]
    };
    trainer()
        .args(args(&model))
        .assert()
        .success()
        .stdout(contains("dense_autoencoder on 5 columns"))
        .stderr(contains("epoch 1/2"));
    assert!(model.join("manifest.json").is_file());
    trainer()
        .args(args(&model))
        .assert()
        .code(2)
        .stderr(contains("already exists; pass --force"));
    let mut forced = args(&model);
    forced.push("--force".into());
    trainer().args(forced).assert().success();
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("empty.csv", String::new(), "empty"),
        ("header.csv", "timestamp,value\n".to_string(), "no data rows"),
        ("one-row.csv", "timestamp,value\n2026-01-01T00:00:00Z,1\n".to_string(), "cannot find the sampling step"),
        (
            "text.csv",
            "timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:05:00Z,high\n".to_string(),
            "text.csv:3: column value: expected a number, found \"high\"",
        ),
        (
            "nan.csv",
            "timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:05:00Z,NaN\n".to_string(),
            "nan.csv:3: column value: \"NaN\" is not a finite number",
        ),
        (
            "short.csv",
            "timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:05:00Z,2\n2026-01-01T00:10:00Z,3\n".to_string(),
            "too little data",
        ),
    ];
    for (name, body, message) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        trainer()
            .arg("metrics")
            .arg("--input")
            .arg(&path)
            .arg("--model")
            .arg(dir.path().join(format!("model-{name}")))
            .assert()
            .code(2)
            .stderr(contains(message));
        assert!(
            !dir.path().join(format!("model-{name}")).exists(),
            "{name}: a model was written"
        );
    }
    trainer()
        .args([
            "metrics",
            "--input",
            "x.csv",
            "--model",
            "m",
            "--model-kind",
            "transformer",
        ])
        .assert()
        .code(2)
        .stderr(contains("--model-kind"));
}

/// A service log of the common `<date> <time> <LEVEL> [<thread>] <message>` shape, sessions
/// by a regex of the user's.
fn service_log(path: &std::path::Path) {
    let mut text = String::new();
    for i in 0..400 {
        let (s, step) = (i / 4, i % 4);
        let message = match step {
            0 => format!("open sess-{s:05}"),
            1 => format!("auth sess-{s:05} ok"),
            2 => format!("query sess-{s:05} took {} ms", 3 + i % 50),
            _ => format!("close sess-{s:05}"),
        };
        let level = if step == 1 { "DEBUG" } else { "INFO" };
        text += &format!(
            "2026-03-01 10:{:02}:{:02},{:03} {level} [worker-{}] {message}\n",
            i / 60,
            i % 60,
            i * 7 % 1000,
            1 + i % 3
        );
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn any_common_log_header_is_found_and_a_wrong_format_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    service_log(&log);
    let model = dir.path().join("m");
    trainer()
        .args(["logs", "--epochs", "2", "--session-regex", "sess-[0-9]+", "-i"])
        .arg(&log)
        .arg("-m")
        .arg(&model)
        .assert()
        .success()
        .stdout(contains("deeplog on 100 sessions"))
        // Half of the 100 sessions held out to calibrate on; every session has the same
        // counts.
        .stdout(contains("verdict calibrated on 50 validation sessions: g "))
        .stdout(contains("counts: 1 distinct count vectors, at most 0.000 apart"))
        .stdout(contains(
            "header format '<Date> <Time> <Level> [<Thread>] <Content>', found on the first lines: it fits 400 of 400",
        ));
    // The format is kept with the model, and Date + Time gave the lines their times.
    let parsing = std::fs::read_to_string(model.join("parsing.json")).unwrap();
    assert!(
        parsing.contains("<Date> <Time> <Level> [<Thread>] <Content>"),
        "{parsing}"
    );
    assert!(model.join("timing.json").exists());
    // The generator's format on this log: the reason is the format, with an example line.
    trainer()
        .args(["logs", "--epochs", "2", "--session-regex", "sess-[0-9]+"])
        .args([
            "--format",
            "<Timestamp> <Host> <Level> <Component>: <Content>",
            "-i",
        ])
        .arg(&log)
        .arg("-m")
        .arg(dir.path().join("m2"))
        .assert()
        .code(2)
        .stderr(contains("400 of 400 lines did not fit the header format"))
        .stderr(contains(
            "line 1: \"2026-03-01 10:00:00,000 INFO [worker-1] open sess-00000\"",
        ))
        .stderr(contains("give --format"));
}
