//! A trained log model (task `logs`): DeepLog's network, the events it knows, the
//! transitions seen in training (the baseline and the state machine export) and how raw
//! logs were parsed into sessions, in a self-checking directory ([`crate::dir`]).
//!
//! | file | content |
//! |---|---|
//! | `manifest.json` | format, version, task `logs`, each file's size and SHA-256 |
//! | `config.json` | DeepLog's hyper-parameters |
//! | `vocab.json` | the templates the model knows, in class order (key and text) |
//! | `transitions.json` | how often each template followed each other in training |
//! | `rates.json` | each transition's share of training and the most of it in one hour (hashed) |
//! | `counts.json` | the distinct event counts of the training sessions and how far apart they lay |
//! | `timing.json` | the longest gap of each transition in training (absent without times) |
//! | `parsing.json` | how raw logs are split into sessions, with the template miner's tree (absent for pre-parsed sequences) |
//! | `weights.bpk` | the network's weights |
//! | `history.json` | losses per epoch, best epoch, sessions and pairs trained on |
//! | `transitions.dot` | the transitions as a Graphviz state machine (for people; not checked) |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use burn::module::Module;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::deeplog::{DeepLogConfig, DeepLogHistory, DeepLogNet, Vocab};
use crate::dir::{DirReader, Task, json, save_dir};
use crate::rng::seeded;
use vigil_core::logs::counts::CountProfile;
use vigil_core::logs::paths::Rates;
use vigil_core::logs::timing::Timing;

/// A transition is "rare" in the state machine below this probability.
pub const RARE: f64 = 0.01;

/// How often each class followed each other in the training sessions; `start` and `end`
/// stand for a session's boundaries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transitions {
    pub classes: usize,
    /// (from, to, count), `from` = `classes` for a session start, `to` = `classes` for its end.
    pub counts: Vec<(u16, u16, u64)>,
}

impl Transitions {
    pub fn new<'a>(sessions: impl IntoIterator<Item = &'a [u16]>, classes: usize) -> Transitions {
        let edge = classes as u16;
        let mut counts: BTreeMap<(u16, u16), u64> = BTreeMap::new();
        for s in sessions {
            let mut prev = edge;
            for &e in s.iter().chain(std::iter::once(&edge)) {
                *counts.entry((prev, e)).or_default() += 1;
                prev = e;
            }
        }
        Transitions {
            classes,
            counts: counts.into_iter().map(|((a, b), n)| (a, b, n)).collect(),
        }
    }

    /// Whether `to` followed `from` in training (`None` = the session's start).
    pub fn seen(&self, from: Option<u16>, to: u16) -> bool {
        let from = from.unwrap_or(self.classes as u16);
        self.counts
            .binary_search_by(|&(a, b, _)| (a, b).cmp(&(from, to)))
            .is_ok()
    }

    /// The transitions as a Graphviz state machine: edges labelled with the probability of
    /// the next template given the current one; rare ones (below [`RARE`]) dashed and red.
    pub fn to_dot(&self, vocab: &Vocab) -> String {
        let edge = self.classes as u16;
        let mut out_total: BTreeMap<u16, u64> = BTreeMap::new();
        for &(a, _, n) in &self.counts {
            *out_total.entry(a).or_default() += n;
        }
        let mut dot = String::from(
            "digraph transitions {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n  start [shape=circle, label=\"start\"];\n  end [shape=doublecircle, label=\"end\"];\n",
        );
        for c in 0..self.classes {
            let text: String = vocab.name(c).chars().take(60).collect();
            let _ = writeln!(
                dot,
                "  e{c} [label=\"{}\\n{}\"];",
                escape(vocab.keys.get(c).map_or("", String::as_str)),
                escape(&text)
            );
        }
        let node = |c: u16, is_from: bool| {
            if c == edge {
                if is_from {
                    "start".into()
                } else {
                    "end".into()
                }
            } else {
                format!("e{c}")
            }
        };
        for &(a, b, n) in &self.counts {
            let p = n as f64 / out_total[&a].max(1) as f64;
            let style = if p < RARE {
                ", style=dashed, color=red, fontcolor=red"
            } else {
                ""
            };
            let _ = writeln!(
                dot,
                "  {} -> {} [label=\"{p:.3} ({n})\"{style}];",
                node(a, true),
                node(b, false)
            );
        }
        dot.push_str("}\n");
        dot
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A trained log model, as saved and loaded.
#[derive(Debug, Clone)]
pub struct LogModel {
    pub config: DeepLogConfig,
    pub vocab: Vocab,
    pub transitions: Transitions,
    /// How raw logs become sessions (opaque JSON here; the parsing code owns its type);
    /// `None` for a model trained on pre-parsed sequences.
    pub parsing: Option<serde_json::Value>,
    /// The longest gap of each transition in training (empty without times).
    pub timing: Timing,
    /// Each transition's share of training and the most of it in one window (empty
    /// without times).
    pub rates: Rates,
    /// The training sessions' event counts (empty without `count_vectors`).
    pub counts: CountProfile,
    pub history: DeepLogHistory,
    pub network: DeepLogNet,
}

impl LogModel {
    /// Writes the directory atomically (see the module docs).
    pub fn save(&self, dir: &Path, force: bool) -> Result<(), Error> {
        let weights = self
            .network
            .clone()
            .into_record()
            .into_bytes()
            .map(|b| b.to_vec())
            .map_err(|e| Error::BadFile {
                dir: dir.to_path_buf(),
                file: "weights.bpk".into(),
                message: e.to_string(),
            })?;
        let mut files: Vec<(&str, Vec<u8>)> = vec![
            ("config.json", json(&self.config)),
            ("vocab.json", json(&self.vocab)),
            ("transitions.json", json(&self.transitions)),
            ("weights.bpk", weights),
            ("history.json", json(&self.history)),
        ];
        if let Some(p) = &self.parsing {
            files.push(("parsing.json", json(p)));
        }
        if !self.timing.is_empty() {
            files.push(("timing.json", json(&self.timing)));
        }
        if !self.rates.is_empty() {
            files.push(("rates.json", json(&self.rates)));
        }
        if self.counts.distinct() > 0 {
            files.push(("counts.json", json(&self.counts)));
        }
        let dot = self.transitions.to_dot(&self.vocab);
        save_dir(dir, force, Task::Logs, "deeplog", &files, |temp| {
            if let Err(e) = std::fs::write(temp.join("transitions.dot"), dot) {
                eprintln!("warning: no transitions.dot in {}: {e}", dir.display());
            }
        })
    }

    /// Loads and checks a log model directory.
    pub fn load(dir: &Path) -> Result<LogModel, Error> {
        let r = DirReader::open(dir, Task::Logs)?;
        let config: DeepLogConfig = r.json("config.json")?;
        let vocab: Vocab = r.json("vocab.json")?;
        let transitions: Transitions = r.json("transitions.json")?;
        let history: DeepLogHistory = r.json("history.json")?;
        let parsing = if r.lists("parsing.json") {
            Some(r.json("parsing.json")?)
        } else {
            None
        };
        let timing = if r.lists("timing.json") {
            r.json("timing.json")?
        } else {
            Timing::default()
        };
        let rates = if r.lists("rates.json") {
            r.json("rates.json")?
        } else {
            Rates::default()
        };
        let counts = if r.lists("counts.json") {
            r.json("counts.json")?
        } else {
            CountProfile::default()
        };
        let weights = r.read("weights.bpk")?;
        let device = config.backend.device();
        let fresh = DeepLogNet::new(&mut seeded(config.seed, 1), vocab.len(), &config, &device);
        let record =
            burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(weights))
                .map_err(|e| r.bad("weights.bpk", e))?;
        let network = fresh
            .try_load_record(record)
            .map_err(|e| r.bad("weights.bpk", e))?;
        Ok(LogModel {
            config,
            vocab,
            transitions,
            parsing,
            timing,
            rates,
            counts,
            history,
            network,
        })
    }
}

