//! From a raw anomaly score to one that means the same on every series, updated as rows
//! stream in: HTM's anomaly likelihood (Ahmad et al., "Unsupervised real-time anomaly
//! detection for streaming data", Neurocomputing 2017), and the range rule NAB's leading
//! detectors pair with it.
//!
//! A raw score (a model's normalised error, a squared z-score) is in units that differ from
//! one series to the next, and a level that was rare last week may be usual now. The
//! likelihood keeps the short-term mean of the last few raw scores (judged as its root: an
//! RMS error) and a Gaussian fitted to the recent history of those; the score is how
//! improbable the newest is under that Gaussian, on a log scale in [0, 1]:
//! `-log10(tail probability) / 10`, so 0.5 is a one-in-100 000 event on any series (HTM's
//! log-likelihood and its usual threshold). Every value joins the history, so a lasting
//! change becomes the new normal. Errors are heavy-tailed, so a level that the seed (a
//! model's validation points) reached is never judged rarer than the seed's share that
//! reached it.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;

use crate::score::Smoother;

/// The tail probability a score of 1.0 stands for (and below which all are alike).
const FLOOR: f64 = 1e-10;
/// The seed's highest means kept (at least; a hundredth of it when that is more).
const SEED_TOP_MIN: usize = 1024;

/// How the likelihood is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LikelihoodParams {
    /// Raw scores averaged into the short-term mean that is judged (HTM: 10).
    pub average: usize,
    /// Short-term means the Gaussian is fitted to, the newest kept (HTM: 8640).
    pub history: usize,
    /// Means needed before anything is judged (score 0 until then).
    pub min_history: usize,
    /// A mean further above the history's than this many standard deviations is learnt
    /// as if it were that far (0: learnt as it is, HTM's way). One huge burst otherwise
    /// widens the Gaussian so much that the next incident looks usual for days; a lasting
    /// change still becomes the new normal, a little more slowly. Default 12, chosen on NAB
    /// (51 files: default 71.6 → 72.8, optimised 75.0 → 75.4) and the default generated
    /// scenario (unchanged), checked on a second seed (unchanged); 3 to 6 cost NAB 3 to 12
    /// points.
    pub clip: f64,
}

impl Default for LikelihoodParams {
    fn default() -> LikelihoodParams {
        LikelihoodParams {
            average: 10,
            history: 8640,
            min_history: 100,
            clip: 12.0,
        }
    }
}

/// One series' likelihood state.
#[derive(Debug, Clone)]
pub struct Likelihood {
    params: LikelihoodParams,
    /// The mean of the last `average` raw scores.
    short: Smoother,
    /// That mean as of the last push, in raw-score units.
    recent: f64,
    means: VecDeque<f64>,
    sum: f64,
    sum2: f64,
    /// Pushes since the sums were last recomputed from scratch (rounding drift).
    since_exact: usize,
    /// The seed's highest means, sorted: how often normal data reached a level (shared
    /// by the clones every series of a detector starts from).
    seeded: Arc<[f64]>,
    /// How many means the seed had in all.
    seed_count: usize,
}

impl Likelihood {
    pub fn new(params: LikelihoodParams) -> Likelihood {
        let params = LikelihoodParams {
            average: params.average.max(1),
            history: params.history.max(2),
            min_history: params.min_history.max(2).min(params.history.max(2)),
            clip: if params.clip.is_finite() {
                params.clip.max(0.0)
            } else {
                0.0
            },
        };
        Likelihood {
            params,
            short: Smoother::new(params.average),
            recent: 0.0,
            means: VecDeque::with_capacity(params.history.min(1 << 16)),
            sum: 0.0,
            sum2: 0.0,
            since_exact: 0,
            seeded: Arc::from(Vec::new()),
            seed_count: 0,
        }
    }

