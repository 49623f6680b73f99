//! The metric columns every Vigil program shares, in their file order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One measured quantity of a host.
///
/// `cpu`, `ram` and `disk` are percentages (0–100); `net_in` and `net_out` are Mbit/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Cpu,
    Ram,
    Disk,
    NetIn,
    NetOut,
}

/// All metrics, in the column order of `metrics.csv`.
pub const METRICS: [Metric; 5] = [
    Metric::Cpu,
    Metric::Ram,
    Metric::Disk,
    Metric::NetIn,
    Metric::NetOut,
];

impl Metric {
    /// The column index of this metric in [`METRICS`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu",
            Metric::Ram => "ram",
            Metric::Disk => "disk",
            Metric::NetIn => "net_in",
            Metric::NetOut => "net_out",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Metric::Cpu | Metric::Ram | Metric::Disk => "%",
            Metric::NetIn | Metric::NetOut => "Mbit/s",
        }
    }

    /// Whether the metric is a percentage bounded to [0, 100].
    pub fn is_percent(self) -> bool {
        matches!(self, Metric::Cpu | Metric::Ram | Metric::Disk)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name was not one of [`METRICS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric {0:?}, expected one of cpu, ram, disk, net_in, net_out")]
pub struct UnknownMetric(pub String);

impl FromStr for Metric {
    type Err = UnknownMetric;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        METRICS
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownMetric(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_column_order() {
        for (i, m) in METRICS.iter().enumerate() {
            assert_eq!(m.index(), i);
            assert_eq!(m.name().parse::<Metric>().unwrap(), *m);
        }
        assert!("load".parse::<Metric>().is_err());
    }
}
