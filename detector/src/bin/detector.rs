use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use vigil_core::series::BadLines;
use vigil_core::threshold::Method;
use vigil_detector::charts::ChartOptions;
use vigil_detector::detect::Options;
use vigil_detector::{MetricsJob, detect_metrics};

/// Find anomalies in new data with a trained Vigil model.
#[derive(Debug, Parser)]
#[command(name = "detector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Score a metrics CSV: scores.csv, anomalies.csv, charts (and an evaluation with --labels).
    Metrics(MetricsArgs),
    /// Compare a scores.csv with labels: point-wise and event-wise, model beside baseline.
    Eval(EvalArgs),
    /// Mine a log's templates (Drain): templates.csv and structured.csv.
    Parse(vigil_detector::logs::ParseArgs),
    /// Judge log sessions with a DeepLog model: sessions.csv (and an evaluation with labels).
    Logs(LogsArgs),
}

#[derive(Debug, Args)]
struct LogsArgs {
    /// A raw log (parsed with the model's own parser and session rule).
    #[arg(
        long,
        short,
        required_unless_present = "sequences",
        conflicts_with = "sequences"
    )]
    input: Option<PathBuf>,
    /// Or a sequence file (`<Id>,Label,Split,EventSequence`); its labels are evaluated.
    #[arg(long)]
    sequences: Option<PathBuf>,
    /// With --sequences: only this split (train or test).
    #[arg(long, requires = "sequences", value_parser = ["train", "test"])]
    split: Option<String>,
    /// Model directory written by `trainer logs`.
    #[arg(long, short)]
    model: PathBuf,
    /// Output folder: sessions.csv, summary.json, evaluation.*.
    #[arg(long, short, default_value = "results/logs")]
    out: PathBuf,
    /// The anomalous sessions (`session,…[,kind]`, e.g. the generator's session_labels.csv);
    /// sessions it does not list count as normal.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// An event is normal when among this many most likely predictions [default: the
    /// model's].
    #[arg(long)]
    top_g: Option<usize>,
    /// No summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct HdfsArgs {
    /// The HDFS benchmark folder (HDFS_100k_sessions.csv, HDFS_100k_templates.csv).
    #[arg(long, default_value = "../shared/benchmarks/hdfs")]
    benchmarks: PathBuf,
    #[arg(long, short, default_value = "results/hdfs")]
    out: PathBuf,
    #[arg(long)]
    history: Option<usize>,
    #[arg(long)]
    top_g: Option<usize>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct EvalArgs {
    #[command(subcommand)]
    bench: Option<Bench>,
    /// scores.csv written by `detector metrics`.
    #[arg(long, short)]
    scores: Option<PathBuf>,
    /// Labels: intervals (host,start,end[,kind]) or a time column with a 0/1 label column.
    #[arg(long, short)]
    labels: Option<PathBuf>,
    /// Where to write evaluation.json and evaluation.txt [default: beside the scores].
    #[arg(long, short)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// The Numenta Anomaly Benchmark: train on each file's probationary period, score the
    /// rest, NAB scores (standard, reward_low_FP_rate, reward_low_FN_rate).
    Nab(NabArgs),
    /// Log parsing on loghub-2k: Drain's grouping accuracy and lines/s per system.
    Loghub(vigil_detector::logs::LoghubArgs),
    /// HDFS log sessions: DeepLog trained on the normal train sessions, the test split
    /// judged, beside the unseen-template baseline and the published figures.
    Hdfs(HdfsArgs),
}

#[derive(Debug, Args)]
struct NabArgs {
    /// A NAB checkout (data/, labels/combined_windows.json).
    #[arg(long, default_value = "../shared/benchmarks/nab")]
    benchmarks: PathBuf,
    /// Which files: the label-key prefix.
    #[arg(long, default_value = "realAWSCloudwatch/")]
    prefix: String,
    #[arg(long, short, default_value = "results/nab")]
    out: PathBuf,
    /// dense_autoencoder (default), lstm_autoencoder or lstm_forecaster.
    #[arg(long, value_name = "KIND")]
    model_kind: Option<String>,
    /// Window length in rows (capped at a tenth of the probationary period).
    #[arg(long, default_value_t = 12)]
    window: usize,
    /// POT risk.
    #[arg(long, default_value_t = 1e-3)]
    q: f64,
    #[arg(long, default_value_t = 3)]
    smooth: usize,
    #[arg(long, default_value_t = 1)]
    min_duration: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Debug, Args)]
