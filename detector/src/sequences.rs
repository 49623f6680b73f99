//! Log sessions judged by a DeepLog model, beside the "unseen template or unseen
//! transition" baseline; `sessions.csv` and a session-level evaluation.
//!
//! `sessions.csv`: `session,anomalous,score,min_probability,events,first_anomalous_line,
//! reason,baseline_anomalous`. `score` is the worst rank of an observed event (or of the
//! session's end) among the model's predictions (1 = what the model found most likely; a
//! template never seen in training counts as one past the last rank); `min_probability`
//! the lowest probability the model gave one of them. A session is anomalous when its
//! score exceeds `top_g` or its lowest probability is below `min_probability`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use vigil_core::AtomicFile;
use vigil_core::logs::LineReport;
use vigil_core::logs::pipeline::LogParsing;
use vigil_core::logs::sessions::{Split, read_sequences};
use vigil_trainer::deeplog::verdicts;
use vigil_trainer::logmodel::LogModel;

/// One session to judge: its key, its events' keys (`None` for a line no known template
/// matched) and where each event came from (line numbers, or positions in a sequence).
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub key: String,
    pub events: Vec<Option<String>>,
    pub lines: Vec<u64>,
    /// What the lines no template matched said, by position (for reasons).
    pub unknown: HashMap<usize, String>,
}

/// A judged session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judged {
    pub session: String,
    pub anomalous: bool,
    pub score: usize,
    pub min_probability: f32,
    pub events: usize,
    pub first_anomalous_line: Option<u64>,
    pub reason: String,
    pub baseline_anomalous: bool,
}

