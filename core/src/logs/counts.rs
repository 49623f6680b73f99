//! The simple session detectors that rival deep models on log benchmarks (Landauer et al.,
//! FSE 2024): a new event type, a new event or an unusual session length, and the
//! count-vector nearest neighbour (a session's smallest weighted-Jaccard distance to the
//! normal sessions' event counts). All learn from normal sessions only.

use std::collections::{HashMap, HashSet};

/// A session's event counts: (event index, count), sorted by index. Events the training
/// sessions never held share one index past the known ones (`unseen`).
type Counts = Vec<(u32, u32)>;

/// Normal sessions' vocabulary, lengths and distinct count vectors.
#[derive(Debug, Clone)]
pub struct CountIndex {
    vocab: HashMap<String, u32>,
    /// Distinct training count vectors.
    refs: Vec<Counts>,
    exact: HashSet<Counts>,
    min_len: usize,
    max_len: usize,
}

impl CountIndex {
    /// Learns from normal `sessions` (each a list of event ids).
    pub fn new<'a, S: AsRef<str> + 'a>(sessions: impl IntoIterator<Item = &'a [S]>) -> CountIndex {
        let mut index = CountIndex {
            vocab: HashMap::new(),
            refs: Vec::new(),
            exact: HashSet::new(),
            min_len: usize::MAX,
            max_len: 0,
        };
        for s in sessions {
            for e in s {
                let next = index.vocab.len() as u32;
                index.vocab.entry(e.as_ref().to_string()).or_insert(next);
            }
            index.min_len = index.min_len.min(s.len());
            index.max_len = index.max_len.max(s.len());
            let c = index.counts(s);
            if index.exact.insert(c.clone()) {
                index.refs.push(c);
            }
        }
        index
    }

    fn counts<S: AsRef<str>>(&self, session: &[S]) -> Counts {
        let unseen = self.vocab.len() as u32;
        let mut m: HashMap<u32, u32> = HashMap::new();
        for e in session {
            let i = self.vocab.get(e.as_ref()).copied().unwrap_or(unseen);
            *m.entry(i).or_insert(0) += 1;
        }
        let mut c: Counts = m.into_iter().collect();
        c.sort_unstable();
        c
    }

    /// Distinct normal count vectors learnt.
    pub fn distinct(&self) -> usize {
        self.refs.len()
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
        let total: u32 = c.iter().map(|x| x.1).sum();
        let mut best = 1.0f64;
        for r in &self.refs {
            let d = jaccard(&c, total, r);
            if d < best {
                best = d;
            }
        }
        best
    }
}

fn jaccard(a: &[(u32, u32)], a_total: u32, b: &[(u32, u32)]) -> f64 {
    let b_total: u32 = b.iter().map(|x| x.1).sum();
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
    }
}
