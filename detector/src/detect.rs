//! The streaming detector: rows in, scored and decided rows and anomalies out, in bounded
//! memory whatever the input's size.
//!
//! Each group (host) keeps a ring of its last rows, resampled to the model's step the way
//! the trainer read its data (off-grid rows snap to the grid, short gaps are interpolated,
//! long gaps restart the ring). Every real row that completes a window becomes a window in
//! the current block; a full block is scored by the model in batches on all cores
//! ([`crate::detect`] never holds more than one block). Scored rows then go, in input
//! order, through each group's smoothing, threshold and alarm logic (minimum duration,
//! merging of close stretches) for the model and for the baseline alike, and leave as soon
//! as both decisions are made.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::Error;
use crate::explain::{MetricStats, explain, top_metrics};
use vigil_core::score::{Smoother, point_score, smoothed_scores};
use vigil_core::series::{BadLines, DataError, TIME_NAMES};
use vigil_core::threshold::{Method, Threshold};
use vigil_core::time::parse_timestamp;
use vigil_core::window::WindowSpec;
use vigil_model::ModelDir;
use vigil_model::batch::Batch;
use vigil_model::scoring::{point_errors, rows_needed};

/// Rows of a group's recent normal history that explanations compare a stretch with.
const REFERENCE_ROWS: usize = 120;
/// Deltas a group's step is checked on.
const STEP_SAMPLE: usize = 32;
/// Rows that may wait for a decision before the oldest waiting group is closed (only a
/// file sorted by host, rather than by time, gets here).
const MAX_WAITING: usize = 200_000;

/// How to detect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Options {
    pub threshold: Method,
    /// Moving average over this many points before thresholding (1 = none).
    pub smooth: usize,
    /// Points above the threshold needed before an alarm is raised.
    pub min_duration: usize,
    /// Normal points that may separate two stretches before they count as two anomalies.
    pub merge_gap: usize,
    /// Windows per model call.
    pub batch: usize,
    /// Windows scored at once, split between the cores.
    pub block: usize,
    pub bad_lines: BadLines,
    /// Gaps of up to this many missing steps are interpolated; longer ones restart.
    pub max_fill: usize,
    /// Score hosts the model never saw instead of refusing them.
    pub allow_new_hosts: bool,
    /// A host whose every column (of two or more) repeats exactly for this many steps is
    /// anomalous, for the model and the baseline alike (a frozen metrics agent: values an
    /// autoencoder reconstructs well, since they were plausible once); 0 turns it off.
    pub frozen_steps: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threshold: Method::Pot {
                q: 1e-3,
                initial: 0.98,
            },
            smooth: 3,
            min_duration: 3,
            merge_gap: 10,
            batch: 256,
            block: 8192,
            bad_lines: BadLines::Fail,
            max_fill: 12,
            allow_new_hosts: false,
            frozen_steps: 10,
        }
    }
}

/// The thresholds, calibrated on the model's validation points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub model: Threshold,
    pub baseline: Threshold,
}

/// Calibrates both thresholds on the validation points stored in the model, smoothed as
/// new data will be.
pub fn calibrate(model: &ModelDir, options: &Options) -> Result<Calibration, Error> {
    let v = &model.validation;
    let w = model.data.columns.len();
    let one = |errors: &[f32], means: &[f32], which: &str| {
        let scores = smoothed_scores(errors, w, means, &v.runs, options.smooth);
        // Too few validation points for a tail fit (a short training file): fall back to
        // the highest validation score rather than refusing to detect.
        let method = match options.threshold {
            Method::Pot { .. }
                if !scores.is_empty() && options.threshold.calibrate(&scores).is_err() =>
            {
                Method::Percentile { p: 1.0 }
            }
            m => m,
        };
        method.calibrate(&scores).map_err(|e| Error::Calibration {
            which: which.into(),
            message: e.to_string(),
        })
    };
    Ok(Calibration {
        model: one(&v.model_errors, &v.column_means, "model")?,
        baseline: one(&v.baseline_errors, &v.baseline_column_means, "baseline")?,
    })
}

