//! Log lines: what each process and incident writes, with request and job ids so sessions
//! can be rebuilt.
//!
//! A host's lines come from its own random stream. Request sessions (`req-…`) and job
//! sessions (`job-…`) follow fixed normal flows; incidents on the host or on a host it
//! depends on bend those flows (timeouts, retries, aborted jobs), and every bent session is
//! recorded so it can be labelled.

mod jobs;
mod requests;

use rand::RngExt;

use crate::incident::{Effect, Incident};
use crate::kinds::{IncidentKind, ProcessKind, Role};
use crate::rng::Rng;
use crate::scenario::Scenario;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }
}

/// One log line, before formatting.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub ts_ms: i64,
    pub host: usize,
    /// Order among lines of the same host and millisecond.
    pub seq: u32,
    pub level: Level,
    pub component: &'static str,
    pub session: Option<String>,
    pub message: String,
}

/// A session an incident bent, for `session_labels.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLabel {
    pub session: String,
    pub host: usize,
    pub incident: u32,
    pub kind: IncidentKind,
}

/// What a host's logger needs to know about one step.
pub struct StepContext<'a> {
    pub step: usize,
    /// Steps simulated in all: a job still running at the end logs no end.
    pub steps: usize,
    pub time: i64,
    pub interval: i64,
    /// The fleet's traffic curve now.
    pub load: f64,
    /// The incident on this host now, with the step's offset into it.
    pub incident: Option<(&'a Incident, usize)>,
    /// An incident on a host this one depends on.
    pub upstream: Option<&'a Incident>,
    /// Running jobs that start, end or run this step: (process index, kind, name, run start, run end).
    pub jobs: &'a [(usize, ProcessKind, &'a str, usize, usize)],
    pub serves_web: bool,
    pub runs_monitoring: bool,
    pub runs_cache: bool,
    pub burst: bool,
}

struct JobState {
    id: String,
    run_start: usize,
    aborted: bool,
}

/// Writes one host's lines, step by step.
pub struct HostLogger {
    host: usize,
    role: Role,
    /// Every host's name and role, to name the peers an incident involves.
    names: Vec<String>,
    roles: Vec<Role>,
    /// The hosts this one calls (a load balancer's backends).
    backends: Vec<String>,
    rng: Rng,
    requests_per_minute: f64,
    jobs: Vec<Option<JobState>>,
    lines: Vec<LogLine>,
    sessions: Vec<SessionLabel>,
    /// The session ids this host has handed out.
    used_ids: std::collections::HashSet<u32>,
}

const TABLES: [&str; 4] = ["orders", "products", "users", "carts"];

impl HostLogger {
    pub fn new(scenario: &Scenario, host: usize, processes: usize, rng: Rng) -> HostLogger {
        let h = &scenario.hosts[host];
        HostLogger {
            host,
            role: h.role,
            names: scenario.hosts.iter().map(|h| h.name.clone()).collect(),
            roles: scenario.hosts.iter().map(|h| h.role).collect(),
            backends: h
                .depends_on
                .iter()
                .map(|&d| scenario.hosts[d].name.clone())
                .collect(),
            rng,
            requests_per_minute: scenario.logs.requests_per_minute,
            jobs: (0..processes).map(|_| None).collect(),
            lines: Vec::new(),
            sessions: Vec::new(),
            used_ids: Default::default(),
        }
    }

    /// Takes the lines and bent sessions written so far.
    pub fn drain(&mut self) -> (Vec<LogLine>, Vec<SessionLabel>) {
        (
            std::mem::take(&mut self.lines),
            std::mem::take(&mut self.sessions),
        )
    }

    /// The jobs still running (started, neither finished nor aborted).
    pub fn open_sessions(&self) -> Vec<String> {
        self.jobs
            .iter()
            .flatten()
            .filter(|j| !j.aborted)
            .map(|j| j.id.clone())
            .collect()
    }

