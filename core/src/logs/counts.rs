//! Sessions as event counts. [`CountProfile`] keeps the distinct count vectors of normal
//! sessions and how far apart they lie (the largest distance of a training session to
//! its nearest other one), so a session whose counts are farther from every normal one
//! stands out whatever its order: the quantitative side of a log model (LogAnomaly's
//! "quantitative patterns"). [`CountIndex`] puts it behind event names for the simple
//! session detectors that rival deep models on log benchmarks (Landauer et al., FSE
//! 2024): a new event type, a new event or an unusual session length, and the
//! count-vector nearest neighbour (a session's smallest weighted-Jaccard distance to the
//! normal sessions' event counts). All learn from normal sessions only.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// A session's event counts: (event index, count), sorted by index.
pub type Counts = Vec<(u32, u32)>;

/// The counts of `events` (event indices, in any order).
pub fn counts_of(events: impl IntoIterator<Item = u32>) -> Counts {
    let mut m: HashMap<u32, u32> = HashMap::new();
    for e in events {
        *m.entry(e).or_insert(0) += 1;
    }
    let mut c: Counts = m.into_iter().collect();
    c.sort_unstable();
    c
}

fn total(c: &[(u32, u32)]) -> u32 {
    c.iter().map(|x| x.1).sum()
}

/// The nearest normal count vector to a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Nearest {
    /// Weighted-Jaccard distance, 1 − Σmin/Σmax: 0 for counts seen in training.
    pub distance: f64,
    /// That normal count vector.
    pub counts: Counts,
}

/// The distinct count vectors of normal sessions, and the farthest any of them lay from
/// its nearest other one (`spread`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CountProfile {
    /// Distinct count vectors, sorted by (event total, counts).
    refs: Vec<Counts>,
    /// How many training sessions had each.
    sessions: Vec<u64>,
    /// The largest distance of a training session to the nearest count vector of another
    /// training session (0 for one whose counts another session shares): how far apart
    /// normal sessions lie, learnt leaving each out.
    pub spread: f64,
}

/// Distinct count vectors a log model keeps at most: each session judged is compared with
/// them (pruned by totals, which windows of a fixed length all share), and learning
/// compares them with each other.
pub const MAX_DISTINCT: usize = 20_000;

impl CountProfile {
    /// Learns from normal sessions given as event indices.
    pub fn learn<'a>(sessions: impl IntoIterator<Item = &'a [u32]>) -> CountProfile {
        Self::learn_within(sessions, usize::MAX).unwrap_or_default()
    }

    /// [`CountProfile::learn`], or `None` where the sessions hold more than `max_distinct`
    /// distinct count vectors.
    pub fn learn_within<'a>(
        sessions: impl IntoIterator<Item = &'a [u32]>,
        max_distinct: usize,
    ) -> Option<CountProfile> {
        let mut seen: HashMap<Counts, u64> = HashMap::new();
        for s in sessions {
            *seen.entry(counts_of(s.iter().copied())).or_insert(0) += 1;
            if seen.len() > max_distinct {
                return None;
            }
        }
        let mut pairs: Vec<(Counts, u64)> = seen.into_iter().collect();
        pairs.sort_unstable_by(|a, b| (total(&a.0), &a.0).cmp(&(total(&b.0), &b.0)));
        let (refs, sessions): (Vec<Counts>, Vec<u64>) = pairs.into_iter().unzip();
        let mut profile = CountProfile {
            refs,
            sessions,
            spread: 0.0,
        };
        // A vector two sessions share leaves each at distance 0 from the other.
        profile.spread = (0..profile.refs.len())
            .filter(|&i| profile.sessions[i] == 1)
            .filter_map(|i| profile.search(&profile.refs[i], Some(i)))
            .map(|(d, _)| d)
            .fold(0.0, f64::max);
        Some(profile)
    }

    /// Distinct normal count vectors learnt.
    pub fn distinct(&self) -> usize {
        self.refs.len()
    }

    /// Training sessions learnt from.
    pub fn sessions(&self) -> u64 {
        self.sessions.iter().sum()
    }

    /// The normal count vector nearest to `counts` (`None` before any was learnt).
    pub fn nearest(&self, counts: &[(u32, u32)]) -> Option<Nearest> {
        self.search(counts, None).map(|(distance, i)| Nearest {
            distance,
            counts: self.refs[i].clone(),
        })
    }

    /// Whether `counts` lie farther from every normal count vector than training
    /// sessions lay from each other.
    pub fn unusual(&self, counts: &[(u32, u32)]) -> Option<Nearest> {
        self.nearest(counts).filter(|n| n.distance > self.spread)
    }

    /// The smallest distance from `c` to a reference other than `skip`, and which. The
    /// references are sorted by total, and two vectors of totals a ≤ b lie at least
    /// 1 − a/b apart, so the search walks outwards from `c`'s total and stops there.
    fn search(&self, c: &[(u32, u32)], skip: Option<usize>) -> Option<(f64, usize)> {
        let t = total(c);
        let start = self.refs.partition_point(|r| total(r) < t);
        let bound = |r: &Counts| {
            let (a, b) = (total(r).min(t), total(r).max(t));
            if b == 0 {
                0.0
            } else {
                1.0 - f64::from(a) / f64::from(b)
            }
        };
        let mut best: Option<(f64, usize)> = None;
        let (mut down, mut up) = (start, start);
        loop {
            let lower = down
                .checked_sub(1)
                .filter(|&i| best.is_none_or(|(d, _)| bound(&self.refs[i]) < d));
            let upper = (up < self.refs.len())
                .then_some(up)
                .filter(|&i| best.is_none_or(|(d, _)| bound(&self.refs[i]) < d));
            if lower.is_none() && upper.is_none() {
                return best;
            }
            for i in [lower, upper].into_iter().flatten() {
                if Some(i) != skip {
                    let d = jaccard(c, t, &self.refs[i]);
                    if best.is_none_or(|(b, _)| d < b) {
                        best = Some((d, i));
                    }
                }
            }
            if lower.is_some() {
                down -= 1;
            }
            if upper.is_some() {
                up += 1;
            }
        }
    }
}

