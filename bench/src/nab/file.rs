//! One file scored: every row's zone and weighted score (`Sweeper.calcSweepScore`), and the tally at a threshold.

use super::*;

/// One data file: row timestamps and its labelled anomaly windows.
///
/// Built by [`NabFile::new`], which checks what NAB's label loader and sweeper rely on.
#[derive(Debug, Clone, PartialEq)]
pub struct NabFile {
    pub(crate) name: String,
    pub(crate) times: Vec<i64>,
    pub(crate) windows: Vec<(i64, i64)>,
    /// Each window's first and last row (inclusive): the first rows whose timestamps are
    /// the window's start and end (NAB's `timestamps.index`).
    pub(crate) spans: Vec<(usize, usize)>,
}

impl NabFile {
    /// A file named `name` (used in errors) with row timestamps `times` (unix seconds,
    /// non-decreasing; repeats allowed, as in NAB's data) and windows `(start, end)`
    /// (inclusive unix seconds).
    ///
    /// Like `CorpusLabel.getWindows`, every window start and end must be a row timestamp.
    /// Windows must be ordered and disjoint (`start <= end < next start`): NAB's sweeper
    /// only looks for the next window's start, so it silently misscores anything else.
    pub fn new(
        name: impl Into<String>,
        times: Vec<i64>,
        windows: Vec<(i64, i64)>,
    ) -> Result<NabFile, Error> {
        let name = name.into();
        let invalid = |message: String| Error::Invalid {
            file: name.clone(),
            message,
        };
        if let Some(i) = times.windows(2).position(|w| w[1] < w[0]) {
            return Err(invalid(format!(
                "timestamps go backwards at row {} ({} after {})",
                i + 1,
                times[i + 1],
                times[i]
            )));
        }
        let first_row = |t: i64| {
            let i = times.partition_point(|&x| x < t);
            (times.get(i) == Some(&t)).then_some(i)
        };
        let mut spans = Vec::with_capacity(windows.len());
        for (k, &(start, end)) in windows.iter().enumerate() {
            if start > end {
                return Err(invalid(format!(
                    "window {k} starts ({start}) after it ends ({end})"
                )));
            }
            if k > 0 && start <= windows[k - 1].1 {
                return Err(invalid(format!(
                    "window {k} (start {start}) does not begin after window {} ends ({})",
                    k - 1,
                    windows[k - 1].1
                )));
            }
            let (Some(left), Some(right)) = (first_row(start), first_row(end)) else {
                return Err(invalid(format!(
                    "window {k} ({start}, {end}): its start and end must be row timestamps"
                )));
            };
            spans.push((left, right));
        }
        Ok(NabFile {
            name,
            times,
            windows,
            spans,
        })
    }

    /// The file's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Row timestamps, unix seconds.
    pub fn times(&self) -> &[i64] {
        &self.times
    }

    /// Label windows `(start, end)`, inclusive unix seconds.
    pub fn windows(&self) -> &[(i64, i64)] {
        &self.windows
    }

    /// Each window's first and last row index (inclusive), as NAB's sweeper sees them.
    pub fn window_rows(&self) -> &[(usize, usize)] {
        &self.spans
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the file has no rows.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Number of leading rows that are never scored.
    pub fn probationary_rows(&self) -> usize {
        probationary_rows(self.len())
    }
}

/// Where a row falls for scoring (NAB's `AnomalyPoint.windowName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// In the probationary period: never scored (`windowName == "probationary"`).
    Probationary,
    /// Outside every window (`windowName is None`): a detection is a false positive.
    Outside,
    /// Inside the file's window `k`: a detection is a true positive.
    Window(usize),
}

/// A row's zone and the weighted score a detection there would earn (`sweepScore`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SweepRow {
    pub(crate) zone: Zone,
    pub(crate) weighted: f64,
}

