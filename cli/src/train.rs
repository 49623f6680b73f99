//! The trainer's settings flags (everything but the input, the model directory and output
//! switches), shared by `trainer` and the service's training jobs, which turn a request's
//! settings into these same flags so both check and resolve them alike.

use std::path::{Path, PathBuf};

use vigil_core::series::{BadLines, ReadOptions};
use vigil_model::config::{ModelConfig, TrainingConfig};
use vigil_model::deeplog::DeepLogConfig;

use crate::{BackendArg, MinerArgs, ModelKindArg, SessionArgs};

/// Why settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Core(#[from] vigil_core::Error),
    #[error("cannot read {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{0}")]
    Conflict(String),
}

fn read_toml<T: serde::de::DeserializeOwned + Default>(
    path: Option<&Path>,
    what: &str,
) -> Result<T, SettingsError> {
    let Some(path) = path else {
        return Ok(T::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| SettingsError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| SettingsError::Config {
        path: path.to_path_buf(),
        message: format!("{what}: {e}"),
    })
}

/// `trainer metrics`' settings.
#[derive(Debug, Clone, clap::Args)]
pub struct MetricsSettings {
    /// Training config (TOML); flags override it.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The network [default: dense_autoencoder, or the config's].
    #[arg(long, value_name = "KIND")]
    pub model_kind: Option<ModelKindArg>,
    /// Time column [default: timestamp, time, ts, date or datetime].
    #[arg(long)]
    pub time_column: Option<String>,
    /// Group column, each group its own series [default: host, when present].
    #[arg(long, conflicts_with = "no_group")]
    pub group_column: Option<String>,
    /// Treat the whole file as one series.
    #[arg(long)]
    pub no_group: bool,
    /// Metric columns, comma-separated [default: every numeric column].
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Skip (and count) malformed lines instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_lines: bool,
    /// Rows per window the network reads [default: 30, or the config's].
    #[arg(long)]
    pub window: Option<usize>,
    /// Rows between the starts of training windows [default: 1, or the config's].
    #[arg(long)]
    pub stride: Option<usize>,
    /// Most passes over the training windows (early stopping may end sooner) [default:
    /// 30, or the config's].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Windows per optimiser step [default: 64, or the config's].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam's learning rate [default: 0.002, or the config's].
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Stop after this many epochs without a better validation loss [default: 5, or the
    /// config's].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seeds the weights, the validation split and the batch order [default: 42, or the
    /// config's].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Hidden size of the network (LSTM state, or the dense autoencoder's outer layer).
    #[arg(long)]
    pub hidden: Option<usize>,
    /// burn's CPU backend [default: flex, or the config's].
    #[arg(long)]
    pub backend: Option<BackendArg>,
}

impl MetricsSettings {
    /// The training config (the TOML file's, flags over it) and how to read the table.
    pub fn resolve(&self) -> Result<(TrainingConfig, ReadOptions), SettingsError> {
        let mut config: TrainingConfig = read_toml(self.config.as_deref(), "training config")?;
        if let Some(kind) = self.model_kind {
            config.model = ModelConfig::default_for(kind.into());
        }
        macro_rules! set {
            ($($field:ident),*) => {$( if let Some(v) = self.$field { config.$field = v; } )*};
        }
        set!(
            window,
            stride,
            epochs,
            batch_size,
            learning_rate,
            patience,
            seed
        );
        if let Some(h) = self.hidden {
            match &mut config.model {
                ModelConfig::DenseAutoencoder { hidden, .. }
                | ModelConfig::LstmAutoencoder { hidden, .. }
                | ModelConfig::LstmForecaster { hidden, .. } => *hidden = h,
                ModelConfig::Pca { .. } => {
                    return Err(SettingsError::Conflict(
                        "--hidden sets a network's width; pca has components, not hidden units"
                            .into(),
                    ));
                }
            }
        }
        if let Some(b) = self.backend {
            config.backend = b.into();
        }
        let read = ReadOptions {
            time_column: self.time_column.clone(),
            group_column: if self.no_group {
                Some(String::new())
            } else {
                self.group_column.clone()
            },
            columns: self.columns.clone(),
            bad_lines: if self.skip_bad_lines {
                BadLines::Skip
            } else {
                BadLines::Fail
            },
            ..ReadOptions::default()
        };
        Ok((config, read))
    }
}

/// `trainer logs`' settings: parsing, sessions and DeepLog's.
#[derive(Debug, Clone, clap::Args)]
pub struct LogsSettings {
    #[command(flatten)]
    pub miner: MinerArgs,
    #[command(flatten)]
    pub sessions: SessionArgs,
    /// DeepLog settings as TOML (`history`, `top_g`, `hidden`, …); flags override.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Events of history each prediction reads (h).
    #[arg(long)]
    pub history: Option<usize>,
    /// Normal events are among this many most likely predictions (g); raised on the
    /// validation sessions if need be [default: 9, or the config's].
    #[arg(long)]
    pub top_g: Option<usize>,
    /// LSTM state size [default: 64, or the config's].
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Stacked LSTM layers [default: 2, or the config's].
    #[arg(long)]
    pub layers: Option<usize>,
    /// Most passes over the training pairs (early stopping may end sooner) [default: 30,
    /// or the config's].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Seeds the weights, the validation split and the batch order [default: 42, or the
    /// config's].
    #[arg(long)]
    pub seed: Option<u64>,
}

impl LogsSettings {
    /// DeepLog's config (the TOML file's, flags over it).
    pub fn deeplog(&self) -> Result<DeepLogConfig, SettingsError> {
        let mut config: DeepLogConfig = read_toml(self.config.as_deref(), "DeepLog config")?;
        macro_rules! set {
            ($($field:ident),*) => {$( if let Some(v) = self.$field { config.$field = v; } )*};
        }
        set!(history, top_g, hidden, layers, epochs, seed);
        Ok(config)
    }
}

#[derive(Debug, clap::Parser)]
#[command(no_binary_name = true)]
struct MetricsOnly {
    #[command(flatten)]
    settings: MetricsSettings,
}

#[derive(Debug, clap::Parser)]
#[command(no_binary_name = true)]
struct LogsOnly {
    #[command(flatten)]
    settings: LogsSettings,
}

impl MetricsSettings {
    /// The settings from flags alone (`["--window", "30"]`), checked as `trainer` checks them.
    pub fn from_flags(flags: &[String]) -> Result<MetricsSettings, clap::Error> {
        <MetricsOnly as clap::Parser>::try_parse_from(flags).map(|m| m.settings)
    }
}

impl LogsSettings {
    /// The settings from flags alone, checked as `trainer logs` checks them.
    pub fn from_flags(flags: &[String]) -> Result<LogsSettings, clap::Error> {
        <LogsOnly as clap::Parser>::try_parse_from(flags).map(|m| m.settings)
    }

    /// What `trainer logs` uses with no settings flags.
    pub fn defaults() -> LogsSettings {
        LogsSettings::from_flags(&[]).expect("the defaults parse")
    }
}
