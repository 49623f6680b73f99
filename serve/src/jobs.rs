//! Training jobs: queued behind a bound on concurrent trainings, run on the blocking pool
//! with the trainer's own library calls, observable while they run (state, epoch losses),
//! drained or cleanly failed at shutdown. A model appears in the store only whole: the
//! trainer writes it under a temporary name and renames it into place.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use vigil_cli::parsing;
use vigil_cli::train::{LogsSettings, MetricsSettings};
use vigil_model::dir::Task;
use vigil_model::history::EpochLoss;
use vigil_trainer::training::Progress;

use crate::error::Error;
use crate::events::{Event, Events};
use crate::settings;
use crate::telemetry::Telemetry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn finished(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

/// One epoch as training reported it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Epoch {
    pub epoch: usize,
    pub train: f64,
    pub valid: f64,
    /// Whether it was the best validation loss so far (the weights kept).
    pub best: bool,
    pub seconds: f64,
}

/// A training job as `GET /v1/jobs/{id}` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Job {
    pub id: String,
    pub model: String,
    /// `metrics` or `logs`.
    pub task: String,
    pub state: JobState,
    pub created: String,
    pub started: Option<String>,
    pub finished: Option<String>,
    /// Epochs done and the most training may run (early stopping may end sooner).
    pub epochs_done: usize,
    pub max_epochs: usize,
    pub epochs: Vec<Epoch>,
    pub error: Option<String>,
    /// What training reported (validation loss, rows or sessions read, templates).
    #[schema(value_type = Object)]
    pub result: Option<serde_json::Value>,
}

/// What a job trains on and with.
pub enum Spec {
    Metrics(Box<MetricsSettings>),
    Logs(Box<LogsSettings>),
}

/// Finished jobs kept for `GET /v1/jobs`.
const KEEP_FINISHED: usize = 200;

