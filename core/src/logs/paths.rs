//! Bursts of valid but rare steps: a transition (one event after another) that training
//! saw, rarely, suddenly far more common: a retry storm of ordinary requests, a wave of
//! failed logins, a rare fallback taken by half the traffic. No single such session is
//! abnormal, so neither an order-based model nor a rule flags it; their number in a short
//! span is.
//!
//! Each occurrence of a transition is judged against all transitions within `WINDOW_MS` / 2
//! of it: if `k` of those `n` are this one, and training saw it as a share `p` of its
//! transitions, it is a burst when `k` is at least `BURST_FACTOR` times the most training
//! ever had in one window (so traffic peaks, and fleet-wide jobs that always run together,
//! are not bursts), `k ≥ MIN_COUNT`, and
//! `P(X ≥ k)` for `X ~ Binomial(n, p)` is below `ALPHA`. Transitions training never saw
//! are left to the sequence model.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The span an occurrence's frequency is measured over (milliseconds).
pub const WINDOW_MS: i64 = 3_600_000;
/// A burst is flagged below this tail probability (small: every occurrence is a test).
pub const ALPHA: f64 = 1e-6;
/// At least this many occurrences in the window…
pub const MIN_COUNT: usize = 5;
/// …and at least this many times the most training had in one window.
pub const BURST_FACTOR: u64 = 2;

