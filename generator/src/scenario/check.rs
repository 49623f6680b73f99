//! Checking a scenario file into a [`Scenario`]: every reference resolved, every range
//! checked once, each error naming its key.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Host, IncidentRule, IncidentSpec, Process, ProcessSpec, Scenario, ScenarioFile};
use crate::Error;
use crate::kinds::Role;
use crate::schedule::{Schedule, Timeline};
use vigil_core::time::parse_timestamp;
use vigil_core::{Duration, METRICS};

/// Most rows one run may write (10 hosts × 180 days at 1 s is 155 M).
const MAX_ROWS: u64 = 200_000_000;

pub(super) struct Checker<'a> {
    pub(super) source_name: &'a str,
    /// The period was set on the command line: a pinned incident time it leaves out, or
    /// puts in the training part, is dropped with a note instead of refused.
    pub(super) period_overridden: bool,
    /// What was dropped, and why.
    pub(super) notes: std::cell::RefCell<Vec<String>>,
}

impl Checker<'_> {
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            source_name: self.source_name.to_string(),
            key: key.into(),
            message: message.into(),
        }
    }

    pub(super) fn check(&self, file: ScenarioFile) -> Result<Scenario, Error> {
        let start =
            parse_timestamp(&file.start.text()).map_err(|e| self.err("start", e.to_string()))?;
        let timeline = self.timeline(&file, start)?;
        let train_steps = match &file.split {
            None => None,
            Some(split) => {
                let steps = (split.train.secs() / timeline.interval) as usize;
                if steps == 0 || steps >= timeline.steps {
                    return Err(self.err(
                        "split.train",
                        format!(
                            "expected a training period longer than one interval and shorter than the duration {}, found {} (change [split] train, or pass --split TRAIN:TEST or --no-split)",
                            file.duration, split.train
                        ),
                    ));
                }
                Some(steps)
            }
        };
        let (hosts, groups) = self.hosts(&file)?;
        let rows = timeline.steps as u64 * hosts.len() as u64;
        if rows > MAX_ROWS {
            return Err(self.err(
                "duration",
                format!("{rows} rows ({} steps × {} hosts) is more than the {MAX_ROWS} this generator writes in one run", timeline.steps, hosts.len()),
            ));
        }
        let selector = Selector {
            hosts: &hosts,
            groups: &groups,
        };
        let processes = file
            .processes
            .iter()
            .enumerate()
            .map(|(i, p)| self.process(i, p, &selector))
            .collect::<Result<_, _>>()?;
        let incidents = file
            .incidents
            .iter()
            .enumerate()
            .map(|(i, s)| self.incident(i, s, &selector, &timeline, train_steps))
            .collect::<Result<_, _>>()?;
        self.fraction("noise.fleet_correlation", file.noise.fleet_correlation)?;
        self.non_negative("noise.level", file.noise.level)?;
        self.non_negative("logs.requests_per_minute", file.logs.requests_per_minute)?;
        Ok(Scenario {
            name: file.name.clone(),
            seed: file.seed,
            timeline,
            train_steps,
            hosts,
            processes,
            incidents,
            logs: file.logs.clone(),
            noise: file.noise.clone(),
            notes: Vec::new(),
            file,
        })
    }

    fn timeline(&self, file: &ScenarioFile, start: DateTime<Utc>) -> Result<Timeline, Error> {
        let interval = file.interval.secs();
        if interval > file.duration.secs() {
            return Err(self.err(
                "interval",
                format!(
                    "expected an interval no longer than the duration {}, found {}",
                    file.duration, file.interval
                ),
            ));
        }
        if interval > 86_400 {
            return Err(self.err(
                "interval",
                format!("expected at most one day, found {}", file.interval),
            ));
        }
        Ok(Timeline {
            start: start.timestamp(),
            interval,
            steps: (file.duration.secs() / interval) as usize,
        })
    }

    fn hosts(&self, file: &ScenarioFile) -> Result<(Vec<Host>, Groups), Error> {
        if file.hosts.is_empty() {
            return Err(self.err("hosts", "expected at least one [[hosts]] table"));
        }
        let mut hosts = Vec::new();
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, spec) in file.hosts.iter().enumerate() {
            let key = |field: &str| format!("hosts[{i}].{field}");
            if spec.name.is_empty()
                || !spec
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(self.err(
                    key("name"),
                    format!(
                        "expected letters, digits, '-', '_' or '.', found {:?}",
                        spec.name
                    ),
                ));
            }
            if spec.count == 0 {
                return Err(self.err(key("count"), "expected at least 1, found 0"));
            }
            let (mut base, growth) = spec.role.defaults();
            let overrides = [spec.cpu, spec.ram, spec.disk, spec.net_in, spec.net_out];
            for (m, value) in METRICS.iter().zip(overrides) {
                if let Some(v) = value {
                    let ok = v.is_finite() && v >= 0.0 && (!m.is_percent() || v <= 100.0);
                    if !ok {
                        let range = if m.is_percent() {
                            "in [0, 100]"
                        } else {
                            "≥ 0"
                        };
                        return Err(self.err(
                            key(m.name()),
                            format!("expected a value {range}, found {v}"),
                        ));
                    }
                    base[m.index()] = v;
                }
            }
            let disk_growth = spec.disk_growth.unwrap_or(growth);
            self.non_negative(&key("disk_growth"), disk_growth)?;
            for n in 1..=spec.count {
                let name = if spec.count == 1 {
                    spec.name.clone()
                } else {
                    format!("{}-{n}", spec.name)
                };
                if hosts.iter().any(|h: &Host| h.name == name) {
                    return Err(self.err(key("name"), format!("host {name:?} is defined twice")));
                }
                groups
                    .entry(spec.name.clone())
                    .or_default()
                    .push(hosts.len());
                hosts.push(Host {
                    name,
                    role: spec.role,
                    depends_on: Vec::new(),
                    base,
                    disk_growth,
                });
            }
        }
        for (i, spec) in file.hosts.iter().enumerate() {
            let mut deps = Vec::new();
            for (j, dep) in spec.depends_on.iter().enumerate() {
                let found = resolve_name(dep, &hosts, &groups).ok_or_else(|| {
                    self.err(
                        format!("hosts[{i}].depends_on[{j}]"),
                        format!("no host or host group is named {dep:?}"),
                    )
                })?;
                deps.extend(found);
            }
            for &h in &groups[&spec.name] {
                let own: Vec<usize> = deps.iter().copied().filter(|&d| d != h).collect();
                hosts[h].depends_on = own;
            }
        }
        Ok((hosts, groups))
    }

    fn process(&self, i: usize, spec: &ProcessSpec, sel: &Selector) -> Result<Process, Error> {
        let key = |field: &str| format!("processes[{i}].{field}");
        let hosts = sel
            .select(spec.kind.default_roles(), &spec.hosts, &spec.roles)
            .map_err(|(j, name)| {
                self.err(
                    key(&format!("hosts[{j}]")),
                    format!("no host or host group is named {name:?}"),
                )
            })?;
        self.non_negative(&key("intensity"), spec.intensity)?;
        let mut profile = spec.kind.default_profile();
        let fields = [
            ("cpu", spec.cpu, &mut profile.cpu),
            ("ram", spec.ram, &mut profile.ram),
            ("net_in", spec.net_in, &mut profile.net_in),
            ("net_out", spec.net_out, &mut profile.net_out),
            ("disk", spec.disk, &mut profile.disk),
            ("disk_keep", spec.disk_keep, &mut profile.disk_keep),
        ];
        for (name, value, slot) in fields {
            if let Some(v) = value {
                self.non_negative(&key(name), v)?;
                *slot = v;
            }
        }
        if let Some(r) = spec.disk_release {
            self.fraction(&key("disk_release"), r)?;
            profile.disk_release = r;
        }
        let schedule = spec
            .schedule
            .unwrap_or_else(|| spec.kind.default_schedule());
        self.schedule(&key("schedule"), &schedule)?;
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| spec.kind.default_name().to_string());
        if name.is_empty() || name.contains([',', ';', ' ', '"']) {
            return Err(self.err(
                key("name"),
                format!("expected a name without spaces, ',', ';' or quotes, found {name:?}"),
            ));
        }
        Ok(Process {
            kind: spec.kind,
            name,
            hosts,
            schedule,
            duration: spec
                .duration
                .unwrap_or_else(|| spec.kind.default_duration()),
            intensity: spec.intensity,
            profile,
        })
    }

    fn schedule(&self, key: &str, s: &Schedule) -> Result<(), Error> {
        match *s {
            Schedule::Monthly { day, .. } if !(1..=28).contains(&day) => Err(self.err(
                format!("{key}.day"),
                format!("expected a day of the month in 1..=28, found {day}"),
            )),
            Schedule::Random { per_day } if !(per_day.is_finite() && per_day >= 0.0) => Err(self
                .err(
                    format!("{key}.per_day"),
                    format!("expected a rate ≥ 0, found {per_day}"),
                )),
            _ => Ok(()),
        }
    }

    fn incident(
        &self,
        i: usize,
        spec: &IncidentSpec,
        sel: &Selector,
        timeline: &Timeline,
        train_steps: Option<usize>,
    ) -> Result<IncidentRule, Error> {
        let key = |field: &str| format!("incidents[{i}].{field}");
        let probability = spec.probability.unwrap_or(0.0);
        self.fraction(&key("probability"), probability)?;
        if spec.probability.is_none() && spec.at.is_empty() {
            return Err(self.err(
                key("probability"),
                "expected a probability or an explicit `at` schedule, found neither",
            ));
        }
        if !(spec.magnitude.is_finite() && spec.magnitude > 0.0) {
            return Err(self.err(
                key("magnitude"),
                format!("expected a number > 0, found {}", spec.magnitude),
            ));
        }
        let hosts = sel
            .select(spec.kind.default_roles(), &spec.hosts, &spec.roles)
            .map_err(|(j, name)| {
                self.err(
                    key(&format!("hosts[{j}]")),
                    format!("no host or host group is named {name:?}"),
                )
            })?;
        if hosts.is_empty() {
            return Err(self.err(key("roles"), "selects no host"));
        }
        let train_end = timeline.time_of(train_steps.unwrap_or(0));
        let mut at = Vec::new();
        for (j, text) in spec.at.iter().enumerate() {
            let t = parse_timestamp(text)
                .map_err(|e| self.err(key(&format!("at[{j}]")), e.to_string()))?
                .timestamp();
            let outside = t < timeline.start || t >= timeline.end();
            if self.period_overridden && (outside || t < train_end) {
                self.notes.borrow_mut().push(format!(
                    "{}: incidents[{i}].at[{j}] = {text} dropped: {} the period the command line set",
                    self.source_name,
                    if outside { "outside" } else { "in the incident-free training part of" }
                ));
                continue;
            }
            if outside {
                return Err(self.err(
                    key(&format!("at[{j}]")),
                    format!(
                        "{text} is outside the simulated period {} to {} (lengthen the duration or drop this time)",
                        vigil_core::time::rfc3339(timeline.start),
                        vigil_core::time::rfc3339(timeline.end())
                    ),
                ));
            }
            if t < train_end {
                return Err(self.err(
                    key(&format!("at[{j}]")),
                    format!("{text} falls in the training period, which is kept free of incidents"),
                ));
            }
            at.push(t);
        }
        let metrics = match &spec.metrics {
            None => spec.kind.default_metrics().to_vec(),
            Some(m) if !spec.kind.metrics_configurable() => {
                return Err(self.err(key("metrics"), format!("{} always touches {:?}; only spike, flatline and variance_burst take a metrics list (found {m:?})", spec.kind.name(), spec.kind.default_metrics())));
            }
            Some(m) if m.is_empty() => {
                return Err(self.err(key("metrics"), "expected at least one metric"));
            }
            Some(m) => {
                let mut m = m.clone();
                m.sort();
                m.dedup();
                m
            }
        };
        Ok(IncidentRule {
            kind: spec.kind,
            probability,
            at,
            hosts,
            duration: spec
                .duration
                .unwrap_or_else(|| spec.kind.default_duration()),
            magnitude: spec.magnitude,
            metrics,
            lag: spec
                .lag
                .unwrap_or(Duration::from_secs(600).unwrap_or(Duration::MINUTE)),
        })
    }

    fn fraction(&self, key: &str, v: f64) -> Result<(), Error> {
        if (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(self.err(key, format!("expected a probability in [0, 1], found {v}")))
        }
    }

    fn non_negative(&self, key: &str, v: f64) -> Result<(), Error> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(self.err(key, format!("expected a number ≥ 0, found {v}")))
        }
    }
}

