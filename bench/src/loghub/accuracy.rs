//! The loghub-2k parsing benchmark: 16 systems × 2,000 labelled lines (corrected
//! templates), Vigil's miner with its defaults beside logparser's Drain.py with its
//! per-system settings, scored as Loghub-2.0's evaluator (`evaluator_main.py`) scores:
//! grouping accuracy, parsing accuracy, F1 of grouping and F1 of template accuracy, all on
//! template texts (see [`accuracy`]). Lines without a ground-truth template are left out of
//! both sides; a line a parser did not parse is a group of its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use vigil_core::series::BadLines;

use serde::{Deserialize, Serialize};

use vigil_core::Error as CoreError;
use vigil_core::logs::drain::Masked;
use vigil_core::logs::read::DEFAULT_MAX_LINE_BYTES;
use vigil_core::logs::{
    Drain, DrainConfig, LineReport, LogFormat, LogReader, Miner, MinerConfig, TemplateId,
};

/// One system's log format and Drain settings, from logparser's `Drain/benchmark.py`,
/// and Drain's published grouping accuracy (Zhu et al. 2019, Table III).
#[derive(Debug, Clone, Copy)]
pub struct System {
    pub name: &'static str,
    pub format: &'static str,
    pub masks: &'static [&'static str],
    pub depth: usize,
    pub similarity: f64,
    pub published: f64,
}

impl System {
    /// logparser's settings, masks counting as merged `<*>` positions
    /// ([`Masked::Parameter`]); [`DrainConfig::as_logparser`] also routes partly masked
    /// tokens by their text, as Drain.py does.
    pub fn config(&self) -> DrainConfig {
        DrainConfig {
            depth: self.depth,
            similarity: self.similarity,
            max_children: 100,
            masks: self.masks.iter().map(|m| m.to_string()).collect(),
            masked: Masked::Parameter,
            route_masked_by_text: false,
            merge: vigil_core::logs::drain::Merge::Token,
        }
    }

    pub fn find(name: &str) -> Option<&'static System> {
        SYSTEMS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }
}

