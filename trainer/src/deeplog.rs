//! DeepLog's training: the network ([`vigil_model::deeplog::DeepLogNet`]) learns the
//! normal order of log events from normal sessions.
//!
//! Training sessions repeat the same (history, next) pairs many times, so pairs are
//! counted once and weighted by their count: the loss is exactly the mean over every
//! position of every session, at a fraction of the work.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::seq::SliceRandom;

use crate::calibrate;
use crate::training::{EarlyStop, Progress};
use vigil_model::deeplog::{DeepLogConfig, DeepLogHistory, DeepLogNet, SCORE_BATCH, window_before};
use vigil_model::history::EpochLoss;
use vigil_model::logmodel::Transitions;
use vigil_model::rng::seeded;

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

/// Validation sessions kept at least (up to half the sessions): the verdict is
/// calibrated on them to flag at most `max_valid_flagged` (0.1 %) of normal sessions, a
/// share a few hundred sessions cannot measure.
pub const MIN_VALID_SESSIONS: usize = 1000;

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
        ((sessions.len() as f64 * config.validation_fraction).round() as usize)
            .max(MIN_VALID_SESSIONS.min(sessions.len() / 2))
            .max(1)
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
    let calibration = (config.max_valid_flagged > 0.0 && !valid_sessions.is_empty()).then(|| {
        let fit = Transitions::new(train_idx.iter().map(|&i| sessions[i].as_slice()), classes);
        let valid = calibrate::valid_sessions(&model, &valid_sessions, &fit, config, &plain);
        calibrate::calibrate(&valid, config)
    });
    let history = DeepLogHistory {
        epochs: stop.epochs,
        best_epoch,
        train_sessions: train_idx.len(),
        valid_sessions: valid_idx.len(),
        train_positions: train_pairs.positions(),
        train_pairs: train_pairs.len(),
        stopped_early: stop.stopped_early,
        seconds: started.elapsed().as_secs_f64(),
        calibrated_top_g: calibration.map(|c| c.top_g),
        calibrated_min_probability: calibration.map(|c| c.min_probability),
        calibrated_novel_probability: calibration.map(|c| c.novel_probability),
    };
    (model, history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::deeplog::verdicts;

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
