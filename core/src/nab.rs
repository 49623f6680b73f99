//! Numenta Anomaly Benchmark (NAB) scoring, as NAB itself computes it.
//!
//! Ported from numenta/NAB (commit ea702d7): `nab/sweeper.py` (`scaledSigmoid`,
//! `Sweeper._getProbationaryLength`, `Sweeper.calcSweepScore`,
//! `Sweeper.calcScoreByThreshold`, `Sweeper.scoreDataSet`), `nab/optimizer.py`
//! (`optimizeThreshold`), `nab/runner.py` (`Runner.normalize`), `nab/labeler.py`
//! (`CorpusLabel.getWindows`) and `config/profiles.json`.
//!
//! In short:
//! * the first `min(floor(0.15 n), 750)` rows of a file of `n` rows are probationary and
//!   never scored — but windows there still count as "the preceding window" for later
//!   false positives;
//! * a row at index `i` inside a window of rows `l..=r` scores
//!   `scaled_sigmoid(-(r - i + 1) / (r - l + 1)) * tp / scaled_sigmoid(-1)`, so a detection
//!   at the window's first row earns exactly `tp`; only the best (earliest) scored detection
//!   of a window counts, and a window with no scored detection costs `-fn`;
//! * a detection outside every window scores `-fp` when no window precedes it, else
//!   `scaled_sigmoid(|r_prev - i| / (width_prev - 1)) * fp`;
//! * a file's score is the sum of its windows' parts and its false positives; the corpus
//!   score sums the files; NAB reports `100 (raw - null) / (perfect - null)` where `null` is
//!   the never-alarming detector scored the same way and `perfect` is `tp × windows`.
//!
//! A row alarms when its anomaly score is at least the threshold (NAB's `scoreDataSet`).
//! Row counts (tp, fp, fn, tn) are NAB's: rows, not windows, excluding probationary rows.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

/// Share of each file that is probationary (`Runner.probationaryPercent`).
pub const PROBATION_PERCENT: f64 = 0.15;

/// Row count at which the probationary period stops growing (`_getProbationaryLength`).
const PROBATION_CAP_ROWS: f64 = 5000.0;

/// A NAB application profile: the weights of `config/profiles.json`.
///
/// `tn` is carried for completeness; NAB's scorer never uses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
    pub tn: f64,
}

/// NAB's "standard" profile.
pub const STANDARD: Profile = Profile {
    name: "standard",
    tp: 1.0,
    fp: 0.11,
    fn_: 1.0,
    tn: 1.0,
};

/// NAB's "reward_low_FP_rate" profile.
pub const REWARD_LOW_FP_RATE: Profile = Profile {
    name: "reward_low_FP_rate",
    tp: 1.0,
    fp: 0.22,
    fn_: 1.0,
    tn: 1.0,
};

/// NAB's "reward_low_FN_rate" profile.
pub const REWARD_LOW_FN_RATE: Profile = Profile {
    name: "reward_low_FN_rate",
    tp: 1.0,
    fp: 0.11,
    fn_: 2.0,
    tn: 1.0,
};

/// The three NAB profiles, in the order NAB's results tables list them.
pub const PROFILES: [Profile; 3] = [STANDARD, REWARD_LOW_FP_RATE, REWARD_LOW_FN_RATE];

/// Errors from reading NAB files or from inputs that NAB's scorer would reject.
#[derive(Debug, thiserror::Error)]
pub enum NabError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Csv { path: PathBuf, message: String },
    #[error(
        "{file}: bad timestamp {text:?} (expected YYYY-MM-DD HH:MM:SS[.ffffff], whole seconds)"
    )]
    Timestamp { file: String, text: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: {got} values given for a file of {expected} rows")]
    Length {
        file: String,
        expected: usize,
        got: usize,
    },
    #[error("{expected} files but {got} per-file vectors")]
    FileCount { expected: usize, got: usize },
    #[error("{file}: row {row}: anomaly score {value} is not finite")]
    BadScore {
        file: String,
        row: usize,
        value: f64,
    },
}

/// Probationary rows of a file of `n` rows: `min(floor(0.15 n), 0.15 × 5000)`, computed in
/// f64 exactly as `Sweeper._getProbationaryLength` does.
pub fn probationary_rows(n: usize) -> usize {
    let rows = (PROBATION_PERCENT * n as f64)
        .floor()
        .min(PROBATION_PERCENT * PROBATION_CAP_ROWS);
    rows as usize
}

/// The logistic function (`sweeper.sigmoid`).
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// NAB's `scaledSigmoid`: `2 σ(-5 x) - 1`, and exactly `-1` beyond `x > 3`.
///
/// `x = -1` is a window's left edge (0.98661), `x = 0` just past its right edge (0).
pub fn scaled_sigmoid(relative_position: f64) -> f64 {
    if relative_position > 3.0 {
        -1.0
    } else {
        2.0 * sigmoid(-5.0 * relative_position) - 1.0
    }
}

