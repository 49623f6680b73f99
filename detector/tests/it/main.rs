//! End to end: generate → train → detect → evaluate on a generated fleet, and the
//! detector's answers to bad input.

mod diff;
mod judge;
mod logs;
mod online;
mod patterns;
mod structured;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::str::contains;

use vigil_core::series::ReadOptions;
use vigil_generator::scenario::DEFAULT_SCENARIO;
use vigil_generator::{Options, Overrides, Scenario, ScenarioFile, generate};
use vigil_model::config::TrainingConfig;
use vigil_trainer::{MetricsJob, train_metrics};

/// The default scenario on `seed`, generated (without charts) into `dir/data`.
pub(crate) fn generated(dir: &Path, seed: u64) -> PathBuf {
    let overrides = Overrides {
        seed: Some(seed),
        ..Overrides::default()
    };
    generate_scenario(dir, "data", DEFAULT_SCENARIO, &overrides)
}

/// The scenario file `text` with `overrides`, generated without charts into `dir/name`;
/// pinned incidents a shorter period leaves out are dropped, as the CLI drops them.
pub(crate) fn generate_scenario(
    dir: &Path,
    name: &str,
    text: &str,
    overrides: &Overrides,
) -> PathBuf {
    let mut file = ScenarioFile::parse(text, name).unwrap();
    file.apply(overrides);
    let scenario = Scenario::from_file_with(file, name, overrides).unwrap();
    let out = dir.join(name);
    generate(
        &scenario,
        &Options {
            out: out.clone(),
            charts: None,
            progress: false,
        },
    )
    .unwrap();
    out
}

/// The header of `detector parse`'s structured.csv for the generator's log format (and
/// for JSON lines and logfmt, read into the same fields).
pub(crate) const STRUCTURED_HEADER: [&str; 8] = [
    "line",
    "Timestamp",
    "Host",
    "Level",
    "Component",
    "Content",
    "template_id",
    "template",
];

/// The default scenario on another seed (so nothing is tuned to the README's run),
/// generated, and a model trained on its incident-free training part.
fn fleet(dir: &Path) -> (PathBuf, PathBuf) {
    let out = generated(dir, 20_261_122);
    let model = dir.join("model");
    train_metrics(
        &MetricsJob {
            input: &out.join("train/metrics.csv"),
            model_dir: &model,
            read: ReadOptions::default(),
            config: TrainingConfig::default(),
            force: false,
        },
        &mut (),
    )
    .unwrap();
    (out.join("test"), model)
}

fn detector() -> Command {
    Command::cargo_bin("detector").unwrap()
}