    /// A random session id no other session of the run has: ids are `host` modulo the
    /// number of hosts, and redrawn if this host used one already (32 random bits alone
    /// collide about once in 100,000 sessions, merging two sessions into one).
    fn hex_id(&mut self, prefix: &str) -> String {
        let hosts = self.names.len().max(1) as u32;
        loop {
            let r: u32 = self.rng.random();
            let v = u64::from(r / hosts) * u64::from(hosts) + self.host as u64;
            if let Ok(v) = u32::try_from(v)
                && self.used_ids.insert(v)
            {
                return format!("{prefix}-{v:08x}");
            }
        }
    }

    fn emit(
        &mut self,
        ts_ms: i64,
        level: Level,
        component: &'static str,
        session: Option<&str>,
        message: String,
    ) {
        let seq = self.lines.len() as u32;
        self.lines.push(LogLine {
            ts_ms,
            host: self.host,
            seq,
            level,
            component,
            session: session.map(str::to_string),
            message,
        });
    }

    fn service_started(&mut self, t: i64, service: &str) {
        let message = format!("{service}.service: started successfully");
        self.emit(t, Level::Info, "systemd", None, message);
    }

    fn bent(&mut self, session: &str, inc: &Incident) {
        self.sessions.push(SessionLabel {
            session: session.to_string(),
            host: self.host,
            incident: inc.id,
            kind: inc.kind,
        });
    }

    /// Writes this step's lines.
    pub fn step(&mut self, cx: &StepContext) {
        let t0 = cx.time * 1000;
        let span = cx.interval * 1000;
        let own = cx.incident;
        let down = matches!(own, Some((i, k)) if matches!(i.effect, Effect::Restart { down_steps, .. } if k < down_steps));

        if let Some((inc, k)) = own {
            self.incident_lines(cx, inc, k, t0, span);
        }
        if down {
            return;
        }
        if cx.runs_monitoring && cx.step.is_multiple_of((300 / cx.interval).max(1) as usize) {
            let t = t0 + self.rng.random_range(0..span.min(1000));
            match own {
                Some((inc, _)) if inc.kind == IncidentKind::Flatline => self.emit(
                    t,
                    Level::Warn,
                    "node_exporter",
                    None,
                    "collector stalled, serving cached values".into(),
                ),
                Some((inc, _)) if inc.kind == IncidentKind::NetworkPartition => self.emit(
                    t,
                    Level::Error,
                    "node_exporter",
                    None,
                    "push to monitoring failed: network is unreachable".into(),
                ),
                _ => {
                    let n = self.rng.random_range(8..14);
                    let ms = self.rng.random_range(8..40);
                    self.emit(
                        t,
                        Level::Info,
                        "node_exporter",
                        None,
                        format!("scrape ok collectors={n} duration={ms}ms"),
                    );
                }
            }
        }
        if cx.runs_cache && cx.step.is_multiple_of((600 / cx.interval).max(1) as usize) {
            let keys = self.rng.random_range(180_000..220_000);
            let hit = self.rng.random_range(88..97);
            self.emit(
                t0 + 500.min(span - 1),
                Level::Info,
                "redis",
                None,
                format!("keyspace keys={keys} hit_rate={hit}%"),
            );
        }
        self.job_lines(cx, t0, span);
        if cx.serves_web {
            self.requests(cx, t0, span);
        }
    }