/// The registry of jobs.
pub struct Jobs {
    inner: Mutex<Inner>,
    permits: Arc<Semaphore>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    jobs: BTreeMap<u64, Job>,
    /// Model names a queued or running job will write.
    training: HashSet<String>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_id(id: &str) -> Option<u64> {
    id.strip_prefix("job-")?.parse().ok()
}

impl Jobs {
    pub fn new(max_running: usize) -> Jobs {
        Jobs {
            inner: Mutex::new(Inner::default()),
            permits: Arc::new(Semaphore::new(max_running.max(1))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves `model` for a new job; refused while another job trains it, or when the
    /// model exists and may not be replaced (checked under the same lock, so a job that
    /// finishes meanwhile cannot slip between the two).
    pub fn reserve(
        &self,
        model: &str,
        task: Task,
        max_epochs: usize,
        exists: impl Fn() -> bool,
        force: bool,
    ) -> Result<Job, Error> {
        let mut inner = self.lock();
        if inner.training.contains(model) {
            return Err(Error::Conflict(format!(
                "model {model:?} is being trained by another job"
            )));
        }
        if !force && exists() {
            return Err(Error::Conflict(format!(
                "model {model:?} already exists; pass force=true to replace it"
            )));
        }
        // Finished jobs past the newest KEEP_FINISHED are forgotten.
        let finished: Vec<u64> = inner
            .jobs
            .iter()
            .filter(|(_, j)| j.state.finished())
            .map(|(k, _)| *k)
            .collect();
        for k in finished
            .iter()
            .take(finished.len().saturating_sub(KEEP_FINISHED))
        {
            inner.jobs.remove(k);
        }
        inner.next += 1;
        let id = inner.next;
        let job = Job {
            id: format!("job-{id}"),
            model: model.into(),
            task: task.name().into(),
            state: JobState::Queued,
            created: now(),
            started: None,
            finished: None,
            epochs_done: 0,
            max_epochs,
            epochs: Vec::new(),
            error: None,
            result: None,
        };
        inner.training.insert(model.into());
        inner.jobs.insert(id, job.clone());
        Ok(job)
    }

    /// Forgets a job whose upload failed before it was queued.
    pub fn abandon(&self, id: &str) {
        if let Some(n) = parse_id(id) {
            let mut inner = self.lock();
            if let Some(job) = inner.jobs.remove(&n) {
                inner.training.remove(&job.model);
            }
        }
    }

    pub fn training(&self, model: &str) -> bool {
        self.lock().training.contains(model)
    }

    pub fn get(&self, id: &str) -> Result<Job, Error> {
        parse_id(id)
            .and_then(|n| self.lock().jobs.get(&n).cloned())
            .ok_or_else(|| Error::NotFound {
                what: "job",
                id: id.into(),
            })
    }

    pub fn list(&self) -> Vec<Job> {
        self.lock().jobs.values().rev().cloned().collect()
    }

    /// Counts by state (for `/metrics` and `/readyz`).
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        let queued = inner
            .jobs
            .values()
            .filter(|j| j.state == JobState::Queued)
            .count();
        let running = inner
            .jobs
            .values()
            .filter(|j| j.state == JobState::Running)
            .count();
        (queued, running)
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut Job)) -> Option<Job> {
        let n = parse_id(id)?;
        let mut inner = self.lock();
        let job = inner.jobs.get_mut(&n)?;
        f(job);
        let job = job.clone();
        if job.state.finished() {
            inner.training.remove(&job.model);
        }
        Some(job)
    }
}

/// Everything a job's task needs.
pub struct Run {
    pub jobs: Arc<Jobs>,
    pub events: Events,
    pub telemetry: Arc<Telemetry>,
    pub stopping: CancellationToken,
    pub cancel: CancellationToken,
    pub job: Job,
    pub spec: Spec,
    pub data: PathBuf,
    pub model_dir: PathBuf,
    pub run_dir: PathBuf,
    pub force: bool,
    pub shown: Arc<dyn Fn(&str) -> String + Send + Sync>,
}

fn finish(run: &Run, state: JobState, error: Option<String>, result: Option<serde_json::Value>) {
    if let Some(job) = run.jobs.update(&run.job.id, |j| {
        j.state = state;
        j.finished = Some(now());
        j.error = error;
        j.result = result;
    }) {
        run.telemetry.job_finished(state);
        run.events.send(Event::Job(job));
    }
    let _ = std::fs::remove_dir_all(&run.run_dir);
}

/// Waits for a training slot, trains, records the outcome.
pub async fn execute(run: Run) {
    let permit = tokio::select! {
        biased;
        () = run.stopping.cancelled() => {
            finish(&run, JobState::Cancelled, Some("the service shut down before the job started".into()), None);
            return;
        }
        p = run.jobs.permits.clone().acquire_owned() => p,
    };
    let Ok(_permit) = permit else {
        finish(
            &run,
            JobState::Cancelled,
            Some("the job queue closed".into()),
            None,
        );
        return;
    };
    if let Some(job) = run.jobs.update(&run.job.id, |j| {
        j.state = JobState::Running;
        j.started = Some(now());
    }) {
        run.events.send(Event::Job(job));
    }
    let run = Arc::new(run);
    let worker = {
        let run = run.clone();
        tokio::task::spawn_blocking(move || train(&run))
    };
    tokio::select! {
        outcome = worker => match outcome {
            Ok(Ok(result)) => finish(&run, JobState::Succeeded, None, Some(result)),
            Ok(Err(e)) => finish(&run, JobState::Failed, Some((run.shown)(&e.to_string())), None),
            Err(e) => finish(&run, JobState::Failed, Some(format!("training stopped: {e}")), None),
        },
        () = run.cancel.cancelled() => {
            // The grace period is over (the caller waits it out before cancelling): the
            // training thread dies with the process before its rename, so no model appears.
            finish(&run, JobState::Failed, Some("the service shut down before training finished; no model was written".into()), None);
        }
    }
}

/// Reports each epoch to the job and the event stream.
struct Reporter<'a> {
    run: &'a Run,
}

impl Progress for Reporter<'_> {
    fn epoch(&mut self, total: usize, loss: &EpochLoss, best: bool) {
        if let Some(job) = self.run.jobs.update(&self.run.job.id, |j| {
            j.max_epochs = total;
            j.epochs_done = loss.epoch;
            j.epochs.push(Epoch {
                epoch: loss.epoch,
                train: loss.train,
                valid: loss.valid,
                best,
                seconds: loss.seconds,
            });
        }) {
            self.run.events.send(Event::Job(job));
        }
    }
}

