//! A behaviour model of a log's sessions by k-tails: a state is the last k events of a
//! session (templates, or the session's start), an edge the event that follows it (or the
//! session's end), with how often it was taken, by how many sessions, and the time it took.

use std::collections::{BTreeMap, HashMap};

/// An event of a session as the machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sym {
    Start,
    /// A template (the ids both logs share).
    T(usize),
    /// A line no template matched.
    Unmatched,
    End,
}

/// The last k events (padded with [`Sym::Start`]).
pub type State = Vec<Sym>;

/// One transition's counts in one log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edge {
    pub count: u64,
    /// Sum and number of the gaps between the two events (ms), where both had times.
    pub gap_sum_ms: f64,
    pub gaps: u64,
    /// The first sessions that took it.
    pub examples: Vec<String>,
}

impl Edge {
    pub fn mean_gap_ms(&self) -> Option<f64> {
        (self.gaps > 0).then(|| self.gap_sum_ms / self.gaps as f64)
    }
}

/// A log's machine: every (state, next event) with its counts.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub k: usize,
    pub edges: BTreeMap<(State, Sym), Edge>,
    /// How often each state was left.
    pub out: HashMap<State, u64>,
    pub sessions: u64,
    pub transitions: u64,
}

/// Example sessions kept per edge.
const EXAMPLES: usize = 3;

impl Machine {
    pub fn new(k: usize) -> Machine {
        Machine {
            k,
            ..Machine::default()
        }
    }

    /// Adds one session: its events and each event's time.
    pub fn add(&mut self, key: &str, events: &[Option<usize>], times: &[Option<i64>]) {
        self.sessions += 1;
        let mut state: State = vec![Sym::Start; self.k];
        let mut last_time: Option<i64> = None;
        let n = events.len();
        for i in 0..=n {
            let (next, t) = match events.get(i) {
                Some(e) => (
                    e.map_or(Sym::Unmatched, Sym::T),
                    times.get(i).copied().flatten(),
                ),
                None => (Sym::End, None),
            };
            let edge = self.edges.entry((state.clone(), next)).or_default();
            edge.count += 1;
            if let (Some(a), Some(b)) = (last_time, t) {
                edge.gap_sum_ms += (b - a) as f64;
                edge.gaps += 1;
            }
            if edge.examples.len() < EXAMPLES && !edge.examples.iter().any(|e| e == key) {
                edge.examples.push(key.to_string());
            }
            *self.out.entry(state.clone()).or_default() += 1;
            self.transitions += 1;
            if next == Sym::End {
                break;
            }
            state.remove(0);
            state.push(next);
            last_time = t.or(last_time);
        }
    }

    /// The share of `state`'s departures that took `next`.
    pub fn share(&self, state: &State, next: Sym) -> f64 {
        let out = self.out.get(state).copied().unwrap_or(0);
        let n = self
            .edges
            .get(&(state.clone(), next))
            .map_or(0, |e| e.count);
        if out == 0 { 0.0 } else { n as f64 / out as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_walks_from_start_to_end_through_its_last_k_events() {
        let mut m = Machine::new(1);
        m.add(
            "s1",
            &[Some(0), Some(1), Some(1)],
            &[Some(0), Some(10), Some(30)],
        );
        m.add("s2", &[Some(0), None], &[None, None]);
        assert_eq!(m.edges[&(vec![Sym::Start], Sym::T(0))].count, 2);
        assert_eq!(
            m.edges[&(vec![Sym::T(1)], Sym::T(1))].mean_gap_ms(),
            Some(20.0)
        );
        assert_eq!(m.edges[&(vec![Sym::T(0)], Sym::Unmatched)].examples, ["s2"]);
        assert_eq!(m.share(&vec![Sym::T(0)], Sym::T(1)), 0.5);
        assert_eq!((m.sessions, m.transitions), (2, 7));
        let mut m2 = Machine::new(2);
        m2.add("s", &[Some(0), Some(1)], &[None, None]);
        assert!(
            m2.edges
                .contains_key(&(vec![Sym::T(0), Sym::T(1)], Sym::End))
        );
        assert!(
            m2.edges
                .contains_key(&(vec![Sym::Start, Sym::Start], Sym::T(0)))
        );
    }
}
