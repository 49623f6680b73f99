//! Structured logs (issue 17): the generator's `logs.jsonl` (a firehose of several hosts
//! and services) read as JSON lines and as logfmt, filtered with jq, with malformed lines
//! and missing fields.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::Value;

use vigil_generator::Overrides;
use vigil_generator::scenario::DEFAULT_SCENARIO;

/// Ten days of the default scenario, its logs written as text and as JSON lines.
fn generated(dir: &Path) -> PathBuf {
    let overrides = Overrides {
        seed: Some(17),
        duration: Some("10d".parse().unwrap()),
        train: Some("7d".parse().unwrap()),
        jsonl: true,
        ..Overrides::default()
    };
    super::generate_scenario(dir, "data", DEFAULT_SCENARIO, &overrides)
}

fn detector() -> Command {
    Command::cargo_bin("detector").unwrap()
}

/// `detector parse` on `input` (with `args`) into `out`; its parse.json.
fn parse(input: &Path, out: &Path, args: &[&str]) -> Value {
    detector()
        .arg("parse")
        .args(args)
        .arg("-i")
        .arg(input)
        .arg("-o")
        .arg(out)
        .assert()
        .success();
    serde_json::from_str(&fs::read_to_string(out.join("parse.json")).unwrap()).unwrap()
}

fn objects(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// logfmt of a JSON object of strings (quoted where needed).
fn logfmt(o: &Value) -> String {
    let mut parts = Vec::new();
    for (k, v) in o.as_object().unwrap() {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        if v.is_empty() || v.contains([' ', '"', '=']) {
            parts.push(format!(
                "{k}=\"{}\"",
                v.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        } else {
            parts.push(format!("{k}={v}"));
        }
    }
    parts.join(" ")
}

#[test]
fn json_lines_and_logfmt_parse_like_the_text_log_and_jq_selects_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path());
    let text = data.join("train/logs.log");
    let jsonl = data.join("train/logs.jsonl");

    // The same lines as text, JSON lines (found by `auto`) and logfmt: the same templates.
    let t = parse(&text, &dir.path().join("text"), &[]);
    let j = parse(&jsonl, &dir.path().join("json"), &[]);
    assert_eq!(j["format"], "json", "{j}");
    assert_eq!(j["lines_parsed"], t["lines_parsed"]);
    let templates = |d: &str| fs::read_to_string(dir.path().join(d).join("templates.csv")).unwrap();
    assert_eq!(templates("json"), templates("text"));
    let rows = objects(&jsonl);
    let lf = dir.path().join("logs.logfmt");
    let body: Vec<String> = rows.iter().map(logfmt).collect();
    fs::write(&lf, body.join("\n") + "\n").unwrap();
    let l = parse(&lf, &dir.path().join("logfmt"), &[]);
    assert_eq!(l["format"], "logfmt", "{l}");
    assert_eq!(templates("logfmt"), templates("text"));
    // structured.csv keeps each record's fields.
    let mut r = csv::Reader::from_path(dir.path().join("json/structured.csv")).unwrap();
    assert_eq!(r.headers().unwrap(), super::STRUCTURED_HEADER.to_vec());
    let first = r.records().next().unwrap().unwrap();
    assert_eq!(&first[2], rows[0]["host"].as_str().unwrap());
    assert_eq!(&first[5], rows[0]["message"].as_str().unwrap());

    // A jq filter keeps exactly the lines its predicate holds for.
    let keep = |o: &Value| o["level"] != "INFO" && o["host"].as_str().unwrap().starts_with("web");
    let expected = rows.iter().filter(|o| keep(o)).count();
    assert!(expected > 0 && expected < rows.len());
    let f = parse(
        &jsonl,
        &dir.path().join("filtered"),
        &[
            "--filter",
            r#"select(.level != "INFO" and (.host | startswith("web")))"#,
        ],
    );
    assert_eq!(f["lines_parsed"].as_u64().unwrap() as usize, expected);
    assert_eq!(
        f["report"]["filtered"].as_u64().unwrap() as usize,
        rows.len() - expected
    );
    let mut r = csv::Reader::from_path(dir.path().join("filtered/structured.csv")).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        assert!(&rec[3] != "INFO" && rec[2].starts_with("web"), "{rec:?}");
    }
    // A projection builds the message; a filter on a header format is refused.
    let p = parse(
        &jsonl,
        &dir.path().join("projected"),
        &[
            "--filter",
            r#"{message: "\(.component) \(.message)", host}"#,
        ],
    );
    assert_eq!(p["lines_parsed"], t["lines_parsed"]);
    detector()
        .args(["parse", "--filter", ".", "-i"])
        .arg(&text)
        .arg("-o")
        .arg(dir.path().join("refused"))
        .assert()
        .code(2)
        .stderr(contains("a jq filter reads JSON lines or logfmt"));
}

