//! `detector patterns`: a log's templates as a table — count, share, first and last seen,
//! example lines, the values behind each `<*>` — their volume over time, every line in
//! time by rarity coloured by pattern, and, against a baseline (a second log, or the part
//! of the log before a time), the patterns that are new, that vanished, or whose share
//! moved beyond chance (a two-proportion z-test, Bonferroni-corrected).

mod charts;
mod report;
mod values;

use std::path::{Path, PathBuf};

use serde::Serialize;

use vigil_core::logs::format::Line;
use vigil_core::logs::sessions::time_ms;
use vigil_core::logs::{LineReport, LogFormat, LogReader, Miner, MinerConfig};
use vigil_core::series::BadLines;

use crate::Error;

pub(crate) use charts::iso;
pub use report::{render_table, write_patterns_csv};

/// Where the baseline comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// No baseline: shares and rarity over the whole log.
    None,
    /// A second log, read with the same format.
    File(PathBuf),
    /// The log's own lines before this time (unix ms).
    Until(i64),
}

/// A `detector patterns` run.
#[derive(Debug, Clone)]
pub struct PatternsJob {
    pub input: PathBuf,
    pub format: String,
    pub filter: Option<String>,
    pub bad_lines: BadLines,
    pub miner: MinerConfig,
    pub max_line_bytes: usize,
    pub baseline: Baseline,
    /// Significance of a share change (before the Bonferroni correction).
    pub alpha: f64,
    /// Example lines kept per pattern.
    pub examples: usize,
    /// Most frequent values listed per `<*>`.
    pub values: usize,
    /// Rows of the console table.
    pub top: usize,
    pub charts: bool,
    pub out: PathBuf,
}

/// How a pattern's share moved against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// In the log, never in the baseline.
    New,
    /// In the baseline, never in the log.
    Vanished,
    /// A larger share, beyond chance.
    Up,
    /// A smaller share, beyond chance.
    Down,
    /// Within chance (or no baseline).
    Same,
}

/// One template and what the log (and the baseline) say about it.
#[derive(Debug, Clone, Serialize)]
pub struct Pattern {
    pub id: usize,
    pub template: String,
    /// Lines of the log (the side judged; without a baseline, every line).
    pub count: u64,
    pub share: f64,
    /// First and last time seen in the log (unix ms), where lines carry times.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// The first lines, as (line number, text).
    pub examples: Vec<(u64, String)>,
    /// For each `<*>`, its most frequent values with their counts, and how many distinct.
    pub values: Vec<(Vec<(String, u64)>, usize)>,
    pub baseline_count: u64,
    pub baseline_share: f64,
    pub change: Change,
    /// The two-sided p-value of the share change (both sides have the pattern).
    pub p_value: Option<f64>,
}

/// What `detector patterns` found.
#[derive(Debug, Clone, Serialize)]
pub struct PatternsSummary {
    pub input: PathBuf,
    pub format: String,
    pub baseline: Option<String>,
    pub lines: u64,
    pub baseline_lines: u64,
    pub report: LineReport,
    pub templates: usize,
    pub new: usize,
    pub vanished: usize,
    pub up: usize,
    pub down: usize,
    pub alpha: f64,
    pub charts: Vec<PathBuf>,
    pub seconds: f64,
}

/// A kept line: its side, time, template and rarity.
pub(crate) struct Point {
    pub baseline: bool,
    pub time_ms: Option<i64>,
    pub template: Option<usize>,
}

/// One record of a log, as [`records`] gives it.
pub(crate) struct Rec<'a> {
    pub line: u64,
    pub time_ms: Option<i64>,
    pub raw: &'a str,
    pub content: &'a str,
    /// The host (or node, or component) the line came from; empty if none.
    pub group: &'a str,
}

/// Reads `path`'s records as `format` gives them; malformed ones as `bad_lines` says.
pub(crate) fn records(
    path: &Path,
    format: &LogFormat,
    max_line_bytes: usize,
    bad_lines: BadLines,
    mut f: impl FnMut(Rec),
) -> Result<LineReport, Error> {
    let time = format.field_index("Timestamp");
    let date_time = (format.field_index("Date"), format.field_index("Time"));
    let group = ["Host", "Node", "Component"]
        .iter()
        .find_map(|g| format.field_index(g));
    let mut reader = LogReader::open(path, max_line_bytes)?;
    while let Some((n, line)) = reader.next_line()? {
        let fields = match format.line(line) {
            Line::Fields(fields) => fields,
            Line::Unfit => {
                reader.report.skip(n, vigil_core::logs::Skip::NoHeader);
                continue;
            }
            Line::Filtered => {
                reader.report.skip(n, vigil_core::logs::Skip::Filtered);
                continue;
            }
            Line::Malformed(why) => {
                reader.report.malformed(path, n, why, bad_lines)?;
                continue;
            }
        };
        let t = match (time, date_time) {
            (Some(t), _) => time_ms(&fields[t]),
            (None, (Some(d), Some(t))) => time_ms(&format!("{} {}", fields[d], fields[t])),
            _ => None,
        };
        f(Rec {
            line: n,
            time_ms: t,
            raw: line,
            content: &fields[format.content_index()],
            group: group.map_or("", |g| &fields[g]),
        });
    }
    Ok(reader.report)
}

