//! `trainer logs`: from raw logs (parsed with Drain and grouped into sessions) or from a
//! pre-parsed sequence file to a DeepLog model directory ([`crate::logmodel`]).
//!
//! The flags that say how a log is parsed ([`MinerArgs`]) and split into sessions
//! ([`SessionArgs`]) are shared with the detector's `parse` and `logs` commands.

use std::collections::HashMap;
use std::path::Path;

use vigil_core::logs::drain::DEFAULT_MASKS;
use vigil_core::logs::format::VIGIL_FORMAT;
use vigil_core::logs::pipeline::LogParsing;
use vigil_core::logs::read::DEFAULT_MAX_LINE_BYTES;
use vigil_core::logs::sessions::{DEFAULT_ID_PATTERNS, Split, read_sequences};
use vigil_core::logs::{Drain, DrainConfig, LineReport, LogError, SessionRule};
use vigil_core::time::Duration;

use crate::deeplog::DeepLogConfig;
use crate::logmodel::{LogModel, train_log_model};
use crate::training::Progress;
use crate::{TrainError, artifact::check_writable};

/// How raw lines are parsed: header format and Drain's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct MinerArgs {
    /// Header fields and content, logparser style; the default fits the generator's logs.
    #[arg(long, default_value = VIGIL_FORMAT)]
    pub format: String,
    /// A regex whose matches become <*> before mining (repeat for several, applied in
    /// order); replaces the default masks (ids, UUIDs, IPs, hex, numbers with their units).
    #[arg(long = "mask", value_name = "REGEX")]
    pub masks: Vec<String>,
    /// No masks at all.
    #[arg(long, conflicts_with = "masks")]
    pub no_masks: bool,
    /// Similarity threshold: the share of equal tokens for a line to join a template.
    /// 0.7 keeps messages that differ in one word apart (`auth ok` / `auth failed`), which
    /// a sequence model needs; logparser's benchmark uses 0.5 for most systems.
    #[arg(long, default_value_t = 0.7)]
    pub st: f64,
    /// Tree depth (4 routes lines by their first token, 6 by the first three).
    #[arg(long, default_value_t = 4)]
    pub depth: usize,
    /// Children of a tree node before new tokens share its <*> branch.
    #[arg(long, default_value_t = 100)]
    pub max_children: usize,
    /// Lines longer than this many bytes are skipped and counted.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    /// Mine exactly as logparser's Drain.py (masks as merged <*>, partly masked tokens
    /// routed by their text).
    #[arg(long)]
    pub as_logparser: bool,
}

impl MinerArgs {
    pub fn config(&self) -> DrainConfig {
        let masks = if self.no_masks {
            Vec::new()
        } else if self.masks.is_empty() {
            DEFAULT_MASKS.iter().map(|m| m.to_string()).collect()
        } else {
            self.masks.clone()
        };
        let config = DrainConfig {
            depth: self.depth,
            similarity: self.st,
            max_children: self.max_children,
            masks,
            ..DrainConfig::default()
        };
        if self.as_logparser {
            config.as_logparser()
        } else {
            config
        }
    }
}

/// How parsed lines become sessions.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// A regex for the session id a line carries (repeatable; a line naming several ids
    /// joins each) [default: HDFS block ids and the generator's req-/job- ids].
    #[arg(long = "session-regex", value_name = "REGEX")]
    pub session_regex: Vec<String>,
    /// Sessions of this many consecutive lines (per group) instead of ids.
    #[arg(long, conflicts_with_all = ["session_regex", "window_time"])]
    pub window_lines: Option<usize>,
    /// Sessions of tumbling time windows (e.g. 5m, per group) instead of ids.
    #[arg(long, conflicts_with = "session_regex")]
    pub window_time: Option<Duration>,
    /// The header field that keeps line and time windows apart [default: Host, Node or
    /// Component, whichever the format has].
    #[arg(long)]
    pub group_field: Option<String>,
    /// The header field with the full time (RFC 3339, `YYYY-MM-DD HH:MM:SS` or unix
    /// seconds) [default: Timestamp, if the format has it].
    #[arg(long)]
    pub time_field: Option<String>,
}