/// The 16 systems in logparser's order.
pub const SYSTEMS: [System; 16] = [
    System {
        name: "HDFS",
        format: "<Date> <Time> <Pid> <Level> <Component>: <Content>",
        masks: &[r"blk_-?\d+", r"(\d+\.){3}\d+(:\d+)?"],
        depth: 4,
        similarity: 0.5,
        published: 0.998,
    },
    System {
        name: "Hadoop",
        format: r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
        masks: &[r"(\d+\.){3}\d+"],
        depth: 4,
        similarity: 0.5,
        published: 0.948,
    },
    System {
        name: "Spark",
        format: "<Date> <Time> <Level> <Component>: <Content>",
        masks: &[r"(\d+\.){3}\d+", r"\b[KGTM]?B\b", r"([\w-]+\.){2,}[\w-]+"],
        depth: 4,
        similarity: 0.5,
        published: 0.920,
    },
    System {
        name: "Zookeeper",
        format: r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
        masks: &[r"(/|)(\d+\.){3}\d+(:\d+)?"],
        depth: 4,
        similarity: 0.5,
        published: 0.967,
    },
    System {
        name: "BGL",
        format: "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
        masks: &[r"core\.\d+"],
        depth: 4,
        similarity: 0.5,
        published: 0.963,
    },
    System {
        name: "HPC",
        format: "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
        masks: &[r"=\d+"],
        depth: 4,
        similarity: 0.5,
        published: 0.887,
    },
    System {
        name: "Thunderbird",
        format: r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: <Content>",
        masks: &[r"(\d+\.){3}\d+"],
        depth: 4,
        similarity: 0.5,
        published: 0.955,
    },
    System {
        name: "Windows",
        format: "<Date> <Time>, <Level>                  <Component>    <Content>",
        masks: &[r"0x.*?\s"],
        depth: 5,
        similarity: 0.7,
        published: 0.997,
    },
    System {
        name: "Linux",
        format: r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
        masks: &[r"(\d+\.){3}\d+", r"\d{2}:\d{2}:\d{2}"],
        depth: 6,
        similarity: 0.39,
        published: 0.690,
    },
    System {
        name: "Android",
        format: "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
        masks: &[
            r"(/[\w-]+)+",
            r"([\w-]+\.){2,}[\w-]+",
            r"\b(\-?\+?\d+)\b|\b0[Xx][a-fA-F\d]+\b|\b[a-fA-F\d]{4,}\b",
        ],
        depth: 6,
        similarity: 0.2,
        published: 0.911,
    },
    System {
        name: "HealthApp",
        format: r"<Time>\|<Component>\|<Pid>\|<Content>",
        masks: &[],
        depth: 4,
        similarity: 0.2,
        published: 0.780,
    },
    System {
        name: "Apache",
        format: r"\[<Time>\] \[<Level>\] <Content>",
        masks: &[r"(\d+\.){3}\d+"],
        depth: 4,
        similarity: 0.5,
        published: 1.0,
    },
    System {
        name: "Proxifier",
        format: r"\[<Time>\] <Program> - <Content>",
        masks: &[
            r"<\d+\ssec",
            r"([\w-]+\.)+[\w-]+(:\d+)?",
            r"\d{2}:\d{2}(:\d{2})*",
            r"[KGTM]B",
        ],
        depth: 3,
        similarity: 0.6,
        published: 0.527,
    },
    System {
        name: "OpenSSH",
        format: r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
        masks: &[r"(\d+\.){3}\d+", r"([\w-]+\.){2,}[\w-]+"],
        depth: 5,
        similarity: 0.6,
        published: 0.788,
    },
    System {
        name: "OpenStack",
        format: r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
        masks: &[r"((\d+\.){3}\d+,?)+", r"/.+?\s", r"\d+"],
        depth: 5,
        similarity: 0.5,
        published: 0.733,
    },
    System {
        name: "Mac",
        format: r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>",
        masks: &[r"([\w-]+\.){2,}[\w-]+"],
        depth: 6,
        similarity: 0.7,
        published: 0.787,
    },
];

/// Drain's published average over the 16 systems.
pub const PUBLISHED_AVERAGE: f64 = 0.865;

/// The systems the miner's defaults were not chosen on (they were chosen on the other 12).
pub const CHECKED_ON: [&str; 4] = ["Spark", "Zookeeper", "Thunderbird", "HealthApp"];

/// A template miner under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parser {
    /// Vigil's miner with its defaults: only the system's log format is given.
    Vigil,
    /// Logparser's Drain.py with its per-system masks, depth and threshold.
    DrainPy,
}

/// The four measures of Loghub-2.0 (Jiang et al., ISSTA 2024), computed as its
/// evaluator does, on template texts.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Accuracy {
    /// Grouping accuracy: lines whose parsed group is exactly their true template's lines.
    pub ga: f64,
    /// Parsing accuracy: lines whose parsed template is exactly their true one.
    pub pa: f64,
    /// F1 of grouping: over templates, parsed groups that are exactly a true group.
    pub fga: f64,
    /// F1 of template accuracy: parsed templates whose lines all have that very true
    /// template.
    pub fta: f64,
}