/// Mines, counts and compares; writes patterns.csv, patterns.txt, patterns.json and the
/// charts into `job.out`.
pub fn patterns(job: &PatternsJob) -> Result<(PatternsSummary, Vec<Pattern>), Error> {
    let started = std::time::Instant::now();
    let (format_text, _) =
        vigil_core::logs::detect::resolve(&job.format, &job.input, job.max_line_bytes)?;
    let format = LogFormat::new(&format_text)?.with_filter(job.filter.as_deref())?;
    let baseline_file = match &job.baseline {
        Baseline::File(p) => Some(p.clone()),
        _ => None,
    };
    // The templates of both sides, learnt together so that they share ids.
    let mut miner = Miner::new(job.miner.clone())?;
    let ids = miner.learn(|feed| {
        if let Some(b) = &baseline_file {
            records(b, &format, job.max_line_bytes, job.bad_lines, |r| {
                feed(r.content)
            })?;
        }
        records(
            &job.input,
            &format,
            job.max_line_bytes,
            job.bad_lines,
            |r| feed(r.content),
        )?;
        Ok::<(), Error>(())
    })?;
    let mut ids = ids.into_iter();
    let n_templates = miner.templates().len();
    let mut points = Vec::new();
    let mut examples: Vec<Vec<(u64, String)>> = vec![Vec::new(); n_templates];
    let mut values = values::Values::new(miner.templates(), job.values);
    let mut first_last: Vec<(Option<i64>, Option<i64>)> = vec![(None, None); n_templates];
    let mut sides = Vec::new();
    if let Some(b) = &baseline_file {
        sides.push((b.clone(), true));
    }
    sides.push((job.input.clone(), false));
    let mut report = LineReport::default();
    let mut lines = [0u64; 2];
    for (path, is_baseline_file) in &sides {
        let r = records(path, &format, job.max_line_bytes, job.bad_lines, |rec| {
            let (n, t, raw, content) = (rec.line, rec.time_ms, rec.raw, rec.content);
            let id = ids.next().flatten().map(|i| i.index());
            let baseline = *is_baseline_file
                || matches!((&job.baseline, t), (Baseline::Until(u), Some(t)) if t < *u);
            lines[baseline as usize] += 1;
            if let (Some(i), false) = (id, baseline) {
                if examples[i].len() < job.examples {
                    examples[i].push((n, clip(raw, 200)));
                }
                values.add(i, content);
                if let Some(t) = t {
                    let fl = &mut first_last[i];
                    fl.0 = Some(fl.0.map_or(t, |a: i64| a.min(t)));
                    fl.1 = Some(fl.1.map_or(t, |b: i64| b.max(t)));
                }
            }
            points.push(Point {
                baseline,
                time_ms: t,
                template: id,
            });
        })?;
        if !*is_baseline_file {
            report = r;
        } else if r.lines == 0 {
            return Err(vigil_core::Error::file(path, "the baseline log is empty".into()).into());
        }
    }
    if report.lines == 0 {
        return Err(
            vigil_core::Error::file(&job.input, "the log is empty: no lines".into()).into(),
        );
    }
    let has_baseline = job.baseline != Baseline::None;
    let [judged, base] = lines;
    if has_baseline && (judged == 0 || base == 0) {
        return Err(Error::Option {
            flag: "--baseline-until",
            message: format!(
                "splits the log into {base} baseline lines and {judged} after: both sides need lines"
            ),
        });
    }
    let mut counts = vec![[0u64; 2]; n_templates];
    for p in &points {
        if let Some(i) = p.template {
            counts[i][p.baseline as usize] += 1;
        }
    }
    // Bonferroni over the patterns both sides have.
    let tested = counts
        .iter()
        .filter(|c| c[0] > 0 && c[1] > 0)
        .count()
        .max(1);
    let mut out = Vec::with_capacity(n_templates);
    for (i, t) in miner.templates().iter().enumerate() {
        let [a, b] = counts[i];
        if a == 0 && b == 0 {
            continue;
        }
        let share = a as f64 / judged.max(1) as f64;
        let baseline_share = b as f64 / base.max(1) as f64;
        let (change, p_value) = if !has_baseline {
            (Change::Same, None)
        } else if b == 0 {
            (Change::New, None)
        } else if a == 0 {
            (Change::Vanished, None)
        } else {
            let p = two_proportion_p(a, judged, b, base);
            let c = if p * (tested as f64) < job.alpha {
                if share > baseline_share {
                    Change::Up
                } else {
                    Change::Down
                }
            } else {
                Change::Same
            };
            (c, Some(p))
        };
        out.push(Pattern {
            id: i,
            template: t.text().to_string(),
            count: a,
            share,
            first_ms: first_last[i].0,
            last_ms: first_last[i].1,
            examples: std::mem::take(&mut examples[i]),
            values: values.top(i),
            baseline_count: b,
            baseline_share,
            change,
            p_value,
        });
    }
    out.sort_by(|x, y| {
        y.count
            .cmp(&x.count)
            .then(y.baseline_count.cmp(&x.baseline_count))
            .then(x.id.cmp(&y.id))
    });

    std::fs::create_dir_all(&job.out).map_err(|source| Error::OutDir {
        path: job.out.clone(),
        source,
    })?;
    write_patterns_csv(&job.out.join("patterns.csv"), &out)?;
    let count = |c: Change| out.iter().filter(|p| p.change == c).count();
    let mut summary = PatternsSummary {
        input: job.input.clone(),
        format: format_text,
        baseline: match &job.baseline {
            Baseline::None => None,
            Baseline::File(p) => Some(p.display().to_string()),
            Baseline::Until(t) => Some(format!("lines before {}", charts::iso(*t))),
        },
        lines: judged,
        baseline_lines: base,
        report,
        templates: out.len(),
        new: count(Change::New),
        vanished: count(Change::Vanished),
        up: count(Change::Up),
        down: count(Change::Down),
        alpha: job.alpha,
        charts: Vec::new(),
        seconds: 0.0,
    };
    let table = render_table(&summary, &out, job.top);
    crate::write_text(&job.out.join("patterns.txt"), &table)?;
    if job.charts {
        summary.charts = charts::draw(&job.out, &out, &points, has_baseline)?;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    crate::write_json(&job.out.join("patterns.json"), &summary)?;
    Ok((summary, out))
}

/// `text` cut to `n` characters, `…` marking a cut.
pub(crate) fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        text.chars().take(n - 1).chain(['…']).collect()
    }
}

