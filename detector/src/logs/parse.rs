//! `detector parse`: a log → its templates and its lines with their template.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use vigil_core::AtomicFile;
use vigil_core::logs::format::Line;
use vigil_core::logs::{LineReport, LogFormat, LogReader, Miner, MinerConfig};
use vigil_core::series::BadLines;

use crate::Error;

/// A `detector parse` run.
#[derive(Debug, Clone)]
pub struct ParseJob {
    /// The log file.
    pub input: PathBuf,
    /// The header format (logparser style).
    pub format: String,
    /// The miner's settings.
    pub miner: MinerConfig,
    /// Lines longer than this many bytes are skipped and counted.
    pub max_line_bytes: usize,
    /// A jq program run on each structured record first.
    pub filter: Option<String>,
    /// Malformed structured records: an error, or skipped and counted.
    pub bad_lines: BadLines,
    /// Output folder: templates.csv, structured.csv, parse.json.
    pub out: PathBuf,
}

/// What `detector parse` did.
#[derive(Debug, Clone, Serialize)]
pub struct ParseSummary {
    pub input: PathBuf,
    /// The header format used (the one found, for `auto`).
    pub format: String,
    /// For `auto`: the share of the sampled first lines the format found fits.
    pub detected: Option<f64>,
    pub config: MinerConfig,
    pub report: LineReport,
    pub lines_parsed: u64,
    pub templates: usize,
    /// Reading, splitting and mining: learning the templates and each line's template
    /// (one pass over the file).
    pub parse_seconds: f64,
    pub lines_per_second: f64,
    /// Everything, writing the outputs included.
    pub total_seconds: f64,
}

/// Mines `args.input`'s templates and writes `templates.csv` (`id,template,count`),
/// `structured.csv` (each kept line's number, fields and final template) and
/// `parse.json` into `args.out`.
///
/// Two passes over the file: one for the miner to learn and give each line its template
/// ([`Miner::learn`]), one to write `structured.csv`.
pub fn parse(args: &ParseJob) -> Result<ParseSummary, Error> {
    let started = Instant::now();
    let (format_text, detected) =
        vigil_core::logs::detect::resolve(&args.format, &args.input, args.max_line_bytes)?;
    let format = LogFormat::new(&format_text)?.with_filter(args.filter.as_deref())?;
    let mut miner = Miner::new(args.miner.clone())?;
    let (ids, report) =
        miner.learn_file(&args.input, &format, args.max_line_bytes, args.bad_lines)?;
    let parse_seconds = started.elapsed().as_secs_f64();
    if report.lines == 0 {
        return Err(vigil_core::Error::file(
            &args.input,
            "the log is empty: no lines to parse".into(),
        )
        .into());
    }

    std::fs::create_dir_all(&args.out).map_err(|source| Error::OutDir {
        path: args.out.clone(),
        source,
    })?;
    let templates = miner.templates();
    let path = args.out.join("templates.csv");
    write_csv(&path, |w| {
        w.write_record(["id", "template", "count"])?;
        for (i, t) in templates.iter().enumerate() {
            w.write_record([&i.to_string(), t.text(), &t.count().to_string()])?;
        }
        Ok(())
    })?;

    let path = args.out.join("structured.csv");
    let mut reader = LogReader::open(&args.input, args.max_line_bytes)?;
    write_csv(&path, |w| {
        let mut header = vec!["line".to_string()];
        header.extend(format.fields().iter().cloned());
        header.extend(["template_id".to_string(), "template".to_string()]);
        w.write_record(&header)?;
        let mut ids = ids.iter();
        while let Some((n, line)) = reader.next_line().map_err(std::io::Error::other)? {
            let Line::Fields(fields) = format.line(line) else {
                continue;
            };
            let id = ids
                .next()
                .ok_or_else(|| std::io::Error::other("the input changed while being parsed"))?;
            w.write_field(n.to_string())?;
            for f in &fields {
                w.write_field(f.as_bytes())?;
            }
            match id {
                Some(id) => {
                    w.write_field(id.to_string())?;
                    w.write_field(templates[id.index()].text())?;
                }
                None => {
                    w.write_field("")?;
                    w.write_field("")?;
                }
            }
            w.write_record(None::<&[u8]>)?;
        }
        if ids.next().is_some() {
            return Err(std::io::Error::other("the input changed while being parsed").into());
        }
        Ok(())
    })?;

    let total_seconds = started.elapsed().as_secs_f64();
    let summary = ParseSummary {
        input: args.input.clone(),
        format: format_text,
        detected: detected.map(|d| d.fitted as f64 / d.sampled.max(1) as f64),
        config: miner.config().clone(),
        lines_parsed: ids.len() as u64,
        templates: templates.len(),
        lines_per_second: report.lines as f64 / parse_seconds.max(1e-9),
        report,
        parse_seconds,
        total_seconds,
    };
    crate::write_json(&args.out.join("parse.json"), &summary)?;
    Ok(summary)
}

/// The summary line `detector parse` prints.
pub fn describe(s: &ParseSummary, out: &Path) -> String {
    format!(
        "detector: {} lines, {} parsed into {} templates in {:.2} s ({:.0} lines/s; {:.2} s with the outputs); format '{}'{}; {} → {}",
        s.report.lines,
        s.lines_parsed,
        s.templates,
        s.parse_seconds,
        s.lines_per_second,
        s.total_seconds,
        s.format,
        s.detected.map_or(String::new(), |share| format!(
            " (found on the first lines: fits {:.0} % of them)",
            100.0 * share
        )),
        s.report.describe(&s.input),
        out.display()
    )
}

/// Writes a CSV atomically through `fill`.
pub fn write_csv(
    path: &Path,
    fill: impl FnOnce(&mut csv::Writer<&mut AtomicFile>) -> Result<(), csv::Error>,
) -> Result<(), Error> {
    let fail = |source: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = AtomicFile::create(path).map_err(fail)?;
    {
        let mut w = csv::Writer::from_writer(&mut file);
        fill(&mut w).map_err(|e| fail(e.into()))?;
        w.flush().map_err(fail)?;
    }
    file.commit().map_err(fail)
}
