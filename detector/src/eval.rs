//! Evaluation against labels: point-wise and event-wise, for the model and the baseline on
//! the same rows.
//!
//! Labels are intervals (`host,start,end[,kind]`, e.g. the generator's `labels.csv`) or a
//! per-row 0/1 column (`timestamp[,host],label`), turned into intervals. Reported for each
//! detector:
//! - point-wise precision, recall and F1 over scored rows;
//! - event-wise recall (a labelled incident is found when an alarm row falls inside it)
//!   and precision (an alarm — a stretch of consecutive anomalous rows — is true when it
//!   touches an incident), false alarms per host-day, and detection delay;
//! - which incidents of each kind were found;
//! - point-adjusted F1 (every row of a found incident counts as detected), only beside the
//!   point-wise figures, since on its own it flatters any detector that fires once.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::Error;
use crate::explain::duration;
pub use vigil_core::label::{Interval, read_intervals};
use vigil_core::time::parse_timestamp;

/// Precision, recall and F1 from counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    /// Precision, recall and F1 of the counts (0 where a ratio has no denominator).
    pub(crate) fn new(tp: u64, fp: u64, fn_: u64) -> Prf {
        let div = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = div(tp, tp + fp);
        let recall = div(tp, tp + fn_);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            tp,
            fp,
            fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// One detector's evaluation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scorecard {
    pub point: Prf,
    pub point_adjusted: Prf,
    pub incidents: usize,
    pub incidents_found: usize,
    pub event_recall: f64,
    pub alarms: usize,
    pub true_alarms: usize,
    pub event_precision: f64,
    pub event_f1: f64,
    pub false_alarms: usize,
    pub false_alarms_per_host_day: f64,
    pub mean_delay_s: Option<f64>,
    pub median_delay_s: Option<f64>,
    /// kind → (found, total).
    pub by_kind: BTreeMap<String, (usize, usize)>,
}

/// The evaluation of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evaluation {
    pub rows: u64,
    pub scored_rows: u64,
    pub host_days: f64,
    /// Labels on hosts or at times the scored data does not cover.
    pub labels_outside: usize,
    pub model: Scorecard,
    pub baseline: Scorecard,
}

#[derive(Default)]
struct System {
    tp: u64,
    fp: u64,
    fn_: u64,
    /// Per label: first alarm time inside it.
    first_alarm: Vec<Option<i64>>,
    alarms: usize,
    true_alarms: usize,
    /// Per host: whether an alarm stretch is open and whether it touched a label.
    open: HashMap<String, bool>,
}

impl System {
    fn push(&mut self, host: &str, time: i64, alarm: bool, inside: &[usize], labelled: bool) {
        match (alarm, labelled) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            _ => {}
        }
        if alarm {
            for &i in inside {
                self.first_alarm[i].get_or_insert(time);
            }
            let touched = self.open.entry(host.to_string()).or_insert_with(|| {
                self.alarms += 1;
                false
            });
            *touched |= labelled;
        } else if let Some(touched) = self.open.remove(host) {
            self.true_alarms += usize::from(touched);
        }
    }

    fn finish(
        mut self,
        labels: &[Interval],
        covered: &[bool],
        rows_in: &[u64],
        host_days: f64,
    ) -> Scorecard {
        for (_, touched) in self.open.drain() {
            self.true_alarms += usize::from(touched);
        }
        let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut delays = Vec::new();
        let (mut pa_tp, mut pa_fn) = (0u64, 0u64);
        for (i, l) in labels.iter().enumerate() {
            if !covered[i] {
                continue;
            }
            let e = by_kind.entry(l.kind.clone()).or_default();
            e.1 += 1;
            match self.first_alarm[i] {
                Some(t) => {
                    e.0 += 1;
                    delays.push((t - l.start) as f64);
                    pa_tp += rows_in[i];
                }
                None => pa_fn += rows_in[i],
            }
        }
        let incidents = covered.iter().filter(|c| **c).count();
        let found = delays.len();
        delays.sort_by(f64::total_cmp);
        let event_recall = found as f64 / incidents.max(1) as f64;
        let event_precision = if self.alarms == 0 {
            0.0
        } else {
            self.true_alarms as f64 / self.alarms as f64
        };
        let false_alarms = self.alarms - self.true_alarms;
        Scorecard {
            point: Prf::new(self.tp, self.fp, self.fn_),
            point_adjusted: Prf::new(pa_tp, self.fp, pa_fn),
            incidents,
            incidents_found: found,
            event_recall,
            alarms: self.alarms,
            true_alarms: self.true_alarms,
            event_precision,
            event_f1: if event_recall + event_precision > 0.0 {
                2.0 * event_recall * event_precision / (event_recall + event_precision)
            } else {
                0.0
            },
            false_alarms,
            false_alarms_per_host_day: false_alarms as f64 / host_days.max(1e-9),
            mean_delay_s: (found > 0).then(|| delays.iter().sum::<f64>() / found as f64),
            median_delay_s: delays.get(found / 2).copied(),
            by_kind,
        }
    }
}

