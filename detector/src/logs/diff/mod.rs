//! `detector diff A B`: the behaviour of two logs compared, after 2KDiff (Amar et al.,
//! "Using finite-state models for log differencing", FSE 2018). Both logs are mined
//! together (one set of templates), cut into sessions by the same rule, and each becomes a
//! k-tails machine ([`ktails`]). Every transition is tested: where its state occurs in both
//! logs, the share of the state's departures that take it (a two-proportion z-test);
//! where the state occurs in one log only, the transition's share of all transitions.
//! A transition differs when p is below α after a Bonferroni correction over every
//! transition tested: only in A, only in B, or more or less frequent. Outputs the merged
//! graph (DOT, and PNG/SVG where Graphviz's `dot` runs), each log's own machine, and a
//! report with each difference's distinguishing sequence and example sessions.

pub mod ktails;
mod report;

use std::path::{Path, PathBuf};

use serde::Serialize;

use vigil_core::logs::sessions::Event;
use vigil_core::logs::{LogFormat, Miner, MinerConfig, SessionRule, TemplateId};
use vigil_core::series::BadLines;

use super::patterns::{records, two_proportion_p};
use crate::Error;
use ktails::{Machine, State, Sym};

pub use report::render;

/// A `detector diff` run.
#[derive(Debug, Clone)]
pub struct DiffJob {
    pub a: PathBuf,
    pub b: PathBuf,
    pub format: String,
    pub filter: Option<String>,
    pub bad_lines: BadLines,
    pub miner: MinerConfig,
    pub max_line_bytes: usize,
    pub rule: SessionRule,
    /// Events per state (1 or 2).
    pub k: usize,
    pub alpha: f64,
    /// Edges drawn when taken at least this often in one log (differences always are).
    pub min_edge: u64,
    pub out: PathBuf,
}

/// How a transition differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    OnlyA,
    OnlyB,
    /// More frequent in B.
    MoreInB,
    /// Less frequent in B.
    LessInB,
    /// Within chance (in one log only, or both).
    Same,
}

/// One transition of the merged machine.
#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    /// The state's events and the next one, as template texts (`<start>`, `<end>`,
    /// `<unmatched>`): the distinguishing sequence.
    pub sequence: Vec<String>,
    pub a_count: u64,
    pub b_count: u64,
    /// The share of the state's departures (or of all transitions, where the state is in
    /// one log only).
    pub a_share: f64,
    pub b_share: f64,
    pub a_gap_ms: Option<f64>,
    pub b_gap_ms: Option<f64>,
    pub p_value: f64,
    pub verdict: Verdict,
    /// Sessions that took it, from the log(s) it occurs in.
    pub a_examples: Vec<String>,
    pub b_examples: Vec<String>,
    #[serde(skip)]
    pub(crate) key: (State, Sym),
}

/// What `detector diff` found.
#[derive(Debug, Clone, Serialize)]
pub struct DiffSummary {
    pub a: PathBuf,
    pub b: PathBuf,
    pub format: String,
    pub k: usize,
    pub alpha: f64,
    pub templates: usize,
    pub a_sessions: u64,
    pub b_sessions: u64,
    pub a_transitions: usize,
    pub b_transitions: usize,
    pub tested: usize,
    pub only_a: usize,
    pub only_b: usize,
    pub more_in_b: usize,
    pub less_in_b: usize,
    /// Whether Graphviz rendered diff.png and diff.svg (`dot` on the PATH).
    pub rendered: bool,
    pub seconds: f64,
}

fn sessions_of(
    path: &Path,
    format: &LogFormat,
    job: &DiffJob,
    ids: &mut impl Iterator<Item = Option<TemplateId>>,
) -> Result<Machine, Error> {
    let mut sessionizer = job.rule.start()?;
    let mut err = None;
    let report = records(path, format, job.max_line_bytes, job.bad_lines, |r| {
        let template = ids.next().flatten();
        if err.is_none()
            && let Err(e) = sessionizer.push(&Event {
                line: r.line,
                text: r.raw,
                time_ms: r.time_ms,
                group: r.group,
                template,
            })
        {
            err = Some(e);
        }
    })?;
    if let Some(e) = err {
        return Err(vigil_core::Error::file(path, e.to_string()).into());
    }
    if report.lines == 0 {
        return Err(vigil_core::Error::file(path, "the log is empty: no lines".into()).into());
    }
    let mut machine = Machine::new(job.k);
    for s in sessionizer.finish() {
        let events: Vec<Option<usize>> = s.events.iter().map(|e| e.map(|t| t.index())).collect();
        machine.add(&s.key, &events, &s.times);
    }
    if machine.sessions == 0 {
        return Err(vigil_core::Error::file(
            path,
            "no sessions: no line carries an id the session rule knows (see --session-regex, --window-lines, --window-time)".into(),
        )
        .into());
    }
    Ok(machine)
}