#[test]
fn a_malformed_json_line_is_named_or_skipped_and_missing_fields_are_empty() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path());
    let rows = objects(&data.join("test/logs.jsonl"));
    let mut lines: Vec<String> = rows.iter().take(3000).map(Value::to_string).collect();
    // Fields missing from some lines: no host, no level, no time.
    for (i, key) in [(10, "host"), (11, "level"), (12, "timestamp")] {
        let mut o = rows[i].clone();
        o.as_object_mut().unwrap().remove(key);
        lines[i] = o.to_string();
    }
    lines[99] = r#"{"timestamp": "2026-01-01T00:00:00Z", "message": "cut sh"#.into();
    let log = dir.path().join("app.jsonl");
    fs::write(&log, lines.join("\n") + "\n").unwrap();

    detector()
        .args(["parse", "--format", "json", "-i"])
        .arg(&log)
        .arg("-o")
        .arg(dir.path().join("strict"))
        .assert()
        .code(2)
        .stderr(contains("app.jsonl:100"))
        .stderr(contains("not JSON"))
        .stderr(contains("--skip-bad-lines"));
    assert!(!dir.path().join("strict/templates.csv").exists());

    let s = parse(
        &log,
        &dir.path().join("skipping"),
        &["--format", "json", "--skip-bad-lines"],
    );
    assert_eq!(s["lines_parsed"], 2999);
    assert_eq!(s["report"]["malformed"], 1);
    assert_eq!(s["report"]["first_malformed"][0], 100);
    let mut r = csv::Reader::from_path(dir.path().join("skipping/structured.csv")).unwrap();
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(&recs[10][2], "", "no host");
    assert_eq!(&recs[11][3], "", "no level");
    assert_eq!(&recs[12][1], "", "no time");
    assert_eq!(&recs[10][5], rows[10]["message"].as_str().unwrap());
}

#[test]
fn a_model_trained_on_json_lines_judges_them_as_the_text_model_judges_text() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path());
    let mut judged = Vec::new();
    for (name, ext) in [("text", "log"), ("json", "jsonl")] {
        let model = dir.path().join(format!("model-{name}"));
        Command::cargo_bin("trainer")
            .unwrap()
            .args(["logs", "--epochs", "2", "--quiet", "--input"])
            .arg(data.join(format!("train/logs.{ext}")))
            .arg("--model")
            .arg(&model)
            .assert()
            .success();
        let out = dir.path().join(format!("out-{name}"));
        detector()
            .args(["logs", "--quiet", "--input"])
            .arg(data.join(format!("test/logs.{ext}")))
            .arg("--model")
            .arg(&model)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let s: Value =
            serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        judged.push((s["sessions"].clone(), s["anomalous"].clone()));
        let parsing: Value =
            serde_json::from_str(&fs::read_to_string(model.join("parsing.json")).unwrap()).unwrap();
        let format = if name == "json" {
            "json"
        } else {
            "<Timestamp> <Host> <Level> <Component>: <Content>"
        };
        assert_eq!(parsing["format"], format, "{parsing}");
    }
    assert!(judged[0].0.as_u64().unwrap() > 1000, "{judged:?}");
    assert_eq!(judged[0], judged[1]);
}

#[test]
fn several_logs_in_their_own_formats_merge_in_time_order_keeping_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path());
    let rows = objects(&data.join("test/logs.jsonl"));
    let text: Vec<String> = fs::read_to_string(data.join("test/logs.log"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    // web-1 as text, db-1 as JSON lines, lb-1 as logfmt (a service each).
    let (mut web, mut db, mut lb) = (Vec::new(), Vec::new(), Vec::new());
    for (o, t) in rows.iter().zip(&text) {
        match o["host"].as_str().unwrap() {
            "web-1" => web.push(t.clone()),
            "db-1" => db.push(o.to_string()),
            "lb-1" => lb.push(logfmt(o)),
            _ => {}
        }
    }
    // One line of the database's file steps back in time.
    let late = db.remove(10);
    db.insert(20, late);
    let files = [("web.log", &web), ("db.jsonl", &db), ("lb.logfmt", &lb)];
    let mut args = vec!["merge".to_string()];
    for (name, lines) in files {
        fs::write(dir.path().join(name), lines.join("\n") + "\n").unwrap();
        args.extend(["-i".into(), dir.path().join(name).display().to_string()]);
    }
    let out = dir.path().join("merged.jsonl");
    detector()
        .args(&args)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(contains("as 'json'"))
        .stderr(contains("as 'logfmt'"))
        .stderr(contains("1 times earlier than the line before"));
    let merged = objects(&out);
    assert_eq!(merged.len(), web.len() + db.len() + lb.len());
    // In time order, except the one line kept in its file's order.
    let times: Vec<&str> = merged
        .iter()
        .map(|o| o["timestamp"].as_str().unwrap())
        .collect();
    let backwards = times.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(backwards <= 1, "{backwards}");
    // Each line keeps its source and line number, and its message.
    for (name, lines) in files {
        let source = dir.path().join(name).display().to_string();
        let mine: Vec<&Value> = merged
            .iter()
            .filter(|o| o["source"] == source.as_str())
            .collect();
        assert_eq!(mine.len(), lines.len(), "{name}");
        for (i, o) in mine.iter().enumerate() {
            assert_eq!(o["line"], i + 1, "{name}: file order kept");
        }
    }
    let db_first = merged
        .iter()
        .find(|o| o["source"].as_str().unwrap().ends_with("db.jsonl"))
        .unwrap();
    assert_eq!(
        db_first["message"],
        rows.iter().find(|o| o["host"] == "db-1").unwrap()["message"]
    );
    assert_eq!(db_first["host"], "db-1");
    // The firehose reads as JSON lines everywhere, filtered by source with jq.
    let p = parse(
        &out,
        &dir.path().join("p"),
        &["--filter", r#"select(.source | endswith("web.log"))"#],
    );
    assert_eq!(p["format"], "json");
    assert_eq!(p["lines_parsed"].as_u64().unwrap() as usize, web.len());
    // Fewer than two logs is refused.
    detector()
        .args(["merge", "-i"])
        .arg(dir.path().join("web.log"))
        .arg("-o")
        .arg(dir.path().join("one.jsonl"))
        .assert()
        .code(2)
        .stderr(contains("two logs or more"));
}