impl Accuracy {
    /// The mean of each measure.
    pub fn mean<'a>(all: impl IntoIterator<Item = &'a Accuracy>) -> Accuracy {
        let (mut sum, mut n) = (Accuracy::default(), 0.0);
        for a in all {
            sum.ga += a.ga;
            sum.pa += a.pa;
            sum.fga += a.fga;
            sum.fta += a.fta;
            n += 1.0;
        }
        if n > 0.0 {
            sum.ga /= n;
            sum.pa /= n;
            sum.fga /= n;
            sum.fta /= n;
        }
        sum
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// The measures of `parsed` against `truth`, row by row; rows whose truth is `None` are
/// left out. Groups are lines with the same template text, on both sides.
pub fn accuracy(truth: &[Option<String>], parsed: &[String]) -> Accuracy {
    assert_eq!(truth.len(), parsed.len(), "one parsed template per row");
    let rows: Vec<(&str, &str)> = truth
        .iter()
        .zip(parsed)
        .filter_map(|(t, p)| Some((t.as_deref()?, p.as_str())))
        .collect();
    if rows.is_empty() {
        return Accuracy::default();
    }
    let mut by_truth: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut by_parsed: HashMap<&str, Vec<&str>> = HashMap::new();
    for &(t, p) in &rows {
        by_truth.entry(t).or_default().push(p);
        by_parsed.entry(p).or_default().push(t);
    }
    let (mut lines, mut groups) = (0, 0);
    for parsed in by_truth.values() {
        if parsed.iter().all(|p| *p == parsed[0]) && by_parsed[parsed[0]].len() == parsed.len() {
            lines += parsed.len();
            groups += 1;
        }
    }
    let right_templates = by_parsed
        .iter()
        .filter(|(p, truths)| truths.iter().all(|t| t == *p))
        .count();
    let n = rows.len() as f64;
    let (np, nt) = (by_parsed.len() as f64, by_truth.len() as f64);
    Accuracy {
        ga: lines as f64 / n,
        pa: rows.iter().filter(|(t, p)| t == p).count() as f64 / n,
        fga: f1(groups as f64 / np, groups as f64 / nt),
        fta: f1(right_templates as f64 / np, right_templates as f64 / nt),
    }
}

/// One parser on one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParserResult {
    pub parser: Parser,
    pub accuracy: Accuracy,
    pub templates: usize,
    /// Reading, splitting, mining and matching every line (not scoring).
    pub seconds: f64,
    pub lines_per_second: f64,
}

/// One system's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemResult {
    pub system: String,
    pub lines: usize,
    pub templates_truth: usize,
    /// Whether the miner's defaults were chosen on other systems only.
    pub held_out: bool,
    pub vigil: ParserResult,
    pub drain_py: ParserResult,
    /// Drain's published grouping accuracy.
    pub published: f64,
    pub skipped: u64,
}

/// What one parser made of one system's log.
struct Parsed {
    /// Each parsed line's number and template text.
    lines: Vec<(u64, String)>,
    templates: usize,
    report: LineReport,
}

/// Each parsed line's template text by one parser.
fn parse_system(log: &Path, system: &System, parser: Parser) -> Result<Parsed, CoreError> {
    let format = LogFormat::new(system.format)?;
    let open = || LogReader::open(log, DEFAULT_MAX_LINE_BYTES);
    match parser {
        Parser::Vigil => {
            // Learning gives each line the template matching would (a tested property).
            let mut miner = Miner::new(MinerConfig::default())?;
            let (mut numbers, mut report) = (Vec::new(), None);
            let ids = miner.learn(|feed| {
                let mut reader = open()?;
                let first = report.is_none();
                reader.for_each_record(&format, BadLines::Fail, |n, fields| {
                    if first {
                        numbers.push(n);
                    }
                    feed(fields[format.content_index()]);
                    Ok(())
                })?;
                report.get_or_insert(reader.report);
                Ok::<(), CoreError>(())
            })?;
            let parsed = numbers
                .into_iter()
                .zip(&ids)
                .map(|(n, id)| {
                    let text = id.map_or_else(
                        || format!("(unmatched line {n})"),
                        |t| miner.template(t).text().to_string(),
                    );
                    (n, text)
                })
                .collect();
            Ok(Parsed {
                lines: parsed,
                templates: miner.templates().len(),
                report: report.unwrap_or_default(),
            })
        }
        Parser::DrainPy => {
            let mut drain = Drain::new(system.config().as_logparser())?;
            let mut reader = open()?;
            let mut ids: Vec<(u64, TemplateId)> = Vec::new();
            reader.for_each_record(&format, BadLines::Fail, |n, fields| {
                ids.push((n, drain.add(fields[format.content_index()])));
                Ok(())
            })?;
            let texts: Vec<String> = drain.templates().iter().map(|t| t.text()).collect();
            let parsed = ids
                .into_iter()
                .map(|(n, id)| (n, texts[id.index()].clone()))
                .collect();
            Ok(Parsed {
                lines: parsed,
                templates: drain.templates().len(),
                report: reader.report,
            })
        }
    }
}

