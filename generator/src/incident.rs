//! Incidents: their planning over the test period, and what they do to metrics (the kinds
//! themselves are in [`crate::kinds`]).
//!
//! Every incident is planned before the simulation starts, with all its random parameters,
//! and acts as an overlay on the values the host would have had. So an incident changes
//! nothing outside its labelled interval, and switching it off leaves the rest untouched.

use std::collections::VecDeque;

use chrono::DateTime;
use rand::RngExt;

pub use crate::kinds::{INCIDENT_KINDS, IncidentKind, LOG_INCIDENT_KINDS};
use crate::rng::{Rng, stream, tag};
use crate::scenario::{IncidentRule, Scenario};
use vigil_core::{Label, Metric};

use Metric::{Cpu, Disk, NetIn, NetOut, Ram};

/// The metrics a host hit by a cascade from upstream shows it on.
pub const CASCADE_DEPENDENT_METRICS: [Metric; 3] = [Cpu, NetIn, NetOut];

/// What an incident does, with its random parameters drawn at planning time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect {
    /// Percent metrics move to `level`, network metrics multiply by `factor`, disk adds `disk`.
    Spike {
        level: f64,
        factor: f64,
        disk: f64,
    },
    Restart {
        down_steps: usize,
        warm_cpu: f64,
    },
    ProcessFailure {
        crash_every: usize,
        crash_cpu: f64,
    },
    MemoryLeak {
        total: f64,
    },
    DiskFill {
        target: f64,
    },
    NetworkPartition {
        residual: f64,
    },
    StuckProcess {
        plateau: f64,
    },
    Flatline,
    VarianceBurst {
        factor: f64,
    },
    CascadeRoot {
        level: f64,
    },
    /// `from`: the upstream host whose failure reached this one.
    CascadeDependent {
        retry_cpu: f64,
        from: usize,
    },
    /// A log-only incident: this share of the host's requests is bent; metrics untouched.
    Sessions {
        share: f64,
    },
}

/// One planned incident on one host, over steps `[start, end)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: u32,
    pub host: usize,
    pub start: usize,
    pub end: usize,
    pub kind: IncidentKind,
    pub metrics: Vec<Metric>,
    pub effect: Effect,
    /// The incident that set this one off.
    pub cause: Option<u32>,
    pub detail: String,
}

impl Incident {
    pub fn touches(&self, m: Metric) -> bool {
        self.metrics.contains(&m)
    }

    pub fn label(&self, scenario: &Scenario) -> Label {
        let t =
            |step| DateTime::from_timestamp(scenario.timeline.time_of(step), 0).unwrap_or_default();
        Label {
            id: self.id,
            host: scenario.hosts[self.host].name.clone(),
            start: t(self.start),
            end: t(self.end),
            kind: self.kind.name().to_string(),
            metrics: self.metrics.clone(),
            cause: self.cause,
            detail: self.detail.clone(),
        }
    }

