//! DeepLog (Du et al., CCS 2017): learn the normal order of log events and flag the events
//! a model of it did not expect.
//!
//! Each event is a log template (a class). For every position of a normal session the
//! network reads the previous `history` events (padded at the start of a session) and
//! predicts a distribution over the next one: a one-hot input through an embedding layer,
//! stacked LSTMs ([`crate::nn::Lstm`]) and a softmax over the templates. An event is
//! abnormal when it is not among the `top_g` most likely predictions, or when its template
//! was never seen in training.
//!
//! Training sessions repeat the same (history, next) pairs many times, so pairs are
//! counted once and weighted by their count: the loss is exactly the mean over every
//! position of every session, at a fraction of the work.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::config::{Backend, check_counts, check_learning_rate};
use crate::nn::{Dense, Lstm};
use crate::rng::{Rng, seeded};
use crate::training::{EarlyStop, EpochLoss, Progress};

/// Pairs scored at once when no gradient is needed.
const SCORE_BATCH: usize = 1024;

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
    pub epochs: usize,
    pub batch_size: usize,
    /// An epoch goes over the distinct pairs as many times as it takes to see at least
    /// this many (a few hundred distinct pairs would otherwise make a handful of steps).
    pub min_pairs_per_epoch: usize,
    pub learning_rate: f64,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// `top_g` is raised (never lowered) until at most this share of the validation
    /// sessions would be flagged; 0 keeps `top_g` as set.
    pub max_valid_flagged: f64,
    /// Share of the training sessions (a seeded random choice) kept for validation.
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
    pub fn check(&self) -> Result<(), String> {
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
            return Err(format!(
                "min_probability: expected a probability in [0, 1), found {}",
                self.min_probability
            ));
        }
        if !(0.0..1.0).contains(&self.max_valid_flagged) {
            return Err(format!(
                "max_valid_flagged: expected a share in [0, 1), found {}",
                self.max_valid_flagged
            ));
        }
        if !(0.0..=0.5).contains(&self.validation_fraction) {
            return Err(format!(
                "validation_fraction: expected a share in [0, 0.5], found {}",
                self.validation_fraction
            ));
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

/// Distinct (history, next) pairs of a set of sessions, with how often each occurs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs {
    pub history: usize,
    /// `len × history` input symbols.
    pub windows: Vec<u16>,
    pub targets: Vec<u16>,
    pub counts: Vec<f32>,
}

impl Pairs {
    /// Every position of every session (classes `< pad`), padded with `pad` at the start;
    /// with `end`, one more position per session whose target is `end`.
    pub fn new<'a>(
        sessions: impl IntoIterator<Item = &'a [u16]>,
        history: usize,
        pad: u16,
        end: Option<u16>,
    ) -> Pairs {
        let mut counts: BTreeMap<(Vec<u16>, u16), u32> = BTreeMap::new();
        for s in sessions {
            let targets = s.iter().copied().chain(end);
            for (i, next) in targets.enumerate() {
                *counts
                    .entry((window_before(s, i, history, pad), next))
                    .or_default() += 1;
            }
        }
        let mut pairs = Pairs {
            history,
            ..Pairs::default()
        };
        for ((w, next), n) in counts {
            pairs.windows.extend(w);
            pairs.targets.push(next);
            pairs.counts.push(n as f32);
        }
        pairs
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Positions the pairs stand for.
    pub fn positions(&self) -> f64 {
        self.counts.iter().map(|&c| f64::from(c)).sum()
    }

    fn window(&self, i: usize) -> &[u16] {
        &self.windows[i * self.history..(i + 1) * self.history]
    }
}

/// The `history` symbols before position `i` of `session`, padded with `pad`.
pub fn window_before(session: &[u16], i: usize, history: usize, pad: u16) -> Vec<u16> {
    let from = i.saturating_sub(history);
    let mut w = vec![pad; history - (i - from)];
    w.extend_from_slice(&session[from..i]);
    w
}

/// Summed weighted negative log-likelihood of `idx` pairs (and their total weight).
fn nll(net: &DeepLogNet, pairs: &Pairs, idx: &[usize], device: &Device) -> (Tensor<1>, f64) {
    let h = pairs.history;
    let classes = net.outputs();
    let mut windows = Vec::with_capacity(idx.len() * h);
    let mut target = vec![0f32; idx.len() * classes];
    let mut weight = 0f64;
    for (row, &i) in idx.iter().enumerate() {
        windows.extend_from_slice(pairs.window(i));
        target[row * classes + usize::from(pairs.targets[i])] = pairs.counts[i];
        weight += f64::from(pairs.counts[i]);
    }
    let logp = net.log_probs(&windows, h, device);
    let t = Tensor::<2>::from_data(TensorData::new(target, [idx.len(), classes]), device);
    ((logp * t).sum().neg(), weight)
}