/// One input row, decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub time: i64,
    /// Raw values of the model's columns.
    pub values: Vec<f32>,
    /// Whether a window scored it (not the first rows of a series, nor a row merged
    /// into an occupied step).
    pub scored: bool,
    /// The smoothed model score that the threshold is compared with.
    pub score: f32,
    /// Each column's share of the (unsmoothed) score.
    pub shares: Vec<f32>,
    pub anomaly: bool,
    pub baseline_score: f32,
    pub baseline_anomaly: bool,
}

/// A contiguous anomalous stretch found by the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub host: String,
    /// Time of the first point above the threshold.
    pub start: i64,
    /// One step after the last point above the threshold.
    pub end: i64,
    pub peak_time: i64,
    pub peak_score: f32,
    pub threshold: f32,
    pub points: usize,
    pub top_metrics: Vec<String>,
    pub explanation: String,
}

/// Where decided rows and anomalies go.
pub trait Sink {
    fn row(&mut self, host: &str, row: &Row) -> Result<(), Error>;
    fn anomaly(&mut self, _anomaly: &Anomaly) -> Result<(), Error> {
        Ok(())
    }
}

/// What a run did besides scoring.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub rows: u64,
    pub scored: u64,
    /// Rows before a series had a full window.
    pub warm_up: u64,
    /// Off-grid rows that fell on an occupied step (output, not scored).
    pub merged: u64,
    pub filled_steps: u64,
    /// Gaps too long to fill, where a series restarted.
    pub restarts: u64,
    pub skipped_lines: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub anomalies: u64,
    pub anomalous_rows: u64,
    pub baseline_anomalous_rows: u64,
    pub hosts: usize,
    pub first_time: Option<i64>,
    pub last_time: Option<i64>,
}

struct Slot {
    group: usize,
    row: Row,
    errors: Vec<f32>,
    z2: Vec<f32>,
    restart: bool,
    model: Option<bool>,
    baseline: Option<bool>,
}

/// An open anomalous stretch.
struct Open {
    pending: Vec<u64>,
    quiet: Vec<u64>,
    above: usize,
    confirmed: bool,
    start: i64,
    last_above: i64,
    peak_score: f32,
    peak_time: i64,
    stats: Vec<MetricStats>,
}

/// One alarm logic (model or baseline) of one group.
struct Alarm {
    open: Option<Open>,
    /// Or-ed into the sequence numbers of its decisions: 0 or [`BASELINE_TAG`].
    tag: u64,
}

/// A decision on a row: (sequence number, anomalous).
type Decisions = Vec<(u64, bool)>;

impl Alarm {
    fn new(tag: u64) -> Alarm {
        Alarm { open: None, tag }
    }

    /// Feeds one scored row; returns a closed, confirmed stretch when this row ends one.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        seq: u64,
        time: i64,
        above: bool,
        score: f32,
        row: Option<(&[f32], &[f32])>,
        make_stats: impl FnOnce() -> Vec<MetricStats>,
        options: &Options,
        out: &mut Decisions,
    ) -> Option<Open> {
        let seq = seq | self.tag;
        if above {
            let o = self.open.get_or_insert_with(|| Open {
                pending: Vec::new(),
                quiet: Vec::new(),
                above: 0,
                confirmed: false,
                start: time,
                last_above: time,
                peak_score: f32::NEG_INFINITY,
                peak_time: time,
                stats: make_stats(),
            });
            let quiet = std::mem::take(&mut o.quiet);
            if o.confirmed {
                out.extend(quiet.iter().map(|&q| (q, true)));
                out.push((seq, true));
            } else {
                o.pending.extend(quiet);
                o.pending.push(seq);
            }
            if let Some((values, shares)) = row {
                let i = o.above as f64;
                for ((s, &v), &sh) in o.stats.iter_mut().zip(values).zip(shares) {
                    s.push(i, f64::from(v), f64::from(sh));
                }
            }
            o.above += 1;
            o.last_above = time;
            if score > o.peak_score {
                o.peak_score = score;
                o.peak_time = time;
            }
            if !o.confirmed && o.above >= options.min_duration.max(1) {
                o.confirmed = true;
                out.extend(o.pending.drain(..).map(|p| (p, true)));
            }
            None
        } else {
            match &mut self.open {
                None => {
                    out.push((seq, false));
                    None
                }
                Some(o) if o.quiet.len() < options.merge_gap => {
                    o.quiet.push(seq);
                    None
                }
                Some(_) => {
                    out.push((seq, false));
                    self.close(out)
                }
            }
        }
    }

    /// Ends the open stretch (a gap, the end of the data); returns it when confirmed.
    fn close(&mut self, out: &mut Decisions) -> Option<Open> {
        let mut o = self.open.take()?;
        out.extend(o.quiet.drain(..).map(|q| (q, false)));
        if o.confirmed {
            Some(o)
        } else {
            out.extend(o.pending.drain(..).map(|p| (p, false)));
            None
        }
    }
}

