//! The alarm state machine of one group and one detector (model or baseline): rows above
//! the threshold open a stretch, which is confirmed after `min_duration` of them; up to
//! `merge_gap` quiet rows may separate two parts of one stretch; a row's decision is made
//! as soon as it can no longer change.

use std::collections::VecDeque;

use super::Options;
use crate::explain::MetricStats;

/// A stretch is a daily repeat when one started within this many seconds of its time of
/// day on each of the [`REPEAT_DAYS`] days before.
const REPEAT_WINDOW: i64 = 30 * 60;
/// Days in a row a stretch must have recurred at its time of day to be a schedule.
const REPEAT_DAYS: i64 = 2;
const DAY: i64 = 86_400;

/// An open anomalous stretch.
pub(super) struct Open {
    pub(super) pending: Vec<u64>,
    pub(super) quiet: Vec<u64>,
    pub(super) above: usize,
    pub(super) confirmed: bool,
    pub(super) start: i64,
    pub(super) last_above: i64,
    pub(super) peak_score: f32,
    pub(super) peak_time: i64,
    pub(super) stats: Vec<MetricStats>,
    /// Confirmed as a daily repeat ([`Options::daily_repeats`]): its rows are not anomalous.
    pub(super) repeat: bool,
}

/// One alarm logic (model or baseline) of one group.
pub(super) struct Alarm {
    pub(super) open: Option<Open>,
    /// Or-ed into the sequence numbers of its decisions: 0 or [`BASELINE_TAG`].
    pub(super) tag: u64,
    /// Seconds after an anomaly's last row during which no new one is raised
    /// ([`Options::suppress`]; 0 for none).
    suppress: i64,
    /// No new stretch opens before this time (the last anomaly's last row + `suppress`).
    quiet_until: Option<i64>,
    /// Whether a stretch that recurs daily is held back ([`Options::daily_repeats`]).
    daily: bool,
    /// Start times of the confirmed stretches of the last [`REPEAT_DAYS`] days and a window.
    starts: VecDeque<i64>,
    /// Confirmed stretches held back as daily repeats.
    pub(super) repeats: u64,
}

/// A decision on a row: (sequence number, anomalous).
pub(super) type Decisions = Vec<(u64, bool)>;

impl Alarm {
    pub(super) fn new(tag: u64, suppress: i64, daily: bool) -> Alarm {
        Alarm {
            open: None,
            tag,
            suppress,
            quiet_until: None,
            daily,
            starts: VecDeque::new(),
            repeats: 0,
        }
    }

    /// Records a confirmed stretch's start; whether one started within [`REPEAT_WINDOW`]
    /// of its time of day on each of the [`REPEAT_DAYS`] days before (never, with the rule
    /// off: nothing is recorded then).
    fn repeats_daily(&mut self, start: i64) -> bool {
        if !self.daily {
            return false;
        }
        while self
            .starts
            .front()
            .is_some_and(|&t| t < start - REPEAT_DAYS * DAY - REPEAT_WINDOW)
        {
            self.starts.pop_front();
        }
        let repeat = (1..=REPEAT_DAYS).all(|k| {
            let at = start - k * DAY;
            self.starts.iter().any(|&t| (t - at).abs() <= REPEAT_WINDOW)
        });
        self.starts.push_back(start);
        repeat
    }