/// Mean negative log-likelihood per position (no gradients).
pub fn mean_nll(net: &DeepLogNet, pairs: &Pairs, device: &Device) -> f64 {
    let all: Vec<usize> = (0..pairs.len()).collect();
    let (mut sum, mut weight) = (0f64, 0f64);
    for chunk in all.chunks(SCORE_BATCH) {
        let (loss, w) = nll(net, pairs, chunk, device);
        sum += f64::from(loss.into_scalar::<f32>());
        weight += w;
    }
    if weight == 0.0 {
        f64::NAN
    } else {
        sum / weight
    }
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
    /// `max_valid_flagged` of the validation sessions would be flagged by rank (see
    /// [`calibrate_top_g`]); `None` without validation sessions.
    #[serde(default)]
    pub calibrated_top_g: Option<usize>,
}

/// The smallest g ≥ `config.top_g` under which at most `config.max_valid_flagged` of
/// `valid` (normal sessions the network did not train on) have an event, or their end,
/// ranked past g. Sessions flagged whatever g (the probability floor) do not count
/// against it. `None` when there are no validation sessions.
pub fn calibrate_top_g(
    net: &DeepLogNet,
    valid: &[Vec<u16>],
    config: &DeepLogConfig,
    device: &Device,
) -> Option<usize> {
    if valid.is_empty() {
        return None;
    }
    let sessions: Vec<Vec<Option<u16>>> = valid
        .iter()
        .map(|s| s.iter().map(|&e| Some(e)).collect())
        .collect();
    let v = verdicts(
        net,
        &sessions,
        config.history,
        1,
        config.end_of_session,
        device,
    );
    let floor = config.min_probability as f32;
    let mut worst: Vec<usize> = v
        .iter()
        .filter(|s| s.iter().all(|e| e.probability >= floor))
        .map(|s| s.iter().filter_map(|e| e.rank).max().unwrap_or(0))
        .collect();
    worst.sort_unstable();
    let allowed = (config.max_valid_flagged * valid.len() as f64).floor() as usize;
    // The (allowed + 1)-th highest worst rank must not exceed g.
    let g = worst.len().checked_sub(allowed + 1).map_or(0, |i| worst[i]);
    Some(g.max(config.top_g))
}

