//! `vigil-bench hdfs`: DeepLog on the HDFS sessions of the first 100k lines (train split
//! normal sessions learnt, test split judged) beside the baseline and the published figures.

use std::path::Path;

use serde::Serialize;

use crate::Error;
use vigil_core::logs::counts::CountIndex;
use vigil_core::logs::sessions::{Split, read_sequences};
use vigil_core::logs::templates::read_templates;
use vigil_detector::logs::evaluate::{Scores, Unlisted};
use vigil_detector::logs::judge::sequence_truth;
use vigil_detector::logs::{
    Input, Judged, SessionEvaluation, evaluate, judge, used_floor, used_top_g, write_sessions,
};
use vigil_model::deeplog::DeepLogConfig;

/// Published session-level results on HDFS (precision, recall, F1), from the benchmark's
/// README: DeepLog's paper (full HDFS), logdeep's re-implementations and loglizer.
pub const HDFS_PUBLISHED: [(&str, f64, f64, f64); 7] = [
    ("DeepLog (paper, full HDFS)", 0.95, 0.96, 0.96),
    ("DeepLog (logdeep)", 0.958, 0.933, 0.945),
    ("LogAnomaly (logdeep)", 0.969, 0.983, 0.976),
    ("LogRobust (logdeep)", 0.922, 0.959, 0.940),
    ("PCA (loglizer, full HDFS)", 0.975, 0.635, 0.769),
    (
        "Invariant Mining (loglizer, full HDFS)",
        0.888,
        0.945,
        0.915,
    ),
    (
        "Isolation Forest (loglizer, full HDFS)",
        0.830,
        0.776,
        0.802,
    ),
];

/// `vigil-bench hdfs`: DeepLog trained on the normal sessions of the train split, the
/// test split judged, beside the baseline, with the model's scores for other g too.
#[derive(Debug, Clone, Serialize)]
pub struct HdfsReport {
    pub train_sessions: usize,
    pub test_sessions: usize,
    pub templates: usize,
    pub config: DeepLogConfig,
    /// The g used (the configured one raised on the validation sessions).
    pub top_g: usize,
    pub train_seconds: f64,
    pub evaluation: SessionEvaluation,
    /// (g, model scores at that g) on the test split.
    pub by_g: Vec<GScores>,
    /// The simple methods (Landauer et al., FSE 2024) on the same split, each learnt from
    /// the normal train sessions only.
    pub simple: Vec<SimpleScores>,
    /// Anomalous test sessions event for event like a normal session of the file: no
    /// sequence detector can find them, so recall is at most
    /// `1 − identical_to_normal / anomalous`.
    pub identical_to_normal: usize,
    /// The count-vector threshold: the largest distance a held-out tenth of the normal
    /// train sessions had to the rest.
    pub count_threshold: f64,
}

/// One simple method's session scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimpleScores {
    pub method: String,
    pub scores: Scores,
}

/// The model's session scores at one g.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GScores {
    pub g: usize,
    pub scores: Scores,
}