    /// Learns from normal scores without judging them (a model's validation points: the
    /// detector starts from what normal looked like in training). Each run of consecutive
    /// scores is averaged on its own.
    pub fn seed<'a>(&mut self, runs: impl IntoIterator<Item = &'a [f32]>) {
        // Every seed value counts for how often normal data reached a level, even those
        // older than the history keeps.
        let mut v: Vec<f64> = Vec::new();
        for run in runs {
            self.restart();
            for &raw in run {
                let m = self.average(raw);
                self.learn(m);
                v.push(m);
            }
        }
        self.restart();
        // Only the top of the seed is kept (searched for every row, it stays in cache): a
        // level below it was reached by at least a hundredth of the seed, a probability no
        // threshold above 0.2 is near.
        let n = v.len();
        let keep = n.min((n / 100).max(SEED_TOP_MIN));
        if keep < n {
            v.select_nth_unstable_by(n - keep, f64::total_cmp);
            v.drain(..n - keep);
        }
        v.sort_by(f64::total_cmp);
        self.seeded = Arc::from(v);
        self.seed_count = n;
    }

    /// Judges one raw score and learns from it; returns the score in [0, 1].
    pub fn push(&mut self, raw: f32) -> f32 {
        let raw = if raw.is_finite() { raw } else { 0.0 };
        let m = self.average(raw);
        let gaussian = self.gaussian();
        let score = self.judge(m, gaussian);
        let learnt = match gaussian {
            Some((mean, std)) if self.params.clip > 0.0 => m.min(mean + self.params.clip * std),
            _ => m,
        };
        self.learn(learnt);
        score
    }

    /// The mean of the last `average` raw scores, as of the last [`Likelihood::push`] (the
    /// short-term level being judged, in the raw scores' units).
    pub fn recent_mean(&self) -> f64 {
        self.recent
    }

    /// Forgets the short-term mean (a gap in the data); the history is kept.
    pub fn restart(&mut self) {
        self.short.reset();
    }

    /// Means learnt so far (at most the history's length).
    pub fn history_len(&self) -> usize {
        self.means.len()
    }

    fn average(&mut self, raw: f32) -> f64 {
        // Raw scores are mean squared errors, whose means are far from Gaussian; their
        // root (an RMS error, in the units of the data) is much closer.
        self.recent = self.short.push_exact(raw);
        self.recent.max(0.0).sqrt()
    }

    /// The history's Gaussian (mean, spread), once it holds enough means to judge by.
    fn gaussian(&self) -> Option<(f64, f64)> {
        let n = self.means.len();
        if n < self.params.min_history {
            return None;
        }
        let mean = self.sum / n as f64;
        let var = (self.sum2 / n as f64 - mean * mean).max(0.0);
        // A series the model (or the profile) predicts almost perfectly would otherwise
        // call the slightest blip impossible: the spread is at least a tenth of the level
        // (HTM floors it likewise).
        Some((mean, var.sqrt().max(0.1 * mean.abs()).max(1e-6)))
    }

    /// The score of short-term mean `m` under the history's Gaussian (`None` until the
    /// history holds enough means).
    fn judge(&self, m: f64, gaussian: Option<(f64, f64)>) -> f32 {
        let Some((mean, std)) = gaussian else {
            return 0.0;
        };
        let gaussian = tail(m, mean, std);
        // Errors are heavy-tailed, so the Gaussian calls some levels improbable that normal
        // data reach: a level the seed (the validation points) reached is never rarer than
        // the share of the seed that reached it.
        let kept = self.seeded.len();
        let seen = if kept == 0 {
            0.0
        } else {
            (kept - self.seeded.partition_point(|&x| x < m)) as f64 / self.seed_count as f64
        };
        score_of(gaussian.max(seen))
    }

    fn learn(&mut self, m: f64) {
        self.means.push_back(m);
        self.sum += m;
        self.sum2 += m * m;
        if self.means.len() > self.params.history
            && let Some(old) = self.means.pop_front()
        {
            self.sum -= old;
            self.sum2 -= old * old;
        }
        self.since_exact += 1;
        if self.since_exact >= self.params.history {
            self.sum = self.means.iter().sum();
            self.sum2 = self.means.iter().map(|x| x * x).sum();
            self.since_exact = 0;
        }
    }
}

/// The upper-tail probability of `x` under a Gaussian (`x` at or below the mean: 0.5).
fn tail(x: f64, mean: f64, std: f64) -> f64 {
    if x <= mean {
        return 0.5;
    }
    0.5 * libm::erfc((x - mean) / (std * std::f64::consts::SQRT_2))
}

