//! DeepLog (Du et al., CCS 2017): learn the normal order of log events and flag the events
//! a model of it did not expect.
//!
//! Each event is a log template (a class). For every position of a normal session the
//! network reads the previous `history` events (padded at the start of a session) and
//! predicts a distribution over the next one: a one-hot input through an embedding layer,
//! stacked LSTMs ([`crate::nn::Lstm`]) and a softmax over the templates. An event is
//! abnormal when it is not among the `top_g` most likely predictions, or when its template
//! was never seen in training. Training is the trainer's (`vigil_trainer::deeplog`).

use std::collections::HashMap;

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::config::{Backend, check_counts, check_learning_rate};
use crate::history::EpochLoss;
use crate::nn::{Dense, Lstm};
use crate::rng::Rng;

/// A transition never seen in training is abnormal only where the network gave it less
/// than this (before calibration lowers it).
pub const NOVEL_MAX_PROBABILITY: f32 = 0.01;

/// Pairs scored at once when no gradient is needed.
pub const SCORE_BATCH: usize = 1024;

/// DeepLog's hyper-parameters (defaults: the paper's h = 10, two layers of 64, g = 9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeepLogConfig {
    /// Events of history the next one is predicted from (h).
    pub history: usize,
    pub embedding: usize,
    pub hidden: usize,
    pub layers: usize,
    /// An event is normal when it is among this many most likely predictions (g)…
    pub top_g: usize,
    /// … and the model gave it at least this probability: with few templates, the top g
    /// hold nearly all of them, and rank alone would pass events the model found very
    /// unlikely.
    pub min_probability: f64,
    /// Also learn where sessions end: a session that stops where the model did not expect
    /// an end (a truncated request, a job that never finished) is abnormal too.
    pub end_of_session: bool,
    /// An event whose transition from the one before (or from the start, or into the end)
    /// never occurred in training is abnormal whatever the network's rank for it, unless
    /// the network gave it 1 % or more: the softmax leaves a never-seen continuation about
    /// as likely as a rare, seen one.
    pub novel_transitions: bool,
    /// A session with a step (a transition) that training saw, rarely, but that came in
    /// a burst (within an hour, far beyond its training share and more than training ever
    /// had at once) is abnormal: what no single session shows
    /// (`vigil_core::logs::paths`; needs times).
    pub path_bursts: bool,
    /// A session whose event counts lie farther from every training session's than
    /// training sessions lay from each other (each left out) is abnormal whatever its
    /// order: a step missing or repeated where order varies (`counts.json`;
    /// `vigil_core::logs::counts`).
    pub count_vectors: bool,
    pub epochs: usize,
    pub batch_size: usize,
    /// An epoch goes over the distinct pairs as many times as it takes to see at least
    /// this many (a few hundred distinct pairs would otherwise make a handful of steps).
    pub min_pairs_per_epoch: usize,
    pub learning_rate: f64,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// `top_g` is raised, the probability floor and the never-seen-transition
    /// probability lowered (never the other way) until at most this share of the
    /// validation sessions would fail them (`vigil_trainer::calibrate`); 0 keeps the
    /// verdict as set.
    pub max_valid_flagged: f64,
    /// Share of the training sessions (a seeded random choice) kept for validation (at
    /// least min(1,000, half of them)).
    pub validation_fraction: f64,
    pub seed: u64,
    pub backend: Backend,
}

impl Default for DeepLogConfig {
    fn default() -> Self {
        DeepLogConfig {
            history: 10,
            embedding: 16,
            hidden: 64,
            layers: 2,
            top_g: 9,
            min_probability: 1e-4,
            end_of_session: true,
            novel_transitions: true,
            path_bursts: true,
            count_vectors: true,
            epochs: 30,
            batch_size: 64,
            min_pairs_per_epoch: 8192,
            learning_rate: 2e-3,
            patience: 5,
            max_valid_flagged: 0.001,
            validation_fraction: 0.1,
            seed: 42,
            backend: Backend::Flex,
        }
    }
}

