//! The CSV outputs, each written to a temporary file and renamed into place on success.
//!
//! `scores.csv`: one row per input row, in input order —
//! `timestamp,host,score,threshold,anomaly,<metric>_share…,baseline_score,baseline_threshold,baseline_anomaly`
//! (`score` empty for rows no window scored: a series' first rows, merged off-grid rows).
//!
//! `anomalies.csv`: one row per anomalous stretch —
//! `host,start,end,peak_time,peak_score,threshold,top_metrics,explanation`
//! (`top_metrics` `;`-separated, most error first).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::detect::{Anomaly, Row, Sink};
use vigil_core::AtomicFile;
use vigil_core::fixed::push_fixed;
use vigil_core::time::{push_rfc3339, rfc3339};

fn out_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `scores.csv`.
pub struct ScoresCsv {
    path: PathBuf,
    file: AtomicFile,
    buf: Vec<u8>,
    threshold: f64,
    baseline_threshold: f64,
}

/// A score with enough digits to compare with the threshold.
fn push_score(buf: &mut Vec<u8>, x: f64) {
    if x.abs() >= 1e6 {
        buf.extend_from_slice(format!("{x:.4e}").as_bytes());
    } else {
        push_fixed(buf, x, 4);
    }
}

impl ScoresCsv {
    pub fn create(
        path: &Path,
        columns: &[String],
        threshold: f64,
        baseline_threshold: f64,
    ) -> Result<ScoresCsv, Error> {
        let mut file = AtomicFile::create(path).map_err(|e| out_err(path, e))?;
        let shares: Vec<String> = columns.iter().map(|c| format!("{c}_share")).collect();
        writeln!(
            file,
            "timestamp,host,score,threshold,anomaly,{},baseline_score,baseline_threshold,baseline_anomaly",
            shares.join(",")
        )
        .map_err(|e| out_err(path, e))?;
        Ok(ScoresCsv {
            path: path.to_path_buf(),
            file,
            buf: Vec::with_capacity(256),
            threshold,
            baseline_threshold,
        })
    }

    pub fn commit(self) -> Result<(), Error> {
        let path = self.path;
        self.file.commit().map_err(|e| out_err(&path, e))
    }
}

impl Sink for ScoresCsv {
    fn row(&mut self, host: &str, row: &Row) -> Result<(), Error> {
        let b = &mut self.buf;
        b.clear();
        push_rfc3339(b, row.time);
        b.push(b',');
        csv_field(b, host);
        b.push(b',');
        if row.scored {
            push_score(b, f64::from(row.score));
        }
        b.push(b',');
        push_score(b, self.threshold);
        b.extend_from_slice(if row.anomaly { b",1" } else { b",0" });
        for s in &row.shares {
            b.push(b',');
            if row.scored {
                push_fixed(b, f64::from(*s), 3);
            }
        }
        b.push(b',');
        if row.scored {
            push_score(b, f64::from(row.baseline_score));
        }
        b.push(b',');
        push_score(b, self.baseline_threshold);
        b.extend_from_slice(if row.baseline_anomaly {
            b",1\n"
        } else {
            b",0\n"
        });
        self.file.write_all(b).map_err(|e| out_err(&self.path, e))
    }
}

/// A CSV field, quoted when it needs to be.
fn csv_field(buf: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        buf.push(b'"');
        buf.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        buf.push(b'"');
    } else {
        buf.extend_from_slice(text.as_bytes());
    }
}

/// Writes `anomalies.csv` (and keeps the anomalies for the charts and the summary).
pub struct AnomaliesCsv {
    path: PathBuf,
    writer: csv::Writer<AtomicFile>,
    pub anomalies: Vec<Anomaly>,
    /// At most this many are kept in memory (all are written).
    keep: usize,
}

impl AnomaliesCsv {
    pub fn create(path: &Path, keep: usize) -> Result<AnomaliesCsv, Error> {
        let file = AtomicFile::create(path).map_err(|e| out_err(path, e))?;
        let mut writer = csv::Writer::from_writer(file);
        writer
            .write_record([
                "host",
                "start",
                "end",
                "peak_time",
                "peak_score",
                "threshold",
                "top_metrics",
                "explanation",
            ])
            .map_err(|e| out_err(path, e))?;
        Ok(AnomaliesCsv {
            path: path.to_path_buf(),
            writer,
            anomalies: Vec::new(),
            keep,
        })
    }

    pub fn commit(self) -> Result<(Vec<Anomaly>, PathBuf), Error> {
        let path = self.path;
        let file = self.writer.into_inner().map_err(|e| out_err(&path, e))?;
        file.commit().map_err(|e| out_err(&path, e))?;
        Ok((self.anomalies, path))
    }
}

impl Sink for AnomaliesCsv {
    fn row(&mut self, _host: &str, _row: &Row) -> Result<(), Error> {
        Ok(())
    }

    fn anomaly(&mut self, a: &Anomaly) -> Result<(), Error> {
        self.writer
            .write_record([
                a.host.as_str(),
                &rfc3339(a.start),
                &rfc3339(a.end),
                &rfc3339(a.peak_time),
                &format!("{:.4}", a.peak_score),
                &format!("{:.4}", a.threshold),
                &a.top_metrics.join(";"),
                &a.explanation,
            ])
            .map_err(|e| out_err(&self.path, e))?;
        if self.anomalies.len() < self.keep {
            self.anomalies.push(a.clone());
        }
        Ok(())
    }
}

/// Sends every row and anomaly to each of several sinks.
pub struct Fanout<'a>(pub Vec<&'a mut dyn Sink>);

impl Sink for Fanout<'_> {
    fn row(&mut self, host: &str, row: &Row) -> Result<(), Error> {
        for s in &mut self.0 {
            s.row(host, row)?;
        }
        Ok(())
    }

    fn anomaly(&mut self, a: &Anomaly) -> Result<(), Error> {
        for s in &mut self.0 {
            s.anomaly(a)?;
        }
        Ok(())
    }
}

/// Drops everything (a run with no live view).
pub struct Discard;

impl Sink for Discard {
    fn row(&mut self, _: &str, _: &Row) -> Result<(), Error> {
        Ok(())
    }
}

/// Keeps every row in memory (small inputs: tests, the NAB evaluation).
#[derive(Default)]
pub struct Collect {
    pub rows: Vec<(String, Row)>,
    pub anomalies: Vec<Anomaly>,
}

impl Sink for Collect {
    fn row(&mut self, host: &str, row: &Row) -> Result<(), Error> {
        self.rows.push((host.to_string(), row.clone()));
        Ok(())
    }

    fn anomaly(&mut self, a: &Anomaly) -> Result<(), Error> {
        self.anomalies.push(a.clone());
        Ok(())
    }
}
