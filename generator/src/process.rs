//! What a process does while it runs: each kind's default schedule, run length and
//! resource profile, and the traffic curves that shape a run.

pub use crate::kinds::{PROCESS_KINDS, ProcessKind, Profile, Shape};
use crate::schedule::{Schedule, TimeOfDay};
use vigil_core::Duration;

impl Profile {
    const ZERO: Profile = Profile {
        cpu: 0.0,
        ram: 0.0,
        net_in: 0.0,
        net_out: 0.0,
        disk: 0.0,
        disk_keep: 0.0,
        disk_release: 0.0,
        load_scale: 1.0,
        shape: Shape::Trapezoid,
    };
}

fn at(h: u32, m: u32) -> TimeOfDay {
    TimeOfDay::new(h, m).unwrap_or_default()
}

fn mins(m: i64) -> Duration {
    Duration::from_secs(m * 60).unwrap_or(Duration::MINUTE)
}

impl ProcessKind {
    /// When runs start, unless the scenario gives a schedule.
    pub fn default_schedule(self) -> Schedule {
        let jitter = |m| Some(mins(m));
        match self {
            ProcessKind::WebServer | ProcessKind::Monitoring | ProcessKind::CacheServer => {
                Schedule::Always
            }
            ProcessKind::Backup => Schedule::Daily {
                at: at(2, 0),
                jitter: jitter(20),
            },
            ProcessKind::BackupVerification => Schedule::Daily {
                at: at(4, 0),
                jitter: jitter(15),
            },
            ProcessKind::BatchJob => Schedule::Daily {
                at: at(23, 0),
                jitter: jitter(30),
            },
            ProcessKind::DatabaseQuery => Schedule::Every {
                period: mins(60),
                offset: Some(mins(10)),
                jitter: jitter(5),
            },
            ProcessKind::LoadBalancer => Schedule::Every {
                period: mins(6 * 60),
                offset: Some(mins(45)),
                jitter: jitter(10),
            },
            ProcessKind::SystemUpdate => Schedule::Weekly {
                day: crate::schedule::Weekday::Sun,
                at: at(3, 30),
                jitter: jitter(20),
            },
            ProcessKind::LogArchival => Schedule::Weekly {
                day: crate::schedule::Weekday::Mon,
                at: at(1, 0),
                jitter: jitter(10),
            },
            ProcessKind::DataMigration => Schedule::Weekly {
                day: crate::schedule::Weekday::Wed,
                at: at(22, 0),
                jitter: jitter(30),
            },
            ProcessKind::DiskCleanup => Schedule::Monthly {
                day: 1,
                at: at(5, 0),
                jitter: jitter(15),
            },
            ProcessKind::Idle => Schedule::Random { per_day: 0.4 },
            ProcessKind::TrafficBurst => Schedule::Random { per_day: 0.5 },
        }
    }

    /// The typical length of one run (ignored for always-on processes).
    pub fn default_duration(self) -> Duration {
        mins(match self {
            ProcessKind::Backup => 50,
            ProcessKind::DatabaseQuery => 6,
            ProcessKind::SystemUpdate => 25,
            ProcessKind::Idle => 180,
            ProcessKind::TrafficBurst => 40,
            ProcessKind::BackupVerification => 20,
            ProcessKind::LogArchival => 15,
            ProcessKind::DiskCleanup => 30,
            ProcessKind::LoadBalancer => 5,
            ProcessKind::DataMigration => 90,
            ProcessKind::BatchJob => 70,
            ProcessKind::WebServer | ProcessKind::Monitoring | ProcessKind::CacheServer => 1,
        })
    }

