//! The log-only incidents: they bend the order or the timing of a request's known lines,
//! never the words, leave the metrics alone, and are labelled by session with their kind;
//! sessions a file cuts are listed as normal; session ids are never reused.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use vigil_generator::incident::{IncidentKind, LOG_INCIDENT_KINDS};
use vigil_generator::{Options, Scenario, ScenarioFile, generate};

/// Two web hosts behind a load balancer with every log-only kind likely, and a nightly
/// job that runs over the split and over the end of the period.
fn scenario(log_incidents: bool) -> Scenario {
    let kinds: String = LOG_INCIDENT_KINDS
        .iter()
        .map(|k| {
            format!(
                "[[incidents]]\nkind = \"{}\"\nprobability = 0.5\n",
                k.name()
            )
        })
        .collect();
    let text = format!(
        r#"
seed = 11
start = "2026-01-05T00:00:00Z"
duration = "8d"
interval = "1m"
[split]
train = "4d"
[logs]
enabled = true
requests_per_minute = 2.0
[[hosts]]
name = "lb-1"
role = "lb"
depends_on = ["web"]
[[hosts]]
name = "web"
role = "web"
count = 2
[[processes]]
kind = "web_server"
[[processes]]
kind = "batch_job"
hosts = ["web-1"]
schedule = {{ kind = "daily", at = "23:30" }}
duration = "2h"
{}"#,
        if log_incidents { kinds } else { String::new() }
    );
    Scenario::from_file(ScenarioFile::parse(&text, "seq").unwrap(), "seq").unwrap()
}

fn run(dir: &Path, log_incidents: bool) {
    generate(
        &scenario(log_incidents),
        &Options {
            out: dir.to_path_buf(),
            charts: None,
            progress: false,
        },
    )
    .unwrap();
}

/// A line's message with its session id and numbers masked: what a template miner sees.
fn shape(line: &str) -> String {
    let message = line.split_once(": ").map_or(line, |(_, m)| m);
    message
        .split(' ')
        .map(|w| {
            if w.starts_with("req-")
                || w.starts_with("job-")
                || w.chars().any(|c| c.is_ascii_digit())
            {
                "<*>"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// session → its lines, in file order.
fn sessions(log: &str) -> HashMap<String, Vec<&str>> {
    let mut out: HashMap<String, Vec<&str>> = HashMap::new();
    for line in log.lines() {
        if let Some(id) = line
            .split(' ')
            .find(|w| w.starts_with("req-") || w.starts_with("job-"))
        {
            out.entry(id.to_string()).or_default().push(line);
        }
    }
    out
}

fn millis(line: &str) -> i64 {
    let ts = line.split(' ').next().unwrap();
    chrono::DateTime::parse_from_rfc3339(ts)
        .unwrap()
        .timestamp_millis()
}

#[test]
fn log_only_incidents_bend_known_lines_and_leave_the_metrics_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = (dir.path().join("with"), dir.path().join("without"));
    run(&with, true);
    run(&without, false);
    let read = |root: &Path, f: &str| std::fs::read_to_string(root.join(f)).unwrap();

    // The metrics and their labels are the run's without log-only incidents.
    for f in ["train/metrics.csv", "test/metrics.csv", "test/labels.csv"] {
        assert_eq!(read(&with, f), read(&without, f), "{f}");
    }

    // Every log-only kind bent some sessions, and every bent line is a line normal
    // sessions write too (same words, other values).
    let normal: HashSet<String> = read(&with, "train/logs.log").lines().map(shape).collect();
    let test_log = read(&with, "test/logs.log");
    let by_session = sessions(&test_log);
    let labels = read(&with, "test/session_labels.csv");
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for row in labels.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(f.len(), 5, "{row}");
        let (session, kind, anomalous) = (f[0], f[3], f[4]);
        if anomalous != "true" {
            continue;
        }
        *kinds.entry(kind.to_string()).or_default() += 1;
        let lines = &by_session[session];
        for l in lines {
            assert!(normal.contains(&shape(l)), "{kind} wrote a new line: {l}");
        }
        let kind_of = LOG_INCIDENT_KINDS
            .iter()
            .find(|k| k.name() == kind)
            .copied();
        match kind_of {
            Some(IncidentKind::CutSession) => {
                assert!(!lines.last().unwrap().contains(" completed "), "{lines:?}");
            }
            Some(IncidentKind::StalledSession) => {
                let longest = lines.windows(2).map(|w| millis(w[1]) - millis(w[0])).max();
                assert!(longest >= Some(10_000), "{lines:?}");
            }
            Some(IncidentKind::UnusualPath) => {
                assert!(lines.iter().any(|l| l.contains("cache stale")), "{lines:?}");
            }
            _ => {}
        }
    }
    for k in LOG_INCIDENT_KINDS {
        assert!(
            kinds.get(k.name()).copied().unwrap_or(0) >= 3,
            "{k:?}: {kinds:?}"
        );
    }
    // The stale-cache path is rare but valid: normal sessions take it too.
    assert!(normal.iter().any(|l| l.contains("cache stale")));
}

#[test]
fn sessions_a_file_cuts_are_listed_as_normal_and_ids_are_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), false);
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let cut = |part: &str| -> Vec<(String, String)> {
        read(&format!("{part}/session_labels.csv"))
            .lines()
            .skip(1)
            .map(|r| r.split(',').map(str::to_string).collect::<Vec<_>>())
            .filter(|f| f[4] == "false")
            .map(|f| (f[0].clone(), f[3].clone()))
            .collect()
    };
    // The nightly job at 23:30 runs over the split (midnight of day 4) and over the end.
    let (train, test) = (cut("train"), cut("test"));
    assert!(
        train.iter().any(|(_, k)| k == "cut_by_file_end"),
        "{train:?}"
    );
    assert!(
        test.iter().any(|(_, k)| k == "cut_by_file_start"),
        "{test:?}"
    );
    assert!(test.iter().any(|(_, k)| k == "cut_by_file_end"), "{test:?}");
    let (train_log, test_log) = (read("train/logs.log"), read("test/logs.log"));
    let (train_sessions, test_sessions) = (sessions(&train_log), sessions(&test_log));
    for (s, _) in train.iter().filter(|(_, k)| k == "cut_by_file_end") {
        assert!(test_sessions.contains_key(s), "{s} goes on in test");
    }
    // No id names two sessions: a session has one host and one "accepted" or "started".
    for log in [&train_sessions, &test_sessions] {
        for (id, lines) in log {
            let hosts: HashSet<&str> = lines.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
            let starts = lines
                .iter()
                .filter(|l| {
                    l.contains(" accepted ") || (l.contains(" cron: ") && l.ends_with(" started"))
                })
                .count();
            assert!(hosts.len() == 1 && starts <= 1, "{id}: {lines:?}");
        }
    }
}
