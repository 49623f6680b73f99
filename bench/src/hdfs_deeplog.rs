//! `vigil-bench hdfs-deeplog`: DeepLog on full HDFS_v1 as DeepLog's authors prepared it,
//! with the protocol of the benchmark's README: 5 folds over the 4,855 normal training
//! sessions in file order; each fold trains on the other four (normal only) and judges
//! its own normal sessions and all 16,838 anomalous ones; recall and false-positive rate
//! are pooled over the folds, and precision and F1 follow at full HDFS's class balance.
//! The simple methods run on the same folds, each threshold from normal data only.

use std::path::Path;

use serde::Serialize;

use crate::Error;
use vigil_core::logs::counts::CountIndex;
use vigil_detector::logs::{Input, judge, used_floor, used_novel, used_top_g};
use vigil_model::deeplog::DeepLogConfig;

/// Full HDFS_v1: anomalous and all sessions (the README's balance).
const ANOMALOUS: f64 = 16_838.0;
const NORMAL: f64 = 575_061.0 - 16_838.0;
const FOLDS: usize = 5;

/// Published on full HDFS (precision, recall, F1; FPR where known), from the README.
pub const PUBLISHED: [(&str, Option<f64>, f64); 6] = [
    (
        "DeepLog (paper): P 0.95, R 0.96, FPR 0.15 %",
        Some(0.0015),
        0.96,
    ),
    ("LogAnomaly (logdeep)", None, 0.976),
    ("new event type (Landauer et al.)", None, 0.539),
    ("new event or length (Landauer et al.)", None, 0.720),
    (
        "count-vector nearest neighbour (Landauer et al.)",
        None,
        0.960,
    ),
    (
        "event + length + count vectors (Landauer et al.)",
        None,
        0.971,
    ),
];

/// One method's verdicts pooled over the folds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pooled {
    pub method: String,
    /// Anomalous judgements flagged / made (each anomalous session once per fold).
    pub flagged_anomalous: usize,
    pub anomalous_judged: usize,
    /// Held-out normal sessions flagged / judged.
    pub flagged_normal: usize,
    pub normal_judged: usize,
    pub recall: f64,
    pub fpr: f64,
    /// At full HDFS's balance: P = R·16838 / (R·16838 + FPR·558223).
    pub precision: f64,
    pub f1: f64,
    /// Per fold: (recall, FPR).
    pub folds: Vec<(f64, f64)>,
}

impl Pooled {
    fn new(method: &str) -> Pooled {
        Pooled {
            method: method.to_string(),
            ..Pooled::default()
        }
    }

    fn add(&mut self, anomalous: &[bool], normal: &[bool]) {
        let fa = anomalous.iter().filter(|&&x| x).count();
        let fnm = normal.iter().filter(|&&x| x).count();
        self.folds.push((
            fa as f64 / anomalous.len().max(1) as f64,
            fnm as f64 / normal.len().max(1) as f64,
        ));
        self.flagged_anomalous += fa;
        self.anomalous_judged += anomalous.len();
        self.flagged_normal += fnm;
        self.normal_judged += normal.len();
        self.recall = self.flagged_anomalous as f64 / self.anomalous_judged.max(1) as f64;
        self.fpr = self.flagged_normal as f64 / self.normal_judged.max(1) as f64;
        let tp = self.recall * ANOMALOUS;
        let fp = self.fpr * NORMAL;
        self.precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HdfsDeepLogReport {
    pub normal_sessions: usize,
    pub anomalous_sessions: usize,
    pub config: DeepLogConfig,
    /// The g each fold's model used (raised on its own validation sessions).
    pub top_g: Vec<usize>,
    /// The probability floor and the probability under which a transition never seen
    /// is abnormal, each fold's (calibrated like g).
    pub min_probability: Vec<f64>,
    pub novel_probability: Vec<f32>,
    /// The count-vector threshold each fold chose on its held-out normal training fold.
    pub count_thresholds: Vec<f64>,
    pub train_seconds: f64,
    pub methods: Vec<Pooled>,
}

/// Reads one session per line, event ids separated by spaces; a token that is not a
/// number names its file and line.
pub fn read_sessions(path: &Path) -> Result<Vec<Vec<String>>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut s = Vec::new();
        for tok in line.split_whitespace() {
            if tok.parse::<u32>().is_err() {
                return Err(Error::Invalid {
                    file: path.display().to_string(),
                    message: format!("line {}: event id {tok:?} is not a number", i + 1),
                });
            }
            s.push(tok.to_string());
        }
        if !s.is_empty() {
            out.push(s);
        }
    }
    Ok(out)
}

