//! One host's simulation: noise, processes, disk, incidents, step by step.

use rand_distr::{Distribution, StandardNormal};

use crate::charts::HostCharts;
use crate::incident::{Effect, Incident, combine};
use crate::kinds::{IncidentKind, ProcessKind, Profile, Shape};
use crate::logs::{HostLogger, LogLine, SessionLabel, StepContext};
use crate::process::{diurnal_load, trapezoid};
use crate::rng::{Rng, stream, tag};
use crate::scenario::Scenario;
use crate::schedule::{Run, weekday_of};
use vigil_core::{METRICS, fixed::push_fixed, time::push_rfc3339};

/// Per metric: stationary noise amplitude, correlation time (s) and white measurement noise.
/// Percent metrics in percentage points; network metrics on a log scale.
const NOISE: [(f64, f64, f64); 5] = [
    (3.0, 480.0, 0.8),
    (1.2, 2700.0, 0.25),
    (0.15, 3600.0, 0.05),
    (0.18, 300.0, 0.05),
    (0.18, 300.0, 0.05),
];

/// How much of the network noise follows the CPU's (cross-metric correlation).
const NET_CPU_SHARE: f64 = 0.8;

/// Correlation time constants, shared by the fleet-wide noise.
pub fn noise_phi(interval: i64) -> [f64; 5] {
    NOISE.map(|(_, tau, _)| (-(interval as f64) / tau).exp())
}

/// The fleet-wide unit-variance noise, one row per step: the part every host shares.
pub struct FleetNoise {
    rng: Rng,
    state: [f64; 5],
    phi: [f64; 5],
}

impl FleetNoise {
    pub fn new(scenario: &Scenario) -> FleetNoise {
        FleetNoise {
            rng: stream(scenario.seed, &[tag::FLEET_NOISE]),
            state: [0.0; 5],
            phi: noise_phi(scenario.timeline.interval),
        }
    }

    pub fn next_chunk(&mut self, steps: usize) -> Vec<[f64; 5]> {
        (0..steps)
            .map(|_| {
                for m in 0..5 {
                    let e: f64 = StandardNormal.sample(&mut self.rng);
                    self.state[m] =
                        self.phi[m] * self.state[m] + (1.0 - self.phi[m].powi(2)).sqrt() * e;
                }
                self.state
            })
            .collect()
    }
}

struct ProcessRuns {
    kind: ProcessKind,
    name: String,
    profile: Profile,
    runs: Vec<Run>,
    cursor: usize,
    /// Disk freed per step by the current run.
    release_per_step: f64,
}

/// What one chunk of a host's simulation produced.
#[derive(Default)]
pub struct ChunkOut {
    /// `metrics.csv` rows, one per step, concatenated.
    pub rows: Vec<u8>,
    /// End offset of each step's row in `rows`.
    pub row_ends: Vec<usize>,
    /// The reported values of each step.
    pub values: Vec<[f64; 5]>,
    pub logs: Vec<LogLine>,
    pub sessions: Vec<SessionLabel>,
}

/// A host being simulated.
pub struct HostSim<'a> {
    scenario: &'a Scenario,
    host: usize,
    processes: Vec<ProcessRuns>,
    /// This host's incidents, by start.
    incidents: Vec<&'a Incident>,
    incident_cursor: usize,
    /// Incidents on the hosts this one depends on, by start.
    upstream: Vec<&'a Incident>,
    upstream_cursor: usize,
    rng: Rng,
    phi: [f64; 5],
    ou: [f64; 5],
    disk: f64,
    last: [f64; 5],
    frozen: [f64; 5],
    logger: Option<HostLogger>,
    pub charts: Option<HostCharts>,
    write_rows: bool,
}