    /// Feeds one scored row; returns a closed, confirmed stretch when this row ends one.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push(
        &mut self,
        seq: u64,
        time: i64,
        above: bool,
        score: f32,
        row: Option<(&[f32], &[f32])>,
        make_stats: impl FnOnce() -> Vec<MetricStats>,
        options: &Options,
        out: &mut Decisions,
    ) -> Option<Open> {
        let seq = seq | self.tag;
        if self.open.is_none() && self.quiet_until.is_some_and(|until| time < until) {
            // Just after an anomaly on this host: a repeat pages nobody.
            out.push((seq, false));
            return None;
        }
        if above {
            let o = self.open.get_or_insert_with(|| Open {
                pending: Vec::new(),
                quiet: Vec::new(),
                above: 0,
                confirmed: false,
                start: time,
                last_above: time,
                peak_score: f32::NEG_INFINITY,
                peak_time: time,
                stats: make_stats(),
                repeat: false,
            });
            let quiet = std::mem::take(&mut o.quiet);
            if o.confirmed {
                let flag = !o.repeat;
                out.extend(quiet.iter().map(|&q| (q, flag)));
                out.push((seq, flag));
            } else {
                o.pending.extend(quiet);
                o.pending.push(seq);
            }
            if let Some((values, shares)) = row {
                let i = o.above as f64;
                for ((s, &v), &sh) in o.stats.iter_mut().zip(values).zip(shares) {
                    s.push(i, f64::from(v), f64::from(sh));
                }
            }
            o.above += 1;
            o.last_above = time;
            if score > o.peak_score {
                o.peak_score = score;
                o.peak_time = time;
            }
            if !o.confirmed && o.above >= options.min_duration.max(1) {
                let start = o.start;
                let repeat = self.repeats_daily(start);
                let o = self.open.as_mut().expect("open");
                o.confirmed = true;
                o.repeat = repeat;
                out.extend(o.pending.drain(..).map(|p| (p, !repeat)));
            }
            None
        } else {
            match &mut self.open {
                None => {
                    out.push((seq, false));
                    None
                }
                Some(o) if o.quiet.len() < options.merge_gap => {
                    o.quiet.push(seq);
                    None
                }
                Some(_) => {
                    out.push((seq, false));
                    self.close(out)
                }
            }
        }
    }

    /// Ends the open stretch (a gap, the end of the data); returns it when confirmed.
    pub(super) fn close(&mut self, out: &mut Decisions) -> Option<Open> {
        let mut o = self.open.take()?;
        out.extend(o.quiet.drain(..).map(|q| (q, false)));
        if o.confirmed {
            if self.suppress > 0 {
                self.quiet_until = Some(o.last_above + self.suppress);
            }
            if o.repeat {
                self.repeats += 1;
                return None;
            }
            Some(o)
        } else {
            out.extend(o.pending.drain(..).map(|p| (p, false)));
            None
        }
    }
}

/// Marks a baseline decision in [`Decisions`].
pub(super) const BASELINE_TAG: u64 = 1 << 63;

#[cfg(test)]
mod tests {
    use super::*;

    fn options(min_duration: usize, merge_gap: usize) -> Options {
        Options {
            min_duration,
            merge_gap,
            ..Options::default()
        }
    }

    /// Feeds `above` flags (one row a minute, score = 1 + index) through an alarm; returns
    /// the decisions in the order they were made and the stretches it closed.
    fn run(alarm: &mut Alarm, above: &[bool], o: &Options) -> (Decisions, Vec<Open>) {
        let mut out = Decisions::new();
        let mut closed = Vec::new();
        for (i, &a) in above.iter().enumerate() {
            let t = i as i64 * 60;
            closed.extend(alarm.push(i as u64, t, a, 1.0 + i as f32, None, Vec::new, o, &mut out));
        }
        closed.extend(alarm.close(&mut out));
        (out, closed)
    }

    fn flags(d: &Decisions) -> Vec<bool> {
        let mut d = d.clone();
        d.sort();
        d.into_iter().map(|(_, a)| a).collect()
    }

    #[test]
    fn a_stretch_shorter_than_min_duration_never_alarms() {
        let mut a = Alarm::new(0, 0, false);
        let (out, closed) = run(&mut a, &[false, true, true, false, false], &options(3, 0));
        assert_eq!(flags(&out), vec![false; 5]);
        assert!(closed.is_empty());
        assert!(a.open.is_none());
    }

    #[test]
    fn confirmation_backdates_the_stretch_to_its_first_row() {
        let mut a = Alarm::new(0, 0, false);
        let o = options(3, 0);
        let mut out = Decisions::new();
        for (i, above) in [true, true].into_iter().enumerate() {
            assert!(
                a.push(
                    i as u64,
                    i as i64 * 60,
                    above,
                    2.0,
                    None,
                    Vec::new,
                    &o,
                    &mut out
                )
                .is_none()
            );
        }
        assert!(
            out.is_empty(),
            "undecided until confirmed or broken: {out:?}"
        );
        a.push(2, 120, true, 5.0, None, Vec::new, &o, &mut out);
        assert_eq!(out, vec![(0, true), (1, true), (2, true)]);
        let closed = a
            .push(3, 180, false, 0.1, None, Vec::new, &o, &mut out)
            .unwrap();
        assert_eq!((closed.start, closed.last_above, closed.above), (0, 120, 3));
        assert_eq!((closed.peak_score, closed.peak_time), (5.0, 120));
        assert_eq!(out.last(), Some(&(3, false)));
    }

