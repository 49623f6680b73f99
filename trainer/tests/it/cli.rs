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
