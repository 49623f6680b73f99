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

use serde::Serialize;

use crate::Error;
use crate::explain::MetricStats;
use vigil_core::likelihood::Range;
use vigil_core::window::WindowSpec;
use vigil_model::ModelDir;
use vigil_model::adapt::Adapter;
use vigil_model::networks::Network;
use vigil_model::scoring::rows_needed;

mod alarm;
mod decide;
mod input;
mod options;
mod scorer;

use alarm::{Alarm, Decisions};
pub use options::{
    ADAPT_EVERY, ADAPT_RATE, ADAPT_SAMPLE, Adapt, COARSE_GATE, Calibration, LIKELIHOOD_THRESHOLD,
    LONG_SCALE, Options, RANGE_TOLERANCE, Scoring, calibrate,
};
use scorer::Scorer;

/// Rows of a group's recent normal history that explanations compare a stretch with.
const REFERENCE_ROWS: usize = 120;
/// Deltas a group's step is checked on.
const STEP_SAMPLE: usize = 32;
/// A host whose median step is within this factor of the model's is resampled onto the
/// model's grid (and reported); further off, the data are refused.
const MAX_STEP_RATIO: f64 = 2.0;
/// Rows that may wait for a decision before the oldest waiting group is closed (only a
/// file sorted by host, rather than by time, gets here).
const MAX_WAITING: usize = 200_000;
/// Rows a host the model never saw is watched for before its range is judged.
const RANGE_WARM_UP: usize = 100;

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
    /// The model score that the threshold is compared with ([`Options::scoring`]).
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

/// A host read at another step than the model's and resampled onto the model's grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resampled {
    pub host: String,
    /// The median step of its first rows, seconds.
    pub step: i64,
    pub model_step: i64,
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
    /// Rows older than their host's previous row (output, not scored: a host's rows are
    /// read in time order).
    pub out_of_order: u64,
    /// Hosts whose rows came at another step than the model's, resampled onto it.
    pub resampled: Vec<Resampled>,
    pub filled_steps: u64,
    /// Gaps too long to fill, where a series restarted.
    pub restarts: u64,
    pub skipped_lines: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub anomalies: u64,
    /// Confirmed stretches of the model held back as daily repeats ([`Options::daily_repeats`]).
    pub daily_repeats: u64,
    /// With [`Options::adapt`]: windows the network learnt from, and the updates made.
    pub adapted_windows: u64,
    pub adapt_updates: u64,
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
    /// The row's window (scaled), kept with [`Options::adapt`] until the row is judged.
    window: Vec<f32>,
    restart: bool,
    model: Option<bool>,
    baseline: Option<bool>,
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
    score_model: Scorer,
    score_baseline: Scorer,
    /// The range rule's state ([`Options::range`]).
    range: Option<Range>,
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
    /// What a new group's scorers start from (model, baseline).
    scorers: (Scorer, Scorer),
    /// With [`Options::adapt`]: the learning copy of the network, the windows judged
    /// normal since its last update, and the network scoring now (the model's until the
    /// first update).
    adapter: Option<Adapter>,
    /// Whether the network adapts (the rows' windows are kept until judged).
    adapts: bool,
    adapt_buffer: Vec<f32>,
    judged_normal: usize,
    /// The update in progress (the adapter is back once it is done).
    adapting: Option<std::thread::JoinHandle<(Adapter, Option<Network>, usize)>>,
    adapted: Option<Network>,
    pub report: Report,
}

impl<'a> Detector<'a> {
    /// With `options.adapt`, a network model learns as it scores (a PCA model, with no
    /// gradient step, is left as it is).
    pub fn new(
        model: &'a ModelDir,
        options: &'a Options,
        calibration: &'a Calibration,
    ) -> Result<Detector<'a>, Error> {
        let adapter = options
            .adapt
            .filter(|_| !matches!(model.network, Network::Pca(_)))
            .map(|a| Adapter::new(model, a.rate))
            .transpose()?;
        let spec = model.data.window;
        let v = &model.validation;
        let scorers = (
            Scorer::template(
                options,
                v,
                &v.model_errors,
                &v.column_means,
                Some(model.data.step),
            ),
            Scorer::template(
                options,
                v,
                &v.baseline_errors,
                &v.baseline_column_means,
                None,
            ),
        );
        Ok(Detector {
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
            scorers,
            adapts: adapter.is_some(),
            adapter,
            adapt_buffer: Vec::new(),
            judged_normal: 0,
            adapting: None,
            adapted: None,
            report: Report::default(),
        })
    }

    /// The model threshold in force.
    pub fn threshold(&self) -> f32 {
        self.calibration.model.value as f32
    }

    /// Reads the CSV at `path` and sends every row and anomaly to `sink`.
    pub fn run_file(&mut self, path: &Path, sink: &mut dyn Sink) -> Result<(), Error> {
        let file = std::fs::File::open(path).map_err(|source| vigil_core::Error::Io {
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

    /// Writes out every decided row at the front of the queue.
    pub(super) fn drain(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
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
    pub(super) fn finish(&mut self, path: &Path, sink: &mut dyn Sink) -> Result<(), Error> {
        for g in 0..self.groups.len() {
            self.check_step(path, g)?;
        }
        if self.report.rows == 0 {
            return Err(vigil_core::Error::File {
                path: path.to_path_buf(),
                message: "no data rows (only a header)".into(),
            }
            .into());
        }
        self.score_block();
        self.decide(sink)?;
        self.settle_adapt();
        let mut out = Decisions::new();
        for g in 0..self.groups.len() {
            self.close_group(g, &mut out, sink)?;
        }
        self.drain(sink)?;
        debug_assert!(self.queue.is_empty());
        self.report.daily_repeats = self.groups.iter().map(|g| g.model.repeats).sum();
        Ok(())
    }
}