/// Normal sessions' vocabulary, lengths and distinct count vectors, by event name.
#[derive(Debug, Clone)]
pub struct CountIndex {
    vocab: HashMap<String, u32>,
    profile: CountProfile,
    exact: HashSet<Counts>,
    min_len: usize,
    max_len: usize,
}

impl CountIndex {
    /// Learns from normal `sessions` (each a list of event ids).
    pub fn new<'a, S: AsRef<str> + 'a>(sessions: impl IntoIterator<Item = &'a [S]>) -> CountIndex {
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let (mut min_len, mut max_len) = (usize::MAX, 0);
        let mut indexed: Vec<Vec<u32>> = Vec::new();
        for s in sessions {
            min_len = min_len.min(s.len());
            max_len = max_len.max(s.len());
            indexed.push(
                s.iter()
                    .map(|e| {
                        let next = vocab.len() as u32;
                        *vocab.entry(e.as_ref().to_string()).or_insert(next)
                    })
                    .collect(),
            );
        }
        let profile = CountProfile::learn(indexed.iter().map(Vec::as_slice));
        let exact = profile.refs.iter().cloned().collect();
        CountIndex {
            vocab,
            profile,
            exact,
            min_len,
            max_len,
        }
    }

    /// Events the training sessions never held share one index past the known ones.
    fn counts<S: AsRef<str>>(&self, session: &[S]) -> Counts {
        let unseen = self.vocab.len() as u32;
        counts_of(
            session
                .iter()
                .map(|e| self.vocab.get(e.as_ref()).copied().unwrap_or(unseen)),
        )
    }

    /// Distinct normal count vectors learnt.
    pub fn distinct(&self) -> usize {
        self.profile.distinct()
    }

    /// The largest distance of a training session to its nearest other one
    /// ([`CountProfile::spread`]): a threshold from normal data only.
    pub fn spread(&self) -> f64 {
        self.profile.spread
    }

    /// Whether `session` holds an event no normal session held.
    pub fn has_unseen<S: AsRef<str>>(&self, session: &[S]) -> bool {
        session.iter().any(|e| !self.vocab.contains_key(e.as_ref()))
    }

    /// Whether `session` is shorter or longer than every normal session.
    pub fn unusual_length(&self, len: usize) -> bool {
        len < self.min_len || len > self.max_len
    }

