//! Explanations: a sentence a person can act on, derived from the data of an anomalous
//! stretch (never from labels).
//!
//! Each metric's values during the stretch are compared with the host's recent normal
//! values just before it: did it rise or fall steadily, jump, drop, spike, freeze or turn
//! erratic, or stay normal? The metrics that carry most of the error are described, the
//! others named as normal, and when the pattern matches a known failure (a steady ram
//! rise alone is a memory leak; cpu and network dropping together is a service going
//! down…) the sentence says what it is consistent with. Metric names are matched loosely
//! (`ram`/`mem`, `disk`, `cpu`, `net`/`request`/`bytes`), so other schemas still get the
//! descriptions, if not the diagnoses.

use std::fmt::Write;

/// What one metric did during a stretch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    RoseSteadily,
    FellSteadily,
    Jumped,
    Dropped,
    SpikedUp,
    SpikedDown,
    Froze,
    Erratic,
    Normal,
}

/// Running statistics of one metric during a stretch, and its reference before it.
#[derive(Debug, Clone)]
pub struct MetricStats {
    pub name: String,
    /// Mean and standard deviation of the recent normal values before the stretch.
    pub ref_mean: f64,
    pub ref_std: f64,
    /// The metric's overall scale (the model's scaler), a floor for `ref_std`.
    pub scale: f64,
    n: f64,
    first: f64,
    last: f64,
    min: f64,
    max: f64,
    sum: f64,
    sum2: f64,
    // Regression of value on the step index.
    sum_i: f64,
    sum_ii: f64,
    sum_ix: f64,
    /// Sum of the metric's share of the score.
    pub share: f64,
}

impl MetricStats {
    pub fn new(name: &str, ref_mean: f64, ref_std: f64, scale: f64) -> MetricStats {
        MetricStats {
            name: name.to_string(),
            ref_mean,
            ref_std,
            scale,
            n: 0.0,
            first: f64::NAN,
            last: f64::NAN,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            sum2: 0.0,
            sum_i: 0.0,
            sum_ii: 0.0,
            sum_ix: 0.0,
            share: 0.0,
        }
    }

    /// Adds the value at step `i` of the stretch with its share of the score.
    pub fn push(&mut self, i: f64, x: f64, share: f64) {
        if self.n == 0.0 {
            self.first = x;
        }
        self.n += 1.0;
        self.last = x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.sum += x;
        self.sum2 += x * x;
        self.sum_i += i;
        self.sum_ii += i * i;
        self.sum_ix += i * x;
        self.share += share;
    }

    pub fn mean(&self) -> f64 {
        self.sum / self.n.max(1.0)
    }

    fn std(&self) -> f64 {
        let m = self.mean();
        (self.sum2 / self.n.max(1.0) - m * m).max(0.0).sqrt()
    }

    /// The least-squares change over the stretch (slope × length).
    fn trend(&self) -> f64 {
        let n = self.n;
        let d = n * self.sum_ii - self.sum_i * self.sum_i;
        if n < 3.0 || d <= 0.0 {
            return 0.0;
        }
        let slope = (n * self.sum_ix - self.sum_i * self.sum) / d;
        slope * (n - 1.0)
    }

    /// The unit deviations are measured in: the recent spread, floored at 5 % of the
    /// metric's overall scale so a quiet hour does not make every wiggle a change.
    fn unit(&self) -> f64 {
        self.ref_std.max(0.05 * self.scale).max(1e-9)
    }

    pub fn change(&self) -> Change {
        if self.n == 0.0 {
            return Change::Normal;
        }
        let u = self.unit();
        let dev = (self.mean() - self.ref_mean) / u;
        let up = (self.max - self.ref_mean) / u;
        let down = (self.ref_mean - self.min) / u;
        let trend = self.trend();
        let range = self.max - self.min;
        if self.n >= 5.0
            && dev.abs() < 2.0
            && self.std() < 0.1 * self.ref_std
            && self.ref_std > 0.02 * self.scale
        {
            Change::Froze
        } else if self.n >= 5.0 && trend.abs() >= 2.0 * u && trend.abs() >= 0.6 * range {
            if trend > 0.0 {
                Change::RoseSteadily
            } else {
                Change::FellSteadily
            }
        } else if dev >= 2.0 {
            Change::Jumped
        } else if dev <= -2.0 {
            Change::Dropped
        } else if up >= 3.0 && up >= down {
            Change::SpikedUp
        } else if down >= 3.0 {
            Change::SpikedDown
        } else if self.std() > 2.0 * u {
            Change::Erratic
        } else {
            Change::Normal
        }
    }

