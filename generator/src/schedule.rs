//! When processes run: schedules, and their expansion into runs over the simulated period.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike};
use rand::RngExt;
use rand_distr::{Distribution, Exp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;
use crate::rng::Rng;
use vigil_core::Duration;

/// A wall-clock time of day (UTC), written `"HH:MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeOfDay {
    secs: u32,
}

impl TimeOfDay {
    pub fn new(hour: u32, minute: u32) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then_some(TimeOfDay {
            secs: hour * 3600 + minute * 60,
        })
    }

    pub fn second_of_day(self) -> u32 {
        self.secs
    }
}

impl FromStr for TimeOfDay {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || Error::TimeOfDay {
            value: s.to_string(),
        };
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        let h = h.parse().map_err(|_| bad())?;
        let m = m.parse().map_err(|_| bad())?;
        TimeOfDay::new(h, m).ok_or_else(bad)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.secs / 3600, self.secs / 60 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// Monday = 0.
    pub fn index(self) -> u32 {
        self as u32
    }
}

/// When a process starts its runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Runs for the whole period (services).
    Always,
    Daily {
        at: TimeOfDay,
        jitter: Option<Duration>,
    },
    Weekly {
        day: Weekday,
        at: TimeOfDay,
        jitter: Option<Duration>,
    },
    /// On day `day` (1–28) of every month.
    Monthly {
        day: u32,
        at: TimeOfDay,
        jitter: Option<Duration>,
    },
    /// Every `period`, aligned to the unix epoch plus `offset`.
    Every {
        period: Duration,
        offset: Option<Duration>,
        jitter: Option<Duration>,
    },
    /// At random, `per_day` times a day on average (a Poisson process).
    Random { per_day: f64 },
}

/// One run of a process: steps `[start, end)` at `intensity` times its profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub start: usize,
    pub end: usize,
    pub intensity: f64,
}

/// The simulated period: `steps` steps of `interval` seconds from `start` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    pub start: i64,
    pub interval: i64,
    pub steps: usize,
}

impl Timeline {
    pub fn time_of(&self, step: usize) -> i64 {
        self.start + step as i64 * self.interval
    }

    /// The first step at or after unix time `t` (may be past the end).
    pub fn step_at_or_after(&self, t: i64) -> i64 {
        (t - self.start).div_euclid(self.interval)
            + i64::from((t - self.start).rem_euclid(self.interval) != 0)
    }

    pub fn end(&self) -> i64 {
        self.time_of(self.steps)
    }
}

impl Schedule {
    /// Expands the schedule into non-overlapping runs inside `timeline`.
    ///
    /// Every candidate start draws the same random numbers whether or not it is kept, so
    /// one process's runs never depend on another's.
    pub fn expand(
        &self,
        timeline: &Timeline,
        duration: Duration,
        intensity: f64,
        rng: &mut Rng,
    ) -> Vec<Run> {
        let starts: Vec<i64> = match *self {
            Schedule::Always => {
                return vec![Run {
                    start: 0,
                    end: timeline.steps,
                    intensity,
                }];
            }
            Schedule::Daily { at, jitter } => day_starts(timeline, |_| true)
                .map(|d| d + i64::from(at.second_of_day()) + jitter_secs(jitter, rng))
                .collect(),
            Schedule::Weekly { day, at, jitter } => {
                day_starts(timeline, |d| weekday_of(d) == day.index())
                    .map(|d| d + i64::from(at.second_of_day()) + jitter_secs(jitter, rng))
                    .collect()
            }
            Schedule::Monthly { day, at, jitter } => day_starts(timeline, |d| {
                DateTime::from_timestamp(d, 0).is_some_and(|t| t.day() == day)
            })
            .map(|d| d + i64::from(at.second_of_day()) + jitter_secs(jitter, rng))
            .collect(),
            Schedule::Every {
                period,
                offset,
                jitter,
            } => {
                let p = period.secs();
                let off = offset.map_or(0, Duration::secs) % p;
                let mut t = timeline.start.div_euclid(p) * p + off - p;
                let mut v = Vec::new();
                while t < timeline.end() {
                    v.push(t + jitter_secs(jitter, rng));
                    t += p;
                }
                v
            }
            Schedule::Random { per_day } => {
                let mut v = Vec::new();
                // A rate of 0 (validated ≥ 0) means the process never runs.
                if let (true, Ok(gap)) = (per_day > 0.0, Exp::new(per_day / 86_400.0)) {
                    let mut t = timeline.start as f64 + gap.sample(rng);
                    while t < timeline.end() as f64 {
                        v.push(t as i64);
                        t += gap.sample(rng);
                    }
                }
                v
            }
        };

        let mut runs = Vec::with_capacity(starts.len());
        let mut last_end = 0usize;
        for t in starts {
            let length = duration.secs() as f64 * rng.random_range(0.8..1.2);
            let run_intensity = intensity * rng.random_range(0.85..1.15);
            let start = timeline.step_at_or_after(t);
            let end = timeline.step_at_or_after(t + length as i64).max(start + 1);
            if end <= 0 || start >= timeline.steps as i64 {
                continue;
            }
            let start = start.max(0) as usize;
            let end = (end as usize).min(timeline.steps);
            if start < last_end {
                continue; // the previous run is still going: skip this one
            }
            runs.push(Run {
                start,
                end,
                intensity: run_intensity,
            });
            last_end = end;
        }
        runs
    }
}

