use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use vigil_cli::parsing;
use vigil_cli::train::{LogsSettings, MetricsSettings};
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
    /// Output model directory.
    #[arg(long, short, default_value = "models/logs")]
    model: PathBuf,
    #[command(flatten)]
    settings: LogsSettings,
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
    #[command(flatten)]
    settings: MetricsSettings,
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
    let config = a.settings.deeplog()?;
    let input = match (&a.input, &a.sequences) {
        (Some(path), _) => LogInput::Raw {
            path,
            parsing: Box::new(parsing(&a.settings.miner, &a.settings.sessions)?),
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
        println!("trainer: {}", verdict_line(&model));
    }
    Ok(())
}

/// What the log model's verdict was calibrated to, and what its counts hold.
fn verdict_line(model: &vigil_model::logmodel::LogModel) -> String {
    let h = &model.history;
    let calibrated = match (h.calibrated_top_g, h.calibrated_min_probability) {
        (Some(g), Some(p)) => format!(
            "verdict calibrated on {} validation sessions: g {g}, probability floor {p:.1e}, transitions never seen abnormal under {:.1e}",
            h.valid_sessions,
            h.calibrated_novel_probability.unwrap_or(f32::NAN)
        ),
        _ => format!(
            "verdict as configured ({}): g {}, probability floor {:.1e}",
            if model.config.max_valid_flagged > 0.0 {
                "no validation sessions to calibrate on"
            } else {
                "max_valid_flagged = 0"
            },
            model.config.top_g,
            model.config.min_probability
        ),
    };
    let counts = if !model.config.count_vectors {
        "counts off".to_string()
    } else if model.counts.distinct() == 0 {
        format!(
            "counts not kept: more than {} distinct count vectors among the training sessions",
            vigil_core::logs::counts::MAX_DISTINCT
        )
    } else {
        format!(
            "counts: {} distinct count vectors, at most {:.3} apart",
            model.counts.distinct(),
            model.counts.spread
        )
    };
    format!("{calibrated}; {counts}")
}

fn metrics(a: MetricsArgs) -> anyhow::Result<()> {
    let (config, read) = a.settings.resolve()?;
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
vigil_cli::readme_examples_parse!(Cli, "trainer");