/// A tail probability on the [0, 1] log scale: `-log10(p) / 10`, 1.0 at 1e-10 and beyond.
fn score_of(p: f64) -> f32 {
    (-(p.max(FLOOR)).log10() / 10.0).clamp(0.0, 1.0) as f32
}

/// How much wider the range rule's tolerance is in log terms (below the lowest value of a
/// positive quantity) than in linear ones. With the default tolerance of 0.05 a positive
/// series whose range spans 100-fold alarms under 0.5 of its lowest value. Chosen on NAB and
/// the default generated scenario (0.15 to 0.2 in log terms score alike; 0.05 costs NAB 0.9),
/// checked on a second seed.
pub const RATIO_SCALE: f32 = 3.0;

/// The range rule: a value further outside the range seen so far than `tolerance` times
/// the range's width is anomalous whatever the model says (HTM's "spatial anomaly"). The
/// range then widens to include it (after [`Range::with_delay`]'s rows), so a new level
/// alarms once.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    tolerance: f32,
    min: Vec<f32>,
    max: Vec<f32>,
    /// Rows still to be seen before anything is judged.
    warm_up: usize,
    /// Rows a value waits before it widens the range, so that a change lasting at least
    /// that long is outside for all of it (and can be confirmed), not for its first row.
    delay: usize,
    /// The last `delay` rows, oldest first, flattened.
    pending: VecDeque<f32>,
    /// Rows a fall below a column's floor must last before it lowers the floor (0: at
    /// once, after the delay, like every other value).
    absorb: usize,
    /// Per column: consecutive rows below the floor so far, and the lowest of them.
    low_run: Vec<(usize, f32)>,
}

impl Range {
    /// A range per column learnt from the rows themselves: the first `warm_up` rows are
    /// only learnt from (a range of a few rows says nothing).
    pub fn new(width: usize, tolerance: f32, warm_up: usize) -> Range {
        Range {
            tolerance,
            min: vec![f32::INFINITY; width],
            max: vec![f32::NEG_INFINITY; width],
            warm_up,
            delay: 0,
            pending: VecDeque::new(),
            absorb: 0,
            low_run: Vec::new(),
        }
    }

    /// A range that starts from known bounds (the training data's), judged from the first row.
    pub fn with_bounds(min: Vec<f32>, max: Vec<f32>, tolerance: f32) -> Range {
        Range {
            tolerance,
            min,
            max,
            warm_up: 0,
            delay: 0,
            pending: VecDeque::new(),
            absorb: 0,
            low_run: Vec::new(),
        }
    }

    /// Values widen the range only `rows` rows after they were seen.
    pub fn with_delay(mut self, rows: usize) -> Range {
        self.delay = rows;
        self
    }

    /// Values below a column's floor lower it only once they have lasted `rows`
    /// consecutive rows (a new normal); a shorter fall (an outage, a crash loop, a
    /// partition) leaves the floor where it was, so the next one is outside too. Rises
    /// above the range widen it as before: a higher peak is commonly new load.
    pub fn with_absorb(mut self, rows: usize) -> Range {
        self.absorb = rows;
        self.low_run = vec![(0, f32::INFINITY); self.min.len()];
        self
    }

    /// The first column of `row` outside its range, if any; then widens the ranges. A
    /// column that has only ever held one value has no width to judge by and never alarms
    /// (a constant series' first change is the model's to judge).
    pub fn push(&mut self, row: &[f32]) -> Option<usize> {
        let width = self.min.len();
        while self.delay > 0 && width > 0 && self.pending.len() >= self.delay * width {
            widen(&mut self.min, &mut self.max, self.pending.drain(..width));
        }
        let mut outside = None;
        let judge = self.warm_up == 0;
        self.warm_up = self.warm_up.saturating_sub(1);
        for c in 0..width {
            let x = row.get(c).copied().unwrap_or(f32::NAN);
            let (out, joins) = self.column(c, x, judge);
            if out && outside.is_none() {
                outside = Some(c);
            }
            if self.delay == 0 {
                widen(&mut self.min[c..=c], &mut self.max[c..=c], [joins]);
            } else {
                self.pending.push_back(joins);
            }
        }
        outside
    }