    fn describe(&self, change: Change) -> String {
        let (name, usual) = (&self.name, value(self.ref_mean));
        match change {
            Change::RoseSteadily => format!(
                "{name} rose steadily from {} to {}",
                value(self.first),
                value(self.last)
            ),
            Change::FellSteadily => format!(
                "{name} fell steadily from {} to {}",
                value(self.first),
                value(self.last)
            ),
            Change::Jumped => format!("{name} jumped to {} (usually {usual})", value(self.mean())),
            Change::Dropped => {
                format!("{name} dropped to {} (usually {usual})", value(self.mean()))
            }
            Change::SpikedUp => format!("{name} spiked to {} (usually {usual})", value(self.max)),
            Change::SpikedDown => {
                format!("{name} dipped to {} (usually {usual})", value(self.min))
            }
            Change::Froze => format!("{name} froze at {}", value(self.mean())),
            Change::Erratic => format!(
                "{name} turned erratic (spread {}× its usual)",
                value(self.std() / self.unit())
            ),
            Change::Normal => {
                format!("{name} departed from its usual pattern while staying in range")
            }
        }
    }
}

/// What kind of resource a metric name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Cpu,
    Memory,
    Disk,
    Network,
    Other,
}

fn resource(name: &str) -> Resource {
    let n = name.to_ascii_lowercase();
    if n.contains("cpu") {
        Resource::Cpu
    } else if n.contains("ram") || n.contains("mem") {
        Resource::Memory
    } else if n.contains("disk") {
        Resource::Disk
    } else if n.contains("net") || n.contains("request") || n.contains("bytes") {
        Resource::Network
    } else {
        Resource::Other
    }
}

/// The metrics that carry most of the error, by share, most first: at least one, then
/// every metric with at least 20 % of the error, stopping once 70 % is covered.
pub fn top_metrics(stats: &[MetricStats]) -> Vec<usize> {
    let total: f64 = stats.iter().map(|s| s.share).sum::<f64>().max(1e-12);
    let mut order: Vec<usize> = (0..stats.len()).collect();
    order.sort_by(|&a, &b| stats[b].share.total_cmp(&stats[a].share));
    let mut top = Vec::new();
    let mut covered = 0.0;
    for i in order {
        let s = stats[i].share / total;
        if !top.is_empty() && (s < 0.2 || covered >= 0.7) {
            break;
        }
        top.push(i);
        covered += s;
    }
    top
}

/// The explanation of a stretch on `host` lasting `secs` seconds.
pub fn explain(stats: &[MetricStats], top: &[usize], host: &str, secs: i64) -> String {
    let changes: Vec<Change> = stats.iter().map(MetricStats::change).collect();
    // Describe the top metrics, and any other metric that clearly changed with them.
    let mut described: Vec<usize> = top.to_vec();
    for (i, c) in changes.iter().enumerate() {
        if *c != Change::Normal && !described.contains(&i) && stats[i].share > 0.05 {
            described.push(i);
        }
    }
    let mut text = described
        .iter()
        .map(|&i| stats[i].describe(changes[i]))
        .collect::<Vec<_>>()
        .join(" and ");
    let _ = write!(text, " for {}", duration(secs));
    if !host.is_empty() {
        let _ = write!(text, " on {host}");
    }
    let normal: Vec<&str> = (0..stats.len())
        .filter(|i| !described.contains(i) && changes[*i] == Change::Normal)
        .map(|i| stats[i].name.as_str())
        .take(3)
        .collect();
    if !normal.is_empty() {
        let _ = write!(text, " while {} stayed normal", join_and(&normal));
    }
    if let Some(h) = diagnose(stats, &changes, &described) {
        let _ = write!(text, ": consistent with {h}");
    }
    text
}