/// Collects decided rows and compares them with the labels.
pub struct Evaluator {
    labels: Vec<Interval>,
    by_host: HashMap<String, Vec<usize>>,
    rows_in: Vec<u64>,
    covered: Vec<bool>,
    span: HashMap<String, (i64, i64)>,
    rows: u64,
    scored: u64,
    model: System,
    baseline: System,
    inside: Vec<usize>,
}

impl Evaluator {
    pub fn new(labels: Vec<Interval>) -> Evaluator {
        let mut by_host: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, l) in labels.iter().enumerate() {
            by_host.entry(l.host.clone()).or_default().push(i);
        }
        let n = labels.len();
        let system = || System {
            first_alarm: vec![None; n],
            ..System::default()
        };
        Evaluator {
            labels,
            by_host,
            rows_in: vec![0; n],
            covered: vec![false; n],
            span: HashMap::new(),
            rows: 0,
            scored: 0,
            model: system(),
            baseline: system(),
            inside: Vec::new(),
        }
    }

    /// One decided row of `host` (rows of a host in time order).
    pub fn push(&mut self, host: &str, time: i64, d: Decided) {
        let Decided {
            scored,
            anomaly,
            baseline,
        } = d;
        self.rows += 1;
        let span = self.span.entry(host.to_string()).or_insert((time, time));
        span.0 = span.0.min(time);
        span.1 = span.1.max(time);
        if !scored {
            return;
        }
        self.scored += 1;
        self.inside.clear();
        if let Some(ids) = self.by_host.get(host) {
            for &i in ids {
                let l = &self.labels[i];
                if l.start <= time && time < l.end {
                    self.inside.push(i);
                    self.rows_in[i] += 1;
                    self.covered[i] = true;
                }
            }
        }
        let labelled = !self.inside.is_empty();
        self.model.push(host, time, anomaly, &self.inside, labelled);
        self.baseline
            .push(host, time, baseline, &self.inside, labelled);
    }

    pub fn finish(self) -> Evaluation {
        let host_days: f64 = self
            .span
            .values()
            .map(|(a, b)| (b - a) as f64 / 86_400.0)
            .sum();
        let labels_outside = self.covered.iter().filter(|c| !**c).count();
        Evaluation {
            rows: self.rows,
            scored_rows: self.scored,
            host_days,
            labels_outside,
            model: self
                .model
                .finish(&self.labels, &self.covered, &self.rows_in, host_days),
            baseline: self
                .baseline
                .finish(&self.labels, &self.covered, &self.rows_in, host_days),
        }
    }
}

/// What was decided for one row, as the evaluation needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    /// A window scored the row (warm-up, merged and out-of-order rows are not judged).
    pub scored: bool,
    /// The model's alarm.
    pub anomaly: bool,
    /// The baseline's alarm.
    pub baseline: bool,
}

impl crate::detect::Sink for Evaluator {
    fn row(&mut self, host: &str, row: &crate::detect::Row) -> Result<(), crate::Error> {
        self.push(
            host,
            row.time,
            Decided {
                scored: row.scored,
                anomaly: row.anomaly,
                baseline: row.baseline_anomaly,
            },
        );
        Ok(())
    }
}

