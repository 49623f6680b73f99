//! Issue 18: property-based fuzzing of the readers: the metrics CSV reader, the log-line
//! reader and the header-format matcher take arbitrary bytes and structured mutations of
//! valid input without a panic; every error names the file (and, for a line, the line),
//! and no error echoes more than about 100 characters of a bad value.

use std::path::Path;

use proptest::prelude::*;
use vigil_core::logs::format::LogFormat;
use vigil_core::logs::read::LogReader;
use vigil_core::series::{BadLines, ReadOptions, read_table_from};

const PATH: &str = "fuzz.csv";
/// The longest error message allowed: the fixed text of the longest message, the path and
/// at most ~100 characters of the value at fault.
const MAX_MESSAGE: usize = 480;

/// A valid table: two hosts, 1-minute steps, three metrics.
fn valid_csv(rows: usize) -> String {
    let mut s = String::from("timestamp,host,cpu,ram,disk\n");
    for i in 0..rows {
        for host in ["a", "b"] {
            s.push_str(&format!(
                "2026-01-01T{:02}:{:02}:00Z,{host},{}.5,{},{}\n",
                i / 60,
                i % 60,
                i % 97,
                40 + i % 7,
                10 + i % 3
            ));
        }
    }
    s
}

/// An edit of a valid input: a byte replaced, a run inserted or removed, a line repeated,
/// a very long value.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    RepeatLine(usize),
    LongValue(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..12)
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Remove(i, n)),
        any::<usize>().prop_map(Mutation::RepeatLine),
        (any::<usize>(), 200usize..20_000).prop_map(|(i, n)| Mutation::LongValue(i, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Mutation]) -> Vec<u8> {
    for m in edits {
        let n = bytes.len().max(1);
        match m {
            Mutation::Replace(i, b) => {
                if !bytes.is_empty() {
                    bytes[i % n] = *b;
                }
            }
            Mutation::Insert(i, v) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Remove(i, k) => {
                let at = (i % n).min(bytes.len());
                let end = (at + k).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::RepeatLine(i) => {
                let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
                let mut line = lines[i % lines.len()].to_vec();
                line.push(b'\n');
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, line);
            }
            Mutation::LongValue(i, len) => {
                // A very long value where a field starts (after a comma).
                let starts: Vec<usize> = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b',')
                    .map(|(k, _)| k + 1)
                    .collect();
                if let Some(&at) = starts.get(i % starts.len().max(1)) {
                    bytes.splice(at..at, std::iter::repeat_n(b'7', *len));
                }
            }
        }
    }
    bytes
}

fn check_table(bytes: &[u8], bad_lines: BadLines) -> Result<(), TestCaseError> {
    let options = ReadOptions {
        bad_lines,
        ..ReadOptions::default()
    };
    if let Err(e) = read_table_from(bytes, Path::new(PATH), &options) {
        let m = e.to_string();
        prop_assert!(m.contains(PATH), "the error does not name the file: {m}");
        prop_assert!(m.len() <= MAX_MESSAGE, "{} characters: {m}", m.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn the_csv_reader_takes_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_table(&bytes, BadLines::Fail)?;
        check_table(&bytes, BadLines::Skip)?;
    }

    #[test]
    fn the_csv_reader_takes_mutations_of_a_valid_table(
        rows in 1usize..120,
        edits in proptest::collection::vec(mutation(), 1..6),
    ) {
        let bytes = apply(valid_csv(rows).into_bytes(), &edits);
        check_table(&bytes, BadLines::Fail)?;
        check_table(&bytes, BadLines::Skip)?;
    }

    #[test]
    fn the_log_reader_takes_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        max in 1usize..300,
    ) {
        let mut r = LogReader::new(&bytes[..], Path::new("fuzz.log"), max);
        let mut last = 0;
        loop {
            match r.next_line() {
                Ok(Some((n, line))) => {
                    prop_assert!(n > last, "line numbers go up");
                    prop_assert!(line.len() <= max + 2);
                    last = n;
                }
                Ok(None) => break,
                Err(e) => {
                    let m = e.to_string();
                    prop_assert!(m.starts_with("fuzz.log:"), "{m}");
                    prop_assert!(m.len() <= MAX_MESSAGE, "{m}");
                    break;
                }
            }
        }
    }

    #[test]
    fn header_formats_and_lines_never_panic(
        format in "[<>a-zA-Z \\[\\]:,|-]{0,40}",
        line in "\\PC{0,120}",
    ) {
        match LogFormat::new(&format) {
            Ok(f) => {
                if let Some(fields) = f.split(&line) {
                    prop_assert_eq!(fields.len(), f.fields().len());
                }
            }
            Err(e) => prop_assert!(e.to_string().len() <= MAX_MESSAGE),
        }
    }
}

#[test]
fn a_long_bad_value_is_not_echoed_whole() {
    let mut csv = valid_csv(5);
    csv.push_str(&format!(
        "2026-01-01T01:00:00Z,a,{},1,1\n",
        "x".repeat(50_000)
    ));
    let e = read_table_from(csv.as_bytes(), Path::new(PATH), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("fuzz.csv:12"), "{e}");
    assert!(e.len() <= MAX_MESSAGE, "{} characters: {e}", e.len());
}
