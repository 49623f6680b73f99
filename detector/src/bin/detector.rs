use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use vigil_cli::MinerArgs;
use vigil_core::series::BadLines;
use vigil_detector::args::DecisionArgs;
use vigil_detector::charts::ChartOptions;
use vigil_detector::detect::Options;
use vigil_detector::logs::parse::ParseJob;
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
    Parse(ParseArgs),
    /// Judge log sessions with a DeepLog model: sessions.csv (and an evaluation with labels).
    Logs(LogsArgs),
    /// A log's patterns: a table (count, share, first/last seen, examples, the values behind
    /// each <*>), their volume over time, a time × rarity scatter coloured by pattern, and
    /// against a baseline the new, vanished and shifted patterns.
    Patterns(PatternsArgs),
    /// Two logs' behaviour compared (2KDiff): k-tails state machines over shared templates,
    /// transitions only in A, only in B or more or less frequent beyond chance; the merged
    /// graph (DOT, PNG, SVG), each log's machine, the distinguishing sequences and example
    /// sessions.
    Diff(DiffArgs),
    /// Several logs (text, JSON lines, logfmt; each format found per file) into one JSON-lines
    /// firehose in time order, each line keeping its source file and line number.
    Merge(MergeArgs),
}

/// `detector merge`'s flags.
#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// A log to merge (give two or more: `-i a.log -i b.jsonl`).
    #[arg(long = "input", short, required = true, value_name = "LOG")]
    inputs: Vec<PathBuf>,
    /// The format of every input (see `detector parse --help`); `auto` finds each file's.
    #[arg(long, default_value = vigil_core::logs::detect::AUTO)]
    format: String,
    /// A jq program run on each JSON-lines or logfmt record first (text inputs refuse it).
    #[arg(long, value_name = "JQ")]
    filter: Option<String>,
    /// Skip (and count) malformed JSON-lines or logfmt records instead of stopping at the
    /// first with its file and line.
    #[arg(long)]
    skip_bad_lines: bool,
    /// Lines longer than this many bytes are skipped and counted.
    #[arg(long, default_value_t = vigil_core::logs::read::DEFAULT_MAX_LINE_BYTES)]
    max_line_bytes: usize,
    /// The merged JSON-lines file (`timestamp`, `host`, `level`, `service`, `message`,
    /// `source`, `line`).
    #[arg(long, short)]
    out: PathBuf,
    /// No summary.
    #[arg(long, short)]
    quiet: bool,
}

/// `detector diff`'s flags.
#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// Log A (raw text, JSON lines or logfmt), or a model directory (`trainer logs`).
    a: PathBuf,
    /// Log B, read with A's format; or a second model directory, when A is one.
    b: PathBuf,
    /// Header format and the miner's settings.
    #[command(flatten)]
    miner: MinerArgs,
    /// How lines become sessions.
    #[command(flatten)]
    sessions: vigil_cli::SessionArgs,
    /// Events per state: 1 (a state is the last template) or 2 (the last two).
    #[arg(long, default_value_t = 1)]
    k: usize,
    /// Significance of a difference, before the Bonferroni correction over every
    /// transition tested.
    #[arg(long, default_value_t = 0.01)]
    alpha: f64,
    /// Transitions drawn when taken at least this often in one log (differences are
    /// always drawn).
    #[arg(long, default_value_t = 5)]
    min_edge: u64,
    /// Output folder: diff.txt, diff.csv, diff.json, diff.dot (diff.png, diff.svg), a.dot,
    /// b.dot.
    #[arg(long, short, default_value = "results/diff")]
    out: PathBuf,
    /// No report on the console.
    #[arg(long, short)]
    quiet: bool,
}

/// `detector patterns`' flags.
#[derive(Debug, clap::Args)]
struct PatternsArgs {
    /// The log file (raw text, JSON lines or logfmt).
    #[arg(long, short)]
    input: PathBuf,
    /// Header format and the miner's settings.
    #[command(flatten)]
    miner: MinerArgs,
    /// A baseline log (same format): what changed in --input against it.
    #[arg(long, conflicts_with = "baseline_until")]
    baseline: Option<PathBuf>,
    /// Or the log's own lines before this time (RFC 3339 or `YYYY-MM-DD HH:MM:SS`) as the
    /// baseline, the rest judged against them.
    #[arg(long, value_name = "TIME")]
    baseline_until: Option<String>,
    /// Significance of a share change, before the Bonferroni correction over the patterns
    /// both sides have.
    #[arg(long, default_value_t = 0.01)]
    alpha: f64,
    /// Example lines kept per pattern.
    #[arg(long, default_value_t = 3)]
    examples: usize,
    /// Most frequent values listed per <*>.
    #[arg(long, default_value_t = 5)]
    values: usize,
    /// Patterns in the console table (patterns.csv has them all).
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// No volume.png and scatter.png.
    #[arg(long)]
    no_charts: bool,
    /// Output folder: patterns.csv, patterns.txt, patterns.json, volume.png, scatter.png.
    #[arg(long, short, default_value = "results/patterns")]
    out: PathBuf,
    /// No table on the console.
    #[arg(long, short)]
    quiet: bool,
}

