//! Request sessions: the normal flows through a web host or the load balancer, and how
//! incidents on the host or upstream bend them.

use rand::RngExt;
use rand_distr::{Distribution, Poisson};

use std::fmt;

use super::{HostLogger, Level, StepContext, TABLES, service_component};
use crate::incident::{Effect, Incident};
use crate::kinds::{IncidentKind, Role};

/// The method of a logged request: a `Post` writes to the database, a `Get` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
        })
    }
}

const METHODS_PATHS: [(Method, &str); 6] = [
    (Method::Get, "/api/orders"),
    (Method::Get, "/api/products"),
    (Method::Get, "/api/users/profile"),
    (Method::Get, "/static/app.js"),
    (Method::Post, "/api/orders"),
    (Method::Post, "/api/cart"),
];

impl HostLogger {
    /// A sample of the web traffic: one session per request.
    pub(super) fn requests(&mut self, cx: &StepContext, t0: i64, span: i64) {
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
            write: method == Method::Post,
            flow: self.rng.random(),
            u: self.rng.random(),
            user: self.rng.random_range(1000..9999),
            table: TABLES[self.rng.random_range(0..TABLES.len())],
            latency: self.rng.random_range(3..60),
            backend: self.rng.random_range(0..self.backends.len().max(1)),
            t,
            last_ms,
            id,
            stall: None,
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
        if let Some(inc) = cx
            .upstream
            .filter(|i| self.names[i.host] == backend && refuses(i.kind))
        {
            let other = name(r.backend + 1);
            r.say(self, Level::Info, format!("routed to backend {backend}"));
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
        let mut steps = vec![
            (Level::Info, format!("routed to backend {backend}")),
            (
                Level::Info,
                format!("backend {backend} responded {status} in {}ms", r.latency),
            ),
            (
                Level::Info,
                format!("completed {status} in {}ms", r.latency + 2),
            ),
        ];
        let bent = sequence_fault(cx, r).filter(|inc| self.bend(inc, r, &mut steps));
        r.say_all(self, steps);
        bent
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

        // The normal flows, which a log-only incident may bend.
        let fault = sequence_fault(cx, r);
        let hit = !hits_db && r.flow >= 0.03;
        let naturally_stale = hit && r.flow >= 1.0 - STALE_SHARE;
        let stale =
            naturally_stale || (hit && fault.is_some_and(|i| i.kind == IncidentKind::UnusualPath));
        let db_query = || {
            (
                Level::Info,
                format!("db query {table} took {}ms", latency / 2 + 1),
            )
        };
        let mut steps: Vec<(Level, String)> = if r.flow < 0.02 {
            vec![
                (Level::Warn, format!("auth failed user={user}")),
                (Level::Info, format!("completed 401 in {latency}ms")),
            ]
        } else if r.flow < 0.03 {
            vec![
                (Level::Info, format!("auth ok user={user}")),
                (Level::Info, format!("route not found {path}")),
                (Level::Info, format!("completed 404 in {latency}ms")),
            ]
        } else if r.write {
            vec![
                (Level::Info, format!("auth ok user={user}")),
                (
                    Level::Info,
                    format!("db write {table} took {}ms", latency / 2 + 1),
                ),
                (Level::Info, format!("cache invalidate {table}")),
                (Level::Info, format!("completed 201 in {latency}ms")),
            ]
        } else if hits_db {
            vec![
                (Level::Info, format!("auth ok user={user}")),
                (Level::Info, format!("cache miss {table}")),
                db_query(),
                (Level::Info, format!("completed 200 in {latency}ms")),
            ]
        } else if stale {
            // A rare but valid path: the cached entry had expired.
            vec![
                (Level::Info, format!("auth ok user={user}")),
                (Level::Info, format!("cache stale {table}, revalidating")),
                db_query(),
                (Level::Info, format!("cache refreshed {table}")),
                (Level::Info, format!("completed 200 in {}ms", latency + 5)),
            ]
        } else {
            vec![
                (Level::Info, format!("auth ok user={user}")),
                (Level::Info, format!("cache hit {table}")),
                (
                    Level::Info,
                    format!("completed 200 in {}ms", latency / 4 + 1),
                ),
            ]
        };
        let bent = match fault {
            Some(inc) if inc.kind == IncidentKind::UnusualPath => {
                (stale && !naturally_stale).then_some(inc)
            }
            Some(inc) => self.bend(inc, r, &mut steps).then_some(inc),
            None => None,
        };
        r.say_all(self, steps);
        bent
    }

    /// Bends a normal flow's steps (after the `accepted` line) as a log-only incident does,
    /// with known lines only; false when this flow has nothing to bend (then it is logged
    /// as it was). A stall is a delay kept in `r` for the step it precedes.
    fn bend(&mut self, inc: &Incident, r: &mut Request, steps: &mut Vec<(Level, String)>) -> bool {
        // The flow's own work: everything between the first step and the completion.
        let n = steps.len();
        if n < 3 {
            return false;
        }
        match inc.kind {
            IncidentKind::SkippedStep => {
                steps.remove(0);
            }
            IncidentKind::ReorderedSteps => steps.swap(n - 3, n - 2),
            IncidentKind::RepeatedStep => {
                // The database call where the flow has one, else the step before the end.
                let at = (0..n - 1)
                    .find(|&i| steps[i].1.starts_with("db "))
                    .unwrap_or(n - 2);
                let again = steps[at].clone();
                for _ in 0..self.rng.random_range(2..=4) {
                    steps.insert(at, again.clone());
                }
            }
            IncidentKind::CutSession => steps.truncate(self.rng.random_range(1..n - 1)),
            IncidentKind::StalledSession => {
                // A silence of at least 10 s that stays inside the step.
                let room = r.last_ms - r.t - 1000;
                if room < 10_000 {
                    return false;
                }
                let at = self.rng.random_range(1..n);
                r.stall = Some((at, self.rng.random_range(10_000..=room)));
            }
            _ => return false,
        }
        true
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

/// The share of cache hits that find their entry expired and revalidate it (a rare but
/// valid path, which the `unusual_path` incident makes common).
const STALE_SHARE: f64 = 0.003;

/// The log-only incident on this host that bends this request, if one does.
fn sequence_fault<'i>(cx: &StepContext<'i>, r: &Request) -> Option<&'i Incident> {
    let (inc, _) = cx.incident?;
    match inc.effect {
        Effect::Sessions { share } if r.u < share => Some(inc),
        _ => None,
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
    /// A stall: the step it precedes and its length in milliseconds.
    stall: Option<(usize, i64)>,
}

impl Request {
    /// Logs a flow's steps in order, with the stall (if any) before its step.
    fn say_all(&mut self, logger: &mut HostLogger, steps: Vec<(Level, String)>) {
        for (i, (level, message)) in steps.into_iter().enumerate() {
            if let Some((at, ms)) = self.stall
                && at == i
            {
                self.t += ms;
            }
            self.say(logger, level, message);
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_log_as_http_writes_them() {
        assert_eq!(Method::Get.to_string(), "GET");
        assert_eq!(Method::Post.to_string(), "POST");
        let posts: Vec<&str> = METHODS_PATHS
            .iter()
            .filter(|(m, _)| *m == Method::Post)
            .map(|(_, p)| *p)
            .collect();
        assert_eq!(posts, ["/api/orders", "/api/cart"]);
    }
}