impl DeepLogConfig {
    /// Checks the values once, naming the key at fault.
    pub fn check(&self) -> Result<(), Error> {
        check_counts(&[
            ("history", self.history),
            ("embedding", self.embedding),
            ("hidden", self.hidden),
            ("layers", self.layers),
            ("top_g", self.top_g),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
        ])?;
        check_learning_rate(self.learning_rate)?;
        if !(0.0..1.0).contains(&self.min_probability) {
            return Err(Error::Config(format!(
                "min_probability: expected a probability in [0, 1), found {}",
                self.min_probability
            )));
        }
        if !(0.0..1.0).contains(&self.max_valid_flagged) {
            return Err(Error::Config(format!(
                "max_valid_flagged: expected a share in [0, 1), found {}",
                self.max_valid_flagged
            )));
        }
        if !(0.0..=0.5).contains(&self.validation_fraction) {
            return Err(Error::Config(format!(
                "validation_fraction: expected a share in [0, 0.5], found {}",
                self.validation_fraction
            )));
        }
        Ok(())
    }
}

/// The events a model knows: class index → the event's key (a template id as the input
/// names it) and its template text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vocab {
    pub keys: Vec<String>,
    pub templates: Vec<String>,
}

impl Vocab {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Key → class.
    pub fn index(&self) -> HashMap<&str, u16> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i as u16))
            .collect()
    }

    /// A short readable name for class `c`: its template, or its key.
    pub fn name(&self, c: usize) -> &str {
        match self.templates.get(c) {
            Some(t) if !t.is_empty() => t,
            _ => self.keys.get(c).map_or("?", String::as_str),
        }
    }
}

/// Embedding, stacked LSTMs, softmax layer over the templates and the end of a session.
#[derive(Module, Debug)]
pub struct DeepLogNet {
    embed: Dense,
    layers: Vec<Lstm>,
    out: Dense,
    /// Templates; the input has one more symbol, the padding before a session's start.
    classes: usize,
}

impl DeepLogNet {
    pub fn new(rng: &mut Rng, classes: usize, config: &DeepLogConfig, device: &Device) -> Self {
        let embed = Dense::new(rng, classes + 1, config.embedding, device);
        let layers = (0..config.layers)
            .map(|l| {
                let inputs = if l == 0 {
                    config.embedding
                } else {
                    config.hidden
                };
                Lstm::new(rng, inputs, config.hidden, device)
            })
            .collect();
        let out = Dense::new(rng, config.hidden, classes + 1, device);
        DeepLogNet {
            embed,
            layers,
            out,
            classes,
        }
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The output standing for "the session ends here".
    pub fn end(&self) -> u16 {
        self.classes as u16
    }

    /// Outputs: the templates and the end.
    pub fn outputs(&self) -> usize {
        self.classes + 1
    }

    /// The padding symbol's input index.
    pub fn pad(&self) -> u16 {
        self.classes as u16
    }

    /// Next-event log-probabilities `[B, classes + 1]` (the last: the session ends) for `windows` (`B × h` input symbols,
    /// row-major, oldest first).
    pub fn log_probs(&self, windows: &[u16], h: usize, device: &Device) -> Tensor<2> {
        let b = windows.len() / h.max(1);
        let symbols = self.classes + 1;
        let mut steps: Vec<Tensor<2>> = (0..h)
            .map(|t| {
                let mut one_hot = vec![0f32; b * symbols];
                for i in 0..b {
                    one_hot[i * symbols + usize::from(windows[i * h + t]).min(self.classes)] = 1.0;
                }
                let x = Tensor::<2>::from_data(TensorData::new(one_hot, [b, symbols]), device);
                self.embed.forward(x)
            })
            .collect();
        for layer in &self.layers {
            steps = layer.forward(&steps);
        }
        let last = steps.pop().unwrap_or_else(|| Tensor::zeros([b, 1], device));
        log_softmax(self.out.forward(last), 1)
    }
}

/// The `history` symbols before position `i` of `session`, padded with `pad`.
pub fn window_before(session: &[u16], i: usize, history: usize, pad: u16) -> Vec<u16> {
    let from = i.saturating_sub(history);
    let mut w = vec![pad; history - (i - from)];
    w.extend_from_slice(&session[from..i]);
    w
}

/// What training did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeepLogHistory {
    pub epochs: Vec<EpochLoss>,
    /// 1-based epoch whose weights were kept.
    pub best_epoch: usize,
    pub train_sessions: usize,
    pub valid_sessions: usize,
    pub train_positions: f64,
    /// Distinct (history, next) pairs trained on.
    pub train_pairs: usize,
    pub stopped_early: bool,
    pub seconds: f64,
    /// The g the detector uses: the configured `top_g`, raised until at most
    /// `max_valid_flagged` of the validation sessions would be flagged (with the two
    /// below; see `vigil_trainer::calibrate`); `None` without validation sessions.
    #[serde(default)]
    pub calibrated_top_g: Option<usize>,
    /// The probability floor the detector uses: `min_probability`, lowered.
    #[serde(default)]
    pub calibrated_min_probability: Option<f64>,
    /// The probability under which a transition never seen is abnormal:
    /// [`NOVEL_MAX_PROBABILITY`], lowered.
    #[serde(default)]
    pub calibrated_novel_probability: Option<f32>,
}