    /// Overlays the incident on one step's values.
    ///
    /// `k` is the step's offset into the incident; `clean` and `noise` are the host's
    /// signal and noise for this step (see [`combine`]); `frozen` the values reported the
    /// step before the incident began.
    pub fn apply(
        &self,
        k: usize,
        clean: &[f64; 5],
        noise: &[f64; 5],
        frozen: &[f64; 5],
        v: &mut [f64; 5],
    ) {
        let len = (self.end - self.start).max(1);
        let u = (k + 1) as f64 / len as f64;
        // Quick rise over the first steps, quick fall over the last.
        let edge = ((k + 1) as f64 / 2.0).min((len - k) as f64 / 2.0).min(1.0);
        let (cpu, ram, disk, net_in, net_out) = (0, 1, 2, 3, 4);
        match self.effect {
            Effect::Spike {
                level,
                factor,
                disk: add,
            } => {
                for &m in &self.metrics {
                    let i = m.index();
                    let target = match m {
                        Cpu | Ram => level.max(v[i]),
                        Disk => v[i] + add,
                        NetIn | NetOut => v[i] * factor,
                    };
                    v[i] += (target - v[i]) * edge;
                }
            }
            Effect::Restart {
                down_steps,
                warm_cpu,
            } => {
                if k < down_steps {
                    v[cpu] = 0.3 + 0.05 * noise[cpu].abs();
                    v[ram] = 3.0;
                    v[net_in] *= 0.01;
                    v[net_out] *= 0.01;
                } else {
                    let w = (k - down_steps + 1) as f64 / (len - down_steps).max(1) as f64;
                    v[cpu] += warm_cpu * (1.0 - w).powi(2);
                    let fill = (1.0 - (-4.0 * w).exp()) / (1.0 - (-4.0f64).exp());
                    v[ram] = 12.0 + (v[ram] - 12.0) * fill;
                    let traffic = 1.0 - (-5.0 * w).exp();
                    v[net_in] *= traffic;
                    v[net_out] *= traffic;
                }
            }
            Effect::ProcessFailure {
                crash_every,
                crash_cpu,
            } => {
                let restarting = k.is_multiple_of(crash_every.max(1));
                v[cpu] = v[cpu] * 0.35 + if restarting { crash_cpu } else { 0.0 };
                v[ram] -= 0.3 * (v[ram] - 10.0).max(0.0);
                v[net_in] *= 0.15;
                v[net_out] *= 0.1;
            }
            Effect::MemoryLeak { total } => v[ram] += total * u.powf(1.3),
            Effect::DiskFill { target } => {
                v[disk] += (target - v[disk]).max(0.0) * u.powf(0.8);
            }
            Effect::NetworkPartition { residual } => {
                v[net_in] *= residual;
                v[net_out] *= residual;
            }
            Effect::StuckProcess { plateau } => {
                v[cpu] = plateau + 0.15 * noise[cpu];
                v[net_out] *= 0.35;
            }
            Effect::Flatline => {
                for &m in &self.metrics {
                    v[m.index()] = frozen[m.index()];
                }
            }
            Effect::VarianceBurst { factor } => {
                for &m in &self.metrics {
                    let i = m.index();
                    let scaled = noise[i] * factor;
                    v[i] = combine(m, clean[i], scaled);
                }
            }
            Effect::CascadeRoot { level } => {
                v[cpu] += (level.max(v[cpu]) - v[cpu]) * edge;
                v[ram] += 10.0 * edge;
                v[net_out] *= 1.0 - 0.7 * edge;
            }
            Effect::CascadeDependent { retry_cpu, .. } => {
                v[cpu] += retry_cpu * edge;
                v[net_in] *= 1.0 - 0.6 * edge;
                v[net_out] *= 1.0 - 0.7 * edge;
            }
            Effect::Sessions { .. } => {}
        }
    }
}

/// A reported value from its clean signal and its noise: additive for percentages,
/// multiplicative (log-normal) for network rates, which never go negative.
pub fn combine(m: Metric, clean: f64, noise: f64) -> f64 {
    if m.is_percent() {
        clean + noise
    } else {
        clean * noise.exp()
    }
}

/// Gap kept between two incidents on one host, so each label stands alone.
const GUARD_SECS: i64 = 30 * 60;