    /// The smallest weighted-Jaccard distance (1 − Σmin/Σmax of the counts) between
    /// `session` and a normal session: 0 for a count vector seen in training, 1 for one
    /// with no event in common with any.
    pub fn distance<S: AsRef<str>>(&self, session: &[S]) -> f64 {
        let c = self.counts(session);
        if self.exact.contains(&c) {
            return 0.0;
        }
        self.profile.nearest(&c).map_or(1.0, |n| n.distance)
    }
}

fn jaccard(a: &[(u32, u32)], a_total: u32, b: &[(u32, u32)]) -> f64 {
    let b_total = total(b);
    let (mut i, mut j, mut min) = (0, 0, 0u32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                min += a[i].1.min(b[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    // Σmax = Σa + Σb − Σmin.
    let max = a_total + b_total - min;
    if max == 0 {
        0.0
    } else {
        1.0 - f64::from(min) / f64::from(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn distances_lengths_and_unseen_events_follow_the_normal_sessions() {
        let normal = [s("a b b c"), s("a b c"), s("a b c")];
        let idx = CountIndex::new(normal.iter().map(Vec::as_slice));
        assert_eq!(idx.distinct(), 2);
        assert_eq!(idx.distance(&s("c b a")), 0.0, "order does not count");
        // a b b b c against a b b c: Σmin 4, Σmax 5.
        assert!((idx.distance(&s("a b b b c")) - 0.2).abs() < 1e-12);
        // An unseen event: a b c x against a b c: Σmin 3, Σmax 4.
        assert!((idx.distance(&s("a b c x")) - 0.25).abs() < 1e-12);
        assert_eq!(idx.distance(&s("x y")), 1.0);
        assert!(idx.has_unseen(&s("a x")) && !idx.has_unseen(&s("c a")));
        assert!(idx.unusual_length(2) && idx.unusual_length(5) && !idx.unusual_length(4));
        // "a b b c" is alone; its nearest other session is "a b c" (Σmin 3, Σmax 4).
        assert!((idx.spread() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn the_spread_leaves_each_session_out_and_shared_counts_lie_at_zero() {
        let p = CountProfile::learn([&[0u32, 1][..], &[1, 0], &[0, 1, 1, 1]]);
        assert_eq!((p.distinct(), p.sessions()), (2, 3));
        // [0,1] twice: 0 apart. [0,1,1,1] alone: Σmin 2, Σmax 4 from [0,1].
        assert!((p.spread - 0.5).abs() < 1e-12);
        // {0: 1, 1: 2}: 1/3 from [0,1], 1/4 from [0,1,1,1].
        let n = p.nearest(&counts_of([1, 1, 0])).unwrap();
        assert_eq!(n.counts, vec![(0, 1), (1, 3)]);
        assert!((n.distance - 0.25).abs() < 1e-12);
        assert!(
            p.unusual(&counts_of([1, 1, 0])).is_none(),
            "within the spread"
        );
        assert!(p.unusual(&counts_of([0, 0, 0, 0, 1])).is_some());
        assert!(CountProfile::default().nearest(&counts_of([0])).is_none());
        let many: Vec<Vec<u32>> = (0..5).map(|n| vec![0; n]).collect();
        assert!(CountProfile::learn_within(many.iter().map(Vec::as_slice), 4).is_none());
        assert!(CountProfile::learn_within(many.iter().map(Vec::as_slice), 5).is_some());
    }

    proptest::proptest! {
        /// The pruned search finds what comparing with every reference finds.
        #[test]
        fn the_pruned_search_is_exhaustive(
            refs in proptest::collection::vec(proptest::collection::vec(0u32..4, 0..12), 1..30),
            probe in proptest::collection::vec(0u32..5, 0..14),
        ) {
            let p = CountProfile::learn(refs.iter().map(Vec::as_slice));
            let c = counts_of(probe.iter().copied());
            let brute = p.refs.iter().map(|r| jaccard(&c, total(&c), r)).fold(f64::INFINITY, f64::min);
            let found = p.nearest(&c).unwrap().distance;
            proptest::prop_assert!((found - brute).abs() < 1e-12, "{found} vs {brute}");
        }
    }
}
