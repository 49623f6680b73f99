//! Vigil's detector: scores new data against a trained model, decides what is anomalous
//! with a calibrated threshold, explains it, draws it and, where labels exist, evaluates it.
//!
//! - [`detect`]: the streaming scorer and alarm logic;
//! - [`args`]: the decision flags `detector metrics` and `vigil-bench nab` share;
//! - [`explain`]: sentences derived from an anomalous stretch's data;
//! - [`output`]: `scores.csv` and `anomalies.csv`;
//! - [`eval`]: point-wise and event-wise evaluation against labels, model beside baseline;
//! - [`charts`]: the error histogram, per host and month metrics with anomalies shaded, and
//!   the score coloured by its top metric.
//! - [`logs`]: `detector parse` (Drain templates of a log) and log sessions judged by a
//!   DeepLog model beside the unseen-template baseline (`detector logs`).
//!
//! The detector never trains: it reads model directories through `vigil-model`.

pub mod args;
pub mod charts;
pub mod detect;
mod error;
pub mod eval;
pub mod explain;
pub mod logs;
pub mod output;

use std::path::{Path, PathBuf};

use serde::Serialize;

use detect::{Calibration, Detector, Options, Report, calibrate};
pub use error::Error;
use output::{AnomaliesCsv, Fanout, ScoresCsv};
use vigil_model::ModelDir;

/// A `detector metrics` run.
pub struct MetricsJob<'a> {
    pub input: &'a Path,
    pub model_dir: &'a Path,
    pub out: &'a Path,
    pub options: Options,
    /// Labels to evaluate against (intervals or per-row 0/1).
    pub labels: Option<&'a Path>,
    /// Charts into `out/charts/`, or none.
    pub charts: Option<charts::ChartOptions>,
}

/// What a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub input: PathBuf,
    pub model: PathBuf,
    pub model_kind: String,
    pub options: Options,
    pub calibration: Calibration,
    pub report: Report,
    pub seconds: f64,
    pub points_per_second: f64,
    pub evaluation: Option<eval::Evaluation>,
    /// Chart files written (relative to the output folder).
    pub charts: Vec<PathBuf>,
    /// Hosts without charts of their own (past `ChartOptions::max_hosts`).
    pub hosts_without_charts: usize,
}

/// Scores `job.input` with the model in `job.model_dir` and writes `scores.csv` and
/// `anomalies.csv` into `job.out`.
pub fn detect_metrics(job: &MetricsJob) -> Result<Summary, Error> {
    detect_metrics_with(job, &mut output::Discard)
}

/// [`detect_metrics`], every decided row and anomaly also handed to `watch` (the service's
/// live view) as the files get them.
pub fn detect_metrics_with(
    job: &MetricsJob,
    watch: &mut dyn detect::Sink,
) -> Result<Summary, Error> {
    let started = std::time::Instant::now();
    let model = ModelDir::load(job.model_dir)?;
    detect_metrics_loaded(job, &model, watch, started)
}

/// [`detect_metrics_with`] with the model already loaded from `job.model_dir` (the
/// service keeps loaded models); `started` is when the run's clock starts.
pub fn detect_metrics_loaded(
    job: &MetricsJob,
    model: &ModelDir,
    watch: &mut dyn detect::Sink,
    started: std::time::Instant,
) -> Result<Summary, Error> {
    let calibration = calibrate(model, &job.options)?;
    std::fs::create_dir_all(job.out).map_err(|source| Error::OutDir {
        path: job.out.to_path_buf(),
        source,
    })?;
    let mut scores = ScoresCsv::create(
        &job.out.join("scores.csv"),
        &model.data.columns,
        calibration.model.value,
        calibration.baseline.value,
    )?;
    let mut anomalies = AnomaliesCsv::create(&job.out.join("anomalies.csv"), 100_000)?;
    let labels = job.labels.map(eval::read_intervals).transpose()?;
    let mut chart_sink = job.charts.clone().map(|options| {
        let v = &model.validation;
        let validation = vigil_core::score::smoothed_scores(
            &v.model_errors,
            model.data.columns.len(),
            &v.column_means,
            &v.runs,
            job.options.smooth,
        );
        charts::ChartSink::new(
            &model.data.columns,
            model.data.step,
            calibration.model.value,
            &validation,
            options,
        )
    });
    let mut evaluator = labels.clone().map(eval::Evaluator::new);
    let mut detector = Detector::new(model, &job.options, &calibration)?;
    let mut sinks: Vec<&mut dyn detect::Sink> = vec![&mut scores, &mut anomalies, watch];
    if let Some(e) = evaluator.as_mut() {
        sinks.push(e);
    }
    if let Some(c) = chart_sink.as_mut() {
        sinks.push(c);
    }
    detector.run_file(job.input, &mut Fanout(sinks))?;
    scores.commit()?;
    anomalies.commit()?;
    let evaluation = evaluator.map(eval::Evaluator::finish);
    if let Some(e) = &evaluation {
        write_evaluation(job.out, e, model.config.model.name())?;
    }
    let (charts, hosts_without_charts) = match &chart_sink {
        Some(sink) => {
            let files = sink.render(&job.out.join("charts"), labels.as_deref().unwrap_or(&[]))?;
            let relative = files
                .iter()
                .map(|f| f.strip_prefix(job.out).unwrap_or(f).to_path_buf())
                .collect();
            (relative, sink.hosts_left_out)
        }
        None => (Vec::new(), 0),
    };
    let seconds = started.elapsed().as_secs_f64();
    let report = detector.report.clone();
    let summary = Summary {
        input: job.input.to_path_buf(),
        model: job.model_dir.to_path_buf(),
        model_kind: model.config.model.name().to_string(),
        options: job.options.clone(),
        calibration,
        points_per_second: report.rows as f64 / seconds.max(1e-9),
        report,
        seconds,
        evaluation,
        charts,
        hosts_without_charts,
    };
    write_json(&job.out.join("summary.json"), &summary)?;
    Ok(summary)
}

/// Writes `evaluation.json` and `evaluation.txt` into `out`.
pub fn write_evaluation(out: &Path, e: &eval::Evaluation, model_name: &str) -> Result<(), Error> {
    write_json(&out.join("evaluation.json"), e)?;
    let path = out.join("evaluation.txt");
    vigil_core::io::write_atomic(&path, eval::render(e, model_name).as_bytes()).map_err(|e| {
        Error::Output {
            path,
            message: e.to_string(),
        }
    })
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    vigil_core::io::write_json(path, value).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

pub(crate) fn write_text(path: &Path, text: &str) -> Result<(), Error> {
    vigil_core::io::write_atomic(path, text.as_bytes()).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
