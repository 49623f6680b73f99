//! What a series' errors usually are at each hour of day, learnt online: work that recurs
//! at one hour every day (a nightly backup) is harder for a model that sees one window at a
//! time, and such an hour's errors are discounted by how much higher they usually are.

/// An exponential mean remembers about this many samples (an hour bin's five days of
/// one-minute rows; the all-hours mean 24 times as many).
const SPAN: f32 = 300.0;
/// Samples an hour needs before it discounts anything (an hour of one-minute rows).
const MIN_SAMPLES: f32 = 60.0;

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
}

impl HourlyDiscount {
    pub fn new(width: usize) -> HourlyDiscount {
        HourlyDiscount {
            hours: vec![LogMean::default(); 24 * width],
            all: vec![LogMean::default(); width],
        }
    }

    /// What column `c`'s `error` at unix `time` is divided by (at least 1: an hour is
    /// never judged more strictly than the rest), learnt before the error is.
    pub fn divisor(&mut self, time: i64, c: usize, error: f32) -> f32 {
        let w = self.all.len();
        let at = (time.rem_euclid(86_400) as usize / 3_600) * w + c;
        let hour = self.hours[at];
        let divisor = if hour.n >= MIN_SAMPLES {
            (hour.mean - self.all[c].mean).exp().max(1.0)
        } else {
            1.0
        };
        if error.is_finite() {
            let ln = error.max(1e-6).ln();
            self.hours[at].push(ln, SPAN);
            self.all[c].push(ln, SPAN * 24.0);
        }
        divisor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_that_is_noisier_every_day_is_discounted_and_no_hour_is_amplified() {
        let mut d = HourlyDiscount::new(1);
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
        // A burst in one hour on one day barely moves that hour's geometric mean.
        let mut d = HourlyDiscount::new(1);
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
        // Too few samples at an hour: nothing discounted.
        let mut d = HourlyDiscount::new(2);
        for m in 0..30 {
            assert_eq!(d.divisor(hour(0, 4, m), 1, 50.0), 1.0);
        }
    }
}
