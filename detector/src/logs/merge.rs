//! `detector merge`: several logs — each in its own format (text, JSON lines, logfmt; found
//! by `auto` per file unless given) — merged into one JSON-lines firehose in time order,
//! each line keeping its source file and line number: the input every log command reads
//! with `--format json`.
//!
//! The merge streams: one line per file is held, and the earliest is written next (ties by
//! the order the files were given). A line without a time takes the time of the line
//! before it in its file, so it stays where its file put it; a file whose times go
//! backwards is merged as it stands (its lines never reorder) and the backward steps are
//! counted.

use std::io::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use vigil_core::AtomicFile;
use vigil_core::logs::format::Line;
use vigil_core::logs::sessions::time_ms;
use vigil_core::logs::{LineReport, LogFormat, LogReader, Skip};
use vigil_core::series::BadLines;

use super::patterns::iso;
use crate::Error;

/// A `detector merge` run.
#[derive(Debug, Clone)]
pub struct MergeJob {
    pub inputs: Vec<PathBuf>,
    /// A format for every input, or `auto` (found per file).
    pub format: String,
    pub filter: Option<String>,
    pub bad_lines: BadLines,
    pub max_line_bytes: usize,
    pub out: PathBuf,
}

/// What one input gave.
#[derive(Debug, Clone, Serialize)]
pub struct MergedInput {
    pub path: PathBuf,
    pub format: String,
    pub report: LineReport,
    pub written: u64,
    /// Lines whose time was earlier than the line before them in the same file.
    pub backward_steps: u64,
    /// Lines without a time (placed after the line before them).
    pub without_time: u64,
}

/// What `detector merge` did.
#[derive(Debug, Clone, Serialize)]
pub struct MergeSummary {
    pub out: PathBuf,
    pub inputs: Vec<MergedInput>,
    pub written: u64,
    pub seconds: f64,
}

/// One open input: its reader, format and the line it holds.
struct Source {
    reader: LogReader<std::io::BufReader<std::fs::File>>,
    format: LogFormat,
    index: [Option<usize>; 5],
    date_time: (Option<usize>, Option<usize>),
    name: String,
    head: Option<(i64, serde_json::Value)>,
    last_ms: Option<i64>,
    stats: MergedInput,
}

const NAMES: [&str; 5] = ["Timestamp", "Host", "Level", "Component", "Content"];

impl Source {
    /// Reads the next kept line into `head`.
    fn advance(&mut self, bad_lines: BadLines) -> Result<(), Error> {
        self.head = None;
        while let Some((n, line)) = self.reader.next_line()? {
            let fields = match self.format.line(line) {
                Line::Fields(f) => f,
                Line::Unfit => {
                    self.reader.report.skip(n, Skip::NoHeader);
                    continue;
                }
                Line::Filtered => {
                    self.reader.report.skip(n, Skip::Filtered);
                    continue;
                }
                Line::Malformed(why) => {
                    let path = self.stats.path.clone();
                    self.reader.report.malformed(&path, n, why, bad_lines)?;
                    continue;
                }
            };
            let get = |i: Option<usize>| i.map(|i| fields[i].to_string());
            let t = match (self.index[0], self.date_time) {
                (Some(t), _) => time_ms(&fields[t]),
                (None, (Some(d), Some(t))) => time_ms(&format!("{} {}", fields[d], fields[t])),
                _ => None,
            };
            let at = match (t, self.last_ms) {
                (Some(t), Some(last)) if t < last => {
                    self.stats.backward_steps += 1;
                    last // never reorder a file's own lines
                }
                (Some(t), _) => t,
                (None, last) => {
                    self.stats.without_time += 1;
                    last.unwrap_or(i64::MIN)
                }
            };
            self.last_ms = Some(at);
            let mut o = serde_json::Map::new();
            if let Some(t) = t {
                o.insert("timestamp".into(), iso(t).into());
            }
            for (key, i) in [("host", 1), ("level", 2), ("service", 3)] {
                if let Some(v) = get(self.index[i]).filter(|v| !v.is_empty()) {
                    o.insert(key.into(), v.into());
                }
            }
            o.insert(
                "message".into(),
                get(self.index[4]).unwrap_or_default().into(),
            );
            o.insert("source".into(), self.name.clone().into());
            o.insert("line".into(), n.into());
            self.head = Some((at, serde_json::Value::Object(o)));
            return Ok(());
        }
        Ok(())
    }
}