fn inputs(sessions: &[Vec<String>], tag: &str) -> Vec<Input> {
    sessions
        .iter()
        .enumerate()
        .map(|(i, s)| Input {
            key: format!("{tag}{i}"),
            events: s.iter().map(|e| Some(e.clone())).collect(),
            lines: (1..=s.len() as u64).collect(),
            times: Vec::new(),
            unknown: Default::default(),
        })
        .collect()
}

/// The count-vector detector of one fold: references and threshold from normal sessions
/// only. The last of the training folds is held out to choose the threshold (the largest
/// distance a held-out normal session had to the other three), then all four are the
/// references. (The report also gives the model's threshold, the largest distance of a
/// training session to its nearest other one.)
fn count_detector(train_folds: &[&[Vec<String>]]) -> (CountIndex, f64) {
    let (held, fit) = train_folds.split_last().expect("four training folds");
    let fit_index = CountIndex::new(fit.iter().flat_map(|f| f.iter().map(Vec::as_slice)));
    let threshold = held
        .iter()
        .map(|s| fit_index.distance(s))
        .fold(0.0, f64::max);
    let index = CountIndex::new(train_folds.iter().flat_map(|f| f.iter().map(Vec::as_slice)));
    (index, threshold)
}

/// Runs the protocol on `dir` (`hdfs_train`, `hdfs_test_abnormal`); writes
/// `hdfs-deeplog.json`, `hdfs-deeplog.txt` and `false_alarms.csv` (the held-out normal
/// sessions DeepLog flagged, with its reasons) into `out`.
pub fn run_hdfs_deeplog(
    dir: &Path,
    out: &Path,
    config: &DeepLogConfig,
) -> Result<HdfsDeepLogReport, Error> {
    let normal = read_sessions(&dir.join("hdfs_train"))?;
    let abnormal = read_sessions(&dir.join("hdfs_test_abnormal"))?;
    if normal.len() < FOLDS * 2 || abnormal.is_empty() {
        return Err(Error::Invalid {
            file: dir.display().to_string(),
            message: format!(
                "{} normal and {} anomalous sessions: too few for {FOLDS} folds",
                normal.len(),
                abnormal.len()
            ),
        });
    }
    let abnormal_inputs = inputs(&abnormal, "abnormal-");
    let n = normal.len();
    let fold_of = |k: usize| &normal[k * n / FOLDS..(k + 1) * n / FOLDS];
    let mut methods = vec![
        Pooled::new("Vigil DeepLog"),
        Pooled::new("new event type"),
        Pooled::new("new event or unusual length"),
        Pooled::new("count-vector nearest neighbour"),
        Pooled::new("Vigil baseline: unseen template or transition"),
        Pooled::new("all three: new event, unusual length or counts"),
        Pooled::new("count-vector NN, the model's threshold (spread)"),
        Pooled::new("all three, the model's count threshold (spread)"),
    ];
    let (mut top_g, mut thresholds, mut seconds) = (Vec::new(), Vec::new(), 0.0);
    let (mut floors, mut novel) = (Vec::new(), Vec::new());
    let mut false_alarms = String::from("fold,session,events,reason\n");
    let mut disagreements =
        String::from("fold,session,truth,deeplog,all_three_spread,events,reason\n");
    for k in 0..FOLDS {
        let test = fold_of(k);
        let train_folds: Vec<&[Vec<String>]> =
            (0..FOLDS).filter(|&j| j != k).map(fold_of).collect();
        let train: Vec<Vec<String>> = train_folds.iter().flat_map(|f| f.iter().cloned()).collect();
        let began = std::time::Instant::now();
        let model = vigil_trainer::logmodel::train_log_model(
            &train,
            &|_| None,
            config,
            Default::default(),
            &mut (),
        )
        .map_err(|e| Error::Read {
            path: dir.to_path_buf(),
            message: format!("fold {}: training: {e}", k + 1),
        })?;
        seconds += began.elapsed().as_secs_f64();
        top_g.push(used_top_g(&model, None));
        floors.push(used_floor(&model));
        novel.push(used_novel(&model));
        let held = judge(&model, &inputs(test, "normal-"), None, None);
        // The held-out normal sessions DeepLog flagged, for a person to read.
        for (j, s) in held.iter().zip(test).filter(|(j, _)| j.anomalous) {
            false_alarms.push_str(&format!(
                "{},{},\"{}\",\"{}\"\n",
                k + 1,
                j.session,
                s.join(" "),
                j.reason.replace('"', "\"\"")
            ));
        }
        let bad = judge(&model, &abnormal_inputs, None, None);
        let flags = |j: &[vigil_detector::logs::Judged],
                     f: fn(&vigil_detector::logs::Judged) -> bool| {
            j.iter().map(f).collect::<Vec<bool>>()
        };
        methods[0].add(
            &flags(&bad, |j| j.anomalous),
            &flags(&held, |j| j.anomalous),
        );
        methods[4].add(
            &flags(&bad, |j| j.baseline_anomalous),
            &flags(&held, |j| j.baseline_anomalous),
        );
        let (index, threshold) = count_detector(&train_folds);
        thresholds.push(threshold);
        let verdicts = |sessions: &[Vec<String>], f: &dyn Fn(&[String]) -> bool| {
            sessions.iter().map(|s| f(s)).collect::<Vec<bool>>()
        };
        let unseen = |s: &[String]| index.has_unseen(s);
        let length = |s: &[String]| index.has_unseen(s) || index.unusual_length(s.len());
        let near = |s: &[String]| index.distance(s) > threshold;
        let all = |s: &[String]| length(s) || near(s);
        methods[1].add(&verdicts(&abnormal, &unseen), &verdicts(test, &unseen));
        methods[2].add(&verdicts(&abnormal, &length), &verdicts(test, &length));
        methods[3].add(&verdicts(&abnormal, &near), &verdicts(test, &near));
        methods[5].add(&verdicts(&abnormal, &all), &verdicts(test, &all));
        // The same with the threshold the log model's counts use: the largest distance
        // of a training session to its nearest other one.
        let spread = index.spread();
        let near = |s: &[String]| index.distance(s) > spread;
        let all = |s: &[String]| length(s) || near(s);
        methods[6].add(&verdicts(&abnormal, &near), &verdicts(test, &near));
        let (all_bad, all_held) = (verdicts(&abnormal, &all), verdicts(test, &all));
        methods[7].add(&all_bad, &all_held);
        // Where DeepLog and the strongest simple method disagree, for a person to read.
        let bad_side = bad
            .iter()
            .zip(&abnormal)
            .zip(&all_bad)
            .map(|x| (x, "anomalous"));
        let held_side = held.iter().zip(test).zip(&all_held).map(|x| (x, "normal"));
        for (((j, s), &simple), tag) in bad_side.chain(held_side) {
            if j.anomalous != simple {
                disagreements.push_str(&format!(
                    "{},{},{tag},{},{},\"{}\",\"{}\"\n",
                    k + 1,
                    j.session,
                    u8::from(j.anomalous),
                    u8::from(simple),
                    s.join(" "),
                    j.reason.replace('"', "\"\"")
                ));
            }
        }
    }
    let report = HdfsDeepLogReport {
        normal_sessions: n,
        anomalous_sessions: abnormal.len(),
        config: config.clone(),
        top_g,
        min_probability: floors,
        novel_probability: novel,
        count_thresholds: thresholds,
        train_seconds: seconds,
        methods,
    };
    std::fs::create_dir_all(out).map_err(|source| Error::OutDir {
        path: out.to_path_buf(),
        source,
    })?;
    crate::write_json(&out.join("hdfs-deeplog.json"), &report)?;
    crate::write_text(&out.join("hdfs-deeplog.txt"), &render(&report))?;
    crate::write_text(&out.join("false_alarms.csv"), &false_alarms)?;
    crate::write_text(&out.join("disagreements.csv"), &disagreements)?;
    Ok(report)
}