fn short(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

/// The g a judgement uses: `top_g` if given, else the model's calibrated g, else its
/// configured one.
pub fn used_top_g(model: &LogModel, top_g: Option<usize>) -> usize {
    top_g
        .or(model.history.calibrated_top_g)
        .unwrap_or(model.config.top_g)
        .max(1)
}

/// Judges `sessions` with `model` (g from [`used_top_g`]).
pub fn judge(model: &LogModel, sessions: &[Input], top_g: Option<usize>) -> Vec<Judged> {
    let g = used_top_g(model, top_g);
    let floor = model.config.min_probability as f32;
    let vocab = &model.vocab;
    let index = vocab.index();
    let classes: Vec<Vec<Option<u16>>> = sessions
        .iter()
        .map(|s| {
            s.events
                .iter()
                .map(|e| e.as_deref().and_then(|k| index.get(k).copied()))
                .collect()
        })
        .collect();
    let device = model.config.backend.device();
    let end = model.config.end_of_session;
    let v = verdicts(
        &model.network,
        &classes,
        model.config.history,
        g,
        end,
        &device,
    );
    let end_class = model.network.end();
    let unseen_rank = vocab.len() + 2;
    sessions
        .iter()
        .zip(&classes)
        .zip(&v)
        .map(|((s, c), v)| {
            // With the end learnt, the last verdict is the session's end.
            let c: Vec<Option<u16>> = c
                .iter()
                .copied()
                .chain(end.then_some(Some(end_class)))
                .collect();
            let ranks: Vec<usize> = v.iter().map(|e| e.rank.unwrap_or(unseen_rank)).collect();
            let abnormal = |i: usize| ranks[i] > g || v[i].probability < floor;
            let first = (0..ranks.len()).find(|&i| abnormal(i));
            let name = |i: usize| -> String {
                match (c[i], s.events.get(i)) {
                    (Some(k), _) if k == end_class => "the end of the session".into(),
                    (Some(k), _) => short(vocab.name(usize::from(k))),
                    (None, _) if s.unknown.contains_key(&i) => short(&s.unknown[&i]),
                    (None, Some(Some(key))) => short(key),
                    (None, _) => "a line no template matches".into(),
                }
            };
            let label = |e: u16| {
                if e == end_class {
                    "(end of session)".to_string()
                } else {
                    format!("'{}'", short(vocab.name(usize::from(e))))
                }
            };
            let reason = match first {
                None => String::new(),
                Some(i) if c[i].is_none() => {
                    format!("unseen template: '{}' never occurred in training", name(i))
                }
                Some(i) => {
                    let after = if i == 0 {
                        "at the start of the session".to_string()
                    } else {
                        format!("after '{}'", name(i - 1))
                    };
                    let expected: Vec<String> =
                        v[i].expected.iter().take(5).map(|&e| label(e)).collect();
                    let more = if v[i].expected.len() > 5 { ", …" } else { "" };
                    let saw = if c[i] == Some(end_class) {
                        "the session ended".to_string()
                    } else {
                        format!("saw '{}'", name(i))
                    };
                    if ranks[i] > g {
                        format!(
                            "{after}, expected one of [{}{more}]; {saw} (rank {}, probability {:.1e})",
                            expected.join(", "),
                            ranks[i],
                            v[i].probability
                        )
                    } else {
                        // Among the top g, but the model found it too unlikely.
                        format!(
                            "{after}, {saw}, which the model gave probability {:.1e}, below {floor:.1e} (rank {})",
                            v[i].probability, ranks[i]
                        )
                    }
                }
            };
            // The baseline: a template or a transition (from the start, or into the end)
            // never seen in training.
            let mut prev: Option<u16> = None;
            let mut baseline_anomalous = false;
            for e in c.iter().take(s.events.len()) {
                match e {
                    None => baseline_anomalous = true,
                    Some(e) => {
                        baseline_anomalous |= !model.transitions.seen(prev, *e);
                        prev = Some(*e);
                    }
                }
            }
            if !baseline_anomalous {
                // From the last event (or, for an empty session, the start) into the end.
                baseline_anomalous = !model.transitions.seen(prev, end_class);
            }
            Judged {
                session: s.key.clone(),
                anomalous: first.is_some(),
                score: ranks.iter().copied().max().unwrap_or(0),
                min_probability: v.iter().map(|e| e.probability).fold(1.0, f32::min),
                events: s.events.len(),
                first_anomalous_line: first
                    .and_then(|i| s.lines.get(i.min(s.lines.len().saturating_sub(1))).copied()),
                reason,
                baseline_anomalous,
            }
        })
        .collect()
}

/// Writes `sessions.csv` atomically.
pub fn write_sessions(path: &Path, judged: &[Judged]) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let mut w = csv::Writer::from_writer(&mut file);
        w.write_record([
            "session",
            "anomalous",
            "score",
            "min_probability",
            "events",
            "first_anomalous_line",
            "reason",
            "baseline_anomalous",
        ])?;
        for j in judged {
            w.write_record([
                j.session.as_str(),
                if j.anomalous { "1" } else { "0" },
                &j.score.to_string(),
                &format!("{:.3e}", j.min_probability),
                &j.events.to_string(),
                &j.first_anomalous_line
                    .map_or(String::new(), |l| l.to_string()),
                &j.reason,
                if j.baseline_anomalous { "1" } else { "0" },
            ])?;
        }
        w.flush()?;
    }
    file.flush()?;
    file.commit()
}

/// Session-level counts and scores for one detector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub tn: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Scores {
    fn new(pairs: impl Iterator<Item = (bool, bool)>) -> Scores {
        let mut s = Scores::default();
        for (truth, flagged) in pairs {
            match (truth, flagged) {
                (true, true) => s.tp += 1,
                (false, true) => s.fp += 1,
                (true, false) => s.fn_ += 1,
                (false, false) => s.tn += 1,
            }
        }
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        s.precision = ratio(s.tp, s.tp + s.fp);
        s.recall = ratio(s.tp, s.tp + s.fn_);
        s.f1 = if s.precision + s.recall == 0.0 {
            0.0
        } else {
            2.0 * s.precision * s.recall / (s.precision + s.recall)
        };
        s
    }
}

/// The model beside the baseline on labelled sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionEvaluation {
    pub sessions: usize,
    pub anomalous: usize,
    /// Judged sessions without a label (counted as normal when the labels list only the
    /// anomalous ones).
    pub unlabelled: usize,
    /// Anomalous sessions the labels name but the input never formed (another session
    /// rule, lines cut away): counted as missed by both.
    pub labelled_not_judged: usize,
    pub model: Scores,
    pub baseline: Scores,
    /// Per kind of labelled anomaly.
    pub by_kind: Vec<KindFound>,
}