/// A system's files in `dir/<name>/`: the log and its ground truth.
fn files(dir: &Path, system: &System) -> (PathBuf, PathBuf) {
    let folder = dir.join(system.name);
    (
        folder.join(format!("{}_2k.log", system.name)),
        folder.join(format!("{}_2k.log_structured_corrected.csv", system.name)),
    )
}

/// Parses `system`'s log with `parser` and scores it against `truth` (read from
/// `truth_path`).
fn evaluate_parser(
    (log, truth_path): (&Path, &Path),
    truth: &[Option<String>],
    system: &System,
    parser: Parser,
) -> Result<(ParserResult, usize, u64), CoreError> {
    let started = Instant::now();
    let Parsed {
        lines: parsed,
        templates,
        report,
    } = parse_system(log, system, parser)?;
    let seconds = started.elapsed().as_secs_f64();

    let lines = report.lines as usize;
    if lines != truth.len() {
        return Err(CoreError::file(
            log,
            format!(
                "{lines} lines, but {} has {} rows",
                truth_path.display(),
                truth.len()
            ),
        ));
    }
    // A skipped line is a group of its own.
    let mut texts: Vec<String> = (1..=lines).map(|n| format!("(skipped line {n})")).collect();
    for (n, text) in parsed {
        texts[n as usize - 1] = text;
    }
    let result = ParserResult {
        parser,
        accuracy: accuracy(truth, &texts),
        templates,
        seconds,
        lines_per_second: lines as f64 / seconds.max(1e-9),
    };
    Ok((result, lines, report.skipped()))
}

/// Both parsers on one system from `dir/<name>/`.
pub fn evaluate_system(dir: &Path, system: &System) -> Result<SystemResult, CoreError> {
    let (log, truth_path) = files(dir, system);
    let (truth, templates_truth) = read_truth(&truth_path)?;
    let paths = (log.as_path(), truth_path.as_path());
    let (vigil, lines, skipped) = evaluate_parser(paths, &truth, system, Parser::Vigil)?;
    let (drain_py, _, _) = evaluate_parser(paths, &truth, system, Parser::DrainPy)?;
    Ok(SystemResult {
        system: system.name.to_string(),
        lines,
        templates_truth,
        held_out: CHECKED_ON.contains(&system.name),
        vigil,
        drain_py,
        published: system.published,
        skipped,
    })
}

/// Scores every system in `dir` (a loghub-2k folder).
pub fn evaluate(dir: &Path) -> Result<Vec<SystemResult>, CoreError> {
    SYSTEMS.iter().map(|s| evaluate_system(dir, s)).collect()
}