    pub fn default_profile(self) -> Profile {
        let p = Profile::ZERO;
        match self {
            ProcessKind::Backup => Profile {
                cpu: 18.0,
                ram: 6.0,
                net_out: 40.0,
                disk: 4.0,
                disk_keep: 0.1,
                ..p
            },
            ProcessKind::WebServer => Profile {
                cpu: 38.0,
                ram: 12.0,
                net_in: 25.0,
                net_out: 70.0,
                shape: Shape::Diurnal,
                ..p
            },
            ProcessKind::DatabaseQuery => Profile {
                cpu: 20.0,
                ram: 18.0,
                net_in: 3.0,
                net_out: 15.0,
                ..p
            },
            ProcessKind::SystemUpdate => Profile {
                cpu: 25.0,
                ram: 5.0,
                net_in: 30.0,
                disk: 3.0,
                disk_keep: 0.3,
                ..p
            },
            ProcessKind::Idle => Profile {
                load_scale: 0.45,
                shape: Shape::Flat,
                ..p
            },
            ProcessKind::TrafficBurst => Profile {
                cpu: 28.0,
                ram: 5.0,
                net_in: 45.0,
                net_out: 90.0,
                ..p
            },
            ProcessKind::BackupVerification => Profile {
                cpu: 12.0,
                ram: 4.0,
                net_in: 25.0,
                disk: 1.5,
                ..p
            },
            ProcessKind::LogArchival => Profile {
                cpu: 10.0,
                ram: 2.0,
                disk_release: 0.2,
                ..p
            },
            ProcessKind::DiskCleanup => Profile {
                cpu: 6.0,
                ram: 1.0,
                disk_release: 0.7,
                ..p
            },
            ProcessKind::LoadBalancer => Profile {
                cpu: 8.0,
                ram: 1.0,
                net_in: 15.0,
                net_out: 15.0,
                ..p
            },
            ProcessKind::Monitoring => Profile {
                cpu: 1.5,
                ram: 2.0,
                net_out: 0.5,
                shape: Shape::Flat,
                ..p
            },
            ProcessKind::DataMigration => Profile {
                cpu: 22.0,
                ram: 12.0,
                net_in: 35.0,
                net_out: 35.0,
                disk: 2.0,
                disk_keep: 0.3,
                ..p
            },
            ProcessKind::BatchJob => Profile {
                cpu: 45.0,
                ram: 20.0,
                net_in: 10.0,
                disk: 3.0,
                ..p
            },
            ProcessKind::CacheServer => Profile {
                cpu: 9.0,
                ram: 28.0,
                net_in: 8.0,
                net_out: 30.0,
                shape: Shape::Diurnal,
                ..p
            },
        }
    }

    /// Always-on services carry the host's continuous load; the rest run in bounded runs.
    pub fn is_service(self) -> bool {
        matches!(self.default_schedule(), Schedule::Always)
    }
}

/// The fleet's traffic curve at a time of day and weekday, in [0.15, 1].
///
/// A trough at 04:00, a working-day plateau peaking mid-afternoon and a smaller evening
/// bump; weekends run at two thirds.
pub fn diurnal_load(second_of_day: u32, weekday: u32) -> f64 {
    let h = f64::from(second_of_day) / 3600.0;
    let day = 0.5 - 0.5 * (std::f64::consts::TAU * (h - 4.0) / 24.0).cos();
    let evening = (-((h - 20.5) / 1.8).powi(2)).exp();
    let shape = 0.15 + 0.7 * day + 0.15 * evening;
    let weekend = if weekday >= 5 { 0.65 } else { 1.0 };
    (shape * weekend).clamp(0.1, 1.0)
}

/// The trapezoid envelope at progress `u` in [0, 1] through a run.
pub fn trapezoid(u: f64) -> f64 {
    (u / 0.1).min((1.0 - u) / 0.1).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diurnal_load_has_a_night_trough_and_a_weekend_dip() {
        let at = |h: u32, wd| diurnal_load(h * 3600, wd);
        assert!(at(4, 1) < 0.2);
        assert!(at(15, 1) > 0.8);
        assert!(at(15, 6) < at(15, 1) * 0.7);
    }

    #[test]
    fn defaults_are_sane() {
        for kind in PROCESS_KINDS {
            let p = kind.default_profile();
            assert!(
                p.cpu >= 0.0 && p.ram >= 0.0 && p.disk_release <= 1.0,
                "{kind:?}"
            );
            assert!(!kind.default_name().is_empty());
            assert_eq!(
                kind.is_service(),
                matches!(p.shape, Shape::Diurnal) || kind == ProcessKind::Monitoring
            );
        }
    }
}