/// Merges `job.inputs` into `job.out` (JSON lines, written under a temporary name and
/// renamed).
pub fn merge(job: &MergeJob) -> Result<MergeSummary, Error> {
    let started = std::time::Instant::now();
    if job.inputs.len() < 2 {
        return Err(Error::Option {
            flag: "--input",
            message: format!("merging needs two logs or more, found {}", job.inputs.len()),
        });
    }
    let mut sources = Vec::new();
    for path in &job.inputs {
        let (format_text, _) =
            vigil_core::logs::detect::resolve(&job.format, path, job.max_line_bytes)?;
        let format = LogFormat::new(&format_text)?
            .with_filter(job.filter.as_deref())
            .map_err(|e| vigil_core::Error::file(path, e.to_string()))?;
        let index = NAMES.map(|n| format.field_index(n));
        let date_time = (format.field_index("Date"), format.field_index("Time"));
        let mut s = Source {
            reader: LogReader::open(path, job.max_line_bytes)?,
            format,
            index,
            date_time,
            name: path.display().to_string(),
            head: None,
            last_ms: None,
            stats: MergedInput {
                path: path.clone(),
                format: format_text,
                report: LineReport::default(),
                written: 0,
                backward_steps: 0,
                without_time: 0,
            },
        };
        s.advance(job.bad_lines)?;
        sources.push(s);
    }
    let fail = |source: std::io::Error| Error::Write {
        path: job.out.clone(),
        source,
    };
    if let Some(dir) = job.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::OutDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut file = AtomicFile::create(&job.out).map_err(fail)?;
    let mut w = std::io::BufWriter::new(&mut file);
    let mut written = 0u64;
    loop {
        // The earliest head; ties go to the file given first.
        let next = sources
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.head.as_ref().map(|(t, _)| (*t, i)))
            .min();
        let Some((_, i)) = next else { break };
        let (_, value) = sources[i].head.take().expect("a head");
        serde_json::to_writer(&mut w, &value).map_err(|e| fail(e.into()))?;
        w.write_all(b"\n").map_err(fail)?;
        written += 1;
        sources[i].stats.written += 1;
        sources[i].advance(job.bad_lines)?;
    }
    w.flush().map_err(fail)?;
    drop(w);
    let inputs: Vec<MergedInput> = sources
        .into_iter()
        .map(|s| MergedInput {
            report: s.reader.report.clone(),
            ..s.stats
        })
        .collect();
    for i in &inputs {
        if i.report.lines == 0 {
            return Err(vigil_core::Error::file(
                &i.path,
                "the log is empty: no lines to merge".into(),
            )
            .into());
        }
    }
    file.commit().map_err(fail)?;
    Ok(MergeSummary {
        out: job.out.clone(),
        inputs,
        written,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The summary `detector merge` prints.
pub fn describe(s: &MergeSummary) -> String {
    let mut out = format!(
        "detector: {} lines merged in time order into {} ({:.2} s)",
        s.written,
        s.out.display(),
        s.seconds
    );
    for i in &s.inputs {
        out.push_str(&format!(
            "\n  {}: {} lines as '{}'; {}{}{}",
            i.path.display(),
            i.written,
            i.format,
            i.report.describe(&i.path),
            if i.backward_steps > 0 {
                format!(
                    "; {} times earlier than the line before (kept in file order)",
                    i.backward_steps
                )
            } else {
                String::new()
            },
            if i.without_time > 0 {
                format!(
                    "; {} without a time (kept after the line before)",
                    i.without_time
                )
            } else {
                String::new()
            },
        ));
    }
    out
}
