//! Detection runs: an upload scored by the detector's own library call (`detect_metrics`,
//! `detect_logs`) into a run folder, watched while it runs (rows, anomalies, each host's
//! series for the dashboard) and kept for the dashboard until newer runs push it out.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use utoipa::ToSchema;
use vigil_core::time::rfc3339;
use vigil_detector::detect::{Anomaly, Row, Sink};

use crate::error::Error;
use crate::events::{Event, Events};
use crate::telemetry::Telemetry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
}

/// What a live event says about a detection.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    pub id: String,
    pub model: String,
    pub task: String,
    pub state: RunState,
    pub rows: u64,
    pub anomalies: usize,
    pub sessions: usize,
    pub anomalous_sessions: usize,
}

/// An anomaly as the API shows it (times in RFC 3339).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnomalyView {
    pub host: String,
    pub start: String,
    /// One step after the last point above the threshold.
    pub end: String,
    pub peak_time: String,
    pub peak_score: f32,
    pub threshold: f32,
    pub points: usize,
    pub top_metrics: Vec<String>,
    pub explanation: String,
}

impl AnomalyView {
    fn new(a: &Anomaly) -> AnomalyView {
        AnomalyView {
            host: a.host.clone(),
            start: rfc3339(a.start),
            end: rfc3339(a.end),
            peak_time: rfc3339(a.peak_time),
            peak_score: a.peak_score,
            threshold: a.threshold,
            points: a.points,
            top_metrics: a.top_metrics.clone(),
            explanation: a.explanation.clone(),
        }
    }
}

/// One host at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HostView {
    pub host: String,
    pub rows: u64,
    pub latest_time: Option<String>,
    pub latest_score: Option<f32>,
    pub anomalies: usize,
    /// Whether its last row was anomalous (an anomaly still open at the end of the data).
    pub open: bool,
}

/// A judged log session, as `sessions.csv` has it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    pub session: String,
    pub anomalous: bool,
    pub score: u64,
    pub events: u64,
    pub first_anomalous_line: Option<u64>,
    pub reason: String,
    pub baseline_anomalous: bool,
}

/// A detection as `GET /v1/detections/{id}` and the detect call answer it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DetectionView {
    pub id: String,
    pub model: String,
    pub task: String,
    pub state: RunState,
    pub created: String,
    pub seconds: Option<f64>,
    pub rows: u64,
    pub threshold: Option<f32>,
    pub hosts: Vec<HostView>,
    pub anomalies: Vec<AnomalyView>,
    /// Logs: the anomalous sessions (all sessions with `?sessions=all`).
    pub sessions: Vec<SessionView>,
    pub sessions_judged: usize,
    pub anomalous_sessions: usize,
    /// The detector's `summary.json`.
    #[schema(value_type = Object)]
    pub summary: Option<serde_json::Value>,
    /// With labels: the detector's evaluation (model beside baseline).
    #[schema(value_type = Object)]
    pub evaluation: Option<serde_json::Value>,
    pub error: Option<String>,
    /// Whether series past the memory bound were left out of the dashboard's charts.
    pub series_truncated: bool,
}

/// One host's decided rows, for charts.
#[derive(Default)]
struct HostSeries {
    time: Vec<i64>,
    values: Vec<f32>,
    score: Vec<f32>,
    top: Vec<u8>,
    anomaly: Vec<bool>,
}

/// A host's series as `GET /v1/detections/{id}/series/{host}` answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesView {
    pub host: String,
    pub columns: Vec<String>,
    /// Unix seconds.
    pub time: Vec<i64>,
    /// One array per column, raw values.
    pub values: Vec<Vec<f32>>,
    /// The model score (null before a full window).
    pub score: Vec<Option<f32>>,
    /// The index in `columns` of the metric with the largest share of each score.
    pub top: Vec<Option<u8>>,
    pub anomaly: Vec<bool>,
    pub threshold: Option<f32>,
    pub anomalies: Vec<AnomalyView>,
    /// Rows left out by thinning to `max_points` (the highest score of each stretch kept).
    pub thinned: bool,
}

pub struct Detection {
    view: DetectionView,
    columns: Vec<String>,
    series: BTreeMap<String, HostSeries>,
    stored: usize,
    pub dir: PathBuf,
}

impl Detection {
    pub fn progress(&self) -> Progress {
        let v = &self.view;
        Progress {
            id: v.id.clone(),
            model: v.model.clone(),
            task: v.task.clone(),
            state: v.state,
            rows: v.rows,
            anomalies: v.anomalies.len(),
            sessions: v.sessions_judged,
            anomalous_sessions: v.anomalous_sessions,
        }
    }
}

pub type Shared = Arc<Mutex<Detection>>;

