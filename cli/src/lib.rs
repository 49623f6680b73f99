//! The flags Vigil's programs share, and their conversion into the library types.
//!
//! Only binaries depend on this crate: library APIs take the checked types
//! (`LogParsing`, `SessionRule`, `MinerConfig`), never clap's.

pub mod readme;
pub mod train;

use vigil_core::Error;
use vigil_core::logs::detect::AUTO;
use vigil_core::logs::drain::DEFAULT_MASKS;
use vigil_core::logs::miner::{SIMILARITY, SPLIT_VALUES};
use vigil_core::logs::pipeline::LogParsing;
use vigil_core::logs::read::DEFAULT_MAX_LINE_BYTES;
use vigil_core::logs::sessions::DEFAULT_ID_PATTERNS;
use vigil_core::logs::{DrainConfig, Miner, MinerConfig, SessionRule};
use vigil_core::series::BadLines;
use vigil_core::time::Duration;
use vigil_model::config::{Backend, ModelKind};

/// How raw lines are parsed: header format and the miner's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct MinerArgs {
    /// Header fields and content, logparser style (e.g. '<Date> <Time> <Level> [<Thread>]
    /// <Content>'); or `json` (JSON lines) / `logfmt`, optionally with field paths
    /// (`json:message=log.text,time=ts,host=node,level=severity,service=app`; each field
    /// otherwise takes its usual names: message/msg/log.message/log, timestamp/@timestamp/
    /// time/ts, host/hostname/node, level/severity, service/component/app); `auto` finds it
    /// on the file's first 500 lines among JSON lines, logfmt and common layouts (the
    /// generator's, log4j/logback, HDFS, syslog, ISO time + level), else takes the whole
    /// line as the content.
    #[arg(long, default_value = AUTO)]
    pub format: String,
    /// A jq program run on each JSON-lines or logfmt record before its fields are read
    /// (jaq): `select(.level == "ERROR" and .service == "payment")` keeps only those lines,
    /// `{message: .msg, host: .node}` reshapes them; a line it gives nothing for is left
    /// out and counted. A model keeps it, so new logs are filtered alike.
    #[arg(long, value_name = "JQ")]
    pub filter: Option<String>,
    /// Skip (and count) malformed JSON-lines or logfmt records instead of stopping at the
    /// first with its file and line.
    #[arg(long)]
    pub skip_bad_lines: bool,
    /// A regex whose matches become <*> before mining (repeat for several, applied in
    /// order), before the built-in masks and template rules (dates, UUIDs, host:port,
    /// IPs, hex, sizes, times, HTTP request targets, ids with long digit runs, numbers,
    /// paths); with --as-logparser, instead of Drain's default masks.
    #[arg(long = "mask", value_name = "REGEX")]
    pub masks: Vec<String>,
    /// No built-in masks or template rules: the miner is Drain (with the splitting of
    /// --split-values).
    #[arg(long, conflicts_with = "masks")]
    pub no_masks: bool,
    /// Similarity threshold: the share of equal tokens for a line to join a cluster.
    /// Chosen on loghub-2k (0.4 to 0.7 lie within 0.005 of each other there).
    #[arg(long, default_value_t = SIMILARITY)]
    pub st: f64,
    /// A merged position whose training values are at most this many plain words splits
    /// its cluster, one template per word (`VM Paused` / `VM Started`); 0 never splits.
    #[arg(long, default_value_t = SPLIT_VALUES)]
    pub split_values: usize,
    /// Tree depth (4 routes lines by their first token, 6 by the first three).
    #[arg(long, default_value_t = 4)]
    pub depth: usize,
    /// Children of a tree node before new tokens share its <*> branch.
    #[arg(long, default_value_t = 100)]
    pub max_children: usize,
    /// Lines longer than this many bytes are skipped and counted.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    /// Mine exactly as logparser's Drain.py (its default masks unless --mask or
    /// --no-masks, masks as merged <*>, partly masked tokens routed by their text, no
    /// rules, no splitting).
    #[arg(long)]
    pub as_logparser: bool,
}

impl MinerArgs {
    /// What a malformed structured record does.
    pub fn bad_lines(&self) -> BadLines {
        if self.skip_bad_lines {
            BadLines::Skip
        } else {
            BadLines::Fail
        }
    }

