//! The detector's charts, summarised while the rows stream past (bounded by the time
//! covered, not the rows):
//!
//! - `error_histogram.png`: the score distribution of the validation points (normal data
//!   the threshold was calibrated on) beside the scored data's, with the threshold;
//! - `<host>/<YYYY-MM>.png`: per host and month, each metric (min–max band and mean), then
//!   the score coloured by the metric that carries most of it, with the threshold;
//!   anomalies shaded, and labelled incidents too when labels were given;
//! - `scores.png` (`scores-2.png`, … past ten hosts): the fleet at a glance, one score
//!   panel per host over the whole input, coloured by top metric.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::Error;
use crate::detect::{Anomaly, Row, Sink};
use crate::eval::Interval;
use vigil_core::Metric;
use vigil_plot::{
    Buckets, Histogram, Panel, PlotError, Span, TimeChart, months, render_histograms,
    render_time_chart,
};

/// Score histogram range, log10: scores below 1e-4 or above 1e6 fall into the end bins.
const LOG_MIN: f64 = -4.0;
const LOG_MAX: f64 = 6.0;
const FINE_BINS: usize = 1000;
const CHART_BINS: usize = 60;
/// A host's buckets are merged pairwise past this many, until they are this wide.
const MAX_BUCKETS: usize = 3000;
const MAX_WIDTH: i64 = 1800;
/// Hosts per page of the fleet overview.
const HOSTS_PER_PAGE: usize = 10;
/// Span colours (indices into [`vigil_plot::category`]): anomalies, then incident kinds.
const ANOMALY_COLOR: usize = 2;

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartOptions {
    /// Per-host charts for the first this many hosts seen (all are in the histogram).
    pub max_hosts: usize,
}

impl Default for ChartOptions {
    fn default() -> ChartOptions {
        ChartOptions { max_hosts: 50 }
    }
}

struct HostSeries {
    name: String,
    /// The metrics (raw values).
    metrics: Buckets,
    /// Per bucket of `metrics`: the highest score and the column that carried most of it.
    peaks: Vec<(f32, u16)>,
    anomalies: Vec<(i64, i64)>,
}

impl HostSeries {
    fn add(&mut self, row: &Row) {
        self.metrics
            .add(row.time, row.values.iter().map(|&v| f64::from(v)));
        if !row.scored || !row.score.is_finite() {
            return;
        }
        let i = self.bucket_of(row.time);
        if i >= self.peaks.len() {
            self.peaks.resize(i + 1, (f32::NAN, 0));
        }
        let peak = &mut self.peaks[i];
        if peak.0.is_nan() || row.score > peak.0 {
            let top = row
                .shares
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(c, _)| c);
            *peak = (row.score, top as u16);
        }
        if self.peaks.len() > MAX_BUCKETS && self.metrics.width() < MAX_WIDTH {
            self.metrics.merge_pairs();
            self.peaks = self
                .peaks
                .chunks(2)
                .map(|p| {
                    p.iter()
                        .copied()
                        .filter(|p| !p.0.is_nan())
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                        .unwrap_or((f32::NAN, 0))
                })
                .collect();
        }
    }

    fn bucket_of(&self, t: i64) -> usize {
        ((t - self.metrics.origin()) / self.metrics.width()) as usize
    }

    fn score_points(&self, from: i64, to: i64) -> Vec<(i64, f64, usize)> {
        let (origin, width) = (self.metrics.origin(), self.metrics.width());
        self.peaks
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.0.is_nan())
            .map(|(i, p)| (origin + i as i64 * width, f64::from(p.0), usize::from(p.1)))
            .filter(|(t, _, _)| (from..to).contains(t))
            .collect()
    }
}

/// A [`Sink`] that summarises the decided rows for the charts.
pub struct ChartSink {
    columns: Vec<String>,
    step: i64,
    threshold: f64,
    options: ChartOptions,
    hosts: Vec<HostSeries>,
    index: HashMap<String, usize>,
    /// Hosts beyond `max_hosts`, not drawn.
    pub hosts_left_out: usize,
    /// Validation scores (normal data) and scored data, fine log10 bins.
    validation: Vec<u64>,
    scored: Vec<u64>,
}