struct MetricsArgs {
    /// Metrics CSV with the model's columns (any order; others are ignored).
    #[arg(long, short)]
    input: PathBuf,
    /// Model directory written by `trainer metrics`.
    #[arg(long, short)]
    model: PathBuf,
    /// Output folder.
    #[arg(long, short, default_value = "results")]
    out: PathBuf,
    /// pot (peaks over threshold, default), percentile or fixed.
    #[arg(long, default_value = "pot")]
    threshold: String,
    /// POT risk: the probability that a normal point exceeds the threshold.
    #[arg(long, default_value_t = 1e-3)]
    q: f64,
    /// POT: the quantile of the calibration scores above which the tail is fitted.
    #[arg(long, default_value_t = 0.98)]
    pot_initial: f64,
    /// Percentile threshold (0-100).
    #[arg(long, default_value_t = 99.9)]
    percentile: f64,
    /// Fixed threshold on the score (1.0 = a typical point's error).
    #[arg(long)]
    value: Option<f64>,
    /// Moving average over this many points before thresholding (1 = none).
    #[arg(long, default_value_t = 3)]
    smooth: usize,
    /// Points above the threshold needed to raise an alarm.
    #[arg(long, default_value_t = 3)]
    min_duration: usize,
    /// Normal points that may separate two stretches of one anomaly.
    #[arg(long, default_value_t = 10)]
    merge_gap: usize,
    /// Windows per model call.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Skip (and count) malformed lines instead of stopping at the first.
    #[arg(long)]
    skip_bad_lines: bool,
    /// Score hosts the model was not trained on (with the fleet's baseline statistics).
    #[arg(long)]
    allow_new_hosts: bool,
    /// Flag a host whose every metric repeats exactly for this many steps (a frozen
    /// agent); 0 = off.
    #[arg(long, default_value_t = 10)]
    frozen_steps: usize,
    /// Worker threads [default: all cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Labels to evaluate against (e.g. the generator's labels.csv).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Write no charts.
    #[arg(long)]
    no_charts: bool,
    /// Per-host charts for the first N hosts only (the histogram covers all).
    #[arg(long, default_value_t = 50, value_name = "N")]
    chart_hosts: usize,
    /// No summary line.
    #[arg(long, short)]
    quiet: bool,
}

fn threshold(a: &MetricsArgs) -> anyhow::Result<Method> {
    Ok(match a.threshold.as_str() {
        "pot" => Method::Pot {
            q: a.q,
            initial: a.pot_initial,
        },
        "percentile" => Method::Percentile {
            p: a.percentile / 100.0,
        },
        "fixed" => Method::Fixed {
            value: a
                .value
                .ok_or_else(|| anyhow::anyhow!("--threshold fixed needs --value"))?,
        },
        other => anyhow::bail!("unknown --threshold {other:?}: use pot, percentile or fixed"),
    })
}

fn metrics(a: MetricsArgs) -> anyhow::Result<()> {
    if let Some(n) = a.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    let options = Options {
        threshold: threshold(&a)?,
        smooth: a.smooth,
        min_duration: a.min_duration,
        merge_gap: a.merge_gap,
        batch: a.batch_size,
        bad_lines: if a.skip_bad_lines {
            BadLines::Skip
        } else {
            BadLines::Fail
        },
        allow_new_hosts: a.allow_new_hosts,
        frozen_steps: a.frozen_steps,
        ..Options::default()
    };
    let summary = detect_metrics(&MetricsJob {
        input: &a.input,
        model_dir: &a.model,
        out: &a.out,
        options,
        labels: a.labels.as_deref(),
        charts: (!a.no_charts).then_some(ChartOptions {
            max_hosts: a.chart_hosts,
        }),
    })?;
    if !a.quiet {
        let r = &summary.report;
        eprintln!(
            "detector: {} rows of {} hosts scored in {:.1} s ({:.0} points/s); threshold {:.3} ({}); {} anomalies ({} rows), baseline {} rows; {} skipped, {} filled, {} merged → {}",
            r.rows,
            r.hosts,
            summary.seconds,
            summary.points_per_second,
            summary.calibration.model.value,
            a.threshold,
            r.anomalies,
            r.anomalous_rows,
            r.baseline_anomalous_rows,
            r.skipped_lines,
            r.filled_steps,
            r.merged,
            a.out.display()
        );
        if summary.hosts_without_charts > 0 {
            eprintln!(
                "detector: {} charts; {} hosts past --chart-hosts {} have none",
                summary.charts.len(),
                summary.hosts_without_charts,
                a.chart_hosts
            );
        }
        if let Some(e) = &summary.evaluation {
            eprint!("{}", vigil_detector::eval::render(e, &summary.model_kind));
        }
    }
    Ok(())
}

