//! The honest baseline every metrics evaluation reports beside the deep model: a per-hour
//! z-score.
//!
//! For each group (host) and hour of day, each column's mean and standard deviation on the
//! training data; a point's baseline score is the mean over columns of its squared
//! z-score. Hours with few samples are shrunk towards the group's overall statistics, and
//! groups never seen in training fall back to the statistics of all groups pooled, so the
//! baseline works from a few days of data (NAB's probationary periods) to months.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::hour_of_day;

/// Samples an hour needs before its own statistics outweigh the group's pooled ones.
const SHRINK: f64 = 20.0;

/// Running mean and variance (Welford) per column.
#[derive(Debug, Clone, Default)]
struct Moments {
    n: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
}

impl Moments {
    fn new(width: usize) -> Moments {
        Moments {
            n: 0.0,
            mean: vec![0.0; width],
            m2: vec![0.0; width],
            min: vec![f64::INFINITY; width],
            max: vec![f64::NEG_INFINITY; width],
        }
    }

    fn push(&mut self, row: &[f32]) {
        self.n += 1.0;
        for (c, &x) in row.iter().enumerate() {
            let x = f64::from(x);
            let d = x - self.mean[c];
            self.mean[c] += d / self.n;
            self.m2[c] += d * (x - self.mean[c]);
            self.min[c] = self.min[c].min(x);
            self.max[c] = self.max[c].max(x);
        }
    }

    fn var(&self, c: usize) -> f64 {
        if self.n > 1.0 {
            self.m2[c] / (self.n - 1.0)
        } else {
            0.0
        }
    }
}

/// Per-hour means and standard deviations of one group (or of all groups pooled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourStats {
    /// `[24][columns]` means.
    pub mean: Vec<Vec<f64>>,
    /// `[24][columns]` standard deviations, never zero.
    pub std: Vec<Vec<f64>>,
    /// Each column's lowest and highest training value (empty in models from before they
    /// were kept).
    #[serde(default)]
    pub min: Vec<f64>,
    #[serde(default)]
    pub max: Vec<f64>,
}

/// The fitted per-hour z-score baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourProfile {
    pub columns: usize,
    pub groups: BTreeMap<String, HourStats>,
    pub pooled: HourStats,
}

/// Collects training rows, then [`HourProfileFit::finish`]es into a [`HourProfile`].
pub struct HourProfileFit {
    width: usize,
    groups: BTreeMap<String, (Moments, Vec<Moments>)>,
    pooled: (Moments, Vec<Moments>),
}

fn fresh(width: usize) -> (Moments, Vec<Moments>) {
    (Moments::new(width), vec![Moments::new(width); 24])
}

impl HourProfileFit {
    pub fn new(width: usize) -> HourProfileFit {
        HourProfileFit {
            width,
            groups: BTreeMap::new(),
            pooled: fresh(width),
        }
    }

    /// Adds one training row of `group` at unix time `time`.
    pub fn push(&mut self, group: &str, time: i64, row: &[f32]) {
        let h = hour_of_day(time);
        if !self.groups.contains_key(group) {
            self.groups.insert(group.to_string(), fresh(self.width));
        }
        if let Some((all, hours)) = self.groups.get_mut(group) {
            all.push(row);
            hours[h].push(row);
        }
        self.pooled.0.push(row);
        self.pooled.1[h].push(row);
    }