/// The two-sided p-value of a two-proportion z-test (pooled), `a` of `n` against `b` of
/// `m`.
pub fn two_proportion_p(a: u64, n: u64, b: u64, m: u64) -> f64 {
    let (a, n, b, m) = (a as f64, n as f64, b as f64, m as f64);
    let pooled = (a + b) / (n + m);
    let se = (pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    let z = ((a / n - b / m) / se).abs();
    libm::erfc(z / std::f64::consts::SQRT_2)
}

/// The summary line `detector patterns` prints.
pub fn describe(s: &PatternsSummary, out: &Path) -> String {
    let against = match &s.baseline {
        None => String::new(),
        Some(b) => format!(
            "; against {b} ({} lines): {} new, {} vanished, {} up, {} down at α = {}",
            s.baseline_lines, s.new, s.vanished, s.up, s.down, s.alpha
        ),
    };
    format!(
        "detector: {} lines in {} patterns (format '{}'){against}; {}; {:.2} s → {}",
        s.lines,
        s.templates,
        s.format,
        s.report.describe(&s.input),
        s.seconds,
        out.display()
    )
}

/// Counts per template id (tests).
#[cfg(test)]
fn histogram(points: &[Point]) -> std::collections::HashMap<usize, u64> {
    let mut h = std::collections::HashMap::new();
    for p in points {
        if let Some(t) = p.template {
            *h.entry(t).or_default() += 1;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_change_beyond_chance_has_a_small_p() {
        assert!(two_proportion_p(500, 10_000, 100, 10_000) < 1e-20);
        assert!(two_proportion_p(100, 10_000, 104, 10_000) > 0.5);
        assert_eq!(two_proportion_p(0, 10, 0, 10), 1.0);
        let h = histogram(&[
            Point {
                baseline: false,
                time_ms: None,
                template: Some(1),
            },
            Point {
                baseline: true,
                time_ms: None,
                template: Some(1),
            },
            Point {
                baseline: false,
                time_ms: None,
                template: None,
            },
        ]);
        assert_eq!(h[&1], 2);
    }
}
