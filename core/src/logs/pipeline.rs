//! Raw log → sessions of templates, the way a log model reads its training data and,
//! later, new data: the header format, the template miner (learnt from the whole training
//! file, then only matched, so training and new logs are parsed alike) and the session
//! rule, kept together and saved with the model.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::detect::{self, Detected};
use super::format::Line;
use super::sessions::{Event, time_ms};
use super::{Error, LineReport, LogFormat, LogReader, Miner, Session, SessionRule, Skip};
use crate::series::BadLines;

/// How a log becomes sessions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogParsing {
    /// Header format, e.g. `<Timestamp> <Host> <Level> <Component>: <Content>`.
    pub format: String,
    pub rule: SessionRule,
    /// The header field that keeps line and time windows apart per source (e.g. `Host`).
    pub group_field: Option<String>,
    /// The header field with the time (time windows).
    pub time_field: Option<String>,
    pub max_line_bytes: usize,
    /// A jq program run on each structured line first (`select(.service == "api")`):
    /// kept with the model, so new logs are filtered as the training log was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Malformed structured lines: an error (the default), or skipped and counted.
    #[serde(skip)]
    pub bad_lines: BadLines,
    /// The miner, with every template learnt in training.
    pub miner: Miner,
}

/// A log read into sessions.
#[derive(Debug, Clone)]
pub struct ParsedLog {
    pub sessions: Vec<Session>,
    pub report: LineReport,
    /// Lines no session rule claimed (id rules: lines without an id).
    pub without_session: u64,
    /// Lines no learnt template matches (matching only).
    pub unmatched: u64,
    /// The content of the first [`MAX_UNMATCHED_TEXTS`] unmatched lines, by line
    /// number, so a report can show what was new.
    pub unmatched_text: HashMap<u64, String>,
    /// The earliest and the latest line time (unix ms), where lines carry one.
    pub span_ms: Option<(i64, i64)>,
    /// The format found on the first lines, when the format was `auto`.
    pub detected: Option<Detected>,
    /// The first line that did not fit the format (its number and first 100 characters).
    pub first_unfit: Option<(u64, String)>,
}

/// Where a line's time comes from.
#[derive(Debug, Clone, Copy)]
enum TimeSource {
    Field(usize),
    /// `<Date> <Time>` read together.
    DateTime(usize, usize),
    None,
}

/// Unmatched lines whose text is kept.
pub const MAX_UNMATCHED_TEXTS: usize = 100_000;

/// The header field named `wanted`, or the first of `guesses` the format has.
fn field(format: &LogFormat, wanted: &Option<String>, guesses: &[&str]) -> Option<usize> {
    match wanted {
        Some(name) => format.field_index(name),
        None => guesses.iter().find_map(|g| format.field_index(g)),
    }
}

/// Whether reading a log may add templates to the miner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Templates {
    /// Training: the miner learns from the whole file first (forgetting what it knew);
    /// each line gets the template matching would give it, as in detection.
    Learn,
    /// Detection: lines only match the templates learnt in training.
    Match,
}

impl LogParsing {
    /// Checks the format and the named fields.
    fn checked(&self) -> Result<(LogFormat, Option<usize>, TimeSource), Error> {
        let format = LogFormat::new(&self.format)?.with_filter(self.filter.as_deref())?;
        for name in [&self.group_field, &self.time_field].into_iter().flatten() {
            if format.field_index(name).is_none() {
                return Err(Error::Format {
                    format: self.format.clone(),
                    message: format!("it has no field <{name}>"),
                });
            }
        }
        let group = field(&format, &self.group_field, &["Host", "Node", "Component"]);
        // A full timestamp, else `<Date> <Time>` read together (`2024-03-01 10:11:12,345`;
        // HDFS's `081109 203615` reads as no time, never as unix seconds), unless
        // `--time-field` names one.
        let time = match field(&format, &self.time_field, &["Timestamp"]) {
            Some(t) => TimeSource::Field(t),
            None if self.time_field.is_none() => {
                match (format.field_index("Date"), format.field_index("Time")) {
                    (Some(d), Some(t)) => TimeSource::DateTime(d, t),
                    _ => TimeSource::None,
                }
            }
            None => TimeSource::None,
        };
        Ok((format, group, time))
    }