/// One data file: row timestamps and its labelled anomaly windows.
///
/// Built by [`NabFile::new`], which checks what NAB's label loader and sweeper rely on.
#[derive(Debug, Clone, PartialEq)]
pub struct NabFile {
    name: String,
    times: Vec<i64>,
    windows: Vec<(i64, i64)>,
    /// Each window's first and last row (inclusive): the first rows whose timestamps are
    /// the window's start and end (NAB's `timestamps.index`).
    spans: Vec<(usize, usize)>,
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
    ) -> Result<NabFile, NabError> {
        let name = name.into();
        let invalid = |message: String| NabError::Invalid {
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
enum Zone {
    /// In the probationary period: never scored (`windowName == "probationary"`).
    Probationary,
    /// Outside every window (`windowName is None`): a detection is a false positive.
    Outside,
    /// Inside the file's window `k`: a detection is a true positive.
    Window(usize),
}

/// A row's zone and the weighted score a detection there would earn (`sweepScore`).
#[derive(Debug, Clone, Copy)]
struct SweepRow {
    zone: Zone,
    weighted: f64,
}

/// `Sweeper.calcSweepScore`: every row's zone and weighted detection score.
fn sweep(file: &NabFile, profile: &Profile) -> Vec<SweepRow> {
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
fn tally(file: &NabFile, rows: &[SweepRow], alarms: &[bool], profile: &Profile) -> FileScore {
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
fn check_length(file: &NabFile, got: usize) -> Result<(), NabError> {
    if got == file.len() {
        Ok(())
    } else {
        Err(NabError::Length {
            file: file.name.clone(),
            expected: file.len(),
            got,
        })
    }
}

/// Checks that there is one per-file vector per file.
fn check_count(files: &[NabFile], got: usize) -> Result<(), NabError> {
    if got == files.len() {
        Ok(())
    } else {
        Err(NabError::FileCount {
            expected: files.len(),
            got,
        })
    }
}

/// NAB's score of one file: `alarms[i]` is a detection at row `i`.
pub fn score_file(
    file: &NabFile,
    alarms: &[bool],
    profile: &Profile,
) -> Result<FileScore, NabError> {
    check_length(file, alarms.len())?;
    Ok(tally(file, &sweep(file, profile), alarms, profile))
}

/// A corpus score, with NAB's baselines and normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusScore {
    /// Sum of the files' raw scores.
    pub raw: f64,
    /// Raw score of the detector that never alarms (`-fn` per scored window).
    pub null: f64,
    /// `tp × windows` (`Runner.normalize`), every labelled window counted.
    pub perfect: f64,
    /// `100 (raw - null) / (perfect - null)`; NaN when `perfect == null` (no windows).
    pub normalised: f64,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
    pub windows: usize,
    pub windows_scored: usize,
    pub windows_detected: usize,
    /// Per-file scores, in the order given.
    pub files: Vec<FileScore>,
}

/// NAB's corpus score and normalised score for per-file alarms (`alarms[f]` for `files[f]`).
pub fn normalised(
    files: &[NabFile],
    alarms: &[Vec<bool>],
    profile: &Profile,
) -> Result<CorpusScore, NabError> {
    check_count(files, alarms.len())?;
    let mut corpus = CorpusScore {
        raw: 0.0,
        null: 0.0,
        perfect: 0.0,
        normalised: f64::NAN,
        tp: 0,
        fp: 0,
        fn_: 0,
        tn: 0,
        windows: 0,
        windows_scored: 0,
        windows_detected: 0,
        files: Vec::with_capacity(files.len()),
    };
    for (file, alarms) in files.iter().zip(alarms) {
        check_length(file, alarms.len())?;
        let rows = sweep(file, profile);
        let score = tally(file, &rows, alarms, profile);
        corpus.null += tally(file, &rows, &vec![false; file.len()], profile).score;
        corpus.raw += score.score;
        corpus.tp += score.tp;
        corpus.fp += score.fp;
        corpus.fn_ += score.fn_;
        corpus.tn += score.tn;
        corpus.windows += score.windows;
        corpus.windows_scored += score.windows_scored;
        corpus.windows_detected += score.windows_detected;
        corpus.files.push(score);
    }
    corpus.perfect = corpus.windows as f64 * profile.tp;
    if corpus.perfect != corpus.null {
        corpus.normalised = 100.0 * (corpus.raw - corpus.null) / (corpus.perfect - corpus.null);
    }
    Ok(corpus)
}

/// Alarms where `score >= threshold` (NAB's `scoreDataSet`); NaN never alarms.
pub fn alarms_at(scores: &[f64], threshold: f64) -> Vec<bool> {
    scores.iter().map(|&s| s >= threshold).collect()
}

/// NAB's corpus score when every file alarms where its score is at least `threshold`.
pub fn score_at_threshold(
    files: &[NabFile],
    scores: &[Vec<f64>],
    threshold: f64,
    profile: &Profile,
) -> Result<CorpusScore, NabError> {
    check_count(files, scores.len())?;
    let alarms: Vec<Vec<bool>> = scores.iter().map(|s| alarms_at(s, threshold)).collect();
    normalised(files, &alarms, profile)
}

/// A scored row for the threshold sweep.
#[derive(Debug, Clone, Copy)]
struct Point {
    score: f64,
    weighted: f64,
    /// Corpus-wide window index, or `None` outside windows.
    window: Option<usize>,
}

/// The threshold maximising the corpus raw score, and the corpus score there
/// (`optimizer.optimizeThreshold` over `Sweeper.calcScoreByThreshold`).
///
/// Like NAB's optimiser, it tries every distinct anomaly score of the scored
/// (non-probationary) rows of the whole corpus, plus "never alarm", returned as
/// `f64::INFINITY`; ties go to the highest threshold. Scores in probationary rows are
/// ignored (they may be NaN); others must be finite. One sort, then one incremental pass:
/// O(rows log rows). The returned score is recomputed with [`score_at_threshold`].
pub fn optimise_threshold(
    files: &[NabFile],
    scores: &[Vec<f64>],
    profile: &Profile,
) -> Result<(f64, CorpusScore), NabError> {
    check_count(files, scores.len())?;
    let mut points = Vec::new();
    let mut window_base = 0;
    for (file, values) in files.iter().zip(scores) {
        check_length(file, values.len())?;
        for (row, (sweep_row, &value)) in sweep(file, profile).iter().zip(values).enumerate() {
            let window = match sweep_row.zone {
                Zone::Probationary => continue,
                Zone::Outside => None,
                Zone::Window(k) => Some(window_base + k),
            };
            if !value.is_finite() {
                return Err(NabError::BadScore {
                    file: file.name.clone(),
                    row,
                    value,
                });
            }
            // `+ 0.0` turns -0.0 into 0.0, which NAB treats as the same threshold.
            points.push(Point {
                score: value + 0.0,
                weighted: sweep_row.weighted,
                window,
            });
        }
        window_base += file.spans.len();
    }
    let threshold = best_threshold(&mut points, window_base, profile);
    let corpus = score_at_threshold(files, scores, threshold, profile)?;
    Ok((threshold, corpus))
}

/// Sweeps the threshold down through every distinct score, keeping the best corpus score.
fn best_threshold(points: &mut [Point], windows: usize, profile: &Profile) -> f64 {
    let mut part = vec![-profile.fn_; windows];
    let mut scored = vec![false; windows];
    for w in points.iter().filter_map(|p| p.window) {
        scored[w] = true;
    }
    let mut windows_total = -profile.fn_ * scored.iter().filter(|&&s| s).count() as f64;
    let mut fp_sum = 0.0;
    // Stable, descending; sorted once.
    points.sort_by(|a, b| b.score.total_cmp(&a.score));
    let (mut best_threshold, mut best_score) = (f64::INFINITY, windows_total);
    for group in points.chunk_by(|a, b| a.score == b.score) {
        for p in group {
            match p.window {
                None => fp_sum += p.weighted,
                Some(w) if p.weighted > part[w] => {
                    windows_total += p.weighted - part[w];
                    part[w] = p.weighted;
                }
                Some(_) => {}
            }
        }
        let total = fp_sum + windows_total;
        if total > best_score {
            (best_threshold, best_score) = (group[0].score, total);
        }
    }
    best_threshold
}

/// Parses a NAB timestamp (`2014-02-19 10:50:00.000000`, `2014-02-19 10:50:00`, or any
/// form [`crate::time::parse_timestamp`] reads) as unix seconds, UTC; whole seconds only.
fn parse_time(text: &str) -> Option<i64> {
    let s = text.trim();
    let t = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
        .or_else(|| crate::time::parse_timestamp(s).ok())?;
    (t.timestamp_subsec_nanos() == 0).then_some(t.timestamp())
}

/// `{"file": [["start", "end"], ...], ...}` as written, keys in file order, so that a
/// key given twice is caught rather than silently overwritten.
struct WindowJson(Vec<(String, Vec<(String, String)>)>);

impl<'de> serde::Deserialize<'de> for WindowJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = WindowJson;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of file names to [start, end] windows")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<WindowJson, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(WindowJson(entries))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// Reads NAB's `labels/combined_windows.json`: data-file path → windows `(start, end)`,
/// inclusive unix seconds (timestamps like `2014-02-19 10:50:00.000000`, taken as UTC).
pub fn read_windows(path: &Path) -> Result<BTreeMap<String, Vec<(i64, i64)>>, NabError> {
    let text = fs::read_to_string(path).map_err(|source| NabError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let json_err = |message: String| NabError::Json {
        path: path.to_path_buf(),
        message,
    };
    let raw: WindowJson = serde_json::from_str(&text).map_err(|e| json_err(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (key, windows) in raw.0 {
        if out.contains_key(&key) {
            return Err(json_err(format!("duplicate key {key:?}")));
        }
        let time = |text: &str| {
            parse_time(text).ok_or_else(|| NabError::Timestamp {
                file: format!("{}: {key}", path.display()),
                text: text.to_string(),
            })
        };
        let windows = windows
            .iter()
            .map(|(start, end)| Ok((time(start)?, time(end)?)))
            .collect::<Result<Vec<_>, NabError>>()?;
        out.insert(key, windows);
    }
    Ok(out)
}

/// Reads a NAB data file (`timestamp,value` CSV): row timestamps (unix seconds) and values.
pub fn read_series(path: &Path) -> Result<(Vec<i64>, Vec<f64>), NabError> {
    let csv_error = |message: String| NabError::Csv {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| csv_error(e.to_string()))?;
    let headers = reader.headers().map_err(|e| csv_error(e.to_string()))?;
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| csv_error(format!("no {name:?} column")))
    };
    let (t_col, v_col) = (column("timestamp")?, column("value")?);
    let (mut times, mut values) = (Vec::new(), Vec::new());
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(e.to_string()))?;
        let row = i + 2;
        let field = |c: usize| record.get(c).unwrap_or("");
        let time = parse_time(field(t_col)).ok_or_else(|| NabError::Timestamp {
            file: format!("{} line {row}", path.display()),
            text: field(t_col).to_string(),
        })?;
        let value = field(v_col)
            .trim()
            .parse::<f64>()
            .map_err(|_| csv_error(format!("line {row}: bad value {:?}", field(v_col))))?;
        times.push(time);
        values.push(value);
    }
    Ok((times, values))
}

/// Loads the NAB files whose label key starts with `prefix` (e.g. `"realAWSCloudwatch/"`)
/// from a NAB checkout at `root` (`labels/combined_windows.json`, `data/<key>`), in key
/// order: the files and their values.
pub fn load_corpus(root: &Path, prefix: &str) -> Result<(Vec<NabFile>, Vec<Vec<f64>>), NabError> {
    let windows = read_windows(&root.join("labels").join("combined_windows.json"))?;
    let mut files = Vec::new();
    let mut values = Vec::new();
    for (key, windows) in windows.into_iter().filter(|(k, _)| k.starts_with(prefix)) {
        let (times, vals) = read_series(&root.join("data").join(&key))?;
        files.push(NabFile::new(key, times, windows)?);
        values.push(vals);
    }
    Ok((files, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `2 σ(5) - 1`: the unweighted score at a window's first row.
    const MAX_TP: f64 = 0.9866142981514305;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// A file of `n` rows one minute apart with windows given as row ranges.
    fn file(n: usize, windows: &[(usize, usize)]) -> NabFile {
        let times = (0..n as i64)
            .map(|i| 1_400_000_000 + 60 * i)
            .collect::<Vec<_>>();
        let windows = windows.iter().map(|&(l, r)| (times[l], times[r])).collect();
        NabFile::new("test.csv", times, windows).expect("valid test file")
    }

    fn alarms(n: usize, at: &[usize]) -> Vec<bool> {
        let mut a = vec![false; n];
        for &i in at {
            a[i] = true;
        }
        a
    }

    fn score(f: &NabFile, at: &[usize], profile: &Profile) -> FileScore {
        score_file(f, &alarms(f.len(), at), profile).expect("scored")
    }

    /// A profile with every weight 1, as NAB's own scorer tests use.
    const UNIT: Profile = Profile {
        name: "unit",
        tp: 1.0,
        fp: 1.0,
        fn_: 1.0,
        tn: 1.0,
    };

    #[test]
    fn probationary_length_matches_nab() {
        let cases = [
            (0, 0),
            (10, 1),
            (20, 3),
            (100, 15),
            (1243, 186),
            (4032, 604),
            (4730, 709),
            (5000, 750),
            (6000, 750),
        ];
        for (n, rows) in cases {
            assert_eq!(probationary_rows(n), rows, "n = {n}");
        }
    }

    #[test]
    fn profiles_match_profiles_json() {
        assert_eq!(
            PROFILES.map(|p| p.name),
            ["standard", "reward_low_FP_rate", "reward_low_FN_rate"]
        );
        assert_eq!(
            PROFILES.map(|p| (p.tp, p.fp, p.fn_, p.tn)),
            [
                (1.0, 0.11, 1.0, 1.0),
                (1.0, 0.22, 1.0, 1.0),
                (1.0, 0.11, 2.0, 1.0)
            ]
        );
    }

    #[test]
    fn scaled_sigmoid_values() {
        assert!(close(scaled_sigmoid(-1.0), MAX_TP));
        assert!(close(
            scaled_sigmoid(-1.0),
            2.0 / (1.0 + (-5.0f64).exp()) - 1.0
        ));
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!(close(scaled_sigmoid(1.0), -MAX_TP));
        assert!(close(scaled_sigmoid(3.0), -0.9999993881955461));
        assert_eq!(scaled_sigmoid(3.0001), -1.0);
    }

    #[test]
    fn detection_at_window_start_earns_tp_weight() {
        // NAB divides by scaledSigmoid(-1), so the first row earns exactly tpWeight
        // (NAB's true_positive_test.testFirstTruePositiveWithinWindow).
        let f = file(100, &[(40, 49)]);
        for profile in PROFILES {
            let s = score(&f, &[40], &profile);
            assert_eq!(s.score, 1.0);
            assert_eq!((s.tp, s.fp, s.fn_, s.tn), (1, 0, 9, 75));
            assert_eq!((s.windows, s.windows_scored, s.windows_detected), (1, 1, 1));
        }
    }

    #[test]
    fn nab_scoring_all_metrics_example() {
        // NAB's scorer_test.testScoringAllMetrics: 100 rows, windows at rows 30..34 and
        // 65..69, detections at 30 (TP), 31 (second TP, ignored) and 37 (FP).
        // FP position (37 - 34) / (5 - 1) = 0.75: 2σ(-3.75) - 1 = -0.95405.
        let f = file(100, &[(30, 34), (65, 69)]);
        let s = score(&f, &[30, 31, 37], &UNIT);
        let fp = 2.0 / (1.0 + 3.75f64.exp()) - 1.0;
        assert!(close(s.score, 1.0 + fp - 1.0));
        assert!(close(s.score, -0.9540452601799487));
        // NAB's test uses no probation: tn = 89 there, 89 - 15 probationary rows here.
        assert_eq!((s.tp, s.fp, s.fn_, s.tn), (2, 1, 8, 74));
        let standard = score(&f, &[30, 31, 37], &STANDARD);
        assert!(close(standard.score, 1.0 + 0.11 * fp - 1.0));
        assert!(close(standard.score, -0.10494497861979435));
    }

    #[test]
    fn later_detections_score_by_relative_position() {
        let f = file(100, &[(30, 34)]);
        // Row 31: position -(34 - 31 + 1) / 5 = -0.8, 2σ(4) - 1 over 2σ(5) - 1.
        let row31 = (2.0 / (1.0 + (-4.0f64).exp()) - 1.0) / MAX_TP;
        assert!(close(score(&f, &[31], &STANDARD).score, row31));
        assert!(close(row31, 0.9771068409226045));
        // Only the earliest detection counts.
        let both = score(&f, &[31, 33], &STANDARD);
        assert_eq!(both.score, score(&f, &[31], &STANDARD).score);
        assert_eq!(both.tp, 2);
        // Right edge: position -1/5, 2σ(1) - 1 = tanh(0.5), over MAX_TP.
        let edge = score(&f, &[34], &STANDARD).score;
        assert!(close(edge, 0.5f64.tanh() / MAX_TP));
        assert!(close(edge, 0.46838684390227814));
    }

    #[test]
    fn missed_windows_cost_fn_weight() {
        let f = file(100, &[(30, 34), (65, 69)]);
        assert_eq!(score(&f, &[], &STANDARD).score, -2.0);
        assert_eq!(score(&f, &[], &REWARD_LOW_FP_RATE).score, -2.0);
        assert_eq!(score(&f, &[], &REWARD_LOW_FN_RATE).score, -4.0);
        assert_eq!(score(&f, &[30], &REWARD_LOW_FN_RATE).score, 1.0 - 2.0);
    }

    #[test]
    fn false_positive_before_any_window_costs_fp_weight() {
        let f = file(100, &[(60, 69)]);
        assert!(close(score(&f, &[20], &STANDARD).score, -0.11 - 1.0));
        assert!(close(
            score(&f, &[20], &REWARD_LOW_FP_RATE).score,
            -0.22 - 1.0
        ));
        let no_windows = file(100, &[]);
        let s = score(&no_windows, &[20, 21], &STANDARD);
        assert!(close(s.score, -0.22));
        assert_eq!((s.tp, s.fp, s.fn_, s.tn), (0, 2, 0, 83));
    }

    #[test]
    fn false_positive_after_window_scored_by_sigmoid() {
        let f = file(100, &[(30, 34)]);
        // Row 35: position |34 - 35| / (5 - 1) = 0.25: 2σ(-1.25) - 1 = -0.55460.
        let fp = 2.0 / (1.0 + 1.25f64.exp()) - 1.0;
        assert!(close(fp, -0.5545997223493824));
        let s = score(&f, &[35], &STANDARD);
        assert!(close(s.score, 0.11 * fp - 1.0));
        // NAB's true_positive_test.testTruePositiveAtRightEdgeOfWindow: TP at the right
        // edge plus FP just after, plus the missed window, is nearly 0 (at fp weight 1).
        let wide = file(1000, &[(450, 549)]);
        let tp = score(&wide, &[549], &UNIT).score;
        let fp = score(&wide, &[550], &UNIT).score;
        assert!((tp + fp + 1.0).abs() < 1e-3);
        // Far past the window (position > 3) a false positive costs the full fp weight.
        assert!(close(score(&f, &[47], &STANDARD).score, -0.11 - 1.0));
        // An earlier false positive after a window costs less than a later one.
        assert!(score(&f, &[36], &UNIT).score > score(&f, &[37], &UNIT).score);
    }

    #[test]
    fn probationary_rows_are_not_scored() {
        // 100 rows: rows 0..15 are probationary.
        let f = file(100, &[(60, 69)]);
        let s = score(&f, &[0, 5, 14], &STANDARD);
        assert_eq!(s.score, -1.0);
        assert_eq!((s.tp, s.fp, s.fn_, s.tn), (0, 0, 10, 75));
        assert!(close(score(&f, &[15], &STANDARD).score, -0.11 - 1.0));
    }

    #[test]
    fn windows_in_probation_are_not_scored_but_shape_later_false_positives() {
        // 100 rows: rows 0..15 are probationary. A window at rows 5..14 lies wholly in
        // probation: no miss is charged for it, but the false positive at row 15 is scored
        // after it: |14 - 15| / (10 - 1) = 1/9, and 2σ(-5/9) - 1 = -tanh(5/18).
        let f = file(100, &[(5, 14)]);
        let s = score(&f, &[], &STANDARD);
        assert_eq!(s.score, 0.0);
        assert_eq!((s.windows, s.windows_scored, s.fn_), (1, 0, 0));
        let fp = score(&f, &[15], &STANDARD).score;
        assert!(close(fp, 0.11 * -(5.0f64 / 18.0).tanh()));
        // From row 42 the position (28/9) passes 3 and the full -fp applies.
        assert!(close(
            score(&f, &[41], &STANDARD).score,
            0.11 * scaled_sigmoid(3.0)
        ));
        assert!(close(score(&f, &[42], &STANDARD).score, -0.11));
    }

    #[test]
    fn window_straddling_probation_keeps_its_full_width() {
        // Window rows 10..19 (width 10), probation ends at 15.
        let f = file(100, &[(10, 19)]);
        // A detection inside probation does not count: the window is missed.
        assert_eq!(score(&f, &[12], &STANDARD).score, -1.0);
        // Row 15: position -(19 - 15 + 1) / 10 = -0.5: (2σ(2.5) - 1) / MAX_TP.
        let s = score(&f, &[12, 15], &STANDARD);
        assert!(close(s.score, 1.25f64.tanh() / MAX_TP));
        assert!(close(s.score, 0.8597925669097837));
        assert_eq!((s.tp, s.fn_), (1, 4));
    }

    #[test]
    fn repeated_timestamps_follow_first_occurrence() {
        // Rows 50 and 51 share a timestamp, as in NAB's daylight-saving repeats. A window
        // ending at that time ends at row 50 (NAB's `timestamps.index`), so row 51 is
        // outside: a false positive at |50 - 51| / (2 - 1) = 1.
        let mut times = (0..100i64).map(|i| 60 * i).collect::<Vec<_>>();
        for t in &mut times[51..] {
            *t -= 60;
        }
        let f = NabFile::new("dup.csv", times, vec![(49 * 60, 50 * 60)]).expect("valid");
        assert_eq!(f.window_rows(), &[(49, 50)]);
        let s = score(&f, &[51], &STANDARD);
        assert!(close(s.score, 0.11 * -MAX_TP - 1.0));
        assert_eq!((s.fp, s.fn_), (1, 2));
    }

    #[test]
    fn invalid_inputs_are_rejected_with_the_file_name() {
        let times: Vec<i64> = (0..10).map(|i| 60 * i).collect();
        let cases = [
            (times.clone(), vec![(30, 60)]),
            (times.clone(), vec![(60, 120), (120, 180)]),
            (times.clone(), vec![(180, 240), (60, 120)]),
            (times.clone(), vec![(120, 60)]),
            (vec![0, 60, 30], vec![]),
        ];
        for (times, windows) in cases {
            let err = NabFile::new("bad.csv", times, windows).expect_err("invalid");
            assert!(err.to_string().starts_with("bad.csv: "), "{err}");
        }
        let f = file(10, &[]);
        let err = score_file(&f, &[false; 9], &STANDARD).expect_err("short");
        assert!(err.to_string().contains("test.csv"), "{err}");
        let err = optimise_threshold(&[f], &[], &STANDARD).expect_err("count");
        assert!(matches!(
            err,
            NabError::FileCount {
                expected: 1,
                got: 0
            }
        ));
    }

    #[test]
    fn normalisation_perfect_is_100_and_null_is_0() {
        let files = [
            file(100, &[(30, 34), (65, 69)]),
            file(200, &[(120, 139)]),
            file(50, &[]),
        ];
        for profile in PROFILES {
            let null: Vec<Vec<bool>> = files.iter().map(|f| vec![false; f.len()]).collect();
            let n = normalised(&files, &null, &profile).expect("null");
            assert_eq!(n.raw, -3.0 * profile.fn_);
            assert_eq!(n.null, n.raw);
            assert_eq!(n.perfect, 3.0);
            assert_eq!(n.normalised, 0.0);

            let perfect = [alarms(100, &[30, 65]), alarms(200, &[120]), alarms(50, &[])];
            let p = normalised(&files, &perfect, &profile).expect("perfect");
            assert_eq!(p.raw, 3.0);
            assert_eq!(p.normalised, 100.0);
            assert_eq!((p.windows, p.windows_detected), (3, 3));
        }
        // One window of two found at its start, the other missed (standard):
        // raw = 1 - 1 = 0, null = -2, perfect = 2: 100 × 2 / 4 = 50.
        let two = [file(100, &[(30, 34), (65, 69)])];
        let half = normalised(&two, &[alarms(100, &[30])], &STANDARD).expect("half");
        assert_eq!((half.raw, half.null, half.perfect), (0.0, -2.0, 2.0));
        assert_eq!(half.normalised, 50.0);
        // No windows: normalisation is undefined.
        let none = normalised(&[file(50, &[])], &[vec![false; 50]], &STANDARD).expect("none");
        assert!(none.normalised.is_nan());
    }

    #[test]
    fn optimiser_finds_the_best_threshold() {
        // Window at rows 40..49. Row 5 (probationary) has the highest score but is not a
        // candidate; 0.9 at row 42 is a TP, 0.85 at row 43 a later TP (same score: the tie
        // goes to the higher threshold), 0.8 at row 20 a FP before the window.
        let f = file(100, &[(40, 49)]);
        let mut s = vec![0.0; 100];
        (s[5], s[42], s[43], s[20], s[60]) = (0.95, 0.9, 0.85, 0.8, 0.5);
        let files = [f];
        let scores = [s];
        let (threshold, best) = optimise_threshold(&files, &scores, &STANDARD).expect("optimised");
        assert_eq!(threshold, 0.9);
        assert!(close(best.raw, 0.9771068409226045));
        assert_eq!((best.tp, best.fp), (1, 0));
        for t in [f64::INFINITY, 0.95, 0.85, 0.8, 0.5, 0.0] {
            let at = score_at_threshold(&files, &scores, t, &STANDARD).expect("scored");
            assert!(
                best.raw >= at.raw,
                "threshold {t}: {} > {}",
                at.raw,
                best.raw
            );
        }
        assert!(close(
            score_at_threshold(&files, &scores, 0.8, &STANDARD)
                .expect("s")
                .raw,
            0.9771068409226045 - 0.11
        ));
    }

    #[test]
    fn optimiser_never_alarms_when_alarms_only_hurt() {
        let files = [file(100, &[])];
        let scores = [(0..100).map(f64::from).collect::<Vec<_>>()];
        let (threshold, best) = optimise_threshold(&files, &scores, &STANDARD).expect("optimised");
        assert_eq!(threshold, f64::INFINITY);
        assert_eq!(best.raw, 0.0);
        assert_eq!(best.fp, 0);
    }

    #[test]
    fn optimiser_ignores_probationary_nan_but_rejects_others() {
        let files = [file(100, &[(40, 49)])];
        let mut s = vec![0.0; 100];
        s[3] = f64::NAN;
        s[41] = 1.0;
        let (threshold, _) = optimise_threshold(&files, &[s.clone()], &STANDARD).expect("ok");
        assert_eq!(threshold, 1.0);
        s[30] = f64::NAN;
        let err = optimise_threshold(&files, &[s], &STANDARD).expect_err("nan");
        assert!(matches!(err, NabError::BadScore { row: 30, .. }), "{err}");
    }

    proptest! {
        #[test]
        fn optimiser_matches_brute_force(
            lens in prop::collection::vec(20usize..150, 1..4),
            seeds in prop::collection::vec(0u32..1000, 600),
            starts in prop::collection::vec((0usize..150, 1usize..20), 0..4),
            profile in 0usize..3,
        ) {
            let profile = PROFILES[profile];
            let mut files = Vec::new();
            let mut scores = Vec::new();
            for (f, &n) in lens.iter().enumerate() {
                let mut windows: Vec<(usize, usize)> = Vec::new();
                for &(start, width) in &starts {
                    let start = (start + 37 * f) % n;
                    let end = (start + width).min(n - 1);
                    if windows.last().is_none_or(|&(_, e)| start > e) {
                        windows.push((start, end));
                    }
                }
                files.push(file(n, &windows));
                // Few distinct values, so that thresholds tie across rows.
                scores.push((0..n).map(|i| f64::from(seeds[(i * 7 + f * 13) % seeds.len()] % 12) / 11.0).collect::<Vec<_>>());
            }
            let (threshold, best) = optimise_threshold(&files, &scores, &profile).expect("optimised");
            let mut candidates: Vec<f64> = scores.iter().flatten().copied().collect();
            candidates.push(f64::INFINITY);
            let mut brute = f64::NEG_INFINITY;
            for &t in &candidates {
                let at = score_at_threshold(&files, &scores, t, &profile).expect("scored");
                prop_assert!(best.raw >= at.raw - 1e-9, "threshold {}: {} > {}", t, at.raw, best.raw);
                brute = brute.max(at.raw);
            }
            prop_assert!((best.raw - brute).abs() < 1e-9);
            let again = score_at_threshold(&files, &scores, threshold, &profile).expect("scored");
            prop_assert_eq!(again.raw, best.raw);
            prop_assert_eq!((again.tp, again.fp, again.fn_, again.tn), (best.tp, best.fp, best.fn_, best.tn));
        }
    }

    #[test]
    fn read_windows_parses_nab_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("windows.json");
        let text = r#"{
    "a/x.csv": [
        ["2014-02-19 10:50:00.000000", "2014-02-20 03:30:00.000000"],
        ["2014-02-21 00:00:00", "2014-02-21 00:05:00"]
    ],
    "b/y\u0020z.csv": []
}"#;
        fs::write(&path, text).expect("write");
        let windows = read_windows(&path).expect("parsed");
        assert_eq!(windows.len(), 2);
        assert_eq!(
            windows["a/x.csv"],
            vec![
                (1_392_807_000, 1_392_867_000),
                (1_392_940_800, 1_392_941_100)
            ]
        );
        assert_eq!(windows["b/y z.csv"], vec![]);

        for bad in [
            r#"{"a": [["2014-02-19 10:50:00"]]}"#,
            r#"{"a": [["2014-02-19 10:50:00", "x"]]}"#,
            r#"{"a": [["2014-02-19 10:50:00.5", "2014-02-19 10:50:00"]]}"#,
            r#"{"a": []"#,
            r#"{"a": [], "a": []}"#,
            r#"{"a": []} x"#,
        ] {
            fs::write(&path, bad).expect("write");
            let err = read_windows(&path).expect_err(bad);
            assert!(err.to_string().contains("windows.json"), "{err}");
        }
    }

    #[test]
    fn read_series_parses_nab_csv() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.csv");
        fs::write(
            &path,
            "timestamp,value\n2014-02-14 14:30:00,0.132\n2014-02-14 14:35:00,1e3\n",
        )
        .expect("write");
        let (times, values) = read_series(&path).expect("read");
        assert_eq!(times, vec![1_392_388_200, 1_392_388_500]);
        assert_eq!(values, vec![0.132, 1000.0]);
        fs::write(&path, "timestamp,value\n2014-02-14 14:30:00,abc\n").expect("write");
        let err = read_series(&path).expect_err("bad value");
        assert!(
            err.to_string().contains("x.csv") && err.to_string().contains("line 2"),
            "{err}"
        );
    }

    /// The NAB checkout shared by the benchmarks; the test is skipped where it is absent.
    const NAB_ROOT: &str = "/work/shared/benchmarks/nab";

    #[test]
    fn real_aws_cloudwatch_corpus() {
        let root = Path::new(NAB_ROOT);
        if !root.join("labels/combined_windows.json").exists() {
            eprintln!("skipped: no NAB checkout at {NAB_ROOT}");
            return;
        }
        let windows = read_windows(&root.join("labels/combined_windows.json")).expect("windows");
        assert_eq!(windows.len(), 58);
        assert_eq!(windows.values().map(Vec::len).sum::<usize>(), 116);
        let aws: Vec<_> = windows
            .keys()
            .filter(|k| k.starts_with("realAWSCloudwatch/"))
            .collect();
        assert_eq!(aws.len(), 17);
        let w = &windows["realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv"];
        assert_eq!(w.len(), 2);

        let (files, values) = load_corpus(root, "realAWSCloudwatch/").expect("corpus");
        assert_eq!(files.len(), 17);
        assert_eq!(files.iter().map(|f| f.windows().len()).sum::<usize>(), 30);
        let f = &files[0];
        assert_eq!(
            (f.name(), f.len(), f.probationary_rows()),
            (
                "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
                4032,
                604
            )
        );
        assert_eq!(f.window_rows(), &[(3447, 3647), (3677, 3877)]);
        for profile in PROFILES {
            let perfect: Vec<Vec<bool>> = files
                .iter()
                .map(|f| {
                    alarms(
                        f.len(),
                        &f.window_rows().iter().map(|w| w.0).collect::<Vec<_>>(),
                    )
                })
                .collect();
            let p = normalised(&files, &perfect, &profile).expect("perfect");
            assert_eq!(
                (p.raw, p.null, p.perfect, p.normalised),
                (30.0, -30.0 * profile.fn_, 30.0, 100.0)
            );
            let (threshold, best) =
                optimise_threshold(&files, &values, &profile).expect("optimised");
            assert!(best.raw >= best.null, "{threshold}: {best:?}");
            assert!(best.normalised.is_finite());
        }
    }
}