/// Reads a `scores.csv` written by `detector metrics` into an evaluator.
pub fn evaluate_scores(scores: &Path, labels: Vec<Interval>) -> Result<Evaluation, Error> {
    let file_err = |message: String| Error::Read {
        path: scores.to_path_buf(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .from_path(scores)
        .map_err(|e| file_err(e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| file_err(e.to_string()))?
        .clone();
    let col = |n: &str| {
        headers
            .iter()
            .position(|h| h == n)
            .ok_or_else(|| file_err(format!("not a scores.csv: no {n} column")))
    };
    let (t, h, s, a, b) = (
        col("timestamp")?,
        col("host")?,
        col("score")?,
        col("anomaly")?,
        col("baseline_anomaly")?,
    );
    let mut ev = Evaluator::new(labels);
    for record in reader.records() {
        let record = record.map_err(|e| file_err(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let text = record.get(t).unwrap_or("");
        let time = parse_timestamp(text)
            .map_err(|e| vigil_core::Error::Line {
                path: scores.to_path_buf(),
                line,
                message: format!("bad timestamp {text:?}: {e}"),
            })?
            .timestamp();
        ev.push(
            record.get(h).unwrap_or(""),
            time,
            Decided {
                scored: !record.get(s).unwrap_or("").is_empty(),
                anomaly: record.get(a) == Some("1"),
                baseline: record.get(b) == Some("1"),
            },
        );
    }
    Ok(ev.finish())
}

/// The evaluation as a table people read.
pub fn render(e: &Evaluation, model_name: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} scored rows of {} ({:.1} host-days); {} incidents in the data{}",
        e.scored_rows,
        e.rows,
        e.host_days,
        e.model.incidents,
        if e.labels_outside > 0 {
            format!(", {} labels outside it", e.labels_outside)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        s,
        "{:<28} {:>14} {:>14}",
        "", model_name, "baseline (hour z)"
    );
    let row = |s: &mut String, name: &str, f: &dyn Fn(&Scorecard) -> String| {
        let _ = writeln!(s, "{:<28} {:>14} {:>14}", name, f(&e.model), f(&e.baseline));
    };
    row(&mut s, "point precision", &|c| {
        format!("{:.3}", c.point.precision)
    });
    row(&mut s, "point recall", &|c| {
        format!("{:.3}", c.point.recall)
    });
    row(&mut s, "point F1", &|c| format!("{:.3}", c.point.f1));
    row(&mut s, "incidents found", &|c| {
        format!(
            "{}/{} ({:.0} %)",
            c.incidents_found,
            c.incidents,
            100.0 * c.event_recall
        )
    });
    row(&mut s, "alarm precision", &|c| {
        format!(
            "{}/{} ({:.0} %)",
            c.true_alarms,
            c.alarms,
            100.0 * c.event_precision
        )
    });
    row(&mut s, "event F1", &|c| format!("{:.3}", c.event_f1));
    row(&mut s, "false alarms per host-day", &|c| {
        format!("{:.2}", c.false_alarms_per_host_day)
    });
    row(&mut s, "median detection delay", &|c| {
        c.median_delay_s.map_or("-".into(), |d| duration(d as i64))
    });
    row(&mut s, "point-adjusted F1 (*)", &|c| {
        format!("{:.3}", c.point_adjusted.f1)
    });
    let kinds: Vec<&String> = e.model.by_kind.keys().collect();
    for k in kinds {
        row(&mut s, &format!("  found: {k}"), &|c| {
            let (f, t) = c.by_kind.get(k).copied().unwrap_or_default();
            format!("{f}/{t}")
        });
    }
    let _ = writeln!(
        s,
        "(*) point-adjusted: every row of a found incident counts as detected; flattering, shown only beside the point-wise figures."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(host: &str, start: i64, end: i64, kind: &str) -> Interval {
        Interval {
            host: host.into(),
            start,
            end,
            kind: kind.into(),
        }
    }

    #[test]
    fn point_and_event_figures_are_counted_by_hand() {
        // Host a: rows every 60 s from 0 to 1140 (20 rows); incident [300, 600) (5 rows)
        // and [900, 960) (1 row, missed). Alarms at 420, 480 (inside, delay 120) and at
        // 1080 (a false alarm).
        let labels = vec![label("a", 300, 600, "leak"), label("a", 900, 960, "spike")];
        let mut ev = Evaluator::new(labels);
        for i in 0..20 {
            let t = i * 60;
            let alarm = t == 420 || t == 480 || t == 1080;
            ev.push(
                "a",
                t,
                Decided {
                    scored: true,
                    anomaly: alarm,
                    baseline: false,
                },
            );
        }
        let e = ev.finish();
        let m = &e.model;
        assert_eq!((m.point.tp, m.point.fp, m.point.fn_), (2, 1, 4));
        assert_eq!((m.incidents, m.incidents_found), (2, 1));
        assert_eq!((m.alarms, m.true_alarms, m.false_alarms), (2, 1, 1));
        assert_eq!(m.median_delay_s, Some(120.0));
        assert_eq!(m.by_kind["leak"], (1, 1));
        assert_eq!(m.by_kind["spike"], (0, 1));
        // Point-adjusted: the found incident's 5 rows all count.
        assert_eq!((m.point_adjusted.tp, m.point_adjusted.fn_), (5, 1));
        assert!((e.host_days - 1140.0 / 86_400.0).abs() < 1e-12);
        assert_eq!(e.baseline.incidents_found, 0);
    }

    #[test]
    fn labels_off_the_data_are_not_counted() {
        let mut ev = Evaluator::new(vec![
            label("b", 0, 60, "x"),
            label("a", 1e9 as i64, 2e9 as i64, "x"),
        ]);
        ev.push(
            "a",
            0,
            Decided {
                scored: true,
                anomaly: false,
                baseline: false,
            },
        );
        let e = ev.finish();
        assert_eq!(e.model.incidents, 0);
        assert_eq!(e.labels_outside, 2);
    }
}