#[test]
fn generate_train_detect_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let (test, model) = fleet(dir.path());
    let results = dir.path().join("results");
    detector()
        .args(["metrics", "-i"])
        .arg(test.join("metrics.csv"))
        .arg("-m")
        .arg(&model)
        .arg("-o")
        .arg(&results)
        .arg("--labels")
        .arg(test.join("labels.csv"))
        .assert()
        .success()
        .stderr(contains("incidents found"));

    // One scores row per input row, in order.
    let input_rows = fs::read_to_string(test.join("metrics.csv"))
        .unwrap()
        .lines()
        .count();
    let scores = fs::read_to_string(results.join("scores.csv")).unwrap();
    assert_eq!(scores.lines().count(), input_rows);
    assert!(scores.starts_with("timestamp,host,score,threshold,anomaly,cpu_share,"));

    let e: serde_json::Value =
        serde_json::from_slice(&fs::read(results.join("evaluation.json")).unwrap()).unwrap();
    let m = &e["model"];
    let b = &e["baseline"];
    let incidents = m["incidents"].as_u64().unwrap();
    let found = m["incidents_found"].as_u64().unwrap();
    let fa = m["false_alarms_per_host_day"].as_f64().unwrap();
    assert!(incidents >= 10, "{e}");
    // Measured on this seed with the default decision (likelihood at two scales, per
    // column too with its hour-of-day discount, range rule judging positive quantities by
    // ratios below, per-hour context): 34/41 found (all but two partitions, two cascades,
    // a crash loop and two variance bursts) at 0.15 false alarms per host-day, against the
    // baseline's 31/41 at 0.12. The bars: four incidents in five found, few false alarms,
    // more found than the baseline.
    assert!(
        5 * found >= 4 * incidents,
        "not four incidents in five found: {found}/{incidents}\n{e}"
    );
    assert!(
        found > b["incidents_found"].as_u64().unwrap(),
        "the model must find more incidents than the baseline\n{e}"
    );
    // Traffic falling to a few percent of its lowest: the range rule's ratio side.
    let part = &m["by_kind"]["network_partition"];
    assert!(
        part[0].as_u64().unwrap() * 2 >= part[1].as_u64().unwrap().max(1),
        "half the network partitions found\n{e}"
    );
    assert!(fa < 0.2, "too many false alarms: {fa} per host-day\n{e}");
    // A frozen agent repeats plausible values: found by the frozen-metrics rule.
    let flat = &m["by_kind"]["flatline"];
    assert!(
        flat[1].as_u64().unwrap() > 0,
        "the scenario has flatlines\n{e}"
    );
    assert_eq!(flat[0], flat[1], "every flatline found\n{e}");
    assert!(
        m["event_f1"].as_f64().unwrap() > b["event_f1"].as_f64().unwrap(),
        "the model must beat the per-hour z-score baseline\n{e}"
    );

    // Every anomaly has top metrics and an explanation naming its host.
    let mut reader = csv::Reader::from_path(results.join("anomalies.csv")).unwrap();
    let mut n = 0;
    for r in reader.records() {
        let r = r.unwrap();
        n += 1;
        assert!(!r[6].is_empty(), "no top metrics: {r:?}");
        assert!(r[7].contains(&format!("on {}", &r[0])), "{r:?}");
    }
    assert!(n > 0);

    // Charts: the error histogram, the fleet's scores, one chart per host and month.
    let charts = results.join("charts");
    let png = |p: &Path| {
        let bytes = fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(&bytes[1..4], b"PNG", "{}", p.display());
        assert!(bytes.len() > 10_000, "{} is nearly empty", p.display());
    };
    png(&charts.join("error_histogram.png"));
    png(&charts.join("scores.png"));
    let hosts: std::collections::BTreeSet<&str> = scores
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    let mut host_charts = 0;
    for host in &hosts {
        let months: Vec<PathBuf> = fs::read_dir(charts.join(host))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!months.is_empty(), "no chart for {host}");
        for m in &months {
            let name = m.file_name().unwrap().to_str().unwrap();
            assert!(
                name.len() == "2026-02.png".len() && name.ends_with(".png"),
                "{name}"
            );
            png(m);
        }
        host_charts += months.len();
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(results.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["charts"].as_array().unwrap().len(), 2 + host_charts);

    // `detector eval` on the written scores gives the same evaluation.
    detector()
        .args(["eval", "--scores"])
        .arg(results.join("scores.csv"))
        .arg("--labels")
        .arg(test.join("labels.csv"))
        .arg("--out")
        .arg(dir.path().join("again"))
        .assert()
        .success();
    let again: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("again/evaluation.json")).unwrap())
            .unwrap();
    assert_eq!(again, e);

    bad_inputs(dir.path(), &test, &model);
    logs_end_to_end(dir.path(), &test);
}

