//! What a series' errors usually are at each hour of day, learnt online: work that recurs
//! at one hour every day (a nightly backup) is harder for a model that sees one window at a
//! time, and such an hour's errors are discounted by how much higher they usually are.

use crate::time::hour_of_day;

/// An hour's exponential mean remembers about this many days (the all-hours mean as many
/// days of every hour).
const SPAN_DAYS: f32 = 5.0;
/// Days of an hour's rows before it discounts anything. Two days (so that one day's
/// incident could never excuse the next day's) cost the check seed 0.008 of event F1 and
/// more false alarms than the model's margin over the baseline; one day, with the divisor
/// capped at [`MAX_DIVISOR`], is the default.
const MIN_DAYS: f32 = 1.0;
/// Errors (in units of the validation mean, about 1) are floored here before their
/// logarithm, so near-perfect stretches do not drag the all-hours mean down.
const ERROR_FLOOR: f32 = 0.05;
/// The most an hour's errors are discounted.
const MAX_DIVISOR: f32 = 10.0;

/// A mean of the logarithm (a geometric mean: one burst barely moves it, so an incident
/// does not excuse itself) with its sample count.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct LogMean {
    mean: f32,
    n: f32,
}

impl LogMean {
    fn push(&mut self, ln: f32, span: f32) {
        self.n += 1.0;
        self.mean += (ln - self.mean) / self.n.min(span);
    }
}

/// Per column, the geometric mean error of each hour of day and of all hours.
#[derive(Debug, Clone, PartialEq)]
pub struct HourlyDiscount {
    /// `[24][columns]`.
    hours: Vec<LogMean>,
    all: Vec<LogMean>,
    /// Rows an hour holds at the series' step.
    per_hour: f32,
}

impl HourlyDiscount {
    /// For `width` columns of rows `step` seconds apart.
    pub fn new(width: usize, step: i64) -> HourlyDiscount {
        HourlyDiscount {
            hours: vec![LogMean::default(); 24 * width],
            all: vec![LogMean::default(); width],
            per_hour: (3_600.0 / step.max(1) as f32).max(1.0),
        }
    }

    /// What column `c`'s `error` at unix `time` is divided by (at least 1: an hour is
    /// never judged more strictly than the rest), learnt before the error is.
    pub fn divisor(&mut self, time: i64, c: usize, error: f32) -> f32 {
        let w = self.all.len();
        let at = hour_of_day(time) * w + c;
        let hour = self.hours[at];
        let divisor = if hour.n >= MIN_DAYS * self.per_hour {
            (hour.mean - self.all[c].mean).exp().clamp(1.0, MAX_DIVISOR)
        } else {
            1.0
        };
        if error.is_finite() {
            let ln = error.max(ERROR_FLOOR).ln();
            let span = SPAN_DAYS * self.per_hour;
            self.hours[at].push(ln, span);
            self.all[c].push(ln, span * 24.0);
        }
        divisor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_that_is_noisier_every_day_is_discounted_and_no_hour_is_amplified() {
        let mut d = HourlyDiscount::new(1, 60);
        let hour = |day: i64, h: i64, m: i64| day * 86_400 + h * 3_600 + m * 60;
        // Ten days of one-minute errors: 1 all day, 8 from 04:00 to 05:00.
        let mut last = (0.0, 0.0, 0.0);
        for day in 0..10 {
            for h in 0..24 {
                for m in 0..60 {
                    let e = if h == 4 { 8.0 } else { 1.0 };
                    let f = d.divisor(hour(day, h, m), 0, e);
                    match h {
                        4 => last.0 = f,
                        12 => last.1 = f,
                        _ => last.2 = f32::max(last.2, f),
                    }
                }
            }
        }
        assert!(last.0 > 5.0 && last.0 < 9.0, "04:00 discounted: {last:?}");
        assert_eq!(last.1, 1.0, "quieter hours are not amplified: {last:?}");
        assert!(last.2 < 1.01, "nor is any other hour discounted: {last:?}");
        // A burst in one hour on one day barely moves that hour's geometric mean.
        let mut d = HourlyDiscount::new(1, 60);
        for day in 0..5 {
            for h in 0..24 {
                for m in 0..60 {
                    let e = if day == 4 && h == 12 && m < 30 {
                        1000.0
                    } else {
                        1.0
                    };
                    d.divisor(hour(day, h, m), 0, e);
                }
            }
        }
        assert!(d.divisor(hour(5, 12, 0), 0, 1.0) < 3.0);
        // One day's incident at an hour is discounted at most MAX_DIVISOR the next day, and
        // a column of near-perfect errors does not make other hours look noisy.
        let mut d = HourlyDiscount::new(2, 60);
        for h in 0..24 {
            for m in 0..60 {
                let e = if h == 4 { 1000.0 } else { 1e-9 };
                d.divisor(hour(0, h, m), 1, e);
            }
        }
        assert_eq!(d.divisor(hour(1, 4, 0), 1, 1000.0), MAX_DIVISOR);
        assert_eq!(d.divisor(hour(1, 5, 0), 1, 1.0), 1.0);
        // The span is in time: at 5-minute rows, two days are 24 rows an hour.
        let mut d = HourlyDiscount::new(1, 300);
        for day in 0..3 {
            for h in 0..24 {
                for m in 0..12 {
                    d.divisor(hour(day, h, 5 * m), 0, if h == 4 { 8.0 } else { 1.0 });
                }
            }
        }
        let f = d.divisor(hour(3, 4, 0), 0, 8.0);
        assert!(f > 5.0 && f <= MAX_DIVISOR, "{f}");
    }
}
