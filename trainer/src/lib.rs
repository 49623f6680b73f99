//! Vigil's trainer: learns what normal looks like with burn, on the CPU.
//!
//! `train_metrics` reads a metrics table, scales it (scaler fitted on the training part
//! only), cuts windows split in time order, trains the configured network with early
//! stopping and writes a self-checking model directory ([`vigil_model::ModelDir`]);
//! `logs::train_logs` does the same for DeepLog over log sessions. The networks and the
//! model directory live in `vigil-model`, which the detector uses without this crate.

pub mod calibrate;
pub mod data;
pub mod deeplog;
pub mod logmodel;
pub mod logs;
pub mod training;

use std::path::{Path, PathBuf};

use data::WindowData;
use training::{History, Progress, score, train};
use vigil_core::baseline::{HourProfile, HourProfileFit};
use vigil_core::score::column_means;
use vigil_core::series::{ReadOptions, Table, read_table};
use vigil_core::window::{WindowSpec, split_in_time, training_steps};
use vigil_model::config::TrainingConfig;
use vigil_model::dir::check_writable;
use vigil_model::metrics::{DataSpec, ModelDir, Validation};
use vigil_model::{networks, scoring};

/// Why training did not produce a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] vigil_core::Error),
    /// A bad training configuration, or a model directory that cannot be written.
    #[error(transparent)]
    Model(#[from] vigil_model::Error),
    #[error("{path}: nothing to learn from: {detail}")]
    NoSessions { path: PathBuf, detail: String },
    /// Sessions that a log model cannot be trained on (no events, too many templates).
    #[error("training config: {0}")]
    Sessions(String),
    #[error(
        "{path}: too little data: {windows} training and {valid} validation windows of {span} steps (the longest series has {steps} steps); use a shorter --window or more data"
    )]
    TooShort {
        path: PathBuf,
        windows: usize,
        valid: usize,
        span: usize,
        steps: usize,
    },
}

/// A metrics training run.
pub struct MetricsJob<'a> {
    pub input: &'a Path,
    pub model_dir: &'a Path,
    pub read: ReadOptions,
    pub config: TrainingConfig,
    pub force: bool,
}

/// What a run produced.
pub struct Trained {
    pub model: ModelDir,
    pub read_report: vigil_core::series::ReadReport,
}

/// Trains on `job.input` and writes `job.model_dir`.
pub fn train_metrics(job: &MetricsJob, progress: &mut dyn Progress) -> Result<Trained, Error> {
    job.config.check()?;
    check_writable(job.model_dir, job.force)?;
    let table = read_table(job.input, &job.read)?;
    let read_report = table.report.clone();
    let model = train_table(table, &job.config, progress).map_err(|e| match e {
        Error::TooShort {
            windows,
            valid,
            span,
            steps,
            ..
        } => Error::TooShort {
            path: job.input.to_path_buf(),
            windows,
            valid,
            span,
            steps,
        },
        e => e,
    })?;
    model.save(job.model_dir, job.force, |path| {
        draw_losses(path, &model.history)
    })?;
    Ok(Trained { model, read_report })
}

/// Trains on a table already in memory (the NAB evaluation trains one model per file)
/// and returns the model without writing it.
pub fn train_table(
    table: Table,
    config: &TrainingConfig,
    progress: &mut dyn Progress,
) -> Result<ModelDir, Error> {
    config.check()?;
    let spec = WindowSpec {
        length: config.window,
        stride: config.stride,
        horizon: config.model.horizon(),
    };
    let baseline = fit_baseline(&table, 1.0 - config.validation_fraction);
    let data = WindowData::new(table, spec, config.validation_fraction);
    if data.train.is_empty() || data.valid.is_empty() {
        let steps = data
            .table
            .series
            .iter()
            .map(|s| s.segments.iter().map(|g| g.len()).sum::<usize>())
            .max()
            .unwrap_or(0);
        return Err(Error::TooShort {
            path: PathBuf::from("(table)"),
            windows: data.train.len(),
            valid: data.valid.len(),
            span: spec.span(),
            steps,
        });
    }
    let (network, mut history) = train(config, &data, progress);
    let device = config.backend.device();
    let scores = score(&network, &data, &data.valid, &device);
    history.best_valid =
        scores.iter().map(|s| f64::from(s.total)).sum::<f64>() / scores.len().max(1) as f64;
    let validation = validation_points(&network, &data, &baseline, config, &device);
    Ok(ModelDir {
        config: config.clone(),
        data: DataSpec {
            columns: data.table.columns.clone(),
            time_column: data.table.time_column.clone(),
            group_column: data.table.group_column.clone(),
            step: data.table.step,
            scaler: data.scaler.clone(),
            window: spec,
        },
        validation,
        baseline,
        history,
        network,
    })
}

