use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use vigil_cli::ModelKindArg;

use vigil_detector::args::DecisionArgs;
use vigil_detector::detect::Options;
use vigil_model::config::{ModelConfig, TrainingConfig};
use vigil_model::deeplog::DeepLogConfig;

/// Vigil on public labelled benchmarks (read from ../shared/benchmarks/, never copied).
#[derive(Debug, Parser)]
#[command(name = "vigil-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// The Numenta Anomaly Benchmark: train on each file's probationary period, score the
    /// rest, NAB scores (standard, reward_low_FP_rate, reward_low_FN_rate).
    Nab(NabArgs),
    /// Log parsing on loghub-2k: the miner's GA, PA, FGA, FTA and lines/s per system,
    /// Drain.py's beside.
    Loghub(LoghubArgs),
    /// HDFS log sessions: DeepLog trained on the normal train sessions, the test split
    /// judged, beside the unseen-template baseline and the published figures.
    Hdfs(HdfsArgs),
    /// Full HDFS_v1 as DeepLog prepared it: 5-fold cross-validation over the normal
    /// training sessions, every anomalous session judged per fold, recall and FPR pooled;
    /// DeepLog beside the simple methods on the same folds.
    HdfsDeeplog(HdfsArgs),
}

#[derive(Debug, Args)]
struct NabArgs {
    /// A NAB checkout (data/, labels/combined_windows.json).
    #[arg(long, default_value = "../shared/benchmarks/nab")]
    benchmarks: PathBuf,
    /// Which files: the label-key prefix (`realAWSCloudwatch/`, `realTraffic/speed`, …)
    /// [default: every labelled file that has data here].
    #[arg(long, default_value = "")]
    prefix: String,
    /// Output folder: nab.txt, nab.json and the per-file scores.
    #[arg(long, short, default_value = "results/nab")]
    out: PathBuf,
    /// The network [default: dense_autoencoder].
    #[arg(long, value_name = "KIND")]
    model_kind: Option<ModelKindArg>,
    /// Window length in rows (capped at a tenth of the probationary period).
    #[arg(long, default_value_t = 12)]
    window: usize,
    /// How rows are scored and alarms raised: the detector's own flags and defaults.
    #[command(flatten)]
    decision: DecisionArgs,
    /// Seeds every file's training.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// `vigil-bench loghub`'s flags.
#[derive(Debug, clap::Args)]
struct LoghubArgs {
    /// The loghub-2k folder (one folder per system).
    #[arg(long, default_value = "../shared/benchmarks/loghub-2k")]
    benchmarks: PathBuf,
    /// Output folder: loghub.txt and loghub.json.
    #[arg(long, short, default_value = "results/loghub")]
    out: PathBuf,
    /// Only these systems (repeatable) [default: all 16].
    #[arg(long = "system", value_name = "NAME")]
    systems: Vec<String>,
    /// Parse each system this many times and keep the fastest (timing only).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

const HDFS_100K: &str = "../shared/benchmarks/hdfs";

#[derive(Debug, Args)]
struct HdfsArgs {
    /// The benchmark folder: `hdfs` reads HDFS_100k_sessions.csv and
    /// HDFS_100k_templates.csv [default: ../shared/benchmarks/hdfs]; `hdfs-deeplog` reads
    /// hdfs_train and hdfs_test_abnormal [default: ../shared/benchmarks/hdfs-deeplog].
    // The doc names each command's default; clap's own would name only `hdfs`'s.
    #[arg(long, default_value = HDFS_100K, hide_default_value = true)]
    benchmarks: PathBuf,
    /// Output folder for the report [default: results/hdfs; `hdfs-deeplog`:
    /// results/hdfs-deeplog].
    #[arg(long, short, default_value = "results/hdfs", hide_default_value = true)]
    out: PathBuf,
    /// DeepLog's history h [default: 10].
    #[arg(long)]
    history: Option<usize>,
    /// DeepLog's g: normal events are among this many most likely [default: 9, raised on
    /// validation sessions].
    #[arg(long)]
    top_g: Option<usize>,
    /// Most training epochs [default: 30].
    #[arg(long)]
    epochs: Option<usize>,
    /// An event the model gave less than this probability is anomalous even within the
    /// top g (0 = rank alone).
    #[arg(long)]
    min_probability: Option<f64>,
    /// Seeds DeepLog's training.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn nab(a: NabArgs) -> anyhow::Result<()> {
    let mut config = TrainingConfig {
        window: a.window,
        seed: a.seed,
        validation_fraction: 0.25,
        ..Default::default()
    };
    if let Some(kind) = a.model_kind {
        config.model = ModelConfig::default_for(kind.into());
    }
    let options = a.decision.apply(Options::default())?;
    let report = vigil_bench::nab::run_nab(&vigil_bench::nab::NabJob {
        benchmarks: &a.benchmarks,
        prefix: &a.prefix,
        out: &a.out,
        config,
        options,
    })?;
    print!("{}", vigil_bench::nab::render(&report, report.files.len()));
    Ok(())
}

fn loghub(a: LoghubArgs) -> anyhow::Result<()> {
    vigil_bench::loghub::run_loghub(&vigil_bench::loghub::LoghubJob {
        benchmarks: a.benchmarks,
        out: a.out,
        systems: a.systems,
        repeat: a.repeat,
    })?;
    Ok(())
}

fn hdfs(h: HdfsArgs) -> anyhow::Result<()> {
    let config = deeplog_config(&h);
    let report = vigil_bench::hdfs::run_hdfs(&h.benchmarks, &h.out, &config)?;
    print!("{}", vigil_bench::hdfs::render_hdfs(&report));
    Ok(())
}

fn deeplog_config(h: &HdfsArgs) -> DeepLogConfig {
    let mut config = DeepLogConfig {
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
    if let Some(v) = h.min_probability {
        config.min_probability = v;
    }
    config
}

fn hdfs_deeplog(mut h: HdfsArgs) -> anyhow::Result<()> {
    // The shared defaults name the 100k folder; this protocol reads its own.
    if h.benchmarks == Path::new(HDFS_100K) {
        h.benchmarks = PathBuf::from("../shared/benchmarks/hdfs-deeplog");
    }
    if h.out == Path::new("results/hdfs") {
        h.out = PathBuf::from("results/hdfs-deeplog");
    }
    let config = deeplog_config(&h);
    let report = vigil_bench::hdfs_deeplog::run_hdfs_deeplog(&h.benchmarks, &h.out, &config)?;
    print!("{}", vigil_bench::hdfs_deeplog::render(&report));
    Ok(())
}

fn main() -> ExitCode {
    let result = match Cli::parse().bench {
        Bench::Nab(a) => nab(a),
        Bench::Loghub(a) => loghub(a),
        Bench::Hdfs(a) => hdfs(a),
        Bench::HdfsDeeplog(a) => hdfs_deeplog(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigil-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}

vigil_cli::every_option_has_help!(Cli);
vigil_cli::readme_examples_parse!(Cli, "vigil-bench");
