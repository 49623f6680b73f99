//! Scenarios: what fleet to simulate, for how long, and what goes wrong.
//!
//! A [`ScenarioFile`] is the TOML a user writes; [`Scenario::from_file`] checks it once
//! into a [`Scenario`] whose every reference is resolved, so the simulation cannot fail on
//! a bad parameter.

mod check;
mod file;

use std::path::Path;

pub use file::{
    HostSpec, IncidentSpec, LogSpec, NoiseSpec, ProcessSpec, ScenarioFile, SplitSpec, Timestamp,
};

use crate::Error;
pub use crate::kinds::Role;
use crate::kinds::{IncidentKind, ProcessKind, Profile};
use crate::schedule::{Schedule, Timeline};
use vigil_core::{Duration, Metric};

/// The scenario every `generator` run without `--config` uses (also `data/scenarios/default.toml`).
pub const DEFAULT_SCENARIO: &str = include_str!("../../../data/scenarios/default.toml");

/// One simulated host.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: String,
    pub role: Role,
    /// Indices of the hosts this one depends on.
    pub depends_on: Vec<usize>,
    /// Baseline `[cpu, ram, disk, net_in, net_out]`.
    pub base: [f64; 5],
    /// Disk percentage points per day.
    pub disk_growth: f64,
}

/// A process with its resolved hosts and profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub kind: ProcessKind,
    pub name: String,
    pub hosts: Vec<usize>,
    pub schedule: Schedule,
    pub duration: Duration,
    pub intensity: f64,
    pub profile: Profile,
}

/// An incident rule with its resolved hosts and times.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRule {
    pub kind: IncidentKind,
    pub probability: f64,
    /// Explicit start times, unix seconds.
    pub at: Vec<i64>,
    pub hosts: Vec<usize>,
    pub duration: Duration,
    pub magnitude: f64,
    pub metrics: Vec<Metric>,
    pub lag: Duration,
}

/// A checked scenario, ready to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The effective file (after command-line overrides), written beside the output.
    pub file: ScenarioFile,
    pub name: String,
    pub seed: u64,
    pub timeline: Timeline,
    /// Steps of the incident-free training period, when the output is split.
    pub train_steps: Option<usize>,
    pub hosts: Vec<Host>,
    pub processes: Vec<Process>,
    pub incidents: Vec<IncidentRule>,
    pub logs: LogSpec,
    pub noise: NoiseSpec,
    /// What checking changed on purpose (pinned incident times a command-line period
    /// left out), for the console and `summary.json`.
    pub notes: Vec<String>,
}

/// Values given on the command line that replace the file's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub duration: Option<Duration>,
    pub train: Option<Duration>,
    pub no_split: bool,
    pub jsonl: bool,
    pub no_logs: bool,
}

impl ScenarioFile {
    /// Parses TOML text; `source_name` names it in errors (a path, or "(embedded default)").
    pub fn parse(text: &str, source_name: &str) -> Result<ScenarioFile, Error> {
        toml::from_str(text).map_err(|e: toml::de::Error| Error::Syntax {
            source_name: source_name.to_string(),
            line: e.span().map(|s| line_of(text, s.start)),
            message: e.to_string().trim_end().to_string(),
        })
    }

    pub fn read(path: &Path) -> Result<ScenarioFile, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadScenario {
            path: path.to_path_buf(),
            source,
        })?;
        ScenarioFile::parse(&text, &path.display().to_string())
    }

    pub fn embedded_default() -> ScenarioFile {
        // The embedded file is checked by a test; failing here would be a build defect.
        ScenarioFile::parse(DEFAULT_SCENARIO, "(embedded default)")
            .expect("the embedded default scenario parses")
    }

    pub fn apply(&mut self, o: &Overrides) {
        if let Some(seed) = o.seed {
            self.seed = seed;
        }
        if let Some(d) = o.duration {
            self.duration = d;
        }
        if let Some(train) = o.train {
            self.split = Some(SplitSpec { train });
        }
        if o.no_split {
            self.split = None;
        }
        if o.jsonl {
            self.logs.jsonl = true;
        }
        if o.no_logs {
            self.logs.enabled = false;
        }
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

impl Scenario {
    /// Checks `file` into a scenario; `source_name` names the file in errors.
    pub fn from_file(file: ScenarioFile, source_name: &str) -> Result<Scenario, Error> {
        Scenario::checked(file, source_name, false)
    }

    /// As [`Scenario::from_file`], for a file whose period `overrides` changed: pinned
    /// incident times the new period leaves out, or puts in its training part, are
    /// dropped with a note (in [`Scenario::notes`]) rather than refused.
    pub fn from_file_with(
        file: ScenarioFile,
        source_name: &str,
        overrides: &Overrides,
    ) -> Result<Scenario, Error> {
        let period = overrides.duration.is_some() || overrides.train.is_some();
        Scenario::checked(file, source_name, period)
    }

    fn checked(
        file: ScenarioFile,
        source_name: &str,
        period_overridden: bool,
    ) -> Result<Scenario, Error> {
        let checker = check::Checker {
            source_name,
            period_overridden,
            notes: Default::default(),
        };
        let mut scenario = checker.check(file)?;
        scenario.notes = checker.notes.into_inner();
        Ok(scenario)
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let before = &text.as_bytes()[..offset.min(text.len())];
    before.iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests;
