//! `vigil serve`: a long-running service over the same model directories, trainer and
//! detector the command-line programs use (no second implementation).
//!
//! - [`api`]: the handlers (models, training jobs, detection, health, `/metrics`) and the
//!   OpenAPI document generated from them;
//! - `upload`: request bodies streamed onto disk (CSV, NDJSON, JSON rows, raw logs,
//!   multipart), counted against the body limit;
//! - `jobs`: training jobs behind a bound on concurrent trainings, on the blocking pool;
//! - `runs`: detections, watched while they run and kept for the dashboard;
//! - `store`: the model store; `settings`: a request's settings as the CLIs' flags;
//! - `events`: server-sent events; `telemetry`: Prometheus counters; `assets`: the
//!   dashboard (uPlot vendored from the npm registry, embedded in the binary).

pub mod api;
mod assets;
pub mod error;
mod events;
mod jobs;
mod runs;
mod settings;
pub mod store;
mod telemetry;
mod upload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::{Error, Problem};

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The model store (created if missing).
    pub store: PathBuf,
    /// The largest request body, bytes (uploads are streamed to disk, never held whole).
    pub max_body: u64,
    /// Training jobs that may run at once; more wait in the queue.
    pub max_jobs: usize,
    /// A request that takes longer is answered 408 (training runs as a job, not a request).
    pub request_timeout: Duration,
    /// How long shutdown waits for running training jobs before failing them.
    pub shutdown_grace: Duration,
    /// Detections kept for the dashboard.
    pub keep_detections: usize,
    /// Rows (all hosts) one detection keeps for charts.
    pub max_series_rows: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            store: PathBuf::from("models"),
            max_body: 1 << 30,
            max_jobs: 1,
            request_timeout: Duration::from_secs(600),
            shutdown_grace: Duration::from_secs(60),
            keep_detections: 20,
            max_series_rows: 2_000_000,
        }
    }
}

/// The service's shared state (behind [`AppState`]).
pub struct Inner {
    pub(crate) config: Config,
    pub(crate) store: store::Store,
    pub(crate) jobs: Arc<jobs::Jobs>,
    pub(crate) runs: runs::Runs,
    pub(crate) models: store::ModelCache,
    pub(crate) events: events::Events,
    pub(crate) telemetry: Arc<telemetry::Telemetry>,
    pub(crate) tracker: TaskTracker,
    /// Shutdown has begun: no new work, queued jobs cancelled, event streams closed.
    pub(crate) stopping: CancellationToken,
    /// The grace period is over: running jobs are failed.
    pub(crate) cancel: CancellationToken,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(config: Config) -> std::io::Result<AppState> {
        let store = store::Store::open(&config.store)?;
        Ok(AppState(Arc::new(Inner {
            jobs: Arc::new(jobs::Jobs::new(config.max_jobs)),
            runs: runs::Runs::new(config.keep_detections, config.max_series_rows),
            models: store::ModelCache::new(8),
            events: events::Events::new(),
            telemetry: Arc::new(telemetry::Telemetry::new()),
            tracker: TaskTracker::new(),
            stopping: CancellationToken::new(),
            cancel: CancellationToken::new(),
            store,
            config,
        })))
    }
}

/// The routes.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let api = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(api::openapi))
        .route("/v1/models", get(api::list_models).post(api::create_model))
        .route(
            "/v1/models/{name}",
            get(api::get_model).delete(api::delete_model),
        )
        .route("/v1/models/{name}/detect", post(api::detect))
        .route("/v1/jobs", get(api::list_jobs))
        .route("/v1/jobs/{id}", get(api::get_job))
        .route("/v1/detections", get(api::list_detections))
        .route("/v1/detections/{id}", get(api::get_detection))
        .route("/v1/detections/{id}/series", get(api::get_series))
        .route("/train", post(api::create_model))
        .route("/analyze_logs", post(api::analyze_logs))
        .merge(assets::routes())
        .fallback(api::not_found)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        // Plain bodies are streamed and counted against `max_body` by the service itself;
        // this bounds what multipart parsing may read (part headers included).
        .layer(DefaultBodyLimit::max(
            usize::try_from(state.config.max_body).unwrap_or(usize::MAX),
        ));
    // Server-sent events stay open: outside the timeout.
    Router::new()
        .route("/v1/events", get(api::events))
        .merge(api)
        .layer(axum::middleware::from_fn(error::as_problem))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            telemetry::track,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves on `listener` until `shutdown` resolves; then stops taking requests, lets
/// running training jobs finish within the grace period and fails the rest (no model is
/// half-written: the trainer renames a finished directory into place).
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let stopping = state.stopping.clone();
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        stopping.cancel();
    })
    .await;
    state.stopping.cancel();
    state.tracker.close();
    if !state.tracker.is_empty() {
        tracing::info!(
            "waiting up to {:?} for training jobs to finish",
            state.config.shutdown_grace
        );
    }
    if tokio::time::timeout(state.config.shutdown_grace, state.tracker.wait())
        .await
        .is_err()
    {
        state.cancel.cancel();
        state.tracker.wait().await;
    }
    served
}