    pub fn finish(self) -> HourProfile {
        let width = self.width;
        let stats = |(all, hours): &(Moments, Vec<Moments>)| {
            // What an hour with few samples falls back on: the spread within hours
            // (pooled over the hours that have one), not the overall spread, which also
            // holds the differences between hours.
            let within: Vec<f64> = (0..width)
                .map(|c| {
                    let (mut num, mut den) = (0.0, 0.0);
                    for h in hours.iter().filter(|h| h.n > 1.0) {
                        num += h.var(c) * (h.n - 1.0);
                        den += h.n - 1.0;
                    }
                    if den >= 2.0 { num / den } else { all.var(c) }
                })
                .collect();
            let mut mean = Vec::with_capacity(24);
            let mut std = Vec::with_capacity(24);
            for h in hours {
                let w = h.n / (h.n + SHRINK);
                // The level needs far fewer samples than the spread.
                let wm = h.n / (h.n + 1.0);
                let mut m = Vec::with_capacity(width);
                let mut s = Vec::with_capacity(width);
                for (c, pooled) in within.iter().enumerate() {
                    let mu = wm * h.mean[c] + (1.0 - wm) * all.mean[c];
                    // Shrunk variance: the hour's spread around the shrunk mean, pulled
                    // towards the pooled within-hour variance.
                    let own = h.var(c) + (h.mean[c] - mu).powi(2);
                    let var = w * own + (1.0 - w) * pooled;
                    let floor = (0.01 * all.mean[c].abs()).max(1e-3);
                    m.push(mu);
                    s.push(var.sqrt().max(floor));
                }
                mean.push(m);
                std.push(s);
            }
            HourStats {
                mean,
                std,
                min: all.min.clone(),
                max: all.max.clone(),
            }
        };
        HourProfile {
            columns: width,
            groups: self
                .groups
                .iter()
                .map(|(g, m)| (g.clone(), stats(m)))
                .collect(),
            pooled: stats(&self.pooled),
        }
    }
}

impl HourProfile {
    /// The squared z-score of each column of `row` (raw units), written into `out`.
    pub fn z2(&self, group: &str, time: i64, row: &[f32], out: &mut [f32]) {
        let stats = self.groups.get(group).unwrap_or(&self.pooled);
        let h = hour_of_day(time);
        for (c, (&x, o)) in row.iter().zip(out.iter_mut()).enumerate() {
            let z = (f64::from(x) - stats.mean[h][c]) / stats.std[h][c];
            *o = (z * z) as f32;
        }
    }

    /// `group`'s lowest and highest training value of each column, when known.
    pub fn bounds(&self, group: &str) -> Option<(Vec<f32>, Vec<f32>)> {
        let s = self.groups.get(group)?;
        if s.min.len() != self.columns || s.max.len() != self.columns {
            return None;
        }
        let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect();
        Some((f(&s.min), f(&s.max)))
    }

    /// Whether `group` has statistics of its own.
    pub fn knows(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_follow_their_own_level_and_unknown_groups_use_the_pool() {
        let mut fit = HourProfileFit::new(1);
        // 30 days of a daily pattern: 10 at night (hours 0-11), 50 by day, ±1 noise.
        for d in 0..30i64 {
            for h in 0..24i64 {
                let v = if h < 12 { 10.0 } else { 50.0 } + if d % 2 == 0 { 1.0 } else { -1.0 };
                fit.push("a", d * 86_400 + h * 3_600, &[v]);
            }
        }
        let p = fit.finish();
        let mut z = [0f32];
        p.z2("a", 3 * 3_600, &[10.0], &mut z);
        assert!(z[0] < 0.5, "night at night is normal: {z:?}");
        p.z2("a", 3 * 3_600, &[50.0], &mut z);
        assert!(z[0] > 100.0, "day level at night is not: {z:?}");
        p.z2("a", 15 * 3_600, &[50.0], &mut z);
        assert!(z[0] < 0.5);
        p.z2("unknown", 15 * 3_600, &[50.0], &mut z);
        assert!(z[0] < 0.5, "the pool has the same pattern");
        assert!(p.knows("a") && !p.knows("unknown"));
        assert_eq!(p.bounds("a"), Some((vec![9.0], vec![51.0])));
        assert_eq!(p.bounds("unknown"), None);
    }

    #[test]
    fn a_few_samples_per_hour_are_shrunk_to_the_overall_spread() {
        let mut fit = HourProfileFit::new(1);
        // One sample per hour: an hour's own variance is undefined.
        for h in 0..24i64 {
            fit.push("a", h * 3_600, &[h as f32]);
        }
        let p = fit.finish();
        let s = &p.groups["a"].std;
        assert!(s.iter().all(|r| r[0] > 5.0), "{s:?}");
    }
}
