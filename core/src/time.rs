//! Durations ("30s", "1h30m", "180d") and fast RFC 3339 UTC timestamps.
//!
//! All Vigil timestamps are UTC. Writers format them here with integer arithmetic
//! rather than through chrono, because the generator formats millions of them.

use crate::Error;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A strictly positive span of whole seconds, written like `30s`, `15m`, `1h30m`, `180d`, `2w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    secs: i64,
}

impl Duration {
    pub const SECOND: Duration = Duration { secs: 1 };
    pub const MINUTE: Duration = Duration { secs: 60 };
    pub const HOUR: Duration = Duration { secs: 3600 };
    pub const DAY: Duration = Duration { secs: 86_400 };

    /// A duration of `secs` seconds; `None` unless `secs > 0`.
    pub fn from_secs(secs: i64) -> Option<Duration> {
        (secs > 0).then_some(Duration { secs })
    }

    pub fn secs(self) -> i64 {
        self.secs
    }

    pub fn as_days_f64(self) -> f64 {
        self.secs as f64 / 86_400.0
    }
}

impl FromStr for Duration {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let s = text.trim();
        if s.starts_with('-') {
            return Err(Error::NegativeDuration(text.to_string()));
        }
        let bad = || Error::BadDuration(text.to_string());
        if s.is_empty() {
            return Err(bad());
        }
        let mut total: i64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            if digits == 0 {
                return Err(bad());
            }
            let value: i64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "s" | "sec" => 1,
                "m" | "min" => 60,
                "h" => 3600,
                "d" => 86_400,
                "w" => 7 * 86_400,
                _ => return Err(bad()),
            };
            rest = &rest[unit_len..];
            total = value
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
        }
        Duration::from_secs(total).ok_or_else(|| Error::ZeroDuration(text.to_string()))
    }
}

impl fmt::Display for Duration {
    /// The shortest spelling that parses back to the same duration, e.g. `1d2h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.secs;
        for (unit, name) in [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")] {
            if rest >= unit {
                write!(f, "{}{}", rest / unit, name)?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The UTC hour of day (0-23) of unix time `epoch_secs`.
pub fn hour_of_day(epoch_secs: i64) -> usize {
    epoch_secs.rem_euclid(86_400) as usize / 3_600
}

/// Reads a timestamp as RFC 3339, `YYYY-MM-DD HH:MM:SS` (or with a `T`; a fraction after
/// a dot or a comma; taken as UTC) or unix seconds.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, Error> {
    let s = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    // `2024-03-01 10:11:12`, with a fraction after a dot or a comma (log4j), or a `T`.
    let dotted: std::borrow::Cow<str> = if s.contains(',') {
        s.replacen(',', ".", 1).into()
    } else {
        s.into()
    };
    for pattern in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&dotted, pattern) {
            return Ok(t.and_utc());
        }
    }
    if let Some(t) = s
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
    {
        return Ok(t);
    }
    Err(Error::BadTimestamp(text.to_string()))
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn push_2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

fn push_datetime(buf: &mut Vec<u8>, epoch_secs: i64) {
    let days = epoch_secs.div_euclid(86_400);
    let sod = epoch_secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    let mut y = itoa::Buffer::new();
    let ys = y.format(year);
    for _ in ys.len()..4 {
        buf.push(b'0');
    }
    buf.extend_from_slice(ys.as_bytes());
    buf.push(b'-');
    push_2(buf, month);
    buf.push(b'-');
    push_2(buf, day);
    buf.push(b'T');
    push_2(buf, sod / 3600);
    buf.push(b':');
    push_2(buf, sod / 60 % 60);
    buf.push(b':');
    push_2(buf, sod % 60);
}

/// Appends `epoch_secs` as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn push_rfc3339(buf: &mut Vec<u8>, epoch_secs: i64) {
    push_datetime(buf, epoch_secs);
    buf.push(b'Z');
}

/// Appends `epoch_millis` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn push_rfc3339_millis(buf: &mut Vec<u8>, epoch_millis: i64) {
    push_datetime(buf, epoch_millis.div_euclid(1000));
    let ms = epoch_millis.rem_euclid(1000) as u32;
    buf.push(b'.');
    buf.push(b'0' + (ms / 100) as u8);
    push_2(buf, ms % 100);
    buf.push(b'Z');
}

/// `epoch_secs` as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(epoch_secs: i64) -> String {
    let mut buf = Vec::with_capacity(20);
    push_rfc3339(&mut buf, epoch_secs);
    // Only ASCII digits and separators were pushed.
    String::from_utf8(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_durations() {
        let d = |s: &str| s.parse::<Duration>().map(Duration::secs);
        assert_eq!(d("30s").ok(), Some(30));
        assert_eq!(d("15m").ok(), Some(900));
        assert_eq!(d("1h30m").ok(), Some(5400));
        assert_eq!(d("180d").ok(), Some(180 * 86_400));
        assert_eq!(d("2w").ok(), Some(14 * 86_400));
        assert!(matches!(d("-5d"), Err(Error::NegativeDuration(_))));
        assert!(matches!(d("0s"), Err(Error::ZeroDuration(_))));
        assert!(matches!(d("5"), Err(Error::BadDuration(_))));
        assert!(matches!(d("5y"), Err(Error::BadDuration(_))));
        assert!(matches!(d(""), Err(Error::BadDuration(_))));
        assert!(matches!(d("h"), Err(Error::BadDuration(_))));
    }

    #[test]
    fn reads_the_three_timestamp_forms() {
        let want = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        assert_eq!(parse_timestamp("2026-01-01T00:00:00Z").ok(), Some(want));
        assert_eq!(
            parse_timestamp("2026-01-01T01:00:00+01:00").ok(),
            Some(want)
        );
        assert_eq!(parse_timestamp("2026-01-01 00:00:00").ok(), Some(want));
        let ms = |t: &str| parse_timestamp(t).map(|t| t.timestamp_millis()).ok();
        let at = want.timestamp_millis();
        assert_eq!(
            ms("2026-01-01 00:00:00,345"),
            Some(at + 345),
            "log4j's comma"
        );
        assert_eq!(ms("2026-01-01T00:00:00.5"), Some(at + 500));
        assert_eq!(parse_timestamp("1767225600").ok(), Some(want));
        assert!(parse_timestamp("yesterday").is_err());
    }

    proptest! {
        #[test]
        fn duration_display_round_trips(secs in 1i64..10_000_000_000) {
            let d = Duration::from_secs(secs).unwrap();
            prop_assert_eq!(d.to_string().parse::<Duration>().ok(), Some(d));
        }

        #[test]
        fn fast_formatting_matches_chrono(secs in -2_000_000_000i64..8_000_000_000, ms in 0i64..1000) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            prop_assert_eq!(rfc3339(secs), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            let mut buf = Vec::new();
            push_rfc3339_millis(&mut buf, secs * 1000 + ms);
            let t = DateTime::from_timestamp_millis(secs * 1000 + ms).unwrap();
            prop_assert_eq!(String::from_utf8(buf).unwrap(), t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
        }
    }
}