/// How many labelled anomalous sessions of one kind each detector flagged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindFound {
    pub kind: String,
    pub sessions: u64,
    pub model: u64,
    pub baseline: u64,
}

/// Labels: session → anomalous (and its kind). Sessions the labels do not name count as
/// normal when `absent_is_normal` (a list of the anomalous sessions, as the generator
/// writes), else they are left out.
pub fn evaluate(
    judged: &[Judged],
    labels: &HashMap<String, (bool, String)>,
    absent_is_normal: bool,
) -> SessionEvaluation {
    let mut rows = Vec::new();
    let mut unlabelled = 0;
    let mut kinds: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
    let mut seen = std::collections::HashSet::new();
    for j in judged {
        seen.insert(j.session.as_str());
        let truth = match labels.get(&j.session).cloned() {
            Some((t, kind)) => {
                if t {
                    let k = kinds.entry(kind).or_default();
                    k.0 += 1;
                    k.1 += u64::from(j.anomalous);
                    k.2 += u64::from(j.baseline_anomalous);
                }
                t
            }
            None if absent_is_normal => {
                unlabelled += 1;
                false
            }
            None => {
                unlabelled += 1;
                continue;
            }
        };
        rows.push((truth, j.anomalous, j.baseline_anomalous));
    }
    let mut labelled_not_judged = 0;
    for (key, (anomalous, kind)) in labels {
        if *anomalous && !seen.contains(key.as_str()) {
            labelled_not_judged += 1;
            kinds.entry(kind.clone()).or_default().0 += 1;
            rows.push((true, false, false));
        }
    }
    SessionEvaluation {
        sessions: rows.len(),
        anomalous: rows.iter().filter(|r| r.0).count(),
        unlabelled,
        labelled_not_judged,
        model: Scores::new(rows.iter().map(|r| (r.0, r.1))),
        baseline: Scores::new(rows.iter().map(|r| (r.0, r.2))),
        by_kind: kinds
            .into_iter()
            .map(|(kind, (sessions, model, baseline))| KindFound {
                kind,
                sessions,
                model,
                baseline,
            })
            .collect(),
    }
}

/// The evaluation as a small table.
pub fn render(e: &SessionEvaluation) -> String {
    let mut out = format!(
        "{} sessions, {} anomalous\n{:<28}{:>10}{:>22}\n",
        e.sessions, e.anomalous, "", "deeplog", "baseline (unseen)"
    );
    let row = |name: &str, m: String, b: String| format!("{name:<28}{m:>10}{b:>22}\n");
    out += &row(
        "precision",
        format!("{:.3}", e.model.precision),
        format!("{:.3}", e.baseline.precision),
    );
    out += &row(
        "recall",
        format!("{:.3}", e.model.recall),
        format!("{:.3}", e.baseline.recall),
    );
    out += &row(
        "F1",
        format!("{:.3}", e.model.f1),
        format!("{:.3}", e.baseline.f1),
    );
    out += &row(
        "flagged (true / false)",
        format!("{}/{}", e.model.tp, e.model.fp),
        format!("{}/{}", e.baseline.tp, e.baseline.fp),
    );
    if e.labelled_not_judged > 0 {
        out += &format!(
            "{} labelled anomalous sessions were not in the input (counted as missed)\n",
            e.labelled_not_judged
        );
    }
    for KindFound {
        kind,
        sessions: n,
        model: m,
        baseline: b,
    } in &e.by_kind
    {
        out += &row(
            &format!("  found: {kind}"),
            format!("{m}/{n}"),
            format!("{b}/{n}"),
        );
    }
    out
}

/// What `detector logs` reads.
pub enum LogsInput<'a> {
    /// A raw log, parsed with the model's own parser (templates are matched, never learnt).
    Raw(&'a Path),
    /// A sequence file (`<Id>,Label,Split,EventSequence`), optionally one split of it; its
    /// labels are evaluated against unless `labels` is given.
    Sequences {
        path: &'a Path,
        split: Option<Split>,
    },
}

