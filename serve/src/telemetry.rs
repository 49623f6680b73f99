//! The service's own counters, exposed at `GET /metrics` in Prometheus' text format.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::jobs::JobState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

pub struct Telemetry {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pub rows_scored: Counter,
    pub anomalies: Counter,
    pub sessions_judged: Counter,
    pub anomalous_sessions: Counter,
    jobs: Family<StateLabels, Counter>,
    pub jobs_queued: Gauge,
    pub jobs_running: Gauge,
}

impl Telemetry {
    pub fn new() -> Telemetry {
        let mut registry = Registry::with_prefix("vigil");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 18))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route",
            latency.clone(),
        );
        let rows_scored = Counter::default();
        registry.register("rows_scored", "Metric rows scored", rows_scored.clone());
        let anomalies = Counter::default();
        registry.register(
            "anomalies_raised",
            "Metric anomalies raised",
            anomalies.clone(),
        );
        let sessions_judged = Counter::default();
        registry.register(
            "sessions_judged",
            "Log sessions judged",
            sessions_judged.clone(),
        );
        let anomalous_sessions = Counter::default();
        registry.register(
            "anomalous_sessions",
            "Log sessions judged anomalous",
            anomalous_sessions.clone(),
        );
        let jobs = Family::<StateLabels, Counter>::default();
        registry.register(
            "jobs_finished",
            "Training jobs finished, by state",
            jobs.clone(),
        );
        let jobs_queued = Gauge::default();
        registry.register(
            "jobs_queued",
            "Training jobs waiting for a slot",
            jobs_queued.clone(),
        );
        let jobs_running = Gauge::default();
        registry.register(
            "jobs_running",
            "Training jobs running",
            jobs_running.clone(),
        );
        Telemetry {
            registry,
            requests,
            latency,
            rows_scored,
            anomalies,
            sessions_judged,
            anomalous_sessions,
            jobs,
            jobs_queued,
            jobs_running,
        }
    }

    pub fn job_finished(&self, state: JobState) {
        self.jobs
            .get_or_create(&StateLabels {
                state: state.name().into(),
            })
            .inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Telemetry {
    fn default() -> Telemetry {
        Telemetry::new()
    }
}

/// Counts and times every request by its route template (`/v1/models/{name}`), never by
/// its raw path, so the label set stays bounded.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    // Bounded label values: the methods the API uses, anything else as `other`.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "DELETE" | "HEAD" | "PUT" | "OPTIONS") => m.to_string(),
        _ => "other".to_string(),
    };
    let started = Instant::now();
    let response = next.run(req).await;
    let t = &state.telemetry;
    t.requests
        .get_or_create(&RequestLabels {
            method,
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    t.latency
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}