fn lock(d: &Shared) -> std::sync::MutexGuard<'_, Detection> {
    d.lock().unwrap_or_else(|e| e.into_inner())
}

/// The run's folder.
pub fn lock_dir(d: &Shared) -> PathBuf {
    lock(d).dir.clone()
}

/// The kept detections, newest last.
pub struct Runs {
    inner: Mutex<(u64, VecDeque<(u64, Shared)>)>,
    keep: usize,
    /// Most rows kept for charts, over all hosts of one detection.
    pub max_series_rows: usize,
}

impl Runs {
    pub fn new(keep: usize, max_series_rows: usize) -> Runs {
        Runs {
            inner: Mutex::new((0, VecDeque::new())),
            keep: keep.max(1),
            max_series_rows,
        }
    }

    /// A new running detection in `runs/det-N/`; the oldest past `keep` is dropped
    /// with its folder.
    pub fn start(
        &self,
        runs: &Path,
        model: &str,
        task: &str,
        columns: Vec<String>,
    ) -> Result<Shared, Error> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 += 1;
        let n = inner.0;
        let id = format!("det-{n}");
        let dir = runs.join(&id);
        std::fs::create_dir_all(&dir).map_err(Error::internal)?;
        let d = Arc::new(Mutex::new(Detection {
            view: DetectionView {
                id,
                model: model.into(),
                task: task.into(),
                state: RunState::Running,
                created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                seconds: None,
                rows: 0,
                threshold: None,
                hosts: Vec::new(),
                anomalies: Vec::new(),
                sessions: Vec::new(),
                sessions_judged: 0,
                anomalous_sessions: 0,
                summary: None,
                evaluation: None,
                error: None,
                series_truncated: false,
            },
            columns,
            series: BTreeMap::new(),
            stored: 0,
            dir,
        }));
        inner.1.push_back((n, d.clone()));
        // The oldest finished detections past `keep` go (a running one stays).
        let mut gone = Vec::new();
        while inner.1.len() > self.keep {
            let Some(i) = inner
                .1
                .iter()
                .position(|(_, x)| lock(x).view.state != RunState::Running)
            else {
                break;
            };
            if let Some((_, old)) = inner.1.remove(i) {
                gone.push(lock(&old).dir.clone());
            }
        }
        drop(inner);
        for dir in gone {
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(d)
    }

    pub fn get(&self, id: &str) -> Result<Shared, Error> {
        let n: Option<u64> = id.strip_prefix("det-").and_then(|s| s.parse().ok());
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        n.and_then(|n| {
            inner
                .1
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, d)| d.clone())
        })
        .ok_or_else(|| Error::NotFound {
            what: "detection",
            id: id.into(),
        })
    }

    /// Newest first.
    pub fn list(&self) -> Vec<Progress> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .1
            .iter()
            .rev()
            .map(|(_, d)| lock(d).progress())
            .collect()
    }
}

/// The view of a detection; sessions all or only the anomalous ones.
pub fn view(d: &Shared, all_sessions: bool) -> DetectionView {
    let d = lock(d);
    let mut v = d.view.clone();
    v.hosts = hosts(&d);
    if !all_sessions {
        v.sessions.retain(|s| s.anomalous);
    }
    v
}

fn hosts(d: &Detection) -> Vec<HostView> {
    d.series
        .iter()
        .map(|(host, s)| {
            let last = s.time.len().checked_sub(1);
            HostView {
                host: host.clone(),
                rows: s.time.len() as u64,
                latest_time: last.map(|i| rfc3339(s.time[i])),
                latest_score: last.and_then(|i| Some(s.score[i]).filter(|x| x.is_finite())),
                anomalies: d.view.anomalies.iter().filter(|a| a.host == *host).count(),
                open: last.is_some_and(|i| s.anomaly[i]),
            }
        })
        .collect()
}

/// One host's series, thinned to at most `max_points` rows.
pub fn series(d: &Shared, host: &str, max_points: usize) -> Result<SeriesView, Error> {
    let d = lock(d);
    let s = d.series.get(host).ok_or_else(|| Error::NotFound {
        what: "host",
        id: host.into(),
    })?;
    let w = d.columns.len();
    let n = s.time.len();
    let bucket = n.div_ceil(max_points.max(1)).max(1);
    // In each stretch of `bucket` rows, the row with the highest score stands for it.
    let picked: Vec<usize> = (0..n)
        .step_by(bucket)
        .map(|start| {
            (start..(start + bucket).min(n))
                .max_by(|&a, &b| {
                    let (x, y) = (s.score[a], s.score[b]);
                    let x = if x.is_finite() { x } else { f32::MIN };
                    let y = if y.is_finite() { y } else { f32::MIN };
                    x.total_cmp(&y)
                })
                .unwrap_or(start)
        })
        .collect();
    Ok(SeriesView {
        host: host.into(),
        columns: d.columns.clone(),
        time: picked.iter().map(|&i| s.time[i]).collect(),
        values: (0..w)
            .map(|c| picked.iter().map(|&i| s.values[i * w + c]).collect())
            .collect(),
        score: picked
            .iter()
            .map(|&i| Some(s.score[i]).filter(|x| x.is_finite()))
            .collect(),
        top: picked
            .iter()
            .map(|&i| Some(s.top[i]).filter(|&t| t != u8::MAX))
            .collect(),
        anomaly: picked.iter().map(|&i| s.anomaly[i]).collect(),
        threshold: d.view.threshold,
        anomalies: d
            .view
            .anomalies
            .iter()
            .filter(|a| a.host == host)
            .cloned()
            .collect(),
        thinned: bucket > 1,
    })
}