/// A `detector logs` run.
pub struct LogsJob<'a> {
    pub input: LogsInput<'a>,
    pub model_dir: &'a Path,
    pub out: &'a Path,
    /// A list of the anomalous sessions (`session,…[,kind]`, e.g. the generator's
    /// `session_labels.csv`); sessions it does not name are normal.
    pub labels: Option<&'a Path>,
    /// Overrides the model's g.
    pub top_g: Option<usize>,
}

/// What a `detector logs` run did.
#[derive(Debug, Clone, Serialize)]
pub struct LogsSummary {
    pub input: PathBuf,
    pub model: PathBuf,
    pub top_g: usize,
    pub sessions: usize,
    pub anomalous: usize,
    pub baseline_anomalous: usize,
    /// Raw logs: line counts, skipped lines by reason.
    pub lines: Option<LineReport>,
    pub lines_without_session: u64,
    /// Raw logs: lines no learnt template matched (each makes the sessions it joins
    /// anomalous; lines in no session are counted too).
    pub lines_unmatched: u64,
    pub seconds: f64,
    pub evaluation: Option<SessionEvaluation>,
}

fn model_err(dir: &Path, message: String) -> crate::Error {
    crate::Error::Model(vigil_trainer::artifact::ModelDirError::BadFile {
        dir: dir.to_path_buf(),
        file: "parsing.json".into(),
        message,
    })
}

/// An output file that could not be written.
fn out_err(path: PathBuf, e: std::io::Error) -> crate::Error {
    crate::Error::Detect(crate::detect::DetectError::Output {
        path,
        message: e.to_string(),
    })
}

/// Judges the sessions of `job.input` and writes `sessions.csv`, `summary.json` and, with
/// labels, `evaluation.json`/`.txt` into `job.out`.
pub fn detect_logs(job: &LogsJob) -> Result<LogsSummary, crate::Error> {
    let started = std::time::Instant::now();
    let model = LogModel::load(job.model_dir)?;
    let mut lines = None;
    let (mut without_session, mut unmatched) = (0, 0);
    let mut truth: Option<HashMap<String, (bool, String)>> = None;
    let (input_path, sessions): (PathBuf, Vec<Input>) = match &job.input {
        LogsInput::Raw(path) => {
            let value = model.parsing.clone().ok_or_else(|| {
                model_err(
                    job.model_dir,
                    "the model was trained on sequences, not raw logs: give --sequences".into(),
                )
            })?;
            let mut parsing: LogParsing = serde_json::from_value(value)
                .map_err(|e| model_err(job.model_dir, e.to_string()))?;
            let log = parsing.read(path, false)?;
            without_session = log.without_session;
            unmatched = log.unmatched;
            lines = Some(log.report);
            let texts = log.unmatched_text;
            let known = model.vocab.index();
            let drain = &parsing.drain;
            // What a reason quotes for an event the model does not know: the line no
            // template matched, or the template no training session contained.
            let unknown_text = |s: &vigil_core::logs::Session, i: usize| match s.events[i] {
                None => texts.get(&s.lines[i]).cloned(),
                Some(t) if !known.contains_key(t.0.to_string().as_str()) => {
                    Some(drain.template(t).text())
                }
                Some(_) => None,
            };
            let inputs = log
                .sessions
                .into_iter()
                .map(|s| Input {
                    unknown: (0..s.events.len())
                        .filter_map(|i| Some((i, unknown_text(&s, i)?)))
                        .collect(),
                    key: s.key,
                    events: s
                        .events
                        .iter()
                        .map(|e| e.map(|t| t.0.to_string()))
                        .collect(),
                    lines: s.lines,
                })
                .collect();
            (path.to_path_buf(), inputs)
        }
        LogsInput::Sequences { path, split } => {
            let all = read_sequences(path)?;
            let chosen: Vec<_> = all
                .into_iter()
                .filter(|s| split.is_none_or(|sp| s.split == sp))
                .collect();
            truth = Some(
                chosen
                    .iter()
                    .map(|s| (s.id.clone(), (s.anomalous, "labelled".to_string())))
                    .collect(),
            );
            let inputs = chosen
                .into_iter()
                .map(|s| Input {
                    key: s.id,
                    lines: (1..=s.events.len() as u64).collect(),
                    events: s.events.iter().map(|e| Some(e.to_string())).collect(),
                    unknown: HashMap::new(),
                })
                .collect();
            (path.to_path_buf(), inputs)
        }
    };
    if let Some(path) = job.labels {
        truth = Some(read_session_labels(path)?);
    }
    let judged = judge(&model, &sessions, job.top_g);
    std::fs::create_dir_all(job.out).map_err(|source| crate::Error::OutDir {
        path: job.out.to_path_buf(),
        source,
    })?;
    let path = job.out.join("sessions.csv");
    write_sessions(&path, &judged).map_err(|e| out_err(path.clone(), e))?;
    let evaluation = truth.map(|t| evaluate(&judged, &t, true));
    if let Some(e) = &evaluation {
        crate::write_json(&job.out.join("evaluation.json"), e)?;
        let path = job.out.join("evaluation.txt");
        vigil_core::io::write_atomic(&path, render(e).as_bytes())
            .map_err(|e| out_err(path.clone(), e))?;
    }
    let summary = LogsSummary {
        input: input_path,
        model: job.model_dir.to_path_buf(),
        top_g: used_top_g(&model, job.top_g),
        sessions: judged.len(),
        anomalous: judged.iter().filter(|j| j.anomalous).count(),
        baseline_anomalous: judged.iter().filter(|j| j.baseline_anomalous).count(),
        lines,
        lines_without_session: without_session,
        lines_unmatched: unmatched,
        seconds: started.elapsed().as_secs_f64(),
        evaluation,
    };
    crate::write_json(&job.out.join("summary.json"), &summary)?;
    Ok(summary)
}