/// A host name as a folder name: characters other than letters, digits, `.`, `-` and `_`
/// become `_`, and a leading `.` too (so `../x` cannot leave the charts folder).
fn safe_name(host: &str) -> String {
    let mut name: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    name
}

fn fine_bin(score: f64) -> Option<usize> {
    if !score.is_finite() || score < 0.0 {
        return None;
    }
    let x = (score.max(1e-300).log10() - LOG_MIN) / (LOG_MAX - LOG_MIN);
    Some(((x * FINE_BINS as f64).max(0.0) as usize).min(FINE_BINS - 1))
}

fn fine_edge(i: usize) -> f64 {
    LOG_MIN + (LOG_MAX - LOG_MIN) * i as f64 / FINE_BINS as f64
}

impl ChartSink {
    /// `validation_scores`: the calibration scores (smoothed as the rows' are).
    pub fn new(
        columns: &[String],
        step: i64,
        threshold: f64,
        validation_scores: &[f32],
        options: ChartOptions,
    ) -> ChartSink {
        let mut validation = vec![0; FINE_BINS];
        for i in validation_scores
            .iter()
            .filter_map(|&s| fine_bin(f64::from(s)))
        {
            validation[i] += 1;
        }
        ChartSink {
            columns: columns.to_vec(),
            step: step.max(1),
            threshold,
            options,
            hosts: Vec::new(),
            index: HashMap::new(),
            hosts_left_out: 0,
            validation,
            scored: vec![0; FINE_BINS],
        }
    }