/// Each row's ground-truth template text by `LineId` order (`None` where it is empty),
/// and the number of distinct templates.
fn read_truth(path: &Path) -> Result<(Vec<Option<String>>, usize), CoreError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(source) => CoreError::io(path, source),
        other => CoreError::file(path, format!("{other:?}")),
    })?;
    let headers = reader
        .headers()
        .map_err(|e| CoreError::file(path, e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| CoreError::file(path, format!("no {name} column")))
    };
    let (line_col, event_col) = (column("LineId")?, column("EventTemplate")?);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| CoreError::line(path, i as u64 + 2, e.to_string()))?;
        let line_id = &record[line_col];
        if line_id.parse::<usize>().ok() != Some(i + 1) {
            return Err(CoreError::line(
                path,
                i as u64 + 2,
                format!("expected LineId {}, found {line_id:?}", i + 1),
            ));
        }
        let event = record[event_col].trim();
        rows.push((!event.is_empty()).then(|| event.to_string()));
    }
    let mut distinct: Vec<&String> = rows.iter().flatten().collect();
    distinct.sort();
    distinct.dedup();
    let n = distinct.len();
    Ok((rows, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every loghub-2k line splits under its system's format.
    #[test]
    fn loghub_formats_split_every_line() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/benchmarks/loghub-2k");
        if !dir.exists() {
            eprintln!("skipped: {} is missing", dir.display());
            return;
        }
        for s in &SYSTEMS {
            let format = LogFormat::new(s.format).unwrap();
            let text =
                std::fs::read_to_string(dir.join(format!("{0}/{0}_2k.log", s.name))).unwrap();
            for line in text.lines() {
                assert!(format.split(line).is_some(), "{}: {line}", s.name);
            }
        }
    }

    #[test]
    fn the_measures_follow_loghub_2() {
        let t = |v: &[&str]| {
            v.iter()
                .map(|s| (!s.is_empty()).then(|| s.to_string()))
                .collect::<Vec<_>>()
        };
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let truth = t(&["A <*>", "A <*>", "B", "B", "C", ""]);
        // A is grouped and written right; B is split; C shares its text with a line
        // without truth (left out), so its group is exact but its text is wrong.
        let a = accuracy(&truth, &p(&["A <*>", "A <*>", "B", "B x", "c", "c"]));
        assert_eq!(a.ga, 3.0 / 5.0);
        assert_eq!(a.pa, 3.0 / 5.0);
        // Parsed groups: "A <*>" and "c" exact of 4 parsed, 3 true: F1 of 2/4 and 2/3.
        assert!((a.fga - f1(0.5, 2.0 / 3.0)).abs() < 1e-12, "{a:?}");
        // Right templates: "A <*>" and "B" (its lines are all B).
        assert!((a.fta - f1(0.5, 2.0 / 3.0)).abs() < 1e-12, "{a:?}");
        // Two true templates in one parsed group: neither is right.
        let a = accuracy(&truth, &p(&["x", "x", "x", "x", "C", "y"]));
        assert_eq!((a.ga, a.pa), (1.0 / 5.0, 1.0 / 5.0));
        let a = accuracy(&truth, &p(&["A <*>", "A <*>", "B", "B", "C", "z"]));
        assert_eq!((a.ga, a.pa, a.fga, a.fta), (1.0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn every_setting_is_valid() {
        for s in &SYSTEMS {
            LogFormat::new(s.format).unwrap();
            Drain::new(s.config()).unwrap();
        }
        let avg: f64 = SYSTEMS.iter().map(|s| s.published).sum::<f64>() / 16.0;
        assert!((avg - PUBLISHED_AVERAGE).abs() < 0.001, "{avg}");
    }

    /// The benchmark as shipped beside the project; skipped where it is not.
    #[test]
    fn loghub_hdfs_and_bgl_reach_the_published_accuracy() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks/loghub-2k");
        if !dir.exists() {
            eprintln!("skipped: {} is missing", dir.display());
            return;
        }
        for (name, bar) in [("HDFS", 0.99), ("BGL", 0.96)] {
            let system = System::find(name).unwrap();
            let r = evaluate_system(&dir, system).unwrap();
            assert_eq!((r.lines, r.skipped), (2000, 0), "{r:?}");
            assert!(r.drain_py.accuracy.ga >= bar, "{name}: {r:?}");
            assert!(r.vigil.accuracy.ga >= bar, "{name}: {r:?}");
            assert!(r.vigil.accuracy.pa >= 0.95, "{name}: {r:?}");
        }
    }
}
