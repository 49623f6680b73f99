//! `detector diff` (issue 17): two logs' k-tails machines compared (2KDiff). A hand-made
//! pair whose one change is known (snapshot of the report), and a generated scenario
//! against the same scenario with one log incident added.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

use vigil_generator::Overrides;
use vigil_generator::scenario::DEFAULT_SCENARIO;

/// `n` requests: accepted, auth (skipped with probability `skip`), read (70 %) or write,
/// completed; a fixed-seed LCG.
fn requests(n: usize, skip: f64, seed: u64) -> String {
    let mut x = seed;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let mut out = String::new();
    let mut t = 1_767_225_600_000i64;
    for i in 0..n {
        let id = format!("req-{:08x}", 0x1000_0000 + i * 7919);
        let mut steps = vec![format!("{id} accepted GET /item from 10.0.0.{}", i % 9)];
        if next() >= skip {
            steps.push(format!("{id} auth ok user={}", 100 + i % 50));
        }
        if next() < 0.7 {
            steps.push(format!("{id} db read items took {}ms", 1 + i % 20));
        } else {
            steps.push(format!("{id} db write items took {}ms", 1 + i % 20));
        }
        steps.push(format!("{id} completed 200 in {}ms", 5 + i % 30));
        for s in steps {
            t += 7;
            let ts = chrono::DateTime::from_timestamp_millis(t).unwrap();
            let ts = ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let _ = writeln!(out, "{ts} web-1 INFO nginx: {s}");
        }
    }
    out
}

fn diff(a: &Path, b: &Path, out: &Path, args: &[&str]) -> Value {
    Command::cargo_bin("detector")
        .unwrap()
        .arg("diff")
        .arg(a)
        .arg(b)
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    serde_json::from_str(&fs::read_to_string(out.join("diff.json")).unwrap()).unwrap()
}

/// (only in A, only in B, more in B, less in B) of a diff.json.
fn verdicts(s: &Value) -> [u64; 4] {
    ["only_a", "only_b", "more_in_b", "less_in_b"].map(|k| s[k].as_u64().unwrap())
}

fn flagged(out: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(out.join("diff.csv")).unwrap();
    r.records()
        .map(Result::unwrap)
        .filter(|r| !r[0].is_empty())
        .collect()
}

#[test]
fn a_skipped_step_is_found_and_chance_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.log"),
        dir.path().join("b.log"),
        dir.path().join("c.log"),
    );
    fs::write(&a, requests(3000, 0.0, 1)).unwrap();
    fs::write(&b, requests(3000, 0.2, 2)).unwrap();
    fs::write(&c, requests(3000, 0.0, 3)).unwrap();
    let out = dir.path().join("d");
    let s = diff(&a, &b, &out, &[]);
    // Accepted → read and accepted → write appear; accepted → auth becomes rarer. The
    // read/write mix, equal in both, differs only by chance.
    assert_eq!(verdicts(&s), [0, 2, 0, 1], "{s}");
    for r in flagged(&out) {
        let from = r[8].split(" → ").next().unwrap();
        assert!(from.contains("accepted GET"), "{r:?}");
    }
    insta::assert_snapshot!(
        "diff_skipped_auth",
        fs::read_to_string(out.join("diff.txt")).unwrap()
    );
    let dot = fs::read_to_string(out.join("diff.dot")).unwrap();
    assert!(
        dot.starts_with("digraph") && dot.contains("only B: "),
        "{dot}"
    );
    for f in ["diff.png", "diff.svg", "a.dot", "b.dot"] {
        assert!(
            out.join(f).exists(),
            "{f} (Graphviz's dot renders the pictures)"
        );
    }
    assert_eq!(s["rendered"], true);

    // Two samples of the same behaviour: nothing, with k = 1 and k = 2.
    for k in ["1", "2"] {
        let calm = diff(&a, &c, &dir.path().join(format!("calm{k}")), &["--k", k]);
        assert_eq!(verdicts(&calm), [0; 4], "k {k}: {calm}");
    }
}

/// The default scenario without incidents, and with one log incident kind added.
fn scenario(dir: &Path, name: &str, extra: &str) -> std::path::PathBuf {
    let base = DEFAULT_SCENARIO.split("[[incidents]]").next().unwrap();
    let overrides = Overrides {
        duration: Some("9d".parse().unwrap()),
        train: Some("6d".parse().unwrap()),
        ..Overrides::default()
    };
    super::generate_scenario(dir, name, &format!("{base}{extra}"), &overrides).join("test/logs.log")
}

#[test]
fn the_generated_scenario_with_one_incident_added_differs_in_that_incident_only() {
    let dir = tempfile::tempdir().unwrap();
    let a = scenario(dir.path(), "a", "");
    let b = scenario(
        dir.path(),
        "b",
        "[[incidents]]\nkind = \"skipped_step\"\nprobability = 1.0\n",
    );
    let out = dir.path().join("d");
    let s = diff(&a, &b, &out, &[]);
    let found = flagged(&out);
    assert!(!found.is_empty(), "{s}");
    // Requests that skip their auth line: accepted → the step after auth, only in B.
    assert!(
        found
            .iter()
            .any(|r| &r[0] == "only_in_B" && r[8].contains("accepted") && !r[8].contains("auth")),
        "{found:?}"
    );
    // Nothing spurious: every difference touches the accepted or the auth step.
    for r in &found {
        assert!(
            r[8].contains("accepted") || r[8].contains("auth ok"),
            "spurious: {r:?}"
        );
    }
}

#[test]
fn two_models_compare_by_the_transitions_they_learnt() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    fs::write(&a, requests(3000, 0.0, 1)).unwrap();
    fs::write(&b, requests(3000, 0.2, 2)).unwrap();
    for (log, model) in [(&a, "model-a"), (&b, "model-b")] {
        Command::cargo_bin("trainer")
            .unwrap()
            .args(["logs", "--epochs", "1", "--quiet", "--input"])
            .arg(log)
            .arg("--model")
            .arg(dir.path().join(model))
            .assert()
            .success();
    }
    let out = dir.path().join("d");
    let s = diff(
        &dir.path().join("model-a"),
        &dir.path().join("model-b"),
        &out,
        &[],
    );
    // The training sessions are the whole logs: the same verdicts as the logs' own diff.
    assert_eq!(verdicts(&s), [0, 2, 0, 1], "{s}");
    assert_eq!(s["format"], "models");
    // A log against a model is refused.
    Command::cargo_bin("detector")
        .unwrap()
        .arg("diff")
        .arg(&a)
        .arg(dir.path().join("model-b"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("not one of each"));
}