/// `detector parse`'s flags.
#[derive(Debug, clap::Args)]
struct ParseArgs {
    /// The log file.
    #[arg(long, short)]
    input: PathBuf,
    /// Header format and the miner's settings.
    #[command(flatten)]
    miner: MinerArgs,
    /// Output folder: templates.csv, structured.csv, parse.json.
    #[arg(long, short, default_value = "results/parse")]
    out: PathBuf,
    /// No summary line.
    #[arg(long, short)]
    quiet: bool,
}

/// `--split` of a sequence file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SplitArg {
    Train,
    Test,
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
    #[arg(long, requires = "sequences", value_enum)]
    split: Option<SplitArg>,
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
    /// A jq program run on each JSON-lines or logfmt record, instead of the one the model
    /// was trained with (if any).
    #[arg(long, value_name = "JQ", requires = "input")]
    filter: Option<String>,
    /// Skip (and count) malformed JSON-lines or logfmt records instead of stopping at the
    /// first with its file and line.
    #[arg(long, requires = "input")]
    skip_bad_lines: bool,
    /// No summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct EvalArgs {
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
    #[command(flatten)]
    decision: DecisionArgs,
    /// Windows per model call.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Skip (and count) malformed lines instead of stopping at the first.
    #[arg(long)]
    skip_bad_lines: bool,
    /// Score hosts the model was not trained on (with the fleet's baseline statistics).
    #[arg(long)]
    allow_new_hosts: bool,
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

/// What the run did on purpose to messy input, said even with --quiet.
fn warn_about(r: &vigil_detector::detect::Report) {
    use vigil_detector::explain::duration;
    for s in &r.resampled {
        let host = if s.host.is_empty() {
            String::new()
        } else {
            format!(" of {}", s.host)
        };
        eprintln!(
            "detector: warning: the rows{host} are {} apart; resampled onto the model's step of {}",
            duration(s.step),
            duration(s.model_step)
        );
    }
    if r.out_of_order > 0 {
        eprintln!(
            "detector: warning: {} rows older than their host's previous row were written out unscored",
            r.out_of_order
        );
    }
    if r.daily_repeats > 0 {
        eprintln!(
            "detector: {} stretches started at the time of day one had on each of the two days before on the same host: daily repeats (a schedule), not raised (--raise-daily-repeats raises them)",
            r.daily_repeats
        );
    }
    if r.adapt_updates > 0 {
        eprintln!(
            "detector: the network adapted {} times, on {} windows judged normal (--adapt)",
            r.adapt_updates, r.adapted_windows
        );
    }
}