/// The trainer's settings from a request's query pairs (`window=30`, `model_kind=pca`,
/// `no_group=true`): the same flags, checked by the same parser, as `trainer`'s.
pub fn spec(
    task: Task,
    pairs: &[(String, String)],
    config: Option<&PathBuf>,
) -> Result<Spec, Error> {
    let mut flags = settings::flags(pairs)?;
    if let Some(c) = config {
        flags.push(format!("--config={}", c.display()));
    }
    Ok(match task {
        Task::Metrics => Spec::Metrics(Box::new(
            MetricsSettings::from_flags(&flags).map_err(settings::clap_error)?,
        )),
        Task::Logs => Spec::Logs(Box::new(
            LogsSettings::from_flags(&flags).map_err(settings::clap_error)?,
        )),
    })
}

/// The most epochs a spec may run (what a job shows before training reports).
pub fn max_epochs(spec: &Spec) -> Result<usize, Error> {
    Ok(match spec {
        Spec::Metrics(s) => s.resolve().map_err(settings::settings_error)?.0.epochs,
        Spec::Logs(s) => s.deeplog().map_err(settings::settings_error)?.epochs,
    })
}

fn train(run: &Run) -> Result<serde_json::Value, String> {
    let mut progress = Reporter { run };
    match &run.spec {
        Spec::Metrics(s) => {
            let (config, read) = s.resolve().map_err(|e| e.to_string())?;
            let job = vigil_trainer::MetricsJob {
                input: &run.data,
                model_dir: &run.model_dir,
                read,
                config,
                force: run.force,
            };
            let trained =
                vigil_trainer::train_metrics(&job, &mut progress).map_err(|e| e.to_string())?;
            let h = &trained.model.history;
            let r = &trained.read_report;
            Ok(serde_json::json!({
                "model_kind": trained.model.config.model.name(),
                "columns": trained.model.data.columns,
                "step_seconds": trained.model.data.step,
                "best_validation_loss": h.best_valid,
                "best_epoch": h.best_epoch,
                "baseline_window_mean": h.baseline_window_mean,
                "rows": r.rows,
                "skipped_lines": r.skipped_lines,
                "filled_steps": r.filled_steps,
                "merged_rows": r.merged_rows,
            }))
        }
        Spec::Logs(s) => {
            let config = s.deeplog().map_err(|e| e.to_string())?;
            let parsing = parsing(&s.miner, &s.sessions).map_err(|e| e.to_string())?;
            let (model, read) = vigil_trainer::logs::train_logs(
                vigil_trainer::logs::LogsJob {
                    input: vigil_trainer::logs::LogInput::Raw {
                        path: &run.data,
                        parsing: Box::new(parsing),
                    },
                    model_dir: &run.model_dir,
                    config,
                    force: run.force,
                },
                &mut progress,
            )
            .map_err(|e| e.to_string())?;
            let h = &model.history;
            Ok(serde_json::json!({
                "model_kind": "deeplog",
                "sessions": read.sessions,
                "events": read.events,
                "templates": model.vocab.len(),
                "lines": read.lines.as_ref().map(|l| l.lines),
                "skipped_lines": read.lines.as_ref().map(|l| l.skipped()),
                "lines_without_session": read.without_session,
                "format": read.format,
                "best_epoch": h.best_epoch,
                "best_validation_loss": h.epochs.get(h.best_epoch.saturating_sub(1)).map(|e| e.valid),
            }))
        }
    }
}