/// Compares `job.a` and `job.b`; writes diff.txt, diff.json, diff.csv, diff.dot, a.dot,
/// b.dot (and diff.png, diff.svg) into `job.out`.
pub fn diff(job: &DiffJob) -> Result<(DiffSummary, Vec<Transition>), Error> {
    let started = std::time::Instant::now();
    if !(1..=2).contains(&job.k) {
        return Err(Error::Option {
            flag: "--k",
            message: format!("expected 1 or 2, found {}", job.k),
        });
    }
    let (format_text, _) =
        vigil_core::logs::detect::resolve(&job.format, &job.a, job.max_line_bytes)?;
    let format = LogFormat::new(&format_text)?.with_filter(job.filter.as_deref())?;
    let mut miner = Miner::new(job.miner.clone())?;
    let ids = miner.learn(|feed| {
        for p in [&job.a, &job.b] {
            records(p, &format, job.max_line_bytes, job.bad_lines, |r| {
                feed(r.content)
            })?;
        }
        Ok::<(), Error>(())
    })?;
    let mut ids = ids.into_iter();
    let a = sessions_of(&job.a, &format, job, &mut ids)?;
    let b = sessions_of(&job.b, &format, job, &mut ids)?;
    let texts: Vec<String> = miner
        .templates()
        .iter()
        .map(|t| t.text().to_string())
        .collect();
    compare(job, &a, &b, &texts, format_text, started)
}

/// One model's machine (k = 1: a model keeps which template followed which, and how
/// often), its templates interned into `texts` so that two models share ids by text.
fn model_machine(
    dir: &Path,
    texts: &mut Vec<String>,
    index: &mut std::collections::HashMap<String, usize>,
) -> Result<Machine, Error> {
    let model = vigil_model::logmodel::LogModel::load(dir)?;
    let classes = model.transitions.classes as u16;
    let mut sym = |c: u16| -> Sym {
        match model.vocab.templates.get(c as usize) {
            Some(t) => {
                let next = texts.len();
                let i = *index.entry(t.clone()).or_insert(next);
                if i == next {
                    texts.push(t.clone());
                }
                Sym::T(i)
            }
            None => Sym::Unmatched,
        }
    };
    let mut m = Machine::new(1);
    for &(from, to, n) in &model.transitions.counts {
        let state = if from == classes {
            vec![Sym::Start]
        } else {
            vec![sym(from)]
        };
        let next = if to == classes { Sym::End } else { sym(to) };
        if from == classes {
            m.sessions += n;
        }
        m.edges.entry((state.clone(), next)).or_default().count += n;
        *m.out.entry(state).or_default() += n;
        m.transitions += n;
    }
    Ok(m)
}

/// Compares two trained log models (`trainer logs` directories): the transitions they
/// learnt, matched by template text (k = 1).
pub fn diff_models(job: &DiffJob) -> Result<(DiffSummary, Vec<Transition>), Error> {
    let started = std::time::Instant::now();
    if job.k != 1 {
        return Err(Error::Option {
            flag: "--k",
            message: "a model keeps which template followed which: two models compare with --k 1"
                .into(),
        });
    }
    let (mut texts, mut index) = (Vec::new(), std::collections::HashMap::new());
    let a = model_machine(&job.a, &mut texts, &mut index)?;
    let b = model_machine(&job.b, &mut texts, &mut index)?;
    compare(job, &a, &b, &texts, "models".into(), started)
}