/// Runs the HDFS benchmark from `dir` (`HDFS_100k_sessions.csv`, `HDFS_100k_templates.csv`)
/// and writes `sessions.csv`, `hdfs.json` and `hdfs.txt` into `out`.
pub fn run_hdfs(dir: &Path, out: &Path, config: &DeepLogConfig) -> Result<HdfsReport, Error> {
    let all = read_sequences(&dir.join("HDFS_100k_sessions.csv"))?;
    let texts = read_templates(&dir.join("HDFS_100k_templates.csv"))?;
    let train: Vec<Vec<String>> = all
        .iter()
        .filter(|s| s.split == Split::Train && !s.anomalous)
        .map(|s| s.events.iter().map(u32::to_string).collect())
        .collect();
    let started = std::time::Instant::now();
    let model = vigil_trainer::logmodel::train_log_model(
        &train,
        &|k| texts.get(k).cloned(),
        config,
        Default::default(),
        &mut (),
    )
    .map_err(|e| Error::Read {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let train_seconds = started.elapsed().as_secs_f64();
    let test: Vec<_> = all.iter().filter(|s| s.split == Split::Test).collect();
    let inputs: Vec<Input> = test.iter().copied().map(Input::from_sequence).collect();
    let truth = sequence_truth(test.iter().copied());
    let judged = judge(&model, &inputs, None, None);
    let evaluation = evaluate(&judged, &truth, Unlisted::LeftOut);
    let floor = used_floor(&model) as f32;
    let by_g = (1..=model.vocab.len().max(1))
        .map(|g| {
            let at_g: Vec<Judged> = judged
                .iter()
                .map(|j| Judged {
                    anomalous: j.score > g || j.min_probability < floor,
                    ..j.clone()
                })
                .collect();
            GScores {
                g,
                scores: evaluate(&at_g, &truth, Unlisted::LeftOut).model,
            }
        })
        .collect();
    let (simple, count_threshold) = simple_methods(&train, &test);
    let normal: std::collections::HashSet<&[u32]> = all
        .iter()
        .filter(|s| !s.anomalous)
        .map(|s| s.events.as_slice())
        .collect();
    let identical_to_normal = test
        .iter()
        .filter(|s| s.anomalous && normal.contains(s.events.as_slice()))
        .count();
    let report = HdfsReport {
        train_sessions: train.len(),
        test_sessions: test.len(),
        templates: model.vocab.len(),
        top_g: used_top_g(&model, None),
        config: config.clone(),
        train_seconds,
        evaluation,
        by_g,
        simple,
        identical_to_normal,
        count_threshold,
    };
    std::fs::create_dir_all(out).map_err(|source| Error::OutDir {
        path: out.to_path_buf(),
        source,
    })?;
    let path = out.join("sessions.csv");
    write_sessions(&path, &judged).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    crate::write_json(&out.join("hdfs.json"), &report)?;
    crate::write_text(&out.join("hdfs.txt"), &render_hdfs(&report))?;
    Ok(report)
}

/// New event type, new event or unusual length, the count-vector nearest neighbour (its
/// threshold the largest distance the last tenth of the normal train sessions had to the
/// rest; never a test label) and all three together (Landauer et al.'s combination),
/// judged on `test`; and that threshold. (The largest distance of a train session to its
/// nearest other one, the model's threshold, is more cautious here: it caught none.)
fn simple_methods(
    train: &[Vec<String>],
    test: &[&vigil_core::logs::sessions::LabelledSequence],
) -> (Vec<SimpleScores>, f64) {
    // At least one session held out when there are two or more.
    let cut = train.len() - (train.len() / 10).max(usize::from(train.len() >= 2));
    let fit = CountIndex::new(train[..cut].iter().map(Vec::as_slice));
    let threshold = train[cut..]
        .iter()
        .map(|s| fit.distance(s))
        .fold(0.0, f64::max);
    let index = CountIndex::new(train.iter().map(Vec::as_slice));
    let keys: Vec<Vec<String>> = test
        .iter()
        .map(|s| s.events.iter().map(u32::to_string).collect())
        .collect();
    let score = |method: &str, flag: &dyn Fn(&[String]) -> bool| SimpleScores {
        method: method.to_string(),
        scores: Scores::new(test.iter().zip(&keys).map(|(s, k)| (s.anomalous, flag(k)))),
    };
    let simple = vec![
        score("new event type", &|k| index.has_unseen(k)),
        score("new event or unusual length", &|k| {
            index.has_unseen(k) || index.unusual_length(k.len())
        }),
        score("count-vector nearest neighbour", &|k| {
            index.distance(k) > threshold
        }),
        score("all three: new event, unusual length or counts", &|k| {
            index.has_unseen(k) || index.unusual_length(k.len()) || index.distance(k) > threshold
        }),
    ];
    (simple, threshold)
}

/// The HDFS report as text: ours beside the published figures.
pub fn render_hdfs(r: &HdfsReport) -> String {
    let e = &r.evaluation;
    let mut out = format!(
        "HDFS (100k lines): DeepLog trained on {} normal train sessions ({} templates, h = {}, g = {}, p ≥ {}, {:.1} s), tested on {} sessions ({} anomalous)\n\n",
        r.train_sessions,
        r.templates,
        r.config.history,
        r.top_g,
        r.config.min_probability,
        r.train_seconds,
        r.test_sessions,
        e.anomalous
    );
    out += &format!(
        "{:<42}{:>10}{:>10}{:>10}\n",
        "", "precision", "recall", "F1"
    );
    let row =
        |name: &str, p: f64, rc: f64, f: f64| format!("{name:<42}{p:>10.3}{rc:>10.3}{f:>10.3}\n");
    out += &row(
        "Vigil DeepLog (this run)",
        e.model.precision,
        e.model.recall,
        e.model.f1,
    );
    out += &row(
        "Vigil baseline: unseen template/transition",
        e.baseline.precision,
        e.baseline.recall,
        e.baseline.f1,
    );
    for m in &r.simple {
        let s = &m.scores;
        out += &row(&m.method, s.precision, s.recall, s.f1);
    }
    out += &format!(
        "ceiling: {} of the {} anomalous test sessions are event for event like a normal session, so no sequence detector recalls more than {:.3} ({}/{})\n",
        r.identical_to_normal,
        e.anomalous,
        1.0 - r.identical_to_normal as f64 / e.anomalous.max(1) as f64,
        e.anomalous - r.identical_to_normal,
        e.anomalous
    );
    out += "published:\n";
    for (name, p, rc, f) in HDFS_PUBLISHED {
        out += &row(&format!("  {name}"), p, rc, f);
    }
    out += "\nVigil DeepLog at other g (test split, for reference; g is not tuned on it):\n";
    for GScores { g, scores: s } in &r.by_g {
        out += &row(&format!("  g = {g}"), s.precision, s.recall, s.f1);
    }
    out
}