fn list(xs: impl Iterator<Item = f64>) -> String {
    let items: Vec<String> = xs.map(|x| format!("{x:.2e}")).collect();
    format!("[{}]", items.join(", "))
}

/// The report as text: every method on the same folds, then the published figures.
pub fn render(r: &HdfsDeepLogReport) -> String {
    let mut out = format!(
        "HDFS_v1 (DeepLog's sessions): {FOLDS}-fold cross-validation over {} normal sessions, {} anomalous judged per fold; DeepLog h = {}, g per fold {:?}, probability floor {}, transitions never seen abnormal under {}, count-vector baseline threshold {}, {:.0} s training in all\n\
         precision and F1 at full HDFS's balance (16,838 anomalous of 575,061)\n\n",
        r.normal_sessions,
        r.anomalous_sessions,
        r.config.history,
        r.top_g,
        list(r.min_probability.iter().copied()),
        list(r.novel_probability.iter().map(|&x| f64::from(x))),
        list(r.count_thresholds.iter().copied()),
        r.train_seconds
    );
    out += &format!(
        "{:<48}{:>10}{:>10}{:>10}{:>10}\n",
        "", "recall", "FPR %", "precision", "F1"
    );
    for m in &r.methods {
        out += &format!(
            "{:<48}{:>10.4}{:>10.3}{:>10.4}{:>10.4}\n",
            m.method,
            m.recall,
            100.0 * m.fpr,
            m.precision,
            m.f1
        );
    }
    out += "published (full HDFS; Landauer et al. tuned their thresholds on test data):\n";
    for (name, fpr, f1) in PUBLISHED {
        let fpr = fpr.map_or("".to_string(), |x| format!("{:.3}", 100.0 * x));
        out += &format!("  {name:<46}{:>10}{fpr:>10}{:>10}{f1:>10.3}\n", "", "");
    }
    out
}