fn metrics(a: MetricsArgs) -> anyhow::Result<()> {
    if let Some(n) = a.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    let options = Options {
        batch: a.batch_size,
        bad_lines: bad_lines(a.skip_bad_lines),
        allow_new_hosts: a.allow_new_hosts,
        ..a.decision.apply(Options::default())?
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
    warn_about(&summary.report);
    // Calibration keeps the asked method unless POT had too few validation scores.
    let fell_back = summary.calibration.model.method != summary.options.threshold;
    if fell_back {
        eprintln!(
            "detector: warning: too few validation scores for a POT tail fit; the threshold is the highest validation score instead (summary.json: calibration.model.method)"
        );
    }
    if !a.quiet {
        let r = &summary.report;
        eprintln!(
            "detector: {} rows of {} hosts scored in {:.1} s ({:.0} points/s); threshold {:.3} ({}); {} anomalies ({} rows), baseline {} rows; {} skipped, {} filled, {} merged → {}",
            r.rows,
            r.hosts,
            summary.seconds,
            summary.points_per_second,
            summary.calibration.model.value,
            if fell_back {
                "highest validation score"
            } else {
                a.decision.threshold_kind().name()
            },
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

fn parse(a: ParseArgs) -> anyhow::Result<()> {
    let job = ParseJob {
        input: a.input,
        format: a.miner.format.clone(),
        miner: a.miner.config(),
        max_line_bytes: a.miner.max_line_bytes,
        filter: a.miner.filter.clone(),
        bad_lines: a.miner.bad_lines(),
        out: a.out,
    };
    let summary = vigil_detector::logs::parse::parse(&job)?;
    if !a.quiet {
        eprintln!(
            "{}",
            vigil_detector::logs::parse::describe(&summary, &job.out)
        );
    }
    Ok(())
}

/// `--skip-bad-lines` as the readers take it.
fn bad_lines(skip: bool) -> BadLines {
    if skip { BadLines::Skip } else { BadLines::Fail }
}

/// `--alpha` of patterns and diff: a probability strictly between 0 and 1.
fn check_alpha(alpha: f64) -> anyhow::Result<()> {
    if !(alpha > 0.0 && alpha < 1.0) {
        anyhow::bail!("--alpha: expected a probability in (0, 1), found {alpha}");
    }
    Ok(())
}

fn merge(a: MergeArgs) -> anyhow::Result<()> {
    use vigil_detector::logs::merge::{MergeJob, describe, merge};
    let summary = merge(&MergeJob {
        inputs: a.inputs,
        format: a.format,
        filter: a.filter,
        bad_lines: bad_lines(a.skip_bad_lines),
        max_line_bytes: a.max_line_bytes,
        out: a.out,
    })?;
    if !a.quiet {
        eprintln!("{}", describe(&summary));
    }
    Ok(())
}

fn diff(a: DiffArgs) -> anyhow::Result<()> {
    use vigil_detector::logs::diff::{DiffJob, diff};
    check_alpha(a.alpha)?;
    if a.sessions.group_field.is_some() || a.sessions.time_field.is_some() {
        anyhow::bail!(
            "--group-field and --time-field: not used by diff (records take Host, Node or Component as the group and Timestamp or Date + Time as the time)"
        );
    }
    let job = DiffJob {
        a: a.a,
        b: a.b,
        format: a.miner.format.clone(),
        filter: a.miner.filter.clone(),
        bad_lines: a.miner.bad_lines(),
        miner: a.miner.config(),
        max_line_bytes: a.miner.max_line_bytes,
        rule: a.sessions.rule(),
        k: a.k,
        alpha: a.alpha,
        min_edge: a.min_edge,
        out: a.out,
    };
    let (summary, _) = match (job.a.is_dir(), job.b.is_dir()) {
        (true, true) => vigil_detector::logs::diff::diff_models(&job)?,
        (false, false) => diff(&job)?,
        _ => anyhow::bail!(
            "diff compares two logs or two model directories, not one of each ({} and {})",
            job.a.display(),
            job.b.display()
        ),
    };
    if !a.quiet {
        eprint!(
            "{}",
            std::fs::read_to_string(job.out.join("diff.txt")).unwrap_or_default()
        );
        eprintln!(
            "detector: {} in {:.2} s{} → {}",
            if summary.only_a + summary.only_b + summary.more_in_b + summary.less_in_b == 0 {
                "no difference beyond chance".to_string()
            } else {
                format!(
                    "{} differences",
                    summary.only_a + summary.only_b + summary.more_in_b + summary.less_in_b
                )
            },
            summary.seconds,
            if summary.rendered {
                ""
            } else {
                "; diff.png and diff.svg not drawn: Graphviz's dot is not installed (apt-get install graphviz)"
            },
            job.out.display()
        );
    }
    Ok(())
}

fn patterns(a: PatternsArgs) -> anyhow::Result<()> {
    use vigil_detector::logs::patterns::{Baseline, PatternsJob, describe, patterns};
    check_alpha(a.alpha)?;
    let baseline = match (&a.baseline, &a.baseline_until) {
        (Some(p), _) => Baseline::File(p.clone()),
        (None, Some(t)) => Baseline::Until(
            vigil_core::time::parse_timestamp(t)
                .map_err(|e| anyhow::anyhow!("--baseline-until: {e}"))?
                .timestamp_millis(),
        ),
        (None, None) => Baseline::None,
    };
    let job = PatternsJob {
        input: a.input,
        format: a.miner.format.clone(),
        filter: a.miner.filter.clone(),
        bad_lines: a.miner.bad_lines(),
        miner: a.miner.config(),
        max_line_bytes: a.miner.max_line_bytes,
        baseline,
        alpha: a.alpha,
        examples: a.examples,
        values: a.values,
        top: a.top,
        charts: !a.no_charts,
        out: a.out,
    };
    let (summary, _) = patterns(&job)?;
    if !a.quiet {
        eprint!(
            "{}",
            std::fs::read_to_string(job.out.join("patterns.txt")).unwrap_or_default()
        );
        eprintln!("{}", describe(&summary, &job.out));
    }
    Ok(())
}

fn logs(a: LogsArgs) -> anyhow::Result<()> {
    use vigil_core::logs::sessions::Split;
    use vigil_detector::logs::{LogsInput, LogsJob, detect_logs, render};
    let input = match (&a.input, &a.sequences) {
        (Some(path), _) => LogsInput::Raw(path),
        (None, Some(path)) => LogsInput::Sequences {
            path,
            split: a.split.map(|s| match s {
                SplitArg::Train => Split::Train,
                SplitArg::Test => Split::Test,
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
        filter: a.filter.as_deref(),
        bad_lines: bad_lines(a.skip_bad_lines),
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
    let (Some(scores), Some(labels)) = (a.scores, a.labels) else {
        anyhow::bail!(
            "detector eval needs --scores and --labels (the public benchmarks are `vigil-bench nab` (NAB), `vigil-bench loghub` (loghub-2k parsing), `vigil-bench hdfs` (HDFS 100k) and `vigil-bench hdfs-deeplog` (HDFS as DeepLog used it))"
        );
    };
    let labels = vigil_detector::eval::read_intervals(&labels)?;
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
        Command::Parse(a) => parse(a),
        Command::Logs(a) => logs(a),
        Command::Patterns(a) => patterns(a),
        Command::Diff(a) => diff(a),
        Command::Merge(a) => merge(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("detector: {e:#}");
            ExitCode::from(2)
        }
    }
}

vigil_cli::every_option_has_help!(Cli);
vigil_cli::readme_examples_parse!(Cli, "detector");
