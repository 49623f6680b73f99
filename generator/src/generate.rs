//! Running a scenario and writing its dataset.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::Error;
use crate::charts::{self, HostCharts};
use crate::host::{ChunkOut, FleetNoise, HostSim};
use crate::incident::{self, Incident};
use crate::logs::{LogLine, SessionLabel};
use crate::scenario::Scenario;
use vigil_core::label::write_labels;
use vigil_core::session_label::{self, write_session_labels};
use vigil_core::time::push_rfc3339_millis;
use vigil_core::{AtomicFile, io::write_atomic};

/// The header of `metrics.csv`.
pub const METRICS_HEADER: &str = "timestamp,host,cpu,ram,disk,net_in,net_out,processes\n";

/// How to write a dataset.
#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    /// Where to draw charts, if at all.
    pub charts: Option<PathBuf>,
    pub progress: bool,
}

/// What a run wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub hosts: usize,
    pub steps: usize,
    pub metric_rows: u64,
    pub metric_bytes: u64,
    pub log_lines: u64,
    pub log_bytes: u64,
    pub incidents: usize,
    pub incidents_by_kind: std::collections::BTreeMap<String, usize>,
    pub anomalous_sessions: usize,
    /// Normal sessions cut by the start or the end of a file (listed, not anomalous).
    pub cut_sessions: usize,
    pub charts: usize,
    /// What checking the scenario changed on purpose (see `Scenario::notes`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    /// Wall time; not written to `summary.json`, which must be reproducible.
    #[serde(skip)]
    pub seconds: f64,
}