/// Plans every incident of `scenario`: explicit ones first, then random ones that do not
/// overlap anything already planned on the hosts they touch. Sorted by start, ids from 0.
pub fn plan(scenario: &Scenario) -> Vec<Incident> {
    let tl = &scenario.timeline;
    let first = scenario.train_steps.unwrap_or(0);
    let guard = (GUARD_SECS / tl.interval).max(1) as usize;
    let mut planner = Planner {
        scenario,
        taken: vec![Vec::new(); scenario.hosts.len()],
        incidents: Vec::new(),
        guard,
    };
    for (r, rule) in scenario.incidents.iter().enumerate() {
        let mut rng = stream(scenario.seed, &[tag::INCIDENTS, r as u64]);
        for &t in &rule.at {
            let start = tl.step_at_or_after(t).max(0) as usize;
            for &host in &rule.hosts {
                let draw = Draw::new(&mut rng);
                planner.place(rule, host, start, &draw, true);
            }
        }
        if rule.probability > 0.0 {
            let day_steps = (86_400 / tl.interval).max(1) as usize;
            let mut day_start = first;
            while day_start < tl.steps {
                for &host in &rule.hosts {
                    let hit: f64 = rng.random();
                    let offset: f64 = rng.random();
                    let draw = Draw::new(&mut rng);
                    if hit < rule.probability {
                        let start = day_start + (offset * day_steps as f64) as usize;
                        if start < tl.steps {
                            planner.place(rule, host, start, &draw, false);
                        }
                    }
                }
                day_start += day_steps;
            }
        }
    }
    let mut incidents = planner.incidents;
    incidents.sort_by_key(|i| (i.start, i.host, i.id));
    let renumber: std::collections::HashMap<u32, u32> = incidents
        .iter()
        .enumerate()
        .map(|(new, i)| (i.id, new as u32))
        .collect();
    for inc in &mut incidents {
        inc.id = renumber[&inc.id];
        inc.cause = inc.cause.map(|c| renumber[&c]);
    }
    incidents
}

/// The random numbers of one candidate incident, drawn whether or not it is placed.
struct Draw {
    length: f64,
    a: f64,
    b: f64,
    c: f64,
}

impl Draw {
    fn new(rng: &mut Rng) -> Draw {
        Draw {
            length: rng.random_range(0.7..1.3),
            a: rng.random(),
            b: rng.random(),
            c: rng.random(),
        }
    }
}

struct Planner<'a> {
    scenario: &'a Scenario,
    /// Steps already taken per host (incident plus guard).
    taken: Vec<Vec<(usize, usize)>>,
    incidents: Vec<Incident>,
    guard: usize,
}

