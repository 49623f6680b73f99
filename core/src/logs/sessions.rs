//! Sessions: the sequences of template ids that log models learn from.
//!
//! Lines are grouped by an id they carry (an HDFS block, a request, a job: a line naming
//! several ids joins each of them, as DeepLog's HDFS sessions are built), by runs of a fixed
//! number of lines, or by tumbling time windows; runs and windows are per group (a host)
//! when lines carry one. Sessions come out in the order of their first line, their events
//! in input order. Pre-parsed sequence files (`BlockId,Label,Split,EventSequence`) are read
//! by [`read_sequences`].

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{Error, TemplateId};
use crate::time::{Duration, rfc3339};

/// Block ids (HDFS) and the generator's request and job ids.
pub const DEFAULT_ID_PATTERNS: [&str; 2] = [r"blk_-?\d+", r"(?:req|job)-[0-9a-f]{8}"];

/// How lines become sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SessionRule {
    /// One session per distinct id matched by any pattern; lines without an id join none.
    Id { patterns: Vec<String> },
    /// Consecutive runs of this many lines.
    Lines { lines: usize },
    /// Tumbling windows of this width, aligned to the unix epoch; lines need a time.
    Time { width: Duration },
}

impl Default for SessionRule {
    fn default() -> Self {
        SessionRule::Id {
            patterns: DEFAULT_ID_PATTERNS.iter().map(|p| p.to_string()).collect(),
        }
    }
}

