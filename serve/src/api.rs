//! The HTTP handlers and the OpenAPI document generated from them.

use std::path::Path;
use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_detector::args::DecisionArgs;
use vigil_detector::detect::Options;
use vigil_model::dir::Task;

use crate::AppState;
use crate::error::{Error, Problem};
use crate::jobs::{self, Job};
use crate::runs::{self, DetectionView, Finished, Progress, SeriesView, Watch};
use crate::settings;
use crate::store::{ModelInfo, Unusable, check_name};
use crate::upload::{self, Upload};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vigil",
        description = "Anomalies in server metrics and logs: train models, detect, watch."
    ),
    paths(
        healthz,
        readyz,
        list_models,
        get_model,
        delete_model,
        create_model,
        list_jobs,
        get_job,
        detect,
        list_detections,
        get_detection,
        get_series
    ),
    components(schemas(
        Problem,
        ModelInfo,
        Unusable,
        Models,
        Job,
        jobs::Epoch,
        jobs::JobState,
        DetectionView,
        runs::AnomalyView,
        runs::HostView,
        runs::SessionView,
        runs::RunState,
        Progress,
        SeriesView,
        Health
    ))
)]
pub struct ApiDoc;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        detail: None,
    })
}

/// The service can take work: its store is writable and it is not shutting down.
#[utoipa::path(get, path = "/readyz", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let probe = state.store.runs().join(".ready-probe");
    let writable = std::fs::write(&probe, b"ok").is_ok();
    let _ = std::fs::remove_file(&probe);
    let (status, detail) = if state.stopping.is_cancelled() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("shutting down".into()),
        )
    } else if !writable {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(format!(
                "the store {} is not writable",
                state.store.root().display()
            )),
        )
    } else {
        (StatusCode::OK, None)
    };
    let s = if status == StatusCode::OK {
        "ok"
    } else {
        "unavailable"
    };
    (
        status,
        Json(Health {
            status: s.into(),
            detail,
        }),
    )
        .into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let (queued, running) = state.jobs.counts();
    state.telemetry.jobs_queued.set(queued as i64);
    state.telemetry.jobs_running.set(running as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.telemetry.render(),
    )
        .into_response()
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Models {
    pub models: Vec<ModelInfo>,
    /// Directories in the store that are not usable models, and why.
    pub unusable: Vec<Unusable>,
}

/// The models in the store.
#[utoipa::path(get, path = "/v1/models", responses((status = 200, body = Models)))]
pub async fn list_models(State(state): State<AppState>) -> Result<Json<Models>, Error> {
    let (models, unusable) = state.store.list()?;
    Ok(Json(Models { models, unusable }))
}