/// The detector's sink for a run: keeps the series, counts, sends live progress.
pub struct Watch {
    pub d: Shared,
    pub events: Events,
    pub telemetry: Arc<Telemetry>,
    pub max_rows: usize,
    pending_rows: u64,
    last_sent: Instant,
}

impl Watch {
    pub fn new(d: Shared, events: Events, telemetry: Arc<Telemetry>, max_rows: usize) -> Watch {
        Watch {
            d,
            events,
            telemetry,
            max_rows,
            pending_rows: 0,
            last_sent: Instant::now(),
        }
    }

    fn flush(&mut self) {
        self.telemetry.rows_scored.inc_by(self.pending_rows);
        self.pending_rows = 0;
        self.last_sent = Instant::now();
        let p = lock(&self.d).progress();
        self.events.send(Event::Detection(p));
    }
}

impl Sink for Watch {
    fn row(&mut self, host: &str, row: &Row) -> Result<(), vigil_detector::Error> {
        {
            let mut d = lock(&self.d);
            d.view.rows += 1;
            // A row of another width (the model replaced meanwhile) is scored, not kept.
            if d.stored < self.max_rows && row.values.len() == d.columns.len() {
                d.stored += 1;
                let s = d.series.entry(host.to_string()).or_default();
                s.time.push(row.time);
                s.values.extend_from_slice(&row.values);
                s.score.push(if row.scored { row.score } else { f32::NAN });
                let top = row
                    .shares
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.is_finite())
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(u8::MAX, |(i, _)| i.min(254) as u8);
                s.top.push(if row.scored { top } else { u8::MAX });
                s.anomaly.push(row.anomaly);
            } else {
                d.view.series_truncated = true;
            }
        }
        self.pending_rows += 1;
        if self.pending_rows >= 50_000 || self.last_sent.elapsed().as_millis() >= 250 {
            self.flush();
        }
        Ok(())
    }

    fn anomaly(&mut self, a: &Anomaly) -> Result<(), vigil_detector::Error> {
        lock(&self.d).view.anomalies.push(AnomalyView::new(a));
        self.telemetry.anomalies.inc();
        self.flush();
        Ok(())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.telemetry.rows_scored.inc_by(self.pending_rows);
        self.pending_rows = 0;
    }
}

/// Records the end of a run (and sends it).
pub fn finish(d: &Shared, events: &Events, outcome: Result<Finished, String>) {
    let mut g = lock(d);
    match outcome {
        Ok(f) => {
            g.view.state = RunState::Succeeded;
            g.view.seconds = Some(f.seconds);
            g.view.threshold = f.threshold;
            g.view.summary = Some(f.summary);
            g.view.evaluation = f.evaluation;
            if let Some(sessions) = f.sessions {
                g.view.sessions_judged = sessions.len();
                g.view.anomalous_sessions = sessions.iter().filter(|s| s.anomalous).count();
                g.view.sessions = sessions;
            }
        }
        Err(e) => {
            g.view.state = RunState::Failed;
            g.view.error = Some(e);
        }
    }
    let p = g.progress();
    drop(g);
    events.send(Event::Detection(p));
}

/// What a finished run adds to its view.
pub struct Finished {
    pub seconds: f64,
    pub threshold: Option<f32>,
    pub summary: serde_json::Value,
    pub evaluation: Option<serde_json::Value>,
    pub sessions: Option<Vec<SessionView>>,
}

/// The judged sessions as the API shows them.
pub fn session_views(judged: Vec<vigil_detector::logs::Judged>) -> Vec<SessionView> {
    judged
        .into_iter()
        .map(|j| SessionView {
            session: j.session,
            anomalous: j.anomalous,
            score: j.score as u64,
            events: j.events as u64,
            first_anomalous_line: j.first_anomalous_line,
            reason: j.reason,
            baseline_anomalous: j.baseline_anomalous,
        })
        .collect()
}