    /// Reads `path` into sessions. With [`Templates::Learn`] the miner learns the file's
    /// templates first (training; one more pass over it); with [`Templates::Match`]
    /// lines only match the templates it has (`None` where none does).
    pub fn read(&mut self, path: &Path, templates: Templates) -> Result<ParsedLog, Error> {
        // `auto` becomes the format found on the file's first lines, and stays (a model
        // keeps it, so detection parses new logs the same way).
        let (format, detected) = detect::resolve(&self.format, path, self.max_line_bytes)?;
        self.format = format;
        let (format, group, time) = self.checked()?;
        // Training: each fitting line's template, as learning assigned it.
        let learnt = if templates == Templates::Learn {
            Some(
                self.miner
                    .learn_file(path, &format, self.max_line_bytes, self.bad_lines)?
                    .0,
            )
        } else {
            None
        };
        let mut fitting = 0;
        let mut first_unfit = None;
        let mut sessions = self.rule.start()?;
        let mut reader = LogReader::open(path, self.max_line_bytes)?;
        let mut unmatched = 0;
        let mut unmatched_text = HashMap::new();
        let mut span_ms = None;
        while let Some((n, line)) = reader.next_line()? {
            let fields = match format.line(line) {
                Line::Fields(fields) => fields,
                Line::Unfit => {
                    if first_unfit.is_none() {
                        first_unfit = Some((n, line.chars().take(100).collect()));
                    }
                    reader.report.skip(n, Skip::NoHeader);
                    continue;
                }
                Line::Filtered => {
                    reader.report.skip(n, Skip::Filtered);
                    continue;
                }
                Line::Malformed(why) => {
                    reader.report.malformed(path, n, why, self.bad_lines)?;
                    continue;
                }
            };
            let content = &*fields[format.content_index()];
            let template = match &learnt {
                Some(ids) => ids.get(fitting).copied().flatten(),
                None => self.miner.matching(content),
            };
            fitting += 1;
            if template.is_none() {
                unmatched += 1;
                if unmatched_text.len() < MAX_UNMATCHED_TEXTS {
                    unmatched_text.insert(n, content.to_string());
                }
            }
            let t = match time {
                TimeSource::Field(t) => time_ms(&fields[t]),
                TimeSource::DateTime(d, t) => time_ms(&format!("{} {}", fields[d], fields[t])),
                TimeSource::None => None,
            };
            if let Some(t) = t {
                span_ms = Some(span_ms.map_or((t, t), |(a, b): (i64, i64)| (a.min(t), b.max(t))));
            }
            sessions
                .push(&Event {
                    line: n,
                    text: line,
                    time_ms: t,
                    group: group.map_or("", |g| &fields[g]),
                    template,
                })
                .map_err(|e| match e {
                    Error::Session(m) => Error::Session(format!("{}: {m}", path.display())),
                    e => e,
                })?;
        }
        if let Some(ids) = &learnt
            && ids.len() != fitting
        {
            return Err(Error::file(
                path,
                format!(
                    "the file changed while it was read: {} lines fitted the format while learning templates, {fitting} afterwards",
                    ids.len()
                ),
            ));
        }
        if reader.report.lines == 0 {
            return Err(Error::file(
                path,
                "the log is empty: no lines to read (a log model needs lines, and judging none would report nothing)".into(),
            ));
        }
        let without_session = sessions.without_id();
        Ok(ParsedLog {
            sessions: sessions.finish(),
            report: reader.report,
            without_session,
            unmatched,
            unmatched_text,
            span_ms,
            detected,
            first_unfit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::MinerConfig;

    fn parsing() -> LogParsing {
        LogParsing {
            format: "<Timestamp> <Host> <Level> <Component>: <Content>".into(),
            rule: SessionRule::default(),
            group_field: None,
            time_field: None,
            max_line_bytes: 1000,
            filter: None,
            bad_lines: BadLines::Fail,
            miner: Miner::new(MinerConfig::default()).unwrap(),
        }
    }

    #[test]
    fn learns_then_matches_without_learning() {
        let dir = tempfile::tempdir().unwrap();
        let train = dir.path().join("train.log");
        std::fs::write(
            &train,
            "2026-01-01T00:00:00Z web-1 INFO nginx: req-0000000a accepted from 10.0.0.1\n\
             2026-01-01T00:00:01Z web-1 INFO nginx: req-0000000a completed in 12 ms\n\
             not a log line\n\
             2026-01-01T00:00:02Z web-1 INFO nginx: req-0000000b accepted from 10.0.0.2\n\
             \n\
             2026-01-01T00:00:03Z web-1 INFO cron: housekeeping done\n",
        )
        .unwrap();
        let mut p = parsing();
        let log = p.read(&train, Templates::Learn).unwrap();
        assert_eq!(log.sessions.len(), 2);
        assert_eq!(log.sessions[0].key, "req-0000000a");
        assert_eq!(log.sessions[0].lines, vec![1, 2]);
        assert_eq!(log.sessions[1].events, vec![log.sessions[0].events[0]]);
        assert_eq!(log.without_session, 1, "the cron line has no id");
        assert_eq!(
            log.report.skipped(),
            2,
            "the header-less and the empty line"
        );
        let templates = p.miner.templates().len();

        let test = dir.path().join("test.log");
        std::fs::write(
            &test,
            "2026-01-02T00:00:00Z web-1 INFO nginx: req-000000ff accepted from 10.0.0.9\n\
             2026-01-02T00:00:01Z web-1 ERROR nginx: req-000000ff upstream timed out\n",
        )
        .unwrap();
        let log = p.read(&test, Templates::Match).unwrap();
        assert_eq!(
            p.miner.templates().len(),
            templates,
            "matching learnt nothing"
        );
        assert!(log.sessions[0].events[0].is_some());
        assert_eq!(log.sessions[0].events[1], None);
        assert_eq!(log.unmatched, 1);
        assert_eq!(log.unmatched_text[&2], "req-000000ff upstream timed out");
    }

    #[test]
    fn a_named_field_must_exist() {
        let mut p = parsing();
        p.group_field = Some("Pid".into());
        let err = p
            .read(Path::new("/nonexistent"), Templates::Learn)
            .unwrap_err();
        assert!(err.to_string().contains("no field <Pid>"), "{err}");
    }
}