    /// Judges column `c`'s value `x` (when `judge`): whether it is outside the range, and
    /// the value that joins the range for it (NaN: none, a fall held back until it lasts).
    fn column(&mut self, c: usize, x: f32, judge: bool) -> (bool, f32) {
        let (lo, hi) = (self.min[c], self.max[c]);
        if !x.is_finite() || !judge || lo >= hi {
            return (false, x);
        }
        let slack = (hi - lo) * self.tolerance;
        // A quantity that has never reached zero is judged by ratios below (traffic
        // falling to a twentieth of its lowest is far outside, however wide the range
        // above): `RATIO_SCALE` times the tolerance, in log terms, under the lowest.
        let floor = if lo > 0.0 {
            lo * (hi / lo).powf(-RATIO_SCALE * self.tolerance)
        } else {
            lo - slack
        };
        let below = x < floor;
        let outside = x > hi + slack || below;
        if self.absorb == 0 {
            return (outside, x);
        }
        let run = &mut self.low_run[c];
        if below {
            *run = (run.0 + 1, run.1.min(x));
            return match run.0.cmp(&self.absorb) {
                // Held back: it joins only if the fall lasts.
                std::cmp::Ordering::Less => (outside, f32::NAN),
                std::cmp::Ordering::Equal => (outside, run.1),
                std::cmp::Ordering::Greater => (outside, x),
            };
        }
        // A blip too short to be confirmed (a dropout) joins as any value would; a fall
        // long enough to alarm that did not last is forgotten.
        if run.0 > 0 && run.0 < self.delay.max(1) {
            self.min[c] = self.min[c].min(run.1);
        }
        *run = (0, f32::INFINITY);
        (outside, x)
    }
}

