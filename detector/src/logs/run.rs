//! `detector logs`: a raw log or a sequence file judged by a log model; `sessions.csv`,
//! `summary.json` and, with labels, the evaluation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vigil_core::series::BadLines;

use serde::Serialize;

use vigil_core::logs::LineReport;
use vigil_core::logs::pipeline::{LogParsing, Templates};
use vigil_core::logs::sessions::{Split, read_sequences};
use vigil_core::session_label::read_session_labels;
use vigil_model::logmodel::LogModel;

use super::evaluate::Unlisted;
use super::judge::sequence_truth;
use super::{
    Input, SessionEvaluation, evaluate, judge, render, used_floor, used_novel, used_top_g,
    write_sessions,
};

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
    /// A jq program for structured lines, instead of the model's.
    pub filter: Option<&'a str>,
    /// Malformed structured lines: an error, or skipped and counted.
    pub bad_lines: BadLines,
}

/// What a `detector logs` run did.
#[derive(Debug, Clone, Serialize)]
pub struct LogsSummary {
    pub input: PathBuf,
    pub model: PathBuf,
    pub top_g: usize,
    /// The probability floor used (calibrated on the model's validation sessions).
    pub min_probability: f64,
    /// The probability under which a transition never seen was abnormal.
    pub novel_probability: f32,
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
    /// Raw logs with times: the most frequent templates' lines per time bucket.
    pub timeline: Option<super::timeline::Timeline>,
}

/// Templates the timeline shows apart (the rest are summed).
const TIMELINE_TEMPLATES: usize = 10;

fn model_err(dir: &Path, message: String) -> crate::Error {
    crate::Error::Model(vigil_model::Error::BadFile {
        dir: dir.to_path_buf(),
        file: "parsing.json".into(),
        message,
    })
}

/// An output file that could not be written.
fn out_err(path: PathBuf, e: std::io::Error) -> crate::Error {
    crate::Error::Output {
        path,
        message: e.to_string(),
    }
}

/// Judges the sessions of `job.input` and writes `sessions.csv`, `summary.json` and, with
/// labels, `evaluation.json`/`.txt` into `job.out`.
pub fn detect_logs(job: &LogsJob) -> Result<LogsSummary, crate::Error> {
    let started = std::time::Instant::now();
    let model = LogModel::load(job.model_dir)?;
    let mut lines = None;
    let (mut without_session, mut unmatched) = (0, 0);
    let mut truth: Option<HashMap<String, (bool, String)>> = None;
    let mut span = None;
    let mut timeline = None;
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
            if let Some(filter) = job.filter {
                parsing.filter = Some(filter.to_string());
            }
            parsing.bad_lines = job.bad_lines;
            let log = parsing.read(path, Templates::Match)?;
            span = log.span_ms;
            without_session = log.without_session;
            unmatched = log.unmatched;
            lines = Some(log.report);
            let texts = log.unmatched_text;
            let known = model.vocab.index();
            let miner = &parsing.miner;
            // What a reason quotes for an event the model does not know: the line no
            // template matched, or the template no training session contained.
            let unknown_text = |s: &vigil_core::logs::Session, i: usize| match s.events[i] {
                None => texts.get(&s.lines[i]).cloned(),
                Some(t) if !known.contains_key(t.0.to_string().as_str()) => {
                    Some(miner.template(t).text().to_string())
                }
                Some(_) => None,
            };
            timeline = super::timeline::timeline(
                &log.sessions,
                |t| miner.template(t).text().to_string(),
                TIMELINE_TEMPLATES,
            );
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
                    times: s.times,
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
            truth = Some(sequence_truth(&chosen));
            let inputs = chosen.iter().map(Input::from_sequence).collect();
            (path.to_path_buf(), inputs)
        }
    };
    if let Some(path) = job.labels {
        truth = Some(read_session_labels(path)?);
    }
    let judged = judge(&model, &sessions, job.top_g, span);
    std::fs::create_dir_all(job.out).map_err(|source| crate::Error::OutDir {
        path: job.out.to_path_buf(),
        source,
    })?;
    let path = job.out.join("sessions.csv");
    write_sessions(&path, &judged).map_err(|e| out_err(path.clone(), e))?;
    let evaluation = truth.map(|t| evaluate(&judged, &t, Unlisted::Normal));
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
        min_probability: used_floor(&model),
        novel_probability: used_novel(&model),
        sessions: judged.len(),
        anomalous: judged.iter().filter(|j| j.anomalous).count(),
        baseline_anomalous: judged.iter().filter(|j| j.baseline_anomalous).count(),
        lines,
        lines_without_session: without_session,
        lines_unmatched: unmatched,
        seconds: started.elapsed().as_secs_f64(),
        evaluation,
        timeline,
    };
    crate::write_json(&job.out.join("summary.json"), &summary)?;
    Ok(summary)
}
