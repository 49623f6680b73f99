//! `detector patterns` (issue 17): the pattern table with its values and changes against
//! a baseline, snapshot-tested on a hand-made log whose changes are known, and run on the
//! generator's logs.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// `n` lines from `start` (seconds), one a second, drawing templates by `shares` (of
/// [login, cache miss, gc pause, disk failing]) with a fixed-seed LCG.
fn log(start: i64, n: usize, shares: [u32; 4], seed: u64) -> String {
    let mut x = seed;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as u32
    };
    let total: u32 = shares.iter().sum();
    // Ten users: more than a template position with a few plain words (which splits).
    let users = [
        "ann", "bob", "cyd", "dee", "eve", "fay", "gus", "hal", "ivy", "jon",
    ];
    let mut out = String::new();
    for i in 0..n {
        let t = chrono::DateTime::from_timestamp(start + i as i64, 0).unwrap();
        let ts = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut r = next() % total;
        let mut k = 0;
        while r >= shares[k] {
            r -= shares[k];
            k += 1;
        }
        let v = next();
        let line = match k {
            0 => format!(
                "INFO auth: user {} logged in from 10.0.0.{}",
                users[(v % 10) as usize],
                v % 7
            ),
            1 => format!("INFO cache: cache miss key=item{}", v % 50),
            2 => format!("WARN jvm: gc pause {} ms", 10 + v % 90),
            _ => format!("ERROR disk: disk {} failing", v % 2),
        };
        let _ = writeln!(out, "{ts} web-{} {line}", 1 + v % 2);
    }
    out
}

fn patterns(args: &[&str], out: &Path) -> Value {
    Command::cargo_bin("detector")
        .unwrap()
        .arg("patterns")
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    serde_json::from_str(&fs::read_to_string(out.join("patterns.json")).unwrap()).unwrap()
}

#[test]
fn patterns_against_a_baseline_find_what_changed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.log");
    let new = dir.path().join("new.log");
    // Baseline: logins 60 %, misses 30 %, gc 10 %. Judged: logins 30 %, misses 60 %, gc
    // gone, disks failing 10 % (new).
    fs::write(&base, log(1_767_225_600, 4000, [60, 30, 10, 0], 1)).unwrap();
    fs::write(&new, log(1_767_312_000, 4000, [30, 60, 0, 10], 2)).unwrap();
    let out = dir.path().join("p");
    let s = patterns(
        &[
            "-i",
            new.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
        ],
        &out,
    );
    assert_eq!(
        (s["new"].as_u64(), s["vanished"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(
        (s["up"].as_u64(), s["down"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    let table = fs::read_to_string(out.join("patterns.txt")).unwrap();
    insta::assert_snapshot!(
        "patterns_against_a_baseline",
        table.replace(dir.path().to_str().unwrap(), "[dir]")
    );
    let mut r = csv::Reader::from_path(out.join("patterns.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let disk = rows.iter().find(|r| r[1].contains("failing")).unwrap();
    assert_eq!(&disk[8], "new");
    assert!(
        disk[10].contains("[2 distinct]"),
        "the disk names: {}",
        &disk[10]
    );
    assert!(
        disk[11].starts_with(char::is_numeric),
        "examples with line numbers"
    );
    for chart in ["volume.png", "scatter.png"] {
        let bytes = fs::read(out.join(chart)).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{chart}"
        );
    }

    // The same two periods in one file, split by time: the same verdicts.
    let both = dir.path().join("both.log");
    fs::write(
        &both,
        fs::read_to_string(&base).unwrap() + &fs::read_to_string(&new).unwrap(),
    )
    .unwrap();
    let until = patterns(
        &[
            "-i",
            both.to_str().unwrap(),
            "--baseline-until",
            "2026-01-02T00:00:00Z",
            "--no-charts",
        ],
        &dir.path().join("until"),
    );
    for k in ["new", "vanished", "up", "down", "lines", "baseline_lines"] {
        assert_eq!(until[k], s[k], "{k}");
    }

    // No change at all: two samples of the same mix differ only by chance.
    let same = dir.path().join("same.log");
    fs::write(&same, log(1_767_312_000, 4000, [60, 30, 10, 0], 3)).unwrap();
    let calm = patterns(
        &[
            "-i",
            same.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
            "--no-charts",
        ],
        &dir.path().join("calm"),
    );
    for k in ["new", "vanished", "up", "down"] {
        assert_eq!(calm[k], 0, "{k}: {calm}");
    }
}

#[test]
fn patterns_of_the_generated_test_log_against_its_training_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = super::generated(dir.path(), 23);
    let out = dir.path().join("p");
    let s = patterns(
        &[
            "-i",
            data.join("test/logs.log").to_str().unwrap(),
            "--baseline",
            data.join("train/logs.log").to_str().unwrap(),
        ],
        &out,
    );
    // Incidents write lines no normal period has.
    assert!(s["new"].as_u64().unwrap() > 0, "{s}");
    assert!(s["lines"].as_u64().unwrap() > 100_000, "{s}");
    let text = fs::read_to_string(out.join("patterns.txt")).unwrap();
    assert!(text.contains(" new "), "{text}");
    let bytes = fs::read(out.join("scatter.png")).unwrap();
    assert!(bytes.len() > 20_000);
}