fn nab(a: NabArgs) -> anyhow::Result<()> {
    let mut config = vigil_trainer::config::TrainingConfig {
        window: a.window,
        seed: a.seed,
        validation_fraction: 0.25,
        ..Default::default()
    };
    if let Some(kind) = &a.model_kind {
        config.model = vigil_trainer::config::ModelConfig::from_kind(kind)
            .ok_or_else(|| anyhow::anyhow!("unknown --model-kind {kind:?}"))?;
    }
    let options = Options {
        threshold: Method::Pot {
            q: a.q,
            initial: 0.9,
        },
        smooth: a.smooth,
        min_duration: a.min_duration,
        merge_gap: 0,
        ..Options::default()
    };
    let report = vigil_detector::nab::run_nab(&vigil_detector::nab::NabJob {
        benchmarks: &a.benchmarks,
        prefix: &a.prefix,
        out: &a.out,
        config,
        options,
    })?;
    print!(
        "{}",
        vigil_detector::nab::render(&report, report.files.len())
    );
    Ok(())
}

fn logs(a: LogsArgs) -> anyhow::Result<()> {
    use vigil_core::logs::sessions::Split;
    use vigil_detector::sequences::{LogsInput, LogsJob, detect_logs, render};
    let input = match (&a.input, &a.sequences) {
        (Some(path), _) => LogsInput::Raw(path),
        (None, Some(path)) => LogsInput::Sequences {
            path,
            split: a.split.as_deref().map(|s| {
                if s == "train" {
                    Split::Train
                } else {
                    Split::Test
                }
            }),
        },
        (None, None) => anyhow::bail!("give --input (a raw log) or --sequences"),
    };
    let s = detect_logs(&LogsJob {
        input,
        model_dir: &a.model,
        out: &a.out,
        labels: a.labels.as_deref(),
        top_g: a.top_g,
    })?;
    if !a.quiet {
        let lines = s.lines.as_ref().map_or(String::new(), |r| {
            format!(
                "; {} lines, {} skipped, {} in no session, {} matching no learnt template",
                r.lines,
                r.skipped(),
                s.lines_without_session,
                s.lines_unmatched
            )
        });
        eprintln!(
            "detector: {} sessions judged in {:.1} s (g = {}): {} anomalous, baseline {}{lines} → {}",
            s.sessions,
            s.seconds,
            s.top_g,
            s.anomalous,
            s.baseline_anomalous,
            a.out.display()
        );
        if let Some(e) = &s.evaluation {
            eprint!("{}", render(e));
        }
    }
    Ok(())
}

fn eval(a: EvalArgs) -> anyhow::Result<()> {
    match a.bench {
        Some(Bench::Nab(n)) => return nab(n),
        Some(Bench::Loghub(l)) => return Ok(vigil_detector::logs::run_loghub(&l).map(drop)?),
        Some(Bench::Hdfs(h)) => {
            let mut config = vigil_trainer::deeplog::DeepLogConfig {
                seed: h.seed,
                ..Default::default()
            };
            if let Some(v) = h.history {
                config.history = v;
            }
            if let Some(v) = h.top_g {
                config.top_g = v;
            }
            if let Some(v) = h.epochs {
                config.epochs = v;
            }
            let report = vigil_detector::sequences::run_hdfs(&h.benchmarks, &h.out, &config)?;
            print!("{}", vigil_detector::sequences::render_hdfs(&report));
            return Ok(());
        }
        None => {}
    }
    let (Some(scores), Some(labels)) = (a.scores, a.labels) else {
        anyhow::bail!("detector eval needs --scores and --labels (or the nab subcommand)");
    };
    let labels = vigil_detector::eval::read_labels(&labels)?;
    let e = vigil_detector::eval::evaluate_scores(&scores, labels)?;
    let out = a
        .out
        .or_else(|| scores.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&out)?;
    vigil_detector::write_evaluation(&out, &e, "model")?;
    print!("{}", vigil_detector::eval::render(&e, "model"));
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Metrics(a) => metrics(a),
        Command::Eval(a) => eval(a),
        Command::Parse(a) => vigil_detector::logs::parse(&a)
            .map(drop)
            .map_err(Into::into),
        Command::Logs(a) => logs(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("detector: {e:#}");
            ExitCode::from(2)
        }
    }
}
