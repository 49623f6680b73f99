//! Log lines: what each process and incident writes, with request and job ids so sessions
//! can be rebuilt.
//!
//! A host's lines come from its own random stream. Request sessions (`req-…`) and job
//! sessions (`job-…`) follow fixed normal flows; incidents on the host or on a host it
//! depends on bend those flows (timeouts, retries, aborted jobs), and every bent session is
//! recorded so it can be labelled.

use std::fmt::Write as _;

use rand::RngExt;
use rand_distr::{Distribution, Poisson};

use crate::incident::{Effect, Incident, IncidentKind};
use crate::process::ProcessKind;
use crate::rng::Rng;
use crate::scenario::{Role, Scenario};

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
}

const METHODS_PATHS: [(&str, &str); 6] = [
    ("GET", "/api/orders"),
    ("GET", "/api/products"),
    ("GET", "/api/users/profile"),
    ("GET", "/static/app.js"),
    ("POST", "/api/orders"),
    ("POST", "/api/cart"),
];
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
        }
    }

    /// Takes the lines and bent sessions written so far.
    pub fn drain(&mut self) -> (Vec<LogLine>, Vec<SessionLabel>) {
        (
            std::mem::take(&mut self.lines),
            std::mem::take(&mut self.sessions),
        )
    }

    fn hex_id(&mut self, prefix: &str) -> String {
        let v: u32 = self.rng.random();
        format!("{prefix}-{v:08x}")
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
                Effect::Restart { down_steps, .. } if k == 0 => {
                    self.emit(
                        t,
                        Level::Fatal,
                        "kernel",
                        None,
                        "kernel panic - not syncing: fatal exception in interrupt".into(),
                    );
                    let _ = down_steps;
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
                    self.emit(
                        t + 1,
                        Level::Info,
                        "systemd",
                        None,
                        format!("{service}.service: started successfully"),
                    );
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
                    self.emit(
                        t + 1,
                        Level::Info,
                        "systemd",
                        None,
                        format!("{service}.service: started successfully"),
                    );
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

    /// Start, progress and end lines of scheduled jobs; incidents on the host abort them.
    fn job_lines(&mut self, cx: &StepContext, t0: i64, span: i64) {
        for &(p, kind, name, start, end) in cx.jobs {
            if kind.is_service() || matches!(kind, ProcessKind::Idle | ProcessKind::TrafficBurst) {
                if cx.step == start {
                    let msg = match kind {
                        ProcessKind::Idle => Some("entering quiet period"),
                        ProcessKind::TrafficBurst => {
                            Some("traffic surge detected, scaling workers")
                        }
                        _ => None,
                    };
                    if let Some(msg) = msg {
                        self.emit(t0, Level::Info, "scheduler", None, msg.into());
                    }
                }
                continue;
            }
            let t = t0 + self.rng.random_range(0..span.min(1000));
            if cx.step == start {
                let id = self.hex_id("job");
                let first = job_start_message(kind, &id, &mut self.rng);
                self.emit(
                    t,
                    Level::Info,
                    "cron",
                    Some(&id),
                    format!("{id} {name} started"),
                );
                self.emit(t + 1, Level::Info, job_component(kind), Some(&id), first);
                self.jobs[p] = Some(JobState {
                    id,
                    run_start: start,
                    aborted: false,
                });
            }
            let Some(job) = self.jobs[p].as_ref() else {
                continue;
            };
            if job.aborted || job.run_start != start {
                continue;
            }
            let id = job.id.clone();
            if let Some((inc, k)) = cx.incident {
                let reason = match inc.kind {
                    IncidentKind::Restart if k == 0 => Some("killed by system shutdown"),
                    IncidentKind::DiskFill if job_writes_disk(kind) => {
                        Some("write failed: no space left on device")
                    }
                    IncidentKind::NetworkPartition if job_uses_network(kind) => {
                        Some("connection timed out")
                    }
                    IncidentKind::ProcessFailure
                        if kind == ProcessKind::BatchJob || kind == ProcessKind::DatabaseQuery =>
                    {
                        Some("lost connection to worker")
                    }
                    _ => None,
                };
                if let Some(reason) = reason {
                    self.emit(
                        t + 2,
                        Level::Error,
                        job_component(kind),
                        Some(&id),
                        format!("{id} failed: {reason}"),
                    );
                    self.bent(&id, inc);
                    if let Some(j) = self.jobs[p].as_mut() {
                        j.aborted = true;
                    }
                    continue;
                }
            }
            let progress_every = (600 / cx.interval).max(1) as usize;
            if cx.step > start
                && cx.step + 1 < end
                && (cx.step - start).is_multiple_of(progress_every)
            {
                let pct = 100 * (cx.step - start) / (end - start);
                self.emit(
                    t,
                    Level::Info,
                    job_component(kind),
                    Some(&id),
                    format!("{id} progress {pct}%"),
                );
            }
            if cx.step + 1 == end {
                let minutes = ((end - start) as i64 * cx.interval + 59) / 60;
                let done = job_end_message(kind, &id, &mut self.rng);
                self.emit(t + 3, Level::Info, job_component(kind), Some(&id), done);
                self.emit(
                    t + 4,
                    Level::Info,
                    "cron",
                    Some(&id),
                    format!("{id} {name} finished in {minutes} min"),
                );
                self.jobs[p] = None;
            }
        }
    }

    /// A sample of the web traffic: one session per request.
    fn requests(&mut self, cx: &StepContext, t0: i64, span: i64) {
        let burst = if cx.burst { 2.5 } else { 1.0 };
        let mean = self.requests_per_minute * cx.interval as f64 / 60.0 * cx.load * burst;
        let n = match Poisson::new(mean) {
            Ok(p) if mean > 0.0 => p.sample(&mut self.rng) as usize,
            _ => 0,
        };
        for _ in 0..n {
            let start = t0 + self.rng.random_range(0..(span - 1000).max(1));
            self.request(cx, start, t0 + span - 1);
        }
    }

    fn request(&mut self, cx: &StepContext, t: i64, last_ms: i64) {
        let id = self.hex_id("req");
        let (method, path) = METHODS_PATHS[self.rng.random_range(0..METHODS_PATHS.len())];
        let ip = format!(
            "10.0.{}.{}",
            self.rng.random_range(0..8),
            self.rng.random_range(2..250)
        );
        let r = Request {
            write: method == "POST",
            flow: self.rng.random(),
            u: self.rng.random(),
            user: self.rng.random_range(1000..9999),
            table: TABLES[self.rng.random_range(0..TABLES.len())],
            latency: self.rng.random_range(3..60),
            backend: self.rng.random_range(0..self.backends.len().max(1)),
            t,
            last_ms,
            id,
        };
        let mut r = r;
        r.say(
            self,
            Level::Info,
            format!("accepted {method} {path} from {ip}"),
        );
        let bent = if self.role == Role::Lb {
            self.proxied(cx, &mut r)
        } else {
            self.served(cx, &mut r, path)
        };
        if let Some(inc) = bent {
            self.bent(&r.id, inc);
        }
    }

    /// A request through the load balancer to a backend; returns the incident that bent it.
    fn proxied<'i>(&mut self, cx: &StepContext<'i>, r: &mut Request) -> Option<&'i Incident> {
        let names = self.backends.clone();
        let name = |i: usize| {
            names
                .get(i % names.len().max(1))
                .cloned()
                .unwrap_or_else(|| "backend-1".into())
        };
        let backend = name(r.backend);
        let status = if r.flow < 0.02 {
            401
        } else if r.flow < 0.03 {
            404
        } else if r.write {
            201
        } else {
            200
        };
        if let Some((inc, _)) = cx.incident {
            if let Effect::CascadeDependent { from, .. } = inc.effect
                && r.u < 0.6
            {
                let up = self.names[from].clone();
                r.say(self, Level::Info, format!("routed to backend {up}"));
                r.say(
                    self,
                    Level::Warn,
                    format!("backend {up} timed out after 5000ms"),
                );
                r.say(self, Level::Error, "completed 504 in 5000ms".into());
                return Some(inc);
            }
            if let Some(bent) = self.own_trouble(inc, cx, r) {
                return Some(bent);
            }
        }
        r.say(self, Level::Info, format!("routed to backend {backend}"));
        if let Some(inc) = cx
            .upstream
            .filter(|i| self.names[i.host] == backend && refuses(i.kind))
        {
            let other = name(r.backend + 1);
            r.say(
                self,
                Level::Error,
                format!("backend {backend} connection refused"),
            );
            r.say(self, Level::Warn, format!("retrying on backend {other}"));
            r.say(
                self,
                Level::Info,
                format!("backend {other} responded {status} in {}ms", r.latency),
            );
            r.say(
                self,
                Level::Info,
                format!("completed {status} in {}ms", r.latency + 3),
            );
            return Some(inc);
        }
        r.say(
            self,
            Level::Info,
            format!("backend {backend} responded {status} in {}ms", r.latency),
        );
        r.say(
            self,
            Level::Info,
            format!("completed {status} in {}ms", r.latency + 2),
        );
        None
    }

    /// A request a web host serves itself; returns the incident that bent it.
    fn served<'i>(
        &mut self,
        cx: &StepContext<'i>,
        r: &mut Request,
        path: &str,
    ) -> Option<&'i Incident> {
        let (user, table, latency) = (r.user, r.table, r.latency);
        let hits_db = r.write || r.flow < 0.5;
        if let Some((inc, _)) = cx.incident {
            if let Effect::CascadeDependent { from, .. } = inc.effect
                && hits_db
            {
                let up = self.names[from].clone();
                r.say(self, Level::Info, format!("auth ok user={user}"));
                r.say(
                    self,
                    Level::Warn,
                    format!("db query {table} on {up} timed out after 5000ms"),
                );
                r.say(
                    self,
                    Level::Warn,
                    format!("retrying db query {table} attempt 2"),
                );
                r.say(self, Level::Error, "completed 504 in 10000ms".into());
                return Some(inc);
            }
            if let Some(bent) = self.own_trouble(inc, cx, r) {
                return Some(bent);
            }
        }
        if let Some(inc) = cx.upstream.filter(|i| refuses(i.kind)) {
            let up = self.names[inc.host].clone();
            let up_role = self.roles[inc.host];
            if up_role == Role::Cache && !hits_db {
                r.say(self, Level::Info, format!("auth ok user={user}"));
                r.say(
                    self,
                    Level::Warn,
                    format!("cache {up} unavailable, falling back to db"),
                );
                r.say(
                    self,
                    Level::Info,
                    format!("db query {table} took {}ms", latency / 2 + 1),
                );
                r.say(
                    self,
                    Level::Info,
                    format!("completed 200 in {}ms", latency + 20),
                );
                return Some(inc);
            }
            if up_role != Role::Cache && hits_db {
                r.say(self, Level::Info, format!("auth ok user={user}"));
                r.say(self, Level::Error, format!("db connection refused by {up}"));
                r.say(self, Level::Error, format!("completed 502 in {latency}ms"));
                return Some(inc);
            }
        }

        // The normal flows.
        if r.flow < 0.02 {
            r.say(self, Level::Warn, format!("auth failed user={user}"));
            r.say(self, Level::Info, format!("completed 401 in {latency}ms"));
        } else if r.flow < 0.03 {
            r.say(self, Level::Info, format!("auth ok user={user}"));
            r.say(self, Level::Info, format!("route not found {path}"));
            r.say(self, Level::Info, format!("completed 404 in {latency}ms"));
        } else if r.write {
            r.say(self, Level::Info, format!("auth ok user={user}"));
            r.say(
                self,
                Level::Info,
                format!("db write {table} took {}ms", latency / 2 + 1),
            );
            r.say(self, Level::Info, format!("cache invalidate {table}"));
            r.say(self, Level::Info, format!("completed 201 in {latency}ms"));
        } else if hits_db {
            r.say(self, Level::Info, format!("auth ok user={user}"));
            r.say(self, Level::Info, format!("cache miss {table}"));
            r.say(
                self,
                Level::Info,
                format!("db query {table} took {}ms", latency / 2 + 1),
            );
            r.say(self, Level::Info, format!("completed 200 in {latency}ms"));
        } else {
            r.say(self, Level::Info, format!("auth ok user={user}"));
            r.say(self, Level::Info, format!("cache hit {table}"));
            r.say(
                self,
                Level::Info,
                format!("completed 200 in {}ms", latency / 4 + 1),
            );
        }
        None
    }

    /// How an incident on this host bends a request, if it does.
    fn own_trouble<'i>(
        &mut self,
        inc: &'i Incident,
        cx: &StepContext,
        r: &mut Request,
    ) -> Option<&'i Incident> {
        let (_, k) = cx.incident?;
        let len = (inc.end - inc.start).max(1);
        let progress = (k + 1) as f64 / len as f64;
        let (user, latency, u) = (r.user, r.latency, r.u);
        match inc.kind {
            IncidentKind::StuckProcess if u < 0.7 => {
                r.say(
                    self,
                    Level::Warn,
                    "worker pool exhausted, request queued".into(),
                );
                r.say(self, Level::Error, "completed 503 in 30000ms".into());
            }
            IncidentKind::MemoryLeak if u < progress - 0.4 => {
                r.say(self, Level::Info, format!("auth ok user={user}"));
                r.say(
                    self,
                    Level::Warn,
                    format!("gc pause {}ms", 300 + (u * 900.0) as i64),
                );
                r.say(
                    self,
                    Level::Info,
                    format!("completed 200 in {}ms", latency + 400),
                );
            }
            IncidentKind::Spike if u < 0.5 => {
                r.say(self, Level::Info, format!("auth ok user={user}"));
                r.say(
                    self,
                    Level::Warn,
                    format!("slow handler {}ms", 800 + (u * 2000.0) as i64),
                );
                r.say(
                    self,
                    Level::Info,
                    format!("completed 200 in {}ms", latency + 1200),
                );
            }
            IncidentKind::DiskFill if r.write => {
                r.say(self, Level::Info, format!("auth ok user={user}"));
                r.say(
                    self,
                    Level::Error,
                    "write failed: no space left on device".into(),
                );
                r.say(self, Level::Error, format!("completed 500 in {latency}ms"));
            }
            _ => return None,
        }
        Some(inc)
    }
}