impl<'a> HostSim<'a> {
    pub fn new(
        scenario: &'a Scenario,
        host: usize,
        plan: &'a [Incident],
        logs: bool,
        write_rows: bool,
    ) -> HostSim<'a> {
        let tl = &scenario.timeline;
        let processes: Vec<ProcessRuns> = scenario
            .processes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.hosts.contains(&host))
            .map(|(i, p)| {
                let mut rng = stream(scenario.seed, &[tag::PROCESS, i as u64, host as u64]);
                ProcessRuns {
                    kind: p.kind,
                    name: p.name.clone(),
                    profile: p.profile,
                    runs: p.schedule.expand(tl, p.duration, p.intensity, &mut rng),
                    cursor: 0,
                    release_per_step: 0.0,
                }
            })
            .collect();
        let h = &scenario.hosts[host];
        let logger = logs.then(|| {
            HostLogger::new(
                scenario,
                host,
                processes.len(),
                stream(scenario.seed, &[tag::LOGS, host as u64]),
            )
        });
        HostSim {
            scenario,
            host,
            incidents: plan.iter().filter(|i| i.host == host).collect(),
            incident_cursor: 0,
            upstream_cursor: 0,
            upstream: plan
                .iter()
                .filter(|i| h.depends_on.contains(&i.host))
                .collect(),
            processes,
            rng: stream(scenario.seed, &[tag::HOST_NOISE, host as u64]),
            phi: noise_phi(tl.interval),
            ou: [0.0; 5],
            disk: h.base[2],
            last: h.base,
            frozen: h.base,
            logger,
            charts: None,
            write_rows,
        }
    }

    /// The sessions still open (jobs running) after the last simulated step.
    pub fn open_sessions(&self) -> Vec<String> {
        self.logger
            .as_ref()
            .map(|l| l.open_sessions())
            .unwrap_or_default()
    }

    /// Simulates steps `first..first + fleet.len()`.
    pub fn run_chunk(&mut self, first: usize, fleet: &[[f64; 5]]) -> ChunkOut {
        let mut out = ChunkOut {
            values: Vec::with_capacity(fleet.len()),
            ..ChunkOut::default()
        };
        if self.write_rows {
            out.rows.reserve(fleet.len() * 96);
            out.row_ends.reserve(fleet.len());
        }
        for (k, f) in fleet.iter().enumerate() {
            self.step(first + k, f, &mut out);
        }
        if let Some(logger) = self.logger.as_mut() {
            (out.logs, out.sessions) = logger.drain();
        }
        out
    }

    fn step(&mut self, step: usize, fleet: &[f64; 5], out: &mut ChunkOut) {
        let sc = self.scenario;
        let tl = &sc.timeline;
        let time = tl.time_of(step);
        let sod = time.rem_euclid(86_400) as u32;
        let load = diurnal_load(sod, weekday_of(time));
        let host = &sc.hosts[self.host];

        // Noise: a unit-variance Ornstein-Uhlenbeck process per metric, part of it shared
        // by the fleet; the network follows the CPU; plus white measurement noise.
        let rho = sc.noise.fleet_correlation;
        let own = (1.0 - rho * rho).sqrt();
        let mut shared = [0.0; 5];
        for m in 0..5 {
            let e: f64 = StandardNormal.sample(&mut self.rng);
            self.ou[m] = self.phi[m] * self.ou[m] + (1.0 - self.phi[m].powi(2)).sqrt() * e;
            shared[m] = own * self.ou[m] + rho * fleet[m];
        }
        let mut noise = [0.0; 5];
        for m in 0..5 {
            let white: f64 = StandardNormal.sample(&mut self.rng);
            let (sigma, _, w) = NOISE[m];
            let correlated = if m >= 3 {
                (1.0 - NET_CPU_SHARE.powi(2)).sqrt() * shared[m] + NET_CPU_SHARE * shared[0]
            } else {
                shared[m]
            };
            noise[m] = sc.noise.level * (sigma * correlated + w * white);
        }

        // Processes.
        let scale: f64 = self
            .processes
            .iter()
            .filter(|p| p.profile.load_scale != 1.0 && active_run(p, step).is_some())
            .map(|p| p.profile.load_scale)
            .product();
        let mut clean = host.base;
        let mut transient_disk = 0.0;
        let mut active = Vec::new();
        let mut burst = false;
        for (i, p) in self.processes.iter_mut().enumerate() {
            while p.cursor < p.runs.len() && p.runs[p.cursor].end <= step {
                p.cursor += 1;
            }
            let Some(run) = p.runs.get(p.cursor).copied().filter(|r| r.start <= step) else {
                continue;
            };
            active.push(i);
            let len = (run.end - run.start) as f64;
            let u = (step - run.start) as f64 / len;
            let f = run.intensity
                * match p.profile.shape {
                    Shape::Trapezoid => trapezoid(u + 0.5 / len),
                    Shape::Diurnal => load * scale,
                    Shape::Flat => 1.0,
                };
            let prof = &p.profile;
            clean[0] += prof.cpu * f;
            clean[1] += prof.ram * f;
            clean[3] += prof.net_in * f;
            clean[4] += prof.net_out * f;
            transient_disk += prof.disk * run.intensity * (u + 1.0 / len).min(1.0);
            if step == run.start {
                p.release_per_step = prof.disk_release * (self.disk - host.base[2]).max(0.0) / len;
            }
            self.disk += prof.disk_keep * run.intensity / len - p.release_per_step;
            burst |= p.kind == ProcessKind::TrafficBurst;
        }
        self.disk = (self.disk + host.disk_growth * tl.interval as f64 / 86_400.0).clamp(0.0, 97.0);
        clean[2] = self.disk + transient_disk;

        let mut v = [0.0; 5];
        for (m, metric) in METRICS.iter().enumerate() {
            v[m] = combine(*metric, clean[m], noise[m]);
        }

        // The incident overlay.
        let incident = self.current_incident(step);
        if let Some((inc, k)) = incident {
            if k == 0 {
                self.frozen = self.last;
            }
            inc.apply(k, &clean, &noise, &self.frozen, &mut v);
            match inc.effect {
                Effect::Restart { down_steps, .. } if k < down_steps => active.clear(),
                Effect::ProcessFailure { .. } => active.retain(|&i| {
                    !self.processes[i].kind.is_service()
                        || self.processes[i].kind == ProcessKind::Monitoring
                }),
                _ => {}
            }
        }
        for (m, metric) in METRICS.iter().enumerate() {
            v[m] = if metric.is_percent() {
                v[m].clamp(0.0, 100.0)
            } else {
                v[m].max(0.0)
            };
        }
        self.last = v;
        out.values.push(v);
        if let Some(c) = self.charts.as_mut() {
            c.add(time, &v);
        }

        if self.write_rows {
            let r = &mut out.rows;
            push_rfc3339(r, time);
            r.push(b',');
            r.extend_from_slice(host.name.as_bytes());
            for x in v {
                r.push(b',');
                push_fixed(r, x, 2);
            }
            r.push(b',');
            for (j, &i) in active.iter().enumerate() {
                if j > 0 {
                    r.push(b';');
                }
                r.extend_from_slice(self.processes[i].name.as_bytes());
            }
            r.push(b'\n');
            out.row_ends.push(r.len());
        }

        if self.logger.is_some() {
            let upstream = active_at(&self.upstream, &mut self.upstream_cursor, step)
                .filter(|i| i.kind != IncidentKind::CascadingFailure);
            let jobs: Vec<(usize, ProcessKind, &str, usize, usize)> = active
                .iter()
                .map(|&i| {
                    let p = &self.processes[i];
                    let run = p.runs[p.cursor];
                    (i, p.kind, p.name.as_str(), run.start, run.end)
                })
                .collect();
            let has = |k: ProcessKind| jobs.iter().any(|j| j.1 == k);
            let cx = StepContext {
                step,
                steps: tl.steps,
                time,
                interval: tl.interval,
                load: load * scale,
                incident,
                upstream,
                serves_web: has(ProcessKind::WebServer),
                runs_monitoring: has(ProcessKind::Monitoring),
                runs_cache: has(ProcessKind::CacheServer),
                burst,
                jobs: &jobs,
            };
            if let Some(logger) = self.logger.as_mut() {
                logger.step(&cx);
            }
        }
    }

    fn current_incident(&mut self, step: usize) -> Option<(&'a Incident, usize)> {
        active_at(&self.incidents, &mut self.incident_cursor, step).map(|i| (i, step - i.start))
    }
}

/// The first incident of `sorted` (by start) active at `step`; `cursor` skips those that
/// ended before it, so a whole run costs linear time.
fn active_at<'a>(sorted: &[&'a Incident], cursor: &mut usize, step: usize) -> Option<&'a Incident> {
    while sorted.get(*cursor).is_some_and(|i| i.end <= step) {
        *cursor += 1;
    }
    sorted[*cursor..]
        .iter()
        .copied()
        .take_while(|i| i.start <= step)
        .find(|i| step < i.end)
}

fn active_run(p: &ProcessRuns, step: usize) -> Option<&Run> {
    p.runs[p.cursor.min(p.runs.len())..]
        .iter()
        .take_while(|r| r.start <= step)
        .find(|r| step < r.end)
}