/// One model's manifest.
#[utoipa::path(get, path = "/v1/models/{name}", params(("name" = String, Path)),
    responses((status = 200, body = ModelInfo), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn get_model(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<ModelInfo>, Error> {
    Ok(Json(state.store.get(&name)?))
}

/// Deletes a model (refused while a job trains it).
#[utoipa::path(delete, path = "/v1/models/{name}", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_model(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<StatusCode, Error> {
    check_name(&name)?;
    if state.jobs.training(&name) {
        return Err(Error::Conflict(format!(
            "model {name:?} is being trained; delete it when the job is done"
        )));
    }
    state.store.delete(&name)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query parameters of `POST /v1/models`: the rest are the trainer's flags.
#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
pub struct TrainParams {
    /// The model's name in the store.
    pub name: String,
    /// `metrics` or `logs` [default: logs for a text/plain body, else metrics].
    pub task: Option<String>,
    /// Replace an existing model.
    pub force: Option<bool>,
}

fn media(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn take(pairs: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let i = pairs.iter().position(|(k, _)| k == key)?;
    Some(pairs.remove(i).1)
}

fn truthy(v: Option<String>, key: &str) -> Result<bool, Error> {
    match v.as_deref() {
        None | Some("false") => Ok(false),
        Some("" | "true") => Ok(true),
        Some(other) => Err(Error::BadRequest {
            detail: format!("{key} is true or false"),
            field: Some(key.into()),
            value: Some(other.into()),
        }),
    }
}

fn parse_task(v: &str) -> Result<Task, Error> {
    match v {
        "metrics" => Ok(Task::Metrics),
        "logs" => Ok(Task::Logs),
        other => Err(Error::BadRequest {
            detail: "task is metrics or logs".into(),
            field: Some("task".into()),
            value: Some(other.into()),
        }),
    }
}

async fn save(state: &AppState, req: Request, task: Task, dir: &Path) -> Result<Upload, Error> {
    let m = media(req.headers());
    let limit = state.config.max_body;
    if let Some(n) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && n > limit
    {
        upload::drain(req.into_body()).await;
        return Err(Error::TooLarge { limit });
    }
    if m.starts_with("multipart/form-data") {
        let form = Multipart::from_request(req, state)
            .await
            .map_err(|e| Error::bad(e.body_text(), "content-type"))?;
        upload::save_multipart(form, task, dir, limit).await
    } else {
        upload::save_body(req.into_body(), &m, task, dir, limit).await
    }
}

/// Starts training a model from uploaded data (`202`, `Location: /v1/jobs/{id}`). The
/// query holds the name, the task and any of the trainer's settings as its flags
/// (`epochs=5`, `model_kind=pca`, `format=...`); a multipart `config` part is the
/// trainer's TOML config.
#[utoipa::path(post, path = "/v1/models", params(TrainParams),
    request_body(content(("text/csv"), ("application/x-ndjson"), ("application/json"), ("text/plain"), ("multipart/form-data")), description = "The training data"),
    responses((status = 202, body = Job), (status = 400, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem)))]
pub async fn create_model(
    State(state): State<AppState>,
    Query(mut pairs): Query<Vec<(String, String)>>,
    req: Request,
) -> Result<Response, Error> {
    if state.stopping.is_cancelled() {
        return Err(Error::Unavailable("the service is shutting down".into()));
    }
    let name = take(&mut pairs, "name")
        .ok_or_else(|| Error::bad("give the model a name: ?name=…", "name"))?;
    check_name(&name)?;
    let force = truthy(take(&mut pairs, "force"), "force")?;
    let task = match take(&mut pairs, "task") {
        Some(t) => parse_task(&t)?,
        None if media(req.headers()).starts_with("text/plain") => Task::Logs,
        None => Task::Metrics,
    };
    // Settings are checked before the upload is read.
    let spec = jobs::spec(task, &pairs, None)?;
    let max_epochs = jobs::max_epochs(&spec)?;
    let model_dir = state.store.path(&name);
    let job = state
        .jobs
        .reserve(&name, task, max_epochs, || model_dir.exists(), force)?;
    let run_dir = state.store.runs().join(&job.id);
    // Released if the request ends (an error, a dropped connection, a timeout) before the
    // job is handed to its task.
    let mut reservation = Reservation {
        jobs: &state.jobs,
        id: &job.id,
        dir: &run_dir,
        kept: false,
    };
    std::fs::create_dir_all(&run_dir).map_err(Error::internal)?;
    let upload = save(&state, req, task, &run_dir).await?;
    let spec = match &upload.config {
        Some(c) => {
            let spec = jobs::spec(task, &pairs, Some(&c.path))?;
            jobs::max_epochs(&spec).map_err(|e| {
                let text = e
                    .to_string()
                    .replace(&c.path.display().to_string(), &c.shown);
                Error::bad(state.store.shown(&text), "config")
            })?;
            spec
        }
        None => spec,
    };
    if state.stopping.is_cancelled() {
        return Err(Error::Unavailable("the service is shutting down".into()));
    }
    let data = upload.data.expect("saved data");
    let shown_path = data.path.display().to_string();
    let shown_name = data.shown.clone();
    let store = state.store.clone();
    let run = jobs::Run {
        jobs: state.jobs.clone(),
        events: state.events.clone(),
        telemetry: state.telemetry.clone(),
        stopping: state.stopping.clone(),
        cancel: state.cancel.clone(),
        job: job.clone(),
        spec,
        data: data.path,
        model_dir,
        run_dir: run_dir.clone(),
        force,
        shown: Arc::new(move |m: &str| store.shown(&m.replace(&shown_path, &shown_name))),
    };
    reservation.kept = true;
    drop(reservation);
    state.tracker.spawn(jobs::execute(run));
    let location = format!("/v1/jobs/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(job),
    )
        .into_response())
}