/// Upstream incidents that make a dependency refuse connections.
fn refuses(kind: IncidentKind) -> bool {
    matches!(
        kind,
        IncidentKind::ProcessFailure | IncidentKind::Restart | IncidentKind::NetworkPartition
    )
}

/// One sampled request's random draws and its running clock.
struct Request {
    id: String,
    write: bool,
    flow: f64,
    u: f64,
    user: u32,
    table: &'static str,
    latency: i64,
    backend: usize,
    t: i64,
    last_ms: i64,
}

impl Request {
    /// Logs the next line of the request a few milliseconds after the previous one.
    fn say(&mut self, logger: &mut HostLogger, level: Level, message: String) {
        self.t = (self.t + logger.rng.random_range(1..40)).min(self.last_ms);
        let component = service_component(logger.role);
        logger.emit(
            self.t,
            level,
            component,
            Some(&self.id),
            format!("{} {message}", self.id),
        );
    }
}

fn service_component(role: Role) -> &'static str {
    role.main_service()
}

fn job_component(kind: ProcessKind) -> &'static str {
    match kind {
        ProcessKind::Backup => "backup",
        ProcessKind::BackupVerification => "backup_verify",
        ProcessKind::SystemUpdate => "apt",
        ProcessKind::LogArchival => "logrotate",
        ProcessKind::DiskCleanup => "cleanup",
        ProcessKind::LoadBalancer => "haproxy",
        ProcessKind::DataMigration => "migration",
        ProcessKind::BatchJob => "etl",
        ProcessKind::DatabaseQuery => "postgres",
        _ => "scheduler",
    }
}

