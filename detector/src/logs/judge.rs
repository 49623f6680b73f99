//! Sessions judged by DeepLog's verdicts and the model's timing (stalls), beside the
//! unseen-template-or-transition baseline, with a reason naming the unexpected event and
//! what was expected. A session the file may have cut (it began, or ended, within a
//! normal gap of the file's first, or last, line) is not judged on what the cut hides:
//! its start and first `h` events, or its end.

use std::collections::HashMap;

use serde::Serialize;

use vigil_core::logs::counts::{Nearest, counts_of};
use vigil_core::logs::paths::{self, Burst, occurrences};
use vigil_core::logs::sessions::LabelledSequence;
use vigil_model::deeplog::{NOVEL_MAX_PROBABILITY, verdicts};
use vigil_model::logmodel::LogModel;

/// One session to judge: its key, its events' keys (`None` for a line no known template
/// matched) and where each event came from (line numbers, or positions in a sequence).
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub key: String,
    pub events: Vec<Option<String>>,
    pub lines: Vec<u64>,
    /// Each event's time (unix ms), where the log has times (empty otherwise).
    pub times: Vec<Option<i64>>,
    /// What the lines no template matched said, by position (for reasons).
    pub unknown: HashMap<usize, String>,
}

impl Input {
    /// A session of a pre-parsed sequence file: its events are the file's template ids,
    /// its "lines" their positions (1-based).
    pub fn from_sequence(s: &LabelledSequence) -> Input {
        Input {
            key: s.id.clone(),
            lines: (1..=s.events.len() as u64).collect(),
            events: s.events.iter().map(|e| Some(e.to_string())).collect(),
            times: Vec::new(),
            unknown: HashMap::new(),
        }
    }
}

/// The labels a sequence file carries, as evaluation reads them: session → (anomalous, kind).
pub fn sequence_truth<'a>(
    sequences: impl IntoIterator<Item = &'a LabelledSequence>,
) -> HashMap<String, (bool, String)> {
    sequences
        .into_iter()
        .map(|s| (s.id.clone(), (s.anomalous, "labelled".to_string())))
        .collect()
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
    /// The simplest rule: the session holds a template training never saw.
    pub new_event: bool,
    /// Where the file may have cut the session (not judged there).
    pub cut: Cut,
}

/// Which ends of a session the file may have cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    #[default]
    None,
    Start,
    End,
    Both,
}

impl Cut {
    fn new(start: bool, end: bool) -> Cut {
        match (start, end) {
            (false, false) => Cut::None,
            (true, false) => Cut::Start,
            (false, true) => Cut::End,
            (true, true) => Cut::Both,
        }
    }

    fn start(self) -> bool {
        matches!(self, Cut::Start | Cut::Both)
    }

    fn end(self) -> bool {
        matches!(self, Cut::End | Cut::Both)
    }

    /// From what [`Cut::as_str`] wrote.
    pub fn parse(s: &str) -> Cut {
        Cut::new(s.contains("start"), s.contains("end"))
    }

    /// As `sessions.csv` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Cut::None => "",
            Cut::Start => "start",
            Cut::End => "end",
            Cut::Both => "start,end",
        }
    }
}

/// Where the file may have cut `s`: its first event came within a normal gap of the file's
/// first line (`span.0`), or its last event within one of the file's last line (`span.1`).
fn cut_by_file(model: &LogModel, s: &Input, span: Option<(i64, i64)>) -> Cut {
    let Some((first_ms, last_ms)) = span else {
        return Cut::None;
    };
    let timing = &model.timing;
    let at = |i: usize| Some((s.events.get(i)?.as_deref()?, (*s.times.get(i)?)?));
    let start = at(0).is_some_and(|(k, t)| timing.could_have_begun_before(k, t - first_ms));
    let end = s
        .events
        .len()
        .checked_sub(1)
        .and_then(at)
        .is_some_and(|(k, t)| timing.could_continue(k, last_ms - t));
    Cut::new(start, end)
}

