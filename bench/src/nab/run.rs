//! `vigil-bench nab`: Vigil on the Numenta Anomaly Benchmark's real server metrics.
//!
//! For each file (realAWSCloudwatch by default) a model is trained on the probationary
//! period only (the first 15 %, at most 750 rows, which NAB does not score), then every
//! row of the file is scored by the streaming detector exactly as `detector metrics`
//! would. Two NAB scores are reported per profile, for the model and for the per-hour
//! z-score baseline:
//! - **calibrated**: an alarm at the first row of each anomaly the detector reports with
//!   its own POT threshold (no label ever seen: what a user gets);
//! - **NAB-optimised**: NAB's own protocol for every published detector — one threshold
//!   on the anomaly scores for the whole corpus, chosen to maximise the score.

use super::*;
use crate::write_json;
use vigil_core::series::{ReadOptions, read_table_from};
use vigil_detector::detect::{Calibration, Detector, Options, calibrate};
use vigil_detector::output::{Collect, Fanout, ScoresCsv};
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
    pub model_calibrated: f64,
    pub model_optimised: f64,
    pub model_threshold: f64,
    pub baseline_calibrated: f64,
    pub baseline_optimised: f64,
    pub baseline_threshold: f64,
}

/// Per file: windows detected by the calibrated model and its false alarms (standard).
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
}

#[derive(Debug, Clone, Serialize)]
pub struct NabReport {
    pub files: Vec<FileResult>,
    pub profiles: Vec<ProfileResult>,
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
/// (500 quantiles of the scored rows' scores) is tried on the whole corpus and the best
/// kept, as NAB does for each published detector.
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
    let mut best: Option<(f64, CorpusScore)> = None;
    for t in candidates {
        let alarms: Vec<Vec<bool>> = scores
            .iter()
            .map(|s| rising_edges(&s.iter().map(|&x| x >= t).collect::<Vec<_>>()))
            .collect();
        let c = normalised(files, &alarms, profile).map_err(|e| nab_err(root, e))?;
        if best
            .as_ref()
            .is_none_or(|(_, b)| c.normalised > b.normalised)
        {
            best = Some((t, c));
        }
    }
    best.ok_or_else(|| nab_err(root, "no scores"))
}

pub fn run_nab(job: &NabJob) -> Result<NabReport, Error> {
    let started = std::time::Instant::now();
    let (files, _) =
        load_corpus(job.benchmarks, job.prefix).map_err(|e| nab_err(job.benchmarks, e))?;
    if files.is_empty() {
        return Err(nab_err(
            job.benchmarks,
            format!("no labelled files under data/{}", job.prefix),
        ));
    }
    std::fs::create_dir_all(job.out).map_err(|source| Error::OutDir {
        path: job.out.to_path_buf(),
        source,
    })?;
    let mut model_scores = Vec::new();
    let mut base_scores = Vec::new();
    let mut model_alarms = Vec::new();
    let mut base_alarms = Vec::new();
    let mut per_file = Vec::new();
    for file in &files {
        let path: PathBuf = job.benchmarks.join("data").join(file.name());
        let text = std::fs::read_to_string(&path).map_err(|e| nab_err(&path, e))?;
        let prob = file.probationary_rows();
        // The probationary rows (plus the header) are all the model ever learns from.
        let head: String = text
            .lines()
            .take(prob + 1)
            .flat_map(|l| [l, "\n"])
            .collect();
        let table = read_table_from(head.as_bytes(), &path, &ReadOptions::default())?;
        let mut config = job.config.clone();
        config.window = config.window.min(prob / 10).max(4);
        let model = train_table(table, &config, &mut ())
            .map_err(|e| nab_err(&path, format!("training on the probationary period: {e}")))?;
        let calibration: Calibration = calibrate(&model, &job.options)?;
        let stem = Path::new(file.name())
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut scores = ScoresCsv::create(
            &job.out.join(format!("{stem}.scores.csv")),
            &model.data.columns,
            calibration.model.value,
            calibration.baseline.value,
        )?;
        let mut rows = Collect::default();
        let mut detector = Detector::new(&model, &job.options, &calibration);
        detector.run(
            text.as_bytes(),
            &path,
            &mut Fanout(vec![&mut scores, &mut rows]),
        )?;
        scores.commit()?;
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
        per_file.push(FileResult {
            file: file.name().to_string(),
            rows: file.len(),
            windows: file.windows().len(),
            model_windows_found: found(&ma),
            model_alarms: ma.iter().skip(prob).filter(|a| **a).count(),
            baseline_windows_found: found(&ba),
            baseline_alarms: ba.iter().skip(prob).filter(|a| **a).count(),
            threshold: calibration.model.value,
        });
        model_scores.push(ms);
        base_scores.push(bs);
        model_alarms.push(ma);
        base_alarms.push(ba);
    }
    let mut profiles = Vec::new();
    for p in &PROFILES {
        let score = |alarms: &[Vec<bool>]| -> Result<CorpusScore, Error> {
            normalised(&files, alarms, p).map_err(|e| nab_err(job.benchmarks, e))
        };
        let opt = |scores: &[Vec<f64>]| optimise_edges(&files, scores, p, job.benchmarks);
        let (mt, mo) = opt(&model_scores)?;
        let (bt, bo) = opt(&base_scores)?;
        profiles.push(ProfileResult {
            profile: p.name.to_string(),
            model_calibrated: score(&model_alarms)?.normalised,
            model_optimised: mo.normalised,
            model_threshold: mt,
            baseline_calibrated: score(&base_alarms)?.normalised,
            baseline_optimised: bo.normalised,
            baseline_threshold: bt,
        });
    }
    let report = NabReport {
        files: per_file,
        profiles,
        model_kind: job.config.model.name().to_string(),
        window: job.config.window,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_json(&job.out.join("nab.json"), &report)?;
    let text = render(&report, files.len());
    vigil_core::io::write_atomic(job.out.join("nab.txt"), text.as_bytes())
        .map_err(|e| nab_err(job.out, e))?;
    Ok(report)
}

pub fn render(r: &NabReport, n: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "NAB scores on {n} files ({} model per file, trained on the probationary period only; {:.0} s)",
        r.model_kind, r.seconds
    );
    let _ = writeln!(
        s,
        "{:<20} {:>12} {:>12} {:>12} {:>12}",
        "profile", "Vigil", "Vigil (opt)", "baseline", "base (opt)"
    );
    for p in &r.profiles {
        let _ = writeln!(
            s,
            "{:<20} {:>12.1} {:>12.1} {:>12.1} {:>12.1}",
            p.profile,
            p.model_calibrated,
            p.model_optimised,
            p.baseline_calibrated,
            p.baseline_optimised
        );
    }
    let _ = writeln!(
        s,
        "Vigil / baseline: alarms from the calibrated POT threshold, no labels seen. (opt): NAB's protocol, one corpus-wide threshold chosen on the labels."
    );
    let _ = writeln!(
        s,
        "Published standard-profile scores (whole 58-file corpus):"
    );
    for (name, score) in PUBLISHED {
        let _ = writeln!(s, "  {name:<20} {score:>5.1}");
    }
    let _ = writeln!(
        s,
        "{:<40} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "file", "rows", "windows", "found", "alarms", "base f/a"
    );
    for f in &r.files {
        let _ = writeln!(
            s,
            "{:<40} {:>6} {:>8} {:>8} {:>8} {:>5}/{}",
            f.file,
            f.rows,
            f.windows,
            f.model_windows_found,
            f.model_alarms,
            f.baseline_windows_found,
            f.baseline_alarms
        );
    }
    s
}
