//! `trainer logs`: from raw logs (parsed with Drain and grouped into sessions) or from a
//! pre-parsed sequence file to a DeepLog model directory ([`crate::logmodel`]).

use std::collections::HashMap;
use std::path::Path;

use vigil_core::logs::LineReport;
use vigil_core::logs::detect::Detected;
use vigil_core::logs::paths::{self, Rates};
use vigil_core::logs::pipeline::{LogParsing, Templates};
use vigil_core::logs::sessions::{Split, read_sequences};
use vigil_core::logs::templates::read_templates;
use vigil_core::logs::timing::Timing;
use vigil_model::deeplog::DeepLogConfig;
use vigil_model::dir::check_writable;
use vigil_model::logmodel::LogModel;

use crate::Error;
use crate::logmodel::{RawLogFacts, train_log_model};
use crate::training::Progress;

/// What to learn from.
pub enum LogInput<'a> {
    /// A raw log, parsed and grouped as `parsing` says (its miner starts empty).
    Raw {
        path: &'a Path,
        parsing: Box<LogParsing>,
    },
    /// A sequence file (`<Id>,Label,Split,EventSequence`): the normal sessions of the
    /// `train` split; template texts from `templates` (`EventId,EventTemplate,…`) if given.
    Sequences {
        path: &'a Path,
        templates: Option<&'a Path>,
    },
}

/// A `trainer logs` run.
pub struct LogsJob<'a> {
    pub input: LogInput<'a>,
    pub model_dir: &'a Path,
    pub config: DeepLogConfig,
    pub force: bool,
}

/// What was read, besides the model.
#[derive(Debug, Clone, Default)]
pub struct LogsRead {
    pub sessions: usize,
    pub events: usize,
    /// Raw logs: the line counts (skipped lines by reason).
    pub lines: Option<LineReport>,
    /// Lines no session claimed.
    pub without_session: u64,
    /// Sequence files: sessions left out (anomalous, or of the test split).
    pub left_out: usize,
    /// Raw logs: the header format used, and how it was found when it was `auto`.
    pub format: Option<String>,
    pub detected: Option<Detected>,
    /// Raw logs: the first line that did not fit the format (number, first 100 characters).
    pub first_unfit: Option<(u64, String)>,
}

/// Trains on `job.input` and writes `job.model_dir`.
pub fn train_logs(
    job: LogsJob,
    progress: &mut dyn Progress,
) -> Result<(LogModel, LogsRead), Error> {
    job.config.check()?;
    check_writable(job.model_dir, job.force)?;
    let mut read = LogsRead::default();
    let input_path = match &job.input {
        LogInput::Raw { path, .. } | LogInput::Sequences { path, .. } => path.to_path_buf(),
    };
    let (sessions, texts, facts): (Vec<Vec<String>>, HashMap<String, String>, _) = match job.input {
        LogInput::Raw { path, mut parsing } => {
            let log = parsing.read(path, Templates::Learn)?;
            read.format = Some(parsing.format.clone());
            read.detected = log.detected.clone();
            read.first_unfit = log.first_unfit.clone();
            read.lines = Some(log.report);
            read.without_session = log.without_session;
            // Learning matches every training line; should one match nothing, it drops
            // out of its session with its time, so events and times stay aligned.
            let (sessions, times): (Vec<Vec<String>>, Vec<Vec<Option<i64>>>) = log
                .sessions
                .iter()
                .map(|s| {
                    s.events
                        .iter()
                        .zip(s.times.iter().copied().chain(std::iter::repeat(None)))
                        .filter_map(|(e, t)| Some((e.as_ref()?.0.to_string(), t)))
                        .unzip()
                })
                .unzip();
            let timing = Timing::learn(
                sessions
                    .iter()
                    .zip(&times)
                    .map(|(keys, t)| (keys.as_slice(), t.as_slice())),
            );
            let occurrences: Vec<_> = sessions
                .iter()
                .zip(&times)
                .flat_map(|(keys, t)| {
                    let keys: Vec<Option<&str>> = keys.iter().map(|k| Some(k.as_str())).collect();
                    paths::occurrences(&keys, t).into_iter().map(|(_, o)| o)
                })
                .collect();
            let rates = Rates::learn(&occurrences);
            let texts = parsing
                .miner
                .templates()
                .iter()
                .enumerate()
                .map(|(i, t)| (i.to_string(), t.text().to_string()))
                .collect();
            let value = serde_json::to_value(&parsing)
                .map_err(|e| Error::Sessions(format!("cannot record the parser: {e}")))?;
            let facts = RawLogFacts {
                parsing: Some(value),
                timing,
                rates,
            };
            (sessions, texts, facts)
        }
        LogInput::Sequences { path, templates } => {
            let all = read_sequences(path)?;
            let total = all.len();
            let sessions: Vec<Vec<String>> = all
                .into_iter()
                .filter(|s| s.split == Split::Train && !s.anomalous)
                .map(|s| s.events.iter().map(u32::to_string).collect())
                .collect();
            read.left_out = total - sessions.len();
            let texts = templates
                .map(read_templates)
                .transpose()?
                .unwrap_or_default();
            (sessions, texts, RawLogFacts::default())
        }
    };
    read.sessions = sessions.len();
    read.events = sessions.iter().map(Vec::len).sum();
    if read.events == 0 {
        let detail = match &read.lines {
            // Most lines did not fit the header: the format is what is wrong.
            Some(r) if r.skipped() * 2 > r.lines => format!(
                "{} of {} lines did not fit the header format '{}' (the first, line {}: {:?}): give --format, e.g. --format '<Date> <Time> <Level> [<Thread>] <Content>', or --format '<Content>' for the whole line",
                r.skipped(),
                r.lines,
                read.format.as_deref().unwrap_or(""),
                read.first_unfit.as_ref().map_or(0, |u| u.0),
                read.first_unfit.as_ref().map_or("", |u| u.1.as_str()),
            ),
            Some(r) => format!(
                "{} sessions from {} lines ({} skipped, {} matched no session rule: check --session-regex or use --window-lines)",
                read.sessions,
                r.lines,
                r.skipped(),
                read.without_session
            ),
            None => format!(
                "{} normal train sessions with events ({} anomalous or test sessions left out)",
                read.sessions, read.left_out
            ),
        };
        return Err(Error::NoSessions {
            path: input_path,
            detail,
        });
    }
    let model = train_log_model(
        &sessions,
        &|k| texts.get(k).cloned(),
        &job.config,
        facts,
        progress,
    )?;
    model.save(job.model_dir, job.force)?;
    Ok((model, read))
}