/// The model's view of one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// 1-based rank of the event among the predictions; `None` for a template the model
    /// never saw.
    pub rank: Option<usize>,
    /// The probability the model gave the event (0 for a template it never saw).
    pub probability: f32,
    /// The `top_g` most likely events, most likely first.
    pub expected: Vec<u16>,
}

/// Scores every event of `sessions` (classes, or `None` for unknown templates) and, with
/// `end`, the session's end as one more verdict (event [`DeepLogNet::end`]); unknown
/// events in a history are read as padding. Distinct histories are predicted once.
pub fn verdicts(
    net: &DeepLogNet,
    sessions: &[Vec<Option<u16>>],
    history: usize,
    top_g: usize,
    end: bool,
    device: &Device,
) -> Vec<Vec<Verdict>> {
    let pad = net.pad();
    let with_end: Vec<Vec<Option<u16>>>;
    let sessions = if end {
        with_end = sessions
            .iter()
            .map(|s| s.iter().copied().chain([Some(net.end())]).collect())
            .collect();
        &with_end
    } else {
        sessions
    };
    let known: Vec<Vec<u16>> = sessions
        .iter()
        .map(|s| s.iter().map(|e| e.unwrap_or(pad)).collect())
        .collect();
    let mut distinct: HashMap<Vec<u16>, usize> = HashMap::new();
    let mut windows: Vec<u16> = Vec::new();
    let mut keys: Vec<Vec<usize>> = Vec::with_capacity(sessions.len());
    for s in &known {
        keys.push(
            (0..s.len())
                .map(|i| {
                    let w = window_before(s, i, history, pad);
                    let next = distinct.len();
                    *distinct.entry(w.clone()).or_insert_with(|| {
                        windows.extend_from_slice(&w);
                        next
                    })
                })
                .collect(),
        );
    }
    let classes = net.outputs();
    // Per distinct history: its top g and every output's log-probability (a rank is counted
    // from those when needed, so no full ordering is kept).
    let mut ranked: Vec<(Vec<u16>, Vec<f32>)> = Vec::with_capacity(distinct.len());
    for chunk in windows.chunks(SCORE_BATCH * history) {
        let logp: Vec<f32> = net
            .log_probs(chunk, history, device)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for row in logp.chunks(classes) {
            let mut order: Vec<u16> = (0..classes as u16).collect();
            let by_probability =
                |a: &u16, b: &u16| row[usize::from(*b)].total_cmp(&row[usize::from(*a)]);
            let g = top_g.min(classes);
            if g < classes {
                order.select_nth_unstable_by(g, by_probability);
                order.truncate(g);
            }
            order.sort_by(by_probability);
            ranked.push((order, row.to_vec()));
        }
    }
    sessions
        .iter()
        .zip(&keys)
        .map(|(s, k)| {
            s.iter()
                .zip(k)
                .map(|(e, &w)| {
                    let (top, logp) = &ranked[w];
                    let rank = |e: u16| {
                        let p = logp[usize::from(e)];
                        // Ties count in the event's favour.
                        1 + logp.iter().filter(|&&q| q > p).count()
                    };
                    Verdict {
                        rank: e.map(rank),
                        probability: e.map_or(0.0, |e| logp[usize::from(e)].exp()),
                        expected: top.clone(),
                    }
                })
                .collect()
        })
        .collect()
}
