//! `vigil-bench loghub`: the miner's grouping accuracy and speed on loghub-2k.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

pub mod accuracy;

use crate::Error;
use accuracy::{self as loghub, Accuracy, PUBLISHED_AVERAGE, SYSTEMS, SystemResult};

/// A `vigil-bench loghub` run.
#[derive(Debug, Clone)]
pub struct LoghubJob {
    /// The loghub-2k folder (one folder per system).
    pub benchmarks: PathBuf,
    /// Output folder: loghub.txt and loghub.json.
    pub out: PathBuf,
    /// Only these systems (empty: all 16).
    pub systems: Vec<String>,
    /// Parse each system this many times and keep the fastest (timing only).
    pub repeat: usize,
}

/// Averages over a set of systems, per parser.
#[derive(Debug, Clone, Serialize)]
pub struct Averages {
    pub systems: usize,
    pub vigil: Accuracy,
    pub drain_py: Accuracy,
}

impl Averages {
    fn of<'a>(rows: impl Iterator<Item = &'a SystemResult> + Clone) -> Averages {
        Averages {
            systems: rows.clone().count(),
            vigil: Accuracy::mean(rows.clone().map(|r| &r.vigil.accuracy)),
            drain_py: Accuracy::mean(rows.map(|r| &r.drain_py.accuracy)),
        }
    }
}

/// The loghub evaluation: every result and the averages.
#[derive(Debug, Clone, Serialize)]
pub struct LoghubReport {
    pub systems: Vec<SystemResult>,
    pub average: Averages,
    /// Over the systems the miner's defaults were chosen on.
    pub chosen_on: Averages,
    /// Over the systems they were checked on.
    pub checked_on: Averages,
    /// Drain's published grouping accuracy, averaged.
    pub published_average: f64,
    /// Over all systems' lines, per parser.
    pub vigil_lines_per_second: f64,
    pub drain_py_lines_per_second: f64,
}

