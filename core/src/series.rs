//! Reading metric tables: any wide CSV with a time column, an optional group column and
//! numeric metric columns, turned into regular series.
//!
//! Real files have gaps, irregular steps and bad lines, and they are handled on purpose:
//! each group is resampled to the file's dominant step; short gaps are filled by linear
//! interpolation and marked as filled; long gaps split a series into segments (no window
//! ever spans one); a bad line either stops the read with `file:line: what was wrong` or,
//! when asked, is skipped and counted.

use crate::Error;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{clip, shown};
use crate::time::parse_timestamp;

/// What to do with a line that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadLines {
    /// Stop at the first bad line, naming it.
    #[default]
    Fail,
    /// Skip bad lines and count them.
    Skip,
}

/// How to read a metrics table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadOptions {
    /// The time column; by default `timestamp`, else `time`, `ts`, `date` or `datetime`.
    pub time_column: Option<String>,
    /// The group column (`Some("")` for none); by default `host` when present.
    pub group_column: Option<String>,
    /// The metric columns, in this order; by default every other column whose first value
    /// is numeric.
    pub columns: Option<Vec<String>>,
    pub bad_lines: BadLines,
    /// Gaps of up to this many missing steps are interpolated; longer ones split the series.
    /// 0 means the default (12).
    pub max_fill: usize,
    /// Resample to this step (seconds) instead of the dominant one.
    pub step: Option<i64>,
}

/// A contiguous, regularly sampled stretch of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Unix seconds of the first step.
    pub start: i64,
    /// Row-major values, `len × columns`.
    pub values: Vec<f32>,
    /// Whether each step was filled in rather than read.
    pub filled: Vec<bool>,
}

impl Segment {
    pub fn len(&self) -> usize {
        self.filled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.filled.is_empty()
    }
}

/// One group's series (a host, or the whole file when there is no group column).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub group: String,
    pub segments: Vec<Segment>,
}

/// What the reader did besides reading.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadReport {
    pub rows: usize,
    pub skipped_lines: usize,
    /// Skipped lines by reason (first words of the message).
    pub skipped_by_reason: BTreeMap<String, usize>,
    pub filled_steps: usize,
    /// Gaps too long to fill, where a series was split.
    pub splits: usize,
    /// Rows that fell on an occupied grid step and were averaged into it.
    pub merged_rows: usize,
}

/// A file read into regular series.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub time_column: String,
    pub group_column: Option<String>,
    /// The sampling step in seconds.
    pub step: i64,
    pub series: Vec<Series>,
    pub report: ReadReport,
}

impl Table {
    /// An in-memory table of one series and one segment, starting at unix time 0, with
    /// row-major `values` of `columns.len()` columns (benchmarks, tests, generated data).
    pub fn single(columns: Vec<String>, step: i64, values: Vec<f32>) -> Table {
        let steps = values.len() / columns.len().max(1);
        Table {
            columns,
            time_column: "timestamp".into(),
            group_column: None,
            step,
            series: vec![Series {
                group: String::new(),
                segments: vec![Segment {
                    start: 0,
                    values,
                    filled: vec![false; steps],
                }],
            }],
            report: ReadReport::default(),
        }
    }

    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Total steps over every segment.
    pub fn steps(&self) -> usize {
        self.series
            .iter()
            .flat_map(|s| &s.segments)
            .map(Segment::len)
            .sum()
    }
}

/// The names a time column is recognised by, in order of preference.
pub const TIME_NAMES: [&str; 5] = ["timestamp", "time", "ts", "date", "datetime"];
const DEFAULT_MAX_FILL: usize = 12;

struct RawRow {
    time: i64,
    values: Vec<f32>,
    line: u64,
}

/// A CSV file's header names; an unreadable or empty header is a `Error::File` saying
/// what was `expected` (e.g. "a header such as timestamp,value").
pub fn read_header<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    path: &Path,
    expected: &str,
) -> Result<Vec<String>, Error> {
    let file_err = |message: String| Error::File {
        path: path.to_path_buf(),
        message,
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_err(format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(file_err(format!("the file is empty: expected {expected}")));
    }
    Ok(headers)
}

/// Reads `path` as a metrics table.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<Table, Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_table_from(file, path, options)
}

