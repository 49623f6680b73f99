//! Calibration of DeepLog's verdict on the validation sessions (normal sessions the
//! network did not train on): each of its three tests is relaxed, never tightened, until
//! at most `max_valid_flagged` of them would be flagged in all. A data set whose normal
//! order varies (HDFS's blocks, written by concurrent threads) gets a lenient verdict and
//! leaves its anomalies to the counts and the rules; one whose order is fixed keeps
//! DeepLog's defaults.
//!
//! The three tests, in the order the allowance goes to them: the probability floor
//! (`min_probability`, lowered), the rank (`top_g`, raised) and the probability under
//! which a transition never seen in training is abnormal
//! ([`NOVEL_MAX_PROBABILITY`], lowered). Transitions are judged against the sessions
//! the network trained on, so a validation session can show one never seen.

use burn::prelude::*;

use vigil_model::deeplog::{DeepLogConfig, DeepLogNet, NOVEL_MAX_PROBABILITY, verdicts};
use vigil_model::logmodel::Transitions;

/// What the verdict would take to pass one validation session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidSession {
    /// The worst rank of its events (and end).
    pub worst_rank: usize,
    /// The smallest probability the network gave one of them.
    pub min_probability: f32,
    /// The smallest probability of a transition the training sessions never had.
    pub novel_probability: Option<f32>,
}

/// The calibrated verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub top_g: usize,
    pub min_probability: f64,
    pub novel_probability: f32,
}

/// The network's view of each of `valid`, with transitions judged against `fit` (the
/// sessions it trained on).
pub fn valid_sessions(
    net: &DeepLogNet,
    valid: &[Vec<u16>],
    fit: &Transitions,
    config: &DeepLogConfig,
    device: &Device,
) -> Vec<ValidSession> {
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
    let end = net.end();
    valid
        .iter()
        .zip(&v)
        .map(|(s, v)| {
            let novel = (0..v.len())
                .filter(|&i| {
                    let from = i.checked_sub(1).map(|j| s[j]);
                    let to = s.get(i).copied().unwrap_or(end);
                    !fit.seen(from, to)
                })
                .map(|i| v[i].probability)
                .reduce(f32::min);
            ValidSession {
                worst_rank: v.iter().filter_map(|e| e.rank).max().unwrap_or(0),
                min_probability: v.iter().map(|e| e.probability).fold(1.0, f32::min),
                novel_probability: novel.filter(|_| config.novel_transitions),
            }
        })
        .collect()
}

/// The threshold below which at most `allowed` of `values` fall, where `start` lets
/// more fall below: the (allowed + 1)-th smallest value (`None`: `start` does).
fn lowered(mut values: Vec<f32>, start: f32, allowed: usize) -> Option<f32> {
    values.sort_by(f32::total_cmp);
    values.get(allowed).copied().filter(|&v| v < start)
}

/// Relaxes the configured verdict until at most `config.max_valid_flagged` of `valid`
/// would be flagged (see the module docs).
pub fn calibrate(valid: &[ValidSession], config: &DeepLogConfig) -> Calibration {
    let mut allowed = (config.max_valid_flagged * valid.len() as f64).floor() as usize;
    let min_probability = lowered(
        valid.iter().map(|s| s.min_probability).collect(),
        config.min_probability as f32,
        allowed,
    )
    .map_or(config.min_probability, f64::from);
    let floor = min_probability as f32;
    let mut passing: Vec<&ValidSession> = Vec::new();
    for s in valid {
        if s.min_probability < floor {
            allowed -= 1;
        } else {
            passing.push(s);
        }
    }
    let mut worst: Vec<usize> = passing.iter().map(|s| s.worst_rank).collect();
    worst.sort_unstable();
    // The (allowed + 1)-th highest worst rank must not exceed g.
    let g = worst
        .len()
        .checked_sub(allowed + 1)
        .map_or(0, |i| worst[i])
        .max(config.top_g);
    let passing: Vec<&ValidSession> = passing.into_iter().filter(|s| s.worst_rank <= g).collect();
    allowed -= worst.len() - passing.len();
    let novel = lowered(
        passing.iter().filter_map(|s| s.novel_probability).collect(),
        NOVEL_MAX_PROBABILITY,
        allowed,
    )
    .unwrap_or(NOVEL_MAX_PROBABILITY);
    Calibration {
        top_g: g,
        min_probability,
        novel_probability: novel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(worst_rank: usize, min_probability: f32, novel: Option<f32>) -> ValidSession {
        ValidSession {
            worst_rank,
            min_probability,
            novel_probability: novel,
        }
    }

    #[test]
    fn each_test_is_relaxed_only_as_far_as_the_allowance_needs() {
        let config = DeepLogConfig {
            top_g: 3,
            min_probability: 1e-4,
            max_valid_flagged: 0.2,
            ..DeepLogConfig::default()
        };
        // Ten sessions, two may be flagged.
        let mut valid = vec![s(1, 0.5, None); 10];
        let c = calibrate(&valid, &config);
        assert_eq!((c.top_g, c.min_probability), (3, 1e-4));
        assert_eq!(c.novel_probability, NOVEL_MAX_PROBABILITY);
        // Three under the floor: it falls to the third smallest, two stay flagged, and
        // nothing is left for the rank or the transitions.
        valid[0] = s(1, 1e-6, None);
        valid[1] = s(1, 1e-7, None);
        valid[2] = s(1, 1e-5, None);
        valid[3] = s(7, 0.5, None);
        valid[4] = s(1, 0.5, Some(1e-3));
        let c = calibrate(&valid, &config);
        assert_eq!(c.min_probability, f64::from(1e-5f32));
        assert_eq!(c.top_g, 7);
        assert_eq!(c.novel_probability, 1e-3);
        // Nothing under the floor: the allowance goes to the rank (7 and 5 stay flagged
        // at g = 3), none to the transitions.
        let mut valid = vec![s(1, 0.5, None); 10];
        valid[0] = s(7, 0.5, None);
        valid[1] = s(5, 0.5, None);
        valid[2] = s(1, 0.5, Some(2e-3));
        let c = calibrate(&valid, &config);
        assert_eq!((c.top_g, c.min_probability), (3, 1e-4));
        assert_eq!(c.novel_probability, 2e-3);
        // A share of 0 keeps every session passing.
        let strict = DeepLogConfig {
            max_valid_flagged: 0.0,
            ..config
        };
        let c = calibrate(&valid, &strict);
        assert_eq!(c.top_g, 7);
        assert_eq!(c.novel_probability, 2e-3);
    }
}