/// `Sweeper.calcSweepScore`: every row's zone and weighted detection score.
pub(crate) fn sweep(file: &NabFile, profile: &Profile) -> Vec<SweepRow> {
    let n = file.len();
    let max_tp = scaled_sigmoid(-1.0);
    let probation = probationary_rows(n);
    let mut rows = Vec::with_capacity(n);
    let mut next = 0;
    let mut current: Option<usize> = None;
    // Right row and width (rows) of the last window left.
    let mut previous: Option<(usize, f64)> = None;
    for i in 0..n {
        if file.spans.get(next).is_some_and(|&(left, _)| left == i) {
            current = Some(next);
            next += 1;
        }
        let weighted = match current {
            Some(k) => {
                let (left, right) = file.spans[k];
                let width = (right - left + 1) as f64;
                let position = -((right - i + 1) as f64) / width;
                scaled_sigmoid(position) * profile.tp / max_tp
            }
            None => {
                let unweighted = match previous {
                    None => -1.0,
                    // A one-row window gives x / 0 = +inf here, hence -1 (NAB divides by zero).
                    Some((right, width)) => {
                        scaled_sigmoid(i.abs_diff(right) as f64 / (width - 1.0))
                    }
                };
                unweighted * profile.fp
            }
        };
        let zone = if i >= probation {
            current.map_or(Zone::Outside, Zone::Window)
        } else {
            Zone::Probationary
        };
        rows.push(SweepRow { zone, weighted });
        if let Some(k) = current
            && file.spans[k].1 == i
        {
            let (left, right) = file.spans[k];
            previous = Some((right, (right - left + 1) as f64));
            current = None;
        }
    }
    rows
}

/// One file's NAB score at one set of alarms.
#[derive(Debug, Clone, PartialEq)]
pub struct FileScore {
    pub name: String,
    /// NAB's raw score: window parts plus false-positive scores.
    pub score: f64,
    /// Scored rows inside windows that alarm.
    pub tp: usize,
    /// Scored rows outside windows that alarm.
    pub fp: usize,
    /// Scored rows inside windows that do not alarm.
    pub fn_: usize,
    /// Scored rows outside windows that do not alarm.
    pub tn: usize,
    /// Windows in the labels.
    pub windows: usize,
    /// Windows with at least one row past the probationary period (only these are scored).
    pub windows_scored: usize,
    /// Scored windows with at least one scored alarm.
    pub windows_detected: usize,
}

/// Scores one file's alarms from its sweep (`calcScoreByThreshold` at one threshold).
pub(crate) fn tally(
    file: &NabFile,
    rows: &[SweepRow],
    alarms: &[bool],
    profile: &Profile,
) -> FileScore {
    let windows = file.spans.len();
    let mut scored = vec![false; windows];
    let mut best: Vec<Option<f64>> = vec![None; windows];
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    let mut fp_sum = 0.0;
    for (row, &alarm) in rows.iter().zip(alarms) {
        match (row.zone, alarm) {
            (Zone::Probationary, _) => {}
            (Zone::Outside, true) => {
                fp += 1;
                fp_sum += row.weighted;
            }
            (Zone::Outside, false) => tn += 1,
            (Zone::Window(k), true) => {
                tp += 1;
                scored[k] = true;
                best[k] = Some(best[k].map_or(row.weighted, |b: f64| b.max(row.weighted)));
            }
            (Zone::Window(k), false) => {
                fn_ += 1;
                scored[k] = true;
            }
        }
    }
    let mut score = fp_sum;
    for k in (0..windows).filter(|&k| scored[k]) {
        score += best[k].map_or(-profile.fn_, |b| b.max(-profile.fn_));
    }
    FileScore {
        name: file.name.clone(),
        score,
        tp,
        fp,
        fn_,
        tn,
        windows,
        windows_scored: scored.iter().filter(|&&s| s).count(),
        windows_detected: best.iter().filter(|b| b.is_some()).count(),
    }
}

/// Checks that `got` values match a file's rows.
pub(crate) fn check_length(file: &NabFile, got: usize) -> Result<(), Error> {
    if got == file.len() {
        Ok(())
    } else {
        Err(Error::Length {
            file: file.name.clone(),
            expected: file.len(),
            got,
        })
    }
}

/// Checks that there is one per-file vector per file.
pub(crate) fn check_count(files: &[NabFile], got: usize) -> Result<(), Error> {
    if got == files.len() {
        Ok(())
    } else {
        Err(Error::FileCount {
            expected: files.len(),
            got,
        })
    }
}

/// NAB's score of one file: `alarms[i]` is a detection at row `i`.
pub fn score_file(file: &NabFile, alarms: &[bool], profile: &Profile) -> Result<FileScore, Error> {
    check_length(file, alarms.len())?;
    Ok(tally(file, &sweep(file, profile), alarms, profile))
}