fn diagnose(
    stats: &[MetricStats],
    changes: &[Change],
    described: &[usize],
) -> Option<&'static str> {
    use Change::*;
    let of = |r: Resource| -> Vec<Change> {
        described
            .iter()
            .filter(|&&i| resource(&stats[i].name) == r)
            .map(|&i| changes[i])
            .collect()
    };
    let (cpu, mem, disk, net) = (
        of(Resource::Cpu),
        of(Resource::Memory),
        of(Resource::Disk),
        of(Resource::Network),
    );
    let changed: Vec<Change> = described.iter().map(|&i| changes[i]).collect();
    let any = |v: &[Change], cs: &[Change]| v.iter().any(|c| cs.contains(c));
    let up = [Jumped, SpikedUp, RoseSteadily];
    let down = [Dropped, SpikedDown, FellSteadily];
    if changed.len() >= 2 && changed.iter().filter(|c| **c == Froze).count() * 2 >= changed.len() {
        return Some("a hung process or a stalled metrics exporter");
    }
    if any(&mem, &[RoseSteadily]) && !any(&cpu, &up) {
        return Some("a memory leak");
    }
    if any(&disk, &[RoseSteadily, Jumped]) {
        return Some("a disk filling up (logs, dumps or a runaway writer)");
    }
    if any(&cpu, &down) && (any(&net, &down) || any(&mem, &down)) {
        return Some("a service stopping, crashing or restarting");
    }
    if any(&cpu, &up) && any(&net, &up) {
        return Some("a surge of traffic or work");
    }
    if any(&cpu, &up) && net.is_empty() {
        return Some("a runaway process or an unscheduled job");
    }
    if any(&net, &down) && cpu.is_empty() {
        return Some("lost traffic (upstream or network trouble)");
    }
    if changed.len() == 1 && changed[0] == Froze {
        return Some("a stuck sensor or a frozen process");
    }
    None
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [a] => a.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A duration for people: `45 s`, `12 min`, `3 h 10 min`, `2 d 4 h`.
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 => match (s % 3_600) / 60 {
            0 => format!("{} h", s / 3_600),
            m => format!("{} h {m} min", s / 3_600),
        },
        _ => match (s % 86_400) / 3_600 {
            0 => format!("{} d", s / 86_400),
            h => format!("{} d {h} h", s / 86_400),
        },
    }
}

/// A value with about three significant digits.
pub fn value(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        "n/a".into()
    } else if a >= 1e6 {
        format!("{:.3e}", x)
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(name: &str, values: &[f64], share: f64) -> MetricStats {
        let mut s = MetricStats::new(name, 50.0, 2.0, 10.0);
        for (i, &v) in values.iter().enumerate() {
            s.push(i as f64, v, share);
        }
        s
    }

    #[test]
    fn a_lone_steady_ram_rise_reads_as_a_memory_leak() {
        let ram: Vec<f64> = (0..190).map(|i| 50.0 + i as f64 * 0.2).collect();
        let cpu: Vec<f64> = (0..190).map(|i| 50.0 + (i % 3) as f64 - 1.0).collect();
        let s = vec![stats("cpu", &cpu, 0.05), stats("ram", &ram, 0.95)];
        let top = top_metrics(&s);
        assert_eq!(top, vec![1]);
        let text = explain(&s, &top, "db-1", 11_400);
        assert_eq!(
            text,
            "ram rose steadily from 50.0 to 87.8 for 3 h 10 min on db-1 while cpu stayed normal: consistent with a memory leak"
        );
    }

    #[test]
    fn changes_are_told_apart() {
        assert_eq!(stats("x", &[51.0; 10], 1.0).change(), Change::Froze);
        assert_eq!(stats("x", &[60.0; 10], 1.0).change(), Change::Jumped);
        assert_eq!(
            stats("x", &[70.0, 71.0, 69.0, 70.0, 70.5], 1.0).change(),
            Change::Jumped
        );
        assert_eq!(
            stats("x", &[40.0, 41.0, 39.0], 1.0).change(),
            Change::Dropped
        );
        assert_eq!(
            stats("x", &[50.0, 58.0, 50.0, 49.0, 51.0, 50.0], 1.0).change(),
            Change::SpikedUp
        );
        assert_eq!(
            stats("x", &[50.0, 51.0, 49.0], 1.0).change(),
            Change::Normal
        );
        let down: Vec<f64> = (0..20).map(|i| 50.0 - i as f64).collect();
        assert_eq!(stats("x", &down, 1.0).change(), Change::FellSteadily);
    }

    #[test]
    fn a_service_going_down_is_diagnosed() {
        let s = vec![
            stats("cpu", &[2.0, 1.0, 2.0, 1.0, 1.5], 0.5),
            stats("net_in", &[0.0, 0.0, 0.1, 0.0, 0.0], 0.5),
        ];
        let top = top_metrics(&s);
        let text = explain(&s, &top, "web-2", 600);
        assert!(
            text.ends_with("consistent with a service stopping, crashing or restarting"),
            "{text}"
        );
        assert!(text.contains("for 10 min on web-2"), "{text}");
    }

    #[test]
    fn durations_and_values_read_well() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(11_400), "3 h 10 min");
        assert_eq!(duration(7_200), "2 h");
        assert_eq!(duration(2 * 86_400 + 4 * 3_600), "2 d 4 h");
        assert_eq!(value(87.84), "87.8");
        assert_eq!(value(0.1234), "0.12");
        assert_eq!(value(1234.0), "1234");
    }
}