/// The generator's logs: DeepLog trained on the clean weeks' raw log finds the sessions
/// incidents bent in the test weeks, with reasons; bad log models are refused.
fn logs_end_to_end(dir: &Path, test: &Path) {
    let train_log = test.parent().unwrap().join("train/logs.log");
    let model = dir.join("logs-model");
    Command::cargo_bin("trainer")
        .unwrap()
        .args(["logs", "-q", "-i"])
        .arg(&train_log)
        .arg("-m")
        .arg(&model)
        .assert()
        .success();
    // A session rule that matches nothing: refused, naming the file and what was found.
    Command::cargo_bin("trainer")
        .unwrap()
        .args(["logs", "-q", "--session-regex", "nomatch-[0-9]{40}", "-i"])
        .arg(&train_log)
        .arg("-m")
        .arg(dir.join("no-sessions"))
        .assert()
        .code(2)
        .stderr(contains("logs.log: nothing to learn from: 0 sessions"));
    let dot = fs::read_to_string(model.join("transitions.dot")).unwrap();
    assert!(dot.starts_with("digraph transitions {") && dot.contains("start -> e"));

    let out = dir.join("logs-results");
    detector()
        .args(["logs", "-i"])
        .arg(test.join("logs.log"))
        .arg("-m")
        .arg(&model)
        .arg("-o")
        .arg(&out)
        .arg("--labels")
        .arg(test.join("session_labels.csv"))
        .assert()
        .success()
        .stderr(contains("sessions judged"));
    let e: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("evaluation.json")).unwrap()).unwrap();
    let (m, b) = (&e["model"], &e["baseline"]);
    // Measured on this seed: DeepLog recall 0.985, precision 0.971 (F1 0.978); the unseen
    // template or transition rule 0.875 / 0.988 (0.928). Bars below the measurement.
    let f1 = |s: &serde_json::Value| s["f1"].as_f64().unwrap();
    assert!(e["anomalous"].as_u64().unwrap() >= 50, "{e}");
    assert!(m["recall"].as_f64().unwrap() >= 0.95, "{e}");
    assert!(m["precision"].as_f64().unwrap() >= 0.9, "{e}");
    assert!(f1(m) > f1(b) && f1(b) > f1(&e["new_event"]), "{e}");
    // The kinds that only bend the order or the timing of known lines: DeepLog finds them,
    // the unseen-template rule finds none, and only the model's timing sees a stall.
    let kinds = e["by_kind"].as_array().unwrap();
    let kind = |name: &str| {
        let k = kinds
            .iter()
            .find(|k| k["kind"] == name)
            .unwrap_or_else(|| panic!("no {name} in {e}"));
        let n = k["sessions"].as_f64().unwrap();
        assert!(n >= 5.0, "{name}: {k}");
        let share = |who: &str| k[who].as_f64().unwrap() / n;
        (share("model"), share("baseline"), share("new_event"))
    };
    for name in [
        "skipped_step",
        "reordered_steps",
        "repeated_step",
        "cut_session",
        "stalled_session",
    ] {
        let (found, _, new_event) = kind(name);
        assert!(found >= 0.9 && new_event < 0.3, "{name}: {e}");
    }
    let (found, baseline, _) = kind("stalled_session");
    assert!(found >= 0.9 && baseline == 0.0, "{e}");
    // Sessions the split cut are listed as normal, and nobody flags them.
    assert!(e["cut"]["sessions"].as_u64().unwrap() >= 1, "{e}");
    assert_eq!(e["cut"]["model"], 0, "{e}");
    assert_eq!(e["cut"]["baseline"], 0, "{e}");

    let mut reader = csv::Reader::from_path(out.join("sessions.csv")).unwrap();
    let (mut anomalous, mut unseen, mut expected, mut stalled) = (0, 0, 0, 0);
    for r in reader.records() {
        let r = r.unwrap();
        if &r[1] == "1" {
            anomalous += 1;
            assert!(
                !r[6].is_empty(),
                "an anomalous session without a reason: {r:?}"
            );
            assert!(!r[5].is_empty(), "no first anomalous line: {r:?}");
            unseen += usize::from(r[6].starts_with("unseen template"));
            expected += usize::from(r[6].contains("expected one of ["));
            stalled += usize::from(r[6].starts_with("stalled: ") && r[6].contains(" in training)"));
        } else {
            assert!(r[6].is_empty(), "a normal session with a reason: {r:?}");
        }
    }
    assert!(
        anomalous > 0 && unseen > 0 && expected > 0 && stalled > 0,
        "{anomalous} {unseen} {expected} {stalled}"
    );

    // A metrics model is not a log model, and the other way round.
    detector()
        .args(["logs", "-q", "-i"])
        .arg(test.join("logs.log"))
        .arg("-m")
        .arg(dir.join("model"))
        .arg("-o")
        .arg(dir.join("bad-logs"))
        .assert()
        .code(2)
        .stderr(contains("holds a metrics model"));
    // A truncated weights file.
    let weights = model.join("weights.bpk");
    let bytes = fs::read(&weights).unwrap();
    fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    detector()
        .args(["logs", "-q", "-i"])
        .arg(test.join("logs.log"))
        .arg("-m")
        .arg(&model)
        .arg("-o")
        .arg(dir.join("bad-logs"))
        .assert()
        .code(2)
        .stderr(contains("weights.bpk is truncated"));
    assert!(!dir.join("bad-logs/sessions.csv").exists());
}