/// A list of anomalous sessions: a `session` column and an optional `kind` column.
pub fn read_session_labels(path: &Path) -> Result<HashMap<String, (bool, String)>, crate::Error> {
    let err = |line: u64, message: String| {
        crate::Error::Eval(crate::eval::EvalError::Line {
            path: path.to_path_buf(),
            line,
            message,
        })
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| err(0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let session = col("session").ok_or_else(|| err(1, "no session column".into()))?;
    let kind = col("kind");
    let mut out = HashMap::new();
    for r in reader.records() {
        let r = r.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let key = r.get(session).unwrap_or("").trim().to_string();
        let k = kind
            .and_then(|k| r.get(k))
            .unwrap_or("anomalous")
            .to_string();
        out.insert(key, (true, k));
    }
    Ok(out)
}

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

/// `detector eval hdfs`: DeepLog trained on the normal sessions of the train split, the
/// test split judged, beside the baseline, with the model's scores for other g too.
#[derive(Debug, Clone, Serialize)]
pub struct HdfsReport {
    pub train_sessions: usize,
    pub test_sessions: usize,
    pub templates: usize,
    pub config: vigil_trainer::deeplog::DeepLogConfig,
    /// The g used (the configured one raised on the validation sessions).
    pub top_g: usize,
    pub train_seconds: f64,
    pub evaluation: SessionEvaluation,
    /// (g, model scores at that g) on the test split.
    pub by_g: Vec<GScores>,
}

/// The model's session scores at one g.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GScores {
    pub g: usize,
    pub scores: Scores,
}

/// Runs the HDFS benchmark from `dir` (`HDFS_100k_sessions.csv`, `HDFS_100k_templates.csv`)
/// and writes `sessions.csv`, `hdfs.json` and `hdfs.txt` into `out`.
pub fn run_hdfs(
    dir: &Path,
    out: &Path,
    config: &vigil_trainer::deeplog::DeepLogConfig,
) -> Result<HdfsReport, crate::Error> {
    let all = read_sequences(&dir.join("HDFS_100k_sessions.csv"))?;
    let texts = vigil_trainer::logs::read_templates(&dir.join("HDFS_100k_templates.csv"))?;
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
        None,
        &mut (),
    )
    .map_err(|m| {
        crate::Error::Eval(crate::eval::EvalError::File {
            path: dir.to_path_buf(),
            message: m,
        })
    })?;
    let train_seconds = started.elapsed().as_secs_f64();
    let test: Vec<_> = all.iter().filter(|s| s.split == Split::Test).collect();
    let inputs: Vec<Input> = test
        .iter()
        .map(|s| Input {
            key: s.id.clone(),
            lines: (1..=s.events.len() as u64).collect(),
            events: s.events.iter().map(|e| Some(e.to_string())).collect(),
            unknown: HashMap::new(),
        })
        .collect();
    let truth: HashMap<String, (bool, String)> = test
        .iter()
        .map(|s| (s.id.clone(), (s.anomalous, "labelled".to_string())))
        .collect();
    let judged = judge(&model, &inputs, None);
    let evaluation = evaluate(&judged, &truth, false);
    let by_g = (1..=model.vocab.len().max(1))
        .map(|g| {
            let at_g: Vec<Judged> = judged
                .iter()
                .map(|j| Judged {
                    anomalous: j.score > g || j.min_probability < config.min_probability as f32,
                    ..j.clone()
                })
                .collect();
            GScores {
                g,
                scores: evaluate(&at_g, &truth, false).model,
            }
        })
        .collect();
    let report = HdfsReport {
        train_sessions: train.len(),
        test_sessions: test.len(),
        templates: model.vocab.len(),
        top_g: used_top_g(&model, None),
        config: config.clone(),
        train_seconds,
        evaluation,
        by_g,
    };
    std::fs::create_dir_all(out).map_err(|source| crate::Error::OutDir {
        path: out.to_path_buf(),
        source,
    })?;
    let path = out.join("sessions.csv");
    write_sessions(&path, &judged).map_err(|e| out_err(path.clone(), e))?;
    crate::write_json(&out.join("hdfs.json"), &report)?;
    let path = out.join("hdfs.txt");
    vigil_core::io::write_atomic(&path, render_hdfs(&report).as_bytes())
        .map_err(|e| out_err(path.clone(), e))?;
    Ok(report)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(session: &str, anomalous: bool, baseline: bool) -> Judged {
        Judged {
            session: session.into(),
            anomalous,
            score: 1,
            min_probability: 1.0,
            events: 3,
            first_anomalous_line: None,
            reason: String::new(),
            baseline_anomalous: baseline,
        }
    }

    #[test]
    fn sessions_are_scored_and_labelled_but_missing_ones_count_as_missed() {
        let j = [
            judged("a", true, true),
            judged("b", true, false),
            judged("c", false, false),
            judged("d", false, true),
        ];
        let labels: HashMap<String, (bool, String)> = [
            ("a", "timeout"),
            ("c", "timeout"),
            ("zz", "refused"), // never formed into a session
        ]
        .into_iter()
        .map(|(k, kind)| (k.to_string(), (true, kind.to_string())))
        .collect();
        let e = evaluate(&j, &labels, true);
        assert_eq!((e.sessions, e.anomalous, e.unlabelled), (5, 3, 2));
        assert_eq!(e.labelled_not_judged, 1);
        let m = e.model;
        assert_eq!((m.tp, m.fp, m.fn_, m.tn), (1, 1, 2, 1));
        assert!((m.precision - 0.5).abs() < 1e-12 && (m.recall - 1.0 / 3.0).abs() < 1e-12);
        let b = e.baseline;
        assert_eq!((b.tp, b.fp, b.fn_, b.tn), (1, 1, 2, 1));
        assert_eq!(e.by_kind[0].kind, "refused");
        assert_eq!((e.by_kind[1].sessions, e.by_kind[1].model), (2, 1));
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"fn\":2"), "{json}");
        // Labels that cover every session leave the unlabelled ones out instead.
        let e = evaluate(&j, &labels, false);
        assert_eq!(e.sessions, 3);
    }
}