/// Tests every transition of `a` and `b` and writes the outputs.
fn compare(
    job: &DiffJob,
    a: &Machine,
    b: &Machine,
    texts: &[String],
    format_text: String,
    started: std::time::Instant,
) -> Result<(DiffSummary, Vec<Transition>), Error> {
    let text = |s: Sym| match s {
        Sym::Start => "<start>".to_string(),
        Sym::End => "<end>".to_string(),
        Sym::Unmatched => "<unmatched>".to_string(),
        Sym::T(i) => texts[i].clone(),
    };

    let mut keys: Vec<&(State, Sym)> = a.edges.keys().chain(b.edges.keys()).collect();
    keys.sort();
    keys.dedup();
    let tested = keys.len().max(1);
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let (state, next) = key;
        let ea = a.edges.get(key);
        let eb = b.edges.get(key);
        let (ca, cb) = (ea.map_or(0, |e| e.count), eb.map_or(0, |e| e.count));
        let (oa, ob) = (
            a.out.get(state).copied().unwrap_or(0),
            b.out.get(state).copied().unwrap_or(0),
        );
        // Conditional on the state where both logs have it; else among all transitions.
        let (na, nb) = if oa > 0 && ob > 0 {
            (oa, ob)
        } else {
            (a.transitions, b.transitions)
        };
        let p = two_proportion_p(ca, na, cb, nb);
        let (sa, sb) = (ca as f64 / na.max(1) as f64, cb as f64 / nb.max(1) as f64);
        let verdict = if p * tested as f64 >= job.alpha {
            Verdict::Same
        } else if cb == 0 {
            Verdict::OnlyA
        } else if ca == 0 {
            Verdict::OnlyB
        } else if sb > sa {
            Verdict::MoreInB
        } else {
            Verdict::LessInB
        };
        let mut sequence: Vec<String> = state
            .iter()
            .skip_while(|s| **s == Sym::Start && state.len() > 1)
            .map(|s| text(*s))
            .collect();
        sequence.push(text(*next));
        out.push(Transition {
            sequence,
            a_count: ca,
            b_count: cb,
            a_share: sa,
            b_share: sb,
            a_gap_ms: ea.and_then(|e| e.mean_gap_ms()),
            b_gap_ms: eb.and_then(|e| e.mean_gap_ms()),
            p_value: p,
            verdict,
            a_examples: ea.map(|e| e.examples.clone()).unwrap_or_default(),
            b_examples: eb.map(|e| e.examples.clone()).unwrap_or_default(),
            key: key.clone(),
        });
    }
    out.sort_by(|x, y| {
        (x.verdict == Verdict::Same)
            .cmp(&(y.verdict == Verdict::Same))
            .then(x.p_value.total_cmp(&y.p_value))
            .then(x.sequence.cmp(&y.sequence))
    });

    std::fs::create_dir_all(&job.out).map_err(|source| Error::OutDir {
        path: job.out.clone(),
        source,
    })?;
    let count = |v: Verdict| out.iter().filter(|t| t.verdict == v).count();
    let mut summary = DiffSummary {
        a: job.a.clone(),
        b: job.b.clone(),
        format: format_text,
        k: job.k,
        alpha: job.alpha,
        templates: texts.len(),
        a_sessions: a.sessions,
        b_sessions: b.sessions,
        a_transitions: a.edges.len(),
        b_transitions: b.edges.len(),
        tested,
        only_a: count(Verdict::OnlyA),
        only_b: count(Verdict::OnlyB),
        more_in_b: count(Verdict::MoreInB),
        less_in_b: count(Verdict::LessInB),
        rendered: false,
        seconds: 0.0,
    };
    report::write_csv(&job.out.join("diff.csv"), &out)?;
    let graph = report::dot(&out, &text, job.min_edge, "A", "B");
    crate::write_text(&job.out.join("diff.dot"), &graph)?;
    for (name, m) in [("a", a), ("b", b)] {
        crate::write_text(
            &job.out.join(format!("{name}.dot")),
            &report::machine_dot(m, &text, job.min_edge),
        )?;
    }
    summary.rendered = report::render_dot(&job.out.join("diff.dot"))?;
    summary.seconds = started.elapsed().as_secs_f64();
    crate::write_text(&job.out.join("diff.txt"), &render(&summary, &out))?;
    crate::write_json(&job.out.join("diff.json"), &summary)?;
    Ok((summary, out))
}
