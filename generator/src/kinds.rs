//! The fleet's vocabulary: host roles, process kinds and incident kinds, with the fixed facts
//! about each (names, where they run, what they touch).
//!
//! A leaf: nothing here depends on the rest of the crate, so the scenario (which names these
//! kinds) and the simulation (which acts on them) both build on it without a cycle. What a
//! process does while it runs (schedule, run length, resource profile) is in
//! the `process` module.

use serde::{Deserialize, Serialize};

use vigil_core::Metric;
use vigil_core::Metric::{Cpu, Disk, NetIn, NetOut, Ram};

/// What a host does for the fleet; it picks baselines and default processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Web,
    Db,
    Batch,
    Cache,
    Lb,
}

impl Role {
    /// Baseline `[cpu, ram, disk, net_in, net_out]` and disk growth per day.
    pub(crate) fn defaults(self) -> ([f64; 5], f64) {
        match self {
            Role::Web => ([6.0, 28.0, 30.0, 2.0, 4.0], 0.25),
            Role::Db => ([8.0, 45.0, 45.0, 3.0, 3.0], 0.4),
            Role::Batch => ([4.0, 22.0, 35.0, 1.0, 1.0], 0.3),
            Role::Cache => ([5.0, 20.0, 15.0, 2.0, 2.0], 0.05),
            Role::Lb => ([4.0, 18.0, 20.0, 6.0, 6.0], 0.1),
        }
    }

    /// The role's main service: the process a `process_failure` takes down.
    pub fn main_service(self) -> &'static str {
        match self {
            Role::Web => "nginx",
            Role::Db => "postgres",
            Role::Batch => "etl_worker",
            Role::Cache => "redis",
            Role::Lb => "haproxy",
        }
    }
}

/// A kind of process, with a default schedule, run length and resource profile (see
/// the `process` module for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessKind {
    /// Nightly backup: CPU, a staging area on disk, upload traffic.
    Backup,
    /// The web tier's request load, following the time of day and the weekday.
    WebServer,
    /// Periodic heavy analytics queries: RAM-hungry.
    DatabaseQuery,
    /// Weekly package update: disk heavy, downloads.
    SystemUpdate,
    /// Quiet periods that scale the host's continuous load down.
    Idle,
    /// Unscheduled but normal bursts of traffic.
    TrafficBurst,
    /// Daily restore test of last night's backup.
    BackupVerification,
    /// Weekly compression of old logs: frees some disk.
    LogArchival,
    /// Monthly cleanup: frees most of the disk grown since the last one.
    DiskCleanup,
    /// Periodic redistribution of connections across the pool.
    LoadBalancer,
    /// The always-on metrics agent: light and steady.
    Monitoring,
    /// Weekly bulk data move between stores.
    DataMigration,
    /// Nightly ETL batch job: CPU heavy.
    BatchJob,
    /// An in-memory cache: large steady RAM, traffic following the web load.
    CacheServer,
}

/// All kinds, for documentation and tests.
pub const PROCESS_KINDS: [ProcessKind; 14] = [
    ProcessKind::Backup,
    ProcessKind::WebServer,
    ProcessKind::DatabaseQuery,
    ProcessKind::SystemUpdate,
    ProcessKind::Idle,
    ProcessKind::TrafficBurst,
    ProcessKind::BackupVerification,
    ProcessKind::LogArchival,
    ProcessKind::DiskCleanup,
    ProcessKind::LoadBalancer,
    ProcessKind::Monitoring,
    ProcessKind::DataMigration,
    ProcessKind::BatchJob,
    ProcessKind::CacheServer,
];

impl ProcessKind {
    /// The process name shown in `metrics.csv` and in log lines.
    pub fn default_name(self) -> &'static str {
        match self {
            ProcessKind::Backup => "backup",
            ProcessKind::WebServer => "nginx",
            ProcessKind::DatabaseQuery => "analytics_query",
            ProcessKind::SystemUpdate => "apt_update",
            ProcessKind::Idle => "idle",
            ProcessKind::TrafficBurst => "traffic_burst",
            ProcessKind::BackupVerification => "backup_verify",
            ProcessKind::LogArchival => "logrotate",
            ProcessKind::DiskCleanup => "disk_cleanup",
            ProcessKind::LoadBalancer => "lb_rebalance",
            ProcessKind::Monitoring => "node_exporter",
            ProcessKind::DataMigration => "data_migration",
            ProcessKind::BatchJob => "etl_batch",
            ProcessKind::CacheServer => "redis",
        }
    }

    /// Roles that run this process when a scenario names neither hosts nor roles;
    /// empty means every host.
    pub fn default_roles(self) -> &'static [Role] {
        match self {
            ProcessKind::WebServer | ProcessKind::TrafficBurst => &[Role::Web],
            ProcessKind::Backup | ProcessKind::DatabaseQuery | ProcessKind::BackupVerification => {
                &[Role::Db]
            }
            ProcessKind::DataMigration => &[Role::Db, Role::Batch],
            ProcessKind::BatchJob => &[Role::Batch],
            ProcessKind::CacheServer => &[Role::Cache],
            ProcessKind::LoadBalancer => &[Role::Lb],
            ProcessKind::SystemUpdate
            | ProcessKind::Idle
            | ProcessKind::LogArchival
            | ProcessKind::DiskCleanup
            | ProcessKind::Monitoring => &[],
        }
    }
}

