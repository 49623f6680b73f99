//! `vigil-bench nab`: Vigil on the Numenta Anomaly Benchmark's real server metrics.
//!
//! For each file (every labelled file present, by default) a model is trained on the probationary
//! period only (the first 15 %, at most 750 rows, which NAB does not score), then every
//! row of the file is scored by the streaming detector exactly as `detector metrics`
//! would. Two NAB scores are reported per profile, for the model and for the per-hour
//! z-score baseline:
//! - **default**: an alarm at the first row of each anomaly the detector reports with its
//!   own defaults (no label ever seen: what a user gets);
//! - **NAB-optimised**: NAB's own protocol for every published detector — one threshold
//!   on the anomaly scores for the whole corpus, chosen to maximise the score.

use super::*;
use crate::write_json;
use vigil_core::series::{ReadOptions, read_table_from};
use vigil_detector::detect::{Calibration, Detector, Options, calibrate};
use vigil_detector::output::Collect;
use vigil_model::config::TrainingConfig;
use vigil_trainer::train_table;

/// Published standard-profile scores over the whole NAB corpus (58 files).
pub const PUBLISHED: [(&str, f64); 7] = [
    ("Numenta HTM", 70.5),
    ("CAD OSE", 69.9),
    ("KNN CAD", 58.0),
    ("Random Cut Forest", 51.7),
    ("Twitter ADVec", 47.1),
    ("Windowed Gaussian", 39.6),
    ("random", 11.0),
];

pub struct NabJob<'a> {
    pub benchmarks: &'a Path,
    /// Label-key prefix of the files to run, e.g. `realAWSCloudwatch/`.
    pub prefix: &'a str,
    pub out: &'a Path,
    pub config: TrainingConfig,
    pub options: Options,
}

/// One profile's scores.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileResult {
    pub profile: String,
    pub model_default: f64,
    pub model_optimised: f64,
    pub model_threshold: f64,
    pub baseline_default: f64,
    pub baseline_optimised: f64,
    pub baseline_threshold: f64,
}

/// Per file: windows detected by the model at the defaults and its false alarms (standard).
#[derive(Debug, Clone, Serialize)]
pub struct FileResult {
    pub file: String,
    pub rows: usize,
    pub windows: usize,
    pub model_windows_found: usize,
    pub model_alarms: usize,
    pub baseline_windows_found: usize,
    pub baseline_alarms: usize,
    pub threshold: f64,
    /// Rows older than the previous one, written out unscored by the detector.
    pub out_of_order: u64,
    /// The step (seconds) the file's rows came at, when it was resampled onto the model's.
    pub resampled_from: Option<i64>,
}