    #[test]
    fn quiet_rows_within_the_merge_gap_join_the_stretch() {
        let mut a = Alarm::new(0, 0, false);
        let above = [true, true, false, false, true, false, false, false, true];
        let (out, closed) = run(&mut a, &above, &options(2, 2));
        // Rows 2-3 sit between two parts of one stretch; 5-7 are more than the gap, so the
        // stretch ends at row 4 and row 8 alone is too short to alarm.
        assert_eq!(
            flags(&out),
            vec![true, true, true, true, true, false, false, false, false]
        );
        assert_eq!(closed.len(), 1);
        assert_eq!((closed[0].start, closed[0].last_above), (0, 240));
        assert_eq!(out.len(), above.len(), "every row decided exactly once");
    }

    #[test]
    fn the_end_of_the_data_closes_a_confirmed_stretch() {
        let mut a = Alarm::new(0, 0, false);
        let (out, closed) = run(&mut a, &[false, true, true, false], &options(2, 5));
        assert_eq!(flags(&out), vec![false, true, true, false]);
        assert_eq!(closed.len(), 1);
    }

    #[test]
    fn the_baseline_tags_its_decisions() {
        let mut a = Alarm::new(BASELINE_TAG, 0, false);
        let (out, _) = run(&mut a, &[false, true], &options(1, 0));
        assert!(out.iter().all(|(seq, _)| seq & BASELINE_TAG != 0));
        assert_eq!(
            out.iter()
                .map(|(s, _)| s & !BASELINE_TAG)
                .collect::<Vec<_>>(),
            vec![0, 1]
        );
    }

    #[test]
    fn repeats_just_after_an_anomaly_are_suppressed() {
        // Rows a minute apart; 4 minutes of suppression after an anomaly's last row.
        let mut a = Alarm::new(0, 4 * 60, false);
        let above = [true, false, true, true, false, true, false];
        let (out, closed) = run(&mut a, &above, &options(1, 0));
        // Row 0 alarms (its last row at 0 min); rows 1-3 fall before 4 min (2 and 3 would
        // have alarmed); row 5 alarms again.
        assert_eq!(
            flags(&out),
            vec![true, false, false, false, false, true, false]
        );
        assert_eq!(closed.len(), 2);
        assert_eq!(closed[1].start, 5 * 60);
        // The span counts from the anomaly's last row, the merge gap included: with a gap
        // of 2 the stretch closes at row 3, and row 4 (4 min) is already free.
        let mut a = Alarm::new(0, 4 * 60, false);
        let (out, _) = run(&mut a, &[true, false, false, false, true], &options(1, 2));
        assert_eq!(flags(&out), vec![true, false, false, false, true]);
        // A stretch that never confirmed suppresses nothing.
        let mut a = Alarm::new(0, 4 * 60, false);
        let (out, _) = run(&mut a, &[true, false, true, true], &options(2, 0));
        assert_eq!(flags(&out), vec![false, false, true, true]);
    }

    #[test]
    fn a_stretch_at_the_time_of_day_of_the_two_days_before_is_a_schedule_not_raised() {
        // Each day three rows above at about 03:15 (the start drifts 10 min a day), and on
        // day 3 three more at noon; one row a minute, quiet rows between.
        let mut times = Vec::new();
        for day in 0..4i64 {
            let at = day * DAY + 3 * 3600 + 15 * 60 + day * 600;
            times.extend((0..3).map(|m| (at + m * 60, true)));
            times.push((at + 300, false));
            if day == 3 {
                let noon = day * DAY + 12 * 3600;
                times.extend((0..3).map(|m| (noon + m * 60, true)));
                times.push((noon + 300, false));
            }
        }
        let o = options(3, 0);
        let feed = |a: &mut Alarm| {
            let mut out = Decisions::new();
            let mut raised = Vec::new();
            for (i, &(t, above)) in times.iter().enumerate() {
                raised.extend(a.push(i as u64, t, above, 1.0, None, Vec::new, &o, &mut out));
            }
            raised.extend(a.close(&mut out));
            let starts: Vec<i64> = raised.iter().map(|r| r.start).collect();
            (starts, flags(&out))
        };
        let mut a = Alarm::new(0, 3600, true);
        let (starts, rows) = feed(&mut a);
        let day = |d: i64, h: i64, m: i64| d * DAY + h * 3600 + m * 60;
        assert_eq!(starts, [day(0, 3, 15), day(1, 3, 25), day(3, 12, 0)]);
        assert_eq!(a.repeats, 2, "days 2 and 3 at 03:xx");
        // The repeats' rows are not anomalous; the noon stretch's are.
        assert_eq!(rows.iter().filter(|&&f| f).count(), 9);
        // Off, every stretch is raised.
        let mut a = Alarm::new(0, 3600, false);
        let (starts, _) = feed(&mut a);
        assert_eq!(starts.len(), 5);
        assert_eq!(a.repeats, 0);
    }
}