/// The files of one part of the output (`train/`, `test/`, or the whole).
struct Part {
    dir: PathBuf,
    metrics: AtomicFile,
    logs: Option<AtomicFile>,
    jsonl: Option<AtomicFile>,
    /// First step that belongs to this part.
    first_step: usize,
    sessions: Vec<SessionLabel>,
    /// Normal sessions the file's start or end cuts: (session, host, kind).
    cut: Vec<(String, usize, &'static str)>,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

impl Part {
    fn open(dir: PathBuf, first_step: usize, scenario: &Scenario) -> Result<Part, Error> {
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let open = |name: &str| {
            let p = dir.join(name);
            AtomicFile::create(&p).map_err(io_err(&p))
        };
        let mut metrics = open("metrics.csv")?;
        metrics
            .write_all(METRICS_HEADER.as_bytes())
            .map_err(io_err(&dir))?;
        let logs = scenario
            .logs
            .enabled
            .then(|| open("logs.log"))
            .transpose()?;
        let jsonl = (scenario.logs.enabled && scenario.logs.jsonl)
            .then(|| open("logs.jsonl"))
            .transpose()?;
        Ok(Part {
            dir,
            metrics,
            logs,
            jsonl,
            first_step,
            sessions: Vec::new(),
            cut: Vec::new(),
        })
    }
}

/// Simulates `scenario` and writes its dataset under `options.out`.
///
/// Without a split: `metrics.csv`, `logs.log` (and `logs.jsonl`), `labels.csv` and
/// `session_labels.csv` in `out`. With one, the same files in `out/train/` (no incidents)
/// and `out/test/`. Also `scenario.toml` (the effective scenario), `summary.json` and,
/// when asked, the charts (by default in `out/charts/`).
pub fn generate(scenario: &Scenario, options: &Options) -> Result<Summary, Error> {
    let began = Instant::now();
    let tl = &scenario.timeline;
    let plan = incident::plan(scenario);
    let out = &options.out;
    std::fs::create_dir_all(out).map_err(io_err(out))?;

    let mut parts = match scenario.train_steps {
        Some(train) => vec![
            Part::open(out.join("train"), 0, scenario)?,
            Part::open(out.join("test"), train, scenario)?,
        ],
        None => vec![Part::open(out.clone(), 0, scenario)?],
    };

    let mut sims: Vec<HostSim> = (0..scenario.hosts.len())
        .map(|h| {
            let mut sim = HostSim::new(scenario, h, &plan, scenario.logs.enabled, true);
            if options.charts.is_some() {
                sim.charts = Some(HostCharts::new(scenario));
            }
            sim
        })
        .collect();
    let mut fleet = FleetNoise::new(scenario);
    let progress = progress_bar(options.progress, tl.steps as u64);
    let chunk = ((86_400 / tl.interval) as usize).clamp(1, 20_000);
    let mut summary = Summary {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        hosts: scenario.hosts.len(),
        steps: tl.steps,
        notes: scenario.notes.clone(),
        ..Summary::default()
    };
    let mut line = Vec::with_capacity(256);
    // Each session's part, to find the sessions the split cuts in two.
    let mut session_part: HashMap<String, usize> = HashMap::new();
    let mut split_cut: Vec<(String, usize, usize)> = Vec::new();

    let mut first = 0;
    while first < tl.steps {
        let n = chunk.min(tl.steps - first);
        let noise = fleet.next_chunk(n);
        let outs: Vec<ChunkOut> = sims
            .par_iter_mut()
            .map(|s| s.run_chunk(first, &noise))
            .collect();

        for k in 0..n {
            let step = first + k;
            let part = part_for(&mut parts, step);
            for o in &outs {
                let begin = if k == 0 { 0 } else { o.row_ends[k - 1] };
                let row = &o.rows[begin..o.row_ends[k]];
                part.metrics.write_all(row).map_err(io_err(&part.dir))?;
                summary.metric_bytes += row.len() as u64;
            }
        }
        summary.metric_rows += (n * outs.len()) as u64;

        let mut lines: Vec<&LogLine> = outs.iter().flat_map(|o| &o.logs).collect();
        lines.sort_by_key(|l| (l.ts_ms, l.host, l.seq));
        let boundary_ms = scenario.train_steps.map(|s| tl.time_of(s) * 1000);
        for l in lines {
            let step = if boundary_ms.is_some_and(|b| l.ts_ms >= b) {
                usize::MAX
            } else {
                0
            };
            if let Some(session) = &l.session {
                let here = part_index(&parts, step);
                match session_part.get(session) {
                    None => {
                        session_part.insert(session.clone(), here);
                    }
                    Some(&p) if p != here => {
                        split_cut.push((session.clone(), l.host, p));
                        session_part.insert(session.clone(), here);
                    }
                    Some(_) => {}
                }
            }
            let part = part_for(&mut parts, step);
            if let Some(f) = part.logs.as_mut() {
                line.clear();
                format_text(&mut line, l, scenario);
                f.write_all(&line).map_err(io_err(&part.dir))?;
                summary.log_lines += 1;
                summary.log_bytes += line.len() as u64;
            }
            if let Some(f) = part.jsonl.as_mut() {
                line.clear();
                format_json(&mut line, l, scenario);
                f.write_all(&line).map_err(io_err(&part.dir))?;
            }
        }
        for o in outs {
            for s in o.sessions {
                let step = plan
                    .iter()
                    .find(|i| i.id == s.incident)
                    .map_or(0, |i| i.start);
                part_for(&mut parts, step).sessions.push(s);
            }
        }
        first += n;
        progress.set_position(first as u64);
    }
    progress.finish_and_clear();
    mark_cut_sessions(&mut parts, &sims, split_cut);

    for part in parts {
        let Part {
            dir,
            metrics,
            logs,
            jsonl,
            first_step,
            sessions,
            cut,
        } = part;
        metrics.commit().map_err(io_err(&dir))?;
        for f in [logs, jsonl].into_iter().flatten() {
            f.commit().map_err(io_err(&dir))?;
        }
        let last_step = if first_step == 0 {
            scenario.train_steps.unwrap_or(tl.steps)
        } else {
            tl.steps
        };
        let labels: Vec<_> = plan
            .iter()
            // Log-only incidents never touch the metrics: their sessions are their labels.
            .filter(|i| i.start >= first_step && i.start < last_step && !i.kind.is_log_only())
            .map(|i| i.label(scenario))
            .collect();
        write_labels(&dir.join("labels.csv"), &labels)?;
        let bent = sessions.iter().map(|s| session_label::SessionLabel {
            session: &s.session,
            host: &scenario.hosts[s.host].name,
            incident: Some(s.incident),
            kind: s.kind.name(),
            anomalous: true,
        });
        let cut_rows = cut
            .iter()
            .map(|(session, host, kind)| session_label::SessionLabel {
                session,
                host: &scenario.hosts[*host].name,
                incident: None,
                kind,
                anomalous: false,
            });
        write_session_labels(&dir.join("session_labels.csv"), bent.chain(cut_rows))?;
        summary.cut_sessions += cut.len();
        summary.anomalous_sessions += sessions.len();
    }

    summary.incidents = plan.len();
    for i in &plan {
        *summary
            .incidents_by_kind
            .entry(i.kind.name().to_string())
            .or_default() += 1;
    }
    let scenario_path = out.join("scenario.toml");
    let echo = format!(
        "# The effective scenario of this dataset (after command-line overrides).\n{}",
        scenario.file.to_toml()
    );
    write_atomic(&scenario_path, echo.as_bytes()).map_err(io_err(&scenario_path))?;

    if let Some(dir) = &options.charts {
        let host_charts: Vec<HostCharts> = sims.into_iter().filter_map(|s| s.charts).collect();
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        summary.charts = charts::render(dir, scenario, &host_charts, &plan)?.len();
    }
    for path in remove_stale(out, scenario)? {
        summary.notes.push(format!(
            "removed {}, which an earlier run left and this one does not write",
            path.display()
        ));
    }
    summary.seconds = began.elapsed().as_secs_f64();
    let summary_path = out.join("summary.json");
    let mut json = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    json.push(b'\n');
    write_atomic(&summary_path, &json).map_err(io_err(&summary_path))?;
    Ok(summary)
}

/// The dataset files a part (`out`, or `out/train` and `out/test`) may hold.
const PART_FILES: [&str; 5] = [
    "metrics.csv",
    "logs.log",
    "logs.jsonl",
    "labels.csv",
    "session_labels.csv",
];

/// Removes the dataset files an earlier run left in `out` that this run did not write
/// (the other layout's part folders or files, logs it no longer writes), so the folder
/// never mixes two runs; only files of [`PART_FILES`]' names, and part folders left
/// empty. Returns what it removed.
fn remove_stale(out: &Path, scenario: &Scenario) -> Result<Vec<PathBuf>, Error> {
    let split_dirs = [out.join("train"), out.join("test")];
    let (ours, theirs): (Vec<PathBuf>, Vec<PathBuf>) = match scenario.train_steps {
        Some(_) => (split_dirs.to_vec(), vec![out.to_path_buf()]),
        None => (vec![out.to_path_buf()], split_dirs.to_vec()),
    };
    let written = |name: &str| match name {
        "logs.log" => scenario.logs.enabled,
        "logs.jsonl" => scenario.logs.enabled && scenario.logs.jsonl,
        _ => true,
    };
    let mut removed = Vec::new();
    let mut remove = |path: PathBuf| -> Result<(), Error> {
        if path.is_file() {
            std::fs::remove_file(&path).map_err(io_err(&path))?;
            removed.push(path);
        }
        Ok(())
    };
    for dir in &ours {
        for name in PART_FILES.iter().filter(|n| !written(n)) {
            remove(dir.join(name))?;
        }
    }
    for dir in &theirs {
        for name in PART_FILES {
            remove(dir.join(name))?;
        }
        if dir != out {
            // Only if nothing else is in it.
            let _ = std::fs::remove_dir(dir);
        }
    }
    Ok(removed)
}

/// The index of the part that holds `step` (parts are in step order).
fn part_index(parts: &[Part], step: usize) -> usize {
    parts
        .iter()
        .rposition(|p| p.first_step <= step)
        .unwrap_or(0)
}

/// The part that holds `step`.
fn part_for(parts: &mut [Part], step: usize) -> &mut Part {
    let i = part_index(parts, step);
    &mut parts[i]
}

/// Records the normal sessions a file cuts: those the split divides (the end of the
/// earlier file, the start of the later) and those still open when the simulation ends.
/// A session an incident bent stays an anomaly, cut or not.
fn mark_cut_sessions(parts: &mut [Part], sims: &[HostSim], split: Vec<(String, usize, usize)>) {
    let bent: HashSet<String> = parts
        .iter()
        .flat_map(|p| p.sessions.iter().map(|s| s.session.clone()))
        .collect();
    let mut marked: HashSet<String> = HashSet::new();
    for (session, host, earlier) in split {
        if bent.contains(&session) || !marked.insert(session.clone()) {
            continue;
        }
        parts[earlier]
            .cut
            .push((session.clone(), host, "cut_by_file_end"));
        if let Some(later) = parts.get_mut(earlier + 1) {
            later.cut.push((session, host, "cut_by_file_start"));
        }
    }
    let Some(last) = parts.last_mut() else {
        return;
    };
    for (host, sim) in sims.iter().enumerate() {
        for session in sim.open_sessions() {
            if !bent.contains(&session) && marked.insert(session.clone()) {
                last.cut.push((session, host, "cut_by_file_end"));
            }
        }
    }
}

fn progress_bar(enabled: bool, steps: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} simulating [{bar:40}] {percent}% {eta} left")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn format_text(buf: &mut Vec<u8>, l: &LogLine, scenario: &Scenario) {
    push_rfc3339_millis(buf, l.ts_ms);
    buf.push(b' ');
    buf.extend_from_slice(scenario.hosts[l.host].name.as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(l.level.as_str().as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(l.component.as_bytes());
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(l.message.as_bytes());
    buf.push(b'\n');
}

fn format_json(buf: &mut Vec<u8>, l: &LogLine, scenario: &Scenario) {
    let mut ts = Vec::with_capacity(24);
    push_rfc3339_millis(&mut ts, l.ts_ms);
    let value = serde_json::json!({
        "timestamp": String::from_utf8_lossy(&ts),
        "host": scenario.hosts[l.host].name,
        "level": l.level.as_str(),
        "component": l.component,
        "session": l.session,
        "message": l.message,
    });
    // Serialising a `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, &value);
    buf.push(b'\n');
}

/// Simulates `scenario` with the given incident plan and returns every host's values,
/// host-major, without writing anything (for tests and analyses).
pub fn simulate(scenario: &Scenario, plan: &[Incident]) -> Vec<Vec<[f64; 5]>> {
    let tl = &scenario.timeline;
    let mut sims: Vec<HostSim> = (0..scenario.hosts.len())
        .map(|h| HostSim::new(scenario, h, plan, false, false))
        .collect();
    let mut values = vec![Vec::with_capacity(tl.steps); sims.len()];
    let mut fleet = FleetNoise::new(scenario);
    let chunk = 10_000;
    let mut first = 0;
    while first < tl.steps {
        let n = chunk.min(tl.steps - first);
        let noise = fleet.next_chunk(n);
        for (h, sim) in sims.iter_mut().enumerate() {
            values[h].extend(sim.run_chunk(first, &noise).values);
        }
        first += n;
    }
    values
}