/// A job reserved by a request, forgotten (with its upload) unless the request hands it on.
struct Reservation<'a> {
    jobs: &'a jobs::Jobs,
    id: &'a str,
    dir: &'a Path,
    kept: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.jobs.abandon(self.id);
            let _ = std::fs::remove_dir_all(self.dir);
        }
    }
}

/// Training jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", responses((status = 200, body = [Job])))]
pub async fn list_jobs(State(state): State<AppState>) -> Json<Vec<Job>> {
    Json(state.jobs.list())
}

/// A training job: state, epochs and their losses, error.
#[utoipa::path(get, path = "/v1/jobs/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 404, body = Problem)))]
pub async fn get_job(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Job>, Error> {
    Ok(Json(state.jobs.get(&id)?))
}

#[derive(Debug, Clone, Parser)]
#[command(no_binary_name = true)]
struct MetricsDetectFlags {
    #[command(flatten)]
    decision: DecisionArgs,
    /// Skip (and count) malformed lines instead of failing.
    #[arg(long)]
    skip_bad_lines: bool,
    /// Score hosts the model never saw.
    #[arg(long)]
    allow_new_hosts: bool,
}

#[derive(Debug, Clone, Parser)]
#[command(no_binary_name = true)]
struct LogsDetectFlags {
    /// Overrides the model's g.
    #[arg(long)]
    top_g: Option<usize>,
}

/// Query parameters of the detect call besides the detector's flags.
#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
pub struct DetectParams {
    /// Logs: `all` lists every judged session, not only the anomalous ones.
    pub sessions: Option<String>,
}

/// Scores uploaded metric rows or log lines with a model; with a multipart `labels`
/// part, evaluates as `detector` does. The query takes the detector's flags
/// (`threshold=pot`, `q=0.001`, `top_g=12`, `skip_bad_lines=true`).
#[utoipa::path(post, path = "/v1/models/{name}/detect", params(("name" = String, Path), DetectParams),
    request_body(content(("text/csv"), ("application/x-ndjson"), ("application/json"), ("text/plain"), ("multipart/form-data")), description = "The data to score"),
    responses((status = 200, body = DetectionView), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn detect(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    Query(mut pairs): Query<Vec<(String, String)>>,
    req: Request,
) -> Result<Json<DetectionView>, Error> {
    let all_sessions = take(&mut pairs, "sessions").as_deref() == Some("all");
    let task = state.store.task(&name)?;
    let flags = settings::flags(&pairs)?;
    let m = media(req.headers());
    if !m.starts_with("multipart/form-data") && upload::Encoding::of(&m, task).is_none() {
        return Err(Error::UnsupportedType {
            found: m,
            expected: upload::Encoding::expected(task).into(),
        });
    }
    enum Plan {
        Metrics(Box<Options>),
        Logs(Option<usize>),
    }
    let plan = match task {
        Task::Metrics => {
            let f = MetricsDetectFlags::try_parse_from(&flags).map_err(settings::clap_error)?;
            let options = Options {
                bad_lines: if f.skip_bad_lines {
                    vigil_core::series::BadLines::Skip
                } else {
                    vigil_core::series::BadLines::Fail
                },
                allow_new_hosts: f.allow_new_hosts,
                ..f.decision
                    .apply(Options::default())
                    .map_err(|e| Error::BadRequest {
                        detail: e.to_string(),
                        field: None,
                        value: None,
                    })?
            };
            Plan::Metrics(Box::new(options))
        }
        Task::Logs => Plan::Logs(
            LogsDetectFlags::try_parse_from(&flags)
                .map_err(settings::clap_error)?
                .top_g,
        ),
    };
    let model_dir = state.store.path(&name);
    // The metrics model, loaded (or reused) once: its columns for the charts and the
    // network the detector scores with are the same.
    let loaded = match task {
        Task::Metrics => {
            let cache = state.clone();
            let (n, dir) = (name.clone(), model_dir.clone());
            let model = tokio::task::spawn_blocking(move || cache.models.get(&n, &dir))
                .await
                .map_err(Error::internal)?
                .map_err(|e| Error::Conflict(state.store.shown(&e.to_string())))?;
            Some(model)
        }
        Task::Logs => None,
    };
    let columns = loaded
        .as_ref()
        .map_or_else(Vec::new, |m| m.data.columns.clone());
    let d = state
        .runs
        .start(&state.store.runs(), &name, task.name(), columns)?;
    // Failed if the request ends before the detection does (a dropped connection).
    let mut pending = Pending {
        d: &d,
        events: &state.events,
        done: false,
    };
    let dir = runs::lock_dir(&d);
    let upload = save(&state, req, task, &dir).await?;
    let data = upload.data.clone().expect("saved data");
    let labels = upload.labels.clone();
    let shown = {
        let store = state.store.clone();
        let data = data.clone();
        let labels = labels.clone();
        move |m: &str| {
            let mut m = m.replace(&data.path.display().to_string(), &data.shown);
            if let Some(l) = &labels {
                m = m.replace(&l.path.display().to_string(), &l.shown);
            }
            store.shown(&m)
        }
    };
    let worker = {
        let d = d.clone();
        let events = state.events.clone();
        let telemetry = state.telemetry.clone();
        let max_rows = state.runs.max_series_rows;
        let out = dir.join("out");
        tokio::task::spawn_blocking(move || -> Result<Finished, vigil_detector::Error> {
            match plan {
                Plan::Metrics(options) => {
                    let mut watch = Watch::new(d, events, telemetry, max_rows);
                    let model = loaded.expect("a metrics model was loaded");
                    let summary = vigil_detector::detect_metrics_loaded(
                        &vigil_detector::MetricsJob {
                            input: &data.path,
                            model_dir: &model_dir,
                            out: &out,
                            options: *options,
                            labels: labels.as_ref().map(|l| l.path.as_path()),
                            charts: None,
                        },
                        &model,
                        &mut watch,
                        std::time::Instant::now(),
                    )?;
                    Ok(Finished {
                        seconds: summary.seconds,
                        threshold: Some(summary.calibration.model.value as f32),
                        evaluation: summary
                            .evaluation
                            .as_ref()
                            .and_then(|e| serde_json::to_value(e).ok()),
                        summary: serde_json::to_value(&summary).unwrap_or_default(),
                        sessions: None,
                    })
                }
                Plan::Logs(top_g) => {
                    let summary =
                        vigil_detector::logs::detect_logs(&vigil_detector::logs::LogsJob {
                            input: vigil_detector::logs::LogsInput::Raw(&data.path),
                            model_dir: &model_dir,
                            out: &out,
                            labels: labels.as_ref().map(|l| l.path.as_path()),
                            top_g,
                            filter: None,
                            bad_lines: vigil_core::series::BadLines::Fail,
                        })?;
                    let sessions = runs::session_views(vigil_detector::logs::read_sessions(
                        &out.join("sessions.csv"),
                    )?);
                    telemetry.sessions_judged.inc_by(sessions.len() as u64);
                    telemetry
                        .anomalous_sessions
                        .inc_by(sessions.iter().filter(|s| s.anomalous).count() as u64);
                    Ok(Finished {
                        seconds: summary.seconds,
                        threshold: None,
                        evaluation: summary
                            .evaluation
                            .as_ref()
                            .and_then(|e| serde_json::to_value(e).ok()),
                        summary: serde_json::to_value(&summary).unwrap_or_default(),
                        sessions: Some(sessions),
                    })
                }
            }
        })
    };
    let outcome = worker.await.map_err(Error::internal)?;
    pending.done = true;
    match outcome {
        Ok(f) => {
            runs::finish(&d, &state.events, Ok(f));
            let _ = std::fs::remove_file(dir.join(upload::data_file(task)));
            Ok(Json(runs::view(&d, all_sessions)))
        }
        Err(e) => {
            let err = detector_error(e, &shown);
            runs::finish(&d, &state.events, Err(err.to_string()));
            Err(err)
        }
    }
}

/// A detection a request is running, failed if the request ends first.
struct Pending<'a> {
    d: &'a runs::Shared,
    events: &'a crate::events::Events,
    done: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.done {
            runs::finish(
                self.d,
                self.events,
                Err("the request ended before the detection finished".into()),
            );
        }
    }
}