/// Widens each column's `min` and `max` to take in a row's finite values.
fn widen(min: &mut [f32], max: &mut [f32], row: impl IntoIterator<Item = f32>) {
    for ((lo, hi), x) in min.iter_mut().zip(max.iter_mut()).zip(row) {
        if x.is_finite() {
            *lo = lo.min(x);
            *hi = hi.max(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(i: usize) -> f32 {
        // A deterministic jitter in [0.5, 1.5).
        0.5 + ((i * 7919) % 1000) as f32 / 1000.0
    }

    #[test]
    fn the_same_surprise_scores_alike_on_series_of_any_scale() {
        for scale in [1e-3f32, 1.0, 1e4] {
            let mut l = Likelihood::new(LikelihoodParams::default());
            let mut highest = 0f32;
            for i in 0..2000 {
                highest = highest.max(l.push(scale * noise(i)));
            }
            assert!(highest < 0.5, "normal noise at scale {scale}: {highest}");
            let mut spike = 0f32;
            for _ in 0..10 {
                spike = spike.max(l.push(scale * 20.0));
            }
            assert!(spike > 0.9, "a 20-fold error at scale {scale}: {spike}");
        }
    }

    #[test]
    fn a_lasting_change_becomes_the_new_normal() {
        let p = LikelihoodParams {
            history: 500,
            ..LikelihoodParams::default()
        };
        let mut l = Likelihood::new(p);
        for i in 0..1000 {
            l.push(noise(i));
        }
        let first: Vec<f32> = (0..20).map(|i| l.push(5.0 * noise(i))).collect();
        assert!(first.iter().any(|&s| s > 0.5), "{first:?}");
        for i in 0..2000 {
            l.push(5.0 * noise(i));
        }
        let later: f32 = (0..20).map(|i| l.push(5.0 * noise(i))).fold(0.0, f32::max);
        assert!(later < 0.5, "absorbed: {later}");
        assert_eq!(l.history_len(), 500);
    }

    #[test]
    fn seeding_judges_from_the_first_row_and_silence_is_not_judged() {
        let mut l = Likelihood::new(LikelihoodParams::default());
        assert_eq!(l.push(100.0), 0.0, "nothing to judge by yet");
        let seed: Vec<f32> = (0..300).map(noise).collect();
        let mut l = Likelihood::new(LikelihoodParams::default());
        l.seed([&seed[..150], &seed[150..]]);
        assert_eq!(l.history_len(), 300);
        let s: f32 = (0..10).map(|_| l.push(30.0)).fold(0.0, f32::max);
        assert!(s > 0.9, "{s}");
        // Lower than usual is not anomalous, nor is a non-finite raw score.
        let mut l = Likelihood::new(LikelihoodParams::default());
        l.seed([&seed[..]]);
        assert!(l.push(0.0) < 0.05);
        assert!(l.push(f32::NAN) < 0.05);
    }

    #[test]
    fn a_level_normal_data_reached_is_not_called_improbable() {
        // Heavy-tailed normal errors: one point in 50 is 40 times the usual.
        let seed: Vec<f32> = (0..5000)
            .map(|i| if i % 50 == 0 { 40.0 } else { noise(i) })
            .collect();
        let mut with_seed = Likelihood::new(LikelihoodParams::default());
        with_seed.seed([&seed[..]]);
        let mut online = Likelihood::new(LikelihoodParams::default());
        for &x in &seed {
            online.push(x);
        }
        let burst = |l: &mut Likelihood, x: f32| (0..3).map(|_| l.push(x)).fold(0.0, f32::max);
        let (a, b) = (
            burst(&mut with_seed.clone(), 40.0),
            burst(&mut online.clone(), 40.0),
        );
        assert!(a < 0.5 && b > 0.5, "seeded {a}, Gaussian only {b}");
        // Beyond anything the seed held, the Gaussian decides again.
        let c = (0..10).map(|_| with_seed.push(2000.0)).fold(0.0, f32::max);
        assert!(c > 0.5, "{c}");
    }

    #[test]
    fn a_constant_score_still_allows_blips() {
        let mut l = Likelihood::new(LikelihoodParams::default());
        for _ in 0..500 {
            l.push(1.0);
        }
        // 20 % over a constant level is within the floored spread's reach.
        assert!(l.push(1.2) < 0.5);
        let s: f32 = (0..10).map(|_| l.push(10.0)).fold(0.0, f32::max);
        assert!(s > 0.9);
    }

    #[test]
    fn scores_map_probabilities_onto_a_log_scale() {
        assert_eq!(score_of(1.0), 0.0);
        assert!((score_of(1e-5) - 0.5).abs() < 1e-6);
        assert_eq!(score_of(0.0), 1.0);
        assert!((tail(1.0, 0.0, 1.0) - 0.158_655).abs() < 1e-5);
        assert_eq!(tail(-3.0, 0.0, 1.0), 0.5);
    }

    #[test]
    fn the_range_rule_fires_once_per_new_level() {
        let mut r = Range::new(2, 0.05, 10);
        for i in 0..100 {
            let x = (i % 10) as f32;
            assert_eq!(r.push(&[x, 5.0]), None);
        }
        assert_eq!(r.push(&[9.4, 5.0]), None, "within the tolerance");
        assert_eq!(r.push(&[12.0, 5.0]), Some(0));
        assert_eq!(r.push(&[12.0, 5.0]), None, "the range now holds it");
        assert_eq!(r.push(&[-3.0, 5.0]), Some(0));
        assert_eq!(r.push(&[1.0, 7.0]), None, "a constant column has no width");
        assert_eq!(r.push(&[1.0, 30.0]), Some(1));
        let mut r = Range::with_bounds(vec![0.0], vec![10.0], 0.1);
        assert_eq!(r.push(&[10.9]), None);
        assert_eq!(r.push(&[12.5]), Some(0));
        assert_eq!(r.push(&[f32::NAN]), None);
    }

    #[test]
    fn a_positive_quantity_is_judged_by_ratios_below_its_lowest() {
        // Traffic between 1 and 100: 0.5 is inside the linear slack (5 % of 99 under 1),
        // but a fall to a twentieth of the lowest is far outside in ratio terms.
        let mut r = Range::with_bounds(vec![1.0], vec![100.0], 0.05);
        assert_eq!(
            r.push(&[0.6]),
            None,
            "100^-0.15 = 0.50 of the lowest is the floor"
        );
        let mut r = Range::with_bounds(vec![1.0], vec![100.0], 0.05);
        assert_eq!(r.push(&[0.05]), Some(0));
        // A series that reached zero has no ratio to judge by: only the linear slack.
        let mut r = Range::with_bounds(vec![0.0], vec![100.0], 0.05);
        assert_eq!(r.push(&[-4.0]), None);
        let mut r = Range::with_bounds(vec![0.0], vec![100.0], 0.05);
        assert_eq!(r.push(&[-6.0]), Some(0));
    }

    #[test]
    fn a_delayed_range_keeps_a_lasting_change_outside_until_it_is_confirmed() {
        let mut r = Range::with_bounds(vec![0.0], vec![10.0], 0.05).with_delay(3);
        let outside: Vec<bool> = (0..6).map(|_| r.push(&[20.0]).is_some()).collect();
        assert_eq!(outside, [true, true, true, false, false, false]);
        // Without a delay the first row widens the range at once.
        let mut r = Range::with_bounds(vec![0.0], vec![10.0], 0.05);
        let outside: Vec<bool> = (0..3).map(|_| r.push(&[20.0]).is_some()).collect();
        assert_eq!(outside, [true, false, false]);
    }

    #[test]
    fn one_huge_burst_does_not_hide_the_next_incident() {
        let p = |clip| LikelihoodParams {
            clip,
            ..LikelihoodParams::default()
        };
        let incident = |l: &mut Likelihood| (0..30).map(|_| l.push(9.0)).fold(0.0, f32::max);
        let (mut clipped, mut plain) = (Likelihood::new(p(12.0)), Likelihood::new(p(0.0)));
        for l in [&mut clipped, &mut plain] {
            for i in 0..3000 {
                l.push(noise(i));
            }
            // A burst thousands of times the usual error, then normal again.
            for _ in 0..30 {
                l.push(1e6);
            }
            for i in 0..500 {
                l.push(noise(i));
            }
        }
        let (a, b) = (incident(&mut clipped), incident(&mut plain));
        assert!(a > 0.5 && b < 0.5, "clipped {a}, as it is {b}");
        // A lasting change still becomes the new normal.
        for i in 0..9000 {
            clipped.push(9.0 * noise(i));
        }
        assert!(incident(&mut clipped) < 0.5);
    }

    #[test]
    fn a_fall_that_does_not_last_leaves_the_floor_for_the_next_one() {
        // Traffic between 1 and 100 (floor 0.5), delay 3, a fall must last 10 rows to stay.
        let fresh = || {
            Range::with_bounds(vec![1.0], vec![100.0], 0.05)
                .with_delay(3)
                .with_absorb(10)
        };
        let fall = |r: &mut Range, rows: usize| -> Vec<bool> {
            (0..rows).map(|_| r.push(&[0.1]).is_some()).collect()
        };
        let back = |r: &mut Range| {
            for _ in 0..5 {
                assert_eq!(r.push(&[50.0]), None);
            }
        };
        // A crash loop of 6 rows, traffic back, then a second one: outside all through both.
        let mut r = fresh();
        assert!(fall(&mut r, 6).iter().all(|&o| o));
        back(&mut r);
        assert!(
            fall(&mut r, 6).iter().all(|&o| o),
            "the first fall did not widen it"
        );
        // Without the hold-back the first fall joins after the delay.
        let mut r = Range::with_bounds(vec![1.0], vec![100.0], 0.05).with_delay(3);
        assert_eq!(fall(&mut r, 6), [true, true, true, false, false, false]);
        back(&mut r);
        assert!(fall(&mut r, 6).iter().all(|&o| !o));
        // A fall that lasts past the absorb span is the new normal: in after its delay.
        let mut r = fresh();
        let long = fall(&mut r, 16);
        assert!(long[..12].iter().all(|&o| o), "{long:?}");
        assert!(long[12..].iter().all(|&o| !o), "{long:?}");
        // A one-row dropout (too short to alarm) joins as any value does.
        let mut r = fresh();
        assert_eq!(r.push(&[0.1]), Some(0));
        back(&mut r);
        assert_eq!(r.push(&[0.1]), None, "the dropout's level joined");
    }
}