/// Sessions as the events' keys (template ids as the input names them), in order.
pub type KeySessions = [Vec<String>];

/// The vocabulary of `sessions` (keys in order of first appearance, so the same input
/// gives the same classes) with each key's template text from `templates` where known.
pub fn vocab_of(sessions: &KeySessions, templates: &dyn Fn(&str) -> Option<String>) -> Vocab {
    let mut seen = std::collections::HashSet::new();
    let mut vocab = Vocab::default();
    for key in sessions.iter().flatten() {
        if seen.insert(key.as_str()) {
            vocab.keys.push(key.clone());
            vocab.templates.push(templates(key).unwrap_or_default());
        }
    }
    vocab
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_know_starts_ends_and_mark_rare_edges() {
        let mut sessions: Vec<Vec<u16>> = vec![vec![0, 1, 2]; 200];
        sessions.push(vec![0, 2]);
        let t = Transitions::new(sessions.iter().map(Vec::as_slice), 3);
        assert!(t.seen(None, 0));
        assert!(!t.seen(None, 1));
        assert!(t.seen(Some(0), 1) && t.seen(Some(0), 2));
        assert!(!t.seen(Some(1), 0));
        let vocab = Vocab {
            keys: vec!["A".into(), "B".into(), "C".into()],
            templates: vec!["open <*>".into(), "read \"x\"".into(), String::new()],
        };
        let dot = t.to_dot(&vocab);
        assert!(dot.starts_with("digraph transitions {"));
        assert!(
            dot.contains("start -> e0 [label=\"1.000 (201)\"];"),
            "{dot}"
        );
        assert!(
            dot.contains("e0 -> e2 [label=\"0.005 (1)\", style=dashed"),
            "{dot}"
        );
        assert!(dot.contains("e2 -> end"), "{dot}");
        assert!(dot.contains("read \\\"x\\\""), "quotes escaped: {dot}");
    }
}