fn jitter_secs(jitter: Option<Duration>, rng: &mut Rng) -> i64 {
    let j = jitter.map_or(0, Duration::secs);
    // Drawn even when zero, so the random stream does not depend on the jitter setting.
    let u: f64 = rng.random_range(-1.0..1.0);
    (u * j as f64) as i64
}

/// Monday = 0.
pub fn weekday_of(epoch_secs: i64) -> u32 {
    (epoch_secs.div_euclid(86_400) + 3).rem_euclid(7) as u32
}

/// Midnights (UTC) from the day before the timeline starts to its end, filtered.
fn day_starts(timeline: &Timeline, keep: impl Fn(i64) -> bool) -> impl Iterator<Item = i64> {
    let first = timeline.start.div_euclid(86_400) * 86_400 - 86_400;
    let end = timeline.end();
    (0..)
        .map(move |i| first + i * 86_400)
        .take_while(move |&d| d < end)
        .filter(move |&d| keep(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn timeline(days: i64) -> Timeline {
        // 2026-01-05 is a Monday.
        Timeline {
            start: 1_767_571_200,
            interval: 60,
            steps: (days * 1440) as usize,
        }
    }

    fn expand(s: Schedule, days: i64, minutes: i64) -> Vec<Run> {
        let d = Duration::from_secs(minutes * 60).unwrap();
        s.expand(&timeline(days), d, 1.0, &mut stream(7, &[1]))
    }

    #[test]
    fn times_of_day_round_trip_and_bad_ones_are_quoted() {
        let t: TimeOfDay = " 02:30".parse().unwrap();
        assert_eq!(
            (t.second_of_day(), t.to_string()),
            (9000, "02:30".to_string())
        );
        for bad in ["24:00", "2:60", "noon", "12"] {
            let e = bad.parse::<TimeOfDay>().unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("expected a time of day like \"02:30\", found {bad:?}")
            );
        }
    }

    #[test]
    fn weekday_of_a_known_monday() {
        assert_eq!(weekday_of(1_767_571_200), 0);
        assert_eq!(weekday_of(1_767_571_200 + 6 * 86_400 + 100), 6);
    }

    #[test]
    fn daily_runs_once_a_day_near_the_time() {
        let runs = expand(
            Schedule::Daily {
                at: "02:00".parse().unwrap(),
                jitter: Some(Duration::from_secs(600).unwrap()),
            },
            10,
            30,
        );
        assert_eq!(runs.len(), 10);
        for (i, r) in runs.iter().enumerate() {
            let minute_of_day = r.start as i64 - i as i64 * 1440;
            assert!((110..=130).contains(&minute_of_day), "{r:?}");
            assert!((24..=36).contains(&(r.end - r.start)), "{r:?}");
        }
    }

    #[test]
    fn weekly_monthly_every_and_always() {
        let weekly = Schedule::Weekly {
            day: Weekday::Wed,
            at: "22:00".parse().unwrap(),
            jitter: None,
        };
        let runs = expand(weekly, 21, 60);
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[0].start, 2 * 1440 + 22 * 60);

        let monthly = Schedule::Monthly {
            day: 1,
            at: "05:00".parse().unwrap(),
            jitter: None,
        };
        // 2026-01-05 + 60 days reaches into March: Feb 1 and Mar 1.
        assert_eq!(expand(monthly, 60, 30).len(), 2);

        let every = Schedule::Every {
            period: Duration::from_secs(3600).unwrap(),
            offset: None,
            jitter: None,
        };
        let runs = expand(every, 1, 5);
        assert_eq!(runs.len(), 24);
        assert_eq!(runs[1].start, 60);

        assert_eq!(
            expand(Schedule::Always, 2, 1),
            vec![Run {
                start: 0,
                end: 2880,
                intensity: 1.0
            }]
        );
    }

    #[test]
    fn random_runs_match_their_rate_and_never_overlap() {
        let runs = expand(Schedule::Random { per_day: 2.0 }, 200, 30);
        assert!((320..480).contains(&runs.len()), "{}", runs.len());
        assert!(runs.windows(2).all(|w| w[0].end <= w[1].start));
    }
}