/// Host indices by the name of the `[[hosts]]` table that defined them.
type Groups = HashMap<String, Vec<usize>>;

/// Resolves host selectors: names, group names and roles.
struct Selector<'a> {
    hosts: &'a [Host],
    groups: &'a HashMap<String, Vec<usize>>,
}

impl Selector<'_> {
    /// Hosts named in `names` plus hosts with a role in `roles`; with both empty, hosts with
    /// a role in `default_roles` (all hosts if that is empty too). Errors name the bad entry.
    fn select(
        &self,
        default_roles: &[Role],
        names: &[String],
        roles: &[Role],
    ) -> Result<Vec<usize>, (usize, String)> {
        let mut out = Vec::new();
        for (j, name) in names.iter().enumerate() {
            out.extend(resolve_name(name, self.hosts, self.groups).ok_or((j, name.clone()))?);
        }
        let by_role = |roles: &[Role]| {
            (0..self.hosts.len())
                .filter(|&h| roles.contains(&self.hosts[h].role))
                .collect::<Vec<_>>()
        };
        out.extend(by_role(roles));
        if names.is_empty() && roles.is_empty() {
            out = if default_roles.is_empty() {
                (0..self.hosts.len()).collect()
            } else {
                by_role(default_roles)
            };
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

fn resolve_name(
    name: &str,
    hosts: &[Host],
    groups: &HashMap<String, Vec<usize>>,
) -> Option<Vec<usize>> {
    hosts
        .iter()
        .position(|h| h.name == name)
        .map(|i| vec![i])
        .or_else(|| groups.get(name).cloned())
}