/// The per-hour z-score baseline, fitted on the training side of each series' cut.
fn fit_baseline(table: &Table, train_fraction: f64) -> HourProfile {
    let w = table.width();
    let mut fit = HourProfileFit::new(w);
    for (series, seg, i) in training_steps(table, train_fraction) {
        if !seg.filled[i] {
            let time = seg.start + i as i64 * table.step;
            fit.push(&series.group, time, &seg.values[i * w..(i + 1) * w]);
        }
    }
    fit.finish()
}

/// Every validation point scored the way the detector scores (one window per point,
/// stride 1), by the model and by the baseline: what thresholds are calibrated on.
/// Interpolated points are left out; runs of consecutive points are recorded so the
/// detector can smooth them as it smooths new data.
fn validation_points(
    net: &networks::Network,
    data: &WindowData,
    baseline: &HourProfile,
    config: &TrainingConfig,
    device: &burn::prelude::Device,
) -> Validation {
    let spec = WindowSpec {
        stride: 1,
        ..data.spec
    };
    let (_, windows) = split_in_time(&data.table, &spec, 1.0 - config.validation_fraction);
    let target = scoring::rows_needed(&spec) - 1;
    let w = data.width();
    let step = data.table.step;
    let real: Vec<_> = windows
        .into_iter()
        .filter(|r| !data.table.series[r.series].segments[r.segment].filled[r.start + target])
        .collect();
    let mut model_errors = Vec::with_capacity(real.len() * w);
    for chunk in real.chunks(512) {
        model_errors.extend(scoring::point_errors(net, &data.batch(chunk, device)));
    }
    let mut baseline_errors = vec![0f32; real.len() * w];
    let mut runs: Vec<usize> = Vec::new();
    let mut raw = vec![0f32; w];
    let mut previous: Option<vigil_core::window::WindowRef> = None;
    for (r, out) in real.iter().zip(baseline_errors.chunks_exact_mut(w.max(1))) {
        let series = &data.table.series[r.series];
        let seg = &series.segments[r.segment];
        let row = r.start + target;
        raw.copy_from_slice(&seg.values[row * w..(row + 1) * w]);
        data.scaler.inverse(&mut raw);
        baseline.z2(&series.group, seg.start + row as i64 * step, &raw, out);
        let follows = previous.is_some_and(|p| {
            p.series == r.series && p.segment == r.segment && p.start + 1 == r.start
        });
        match runs.last_mut() {
            Some(n) if follows => *n += 1,
            _ => runs.push(1),
        }
        previous = Some(*r);
    }
    Validation {
        points: real.len(),
        runs,
        column_means: column_means(&model_errors, w),
        baseline_column_means: column_means(&baseline_errors, w),
        model_errors,
        baseline_errors,
    }
}

fn draw_losses(path: &Path, h: &History) -> Result<(), vigil_plot::PlotError> {
    let curve = |f: fn(&training::EpochLoss) -> f64| {
        h.epochs.iter().map(|e| (e.epoch as f64, f(e))).collect()
    };
    let mut series = vec![
        ("train".to_string(), curve(|e| e.train)),
        ("validation".to_string(), curve(|e| e.valid)),
    ];
    let last = h.epochs.len().max(1) as f64;
    series.push((
        "baseline: window mean".to_string(),
        vec![
            (1.0, h.baseline_window_mean),
            (last, h.baseline_window_mean),
        ],
    ));
    if let Some(b) = h.baseline_last_value {
        series.push((
            "baseline: last value".to_string(),
            vec![(1.0, b), (last, b)],
        ));
    }
    vigil_plot::render_lines(
        path,
        "training and validation loss",
        "epoch",
        "mean squared error (scaled)",
        &series,
        vigil_plot::Scale::Log,
        Some((
            h.best_epoch as f64,
            format!("best epoch ({})", h.best_epoch),
        )),
    )
}