fn seconds(ms: i64) -> String {
    if ms >= 1000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
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

/// The probability floor a judgement uses: the model's calibrated one, else its
/// configured one.
pub fn used_floor(model: &LogModel) -> f64 {
    model
        .history
        .calibrated_min_probability
        .unwrap_or(model.config.min_probability)
}

/// The probability under which a transition never seen is abnormal: the model's
/// calibrated one, else [`NOVEL_MAX_PROBABILITY`].
pub fn used_novel(model: &LogModel) -> f32 {
    model
        .history
        .calibrated_novel_probability
        .unwrap_or(NOVEL_MAX_PROBABILITY)
}

/// Each session's first burst (the position of the transition, `events.len()` for its
/// end, and the burst), over all sessions' transitions together.
/// Transitions a file cut hides (from the start of a session cut at its start, into the
/// end of one cut at its end) are left out.
/// `classes` are the sessions' events as the model's classes (`None` where unknown).
fn session_bursts(
    model: &LogModel,
    sessions: &[Input],
    classes: &[Vec<Option<u16>>],
    cuts: &[Cut],
) -> Vec<Option<(usize, Burst)>> {
    let mut occ = Vec::new();
    // Which session, and which of its transitions, each occurrence is.
    let mut owner = Vec::new();
    for (si, s) in sessions.iter().enumerate() {
        let keys: Vec<Option<&str>> = classes[si]
            .iter()
            .map(|c| c.map(|c| model.vocab.keys[usize::from(c)].as_str()))
            .collect();
        let n = s.events.len();
        for (i, o) in occurrences(&keys, &s.times) {
            if (i == 0 && cuts[si].start()) || (i == n && cuts[si].end()) {
                continue;
            }
            owner.push((si, i));
            occ.push(o);
        }
    }
    let mut out = vec![None; sessions.len()];
    for ((si, i), b) in owner.into_iter().zip(model.rates.bursts(&occ)) {
        if let Some(b) = b
            && out[si].is_none()
        {
            out[si] = Some((i, b));
        }
    }
    out
}

/// Judges `sessions` with `model` (g from [`used_top_g`]); `span` is the first and last
/// line time of the log they came from, where it has times.
pub fn judge(
    model: &LogModel,
    sessions: &[Input],
    top_g: Option<usize>,
    span: Option<(i64, i64)>,
) -> Vec<Judged> {
    let g = used_top_g(model, top_g);
    let floor = used_floor(model) as f32;
    let novel_below = used_novel(model);
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
    let cuts: Vec<Cut> = sessions
        .iter()
        .map(|s| cut_by_file(model, s, span))
        .collect();
    let bursts = if model.config.path_bursts {
        session_bursts(model, sessions, &classes, &cuts)
    } else {
        vec![None; sessions.len()]
    };
    sessions
        .iter()
        .zip(&classes)
        .zip(&v)
        .zip(&bursts)
        .zip(&cuts)
        .map(|((((s, c), v), burst), &cut)| {
            // With the end learnt, the last verdict is the session's end.
            let c: Vec<Option<u16>> = c
                .iter()
                .copied()
                .chain(end.then_some(Some(end_class)))
                .collect();
            let ranks: Vec<usize> = v.iter().map(|e| e.rank.unwrap_or(unseen_rank)).collect();
            let n = s.events.len();
            // What a cut hides: the start and the verdicts whose history it shortened, or
            // the end. A template never seen is abnormal wherever it is.
            let hidden = |i: usize| {
                c[i].is_some()
                    && ((cut.start() && i < model.config.history) || (cut.end() && i == n))
            };
            // Transition i (from the start at 0, into the end at n, learnt or not) between
            // known events never occurred in training. A cut start hides only the
            // transition from the start (later ones are seen), a cut end the one into it.
            let unseen_transition = |i: usize| {
                let from = if i == 0 { Some(None) } else { c[i - 1].map(Some) };
                let to = if i == n { Some(end_class) } else { c[i] };
                let hidden = (i == 0 && cut.start()) || (i == n && cut.end());
                match (from, to) {
                    (Some(from), Some(to)) => !hidden && !model.transitions.seen(from, to),
                    _ => false,
                }
            };
            // The model flags one unless the network, reading the longer history, found it
            // likely.
            let novel = |i: usize| {
                model.config.novel_transitions
                    && v[i].probability < novel_below
                    && unseen_transition(i)
            };
            // The nearest training session's counts. Where a training session had the
            // same counts, only the order can be wrong, and it shows as a transition
            // never seen: rank and probability alone, which rare but valid orders fail
            // too (HDFS's interleaved threads), do not judge such a session.
            let near = model
                .config
                .count_vectors
                .then(|| model.counts.nearest(&counts_of(known_classes(&c[..n]))))
                .flatten();
            // (Not for a session the file cut: its counts are partial.)
            let counts_seen =
                cut == Cut::None && near.as_ref().is_some_and(|x| x.distance == 0.0);
            let unlikely = |i: usize| {
                !counts_seen && (ranks[i] > g || v[i].probability < floor) && !hidden(i)
            };
            let abnormal = |i: usize| c[i].is_none() || unlikely(i) || novel(i);
            let verdict = (0..ranks.len()).find(|&i| abnormal(i));
            let stall = model.timing.stall(&s.events, &s.times);
            // The counts of a session the file cut are partial: not judged.
            let counted = near
                .filter(|x| cut == Cut::None && x.distance > model.counts.spread)
                .map(|x| (first_extra(&c[..n], &x), x));
            let first = [verdict, stall.map(|st| st.at), counted.as_ref().map(|x| x.0)]
                .into_iter()
                .flatten()
                .min();
            // The counts name the session when they come strictly first.
            let counted_first = counted.as_ref().filter(|(at, _)| {
                verdict.is_none_or(|i| *at < i) && stall.is_none_or(|st| *at < st.at)
            });
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
            let stalled_first = stall.filter(|st| verdict.is_none_or(|i| st.at < i));
            // A burst flags the session (at the step that burst) when nothing else does.
            let first = first.or(burst.map(|(at, _)| at.min(n.saturating_sub(1))));
            let reason = match first {
                None => String::new(),
                Some(_) if let Some((_, near)) = counted_first => {
                    count_reason(model, &c[..n], near)
                }
                Some(_)
                    if let (None, None, None, Some((at, b))) =
                        (verdict, stall, &counted, burst) =>
                {
                    let step = match at {
                        0 => format!("the start → '{}'", name(0)),
                        i if *i == n => format!("'{}' → the end", name(n - 1)),
                        i => format!("'{}' → '{}'", name(i - 1), name(*i)),
                    };
                    format!(
                        "a burst of a valid but rare step: {step} occurred {} times among the {} steps within {} min (at most {} in training; {:.3} % of its steps; tail probability {:.1e})",
                        b.count,
                        b.window,
                        paths::WINDOW_MS / 120_000,
                        b.most_in_training,
                        100.0 * b.share,
                        b.tail
                    )
                }
                Some(i) if let Some(st) = stalled_first => {
                    format!(
                        "stalled: {} between '{}' and '{}' (at most {} in training)",
                        seconds(st.gap_ms),
                        name(i - 1),
                        name(i),
                        seconds(st.max_ms)
                    )
                }
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
                    if !unlikely(i) {
                        // Only the transition table objects.
                        format!(
                            "{after}, {saw}, a transition never seen in training (rank {}, probability {:.1e})",
                            ranks[i], v[i].probability
                        )
                    } else if ranks[i] > g {
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
            // The rules beside the model: a template never seen; that, or a transition
            // never seen (a cut's hidden ones left out).
            let new_event = c.iter().take(n).any(Option::is_none);
            let baseline_anomalous = new_event || (0..=n).any(unseen_transition);
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
                new_event,
                cut,
            }
        })
        .collect()
}

fn known_classes(classes: &[Option<u16>]) -> impl Iterator<Item = u32> + '_ {
    classes.iter().flatten().map(|&k| u32::from(k))
}

/// Where a session (`classes`) goes past the counts of its nearest training session
/// (`near`): its first event beyond them, or its end (`classes.len()`) when it only lacks
/// events.
fn first_extra(classes: &[Option<u16>], near: &Nearest) -> usize {
    let allowed = |k: u32| {
        near.counts
            .binary_search_by_key(&k, |x| x.0)
            .map_or(0, |i| near.counts[i].1)
    };
    let mut so_far: HashMap<u32, u32> = HashMap::new();
    classes
        .iter()
        .position(|k| {
            k.is_some_and(|k| {
                let n = so_far.entry(u32::from(k)).or_insert(0);
                *n += 1;
                *n > allowed(u32::from(k))
            })
        })
        .unwrap_or(classes.len())
}

/// "its event counts are unlike any training session's: 1 more 'A', 2 fewer 'B' than the
/// nearest (distance 0.095; training sessions lay at most 0.077 apart)".
fn count_reason(model: &LogModel, classes: &[Option<u16>], near: &Nearest) -> String {
    let mine = counts_of(known_classes(classes));
    let get = |c: &[(u32, u32)], k: u32| c.binary_search_by_key(&k, |x| x.0).map_or(0, |i| c[i].1);
    let mut keys: Vec<u32> = mine.iter().chain(&near.counts).map(|x| x.0).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut diffs: Vec<(i64, u32)> = keys
        .into_iter()
        .map(|k| {
            (
                i64::from(get(&mine, k)) - i64::from(get(&near.counts, k)),
                k,
            )
        })
        .filter(|d| d.0 != 0)
        .collect();
    diffs.sort_by_key(|d| (std::cmp::Reverse(d.0.abs()), d.1));
    let named: Vec<String> = diffs
        .iter()
        .take(4)
        .map(|&(d, k)| {
            let name = short(model.vocab.name(k as usize));
            if d > 0 {
                format!("{d} more '{name}'")
            } else {
                format!("{} fewer '{name}'", -d)
            }
        })
        .collect();
    let more = if diffs.len() > 4 { ", …" } else { "" };
    format!(
        "its event counts are unlike any training session's: {}{more} than the nearest (distance {:.3}; training sessions lay at most {:.3} apart)",
        named.join(", "),
        near.distance,
        model.counts.spread
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::logs::sessions::Split;

    #[test]
    fn a_sequence_becomes_an_input_with_its_positions_and_its_label() {
        let s = LabelledSequence {
            id: "blk_1".into(),
            anomalous: true,
            split: Split::Test,
            events: vec![5, 22, 5],
        };
        let input = Input::from_sequence(&s);
        assert_eq!(input.key, "blk_1");
        assert_eq!(input.lines, vec![1, 2, 3]);
        assert_eq!(
            input.events,
            vec![Some("5".to_string()), Some("22".into()), Some("5".into())]
        );
        assert!(input.unknown.is_empty());
        let truth = sequence_truth([&s]);
        assert_eq!(truth["blk_1"], (true, "labelled".to_string()));
    }
}
