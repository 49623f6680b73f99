use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use vigil_cli::{BackendArg, MinerArgs, ModelKindArg, SessionArgs, parsing};
use vigil_core::series::{BadLines, ReadOptions};
use vigil_model::config::{ModelConfig, TrainingConfig};
use vigil_model::deeplog::DeepLogConfig;
use vigil_trainer::logs::{LogInput, LogsJob, train_logs};
use vigil_trainer::training::{EpochLoss, Progress};
use vigil_trainer::{MetricsJob, train_metrics};

/// Train Vigil's models on normal data.
#[derive(Debug, Parser)]
#[command(name = "trainer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Learn normal metric windows from a CSV and write a model directory.
    Metrics(MetricsArgs),
    /// Learn the normal order of log events (DeepLog) from a raw log or a sequence file.
    Logs(LogsArgs),
}

#[derive(Debug, Args)]
struct LogsArgs {
    /// A raw log of normal operation.
    #[arg(
        long,
        short,
        required_unless_present = "sequences",
        conflicts_with = "sequences"
    )]
    input: Option<PathBuf>,
    /// Or a sequence file (`<Id>,Label,Split,EventSequence`): learns from its normal `train`
    /// sessions.
    #[arg(long)]
    sequences: Option<PathBuf>,
    /// With --sequences: template texts (`EventId,EventTemplate,…`), for readable reasons.
    #[arg(long, requires = "sequences")]
    templates: Option<PathBuf>,
    #[command(flatten)]
    miner: MinerArgs,
    #[command(flatten)]
    sessions: SessionArgs,
    /// Output model directory.
    #[arg(long, short, default_value = "models/logs")]
    model: PathBuf,
    /// DeepLog settings as TOML (`history`, `top_g`, `hidden`, …); flags override.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Events of history each prediction reads (h).
    #[arg(long)]
    history: Option<usize>,
    /// Normal events are among this many most likely predictions (g); raised on the
    /// validation sessions if need be [default: 9, or the config's].
    #[arg(long)]
    top_g: Option<usize>,
    /// LSTM state size [default: 64, or the config's].
    #[arg(long)]
    hidden: Option<usize>,
    /// Stacked LSTM layers [default: 2, or the config's].
    #[arg(long)]
    layers: Option<usize>,
    /// Most passes over the training pairs (early stopping may end sooner) [default: 30,
    /// or the config's].
    #[arg(long)]
    epochs: Option<usize>,
    /// Seeds the weights, the validation split and the batch order [default: 42, or the
    /// config's].
    #[arg(long)]
    seed: Option<u64>,
    /// Replace an existing model directory.
    #[arg(long)]
    force: bool,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct MetricsArgs {
    /// Metrics CSV: a time column, an optional group column, numeric metric columns.
    #[arg(long, short)]
    input: PathBuf,
    /// Model directory to write.
    #[arg(long, short)]
    model: PathBuf,
    /// Replace an existing model directory.
    #[arg(long)]
    force: bool,
    /// Training config (TOML); flags override it.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// The network [default: dense_autoencoder, or the config's].
    #[arg(long, value_name = "KIND")]
    model_kind: Option<ModelKindArg>,
    /// Time column [default: timestamp, time, ts, date or datetime].
    #[arg(long)]
    time_column: Option<String>,
    /// Group column, each group its own series [default: host, when present].
    #[arg(long, conflicts_with = "no_group")]
    group_column: Option<String>,
    /// Treat the whole file as one series.
    #[arg(long)]
    no_group: bool,
    /// Metric columns, comma-separated [default: every numeric column].
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    /// Skip (and count) malformed lines instead of stopping at the first.
    #[arg(long)]
    skip_bad_lines: bool,
    /// Rows per window the network reads [default: 30, or the config's].
    #[arg(long)]
    window: Option<usize>,
    /// Rows between the starts of training windows [default: 1, or the config's].
    #[arg(long)]
    stride: Option<usize>,
    /// Most passes over the training windows (early stopping may end sooner) [default:
    /// 30, or the config's].
    #[arg(long)]
    epochs: Option<usize>,
    /// Windows per optimiser step [default: 64, or the config's].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam's learning rate [default: 0.002, or the config's].
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Stop after this many epochs without a better validation loss [default: 5, or the
    /// config's].
    #[arg(long)]
    patience: Option<usize>,
    /// Seeds the weights, the validation split and the batch order [default: 42, or the
    /// config's].
    #[arg(long)]
    seed: Option<u64>,
    /// Hidden size of the network (LSTM state, or the dense autoencoder's outer layer).
    #[arg(long)]
    hidden: Option<usize>,
    /// burn's CPU backend [default: flex, or the config's].
    #[arg(long)]
    backend: Option<BackendArg>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trainer: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Metrics(args) => metrics(args),
        Command::Logs(args) => logs(args),
    }
}

