//! Time between a session's events, learnt from normal sessions: how long each transition
//! (one template after another) took at most. It finds stalls (a long silence inside a
//! session, which no order-based detector can see) and tells a session the file cut short
//! (the file ended, or began, within a normal gap of its last, or first, event) from one
//! that really stopped.
//!
//! A gap is abnormal above `FACTOR` × the longest gap training saw for that transition plus
//! `SLACK_MS`, for a transition seen at least `MIN_COUNT` times; rarer transitions are not
//! judged on time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A gap is a stall above this many times the longest one seen for its transition…
pub const FACTOR: i64 = 3;
/// …plus this much (milliseconds), so that transitions logged in the same millisecond may
/// still take a second.
pub const SLACK_MS: i64 = 1_000;
/// Transitions seen fewer times than this are not judged on time.
pub const MIN_COUNT: u64 = 5;

/// One transition's gaps in training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub from: String,
    pub to: String,
    pub count: u64,
    pub max_ms: i64,
}

/// A stall found in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    /// The position of the event that came late.
    pub at: usize,
    pub gap_ms: i64,
    /// The longest gap training saw for this transition.
    pub max_ms: i64,
}

/// The longest gap of every transition in normal sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<Gap>", into = "Vec<Gap>")]
pub struct Timing {
    gaps: HashMap<(String, String), (u64, i64)>,
    /// The longest gap after each event, and into each (any transition).
    after: HashMap<String, i64>,
    before: HashMap<String, i64>,
}

impl From<Vec<Gap>> for Timing {
    fn from(gaps: Vec<Gap>) -> Timing {
        let mut t = Timing::default();
        for g in gaps {
            t.add(&g.from, &g.to, g.count, g.max_ms);
        }
        t
    }
}

impl From<Timing> for Vec<Gap> {
    fn from(t: Timing) -> Vec<Gap> {
        let mut gaps: Vec<Gap> = t
            .gaps
            .into_iter()
            .map(|((from, to), (count, max_ms))| Gap {
                from,
                to,
                count,
                max_ms,
            })
            .collect();
        gaps.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        gaps
    }
}

fn limit(max_ms: i64) -> i64 {
    max_ms.saturating_mul(FACTOR).saturating_add(SLACK_MS)
}

impl Timing {
    /// Learns from normal sessions: each its events' keys and their times (unix ms; a
    /// missing time breaks the chain there).
    pub fn learn<'a, K: AsRef<str> + 'a>(
        sessions: impl IntoIterator<Item = (&'a [K], &'a [Option<i64>])>,
    ) -> Timing {
        let mut t = Timing::default();
        for (keys, times) in sessions {
            for i in 1..keys.len().min(times.len()) {
                if let (Some(a), Some(b)) = (times[i - 1], times[i]) {
                    t.add(keys[i - 1].as_ref(), keys[i].as_ref(), 1, (b - a).max(0));
                }
            }
        }
        t
    }

    fn add(&mut self, from: &str, to: &str, count: u64, max_ms: i64) {
        let e = self
            .gaps
            .entry((from.to_string(), to.to_string()))
            .or_insert((0, 0));
        e.0 += count;
        e.1 = e.1.max(max_ms);
        let a = self.after.entry(from.to_string()).or_insert(0);
        *a = (*a).max(max_ms);
        let b = self.before.entry(to.to_string()).or_insert(0);
        *b = (*b).max(max_ms);
    }

    /// Whether nothing was learnt (no times, or sessions of one event).
    pub fn is_empty(&self) -> bool {
        self.gaps.is_empty()
    }

    /// Transitions learnt.
    pub fn len(&self) -> usize {
        self.gaps.len()
    }

    /// The first gap in a session far longer than its transition ever took in training.
    /// `keys[i]` is `None` for an event the model does not know.
    pub fn stall<K: AsRef<str>>(&self, keys: &[Option<K>], times: &[Option<i64>]) -> Option<Stall> {
        (1..keys.len().min(times.len())).find_map(|i| {
            let (Some(a), Some(b)) = (&keys[i - 1], &keys[i]) else {
                return None;
            };
            let (Some(ta), Some(tb)) = (times[i - 1], times[i]) else {
                return None;
            };
            let &(count, max_ms) = self
                .gaps
                .get(&(a.as_ref().to_string(), b.as_ref().to_string()))?;
            let gap_ms = tb - ta;
            (count >= MIN_COUNT && gap_ms > limit(max_ms)).then_some(Stall {
                at: i,
                gap_ms,
                max_ms,
            })
        })
    }

    /// Whether a session whose last event is `last` may simply not have finished when the
    /// file ended `idle_ms` later: some event followed `last` in training after a gap this
    /// long (within the stall limit).
    pub fn could_continue(&self, last: &str, idle_ms: i64) -> bool {
        self.after.get(last).is_some_and(|&m| idle_ms <= limit(m))
    }

    /// Whether a session whose first event is `first`, `since_ms` after the file began,
    /// may have begun before the file: `first` followed some event in training after a gap
    /// this long (within the stall limit).
    pub fn could_have_begun_before(&self, first: &str, since_ms: i64) -> bool {
        self.before
            .get(first)
            .is_some_and(|&m| since_ms <= limit(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learnt() -> Timing {
        let keys = ["open", "read", "close"];
        let sessions: Vec<(Vec<&str>, Vec<Option<i64>>)> = (0..20)
            .map(|i| {
                let t = i * 10_000;
                (keys.to_vec(), vec![Some(t), Some(t + 20 + i), Some(t + 50)])
            })
            .collect();
        Timing::learn(sessions.iter().map(|(k, t)| (k.as_slice(), t.as_slice())))
    }

    #[test]
    fn a_gap_far_beyond_the_longest_in_training_is_a_stall() {
        let t = learnt();
        assert_eq!(t.len(), 2);
        let keys = [Some("open"), Some("read"), Some("close")];
        let ok = [Some(0), Some(39), Some(1_000)];
        assert_eq!(t.stall(&keys, &ok), None, "read → close took 30 ms at most");
        let slow = [Some(0), Some(39), Some(60_000)];
        assert_eq!(
            t.stall(&keys, &slow),
            Some(Stall {
                at: 2,
                gap_ms: 59_961,
                max_ms: 30
            })
        );
        // An unknown event, a missing time or a transition never seen is not judged.
        assert_eq!(
            t.stall(&[Some("open"), None], &[Some(0), Some(90_000)]),
            None
        );
        assert_eq!(t.stall(&keys, &[Some(0), None, Some(90_000)]), None);
        assert_eq!(
            t.stall(&[Some("open"), Some("close")], &[Some(0), Some(90_000)]),
            None
        );
    }

    #[test]
    fn a_session_near_the_file_edge_may_have_been_cut() {
        let t = learnt();
        // After "read", "close" came within 30 ms: a file ending 500 ms after a "read" may
        // have cut the session; one ending a minute later did not.
        assert!(t.could_continue("read", 500));
        assert!(!t.could_continue("read", 60_000));
        assert!(!t.could_continue("close", 0), "nothing ever followed close");
        assert!(t.could_have_begun_before("read", 100));
        assert!(
            !t.could_have_begun_before("open", 0),
            "open always came first"
        );
    }

    #[test]
    fn timing_round_trips_through_json() {
        let t = learnt();
        let text = serde_json::to_string(&t).unwrap();
        assert!(
            text.starts_with("[{\"from\":\"open\",\"to\":\"read\",\"count\":20,\"max_ms\":39}")
        );
        let back: Timing = serde_json::from_str(&text).unwrap();
        assert_eq!(back, t);
    }
}
