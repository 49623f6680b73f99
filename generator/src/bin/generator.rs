use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use vigil_core::Duration;
use vigil_generator::scenario::DEFAULT_SCENARIO;
use vigil_generator::{Options, Overrides, Scenario, ScenarioFile, generate};

/// Simulate a fleet of servers and write metrics, logs and labelled incidents.
///
/// Without --config the embedded default scenario runs (print it with --print-default).
/// The same scenario and seed always give byte-identical files.
#[derive(Debug, Parser)]
#[command(name = "generator", version, about, long_about)]
struct Args {
    /// Scenario file (TOML).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Output folder.
    #[arg(long, short, default_value = "data/generated")]
    out: PathBuf,
    /// Replace the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Replace the scenario's duration, e.g. 180d.
    #[arg(long)]
    duration: Option<Duration>,
    /// Split into an incident-free training period and a test period, as TRAIN:TEST
    /// durations (e.g. 21d:14d; the duration becomes their sum) or TRAIN: (test = the rest).
    #[arg(long, conflicts_with = "no_split")]
    split: Option<String>,
    /// Write one dataset with incidents throughout, even if the scenario has a split.
    #[arg(long)]
    no_split: bool,
    /// Also write logs.jsonl.
    #[arg(long)]
    jsonl: bool,
    /// Skip the charts.
    #[arg(long)]
    no_charts: bool,
    /// Where the charts go [default: OUT/charts].
    #[arg(long, value_name = "DIR")]
    charts_dir: Option<PathBuf>,
    /// Write no logs (metrics and labels only).
    #[arg(long)]
    no_logs: bool,
    /// No progress bar or summary.
    #[arg(long, short)]
    quiet: bool,
    /// Check the scenario and exit.
    #[arg(long)]
    check: bool,
    /// Print the embedded default scenario and exit.
    #[arg(long)]
    print_default: bool,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generator: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn parse_split(text: &str) -> anyhow::Result<(Duration, Option<Duration>)> {
    let (train, test) = text
        .split_once(':')
        .with_context(|| format!("--split: expected TRAIN:TEST like 21d:14d, found {text:?}"))?;
    let train: Duration = train
        .parse()
        .with_context(|| format!("--split {text:?}: training part"))?;
    let test = match test.trim() {
        "" => None,
        t => Some(
            t.parse::<Duration>()
                .with_context(|| format!("--split {text:?}: test part"))?,
        ),
    };
    Ok((train, test))
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.print_default {
        print!("{DEFAULT_SCENARIO}");
        return Ok(());
    }
    let (mut file, source) = match &args.config {
        Some(path) => (ScenarioFile::read(path)?, path.display().to_string()),
        None => (
            ScenarioFile::embedded_default(),
            "(embedded default)".to_string(),
        ),
    };
    let mut overrides = Overrides {
        seed: args.seed,
        duration: args.duration,
        no_split: args.no_split,
        jsonl: args.jsonl,
        no_logs: args.no_logs,
        ..Overrides::default()
    };
    if let Some(split) = &args.split {
        let (train, test) = parse_split(split)?;
        overrides.train = Some(train);
        if let Some(test) = test {
            let total = Duration::from_secs(train.secs() + test.secs())
                .context("--split: total overflows")?;
            overrides.duration = Some(total);
        }
    }
    file.apply(&overrides);
    let scenario = Scenario::from_file_with(file, &source, &overrides)?;
    for note in &scenario.notes {
        eprintln!("generator: note: {note}");
    }
    if args.check {
        println!(
            "{source}: ok — {} hosts, {} steps of {} s, {} processes, {} incident rules",
            scenario.hosts.len(),
            scenario.timeline.steps,
            scenario.timeline.interval,
            scenario.processes.len(),
            scenario.incidents.len()
        );
        return Ok(());
    }
    let options = Options {
        out: args.out.clone(),
        charts: (!args.no_charts).then(|| {
            args.charts_dir
                .clone()
                .unwrap_or_else(|| args.out.join("charts"))
        }),
        progress: !args.quiet && std::io::stderr().is_terminal(),
    };
    let s = generate(&scenario, &options)?;
    if !args.quiet {
        let mb = s.metric_bytes as f64 / 1e6;
        println!(
            "generator: {} — {} hosts × {} steps = {} metric rows ({mb:.1} MB), {} log lines, {} incidents, {} charts in {:.1} s → {}",
            s.scenario,
            s.hosts,
            s.steps,
            s.metric_rows,
            s.log_lines,
            s.incidents,
            s.charts,
            s.seconds,
            args.out.display()
        );
    }
    Ok(())
}

#[cfg(test)]
vigil_cli::readme_examples_parse!(Args, "generator");
