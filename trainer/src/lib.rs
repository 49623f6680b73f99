//! Vigil's trainer: learns what normal looks like with burn, on the CPU.
//!
//! `train_metrics` reads a metrics table, scales it (scaler fitted on the training part
//! only), cuts windows split in time order, trains the configured network with early
//! stopping and writes a self-checking model directory ([`artifact`]).

pub mod artifact;
pub mod cell;
pub mod config;
pub mod data;
pub mod model;
pub mod nn;
pub mod rng;
pub mod training;

use std::path::{Path, PathBuf};

use artifact::{DataSpec, ModelDir, ModelDirError, Validation, check_writable};
use config::TrainingConfig;
use data::WindowData;
use training::{History, Progress, score, train};
use vigil_core::series::{DataError, ReadOptions, read_table};
use vigil_core::window::WindowSpec;

/// Why training did not produce a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    ModelDir(#[from] ModelDirError),
    #[error("training config: {0}")]
    Config(String),
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
pub fn train_metrics(job: &MetricsJob, progress: &mut dyn Progress) -> Result<Trained, TrainError> {
    job.config.check().map_err(TrainError::Config)?;
    check_writable(job.model_dir, job.force)?;
    let table = read_table(job.input, &job.read)?;
    let read_report = table.report.clone();
    let spec = WindowSpec {
        length: job.config.window,
        stride: job.config.stride,
        horizon: job.config.model.horizon(),
    };
    let data = WindowData::new(table, spec, job.config.validation_fraction);
    if data.train.is_empty() || data.valid.is_empty() {
        let steps = data
            .table
            .series
            .iter()
            .map(|s| s.segments.iter().map(|g| g.len()).sum::<usize>())
            .max()
            .unwrap_or(0);
        return Err(TrainError::TooShort {
            path: job.input.to_path_buf(),
            windows: data.train.len(),
            valid: data.valid.len(),
            span: spec.span(),
            steps,
        });
    }
    let (network, mut history) = train(&job.config, &data, progress);
    let device = job.config.backend.device();
    let scores = score(&network, &data, &data.valid, &device);
    history.best_valid =
        scores.iter().map(|s| f64::from(s.total)).sum::<f64>() / scores.len().max(1) as f64;
    let width = data.width();
    let mut column_means = vec![0f32; width];
    for s in &scores {
        for (c, v) in s.per_column.iter().enumerate() {
            column_means[c] += v / scores.len() as f32;
        }
    }
    let model = ModelDir {
        config: job.config.clone(),
        data: DataSpec {
            columns: data.table.columns.clone(),
            time_column: data.table.time_column.clone(),
            group_column: data.table.group_column.clone(),
            step: data.table.step,
            scaler: data.scaler.clone(),
            window: spec,
        },
        validation: Validation {
            window_scores: scores.iter().map(|s| s.total).collect(),
            column_means,
        },
        history,
        network,
    };
    model.save(job.model_dir, job.force, |path| {
        draw_losses(path, &model.history)
    })?;
    Ok(Trained { model, read_report })
}

fn draw_losses(path: &Path, h: &History) -> Result<(), String> {
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
        true,
        Some((
            h.best_epoch as f64,
            format!("best epoch ({})", h.best_epoch),
        )),
    )
    .map_err(|e| e.to_string())
}