/// A stable 64-bit hash of a transition (FNV-1a over its two keys; `None` is a session's
/// start or end), the same on every platform.
pub fn transition_hash(from: Option<&str>, to: Option<&str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for k in [from, to] {
        let bytes = k.map_or(&[0xfe][..], str::as_bytes);
        for &b in bytes.iter().chain(std::iter::once(&0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// One transition as it occurred: its hash and the time of the event it led to.
pub type Occurrence = (u64, i64);

/// The occurrences of a session's transitions, start and end included, each with its
/// position (`i` for the transition into event `i`, `keys.len()` for the end): `keys[i]`
/// its events' keys (`None` for an unknown event, whose transitions are skipped),
/// `times[i]` their times.
pub fn occurrences<K: AsRef<str>>(
    keys: &[Option<K>],
    times: &[Option<i64>],
) -> Vec<(usize, Occurrence)> {
    let mut out = Vec::new();
    let n = keys.len().min(times.len());
    if n == 0 {
        return out;
    }
    for i in 0..=n {
        let from = if i == 0 {
            Some(None)
        } else {
            keys[i - 1].as_ref().map(|k| Some(k.as_ref()))
        };
        let to = if i == n {
            Some(None)
        } else {
            keys[i].as_ref().map(|k| Some(k.as_ref()))
        };
        let t = times[i.min(n - 1)];
        if let (Some(from), Some(to), Some(t)) = (from, to, t) {
            out.push((i, (transition_hash(from, to), t)));
        }
    }
    out
}

/// For each occurrence (in any order), how many occurrences of its transition, and how
/// many in all, lie within `WINDOW_MS` / 2 of it.
fn window_counts(occ: &[Occurrence]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..occ.len()).collect();
    order.sort_by_key(|&i| occ[i].1);
    let mut out = vec![(0, 0); occ.len()];
    let (mut lo, mut hi) = (0, 0);
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for &i in &order {
        let t = occ[i].1;
        while hi < order.len() && occ[order[hi]].1 <= t + WINDOW_MS / 2 {
            *counts.entry(occ[order[hi]].0).or_default() += 1;
            hi += 1;
        }
        while occ[order[lo]].1 < t - WINDOW_MS / 2 {
            if let Some(c) = counts.get_mut(&occ[order[lo]].0) {
                *c -= 1;
            }
            lo += 1;
        }
        out[i] = (counts.get(&occ[i].0).copied().unwrap_or(0), hi - lo);
    }
    out
}

/// What training taught about each transition's frequency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// Transitions seen in all.
    pub total: u64,
    /// (transition hash, occurrences, most occurrences in one window), sorted by hash.
    pub transitions: Vec<(u64, u64, u64)>,
}

/// An occurrence that came in a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Occurrences of the transition in its window, and transitions in the window.
    pub count: usize,
    pub window: usize,
    /// The transition's share of training's transitions, and the most of it training had
    /// in one window.
    pub share: f64,
    pub most_in_training: u64,
    pub tail: f64,
}

impl Rates {
    /// Learns from the occurrences of normal sessions' transitions.
    pub fn learn(occ: &[Occurrence]) -> Rates {
        let mut m: HashMap<u64, (u64, u64)> = HashMap::new();
        for (&(h, _), (k, _)) in occ.iter().zip(window_counts(occ)) {
            let e = m.entry(h).or_default();
            e.0 += 1;
            e.1 = e.1.max(k as u64);
        }
        let mut transitions: Vec<(u64, u64, u64)> =
            m.into_iter().map(|(h, (n, most))| (h, n, most)).collect();
        transitions.sort_unstable();
        Rates {
            total: occ.len() as u64,
            transitions,
        }
    }

    /// Whether nothing was learnt.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Judges occurrences; returns each one's burst, if it came in one.
    pub fn bursts(&self, occ: &[Occurrence]) -> Vec<Option<Burst>> {
        if self.is_empty() {
            return vec![None; occ.len()];
        }
        let mut cache: HashMap<(u64, usize, usize), f64> = HashMap::new();
        occ.iter()
            .zip(window_counts(occ))
            .map(|(&(h, _), (k, n))| {
                let i = self.transitions.binary_search_by_key(&h, |t| t.0).ok()?;
                let (_, seen, most) = self.transitions[i];
                if k < MIN_COUNT || (k as u64) < BURST_FACTOR * most {
                    return None;
                }
                let share = seen as f64 / self.total as f64;
                let tail = *cache
                    .entry((h, k, n))
                    .or_insert_with(|| binomial_tail(n, k, share));
                (tail < ALPHA).then_some(Burst {
                    count: k,
                    window: n,
                    share,
                    most_in_training: most,
                    tail,
                })
            })
            .collect()
    }
}

/// `P(X ≥ k)` for `X ~ Binomial(n, p)`, summed in log space.
pub fn binomial_tail(n: usize, k: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    // ln C(n, i), built up from ln C(n, k).
    let mut ln_c: f64 = (0..k).map(|i| ((n - i) as f64 / (i + 1) as f64).ln()).sum();
    let mut total = 0.0;
    for i in k..=n {
        let term = (ln_c + i as f64 * lp + (n - i) as f64 * lq).exp();
        total += term;
        // Past the mode the terms only fall: stop once they no longer count (or underflow).
        if i as f64 >= n as f64 * p && (term == 0.0 || term < total * 1e-17) {
            break;
        }
        ln_c += ((n - i) as f64 / (i + 1) as f64).ln();
    }
    total.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binomial_tail_matches_known_values() {
        assert!((binomial_tail(10, 5, 0.5) - 0.623_046_875).abs() < 1e-12);
        assert!((binomial_tail(4, 4, 0.5) - 0.0625).abs() < 1e-12);
        assert_eq!(binomial_tail(3, 0, 0.2), 1.0);
        assert_eq!(binomial_tail(3, 4, 0.2), 0.0);
        // 20 of 200 where 1 % is usual: 2.892e-14 (the exact sum, in Python).
        let t = binomial_tail(200, 20, 0.01);
        assert!((t / 2.892_428_691_572_946e-14 - 1.0).abs() < 1e-9, "{t}");
    }

    #[test]
    fn occurrences_cover_the_start_the_end_and_skip_unknown_events() {
        let keys = [Some("a"), None, Some("c")];
        let times = [Some(10), Some(20), Some(30)];
        let occ = occurrences(&keys, &times);
        assert_eq!(
            occ,
            vec![
                (0, (transition_hash(None, Some("a")), 10)),
                (3, (transition_hash(Some("c"), None), 30))
            ]
        );
        assert_ne!(
            transition_hash(Some("a"), None),
            transition_hash(None, Some("a"))
        );
    }

    /// Sessions a minute apart over `hours`: "a b" mostly, "a x" where `rare(i)`, and a
    /// job of 8 "j k" sessions at once every day at minute 30.
    fn sessions(minutes: usize, rare: impl Fn(usize) -> bool) -> Vec<Occurrence> {
        let mut occ = Vec::new();
        for i in 0..minutes {
            let t = i as i64 * 60_000;
            let second = if rare(i) { "x" } else { "b" };
            let o = occurrences(&[Some("a"), Some(second)], &[Some(t), Some(t + 5)]);
            occ.extend(o.into_iter().map(|(_, o)| o));
            if i % 1440 == 30 {
                for _ in 0..8 {
                    let o = occurrences(&[Some("j"), Some("k")], &[Some(t), Some(t + 9)]);
                    occ.extend(o.into_iter().map(|(_, o)| o));
                }
            }
        }
        occ
    }

    #[test]
    fn a_rare_step_in_a_burst_is_flagged_but_usual_rarity_and_regular_jobs_are_not() {
        // Training: three days, "a x" once an hour.
        let rates = Rates::learn(&sessions(3 * 1440, |i| i % 60 == 7));
        let ax = transition_hash(Some("a"), Some("x"));
        let x_end = transition_hash(Some("x"), None);
        // Test: a day like that, but from 10:00 to 11:00 every other session goes "a x".
        let test = sessions(1440, |i| {
            if (600..660).contains(&i) {
                i % 2 == 0
            } else {
                i % 60 == 7
            }
        });
        let b = rates.bursts(&test);
        let flagged: Vec<&Occurrence> = test
            .iter()
            .zip(&b)
            .filter(|(_, b)| b.is_some())
            .map(|(o, _)| o)
            .collect();
        assert!(
            !flagged.is_empty() && flagged.iter().all(|o| o.0 == ax || o.0 == x_end),
            "{flagged:?}"
        );
        assert!(
            flagged
                .iter()
                .all(|o| (540 * 60_000..720 * 60_000).contains(&o.1))
        );
        let burst = test
            .iter()
            .zip(&b)
            .find(|(o, _)| o.1 == 630 * 60_000 + 5)
            .unwrap()
            .1
            .unwrap();
        assert!(burst.most_in_training <= 2, "{burst:?}");
        assert!(burst.count >= 25 && burst.tail < ALPHA, "{burst:?}");
        // Nothing is flagged on a day like training's, jobs included; a transition never
        // seen is left to the sequence model.
        assert!(
            rates
                .bursts(&sessions(1440, |i| i % 60 == 7))
                .iter()
                .all(Option::is_none)
        );
        let unseen = vec![(transition_hash(Some("q"), Some("r")), 0); 50];
        assert!(rates.bursts(&unseen).iter().all(Option::is_none));
    }
}
