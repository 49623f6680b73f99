//! The corpus: scores summed over files, normalised against the null and perfect detectors, and the threshold NAB's optimiser picks (`optimizer.py`, `Runner.normalize`).

use super::*;

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
) -> Result<CorpusScore, Error> {
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
) -> Result<CorpusScore, Error> {
    check_count(files, scores.len())?;
    let alarms: Vec<Vec<bool>> = scores.iter().map(|s| alarms_at(s, threshold)).collect();
    normalised(files, &alarms, profile)
}

/// A scored row for the threshold sweep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
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
) -> Result<(f64, CorpusScore), Error> {
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
                return Err(Error::BadScore {
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
pub(crate) fn best_threshold(points: &mut [Point], windows: usize, profile: &Profile) -> f64 {
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