/// How a run's intensity evolves over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Ramps up over the first tenth of the run and down over the last tenth.
    Trapezoid,
    /// Follows the fleet's daily and weekly traffic curve (continuous services).
    Diurnal,
    /// Constant.
    Flat,
}

/// What a process adds to its host while it runs, at full intensity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// CPU percentage points.
    pub cpu: f64,
    /// RAM percentage points.
    pub ram: f64,
    /// Mbit/s.
    pub net_in: f64,
    pub net_out: f64,
    /// Disk percentage points held while running (a staging area, grows with progress).
    pub disk: f64,
    /// Disk percentage points left behind by each run.
    pub disk_keep: f64,
    /// Fraction of the disk grown above the host's floor that each run frees.
    pub disk_release: f64,
    /// Multiplies the host's continuous load while running (idle periods), 1 = none.
    pub load_scale: f64,
    pub shape: Shape,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// CPU/RAM (or the named metrics) jump to near saturation, then fall back.
    Spike,
    /// The host goes down, then warms up: caches refill, RAM climbs back.
    Restart,
    /// The host's main service crashes and crash-loops: load and traffic collapse.
    ProcessFailure,
    /// RAM creeps up until the process is restarted at the end.
    MemoryLeak,
    /// A runaway writer fills the disk.
    DiskFill,
    /// The host is cut off: traffic falls to almost nothing.
    NetworkPartition,
    /// A hung process pins CPU at a flat plateau and stops serving.
    StuckProcess,
    /// The metrics agent freezes: values repeat exactly.
    Flatline,
    /// The metrics get several times noisier.
    VarianceBurst,
    /// A root host overloads; after a lag, every host depending on it degrades too.
    CascadingFailure,
    // Log-only incidents: they bend the order of a request's known lines, never its
    // vocabulary, and leave the metrics alone (so they are not in `labels.csv`).
    /// A step is skipped: requests complete without their auth line.
    SkippedStep,
    /// Steps are reordered: two adjacent steps swapped (e.g. the cache invalidated before
    /// the database write).
    ReorderedSteps,
    /// A step is repeated: the database call loops a few times, with no error line.
    RepeatedStep,
    /// Requests are cut: accepted (and authenticated), then never completed.
    CutSession,
    /// Requests stall: a long silence between two of their steps.
    StalledSession,
    /// A valid but rare path (the stale-cache revalidation) is taken far more often.
    UnusualPath,
}

/// The log-only kinds, in file order.
pub const LOG_INCIDENT_KINDS: [IncidentKind; 6] = [
    IncidentKind::SkippedStep,
    IncidentKind::ReorderedSteps,
    IncidentKind::RepeatedStep,
    IncidentKind::CutSession,
    IncidentKind::StalledSession,
    IncidentKind::UnusualPath,
];

/// Every kind that moves the metrics, in file order.
pub const INCIDENT_KINDS: [IncidentKind; 10] = [
    IncidentKind::Spike,
    IncidentKind::Restart,
    IncidentKind::ProcessFailure,
    IncidentKind::MemoryLeak,
    IncidentKind::DiskFill,
    IncidentKind::NetworkPartition,
    IncidentKind::StuckProcess,
    IncidentKind::Flatline,
    IncidentKind::VarianceBurst,
    IncidentKind::CascadingFailure,
];