impl Planner<'_> {
    fn free(&self, host: usize, start: usize, end: usize) -> bool {
        let (s, e) = (start.saturating_sub(self.guard), end + self.guard);
        self.taken[host].iter().all(|&(a, b)| e <= a || b <= s)
    }

    fn place(&mut self, rule: &IncidentRule, host: usize, start: usize, d: &Draw, forced: bool) {
        let tl = &self.scenario.timeline;
        let steps =
            ((rule.duration.secs() as f64 * d.length) / tl.interval as f64).round() as usize;
        let end = (start + steps.max(2)).min(tl.steps);
        if end <= start + 1 || (!forced && !self.free(host, start, end)) {
            return;
        }
        let m = rule.magnitude;
        let role = self.scenario.hosts[host].role;
        let service = role.main_service();
        let len = end - start;
        // A log-only incident bends this share of the host's requests.
        let bent = |detail: String| {
            let share = ((0.3 + 0.4 * d.a) * m).min(1.0);
            (Effect::Sessions { share }, detail)
        };
        let (effect, detail) = match rule.kind {
            IncidentKind::Spike => (
                Effect::Spike {
                    level: 100.0 - (3.0 + 12.0 * d.a) / m,
                    factor: 1.0 + (2.0 + 2.5 * d.b) * m,
                    disk: (5.0 + 5.0 * d.c) * m,
                },
                "unexpected load spike".to_string(),
            ),
            IncidentKind::Restart => (
                Effect::Restart {
                    down_steps: ((len as f64 * (0.1 + 0.1 * d.a)).round() as usize).max(1),
                    warm_cpu: (25.0 + 20.0 * d.b) * m,
                },
                "unplanned reboot after a kernel panic".to_string(),
            ),
            IncidentKind::ProcessFailure => (
                Effect::ProcessFailure {
                    crash_every: ((300 / tl.interval) as usize).max(2),
                    crash_cpu: (15.0 + 15.0 * d.a) * m,
                },
                format!("{service} crashed and is crash-looping"),
            ),
            IncidentKind::MemoryLeak => (
                Effect::MemoryLeak {
                    total: (25.0 + 20.0 * d.a) * m,
                },
                format!("memory leak in {service}"),
            ),
            IncidentKind::DiskFill => (
                Effect::DiskFill {
                    target: (96.0 + 3.5 * d.a).min(100.0),
                },
                "runaway log file filling /var".to_string(),
            ),
            IncidentKind::NetworkPartition => (
                Effect::NetworkPartition {
                    residual: (0.02 + 0.04 * d.a) / m,
                },
                "network partition: host unreachable".to_string(),
            ),
            IncidentKind::StuckProcess => (
                Effect::StuckProcess {
                    plateau: (55.0 + 25.0 * d.a * m).min(99.0),
                },
                format!("{service} worker hung in a busy loop"),
            ),
            IncidentKind::Flatline => (Effect::Flatline, "metrics agent froze".to_string()),
            IncidentKind::VarianceBurst => (
                Effect::VarianceBurst {
                    factor: 1.0 + (3.0 + 3.0 * d.a) * m,
                },
                "unstable readings".to_string(),
            ),
            IncidentKind::CascadingFailure => (
                Effect::CascadeRoot {
                    level: 100.0 - (1.0 + 7.0 * d.a) / m,
                },
                format!("{service} overloaded (cascade root)"),
            ),
            IncidentKind::SkippedStep => bent(format!("{service} release skips the auth step")),
            IncidentKind::ReorderedSteps => {
                bent(format!("{service} release runs two steps out of order"))
            }
            IncidentKind::RepeatedStep => {
                bent(format!("{service} retries database calls in a silent loop"))
            }
            IncidentKind::CutSession => bent(format!("{service} drops requests mid-flight")),
            IncidentKind::StalledSession => bent(format!("{service} requests stall on a lock")),
            IncidentKind::UnusualPath => bent("stale-cache revalidation storm".to_string()),
        };
        let id = self.incidents.len() as u32;
        self.push(Incident {
            id,
            host,
            start,
            end,
            kind: rule.kind,
            metrics: rule.metrics.clone(),
            effect,
            cause: None,
            detail,
        });
        if rule.kind == IncidentKind::CascadingFailure {
            self.cascade(rule, id, host, start, end, d);
        }
    }

    fn push(&mut self, inc: Incident) {
        self.taken[inc.host].push((inc.start, inc.end));
        self.incidents.push(inc);
    }

    /// Spreads a cascade breadth-first to the hosts that depend on `root`.
    fn cascade(
        &mut self,
        rule: &IncidentRule,
        root_id: u32,
        root: usize,
        start: usize,
        end: usize,
        d: &Draw,
    ) {
        let tl = &self.scenario.timeline;
        let lag = ((rule.lag.secs() / tl.interval) as usize).max(1);
        let hosts = &self.scenario.hosts;
        let mut seen = vec![false; hosts.len()];
        seen[root] = true;
        let mut queue = VecDeque::from([(root, root_id, 1usize)]);
        while let Some((upstream, cause, depth)) = queue.pop_front() {
            for h in 0..hosts.len() {
                if seen[h] || !hosts[h].depends_on.contains(&upstream) {
                    continue;
                }
                seen[h] = true;
                let s = start + lag * depth;
                let e = (end + lag * depth).min(tl.steps);
                if s + 1 >= e || !self.free(h, s, e) {
                    continue;
                }
                let id = self.incidents.len() as u32;
                self.push(Incident {
                    id,
                    host: h,
                    start: s,
                    end: e,
                    kind: IncidentKind::CascadingFailure,
                    metrics: CASCADE_DEPENDENT_METRICS.to_vec(),
                    effect: Effect::CascadeDependent {
                        retry_cpu: (20.0 + 15.0 * d.b) * rule.magnitude,
                        from: upstream,
                    },
                    cause: Some(cause),
                    detail: format!("upstream {} failing: retry storm", hosts[upstream].name),
                });
                queue.push_back((h, id, depth + 1));
            }
        }
    }
}