/// A detector error as a problem: the uploaded data at fault is 422 with its line; a
/// flag out of range 400; a model that cannot be used 409.
fn detector_error(e: vigil_detector::Error, shown: &dyn Fn(&str) -> String) -> Error {
    use vigil_core::Error as Core;
    use vigil_detector::Error as D;
    let detail = shown(&e.to_string());
    match e {
        D::Core(Core::Line { line, .. }) => Error::BadData {
            detail,
            line: Some(line),
        },
        D::Core(
            Core::File { .. }
            | Core::MissingColumn { .. }
            | Core::Form { .. }
            | Core::BadTimestamp(_)
            | Core::Session(_),
        )
        | D::Read { .. } => Error::BadData { detail, line: None },
        D::Option { flag, .. } => Error::BadRequest {
            detail,
            field: Some(flag.trim_start_matches('-').replace('-', "_")),
            value: None,
        },
        D::Model(_) | D::Calibration { .. } => Error::Conflict(detail),
        _ => Error::Internal(detail),
    }
}

/// Recent detections, newest first.
#[utoipa::path(get, path = "/v1/detections", responses((status = 200, body = [Progress])))]
pub async fn list_detections(State(state): State<AppState>) -> Json<Vec<Progress>> {
    Json(state.runs.list())
}

