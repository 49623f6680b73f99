//! Scheduled jobs' sessions: start, progress and end lines, and aborts when an incident hits.

use rand::RngExt;

use super::{HostLogger, JobState, Level, StepContext, TABLES};
use crate::kinds::{IncidentKind, ProcessKind};
use crate::rng::Rng;

impl HostLogger {
    /// Start, progress and end lines of scheduled jobs; incidents on the host abort them.
    pub(super) fn job_lines(&mut self, cx: &StepContext, t0: i64, span: i64) {
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
            // A run cut by the end of the period is still running: it logs no end.
            if cx.step + 1 == end && end < cx.steps {
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
    let n: u32 = rng.random_range(10..500);
    match kind {
        ProcessKind::Backup => format!("{id} snapshot created for /var/lib/postgresql"),
        ProcessKind::BackupVerification => {
            format!("{id} restoring latest snapshot to scratch volume")
        }
        ProcessKind::SystemUpdate => format!("{id} fetching {n} packages"),
        ProcessKind::LogArchival => format!("{id} rotating {n} log files"),
        ProcessKind::DiskCleanup => format!("{id} scanning /var/tmp and /var/cache"),
        ProcessKind::LoadBalancer => format!("{id} rebalancing {} backends", n % 8 + 2),
        ProcessKind::DataMigration => {
            format!("{id} copying table {}", TABLES[n as usize % TABLES.len()])
        }
        ProcessKind::BatchJob => format!("{id} extract started"),
        ProcessKind::DatabaseQuery => format!(
            "{id} running report {}",
            ["daily_sales", "inventory", "churn"][n as usize % 3]
        ),
        _ => format!("{id} started"),
    }
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
