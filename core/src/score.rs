//! From per-column errors to one anomaly score per point, the same way for the model (its
//! squared errors) and the baseline (its squared z-scores), in training (calibration) and
//! in detection.
//!
//! A point's score is the mean over columns of each column's error divided by that
//! column's mean error on the validation data, so every column counts in units of its own
//! normal error (1.0 = a typical point) and a naturally noisy metric does not drown the
//! others. A column's share of the score is what the explanations rank metrics by.

use std::collections::VecDeque;

/// Smallest column mean used as a divisor (a column the model predicts perfectly).
const MIN_MEAN: f32 = 1e-6;

/// The score of one point from its per-column `errors`, given the columns' validation
/// `means`; writes each column's share of the score (summing to 1) into `shares`.
pub fn point_score(errors: &[f32], means: &[f32], shares: &mut [f32]) -> f32 {
    let mut total = 0f32;
    for ((e, m), s) in errors.iter().zip(means).zip(shares.iter_mut()) {
        *s = e.max(0.0) / m.max(MIN_MEAN);
        total += *s;
    }
    if total > 0.0 {
        for s in shares.iter_mut() {
            *s /= total;
        }
    }
    total / errors.len().max(1) as f32
}

/// Each column's mean of row-major `errors` (`width` columns).
pub fn column_means(errors: &[f32], width: usize) -> Vec<f32> {
    let mut sums = vec![0f64; width];
    let rows = errors.len() / width.max(1);
    for row in errors.chunks_exact(width.max(1)) {
        for (s, &e) in sums.iter_mut().zip(row) {
            *s += f64::from(e);
        }
    }
    sums.iter()
        .map(|s| (s / rows.max(1) as f64) as f32)
        .collect()
}

/// A causal moving average over the last `n` scores (`n` ≤ 1: no smoothing).
#[derive(Debug, Clone)]
pub struct Smoother {
    n: usize,
    recent: VecDeque<f32>,
    sum: f64,
}

impl Smoother {
    pub fn new(n: usize) -> Smoother {
        Smoother {
            n: n.max(1),
            recent: VecDeque::with_capacity(n.max(1)),
            sum: 0.0,
        }
    }

    /// Adds a score and returns the mean of the last `n` (fewer at the start).
    pub fn push(&mut self, score: f32) -> f32 {
        self.push_exact(score) as f32
    }

    /// [`Smoother::push`], the mean unrounded.
    pub fn push_exact(&mut self, score: f32) -> f64 {
        if self.n == 1 {
            return f64::from(score);
        }
        self.recent.push_back(score);
        self.sum += f64::from(score);
        if self.recent.len() > self.n
            && let Some(old) = self.recent.pop_front()
        {
            self.sum -= f64::from(old);
        }
        self.sum / self.recent.len() as f64
    }

    /// Forgets the past (a gap in the data).
    pub fn reset(&mut self) {
        self.recent.clear();
        self.sum = 0.0;
    }
}

/// Scores of row-major `errors` split into `runs` of consecutive points, each run smoothed
/// on its own: what a threshold is calibrated on.
pub fn smoothed_scores(
    errors: &[f32],
    width: usize,
    means: &[f32],
    runs: &[usize],
    smooth: usize,
) -> Vec<f32> {
    let mut shares = vec![0f32; width];
    let mut out = Vec::with_capacity(errors.len() / width.max(1));
    let mut rows = errors.chunks_exact(width.max(1));
    for &run in runs {
        let mut s = Smoother::new(smooth);
        for row in rows.by_ref().take(run) {
            out.push(s.push(point_score(row, means, &mut shares)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_in_units_of_their_own_normal_error() {
        let mut shares = [0f32; 2];
        // Column 0 is noisy (mean error 4), column 1 quiet (0.01).
        let s = point_score(&[4.0, 0.01], &[4.0, 0.01], &mut shares);
        assert!((s - 1.0).abs() < 1e-6);
        assert!((shares[0] - 0.5).abs() < 1e-6);
        let s = point_score(&[4.0, 0.19], &[4.0, 0.01], &mut shares);
        assert!((s - 10.0).abs() < 1e-4, "{s}");
        assert!(shares[1] > 0.9);
    }

    #[test]
    fn smoothing_is_causal_and_restarts_per_run() {
        let mut s = Smoother::new(3);
        let out: Vec<f32> = [3.0, 0.0, 0.0, 0.0].iter().map(|&x| s.push(x)).collect();
        assert_eq!(out, vec![3.0, 1.5, 1.0, 0.0]);
        let errors = [1.0, 1.0, 4.0, 4.0];
        let scores = smoothed_scores(&errors, 1, &[1.0], &[2, 2], 2);
        assert_eq!(scores, vec![1.0, 1.0, 4.0, 4.0]);
        assert_eq!(column_means(&[1.0, 2.0, 3.0, 4.0], 2), vec![2.0, 3.0]);
    }
}