impl IncidentKind {
    pub fn name(self) -> &'static str {
        match self {
            IncidentKind::Spike => "spike",
            IncidentKind::Restart => "restart",
            IncidentKind::ProcessFailure => "process_failure",
            IncidentKind::MemoryLeak => "memory_leak",
            IncidentKind::DiskFill => "disk_fill",
            IncidentKind::NetworkPartition => "network_partition",
            IncidentKind::StuckProcess => "stuck_process",
            IncidentKind::Flatline => "flatline",
            IncidentKind::VarianceBurst => "variance_burst",
            IncidentKind::CascadingFailure => "cascading_failure",
            IncidentKind::SkippedStep => "skipped_step",
            IncidentKind::ReorderedSteps => "reordered_steps",
            IncidentKind::RepeatedStep => "repeated_step",
            IncidentKind::CutSession => "cut_session",
            IncidentKind::StalledSession => "stalled_session",
            IncidentKind::UnusualPath => "unusual_path",
        }
    }

    /// Whether it shows only in the logs (bending sessions), never in the metrics.
    pub fn is_log_only(self) -> bool {
        LOG_INCIDENT_KINDS.contains(&self)
    }

    /// The roles it hits when a rule names no hosts: request-serving hosts for the log-only
    /// kinds, every host otherwise.
    pub fn default_roles(self) -> &'static [Role] {
        match self {
            // Only web hosts have a cache to find stale.
            IncidentKind::UnusualPath => &[Role::Web],
            kind if kind.is_log_only() => &[Role::Web, Role::Lb],
            _ => &[],
        }
    }

    /// The metrics it touches (for a cascade, on the root host).
    pub fn default_metrics(self) -> &'static [Metric] {
        match self {
            IncidentKind::Spike => &[Cpu, Ram],
            IncidentKind::Restart | IncidentKind::ProcessFailure => &[Cpu, Ram, NetIn, NetOut],
            IncidentKind::MemoryLeak => &[Ram],
            IncidentKind::DiskFill => &[Disk],
            IncidentKind::NetworkPartition => &[NetIn, NetOut],
            IncidentKind::StuckProcess => &[Cpu, NetOut],
            IncidentKind::Flatline => &[Cpu, Ram, Disk, NetIn, NetOut],
            IncidentKind::VarianceBurst => &[Cpu, NetIn, NetOut],
            IncidentKind::CascadingFailure => &[Cpu, Ram, NetOut],
            IncidentKind::SkippedStep
            | IncidentKind::ReorderedSteps
            | IncidentKind::RepeatedStep
            | IncidentKind::CutSession
            | IncidentKind::StalledSession
            | IncidentKind::UnusualPath => &[],
        }
    }

    pub fn metrics_configurable(self) -> bool {
        matches!(
            self,
            IncidentKind::Spike | IncidentKind::Flatline | IncidentKind::VarianceBurst
        )
    }

    pub fn default_duration(self) -> vigil_core::Duration {
        let minutes = match self {
            IncidentKind::Spike => 20,
            IncidentKind::Restart => 30,
            IncidentKind::ProcessFailure => 45,
            IncidentKind::MemoryLeak => 360,
            IncidentKind::DiskFill => 180,
            IncidentKind::NetworkPartition => 30,
            IncidentKind::StuckProcess => 60,
            IncidentKind::Flatline => 120,
            IncidentKind::VarianceBurst => 60,
            IncidentKind::CascadingFailure => 60,
            IncidentKind::SkippedStep
            | IncidentKind::ReorderedSteps
            | IncidentKind::RepeatedStep
            | IncidentKind::CutSession
            | IncidentKind::StalledSession
            | IncidentKind::UnusualPath => 90,
        };
        vigil_core::Duration::from_secs(minutes * 60).unwrap_or(vigil_core::Duration::HOUR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name a kind has in scenario files (its serde form).
    fn serde_name<T: Serialize>(kind: T) -> String {
        let v = serde_json::to_value(kind).unwrap();
        v.as_str().unwrap().to_string()
    }

    #[test]
    fn incident_names_are_their_scenario_file_names() {
        for kind in INCIDENT_KINDS {
            assert_eq!(kind.name(), serde_name(kind));
        }
        let mut names: Vec<_> = INCIDENT_KINDS.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 10);
    }

    #[test]
    fn only_spike_flatline_and_variance_burst_take_a_metrics_list() {
        let configurable: Vec<_> = INCIDENT_KINDS
            .into_iter()
            .filter(|k| k.metrics_configurable())
            .collect();
        assert_eq!(
            configurable,
            [
                IncidentKind::Spike,
                IncidentKind::Flatline,
                IncidentKind::VarianceBurst
            ]
        );
        for kind in INCIDENT_KINDS {
            assert!(!kind.default_metrics().is_empty(), "{kind:?}");
            assert!(kind.default_duration().secs() >= 20 * 60, "{kind:?}");
        }
        assert_eq!(IncidentKind::DiskFill.default_metrics(), [Disk]);
    }

    #[test]
    fn every_process_kind_is_listed_once_and_placed_on_existing_roles() {
        let mut kinds: Vec<_> = PROCESS_KINDS.iter().map(|k| serde_name(*k)).collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), PROCESS_KINDS.len());
        assert_eq!(ProcessKind::WebServer.default_roles(), [Role::Web]);
        assert!(
            ProcessKind::Monitoring.default_roles().is_empty(),
            "every host"
        );
        assert_eq!(
            serde_name(ProcessKind::BackupVerification),
            "backup_verification"
        );
    }

    #[test]
    fn role_baselines_are_percentages_and_rates() {
        for role in [Role::Web, Role::Db, Role::Batch, Role::Cache, Role::Lb] {
            let (base, growth) = role.defaults();
            assert!(
                base[..3].iter().all(|v| (0.0..=100.0).contains(v)),
                "{role:?}"
            );
            assert!(base[3..].iter().all(|v| *v > 0.0), "{role:?}");
            assert!(growth >= 0.0);
            assert!(!role.main_service().is_empty());
        }
        assert_eq!(Role::Db.main_service(), "postgres");
    }
}