/// Trains DeepLog on `sessions` (classes `0..classes`); returns the best epoch's network
/// (plain, ready to score).
pub fn train(
    sessions: &[Vec<u16>],
    classes: usize,
    config: &DeepLogConfig,
    progress: &mut dyn Progress,
) -> (DeepLogNet, DeepLogHistory) {
    let started = Instant::now();
    let device = config.backend.device().autodiff();
    let plain = config.backend.device();
    let mut rng = seeded(config.seed, 1);
    let mut model = DeepLogNet::new(&mut rng, classes, config, &device);
    let pad = model.pad();

    let mut order: Vec<usize> = (0..sessions.len()).collect();
    order.shuffle(&mut seeded(config.seed, 2));
    let n_valid = if sessions.len() >= 10 && config.validation_fraction > 0.0 {
        ((sessions.len() as f64 * config.validation_fraction).round() as usize).max(1)
    } else {
        0
    };
    let (valid_idx, train_idx) = order.split_at(n_valid);
    let end = config.end_of_session.then(|| model.end());
    let pairs = |idx: &[usize]| {
        Pairs::new(
            idx.iter().map(|&i| sessions[i].as_slice()),
            config.history,
            pad,
            end,
        )
    };
    let (train_pairs, valid_pairs) = (pairs(train_idx), pairs(valid_idx));

    let mut optim = AdamConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut stop = EarlyStop::new(config.patience, config.epochs);
    for epoch in 1..=config.epochs {
        let began = Instant::now();
        let repeats = config
            .min_pairs_per_epoch
            .div_ceil(train_pairs.len().max(1))
            .max(1);
        let mut idx: Vec<usize> = (0..train_pairs.len() * repeats)
            .map(|i| i % train_pairs.len().max(1))
            .collect();
        idx.shuffle(&mut seeded(config.seed, 100 + epoch as u64));
        let (mut sum, mut weight) = (0f64, 0f64);
        for chunk in idx.chunks(config.batch_size) {
            let (loss, w) = nll(&model, &train_pairs, chunk, &device);
            let loss = loss / w.max(1.0);
            sum += f64::from(loss.clone().into_scalar::<f32>()) * w;
            weight += w;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.learning_rate, model, grads);
        }
        let train_loss = sum / weight.max(1.0);
        let watched = if valid_pairs.is_empty() {
            train_loss
        } else {
            mean_nll(&model.valid(), &valid_pairs, &plain)
        };
        let loss = EpochLoss {
            epoch,
            train: train_loss,
            valid: watched,
            seconds: began.elapsed().as_secs_f64(),
        };
        if !stop.record(loss, &model, progress) {
            break;
        }
    }
    let (model, best_epoch) = stop.best(model);
    let model = model.valid();
    let valid_sessions: Vec<Vec<u16>> = valid_idx.iter().map(|&i| sessions[i].clone()).collect();
    let calibrated_top_g = (config.max_valid_flagged > 0.0)
        .then(|| calibrate_top_g(&model, &valid_sessions, config, &plain))
        .flatten();
    let history = DeepLogHistory {
        epochs: stop.epochs,
        best_epoch,
        train_sessions: train_idx.len(),
        valid_sessions: valid_idx.len(),
        train_positions: train_pairs.positions(),
        train_pairs: train_pairs.len(),
        stopped_early: stop.stopped_early,
        seconds: started.elapsed().as_secs_f64(),
        calibrated_top_g,
    };
    (model, history)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_pad_the_start_and_count_repeats() {
        let s: Vec<u16> = vec![0, 1, 2, 1, 2];
        let p = Pairs::new([s.as_slice(), s.as_slice()], 2, 9, None);
        assert_eq!(p.positions(), 10.0);
        // (9,9)→0, (9,0)→1, (0,1)→2, (1,2)→1, (2,1)→2: five distinct pairs, twice each.
        assert_eq!(p.len(), 5);
        assert!(p.counts.iter().all(|&c| c == 2.0));
        assert_eq!(window_before(&s, 0, 3, 9), vec![9, 9, 9]);
        assert_eq!(window_before(&s, 4, 3, 9), vec![1, 2, 1]);
        let p = Pairs::new([s.as_slice()], 2, 9, Some(5));
        assert_eq!(p.positions(), 6.0);
        assert!(p.targets.contains(&5), "the end is a target");
    }

    /// A deterministic language with a branch: after 0 comes 1 or 2, then always 3, 4.
    fn sessions(n: usize) -> Vec<Vec<u16>> {
        (0..n)
            .map(|i| {
                let mut s = Vec::new();
                for k in 0..3 {
                    s.extend([0, if (i + k) % 3 == 0 { 2 } else { 1 }, 3, 4]);
                }
                s
            })
            .collect()
    }

    #[test]
    fn learns_the_order_of_a_small_language_and_flags_what_breaks_it() {
        let config = DeepLogConfig {
            history: 4,
            hidden: 16,
            layers: 1,
            top_g: 2,
            epochs: 60,
            batch_size: 16,
            min_pairs_per_epoch: 0,
            learning_rate: 1e-2,
            patience: 60,
            ..DeepLogConfig::default()
        };
        let (net, history) = train(&sessions(40), 5, &config, &mut ());
        assert!(history.best_epoch > 0);
        // Normal validation sessions of this language are all within the top 2: g stays.
        assert_eq!(history.calibrated_top_g, Some(2));
        let device = config.backend.device();
        let normal: Vec<Option<u16>> = [0, 1, 3, 4, 0, 2, 3, 4].map(Some).to_vec();
        // 4 straight after 0 (skipping the branch), and an unknown template.
        let broken: Vec<Option<u16>> =
            vec![Some(0), Some(1), Some(3), Some(4), Some(0), Some(4), None];
        // A session that stops half way: its end comes where the model expects 3.
        let cut: Vec<Option<u16>> = vec![Some(0), Some(1)];
        let v = verdicts(&net, &[normal, broken, cut], 4, 2, true, &device);
        assert!(
            v[2][2].rank.unwrap() > 2,
            "a cut session's end not flagged: {:?}",
            v[2]
        );
        assert!(
            v[0].iter().all(|e| e.rank.is_some_and(|r| r <= 2)),
            "normal session flagged: {:?}",
            v[0]
        );
        assert!(
            v[1][5].rank.unwrap() > 2,
            "skipped step not flagged: {:?}",
            v[1][5]
        );
        assert!(v[1][5].expected.contains(&1) && v[1][5].expected.contains(&2));
        assert_eq!(v[1][6].rank, None);
        // The same seed gives the same model.
        let (again, _) = train(&sessions(40), 5, &config, &mut ());
        let x = [5u16, 5, 0, 1];
        let a = net
            .log_probs(&x, 4, &device)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let b = again
            .log_probs(&x, 4, &device)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(a, b);
    }
}