fn fails(dir: &Path, input: &Path, model: &Path, needle: &str) {
    detector()
        .args(["metrics", "-q", "-i"])
        .arg(input)
        .arg("-m")
        .arg(model)
        .arg("-o")
        .arg(dir.join("bad-results"))
        .assert()
        .code(2)
        .stderr(contains(needle));
    assert!(
        !dir.join("bad-results/scores.csv").exists(),
        "a failed run left a scores.csv"
    );
}

/// Runs `detector metrics` on `input` into `dir/out`, expecting success and `needle` on
/// stderr; returns its summary.json.
fn succeeds(dir: &Path, input: &Path, model: &Path, out: &str, needle: &str) -> serde_json::Value {
    detector()
        .args(["metrics", "-q", "--no-charts", "-i"])
        .arg(input)
        .arg("-m")
        .arg(model)
        .arg("-o")
        .arg(dir.join(out))
        .assert()
        .success()
        .stderr(contains(needle));
    serde_json::from_slice(&fs::read(dir.join(out).join("summary.json")).unwrap()).unwrap()
}

/// Rewrites the first `n` data rows of the test metrics through `edit`.
fn variant(
    dir: &Path,
    test: &Path,
    name: &str,
    n: usize,
    edit: impl Fn(&str) -> Option<String>,
) -> PathBuf {
    let text = fs::read_to_string(test.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = String::new();
    let header = lines.next().unwrap();
    if let Some(h) = edit(header) {
        out.push_str(&h);
        out.push('\n');
    }
    for l in lines.take(n) {
        if let Some(l) = edit(l) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    let p = dir.join(name);
    fs::write(&p, out).unwrap();
    p
}

fn bad_inputs(dir: &Path, test: &Path, model: &Path) {
    // Columns that differ from the model's.
    // Columns that differ from the model's: net_out (the next-to-last field) dropped.
    let p = variant(dir, test, "cols.csv", 100, |l| {
        let mut f: Vec<&str> = l.split(',').collect();
        f.remove(f.len() - 2);
        Some(f.join(","))
    });
    fails(dir, &p, model, "lacks");
    // An empty file.
    let p = dir.join("empty.csv");
    fs::write(&p, "").unwrap();
    fails(dir, &p, model, "empty");
    // An unknown host.
    let p = variant(dir, test, "host.csv", 50, |l| {
        Some(l.replacen("web-1", "web-99", 1))
    });
    fails(dir, &p, model, "unknown host \"web-99\"");
    // Another step: every fifth row of one host (5 minutes for a 1-minute model).
    let text = fs::read_to_string(test.join("metrics.csv")).unwrap();
    let mut out: Vec<&str> = vec![text.lines().next().unwrap()];
    out.extend(
        text.lines()
            .filter(|l| l.contains(",web-1,"))
            .step_by(5)
            .take(100),
    );
    let p = dir.join("step.csv");
    fs::write(&p, out.join("\n") + "\n").unwrap();
    fails(dir, &p, model, "apart");
    // A step near the model's (66 s for 60 s) is resampled onto the model's grid, and said.
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let web: Vec<&str> = lines.filter(|l| l.contains(",web-1,")).take(300).collect();
    let t0 = vigil_core::time::parse_timestamp(web[0].split(',').next().unwrap())
        .unwrap()
        .timestamp();
    let mut out = vec![header.to_string()];
    for (i, l) in web.iter().enumerate() {
        let rest = l.split_once(',').unwrap().1;
        out.push(format!(
            "{},{rest}",
            vigil_core::time::rfc3339(t0 + 66 * i as i64)
        ));
    }
    let p = dir.join("drift.csv");
    fs::write(&p, out.join("\n") + "\n").unwrap();
    let s = succeeds(
        dir,
        &p,
        model,
        "drift",
        "resampled onto the model's step of 1 min",
    );
    assert_eq!(s["report"]["resampled"][0]["host"], "web-1", "{s}");
    assert_eq!(s["report"]["resampled"][0]["step"], 66, "{s}");
    assert_eq!(s["report"]["rows"], 300, "{s}");
    // A row older than its host's previous one is written out unscored, counted and said.
    let mut lines: Vec<String> = text.lines().take(400).map(str::to_string).collect();
    let first_web = lines.iter().position(|l| l.contains(",web-1,")).unwrap();
    let late = lines.remove(first_web);
    lines.push(late);
    let p = dir.join("order.csv");
    fs::write(&p, lines.join("\n") + "\n").unwrap();
    let s = succeeds(
        dir,
        &p,
        model,
        "order",
        "1 rows older than their host's previous row",
    );
    assert_eq!(s["report"]["out_of_order"], 1, "{s}");
    let scores = fs::read_to_string(dir.join("order/scores.csv")).unwrap();
    assert_eq!(
        scores.lines().count(),
        lines.len(),
        "every input row in scores.csv"
    );
    // A malformed value names file and line; --skip-bad-lines counts it instead.
    let p = variant(dir, test, "value.csv", 200, |l| {
        Some(if l.starts_with("2") && l.contains(",db-1,") {
            l.replacen(",db-1,", ",db-1,oops", 1)
        } else {
            l.to_string()
        })
    });
    fails(dir, &p, model, "value.csv:");
    // Issue 18: a row with one field more than the header was scored silently; it is a
    // bad line like any other, named with its line (the trainer's own check).
    let p = variant(dir, test, "fields.csv", 200, |l| {
        Some(if l.starts_with("2") && l.contains(",web-1,") {
            format!("{l},7")
        } else {
            l.to_string()
        })
    });
    fails(dir, &p, model, "fields like the header, found 9");
    detector()
        .args(["metrics", "--skip-bad-lines", "-i"])
        .arg(&p)
        .arg("-m")
        .arg(model)
        .arg("-o")
        .arg(dir.join("skipped"))
        .assert()
        .success();
    let s: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("skipped/summary.json")).unwrap()).unwrap();
    assert!(s["report"]["skipped_lines"].as_u64().unwrap() > 0, "{s}");
    // Model directories: missing, and from another format version.
    fails(
        dir,
        &test.join("metrics.csv"),
        &dir.join("nope"),
        "does not exist",
    );
    let other = dir.join("old-model");
    fs::create_dir_all(&other).unwrap();
    for f in fs::read_dir(model).unwrap() {
        let f = f.unwrap().path();
        fs::copy(&f, other.join(f.file_name().unwrap())).unwrap();
    }
    let manifest = fs::read_to_string(other.join("manifest.json")).unwrap();
    fs::write(
        other.join("manifest.json"),
        manifest.replace("\"format_version\": 3", "\"format_version\": 1"),
    )
    .unwrap();
    fails(
        dir,
        &test.join("metrics.csv"),
        &other,
        "train the model again",
    );
}