    pub fn config(&self) -> MinerConfig {
        let masks = if self.as_logparser && !self.no_masks && self.masks.is_empty() {
            DEFAULT_MASKS.iter().map(|m| m.to_string()).collect()
        } else {
            self.masks.clone()
        };
        let config = MinerConfig {
            drain: DrainConfig {
                depth: self.depth,
                similarity: self.st,
                max_children: self.max_children,
                masks,
                ..DrainConfig::default()
            },
            rules: !self.no_masks,
            split_values: self.split_values,
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

/// A fresh parser for `trainer logs` from the shared flags.
pub fn parsing(miner: &MinerArgs, sessions: &SessionArgs) -> Result<LogParsing, Error> {
    Ok(LogParsing {
        format: miner.format.clone(),
        rule: sessions.rule(),
        group_field: sessions.group_field.clone(),
        time_field: sessions.time_field.clone(),
        max_line_bytes: miner.max_line_bytes,
        filter: miner.filter.clone(),
        bad_lines: miner.bad_lines(),
        miner: Miner::new(miner.config())?,
    })
}

/// `--model-kind`: the window network (names as in a training config's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelKindArg {
    /// Flattened windows through a dense bottleneck.
    #[value(name = "dense_autoencoder", alias = "dense")]
    DenseAutoencoder,
    /// An LSTM encoder and decoder.
    #[value(name = "lstm_autoencoder", alias = "lstm_ae")]
    LstmAutoencoder,
    /// Stacked LSTMs predicting the next steps.
    #[value(name = "lstm_forecaster", alias = "forecaster")]
    LstmForecaster,
    /// The linear baseline: principal components of the windows.
    #[value(name = "pca")]
    Pca,
}

impl From<ModelKindArg> for ModelKind {
    fn from(k: ModelKindArg) -> ModelKind {
        match k {
            ModelKindArg::DenseAutoencoder => ModelKind::DenseAutoencoder,
            ModelKindArg::LstmAutoencoder => ModelKind::LstmAutoencoder,
            ModelKindArg::LstmForecaster => ModelKind::LstmForecaster,
            ModelKindArg::Pca => ModelKind::Pca,
        }
    }
}

/// `--backend`: burn's CPU backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    /// burn-flex (the default: faster on these models).
    Flex,
    /// burn-ndarray.
    Ndarray,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::Flex => Backend::Flex,
            BackendArg::Ndarray => Backend::Ndarray,
        }
    }
}

/// Every option and subcommand of `cmd` (recursively) that `--help` would show without a
/// word on what it does: what a binary's test requires to be empty.
pub fn undocumented(cmd: &clap::Command) -> Vec<String> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" || arg.is_hide_set() {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                out.push(format!("{path} {}", sub.get_name()));
            }
            walk(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }
    let mut out = Vec::new();
    walk(cmd, cmd.get_name(), &mut out);
    out
}

/// A test, in the binary it is called from, that every option of its `Cli` (a clap
/// `Parser` at the binary's root) has help: `vigil_cli::every_option_has_help!(Cli);`.
#[macro_export]
macro_rules! every_option_has_help {
    ($cli:ident) => {
        #[cfg(test)]
        mod help_tests {
            /// Issue 18: `--help` left options blank; every option says what it does.
            #[test]
            fn every_option_has_help() {
                use ::clap::CommandFactory;
                let missing = $crate::undocumented(&super::$cli::command());
                assert!(missing.is_empty(), "options without help: {missing:?}");
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, ValueEnum};

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        miner: MinerArgs,
        #[command(flatten)]
        sessions: SessionArgs,
        #[arg(long)]
        model_kind: Option<ModelKindArg>,
    }

    #[test]
    fn model_kinds_keep_their_config_names_and_short_aliases() {
        for (name, kind) in [
            ("dense_autoencoder", ModelKind::DenseAutoencoder),
            ("dense", ModelKind::DenseAutoencoder),
            ("lstm_ae", ModelKind::LstmAutoencoder),
            ("forecaster", ModelKind::LstmForecaster),
            ("pca", ModelKind::Pca),
        ] {
            let arg = ModelKindArg::from_str(name, false).unwrap();
            assert_eq!(ModelKind::from(arg), kind, "{name}");
        }
        assert!(ModelKindArg::from_str("transformer", false).is_err());
    }

    #[test]
    fn flags_become_the_library_types() {
        let f = Flags::try_parse_from(["x", "--window-lines", "20", "--no-masks", "--st", "0.5"])
            .unwrap();
        assert_eq!(f.sessions.rule(), SessionRule::Lines { lines: 20 });
        let c = f.miner.config();
        assert!(c.drain.masks.is_empty() && !c.rules);
        assert_eq!(c.drain.similarity, 0.5);
        let f = Flags::try_parse_from(["x"]).unwrap();
        assert!(matches!(f.sessions.rule(), SessionRule::Id { patterns } if !patterns.is_empty()));
        assert_eq!(f.miner.config(), MinerConfig::default());
        let f = Flags::try_parse_from(["x", "--as-logparser"]).unwrap();
        let c = f.miner.config();
        assert_eq!(c.drain.masks.len(), DEFAULT_MASKS.len());
        assert!(!c.rules && c.split_values == 0);
        assert!(f.model_kind.is_none());
        assert!(Flags::try_parse_from(["x", "--mask", "a", "--no-masks"]).is_err());
    }
}
