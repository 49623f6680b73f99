//! Issue 18: the scenario loader under fuzzing: mutations of the embedded default scenario
//! (lines dropped, repeated or swapped, characters replaced or inserted, values made
//! huge) are loaded and checked without a panic; every failure is an error with a bounded
//! message.

use proptest::prelude::*;
use vigil_generator::scenario::DEFAULT_SCENARIO;
use vigil_generator::{Overrides, Scenario, ScenarioFile};

#[derive(Debug, Clone)]
enum Edit {
    DropLine(usize),
    RepeatLine(usize),
    SwapLines(usize, usize),
    ReplaceChar(usize, char),
    InsertText(usize, String),
    HugeNumber(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DropLine),
        any::<usize>().prop_map(Edit::RepeatLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| Edit::ReplaceChar(i, c)),
        (any::<usize>(), "[a-z_=\\[\\]\"0-9. -]{1,12}").prop_map(|(i, s)| Edit::InsertText(i, s)),
        any::<usize>().prop_map(Edit::HugeNumber),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::DropLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::RepeatLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Edit::ReplaceChar(i, c) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                let chars: Vec<char> = line.chars().collect();
                if !chars.is_empty() {
                    let k = i % chars.len();
                    *line = chars[..k]
                        .iter()
                        .chain([c])
                        .chain(&chars[k + 1..])
                        .collect();
                }
            }
            Edit::InsertText(i, s) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                let at = line
                    .char_indices()
                    .map(|(k, _)| k)
                    .nth(i % (line.len() + 1))
                    .unwrap_or(line.len());
                line.insert_str(at, s);
            }
            Edit::HugeNumber(i) if !lines.is_empty() => {
                // A number somewhere becomes enormous (or its digits repeated).
                let line = &mut lines[i % n];
                if let Some(k) = line.find(|c: char| c.is_ascii_digit()) {
                    line.insert_str(k, "99999999999999999999");
                }
            }
            _ => {}
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_scenarios_load_or_fail_cleanly(edits in proptest::collection::vec(edit(), 1..5)) {
        let text = apply(DEFAULT_SCENARIO, &edits);
        match ScenarioFile::parse(&text, "fuzz.toml") {
            Ok(file) => {
                if let Err(e) = Scenario::from_file_with(file, "fuzz.toml", &Overrides::default()) {
                    let m = e.to_string();
                    prop_assert!(!m.is_empty() && m.len() <= 2000, "{} characters: {m}", m.len());
                }
            }
            Err(e) => {
                let m = e.to_string();
                prop_assert!(m.contains("fuzz.toml"), "{m}");
                prop_assert!(m.len() <= 2000, "{} characters: {m}", m.len());
            }
        }
    }
}