impl SessionRule {
    /// Checks the rule (patterns compile, sizes are positive) into a [`Sessionizer`].
    pub fn start(&self) -> Result<Sessionizer, Error> {
        let rule = match self {
            SessionRule::Id { patterns } => {
                if patterns.is_empty() {
                    return Err(Error::Session("no session id pattern given".into()));
                }
                Rule::Id(
                    patterns
                        .iter()
                        .map(|p| {
                            Regex::new(p).map_err(|e| Error::SessionPattern {
                                pattern: p.clone(),
                                message: e.to_string(),
                            })
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
            SessionRule::Lines { lines: 0 } => {
                return Err(Error::Session("a session needs at least 1 line".into()));
            }
            SessionRule::Lines { lines } => Rule::Lines(*lines as u64, HashMap::new()),
            SessionRule::Time { width } if width.secs() <= 0 => {
                return Err(Error::Session(format!(
                    "time window {width} is not positive"
                )));
            }
            SessionRule::Time { width } => Rule::Time(width.secs() * 1000),
        };
        Ok(Sessionizer {
            rule,
            index: HashMap::new(),
            sessions: Vec::new(),
            without_id: 0,
        })
    }
}

/// One parsed line, as sessions see it.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// Line number in the file.
    pub line: u64,
    /// Where ids are looked for (the content, or the whole line).
    pub text: &'a str,
    /// Unix milliseconds, for time windows.
    pub time_ms: Option<i64>,
    /// Runs and windows are per group (`""` for one group).
    pub group: &'a str,
    /// The line's template; `None` for a line no template matched.
    pub template: Option<TemplateId>,
}

/// A session: its key and its lines' templates in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The id, `group#n` for the n-th run of a group, or `group@start` for a window.
    pub key: String,
    pub lines: Vec<u64>,
    pub events: Vec<Option<TemplateId>>,
    /// Each line's time (unix ms) where the format has one.
    #[serde(default)]
    pub times: Vec<Option<i64>>,
}

enum Rule {
    Id(Vec<Regex>),
    /// Lines per session, and lines seen so far per group.
    Lines(u64, HashMap<String, u64>),
    /// Window width in milliseconds.
    Time(i64),
}

/// Groups events into sessions as they come.
pub struct Sessionizer {
    rule: Rule,
    index: HashMap<String, usize>,
    sessions: Vec<Session>,
    without_id: u64,
}

impl Sessionizer {
    /// Adds a line to its session(s). Fails only for a time window rule and a line
    /// without a time.
    pub fn push(&mut self, event: &Event) -> Result<(), Error> {
        match &mut self.rule {
            Rule::Id(patterns) => {
                let mut ids: Vec<&str> = Vec::new();
                for p in patterns.iter() {
                    for m in p.find_iter(event.text) {
                        if !ids.contains(&m.as_str()) {
                            ids.push(m.as_str());
                        }
                    }
                }
                if ids.is_empty() {
                    self.without_id += 1;
                }
                for id in ids {
                    let at = session(&mut self.index, &mut self.sessions, id);
                    self.sessions[at].push(event);
                }
            }
            Rule::Lines(size, seen) => {
                let n = seen.entry(event.group.to_string()).or_insert(0);
                let key = format!("{}#{}", event.group, *n / *size);
                *n += 1;
                let at = session(&mut self.index, &mut self.sessions, &key);
                self.sessions[at].push(event);
            }
            Rule::Time(width) => {
                let Some(t) = event.time_ms else {
                    return Err(Error::Session(format!(
                        "line {}: time windows need a timestamp and this line has none",
                        event.line
                    )));
                };
                let start = t.div_euclid(*width) * *width;
                let key = format!("{}@{}", event.group, rfc3339(start.div_euclid(1000)));
                let at = session(&mut self.index, &mut self.sessions, &key);
                self.sessions[at].push(event);
            }
        }
        Ok(())
    }

    /// Lines that carried no id (id rules only).
    pub fn without_id(&self) -> u64 {
        self.without_id
    }

    /// The sessions in the order of their first line.
    pub fn finish(self) -> Vec<Session> {
        self.sessions
    }
}

impl Session {
    fn push(&mut self, event: &Event) {
        self.lines.push(event.line);
        self.events.push(event.template);
        self.times.push(event.time_ms);
    }
}

fn session(index: &mut HashMap<String, usize>, sessions: &mut Vec<Session>, key: &str) -> usize {
    if let Some(&i) = index.get(key) {
        return i;
    }
    sessions.push(Session {
        key: key.to_string(),
        lines: Vec::new(),
        events: Vec::new(),
        times: Vec::new(),
    });
    index.insert(key.to_string(), sessions.len() - 1);
    sessions.len() - 1
}

/// Unix milliseconds of a timestamp field (RFC 3339, `YYYY-MM-DD HH:MM:SS`, unix seconds).
pub fn time_ms(text: &str) -> Option<i64> {
    crate::time::parse_timestamp(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Which part of a fixed split a sequence belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Test,
}

/// One row of a sequence file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledSequence {
    pub id: String,
    pub anomalous: bool,
    pub split: Split,
    /// Template ids as the file numbers them.
    pub events: Vec<u32>,
}

/// The columns a sequence file must have, after its id column.
const SEQUENCE_COLUMNS: [&str; 3] = ["Label", "Split", "EventSequence"];

/// Reads a sequence file: `<Id>,Label,Split,EventSequence` with labels 0/1, splits
/// `train`/`test` and space-separated template ids.
pub fn read_sequences(path: &Path) -> Result<Vec<LabelledSequence>, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_sequences_from(file, path)
}

/// [`read_sequences`] from any reader; `path` names it in errors.
pub fn read_sequences_from(input: impl Read, path: &Path) -> Result<Vec<LabelledSequence>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(input);
    let mut records = reader.records();
    let expected = format!("<Id>,{}", SEQUENCE_COLUMNS.join(","));
    let header = match records.next() {
        None => {
            return Err(Error::file(
                path,
                format!("the file is empty: expected the header {expected}"),
            ));
        }
        Some(r) => r.map_err(|e| Error::line(path, 1, e.to_string()))?,
    };
    let names: Vec<&str> = header.iter().map(str::trim).collect();
    if names.len() != 4 || names[1..] != SEQUENCE_COLUMNS {
        return Err(Error::line(
            path,
            1,
            format!("expected the header {expected}, found {}", names.join(",")),
        ));
    }
    let mut out = Vec::new();
    for record in records {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Error::line(path, line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let bad = |message: String| Error::line(path, line, message);
        if record.len() != 4 {
            return Err(bad(format!(
                "expected 4 fields ({expected}), found {}",
                record.len()
            )));
        }
        let anomalous = match record[1].trim() {
            "0" => false,
            "1" => true,
            other => return Err(bad(format!("expected a label 0 or 1, found {other:?}"))),
        };
        let split = match record[2].trim() {
            "train" => Split::Train,
            "test" => Split::Test,
            other => {
                return Err(bad(format!(
                    "expected a split train or test, found {other:?}"
                )));
            }
        };
        let events = record[3]
            .split_whitespace()
            .map(|t| {
                t.parse::<u32>().map_err(|_| {
                    bad(format!(
                        "expected a template id (a whole number), found {t:?}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(LabelledSequence {
            id: record[0].trim().to_string(),
            anomalous,
            split,
            events,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event<'a>(line: u64, text: &'a str, group: &'a str, time_ms: Option<i64>) -> Event<'a> {
        Event {
            line,
            text,
            time_ms,
            group,
            template: Some(TemplateId(line as u32 % 3)),
        }
    }

    fn keys(s: &[Session]) -> Vec<(&str, Vec<u64>)> {
        s.iter()
            .map(|s| (s.key.as_str(), s.lines.clone()))
            .collect()
    }

    #[test]
    fn ids_group_lines_and_a_line_joins_every_id_it_names() {
        let mut g = SessionRule::default().start().unwrap();
        for (i, text) in [
            "Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106",
            "req-3b33478e routed to backend web-2",
            "BLOCK* NameSystem.allocateBlock: blk_7503483334202473044 and blk_-1608999687919862906, blk_7503483334202473044",
            "scrape ok collectors=9",
            "req-3b33478e completed 200 in 23ms",
        ]
        .iter()
        .enumerate()
        {
            g.push(&event(i as u64 + 1, text, "", None)).unwrap();
        }
        assert_eq!(g.without_id(), 1);
        let s = g.finish();
        assert_eq!(
            keys(&s),
            [
                ("blk_-1608999687919862906", vec![1, 3]),
                ("req-3b33478e", vec![2, 5]),
                ("blk_7503483334202473044", vec![3]),
            ]
        );
        assert_eq!(s[1].events, [Some(TemplateId(2)), Some(TemplateId(2))]);
    }

    #[test]
    fn line_windows_run_per_group() {
        let mut g = SessionRule::Lines { lines: 2 }.start().unwrap();
        for (i, host) in ["a", "b", "a", "a", "b", "b"].iter().enumerate() {
            g.push(&event(i as u64 + 1, "x", host, None)).unwrap();
        }
        assert_eq!(
            keys(&g.finish()),
            [
                ("a#0", vec![1, 3]),
                ("b#0", vec![2, 5]),
                ("a#1", vec![4]),
                ("b#1", vec![6])
            ]
        );
    }

    #[test]
    fn time_windows_are_aligned_and_need_a_time() {
        let width = "1m".parse().unwrap();
        let mut g = SessionRule::Time { width }.start().unwrap();
        let t0 = time_ms("2026-01-26T00:05:41.180Z").unwrap();
        for (i, dt) in [0, 18_000, 19_000, 80_000].iter().enumerate() {
            g.push(&event(i as u64 + 1, "x", "h", Some(t0 + dt)))
                .unwrap();
        }
        let e = g.push(&event(9, "x", "h", None)).unwrap_err().to_string();
        assert!(e.contains("line 9") && e.contains("timestamp"), "{e}");
        assert_eq!(
            keys(&g.finish()),
            [
                ("h@2026-01-26T00:05:00Z", vec![1, 2]),
                ("h@2026-01-26T00:06:00Z", vec![3]),
                ("h@2026-01-26T00:07:00Z", vec![4]),
            ]
        );
    }

    #[test]
    fn bad_rules_are_refused() {
        assert!(SessionRule::Lines { lines: 0 }.start().is_err());
        let e = SessionRule::Id {
            patterns: vec!["(".into()],
        }
        .start()
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("session id pattern"), "{e}");
        let rule: SessionRule = serde_json::from_str(r#"{"kind":"time","width":"5m"}"#).unwrap();
        assert_eq!(
            rule,
            SessionRule::Time {
                width: "5m".parse().unwrap()
            }
        );
    }

    #[test]
    fn sequence_files_are_read_and_errors_name_the_line() {
        let path = Path::new("s.csv");
        let good = "BlockId,Label,Split,EventSequence\nblk_1,0,train,6 16 16 14\nblk_2,1,test,\n";
        let rows = read_sequences_from(good.as_bytes(), path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].events, [6, 16, 16, 14]);
        assert_eq!((rows[1].anomalous, rows[1].split), (true, Split::Test));
        assert!(rows[1].events.is_empty());
        for (text, needle) in [
            ("", "s.csv: the file is empty"),
            ("Id,Label,Sequence\n", "s.csv:1: expected the header"),
            (
                "Id,Label,Split,EventSequence\nb,2,train,1\n",
                "s.csv:2: expected a label 0 or 1, found \"2\"",
            ),
            (
                "Id,Label,Split,EventSequence\nb,0,train,1\nb,0,dev,1\n",
                "s.csv:3: expected a split",
            ),
            (
                "Id,Label,Split,EventSequence\nb,0,train,1 x 3\n",
                "s.csv:2: expected a template id",
            ),
            (
                "Id,Label,Split,EventSequence\nb,0,train\n",
                "s.csv:2: expected 4 fields",
            ),
        ] {
            let e = read_sequences_from(text.as_bytes(), path)
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn reads_the_hdfs_sessions_when_present() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/benchmarks/hdfs/HDFS_100k_sessions.csv");
        if !path.exists() {
            eprintln!("skipped: {} is missing", path.display());
            return;
        }
        let rows = read_sequences(&path).unwrap();
        assert_eq!(rows.len(), 7940);
        assert_eq!(rows.iter().filter(|r| r.anomalous).count(), 313);
        assert_eq!(
            rows.iter().filter(|r| r.split == Split::Train).count(),
            6352
        );
    }
}