/// A detection: hosts, anomalies with explanations, judged sessions, evaluation.
#[utoipa::path(get, path = "/v1/detections/{id}", params(("id" = String, Path), DetectParams),
    responses((status = 200, body = DetectionView), (status = 404, body = Problem)))]
pub async fn get_detection(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    Query(p): Query<DetectParams>,
) -> Result<Json<DetectionView>, Error> {
    let d = state.runs.get(&id)?;
    Ok(Json(runs::view(&d, p.sessions.as_deref() == Some("all"))))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SeriesParams {
    /// The host (the group column's value; empty for a file read as one series).
    pub host: String,
    /// Thin to at most this many rows (the highest score of each stretch kept) [default: 20000].
    pub max_points: Option<usize>,
}

/// One host's metrics, scores and anomalies in a detection, for charts.
#[utoipa::path(get, path = "/v1/detections/{id}/series", params(("id" = String, Path), SeriesParams),
    responses((status = 200, body = SeriesView), (status = 404, body = Problem)))]
pub async fn get_series(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    Query(p): Query<SeriesParams>,
) -> Result<Json<SeriesView>, Error> {
    let d = state.runs.get(&id)?;
    Ok(Json(runs::series(
        &d,
        &p.host,
        p.max_points.unwrap_or(20_000),
    )?))
}

pub async fn events(State(state): State<AppState>) -> impl IntoResponse {
    state.events.stream(state.stopping.clone())
}

/// Unknown routes answer a problem document too.
pub async fn not_found(req: Request) -> Error {
    Error::NotFound {
        what: "route",
        id: req.uri().path().to_string(),
    }
}

/// The original tool's `POST /analyze_logs?model=NAME`: the detect call on a log model.
pub async fn analyze_logs(
    state: State<AppState>,
    Query(mut pairs): Query<Vec<(String, String)>>,
    req: Request,
) -> Result<Json<DetectionView>, Error> {
    let name = take(&mut pairs, "model")
        .ok_or_else(|| Error::bad("name the log model: ?model=…", "model"))?;
    detect(state, UrlPath(name), Query(pairs), req).await
}
