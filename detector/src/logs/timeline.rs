//! Template volume over time: each of a log's most frequent templates counted per time
//! bucket (the rest summed as one series, lines no template matched as another), for the
//! dashboard's "templates over time" chart and `summary.json`.

use std::collections::HashMap;

use serde::Serialize;
use vigil_core::logs::{Session, TemplateId};

/// Bucket widths tried, seconds: the narrowest giving at most [`MAX_BUCKETS`] is used.
const WIDTHS: [i64; 9] = [
    60,
    300,
    900,
    3600,
    3 * 3600,
    6 * 3600,
    86_400,
    7 * 86_400,
    30 * 86_400,
];
const MAX_BUCKETS: i64 = 400;

/// One series of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Volume {
    /// The template's id, `other` or `unmatched`.
    pub id: String,
    pub text: String,
    pub total: u64,
    /// Lines per bucket.
    pub counts: Vec<u64>,
}

/// Lines per template and bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// The first bucket's start, unix seconds (a multiple of the width).
    pub start: i64,
    pub bucket_seconds: i64,
    /// The most frequent templates first, then `other` and `unmatched` where any.
    pub series: Vec<Volume>,
    /// Lines without a time (not counted).
    pub untimed: u64,
}

/// The timeline of `sessions`' timed lines, the `top` most frequent templates apart; `None`
/// when no line has a time.
pub fn timeline(
    sessions: &[Session],
    text: impl Fn(TemplateId) -> String,
    top: usize,
) -> Option<Timeline> {
    let mut events: Vec<(i64, Option<TemplateId>)> = Vec::new();
    let mut untimed = 0;
    for s in sessions {
        for (i, e) in s.events.iter().enumerate() {
            match s.times.get(i).copied().flatten() {
                Some(ms) => events.push((ms.div_euclid(1000), *e)),
                None => untimed += 1,
            }
        }
    }
    let (lo, hi) = events
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), (t, _)| {
            (lo.min(*t), hi.max(*t))
        });
    if events.is_empty() {
        return None;
    }
    let width = WIDTHS
        .iter()
        .copied()
        .find(|w| (hi.div_euclid(*w) - lo.div_euclid(*w)) < MAX_BUCKETS)
        .unwrap_or(WIDTHS[WIDTHS.len() - 1]);
    let start = lo.div_euclid(width) * width;
    let buckets = ((hi - start) / width + 1) as usize;
    let mut totals: HashMap<TemplateId, u64> = HashMap::new();
    for (_, e) in &events {
        if let Some(t) = e {
            *totals.entry(*t).or_default() += 1;
        }
    }
    let mut ranked: Vec<(TemplateId, u64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.0.cmp(&b.0.0)));
    let kept: HashMap<TemplateId, usize> = ranked
        .iter()
        .take(top)
        .enumerate()
        .map(|(i, (t, _))| (*t, i))
        .collect();
    let mut series: Vec<Volume> = ranked
        .iter()
        .take(top)
        .map(|(t, n)| Volume {
            id: t.0.to_string(),
            text: text(*t),
            total: *n,
            counts: vec![0; buckets],
        })
        .collect();
    let mut other = vec![0u64; buckets];
    let mut unmatched = vec![0u64; buckets];
    for (t, e) in &events {
        let b = ((t - start) / width) as usize;
        match e {
            Some(id) => match kept.get(id) {
                Some(&i) => series[i].counts[b] += 1,
                None => other[b] += 1,
            },
            None => unmatched[b] += 1,
        }
    }
    for (id, text, counts) in [
        ("other", "(the other templates)", other),
        ("unmatched", "(lines no learnt template matched)", unmatched),
    ] {
        let total: u64 = counts.iter().sum();
        if total > 0 {
            series.push(Volume {
                id: id.into(),
                text: text.into(),
                total,
                counts,
            });
        }
    }
    Some(Timeline {
        start,
        bucket_seconds: width,
        series,
        untimed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(events: &[(Option<u32>, Option<i64>)]) -> Session {
        Session {
            key: "s".into(),
            lines: (1..=events.len() as u64).collect(),
            events: events.iter().map(|(e, _)| e.map(TemplateId)).collect(),
            times: events.iter().map(|(_, t)| *t).collect(),
        }
    }

    #[test]
    fn lines_are_counted_per_template_and_bucket() {
        let h = 3_600_000;
        let s = session(&[
            (Some(0), Some(0)),
            (Some(0), Some(10 * 60_000)),
            (Some(1), Some(2 * h)),
            (Some(2), Some(2 * h + 1)),
            (None, Some(3 * h)),
            (Some(0), None),
        ]);
        let t = timeline(&[s], |id| format!("template {}", id.0), 2).unwrap();
        // Three hours and a bit: one-minute buckets would be 181, within the bound.
        assert_eq!((t.start, t.bucket_seconds, t.untimed), (0, 60, 1));
        let ids: Vec<&str> = t.series.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, ["0", "1", "other", "unmatched"]);
        assert_eq!(t.series[0].total, 2);
        assert_eq!((t.series[0].counts[0], t.series[0].counts[10]), (1, 1));
        assert_eq!(t.series[1].counts[120], 1);
        assert_eq!(t.series[2].counts[120], 1);
        assert_eq!(t.series[3].counts[180], 1);
        assert!(t.series.iter().all(|v| v.counts.len() == 181));
        // Weeks of lines: wider buckets, never more than the bound.
        let s = session(&[(Some(0), Some(0)), (Some(0), Some(30 * 86_400_000))]);
        let t = timeline(&[s], |_| String::new(), 5).unwrap();
        assert_eq!(t.bucket_seconds, 3 * 3600);
        assert!(t.series[0].counts.len() as i64 <= MAX_BUCKETS);
        assert!(timeline(&[session(&[(Some(0), None)])], |_| String::new(), 5).is_none());
    }
}