    fn host(&mut self, name: &str, time: i64) -> Option<&mut HostSeries> {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                if self.hosts.len() >= self.options.max_hosts {
                    self.hosts_left_out += 1;
                    self.index.insert(name.to_string(), usize::MAX);
                    return None;
                }
                self.hosts.push(HostSeries {
                    name: name.to_string(),
                    metrics: Buckets::new(time, self.step, self.columns.len()),
                    peaks: Vec::new(),
                    anomalies: Vec::new(),
                });
                self.index.insert(name.to_string(), self.hosts.len() - 1);
                self.hosts.len() - 1
            }
        };
        self.hosts.get_mut(i)
    }

    /// Draws every chart into `dir`; `labels` are shaded beside the anomalies.
    pub fn render(&self, dir: &Path, labels: &[Interval]) -> Result<Vec<PathBuf>, PlotError> {
        let mkdir = |d: &Path| {
            std::fs::create_dir_all(d).map_err(|e| PlotError {
                path: d.display().to_string(),
                message: e.to_string(),
            })
        };
        mkdir(dir)?;
        let mut written = vec![self.render_histogram(dir)?];

        let kinds = {
            let mut k: Vec<&str> = labels.iter().map(|l| l.kind.as_str()).collect();
            k.sort_unstable();
            k.dedup();
            k
        };
        let spans_of = |h: &HostSeries| -> Vec<Span> {
            let incidents = labels.iter().filter(|l| l.host == h.name).map(|l| Span {
                start: l.start,
                end: l.end,
                label: format!(
                    "incident: {}",
                    if l.kind.is_empty() {
                        "labelled"
                    } else {
                        &l.kind
                    }
                ),
                // Incident kinds take the category colours after the anomalies' own.
                color: ANOMALY_COLOR + 1 + kinds.iter().position(|k| *k == l.kind).unwrap_or(0),
            });
            let alarms = h.anomalies.iter().map(|&(start, end)| Span {
                start,
                end,
                label: "anomaly (detected)".into(),
                color: ANOMALY_COLOR,
            });
            incidents.chain(alarms).collect()
        };
        let legend: Vec<(String, usize)> = self
            .columns
            .iter()
            .enumerate()
            .map(|(c, name)| (name.clone(), c))
            .collect();
        let score_panel = |h: &HostSeries, from: i64, to: i64, title: String| Panel {
            title,
            unit: "score".into(),
            points: h.score_points(from, to),
            point_legend: legend.clone(),
            hlines: vec![(self.threshold, format!("threshold {:.3}", self.threshold))],
            log_y: true,
            ..Panel::default()
        };

        let jobs: Vec<(&HostSeries, i64, i64, String)> = self
            .hosts
            .iter()
            .filter_map(|h| Some((h, h.metrics.end()?)))
            .flat_map(|(h, end)| {
                months(h.metrics.origin(), end)
                    .into_iter()
                    .map(move |(a, b, m)| (h, a, b, m))
            })
            .collect();
        let files = jobs
            .par_iter()
            .map(|(h, from, to, month)| {
                let folder = dir.join(safe_name(&h.name));
                mkdir(&folder)?;
                let mut panels: Vec<Panel> = self
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(c, name)| {
                        let metric = name.parse::<Metric>().ok();
                        Panel {
                            title: name.clone(),
                            unit: metric.map_or("", |m| m.unit()).to_string(),
                            band: h.metrics.band(c, *from, *to),
                            y_range: metric.filter(|m| m.is_percent()).map(|_| (0.0, 100.0)),
                            color: c,
                            ..Panel::default()
                        }
                    })
                    .collect();
                panels.push(score_panel(
                    h,
                    *from,
                    *to,
                    "score (highest per bucket), coloured by the metric carrying most of it".into(),
                ));
                let chart = TimeChart {
                    title: format!("{} — {month}: metrics and anomaly score", h.name),
                    x_range: (*from, *to),
                    panels,
                    spans: spans_of(h),
                    markers: Vec::new(),
                };
                let path = folder.join(format!("{month}.png"));
                render_time_chart(&path, &chart, 1600, 170)?;
                Ok(path)
            })
            .collect::<Result<Vec<_>, PlotError>>()?;
        written.extend(files);

        let span = self
            .hosts
            .iter()
            .filter_map(|h| Some((h.metrics.origin(), h.metrics.end()?)))
            .fold(None, |acc: Option<(i64, i64)>, (a, b)| {
                Some(acc.map_or((a, b), |(x, y)| (x.min(a), y.max(b))))
            });
        if let Some((from, to)) = span {
            let pages: Vec<&[HostSeries]> = self.hosts.chunks(HOSTS_PER_PAGE).collect();
            for (p, hosts) in pages.iter().enumerate() {
                let chart = TimeChart {
                    title: "anomaly score per host, coloured by the metric carrying most of it"
                        .into(),
                    x_range: (from, to),
                    panels: hosts
                        .iter()
                        .enumerate()
                        .map(|(i, h)| {
                            let mut panel = score_panel(h, from, to, h.name.clone());
                            // The colours are explained once, at the top.
                            if i > 0 {
                                panel.point_legend.clear();
                            }
                            panel
                        })
                        .collect(),
                    // One legend (on the first panel) would hide the others' shading.
                    spans: Vec::new(),
                    markers: Vec::new(),
                };
                let name = if p == 0 {
                    "scores.png".to_string()
                } else {
                    format!("scores-{}.png", p + 1)
                };
                let path = dir.join(name);
                render_time_chart(&path, &chart, 1600, 160)?;
                written.push(path);
            }
        }
        Ok(written)
    }

    fn render_histogram(&self, dir: &Path) -> Result<PathBuf, PlotError> {
        let total = |c: &[u64]| c.iter().sum::<u64>();
        let used = |c: &[u64]| {
            let first = c.iter().position(|&n| n > 0)?;
            let last = c.iter().rposition(|&n| n > 0)?;
            Some((first, last))
        };
        let t_bin = fine_bin(self.threshold);
        let ranges = [used(&self.validation), used(&self.scored)];
        let first = ranges
            .iter()
            .flatten()
            .map(|r| r.0)
            .chain(t_bin)
            .min()
            .unwrap_or(0);
        let last = ranges
            .iter()
            .flatten()
            .map(|r| r.1)
            .chain(t_bin)
            .max()
            .unwrap_or(FINE_BINS - 1);
        let width = (last + 1 - first).div_ceil(CHART_BINS).max(1);
        let bins = (last + 1 - first).div_ceil(width);
        let coarse = |c: &[u64]| -> Vec<u64> {
            (0..bins)
                .map(|b| {
                    let from = first + b * width;
                    c[from..(from + width).min(FINE_BINS)].iter().sum()
                })
                .collect()
        };
        let mut series = Vec::new();
        if total(&self.validation) > 0 {
            series.push((
                format!("validation (normal), {} points", total(&self.validation)),
                coarse(&self.validation),
                0,
            ));
        }
        if total(&self.scored) > 0 {
            series.push((
                format!("scored data, {} points", total(&self.scored)),
                coarse(&self.scored),
                1,
            ));
        }
        let h = Histogram {
            title: "share of points per score bin, log10 score axis".into(),
            unit: "log10(score)".into(),
            edges: (0..=bins).map(|b| fine_edge(first + b * width)).collect(),
            series,
        };
        let path = dir.join("error_histogram.png");
        render_histograms(
            &path,
            "anomaly score: normal data and scored data",
            &[h],
            1,
            &[(
                self.threshold.max(1e-300).log10(),
                format!("threshold {:.3}", self.threshold),
            )],
        )?;
        Ok(path)
    }
}