/// Runs `vigil-bench loghub`: scores, prints and writes `loghub.txt` and `loghub.json`.
pub fn run_loghub(args: &LoghubJob) -> Result<LoghubReport, Error> {
    let systems: Vec<&loghub::System> = if args.systems.is_empty() {
        SYSTEMS.iter().collect()
    } else {
        args.systems
            .iter()
            .map(|name| {
                loghub::System::find(name).ok_or_else(|| Error::Unknown {
                    what: "loghub system",
                    name: name.clone(),
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut results = Vec::new();
    for system in systems {
        let mut best: Option<SystemResult> = None;
        for _ in 0..args.repeat.max(1) {
            let mut r = loghub::evaluate_system(&args.benchmarks, system)?;
            if let Some(b) = &best {
                if b.vigil.seconds < r.vigil.seconds {
                    r.vigil = b.vigil.clone();
                }
                if b.drain_py.seconds < r.drain_py.seconds {
                    r.drain_py = b.drain_py.clone();
                }
            }
            best = Some(r);
        }
        results.extend(best);
    }
    let n = results.len().max(1) as f64;
    let lines: usize = results.iter().map(|r| r.lines).sum();
    let speed = |seconds: f64| lines as f64 / seconds.max(1e-9);
    let report = LoghubReport {
        average: Averages::of(results.iter()),
        chosen_on: Averages::of(results.iter().filter(|r| !r.held_out)),
        checked_on: Averages::of(results.iter().filter(|r| r.held_out)),
        // The paper's own average where every system ran (its per-system figures are rounded).
        published_average: if results.len() == SYSTEMS.len() {
            PUBLISHED_AVERAGE
        } else {
            results.iter().map(|r| r.published).sum::<f64>() / n
        },
        vigil_lines_per_second: speed(results.iter().map(|r| r.vigil.seconds).sum()),
        drain_py_lines_per_second: speed(results.iter().map(|r| r.drain_py.seconds).sum()),
        systems: results,
    };
    std::fs::create_dir_all(&args.out).map_err(|source| Error::OutDir {
        path: args.out.clone(),
        source,
    })?;
    let text = render_loghub(&report);
    crate::write_text(&args.out.join("loghub.txt"), &text)?;
    crate::write_json(&args.out.join("loghub.json"), &report)?;
    print!("{text}");
    Ok(report)
}

/// The loghub table.
pub fn render_loghub(r: &LoghubReport) -> String {
    let mut s = String::from(
        "Log parsing on loghub-2k (corrected templates), measured as Loghub-2.0 does\n\
         Vigil: its miner's defaults, only the log format given; Drain.py: logparser's Drain \
         with its per-system masks, depth and threshold\n\
         \n\
         system          lines  templates |  Vigil GA    PA   FGA   FTA  found |  Drain.py GA    PA   FGA   FTA  found | published GA\n",
    );
    for x in &r.systems {
        let (v, d) = (&x.vigil.accuracy, &x.drain_py.accuracy);
        let _ = writeln!(
            s,
            "{:<14} {:>6}  {:>9} |     {:.3} {:.3} {:.3} {:.3} {:>6} |        {:.3} {:.3} {:.3} {:.3} {:>6} | {:.3}",
            format!("{}{}", x.system, if x.held_out { " *" } else { "" }),
            x.lines,
            x.templates_truth,
            v.ga,
            v.pa,
            v.fga,
            v.fta,
            x.vigil.templates,
            d.ga,
            d.pa,
            d.fga,
            d.fta,
            x.drain_py.templates,
            x.published
        );
    }
    let row = |s: &mut String, name: &str, a: &Averages, published: Option<f64>| {
        let (v, d) = (&a.vigil, &a.drain_py);
        let _ = writeln!(
            s,
            "{:<33} |     {:.3} {:.3} {:.3} {:.3}        |        {:.3} {:.3} {:.3} {:.3}        | {}",
            format!("{name} ({} systems)", a.systems),
            v.ga,
            v.pa,
            v.fga,
            v.fta,
            d.ga,
            d.pa,
            d.fga,
            d.fta,
            published.map_or(String::new(), |p| format!("{p:.3}"))
        );
    };
    row(&mut s, "average", &r.average, Some(r.published_average));
    if r.checked_on.systems > 0 && r.chosen_on.systems > 0 {
        row(&mut s, "chosen on", &r.chosen_on, None);
        row(&mut s, "checked on (*)", &r.checked_on, None);
    }
    let _ = writeln!(
        s,
        "speed over all lines (reading with each system's format, mining, each line's \
         template): Vigil {:.0} lines/s, Drain.py's algorithm here {:.0} lines/s",
        r.vigil_lines_per_second, r.drain_py_lines_per_second
    );
    s.push_str(
        "* the miner's defaults were chosen on the other systems, not these\n\
         published: Drain in Zhu et al., ICSE-SEIP 2019, on the original (uncorrected) templates\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use accuracy::{Parser, ParserResult};

    #[test]
    fn the_table_has_a_row_per_system_and_the_averages() {
        let result = |parser, ga| ParserResult {
            parser,
            accuracy: Accuracy {
                ga,
                pa: 0.5,
                fga: 0.25,
                fta: 0.125,
            },
            templates: 14,
            seconds: 0.01,
            lines_per_second: 200_000.0,
        };
        let row = |system: &str, held_out| SystemResult {
            system: system.into(),
            lines: 2000,
            templates_truth: 14,
            held_out,
            vigil: result(Parser::Vigil, 0.9975),
            drain_py: result(Parser::DrainPy, 0.75),
            published: 0.998,
            skipped: 0,
        };
        let systems = vec![row("HDFS", false), row("Spark", true)];
        let r = LoghubReport {
            average: Averages::of(systems.iter()),
            chosen_on: Averages::of(systems.iter().take(1)),
            checked_on: Averages::of(systems.iter().skip(1)),
            published_average: 0.998,
            vigil_lines_per_second: 200_000.0,
            drain_py_lines_per_second: 100_000.0,
            systems,
        };
        let text = render_loghub(&r);
        assert!(text.contains("HDFS             2000         14 |     0.998 0.500 0.250 0.125     14 |        0.750"), "{text}");
        assert!(text.contains("Spark *"), "{text}");
        assert!(text.contains("average (2 systems)"), "{text}");
        assert!(text.contains("checked on (*) (1 systems)"), "{text}");
    }
}