struct Group {
    name: String,
    /// Grid time of the newest row in the ring.
    last_grid: Option<i64>,
    last_time: Option<i64>,
    /// Scaled rows, oldest first, at most `need`.
    ring: VecDeque<f32>,
    deltas: Vec<i64>,
    step_checked: bool,
    smooth_model: Smoother,
    smooth_baseline: Smoother,
    model: Alarm,
    baseline: Alarm,
    /// Recent raw rows that were not anomalous, for explanations.
    recent: VecDeque<f32>,
    /// The last scored row's values, and for how many steps they have repeated exactly.
    last_values: Vec<f32>,
    repeated: usize,
}

/// The streaming detector.
pub struct Detector<'a> {
    model: &'a ModelDir,
    options: &'a Options,
    calibration: &'a Calibration,
    spec: WindowSpec,
    need: usize,
    width: usize,
    groups: Vec<Group>,
    index: HashMap<String, usize>,
    queue: VecDeque<Slot>,
    front_seq: u64,
    /// Rows before this sequence number have been through the alarm logic.
    decided_upto: u64,
    block_values: Vec<f32>,
    block_targets: Vec<u64>,
    pub report: Report,
}

/// Column positions of the input.
struct Layout {
    time: usize,
    group: Option<usize>,
    columns: Vec<usize>,
}

