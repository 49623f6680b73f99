//! Log sessions judged by a DeepLog model, beside the "unseen template or unseen
//! transition" baseline; `sessions.csv` and a session-level evaluation.
//!
//! `sessions.csv`: `session,anomalous,score,events,first_anomalous_line,reason,baseline_anomalous`.
//! `score` is the worst rank of an observed event among the model's predictions (1 = the
//! event the model found most likely; a template never seen in training counts as one past
//! the last rank), so a session is anomalous exactly when its score exceeds `top_g`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use vigil_core::AtomicFile;
use vigil_trainer::deeplog::verdicts;
use vigil_trainer::logmodel::LogModel;

/// One session to judge: its key, its events' keys (`None` for a line no known template
/// matched) and where each event came from (line numbers, or positions in a sequence).
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub key: String,
    pub events: Vec<Option<String>>,
    pub lines: Vec<u64>,
}

/// A judged session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judged {
    pub session: String,
    pub anomalous: bool,
    pub score: usize,
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

/// Judges `sessions` with `model` (top-g from the model's config unless `top_g` is given).
pub fn judge(model: &LogModel, sessions: &[Input], top_g: Option<usize>) -> Vec<Judged> {
    let g = top_g.unwrap_or(model.config.top_g).max(1);
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
    let v = verdicts(&model.network, &classes, model.config.history, g, &device);
    let unseen_rank = vocab.len() + 1;
    sessions
        .iter()
        .zip(&classes)
        .zip(&v)
        .map(|((s, c), v)| {
            let ranks: Vec<usize> = v.iter().map(|e| e.rank.unwrap_or(unseen_rank)).collect();
            let first = ranks.iter().position(|&r| r > g);
            let name = |i: usize| -> String {
                match (c[i], &s.events[i]) {
                    (Some(k), _) => short(vocab.name(usize::from(k))),
                    (None, Some(key)) => short(key),
                    (None, None) => "a line no template matches".into(),
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
                    let expected: Vec<String> = v[i]
                        .expected
                        .iter()
                        .take(5)
                        .map(|&e| format!("'{}'", short(vocab.name(usize::from(e)))))
                        .collect();
                    let more = if v[i].expected.len() > 5 { ", …" } else { "" };
                    format!(
                        "{after}, expected one of [{}{more}]; saw '{}' (rank {})",
                        expected.join(", "),
                        name(i),
                        ranks[i]
                    )
                }
            };
            let baseline_anomalous = c.iter().enumerate().any(|(i, e)| match e {
                None => true,
                Some(e) => {
                    let prev = if i == 0 {
                        Some(None)
                    } else {
                        c[i - 1].map(Some)
                    };
                    prev.is_some_and(|p| !model.transitions.seen(p, *e))
                }
            });
            Judged {
                session: s.key.clone(),
                anomalous: first.is_some(),
                score: ranks.iter().copied().max().unwrap_or(0),
                events: s.events.len(),
                first_anomalous_line: first.and_then(|i| s.lines.get(i).copied()),
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
    pub model: Scores,
    pub baseline: Scores,
    /// Per kind of labelled anomaly: (kind, sessions, found by the model, by the baseline).
    pub by_kind: Vec<(String, u64, u64, u64)>,
}

/// Labels: session → anomalous (and its kind). Sessions the labels do not name count as
/// normal when `absent_is_normal` (a list of the anomalous sessions, as the generator
/// writes), else they are left out.
pub fn evaluate(
    judged: &[Judged],
    label: &dyn Fn(&str) -> Option<(bool, String)>,
    absent_is_normal: bool,
) -> SessionEvaluation {
    let mut rows = Vec::new();
    let mut unlabelled = 0;
    let mut kinds: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
    for j in judged {
        let truth = match label(&j.session) {
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
    SessionEvaluation {
        sessions: rows.len(),
        anomalous: rows.iter().filter(|r| r.0).count(),
        unlabelled,
        model: Scores::new(rows.iter().map(|r| (r.0, r.1))),
        baseline: Scores::new(rows.iter().map(|r| (r.0, r.2))),
        by_kind: kinds
            .into_iter()
            .map(|(k, (n, m, b))| (k, n, m, b))
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
    for (kind, n, m, b) in &e.by_kind {
        out += &row(
            &format!("  found: {kind}"),
            format!("{m}/{n}"),
            format!("{b}/{n}"),
        );
    }
    out
}

/// Where a `detector logs` run wrote its files.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub sessions: PathBuf,
    pub evaluation: Option<PathBuf>,
}