impl SessionArgs {
    pub fn rule(&self) -> SessionRule {
        if let Some(lines) = self.window_lines {
            SessionRule::Lines { lines }
        } else if let Some(width) = self.window_time {
            SessionRule::Time { width }
        } else if self.session_regex.is_empty() {
            SessionRule::Id {
                patterns: DEFAULT_ID_PATTERNS.iter().map(|p| p.to_string()).collect(),
            }
        } else {
            SessionRule::Id {
                patterns: self.session_regex.clone(),
            }
        }
    }
}

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
}

/// Template texts of a templates file: `EventId,EventTemplate[,…]`.
pub fn read_templates(path: &Path) -> Result<HashMap<String, String>, LogError> {
    let err = |line: u64, message: String| {
        LogError::Data(vigil_core::series::DataError::Line {
            path: path.to_path_buf(),
            line,
            message,
        })
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| err(0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                err(
                    1,
                    format!("no {name} column (expected EventId,EventTemplate)"),
                )
            })
    };
    let (id, text) = (col("EventId")?, col("EventTemplate")?);
    let mut out = HashMap::new();
    for r in reader.records() {
        let r = r.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = r.position().map_or(0, |p| p.line());
        match (r.get(id), r.get(text)) {
            (Some(i), Some(t)) => {
                out.insert(i.trim().to_string(), t.to_string());
            }
            _ => return Err(err(line, "missing EventId or EventTemplate".into())),
        }
    }
    Ok(out)
}

/// Trains on `job.input` and writes `job.model_dir`.
pub fn train_logs(
    job: LogsJob,
    progress: &mut dyn Progress,
) -> Result<(LogModel, LogsRead), TrainError> {
    job.config.check().map_err(TrainError::Config)?;
    check_writable(job.model_dir, job.force)?;
    let mut read = LogsRead::default();
    let input_path = match &job.input {
        LogInput::Raw { path, .. } | LogInput::Sequences { path, .. } => path.to_path_buf(),
    };
    let (sessions, texts, parsing): (Vec<Vec<String>>, HashMap<String, String>, _) = match job.input
    {
        LogInput::Raw { path, mut parsing } => {
            let log = parsing.read(path, true)?;
            read.lines = Some(log.report);
            read.without_session = log.without_session;
            let sessions: Vec<Vec<String>> = log
                .sessions
                .iter()
                .map(|s| s.events.iter().flatten().map(|t| t.0.to_string()).collect())
                .collect();
            let texts = parsing
                .drain
                .templates()
                .iter()
                .enumerate()
                .map(|(i, t)| (i.to_string(), t.text()))
                .collect();
            let value = serde_json::to_value(&parsing)
                .map_err(|e| TrainError::Config(format!("cannot record the parser: {e}")))?;
            (sessions, texts, Some(value))
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
            (sessions, texts, None)
        }
    };
    read.sessions = sessions.len();
    read.events = sessions.iter().map(Vec::len).sum();
    if read.events == 0 {
        let detail = match &read.lines {
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
        return Err(TrainError::NoSessions {
            path: input_path,
            detail,
        });
    }
    let model = train_log_model(
        &sessions,
        &|k| texts.get(k).cloned(),
        &job.config,
        parsing,
        progress,
    )
    .map_err(TrainError::Config)?;
    model.save(job.model_dir, job.force)?;
    Ok((model, read))
}

/// A fresh parser for `trainer logs` from the shared flags.
pub fn parsing(miner: &MinerArgs, sessions: &SessionArgs) -> Result<LogParsing, LogError> {
    Ok(LogParsing {
        format: miner.format.clone(),
        rule: sessions.rule(),
        group_field: sessions.group_field.clone(),
        time_field: sessions.time_field.clone(),
        max_line_bytes: miner.max_line_bytes,
        drain: Drain::new(miner.config())?,
    })
}