    fn incident_lines(&mut self, cx: &StepContext, inc: &Incident, k: usize, t0: i64, span: i64) {
        let len = inc.end - inc.start;
        let last = k + 1 == len;
        let service = self.role.main_service();
        let every = |secs: i64| k.is_multiple_of((secs / cx.interval).max(1) as usize);
        let t = t0 + self.rng.random_range(0..span.min(2000));
        use IncidentKind as K;
        match inc.kind {
            K::Restart => match inc.effect {
                Effect::Restart { .. } if k == 0 => {
                    self.emit(
                        t,
                        Level::Fatal,
                        "kernel",
                        None,
                        "kernel panic - not syncing: fatal exception in interrupt".into(),
                    );
                }
                Effect::Restart { down_steps, .. } if k == down_steps => {
                    self.emit(
                        t,
                        Level::Info,
                        "systemd",
                        None,
                        "system booted, startup finished".into(),
                    );
                    self.emit(
                        t + 1,
                        Level::Info,
                        "systemd",
                        None,
                        format!("started {service}.service"),
                    );
                }
                _ => {}
            },
            K::ProcessFailure => {
                if k == 0 {
                    self.emit(
                        t,
                        Level::Fatal,
                        service_component(self.role),
                        None,
                        "worker process exited on signal 9".into(),
                    );
                } else if every(300) {
                    self.emit(
                        t,
                        Level::Error,
                        "systemd",
                        None,
                        format!("{service}.service: main process exited, restarting"),
                    );
                }
                if last {
                    self.service_started(t + 1, service);
                }
            }
            K::MemoryLeak => {
                let u = (k + 1) as f64 / len as f64;
                if u > 0.5 && every(900) {
                    let pct = (80.0 + 18.0 * u).round();
                    self.emit(
                        t,
                        Level::Warn,
                        service_component(self.role),
                        None,
                        format!("heap usage {pct}% of limit"),
                    );
                }
                if last {
                    self.emit(
                        t,
                        Level::Error,
                        "kernel",
                        None,
                        format!("out of memory: killed process {service}"),
                    );
                    self.service_started(t + 1, service);
                }
            }
            K::DiskFill => {
                if every(600) {
                    let u = (k + 1) as f64 / len as f64;
                    let pct = (90.0 + 9.0 * u).round();
                    self.emit(
                        t,
                        Level::Warn,
                        "kernel",
                        None,
                        format!("filesystem /var is {pct}% full"),
                    );
                }
                if last {
                    self.emit(
                        t,
                        Level::Info,
                        "logrotate",
                        None,
                        "truncated runaway log /var/log/app/debug.log".into(),
                    );
                }
            }
            K::NetworkPartition if k == 0 => {
                self.emit(t, Level::Error, "kernel", None, "eth0: link is down".into());
            }
            K::NetworkPartition if last => {
                self.emit(t, Level::Info, "kernel", None, "eth0: link is up".into());
            }
            K::StuckProcess if every(600) => {
                self.emit(
                    t,
                    Level::Warn,
                    service_component(self.role),
                    None,
                    "watchdog: worker not responding".into(),
                );
            }
            K::Flatline if k == 0 => {
                self.emit(
                    t,
                    Level::Warn,
                    "node_exporter",
                    None,
                    "collector goroutine blocked on /proc read".into(),
                );
            }
            K::VarianceBurst if every(900) => {
                self.emit(
                    t,
                    Level::Warn,
                    "kernel",
                    None,
                    "clocksource tsc unstable, switching to hpet".into(),
                );
            }
            K::Spike if k == 0 => {
                self.emit(
                    t,
                    Level::Warn,
                    "kernel",
                    None,
                    "cpu load average above threshold".into(),
                );
            }
            K::CascadingFailure => match inc.effect {
                Effect::CascadeRoot { .. } if every(300) => {
                    self.emit(
                        t,
                        Level::Error,
                        service_component(self.role),
                        None,
                        "too many connections: request queue saturated".into(),
                    );
                }
                Effect::CascadeDependent { from, .. } if every(600) => {
                    let up = &self.names[from];
                    let message = match self.role {
                        Role::Db => format!("replication lag growing, primary {up} not responding"),
                        Role::Batch => format!("waiting for {up}: connection pool exhausted"),
                        _ => format!("circuit breaker half-open for {up}"),
                    };
                    self.emit(t, Level::Warn, service_component(self.role), None, message);
                }
                _ => {}
            },
            _ => {}
        }
    }
}

fn service_component(role: Role) -> &'static str {
    role.main_service()
}