/// A labelled file that could not be scored, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// One profile's scores over one category's files (optimised: at the corpus-wide
/// thresholds).
#[derive(Debug, Clone, Serialize)]
pub struct CategoryProfile {
    pub profile: String,
    pub model_default: f64,
    pub model_optimised: f64,
    pub baseline_default: f64,
    pub baseline_optimised: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryResult {
    pub category: String,
    pub files: usize,
    pub profiles: Vec<CategoryProfile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NabReport {
    pub files: Vec<FileResult>,
    pub profiles: Vec<ProfileResult>,
    /// Per category, when the run spans several.
    pub categories: Vec<CategoryResult>,
    /// Labelled files without a data file (a category kept out on purpose).
    pub missing: Vec<String>,
    /// Files that could not be scored, with why.
    pub skipped: Vec<Skipped>,
    pub model_kind: String,
    pub window: usize,
    pub seconds: f64,
}

fn nab_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The first row of every run of alarms.
fn rising_edges(flags: &[bool]) -> Vec<bool> {
    flags
        .iter()
        .enumerate()
        .map(|(i, &f)| f && (i == 0 || !flags[i - 1]))
        .collect()
}

/// NAB's threshold optimisation for a detector that raises one alarm when its score
/// crosses the threshold (rather than one per row above it): every candidate threshold
/// (500 quantiles of the scored rows' scores, then the distinct scores around the best of
/// them) is tried on the whole corpus and the best kept, as NAB does for each published
/// detector.
fn optimise_edges(
    files: &[NabFile],
    scores: &[Vec<f64>],
    profile: &Profile,
    root: &Path,
) -> Result<(f64, CorpusScore), Error> {
    let mut all: Vec<f64> = files
        .iter()
        .zip(scores)
        .flat_map(|(f, s)| s.iter().skip(f.probationary_rows()).copied())
        .filter(|x| x.is_finite())
        .collect();
    all.sort_by(f64::total_cmp);
    let mut candidates: Vec<f64> = (0..500)
        .map(|i| all[((all.len() - 1) as f64 * (0.5 + 0.5 * i as f64 / 499.0)) as usize])
        .collect();
    candidates.push(f64::INFINITY);
    candidates.dedup();
    let score_at = |t: f64| -> Result<CorpusScore, Error> {
        let alarms: Vec<Vec<bool>> = scores.iter().map(|s| edges_at(s, t)).collect();
        normalised(files, &alarms, profile).map_err(|e| nab_err(root, e))
    };
    let mut best: Option<(usize, f64, CorpusScore)> = None;
    for (k, &t) in candidates.iter().enumerate() {
        let c = score_at(t)?;
        if best
            .as_ref()
            .is_none_or(|(_, _, b)| c.normalised > b.normalised)
        {
            best = Some((k, t, c));
        }
    }
    let (k, t, c) = best.ok_or_else(|| nab_err(root, "no scores"))?;
    // The grid's best is refined on every distinct score between its neighbours (at most
    // REFINE of them, evenly spaced): the corpus score only changes at a score value.
    let lo = if k == 0 {
        f64::NEG_INFINITY
    } else {
        candidates[k - 1]
    };
    let hi = candidates.get(k + 1).copied().unwrap_or(f64::INFINITY);
    let (a, b) = (
        all.partition_point(|&x| x <= lo),
        all.partition_point(|&x| x < hi),
    );
    let mut between: Vec<f64> = all[a..b].to_vec();
    between.dedup();
    let stride = between.len().div_ceil(REFINE).max(1);
    let mut best = (t, c);
    for &t in between.iter().step_by(stride) {
        let c = score_at(t)?;
        if c.normalised > best.1.normalised {
            best = (t, c);
        }
    }
    Ok(best)
}

/// Distinct scores tried around the grid's best threshold.
const REFINE: usize = 2000;

/// One file run: its result and its rows' scores and alarms.
struct FileRun {
    result: FileResult,
    model_scores: Vec<f64>,
    base_scores: Vec<f64>,
    model_alarms: Vec<bool>,
    base_alarms: Vec<bool>,
}

/// Trains on `file`'s probationary period and scores every row.
fn run_file(job: &NabJob, file: &NabFile) -> Result<FileRun, Error> {
    let path: PathBuf = job.benchmarks.join("data").join(file.name());
    let text = std::fs::read_to_string(&path).map_err(|e| nab_err(&path, e))?;
    let prob = file.probationary_rows();
    // The probationary rows (plus the header) are all the model ever learns from.
    let head: String = text
        .lines()
        .take(prob + 1)
        .flat_map(|l| [l, "\n"])
        .collect();
    // The model learns at the step the file's rows mostly come at (its timestamps, never
    // its labels): a feed whose step changes after the probationary period (5 min, then
    // 10) is learnt at its usual step, the head resampled onto it.
    let read = ReadOptions {
        step: usual_step(file.times()),
        ..ReadOptions::default()
    };
    let table = read_table_from(head.as_bytes(), &path, &read)?;
    let mut config = job.config.clone();
    config.window = config.window.min(prob / 10).max(4);
    let model = train_table(table, &config, &mut ())
        .map_err(|e| nab_err(&path, format!("training on the probationary period: {e}")))?;
    let calibration: Calibration = calibrate(&model, &job.options)?;
    let stem = Path::new(file.name())
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut rows = Collect::default();
    let mut detector = Detector::new(&model, &job.options, &calibration)?;
    detector.run(text.as_bytes(), &path, &mut rows)?;
    if rows.rows.len() != file.len() {
        return Err(nab_err(
            &path,
            format!(
                "{} rows scored, {} in the file",
                rows.rows.len(),
                file.len()
            ),
        ));
    }
    let ms: Vec<f64> = rows.rows.iter().map(|(_, r)| f64::from(r.score)).collect();
    let bs: Vec<f64> = rows
        .rows
        .iter()
        .map(|(_, r)| f64::from(r.baseline_score))
        .collect();
    let ma = rising_edges(&rows.rows.iter().map(|(_, r)| r.anomaly).collect::<Vec<_>>());
    let ba = rising_edges(
        &rows
            .rows
            .iter()
            .map(|(_, r)| r.baseline_anomaly)
            .collect::<Vec<_>>(),
    );
    let values: Vec<f32> = rows
        .rows
        .iter()
        .map(|(_, r)| r.values.first().copied().unwrap_or(f32::NAN))
        .collect();
    super::results::write_results(
        &job.out.join(format!("{stem}.scores.csv")),
        file,
        &values,
        &ms,
        &ma,
        &bs,
        &ba,
    )?;
    let found = |alarms: &[bool]| -> usize {
        file.window_rows()
            .iter()
            .filter(|(l, r)| {
                alarms[*l..=*r]
                    .iter()
                    .enumerate()
                    .any(|(i, &a)| a && l + i >= prob)
            })
            .count()
    };
    let r = &detector.report;
    Ok(FileRun {
        result: FileResult {
            file: file.name().to_string(),
            rows: file.len(),
            windows: file.windows().len(),
            model_windows_found: found(&ma),
            model_alarms: ma.iter().skip(prob).filter(|a| **a).count(),
            baseline_windows_found: found(&ba),
            baseline_alarms: ba.iter().skip(prob).filter(|a| **a).count(),
            threshold: calibration.model.value,
            out_of_order: r.out_of_order,
            resampled_from: r.resampled.first().map(|s| s.step),
        },
        model_scores: ms,
        base_scores: bs,
        model_alarms: ma,
        base_alarms: ba,
    })
}

/// Every scored file's run, a column per field (in the order of the scored files).
#[derive(Default)]
struct Runs {
    results: Vec<FileResult>,
    model_scores: Vec<Vec<f64>>,
    base_scores: Vec<Vec<f64>>,
    model_alarms: Vec<Vec<bool>>,
    base_alarms: Vec<Vec<bool>>,
}

impl Runs {
    fn push(&mut self, r: FileRun) {
        self.results.push(r.result);
        self.model_scores.push(r.model_scores);
        self.base_scores.push(r.base_scores);
        self.model_alarms.push(r.model_alarms);
        self.base_alarms.push(r.base_alarms);
    }
}

/// NAB scores of `files` for one profile: the default run's alarms, and NAB's optimised threshold.
fn profile_result(
    files: &[NabFile],
    runs: &Runs,
    p: &Profile,
    root: &Path,
) -> Result<(ProfileResult, f64, f64), Error> {
    let score = |alarms: &[Vec<bool>]| -> Result<CorpusScore, Error> {
        normalised(files, alarms, p).map_err(|e| nab_err(root, e))
    };
    let (mt, mo) = optimise_edges(files, &runs.model_scores, p, root)?;
    let (bt, bo) = optimise_edges(files, &runs.base_scores, p, root)?;
    let result = ProfileResult {
        profile: p.name.to_string(),
        model_default: score(&runs.model_alarms)?.normalised,
        model_optimised: mo.normalised,
        model_threshold: mt,
        baseline_default: score(&runs.base_alarms)?.normalised,
        baseline_optimised: bo.normalised,
        baseline_threshold: bt,
    };
    Ok((result, mt, bt))
}

/// The alarms of a detector alarming once when its score crosses `threshold`.
fn edges_at(scores: &[f64], threshold: f64) -> Vec<bool> {
    rising_edges(&scores.iter().map(|&x| x >= threshold).collect::<Vec<_>>())
}

pub fn run_nab(job: &NabJob) -> Result<NabReport, Error> {
    let started = std::time::Instant::now();
    let corpus = load_corpus(job.benchmarks, job.prefix).map_err(|e| nab_err(job.benchmarks, e))?;
    if corpus.files.is_empty() {
        return Err(nab_err(
            job.benchmarks,
            format!(
                "no labelled files under data/{} ({} labelled without a data file, {} unreadable)",
                job.prefix,
                corpus.missing.len(),
                corpus.skipped.len()
            ),
        ));
    }
    std::fs::create_dir_all(job.out).map_err(|source| Error::OutDir {
        path: job.out.to_path_buf(),
        source,
    })?;
    let mut skipped: Vec<Skipped> = corpus
        .skipped
        .iter()
        .map(|(file, reason)| Skipped {
            file: file.clone(),
            reason: reason.clone(),
        })
        .collect();
    let mut files = Vec::new();
    let mut runs = Runs::default();
    for file in &corpus.files {
        match run_file(job, file) {
            Ok(run) => {
                files.push(file.clone());
                runs.push(run);
            }
            // One file never stops the run: it is reported, and the others are scored.
            Err(e) => skipped.push(Skipped {
                file: file.name().to_string(),
                reason: format!("{e:#}"),
            }),
        }
    }
    if files.is_empty() {
        return Err(nab_err(job.benchmarks, "no file could be scored"));
    }
    let mut profiles = Vec::new();
    let mut thresholds = Vec::new();
    for p in &PROFILES {
        let (result, mt, bt) = profile_result(&files, &runs, p, job.benchmarks)?;
        profiles.push(result);
        thresholds.push((mt, bt));
    }
    // Per category: the default run's alarms, and the corpus-wide optimised thresholds.
    let mut categories = Vec::new();
    let mut names: Vec<&str> = files.iter().map(|f| category(f.name())).collect();
    names.sort_unstable();
    names.dedup();
    if names.len() > 1 {
        for name in names {
            let idx: Vec<usize> = (0..files.len())
                .filter(|&i| category(files[i].name()) == name)
                .collect();
            let sub: Vec<NabFile> = idx.iter().map(|&i| files[i].clone()).collect();
            let mut scores = Vec::new();
            for (p, &(mt, bt)) in PROFILES.iter().zip(&thresholds) {
                let at = |alarms: Vec<Vec<bool>>| {
                    normalised(&sub, &alarms, p)
                        .map(|c| c.normalised)
                        .map_err(|e| nab_err(job.benchmarks, e))
                };
                scores.push(CategoryProfile {
                    profile: p.name.to_string(),
                    model_default: at(idx.iter().map(|&i| runs.model_alarms[i].clone()).collect())?,
                    model_optimised: at(idx
                        .iter()
                        .map(|&i| edges_at(&runs.model_scores[i], mt))
                        .collect())?,
                    baseline_default: at(idx
                        .iter()
                        .map(|&i| runs.base_alarms[i].clone())
                        .collect())?,
                    baseline_optimised: at(idx
                        .iter()
                        .map(|&i| edges_at(&runs.base_scores[i], bt))
                        .collect())?,
                });
            }
            categories.push(CategoryResult {
                category: name.to_string(),
                files: idx.len(),
                profiles: scores,
            });
        }
    }
    let report = NabReport {
        files: runs.results,
        profiles,
        categories,
        missing: corpus.missing,
        skipped,
        model_kind: job.config.model.name().to_string(),
        window: job.config.window,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_json(&job.out.join("nab.json"), &report)?;
    let text = render(&report, report.files.len());
    vigil_core::io::write_atomic(job.out.join("nab.txt"), text.as_bytes())
        .map_err(|e| nab_err(job.out, e))?;
    Ok(report)
}

/// The median step between consecutive distinct timestamps; `None` for fewer than two.
fn usual_step(times: &[i64]) -> Option<i64> {
    let mut d: Vec<i64> = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0)
        .collect();
    if d.is_empty() {
        return None;
    }
    let mid = d.len() / 2;
    Some(*d.select_nth_unstable(mid).1)
}

/// A file's category: its label key's folder (`realAWSCloudwatch`).
fn category(name: &str) -> &str {
    name.split_once('/').map_or("", |(c, _)| c)
}
