//! `detector parse` on generated logs (with bad lines mixed in).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::str::contains;

const LINES: usize = 20_000;

/// The first `LINES` lines of a generated training log, then one line of each bad kind.
fn log_with_bad_lines(dir: &Path) -> std::path::PathBuf {
    let out = super::generated(dir, 5);
    let text = fs::read_to_string(out.join("train/logs.log")).unwrap();
    let mut bytes: Vec<u8> = Vec::new();
    for line in text.lines().take(LINES) {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(b"2026-01-26T00:05:41.180Z lb-1 INFO haproxy: \xff\xfe binary\n");
    bytes.extend_from_slice(b"   \n");
    bytes.extend(std::iter::repeat_n(b'x', 20_000));
    bytes.extend_from_slice(b"\nno header on this line\n");
    let path = dir.join("app.log");
    fs::write(&path, bytes).unwrap();
    path
}

fn detector() -> Command {
    Command::cargo_bin("detector").unwrap()
}

#[test]
fn parse_mines_templates_and_counts_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_bad_lines(dir.path());
    let out = dir.path().join("parsed");
    detector()
        .args(["parse", "-i"])
        .arg(&log)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(contains(format!("{} lines, {LINES} parsed", LINES + 4)))
        .stderr(contains(
            "4 skipped (1 not UTF-8, 1 empty, 1 too long, 1 header",
        ));

    // templates.csv: every line counted once, request ids masked, few templates.
    let mut templates: HashMap<String, String> = HashMap::new();
    let mut total = 0;
    let mut reader = csv::Reader::from_path(out.join("templates.csv")).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["id", "template", "count"]);
    for r in reader.records() {
        let r = r.unwrap();
        total += r[2].parse::<usize>().unwrap();
        let id_left = r[1]
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|w| w.len() == 8);
        assert!(!id_left, "an id left in {:?}", &r[1]);
        templates.insert(r[0].to_string(), r[1].to_string());
    }
    assert_eq!(total, LINES);
    assert!((10..=60).contains(&templates.len()), "{templates:?}");
    assert!(
        templates
            .values()
            .any(|t| t == "req-<*> routed to backend web-<*>"),
        "{templates:?}"
    );

    // structured.csv: one row per parsed line, in order, with its final template.
    let mut reader = csv::Reader::from_path(out.join("structured.csv")).unwrap();
    assert_eq!(reader.headers().unwrap(), super::STRUCTURED_HEADER.to_vec());
    let mut rows = 0;
    for r in reader.records() {
        let r = r.unwrap();
        rows += 1;
        assert_eq!(r[0].parse::<usize>().unwrap(), rows);
        assert_eq!(templates[&r[6]], r[7]);
        // Every constant token of the template is in the line's content.
        for token in r[7].split(' ').filter(|t| !t.contains("<*>")) {
            assert!(r[5].contains(token), "{:?} not in {:?}", token, &r[5]);
        }
    }
    assert_eq!(rows, LINES);

    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("parse.json")).unwrap()).unwrap();
    let report = &summary["report"];
    for key in ["invalid_utf8", "empty", "too_long", "no_header"] {
        assert_eq!(report[key], 1, "{key}: {report}");
    }

    // The same input gives the same files.
    let again = dir.path().join("again");
    detector()
        .args(["parse", "-q", "-i"])
        .arg(&log)
        .arg("-o")
        .arg(&again)
        .assert()
        .success();
    for f in ["templates.csv", "structured.csv"] {
        assert_eq!(
            fs::read(out.join(f)).unwrap(),
            fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }

    // Settings are checked before anything is read or written.
    detector()
        .args(["parse", "--st", "1.5", "-i"])
        .arg(&log)
        .arg("-o")
        .arg(dir.path().join("bad"))
        .assert()
        .code(2)
        .stderr(contains("similarity 1.5"));
    detector()
        .args(["parse", "--mask", "(", "-i"])
        .arg(&log)
        .assert()
        .code(2)
        .stderr(contains("invalid mask"));
    detector()
        .args(["parse", "--format", "<Date> <Time>", "-i"])
        .arg(&log)
        .assert()
        .code(2)
        .stderr(contains("no <Content> field"));
}

/// Issue 18: an empty log "succeeded" (exit 0, 0 lines; with --labels, every labelled
/// session reported anomalous after 0 judged). It is an error naming the file.
#[test]
fn empty_log_is_an_error_not_an_empty_success() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    fs::write(&empty, "").unwrap();
    detector()
        .args(["parse", "-i"])
        .arg(&empty)
        .arg("-o")
        .arg(dir.path().join("parsed"))
        .assert()
        .failure()
        .stderr(contains("empty.log"))
        .stderr(contains("the log is empty"));
    assert!(!dir.path().join("parsed/templates.csv").exists());
    Command::cargo_bin("trainer")
        .unwrap()
        .args(["logs", "--input"])
        .arg(&empty)
        .arg("--model")
        .arg(dir.path().join("model"))
        .assert()
        .failure()
        .stderr(contains("the log is empty"));
}