fn logs(a: LogsArgs) -> anyhow::Result<()> {
    let mut config = match &a.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<DeepLogConfig>(&text)
                .with_context(|| format!("DeepLog config {}", path.display()))?
        }
        None => DeepLogConfig::default(),
    };
    macro_rules! set {
        ($($field:ident),*) => {$( if let Some(v) = a.$field { config.$field = v; } )*};
    }
    set!(history, top_g, hidden, layers, epochs, seed);
    let input = match (&a.input, &a.sequences) {
        (Some(path), _) => LogInput::Raw {
            path,
            parsing: Box::new(parsing(&a.miner, &a.sessions)?),
        },
        (None, Some(path)) => LogInput::Sequences {
            path,
            templates: a.templates.as_deref(),
        },
        (None, None) => anyhow::bail!("give --input (a raw log) or --sequences"),
    };
    let mut progress = Reporter::new(a.quiet);
    let (model, read) = train_logs(
        LogsJob {
            input,
            model_dir: &a.model,
            config,
            force: a.force,
        },
        &mut progress,
    )?;
    progress.done();
    if !a.quiet {
        let h = &model.history;
        let lines = read.lines.as_ref().map_or(String::new(), |r| {
            format!(
                "; {} lines, {} skipped, {} in no session",
                r.lines,
                r.skipped(),
                read.without_session
            )
        });
        println!(
            "trainer: deeplog on {} sessions ({} events, {} distinct (history, next) pairs, {} templates{lines}{}): best validation loss {:.4} at epoch {} of {} in {:.1} s → {} (state machine: transitions.dot)",
            read.sessions,
            read.events,
            h.train_pairs,
            model.vocab.len(),
            if read.left_out > 0 {
                format!(", {} anomalous or test sessions left out", read.left_out)
            } else {
                String::new()
            },
            h.epochs
                .get(h.best_epoch.saturating_sub(1))
                .map_or(f64::NAN, |e| e.valid),
            h.best_epoch,
            h.epochs.len(),
            h.seconds,
            a.model.display()
        );
        if let Some(format) = &read.format {
            let how = read.detected.as_ref().map_or(String::new(), |d| {
                format!(
                    ", found on the first lines: it fits {} of {}",
                    d.fitted, d.sampled
                )
            });
            println!("trainer: header format '{format}'{how}");
        }
    }
    Ok(())
}

fn metrics(a: MetricsArgs) -> anyhow::Result<()> {
    let mut config = match &a.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<TrainingConfig>(&text)
                .with_context(|| format!("training config {}", path.display()))?
        }
        None => TrainingConfig::default(),
    };
    if let Some(kind) = a.model_kind {
        config.model = ModelConfig::default_for(kind.into());
    }
    macro_rules! set {
        ($($field:ident),*) => {$( if let Some(v) = a.$field { config.$field = v; } )*};
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
    if let Some(h) = a.hidden {
        match &mut config.model {
            ModelConfig::DenseAutoencoder { hidden, .. }
            | ModelConfig::LstmAutoencoder { hidden, .. }
            | ModelConfig::LstmForecaster { hidden, .. } => *hidden = h,
            ModelConfig::Pca { .. } => {
                anyhow::bail!(
                    "--hidden sets a network's width; pca has components, not hidden units"
                )
            }
        }
    }
    if let Some(b) = a.backend {
        config.backend = b.into();
    }
    let read = ReadOptions {
        time_column: a.time_column.clone(),
        group_column: if a.no_group {
            Some(String::new())
        } else {
            a.group_column.clone()
        },
        columns: a.columns.clone(),
        bad_lines: if a.skip_bad_lines {
            BadLines::Skip
        } else {
            BadLines::Fail
        },
        ..ReadOptions::default()
    };
    let job = MetricsJob {
        input: &a.input,
        model_dir: &a.model,
        read,
        config,
        force: a.force,
    };
    let mut progress = Reporter::new(a.quiet);
    let trained = train_metrics(&job, &mut progress)?;
    progress.done();
    if !a.quiet {
        let h = &trained.model.history;
        let r = &trained.read_report;
        println!(
            "trainer: {} on {} columns {:?}: best validation loss {:.4} at epoch {} of {} (baselines: window mean {:.4}{}); {} rows read, {} skipped, {} filled, {} merged → {}",
            trained.model.config.model.name(),
            trained.model.data.columns.len(),
            trained.model.data.columns,
            h.best_valid,
            h.best_epoch,
            h.epochs.len(),
            h.baseline_window_mean,
            h.baseline_last_value
                .map_or(String::new(), |b| format!(", last value {b:.4}")),
            r.rows,
            r.skipped_lines,
            r.filled_steps,
            r.merged_rows,
            a.model.display()
        );
    }
    Ok(())
}

/// A bar on a terminal, one line per epoch otherwise.
struct Reporter {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Reporter {
    fn new(quiet: bool) -> Reporter {
        Reporter { bar: None, quiet }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Reporter {
    fn epoch(&mut self, total: usize, loss: &EpochLoss, best: bool) {
        if self.quiet {
            return;
        }
        let line = format!(
            "epoch {}/{total}: train {:.5}, validation {:.5}{} ({:.1} s)",
            loss.epoch,
            loss.train,
            loss.valid,
            if best { " *" } else { "" },
            loss.seconds
        );
        if !std::io::stderr().is_terminal() {
            eprintln!("{line}");
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} epochs {msg}") {
                bar.set_style(style);
            }
            bar
        });
        bar.set_position(loss.epoch as u64);
        bar.set_message(line);
    }
}

vigil_cli::every_option_has_help!(Cli);