impl<'a> Detector<'a> {
    pub fn new(
        model: &'a ModelDir,
        options: &'a Options,
        calibration: &'a Calibration,
    ) -> Detector<'a> {
        let spec = model.data.window;
        Detector {
            model,
            options,
            calibration,
            spec,
            need: rows_needed(&spec),
            width: model.data.columns.len(),
            groups: Vec::new(),
            index: HashMap::new(),
            queue: VecDeque::new(),
            front_seq: 0,
            decided_upto: 0,
            block_values: Vec::new(),
            block_targets: Vec::new(),
            report: Report::default(),
        }
    }

    /// The model threshold in force.
    pub fn threshold(&self) -> f32 {
        self.calibration.model.value as f32
    }

    /// Reads the CSV at `path` and sends every row and anomaly to `sink`.
    pub fn run_file(&mut self, path: &Path, sink: &mut dyn Sink) -> Result<(), Error> {
        let file = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.run(file, path, sink)
    }

    /// Reads CSV from `input` (`path` names it in messages).
    pub fn run(
        &mut self,
        input: impl std::io::Read,
        path: &Path,
        sink: &mut dyn Sink,
    ) -> Result<(), Error> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(input);
        let layout = self.layout(&mut reader, path)?;
        let mut record = csv::StringRecord::new();
        let mut values = vec![0f32; self.width];
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    self.bad_line(path, line, format!("unreadable CSV: {e}"))?;
                    continue;
                }
            }
            let line = record.position().map_or(0, |p| p.line());
            match self.parse(&record, &layout, &mut values) {
                Ok((group, time)) => self.push(path, line, group, time, &values, sink)?,
                Err(message) => self.bad_line(path, line, message)?,
            }
        }
        self.finish(path, sink)
    }

    fn layout<R: std::io::Read>(
        &self,
        reader: &mut csv::Reader<R>,
        path: &Path,
    ) -> Result<Layout, Error> {
        let file_err = |message: String| -> Error {
            DataError::File {
                path: path.to_path_buf(),
                message,
            }
            .into()
        };
        let headers =
            vigil_core::series::read_header(reader, path, "a header with the model's columns")?;
        let find = |name: &str| headers.iter().position(|h| h == name);
        let spec = &self.model.data;
        let time = find(&spec.time_column)
            .or_else(|| TIME_NAMES.iter().find_map(|n| find(n)))
            .ok_or_else(|| {
                file_err(format!(
                    "no time column (the model's is {:?}); the columns are {}",
                    spec.time_column,
                    headers.join(", ")
                ))
            })?;
        let group = match &spec.group_column {
            Some(g) => Some(find(g).ok_or_else(|| {
                file_err(format!(
                    "no {g:?} column: the model was trained per {g}; the columns are {}",
                    headers.join(", ")
                ))
            })?),
            None => None,
        };
        let missing: Vec<&str> = spec
            .columns
            .iter()
            .filter(|c| find(c).is_none())
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(file_err(format!(
                "the columns differ from the model's: it was trained on {}; this file lacks {} (it has {})",
                spec.columns.join(", "),
                missing.join(", "),
                headers.join(", ")
            )));
        }
        let columns = spec.columns.iter().filter_map(|c| find(c)).collect();
        Ok(Layout {
            time,
            group,
            columns,
        })
    }

    fn parse<'r>(
        &self,
        record: &'r csv::StringRecord,
        layout: &Layout,
        values: &mut [f32],
    ) -> Result<(&'r str, i64), String> {
        let field = |i: usize| record.get(i).unwrap_or("");
        let t = field(layout.time);
        let time = parse_timestamp(t)
            .map_err(|e| format!("bad timestamp {t:?}: {e}"))?
            .timestamp();
        let group = layout.group.map_or("", field);
        for ((v, &c), name) in values
            .iter_mut()
            .zip(&layout.columns)
            .zip(&self.model.data.columns)
        {
            let text = field(c);
            *v = text
                .parse::<f32>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    if text.is_empty() {
                        format!("column {name}: missing value")
                    } else {
                        format!("column {name}: {text:?} is not a finite number")
                    }
                })?;
        }
        Ok((group, time))
    }

    fn bad_line(&mut self, path: &Path, line: u64, message: String) -> Result<(), Error> {
        match self.options.bad_lines {
            BadLines::Fail => Err(DataError::Line {
                path: path.to_path_buf(),
                line,
                message: format!("{message} (--skip-bad-lines skips and counts such lines)"),
            }
            .into()),
            BadLines::Skip => {
                self.report.skipped_lines += 1;
                let reason: String = message
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(40)
                    .collect();
                *self.report.skipped_by_reason.entry(reason).or_default() += 1;
                Ok(())
            }
        }
    }

    fn group(&mut self, path: &Path, line: u64, name: &str) -> Result<usize, Error> {
        if let Some(&g) = self.index.get(name) {
            return Ok(g);
        }
        if !self.options.allow_new_hosts && !self.model.baseline.knows(name) {
            let known: Vec<&str> = self
                .model
                .baseline
                .groups
                .keys()
                .map(String::as_str)
                .take(12)
                .collect();
            return Err(DataError::Line {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "unknown host {name:?}: the model was trained on {} (--allow-new-hosts scores new hosts with the fleet's statistics)",
                    known.join(", ")
                ),
            }.into());
        }
        let g = self.groups.len();
        self.groups.push(Group {
            name: name.to_string(),
            last_grid: None,
            last_time: None,
            ring: VecDeque::with_capacity(self.need * self.width),
            deltas: Vec::new(),
            step_checked: false,
            smooth_model: Smoother::new(self.options.smooth),
            smooth_baseline: Smoother::new(self.options.smooth),
            last_values: Vec::new(),
            repeated: 0,
            model: Alarm::new(0),
            baseline: Alarm::new(BASELINE_TAG),
            recent: VecDeque::with_capacity(REFERENCE_ROWS * self.width),
        });
        self.index.insert(name.to_string(), g);
        self.report.hosts = self.groups.len();
        Ok(g)
    }

    fn check_step(&mut self, path: &Path, g: usize) -> Result<(), Error> {
        let group = &mut self.groups[g];
        if group.step_checked || group.deltas.is_empty() {
            return Ok(());
        }
        group.step_checked = true;
        let mut d = group.deltas.clone();
        d.sort_unstable();
        let median = d[d.len() / 2];
        let step = self.model.data.step;
        if median != step {
            let host = if group.name.is_empty() {
                String::new()
            } else {
                format!(" for {}", group.name)
            };
            return Err(DataError::File {
                path: path.to_path_buf(),
                message: format!(
                    "the rows are {} apart{host}, but the model was trained on a step of {}: resample the data or train a model on this step",
                    crate::explain::duration(median),
                    crate::explain::duration(step)
                ),
            }.into());
        }
        Ok(())
    }

    /// Takes one parsed row.
    fn push(
        &mut self,
        path: &Path,
        line: u64,
        group: &str,
        time: i64,
        raw: &[f32],
        sink: &mut dyn Sink,
    ) -> Result<(), Error> {
        let g = self.group(path, line, group)?;
        let step = self.model.data.step;
        let (w, need) = (self.width, self.need);
        let seq = self.front_seq + self.queue.len() as u64;
        let mut restart = false;
        let mut merged = false;
        {
            let grp = &mut self.groups[g];
            if let Some(last) = grp.last_time {
                if time < last {
                    let message = format!(
                        "time {} is before the previous row of {:?} ({}): a host's rows must be in time order",
                        vigil_core::time::rfc3339(time),
                        grp.name,
                        vigil_core::time::rfc3339(last)
                    );
                    return self.bad_line(path, line, message);
                }
                if grp.deltas.len() < STEP_SAMPLE && time > last {
                    grp.deltas.push(time - last);
                }
            }
            grp.last_time = Some(time.max(grp.last_time.unwrap_or(time)));
        }
        if self.groups[g].deltas.len() == STEP_SAMPLE {
            self.check_step(path, g)?;
        }
        let mut scaled = raw.to_vec();
        self.model.data.scaler.transform(&mut scaled);
        let grp = &mut self.groups[g];
        match grp.last_grid {
            None => {
                grp.last_grid = Some(time);
                restart = true;
            }
            Some(last) => {
                let k = ((time - last) as f64 / step as f64).round() as i64;
                if k == 0 {
                    merged = true;
                } else if (k - 1) as usize > self.options.max_fill {
                    grp.ring.clear();
                    grp.last_grid = Some(time);
                    restart = true;
                    self.report.restarts += 1;
                } else {
                    // Interpolate the missing steps between the ring's newest row and this one.
                    let prev: Vec<f32> = grp.ring.iter().rev().take(w).rev().copied().collect();
                    for j in 1..k {
                        let f = j as f32 / k as f32;
                        for (c, &x) in scaled.iter().enumerate() {
                            let p = prev.get(c).copied().unwrap_or(x);
                            grp.ring.push_back(p + f * (x - p));
                        }
                        self.report.filled_steps += 1;
                    }
                    grp.last_grid = Some(last + k * step);
                }
            }
        }
        let mut windowed = false;
        if !merged {
            grp.ring.extend(scaled.iter().copied());
            let keep = need * w;
            if grp.ring.len() > keep {
                let extra = grp.ring.len() - keep;
                grp.ring.drain(..extra);
            }
            if grp.ring.len() == keep {
                windowed = true;
                let (a, b) = grp.ring.as_slices();
                self.block_values.extend_from_slice(a);
                self.block_values.extend_from_slice(b);
                // A multi-step forecaster's later horizon is padding: only the first
                // predicted step is scored.
                for _ in need..self.spec.span() {
                    self.block_values.extend_from_slice(&scaled);
                }
                self.block_targets.push(seq);
            }
        }
        let mut z2 = vec![0f32; w];
        self.model.baseline.z2(group, time, raw, &mut z2);
        self.report.rows += 1;
        if merged {
            self.report.merged += 1;
        } else if !windowed {
            self.report.warm_up += 1;
        }
        self.queue.push_back(Slot {
            group: g,
            row: Row {
                line,
                time,
                values: raw.to_vec(),
                scored: false,
                score: 0.0,
                shares: vec![0.0; w],
                anomaly: false,
                baseline_score: 0.0,
                baseline_anomaly: false,
            },
            errors: Vec::new(),
            z2,
            restart,
            model: None,
            baseline: None,
        });
        if self.block_targets.len() >= self.options.block.max(1) {
            self.flush(sink)?;
        }
        Ok(())
    }

    /// Scores the block, runs the alarm logic over every waiting row and writes out the
    /// decided ones.
    fn flush(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
        self.score_block();
        self.decide(sink)?;
        self.drain(sink)?;
        while self.queue.len() > MAX_WAITING {
            let g = self.queue[0].group;
            let mut out = Decisions::new();
            self.close_group(g, &mut out, sink)?;
            self.drain(sink)?;
        }
        Ok(())
    }

    fn score_block(&mut self) {
        if self.block_targets.is_empty() {
            return;
        }
        let per_window = self.spec.span() * self.width;
        let chunk = self.options.batch.max(1) * per_window;
        let net = &self.model.network;
        let device = self.model.config.backend.device();
        let (spec, width) = (self.spec, self.width);
        let errors: Vec<Vec<f32>> = self
            .block_values
            .par_chunks(chunk)
            .map(|values| {
                let batch = Batch::from_values(values.to_vec(), &spec, width, &device);
                point_errors(net, &batch)
            })
            .collect();
        let flat: Vec<f32> = errors.into_iter().flatten().collect();
        for (seq, e) in self.block_targets.iter().zip(flat.chunks_exact(width)) {
            let slot = &mut self.queue[(seq - self.front_seq) as usize];
            slot.errors = e.to_vec();
        }
        self.block_values.clear();
        self.block_targets.clear();
    }

    /// The alarm logic over rows not yet through it (all of them scored or unscorable).
    fn decide(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
        let model_threshold = self.calibration.model.value as f32;
        let base_threshold = self.calibration.baseline.value as f32;
        let means = &self.model.validation.column_means;
        let base_means = &self.model.validation.baseline_column_means;
        let w = self.width;
        let mut out = Decisions::new();
        let mut base_shares = vec![0f32; w];
        while self.decided_upto < self.front_seq + self.queue.len() as u64 {
            let seq = self.decided_upto;
            self.decided_upto += 1;
            let i = (seq - self.front_seq) as usize;
            let g = self.queue[i].group;
            if self.queue[i].restart {
                self.close_group(g, &mut out, sink)?;
            }
            let slot = &mut self.queue[i];
            let grp = &mut self.groups[g];
            if slot.errors.is_empty() {
                slot.model = Some(false);
                slot.baseline = Some(false);
                continue;
            }
            let row = &mut slot.row;
            row.scored = true;
            self.report.scored += 1;
            let raw_score = point_score(&slot.errors, means, &mut row.shares);
            row.score = grp.smooth_model.push(raw_score);
            let b = point_score(&slot.z2, base_means, &mut base_shares);
            row.baseline_score = grp.smooth_baseline.push(b);
            if grp.last_values == row.values {
                grp.repeated += 1;
            } else {
                grp.repeated = 0;
                grp.last_values.clone_from(&row.values);
            }
            // One series repeating is common (a count at zero, a quantised gauge); all of
            // several repeating exactly is a frozen source.
            let frozen = w >= 2
                && self.options.frozen_steps > 0
                && grp.repeated >= self.options.frozen_steps;
            let above = row.score > model_threshold || frozen;
            let columns = &self.model.data.columns;
            let scaler = &self.model.data.scaler;
            let recent = &grp.recent;
            let make_stats = || {
                let n = recent.len() / w.max(1);
                (0..w)
                    .map(|c| {
                        let xs = recent.iter().skip(c).step_by(w).map(|&x| f64::from(x));
                        let mean = xs.clone().sum::<f64>() / n.max(1) as f64;
                        let var = xs.map(|x| (x - mean).powi(2)).sum::<f64>() / n.max(1) as f64;
                        let (mean, std) = if n == 0 {
                            (scaler.mean[c], scaler.scale[c])
                        } else {
                            (mean, var.sqrt())
                        };
                        MetricStats::new(&columns[c], mean, std, scaler.scale[c])
                    })
                    .collect()
            };
            let closed = grp.model.push(
                seq,
                row.time,
                above,
                row.score,
                Some((&row.values, &row.shares)),
                make_stats,
                self.options,
                &mut out,
            );
            if !above && grp.model.open.is_none() {
                grp.recent.extend(row.values.iter().copied());
                let keep = REFERENCE_ROWS * w;
                if grp.recent.len() > keep {
                    let extra = grp.recent.len() - keep;
                    grp.recent.drain(..extra);
                }
            }
            let base_above = row.baseline_score > base_threshold || frozen;
            let _ = grp.baseline.push(
                seq,
                row.time,
                base_above,
                row.baseline_score,
                None,
                Vec::new,
                self.options,
                &mut out,
            );
            self.apply(&mut out);
            if let Some(o) = closed {
                self.emit(g, o, sink)?;
            }
        }
        self.apply(&mut out);
        Ok(())
    }

    /// Applies the decisions collected so far; baseline ones carry [`BASELINE_TAG`].
    fn apply(&mut self, out: &mut Decisions) {
        for &(seq, flag) in out.iter() {
            let base = seq & BASELINE_TAG != 0;
            let seq = seq & !BASELINE_TAG;
            if seq < self.front_seq {
                continue;
            }
            if let Some(slot) = self.queue.get_mut((seq - self.front_seq) as usize) {
                if base {
                    slot.baseline = Some(flag);
                } else {
                    slot.model = Some(flag);
                }
            }
        }
        out.clear();
    }

    fn close_group(
        &mut self,
        g: usize,
        out: &mut Decisions,
        sink: &mut dyn Sink,
    ) -> Result<(), Error> {
        let grp = &mut self.groups[g];
        grp.smooth_model.reset();
        grp.smooth_baseline.reset();
        grp.repeated = 0;
        grp.last_values.clear();
        let closed = grp.model.close(out);
        grp.baseline.close(out);
        self.apply(out);
        if let Some(o) = closed {
            self.emit(g, o, sink)?;
        }
        Ok(())
    }

    fn emit(&mut self, g: usize, o: Open, sink: &mut dyn Sink) -> Result<(), Error> {
        let step = self.model.data.step;
        let host = &self.groups[g].name;
        let top = top_metrics(&o.stats);
        let end = o.last_above + step;
        let anomaly = Anomaly {
            host: host.clone(),
            start: o.start,
            end,
            peak_time: o.peak_time,
            peak_score: o.peak_score,
            threshold: self.calibration.model.value as f32,
            points: o.above,
            top_metrics: top.iter().map(|&i| o.stats[i].name.clone()).collect(),
            explanation: explain(&o.stats, &top, host, end - o.start),
        };
        self.report.anomalies += 1;
        sink.anomaly(&anomaly)
    }

    /// Writes out every decided row at the front of the queue.
    fn drain(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
        while let Some(front) = self.queue.front() {
            let (Some(m), Some(b)) = (front.model, front.baseline) else {
                break;
            };
            let Some(mut slot) = self.queue.pop_front() else {
                break;
            };
            self.front_seq += 1;
            slot.row.anomaly = m;
            slot.row.baseline_anomaly = b;
            self.report.anomalous_rows += u64::from(m);
            self.report.baseline_anomalous_rows += u64::from(b);
            let t = slot.row.time;
            self.report.first_time = Some(self.report.first_time.map_or(t, |f| f.min(t)));
            self.report.last_time = Some(self.report.last_time.map_or(t, |l| l.max(t)));
            sink.row(&self.groups[slot.group].name, &slot.row)?;
        }
        Ok(())
    }

    /// Scores what is left and closes every group.
    fn finish(&mut self, path: &Path, sink: &mut dyn Sink) -> Result<(), Error> {
        for g in 0..self.groups.len() {
            self.check_step(path, g)?;
        }
        if self.report.rows == 0 {
            return Err(DataError::File {
                path: path.to_path_buf(),
                message: "no data rows (only a header)".into(),
            }
            .into());
        }
        self.score_block();
        self.decide(sink)?;
        let mut out = Decisions::new();
        for g in 0..self.groups.len() {
            self.close_group(g, &mut out, sink)?;
        }
        self.drain(sink)?;
        debug_assert!(self.queue.is_empty());
        Ok(())
    }
}

/// Marks a baseline decision in [`Decisions`].
const BASELINE_TAG: u64 = 1 << 63;