fn job_writes_disk(kind: ProcessKind) -> bool {
    matches!(
        kind,
        ProcessKind::Backup
            | ProcessKind::SystemUpdate
            | ProcessKind::DataMigration
            | ProcessKind::BatchJob
            | ProcessKind::LogArchival
    )
}

fn job_uses_network(kind: ProcessKind) -> bool {
    matches!(
        kind,
        ProcessKind::Backup
            | ProcessKind::BackupVerification
            | ProcessKind::SystemUpdate
            | ProcessKind::DataMigration
            | ProcessKind::LoadBalancer
    )
}

fn job_start_message(kind: ProcessKind, id: &str, rng: &mut Rng) -> String {
    let mut s = String::new();
    let n: u32 = rng.random_range(10..500);
    let _ = match kind {
        ProcessKind::Backup => write!(s, "{id} snapshot created for /var/lib/postgresql"),
        ProcessKind::BackupVerification => {
            write!(s, "{id} restoring latest snapshot to scratch volume")
        }
        ProcessKind::SystemUpdate => write!(s, "{id} fetching {n} packages"),
        ProcessKind::LogArchival => write!(s, "{id} rotating {n} log files"),
        ProcessKind::DiskCleanup => write!(s, "{id} scanning /var/tmp and /var/cache"),
        ProcessKind::LoadBalancer => write!(s, "{id} rebalancing {} backends", n % 8 + 2),
        ProcessKind::DataMigration => write!(
            s,
            "{id} copying table {}",
            TABLES[n as usize % TABLES.len()]
        ),
        ProcessKind::BatchJob => write!(s, "{id} extract started"),
        ProcessKind::DatabaseQuery => write!(
            s,
            "{id} running report {}",
            ["daily_sales", "inventory", "churn"][n as usize % 3]
        ),
        _ => write!(s, "{id} started"),
    };
    s
}

fn job_end_message(kind: ProcessKind, id: &str, rng: &mut Rng) -> String {
    let n: u32 = rng.random_range(1000..900_000);
    let gb = f64::from(n % 5000) / 100.0;
    match kind {
        ProcessKind::Backup => format!("{id} uploaded {gb:.2} GB"),
        ProcessKind::BackupVerification => format!("{id} checksums ok files={n}"),
        ProcessKind::SystemUpdate => format!("{id} {} upgraded 0 removed", n % 40),
        ProcessKind::LogArchival => format!("{id} compressed {} MB", n % 2000),
        ProcessKind::DiskCleanup => format!("{id} removed {n} files freed {gb:.2} GB"),
        ProcessKind::LoadBalancer => format!("{id} moved {} connections", n % 300),
        ProcessKind::DataMigration => format!("{id} verified {n} rows"),
        ProcessKind::BatchJob => format!("{id} loaded {n} rows"),
        ProcessKind::DatabaseQuery => format!("{id} returned {n} rows"),
        _ => format!("{id} done"),
    }
}