/// Reads a metrics table from `input`; `path` names it in errors.
pub fn read_table_from(
    input: impl std::io::Read,
    path: &Path,
    options: &ReadOptions,
) -> Result<Table, Error> {
    let file_err = |message: String| Error::File {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = read_header(&mut reader, path, "a header such as timestamp,value")?;
    let find = |name: &str| headers.iter().position(|h| h == name);
    let time_i = match &options.time_column {
        Some(name) => find(name).ok_or_else(|| {
            file_err(format!(
                "no time column {}; the columns are {}",
                shown(name),
                clip(&headers.join(", "))
            ))
        })?,
        None => TIME_NAMES.iter().find_map(|n| find(n)).ok_or_else(|| {
            file_err(format!(
                "no time column (looked for {}); name it with --time-column. The columns are {}",
                TIME_NAMES.join(", "),
                clip(&headers.join(", "))
            ))
        })?,
    };
    let group_i = match options.group_column.as_deref() {
        Some("") => None,
        Some(name) => Some(find(name).ok_or_else(|| {
            file_err(format!(
                "no group column {}; the columns are {}",
                shown(name),
                clip(&headers.join(", "))
            ))
        })?),
        None => find("host"),
    };

    let mut records = reader.records();
    let mut bad_lines = options.bad_lines;
    let mut report = ReadReport::default();
    let mut pending_first: Option<csv::StringRecord> = None;

    let columns: Vec<usize> = match &options.columns {
        Some(names) => names
            .iter()
            .map(|n| {
                find(n).ok_or_else(|| {
                    file_err(format!(
                        "no column {}; the columns are {}",
                        shown(n),
                        clip(&headers.join(", "))
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        None => {
            // Numeric columns are decided on the first row that has every field.
            let first = loop {
                match records.next() {
                    None => return Err(file_err("no data rows after the header".into())),
                    Some(Err(e)) if bad_lines == BadLines::Skip => {
                        skip(&mut report, &e.to_string());
                    }
                    Some(Err(e)) => return Err(csv_line_error(path, e)),
                    Some(Ok(r)) if r.len() == headers.len() => break r,
                    Some(Ok(r)) => {
                        let message = field_count(&r, headers.len());
                        if bad_lines == BadLines::Skip {
                            skip(&mut report, &message);
                        } else {
                            return Err(line_error(path, &r, message));
                        }
                    }
                }
            };
            let numeric: Vec<usize> = (0..headers.len())
                .filter(|&i| Some(i) != group_i && i != time_i)
                .filter(|&i| first[i].is_empty() || first[i].parse::<f64>().is_ok())
                .collect();
            pending_first = Some(first);
            numeric
        }
    };
    if columns.is_empty() {
        return Err(file_err(format!(
            "no numeric metric column besides {:?}{}",
            headers[time_i],
            group_i.map_or(String::new(), |g| format!(" and {:?}", headers[g]))
        )));
    }

    let mut groups: HashMap<String, Vec<RawRow>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut handle = |record: csv::StringRecord,
                      report: &mut ReadReport,
                      bad_lines: &mut BadLines|
     -> Result<(), Error> {
        match parse_row(&record, &headers, time_i, &columns) {
            Ok(row) => {
                let group = group_i.map_or("", |g| record.get(g).unwrap_or(""));
                if !groups.contains_key(group) {
                    order.push(group.to_string());
                }
                groups.entry(group.to_string()).or_default().push(row);
                report.rows += 1;
                Ok(())
            }
            Err(message) if *bad_lines == BadLines::Skip => {
                skip(report, &message);
                Ok(())
            }
            Err(message) => Err(line_error(path, &record, message)),
        }
    };
    if let Some(first) = pending_first.take() {
        handle(first, &mut report, &mut bad_lines)?;
    }
    for record in records {
        match record {
            Ok(r) => handle(r, &mut report, &mut bad_lines)?,
            Err(e) if bad_lines == BadLines::Skip => skip(&mut report, &e.to_string()),
            Err(e) => return Err(csv_line_error(path, e)),
        }
    }
    if report.rows == 0 {
        return Err(file_err("no readable data rows".into()));
    }

    let width = columns.len();
    let mut rows_by_group: Vec<(String, Vec<RawRow>)> = order
        .into_iter()
        .map(|g| {
            let rows = groups.remove(&g).unwrap_or_default();
            (g, rows)
        })
        .collect();
    for (_, rows) in &mut rows_by_group {
        rows.sort_by_key(|r| (r.time, r.line));
    }
    if group_i.is_none() {
        // One series whose times repeat is several series read as one: averaging them
        // would be a silent wrong result.
        let rows = &rows_by_group[0].1;
        let repeats = rows.windows(2).filter(|w| w[0].time == w[1].time).count();
        if repeats * 100 > rows.len() {
            let others: Vec<&str> = headers
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != time_i && !columns.contains(i))
                .map(|(_, h)| h.as_str())
                .collect();
            return Err(file_err(format!(
                "{repeats} of {} rows repeat another row's time: several series read as one would be averaged together; name the column that tells them apart with --group-column{} (or give one series per file)",
                rows.len(),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" (the other columns: {})", clip(&others.join(", ")))
                }
            )));
        }
    }
    let step = match options.step {
        Some(s) if s > 0 => s,
        Some(s) => return Err(file_err(format!("the step must be positive, found {s} s"))),
        None => dominant_step(&rows_by_group).ok_or_else(|| {
            file_err(format!(
                "cannot find the sampling step: every {} needs at least two rows at different times",
                if group_i.is_some() { "group" } else { "file" }
            ))
        })?,
    };
    let max_fill = if options.max_fill == 0 {
        DEFAULT_MAX_FILL
    } else {
        options.max_fill
    };
    let series = rows_by_group
        .into_iter()
        .map(|(group, rows)| Series {
            segments: resample(&rows, step, width, max_fill, &mut report),
            group,
        })
        .collect();
    Ok(Table {
        columns: columns.iter().map(|&i| headers[i].clone()).collect(),
        time_column: headers[time_i].clone(),
        group_column: group_i.map(|g| headers[g].clone()),
        step,
        series,
        report,
    })
}

fn skip(report: &mut ReadReport, message: &str) {
    report.skipped_lines += 1;
    let reason: String = message.split(':').next().unwrap_or(message).to_string();
    *report.skipped_by_reason.entry(reason).or_default() += 1;
}

fn field_count(r: &csv::StringRecord, want: usize) -> String {
    format!("expected {want} fields like the header, found {}", r.len())
}

/// The row check every reader of a metrics CSV shares: as many fields as the header.
pub fn check_width(record: &csv::StringRecord, header_fields: usize) -> Result<(), String> {
    if record.len() == header_fields {
        Ok(())
    } else {
        Err(field_count(record, header_fields))
    }
}

fn line_error(path: &Path, record: &csv::StringRecord, message: String) -> Error {
    Error::Line {
        path: path.to_path_buf(),
        line: record.position().map_or(0, |p| p.line()),
        message,
    }
}

fn csv_line_error(path: &Path, e: csv::Error) -> Error {
    Error::Line {
        path: path.to_path_buf(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

fn parse_row(
    record: &csv::StringRecord,
    headers: &[String],
    time_i: usize,
    columns: &[usize],
) -> Result<RawRow, String> {
    check_width(record, headers.len())?;
    let time_text = &record[time_i];
    let time = parse_timestamp(time_text)
        .map_err(|e| format!("column {}: {e}", headers[time_i]))?
        .timestamp();
    let mut values = Vec::with_capacity(columns.len());
    for &i in columns {
        let cell = &record[i];
        let v = if cell.is_empty() {
            f32::NAN // a gap, filled later
        } else {
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => v as f32,
                Ok(_) => {
                    return Err(format!(
                        "column {}: {} is not a finite number (leave the cell empty to mark a missing value)",
                        clip(&headers[i]),
                        shown(cell)
                    ));
                }
                Err(_) => {
                    return Err(format!(
                        "column {}: expected a number, found {}",
                        clip(&headers[i]),
                        shown(cell)
                    ));
                }
            }
        };
        values.push(v);
    }
    Ok(RawRow {
        time,
        values,
        line: record.position().map_or(0, |p| p.line()),
    })
}

/// The sampling step: the most common positive difference between consecutive times when
/// at least 30 % of them agree; otherwise (jittered clocks) their median, snapped to a
/// round step when within 10 % of one.
fn dominant_step(groups: &[(String, Vec<RawRow>)]) -> Option<i64> {
    let mut diffs: Vec<i64> = groups
        .iter()
        .flat_map(|(_, rows)| rows.windows(2).map(|w| w[1].time - w[0].time))
        .filter(|&d| d > 0)
        .collect();
    if diffs.is_empty() {
        return None;
    }
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for &d in &diffs {
        *counts.entry(d).or_default() += 1;
    }
    let (mode, n) = counts
        .into_iter()
        .max_by_key(|&(d, n)| (n, std::cmp::Reverse(d)))?;
    if n * 10 >= diffs.len() * 3 {
        return Some(mode);
    }
    diffs.sort_unstable();
    let median = diffs[diffs.len() / 2];
    const ROUND: [i64; 16] = [
        1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 86_400,
    ];
    Some(
        ROUND
            .iter()
            .copied()
            .find(|&r| (r - median).abs() * 10 <= r)
            .unwrap_or(median),
    )
}

/// Puts sorted rows on a regular grid of `step`: rows snap to the nearest step (several on
/// one step are averaged), missing steps and empty cells are interpolated when the gap is
/// at most `max_fill` steps, and longer gaps start a new segment.
fn resample(
    rows: &[RawRow],
    step: i64,
    width: usize,
    max_fill: usize,
    report: &mut ReadReport,
) -> Vec<Segment> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let origin = first.time;
    // Sum and count per grid step, per column.
    let mut cells: BTreeMap<i64, (Vec<f64>, Vec<u32>)> = BTreeMap::new();
    for r in rows {
        let k = (r.time - origin + step / 2).div_euclid(step);
        let entry = cells
            .entry(k)
            .or_insert_with(|| (vec![0.0; width], vec![0; width]));
        if entry.1.iter().any(|&c| c > 0) {
            report.merged_rows += 1;
        }
        for (c, v) in r.values.iter().enumerate() {
            if v.is_finite() {
                entry.0[c] += f64::from(*v);
                entry.1[c] += 1;
            }
        }
    }
    let mut segments = Vec::new();
    let mut steps: Vec<(i64, Vec<Option<f32>>)> = Vec::new();
    let mut last_k: Option<i64> = None;
    let flush = |steps: &mut Vec<(i64, Vec<Option<f32>>)>,
                 segments: &mut Vec<Segment>,
                 report: &mut ReadReport| {
        if let Some(seg) = fill_segment(steps, origin, step, width, max_fill, report) {
            segments.push(seg);
        }
        steps.clear();
    };
    for (k, (sum, n)) in cells {
        if let Some(prev) = last_k {
            let missing = (k - prev - 1) as usize;
            if missing > max_fill {
                flush(&mut steps, &mut segments, report);
                report.splits += 1;
            } else {
                for m in 1..=missing as i64 {
                    steps.push((prev + m, vec![None; width]));
                }
            }
        }
        let values = sum
            .iter()
            .zip(&n)
            .map(|(s, &c)| (c > 0).then(|| (s / f64::from(c)) as f32))
            .collect();
        steps.push((k, values));
        last_k = Some(k);
    }
    flush(&mut steps, &mut segments, report);
    segments
}

/// Interpolates the missing cells of one gap-bounded run of steps; a column missing at the
/// start or end takes its nearest known value. A column never seen in the run drops it.
fn fill_segment(
    steps: &[(i64, Vec<Option<f32>>)],
    origin: i64,
    step: i64,
    width: usize,
    max_fill: usize,
    report: &mut ReadReport,
) -> Option<Segment> {
    let (first_k, _) = steps.first()?;
    let n = steps.len();
    let mut values = vec![0f32; n * width];
    let mut filled = vec![false; n];
    for c in 0..width {
        let known: Vec<usize> = (0..n).filter(|&i| steps[i].1[c].is_some()).collect();
        if known.is_empty() {
            report.filled_steps += n;
            return None;
        }
        let mut prev: Option<usize> = None;
        let mut next_idx = 0;
        for i in 0..n {
            while next_idx < known.len() && known[next_idx] < i {
                next_idx += 1;
            }
            let v = match steps[i].1[c] {
                Some(v) => {
                    prev = Some(i);
                    v
                }
                None => {
                    filled[i] = true;
                    let next = known.get(next_idx).copied();
                    match (prev, next) {
                        (Some(a), Some(b)) if b - a <= max_fill + 1 => {
                            let (va, vb) = (values[a * width + c], steps[b].1[c].unwrap_or(0.0));
                            va + (vb - va) * (i - a) as f32 / (b - a) as f32
                        }
                        (Some(a), _) => values[a * width + c],
                        (None, Some(b)) => steps[b].1[c].unwrap_or(0.0),
                        (None, None) => 0.0,
                    }
                }
            };
            values[i * width + c] = v;
        }
    }
    report.filled_steps += filled.iter().filter(|f| **f).count();
    Some(Segment {
        start: origin + first_k * step,
        values,
        filled,
    })
}

#[cfg(test)]
mod tests;