impl Sink for ChartSink {
    fn row(&mut self, host: &str, row: &Row) -> Result<(), Error> {
        if row.scored
            && let Some(i) = fine_bin(f64::from(row.score))
        {
            self.scored[i] += 1;
        }
        if let Some(h) = self.host(host, row.time) {
            h.add(row);
        }
        Ok(())
    }

    fn anomaly(&mut self, a: &Anomaly) -> Result<(), Error> {
        if let Some(&i) = self.index.get(&a.host)
            && let Some(h) = self.hosts.get_mut(i)
        {
            h.anomalies.push((a.start, a.end));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(time: i64, score: f32, shares: Vec<f32>) -> Row {
        Row {
            line: 0,
            time,
            values: vec![1.0, 2.0],
            scored: true,
            score,
            shares,
            anomaly: false,
            baseline_score: 0.0,
            baseline_anomaly: false,
        }
    }

    #[test]
    fn peaks_keep_the_highest_score_and_its_top_metric_through_merges() {
        let columns = vec!["cpu".to_string(), "ram".to_string()];
        let mut sink = ChartSink::new(&columns, 60, 2.0, &[0.5, 1.0], ChartOptions::default());
        // The highest score of the series, carried by ram, early on.
        sink.row("a", &row(0, 0.5, vec![0.9, 0.1])).unwrap();
        sink.row("a", &row(60, 9.0, vec![0.2, 0.8])).unwrap();
        for i in 2..(MAX_BUCKETS as i64 * 4) {
            sink.row("a", &row(i * 60, 1.0, vec![0.6, 0.4])).unwrap();
        }
        let h = &sink.hosts[0];
        assert!(
            h.metrics.width() > 60,
            "buckets merged: {}",
            h.metrics.width()
        );
        assert!(h.peaks.len() <= MAX_BUCKETS + 1);
        let points = h.score_points(i64::MIN, i64::MAX);
        assert_eq!(points[0].0, 0);
        assert_eq!((points[0].1, points[0].2), (9.0, 1), "ram's peak survives");
        assert!(points[1..].iter().all(|p| p.1 == 1.0 && p.2 == 0));
        assert_eq!(sink.scored.iter().sum::<u64>(), MAX_BUCKETS as u64 * 4);
        assert_eq!(sink.validation.iter().sum::<u64>(), 2);
    }

    #[test]
    fn hosts_past_the_limit_are_counted_not_drawn() {
        let columns = vec!["cpu".to_string()];
        let mut sink = ChartSink::new(&columns, 60, 1.0, &[], ChartOptions { max_hosts: 1 });
        for host in ["a", "b", "b", "c"] {
            sink.row(host, &row(0, 1.0, vec![1.0])).unwrap();
        }
        assert_eq!(sink.hosts.len(), 1);
        assert_eq!(sink.hosts_left_out, 2);
    }

    #[test]
    fn host_names_stay_inside_the_charts_folder() {
        assert_eq!(safe_name("web-1"), "web-1");
        assert_eq!(safe_name("../x"), "_.._x");
        assert_eq!(safe_name("a/b c"), "a_b_c");
        assert_eq!(safe_name(""), "_");
    }

    #[test]
    fn fine_bins_cover_the_log_range() {
        assert_eq!(fine_bin(1.0), Some(400));
        assert_eq!(fine_bin(1e-9), Some(0));
        assert_eq!(fine_bin(1e9), Some(FINE_BINS - 1));
        assert_eq!(fine_bin(f64::NAN), None);
        assert!((fine_edge(400) - 0.0).abs() < 1e-12);
    }
}
