//! The scenario file as written by a user: TOML, every key known, every default explicit.

use serde::{Deserialize, Serialize};

use crate::kinds::{IncidentKind, ProcessKind, Role};
use crate::schedule::Schedule;
use vigil_core::{Duration, Metric};

/// The top level of a scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// A name for reports and chart titles.
    #[serde(default = "default_name")]
    pub name: String,
    /// Seeds every random choice: the same seed and file give the same bytes.
    pub seed: u64,
    /// First timestamp, RFC 3339 UTC (quoted or as a TOML date-time).
    pub start: Timestamp,
    /// Length of the simulated period, e.g. `"180d"`.
    pub duration: Duration,
    /// Step between two samples of a host, e.g. `"30s"`.
    pub interval: Duration,
    /// Keep the first `train` of the period free of incidents and write it apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitSpec>,
    #[serde(default)]
    pub logs: LogSpec,
    #[serde(default)]
    pub noise: NoiseSpec,
    pub hosts: Vec<HostSpec>,
    #[serde(default)]
    pub processes: Vec<ProcessSpec>,
    #[serde(default)]
    pub incidents: Vec<IncidentSpec>,
}

fn default_name() -> String {
    "scenario".to_string()
}

/// A timestamp as written in the file, kept as text until validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    Text(String),
    Toml(toml::value::Datetime),
}

impl Timestamp {
    pub fn text(&self) -> String {
        match self {
            Timestamp::Text(s) => s.clone(),
            Timestamp::Toml(t) => t.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    /// Length of the incident-free training period at the start.
    pub train: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSpec {
    /// Write `logs.log` at all.
    pub enabled: bool,
    /// Also write `logs.jsonl`.
    pub jsonl: bool,
    /// Logged requests per minute on a web host at peak load (a sample of the traffic).
    pub requests_per_minute: f64,
}

impl Default for LogSpec {
    fn default() -> Self {
        LogSpec {
            enabled: true,
            jsonl: false,
            requests_per_minute: 1.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseSpec {
    /// Scales every noise amplitude; 0 gives clean signals.
    pub level: f64,
    /// Share (0–1) of each host's noise that is common to the whole fleet.
    pub fleet_correlation: f64,
}

impl Default for NoiseSpec {
    fn default() -> Self {
        NoiseSpec {
            level: 1.0,
            fleet_correlation: 0.4,
        }
    }
}

/// One host, or `count` alike hosts named `name-1` … `name-count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub name: String,
    pub role: Role,
    #[serde(default = "one")]
    pub count: u32,
    /// Hosts (or host groups) this one calls: a cascading failure spreads along these.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Baseline CPU % with no process running (role default if absent).
    pub cpu: Option<f64>,
    pub ram: Option<f64>,
    /// Disk % used at the start.
    pub disk: Option<f64>,
    pub net_in: Option<f64>,
    pub net_out: Option<f64>,
    /// Disk percentage points written per day by normal operation.
    pub disk_growth: Option<f64>,
}

fn one() -> u32 {
    1
}

fn unit() -> f64 {
    1.0
}

/// A process and the hosts it runs on; the kind supplies every default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    pub kind: ProcessKind,
    /// Name in `metrics.csv` and logs (default: the kind's, e.g. `nginx`).
    pub name: Option<String>,
    /// Host names or group names; with `roles` empty too, the kind's default roles.
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub roles: Vec<Role>,
    pub schedule: Option<Schedule>,
    /// Typical length of one run.
    pub duration: Option<Duration>,
    /// Multiplies the whole profile.
    #[serde(default = "unit")]
    pub intensity: f64,
    pub cpu: Option<f64>,
    pub ram: Option<f64>,
    pub net_in: Option<f64>,
    pub net_out: Option<f64>,
    pub disk: Option<f64>,
    pub disk_keep: Option<f64>,
    pub disk_release: Option<f64>,
}

/// An incident rule: where, how often or exactly when, how long and how strong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentSpec {
    pub kind: IncidentKind,
    /// Chance per host per day that one starts (in the test period).
    pub probability: Option<f64>,
    /// Explicit start times (RFC 3339), on every selected host.
    #[serde(default)]
    pub at: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Typical length (kind default if absent).
    pub duration: Option<Duration>,
    /// Scales the effect.
    #[serde(default = "unit")]
    pub magnitude: f64,
    /// Metrics touched, for the kinds where that is a choice
    /// (spike, flatline, variance_burst).
    pub metrics: Option<Vec<Metric>>,
    /// For cascading failures: delay before each dependent is hit.
    pub lag: Option<Duration>,
}
