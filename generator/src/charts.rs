//! The generator's charts: metric distributions per role, and per host one chart a month
//! with every metric and the incidents shaded.
//!
//! Values are summarised while the simulation runs (min/mean/max per time bucket and
//! histograms), so charts cost no second pass over the data and bounded memory.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::Error;
use crate::incident::Incident;
use crate::kinds::{INCIDENT_KINDS, Role};
use crate::scenario::Scenario;
use vigil_core::METRICS;
use vigil_plot::{
    Buckets, Histogram, Panel, PlotError, Span, TimeChart, months, render_histograms,
    render_time_chart,
};

/// Fine bins collected while simulating; charts merge them into about [`CHART_BINS`] over
/// the range the data actually covers.
const FINE_BINS: usize = 1000;
const CHART_BINS: usize = 50;
/// Network histograms stop here; faster samples go into the last bin.
const NET_HIST_MAX: f64 = 1000.0;

/// One host's running summary.
pub struct HostCharts {
    buckets: Buckets,
    hist: Vec<[u64; FINE_BINS]>,
}

fn hist_max(m: usize) -> f64 {
    if METRICS[m].is_percent() {
        100.0
    } else {
        NET_HIST_MAX
    }
}

impl HostCharts {
    pub fn new(scenario: &Scenario) -> HostCharts {
        let tl = &scenario.timeline;
        let span = tl.end() - tl.start;
        // About 1,500 points a month-wide chart, never finer than the sampling interval.
        let bucket_secs = (span / 1500).clamp(tl.interval, 1800).max(tl.interval);
        HostCharts {
            buckets: Buckets::new(tl.start, bucket_secs, 5),
            hist: vec![[0; FINE_BINS]; 5],
        }
    }

    pub fn add(&mut self, t: i64, v: &[f64; 5]) {
        self.buckets.add(t, v.iter().copied());
        for (m, &x) in v.iter().enumerate() {
            let bin = ((x / hist_max(m)) * FINE_BINS as f64) as usize;
            self.hist[m][bin.min(FINE_BINS - 1)] += 1;
        }
    }
}

/// Merges fine bins into about [`CHART_BINS`] bins over the range holding 99.9 % of the
/// samples, so a histogram shows the data rather than the metric's whole possible range.
fn coarsen(metric: &vigil_core::Metric, max: f64, fine: &[(String, Vec<u64>)]) -> Histogram {
    let total: Vec<u64> = (0..FINE_BINS)
        .map(|i| fine.iter().map(|(_, c)| c[i]).sum())
        .collect();
    let n: u64 = total.iter().sum();
    let first = total.iter().position(|&c| c > 0).unwrap_or(0);
    let mut seen = 0;
    let mut last = FINE_BINS - 1;
    for (i, c) in total.iter().enumerate() {
        seen += c;
        if seen as f64 >= 0.999 * n as f64 {
            last = i;
            break;
        }
    }
    let width = (last + 1 - first).div_ceil(CHART_BINS).max(1);
    let bins = (last + 1 - first).div_ceil(width);
    let fine_width = max / FINE_BINS as f64;
    Histogram {
        title: format!("{metric} by role"),
        unit: metric.unit().to_string(),
        edges: (0..=bins)
            .map(|b| (first + b * width) as f64 * fine_width)
            .collect(),
        series: fine
            .iter()
            .enumerate()
            .map(|(c, (label, counts))| {
                let coarse = (0..bins)
                    .map(|b| {
                        let from = first + b * width;
                        let to = (from + width).min(FINE_BINS);
                        // Samples past the shown range are counted in the last bin.
                        let to = if b + 1 == bins { FINE_BINS } else { to };
                        counts[from..to].iter().sum()
                    })
                    .collect();
                (label.clone(), coarse, c)
            })
            .collect(),
    }
}

fn kind_color(inc: &Incident) -> usize {
    INCIDENT_KINDS
        .iter()
        .position(|k| *k == inc.kind)
        .unwrap_or(0)
}

/// Writes `distributions.png` and `<host>/<YYYY-MM>.png` under `dir`; returns the files.
pub fn render(
    dir: &Path,
    scenario: &Scenario,
    hosts: &[HostCharts],
    incidents: &[Incident],
) -> Result<Vec<PathBuf>, Error> {
    let tl = &scenario.timeline;
    let mut written = Vec::new();

    let mut roles: Vec<Role> = scenario.hosts.iter().map(|h| h.role).collect();
    roles.dedup();
    roles.sort_by_key(|r| format!("{r:?}"));
    roles.dedup();
    let hists: Vec<Histogram> = METRICS
        .iter()
        .enumerate()
        .map(|(m, metric)| {
            let fine: Vec<(String, Vec<u64>)> = roles
                .iter()
                .map(|role| {
                    let mut counts = vec![0u64; FINE_BINS];
                    for (h, charts) in hosts.iter().enumerate() {
                        if scenario.hosts[h].role == *role {
                            for (acc, x) in counts.iter_mut().zip(charts.hist[m]) {
                                *acc += x;
                            }
                        }
                    }
                    (format!("{role:?}").to_lowercase(), counts)
                })
                .collect();
            coarsen(metric, hist_max(m), &fine)
        })
        .collect();
    let path = dir.join("distributions.png");
    render_histograms(
        &path,
        &format!("{} — metric distributions", scenario.name),
        &hists,
        3,
        &[],
    )?;
    written.push(path);

    let boundary = scenario
        .train_steps
        .map(|s| (tl.time_of(s), "train | test".to_string()));
    let jobs: Vec<(usize, i64, i64, String)> = hosts
        .iter()
        .enumerate()
        .flat_map(|(h, _)| {
            months(tl.start, tl.end())
                .into_iter()
                .map(move |(a, b, name)| (h, a, b, name))
        })
        .collect();
    let files = jobs
        .par_iter()
        .map(|(h, from, to, month)| {
            let host = &scenario.hosts[*h];
            let folder = dir.join(&host.name);
            std::fs::create_dir_all(&folder).map_err(|e| PlotError {
                path: folder.display().to_string(),
                message: e.to_string(),
            })?;
            let panels = METRICS
                .iter()
                .enumerate()
                .map(|(m, metric)| Panel {
                    title: metric.name().to_string(),
                    unit: metric.unit().to_string(),
                    band: hosts[*h].buckets.band(m, *from, *to),
                    y_range: metric.is_percent().then_some((0.0, 100.0)),
                    ..Panel::default()
                })
                .collect();
            let spans = incidents
                .iter()
                .filter(|i| i.host == *h)
                .map(|i| Span {
                    start: tl.time_of(i.start),
                    end: tl.time_of(i.end),
                    label: i.kind.name().to_string(),
                    color: kind_color(i),
                })
                .collect();
            let chart = TimeChart {
                title: format!("{} ({:?}) — {month}", host.name, host.role).to_lowercase(),
                x_range: (*from, *to),
                panels,
                spans,
                markers: boundary.clone().into_iter().collect(),
            };
            let path = folder.join(format!("{month}.png"));
            render_time_chart(&path, &chart, 1600, 190)?;
            Ok(path)
        })
        .collect::<Result<Vec<_>, PlotError>>()?;
    written.extend(files);
    Ok(written)
}
