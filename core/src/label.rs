//! Ground-truth incident labels: `labels.csv`.
//!
//! One row per incident on one host. Columns, in order:
//! `id,host,start,end,kind,metrics,cause,detail` — `start`/`end` are RFC 3339 UTC and the
//! interval is half-open `[start, end)`; `metrics` is a `;`-separated list of the metrics the
//! incident touched; `cause` is the `id` of the incident that set this one off (cascades),
//! empty for a root incident. Readers need only `host,start,end`; the rest is optional.

use crate::Error;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::io::AtomicFile;
use crate::metric::Metric;
use crate::time::{self, parse_timestamp};

/// One labelled incident on one host.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub id: u32,
    pub host: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: String,
    pub metrics: Vec<Metric>,
    /// The incident that caused this one, for cascades.
    pub cause: Option<u32>,
    /// A human-readable note, e.g. which process failed.
    pub detail: String,
}

/// The column names of `labels.csv`, in order.
pub const LABEL_COLUMNS: [&str; 8] = [
    "id", "host", "start", "end", "kind", "metrics", "cause", "detail",
];

/// Writes `labels` to `path` atomically, header included even when there are none.
pub fn write_labels(path: &Path, labels: &[Label]) -> Result<(), Error> {
    let io_err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = AtomicFile::create(path).map_err(io_err)?;
    let mut out = Vec::with_capacity(128 * (labels.len() + 1));
    out.extend_from_slice(LABEL_COLUMNS.join(",").as_bytes());
    out.push(b'\n');
    for l in labels {
        let metrics: Vec<&str> = l.metrics.iter().map(|m| m.name()).collect();
        let cause = l.cause.map(|c| c.to_string()).unwrap_or_default();
        let start = time::rfc3339(l.start.timestamp());
        let end = time::rfc3339(l.end.timestamp());
        let fields = [
            l.id.to_string(),
            csv_field(&l.host),
            start,
            end,
            csv_field(&l.kind),
            metrics.join(";"),
            cause,
            csv_field(&l.detail),
        ];
        out.extend_from_slice(fields.join(",").as_bytes());
        out.push(b'\n');
    }
    file.write_all(&out).map_err(io_err)?;
    file.commit().map_err(io_err)
}

/// Quotes a field when it holds a comma, quote or newline.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Reads a labels file; every malformed row is reported with its line number.
pub fn read_labels(path: &Path) -> Result<Vec<Label>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| row_error(path, e))?;
    let headers = reader.headers().map_err(|e| row_error(path, e))?.clone();
    let col = |name: &'static str| headers.iter().position(|h| h.trim() == name);
    let need = |name: &'static str| {
        col(name).ok_or(Error::MissingColumn {
            path: path.to_path_buf(),
            column: name,
        })
    };
    let (host_i, start_i, end_i) = (need("host")?, need("start")?, need("end")?);
    let (id_i, kind_i, metrics_i, cause_i, detail_i) = (
        col("id"),
        col("kind"),
        col("metrics"),
        col("cause"),
        col("detail"),
    );

    let mut labels = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| row_error(path, e))?;
        let line = record.position().map_or(n as u64 + 2, |p| p.line());
        let bad = |message: String| Error::Line {
            path: path.to_path_buf(),
            line,
            message,
        };
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let stamp = |i: usize, what: &str| {
            parse_timestamp(get(Some(i))).map_err(|e| bad(format!("column {what}: {e}")))
        };
        let start = stamp(start_i, "start")?;
        let end = stamp(end_i, "end")?;
        if end <= start {
            return Err(bad(format!(
                "end {end} is not after start {start}; an incident needs a positive length"
            )));
        }
        let metrics = get(metrics_i)
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(|e| bad(format!("column metrics: {e}"))))
            .collect::<Result<Vec<Metric>, _>>()?;
        let number = |i: Option<usize>, what: &str| -> Result<Option<u32>, Error> {
            match get(i) {
                "" => Ok(None),
                s => s.parse().map(Some).map_err(|_| {
                    bad(format!(
                        "column {what}: expected a whole number, found {s:?}"
                    ))
                }),
            }
        };
        labels.push(Label {
            id: number(id_i, "id")?.unwrap_or(n as u32),
            host: get(Some(host_i)).to_string(),
            start,
            end,
            kind: get(kind_i).to_string(),
            metrics,
            cause: number(cause_i, "cause")?,
            detail: get(detail_i).to_string(),
        });
    }
    Ok(labels)
}

/// A labelled stretch on one host, as evaluation needs it (unix seconds, `[start, end)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub host: String,
    pub start: i64,
    /// Exclusive.
    pub end: i64,
    pub kind: String,
}

/// The names a per-row 0/1 label column goes by.
const FLAG_NAMES: [&str; 4] = ["label", "anomaly", "is_anomaly", "labels"];

/// Reads labels as intervals, whichever of the two forms the file has: intervals
/// (`[host,]start,end[,kind]`, e.g. `labels.csv`; other columns are ignored, a missing
/// host means the single series of an ungrouped input) or a per-row 0/1 column
/// (`timestamp[,host],label`), whose runs of 1s become intervals. This is the evaluation's
/// reader, looser than [`read_labels`], which checks every column of the generator's
/// schema.
pub fn read_intervals(path: &Path) -> Result<Vec<Interval>, Error> {
    let file_err = |message: String| Error::Form {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| file_err(e.to_string()))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_err(e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let find = |n: &str| headers.iter().position(|h| h == n);
    let host = find("host");
    let line_err = |line: u64, message: String| Error::line(path, line, message);
    let time = |line: u64, text: &str| {
        parse_timestamp(text)
            .map(|t| t.timestamp())
            .map_err(|e| line_err(line, format!("bad timestamp {text:?}: {e}")))
    };
    let mut out = Vec::new();
    if let (Some(s), Some(e)) = (find("start"), find("end")) {
        let kind = find("kind");
        for record in reader.records() {
            let record = record.map_err(|e| file_err(e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
            let (start, end) = (time(line, get(Some(s)))?, time(line, get(Some(e)))?);
            if end < start {
                return Err(line_err(line, "end is before start".into()));
            }
            out.push(Interval {
                host: get(host).to_string(),
                start,
                end,
                kind: match get(kind) {
                    "" => "anomaly".into(),
                    k => k.to_string(),
                },
            });
        }
        return Ok(out);
    }
    let (Some(t), Some(l)) = (
        crate::series::TIME_NAMES.iter().find_map(|n| find(n)),
        FLAG_NAMES.iter().find_map(|n| find(n)),
    ) else {
        return Err(file_err(format!(
            "labels need either start,end columns (intervals) or a time column and a 0/1 column named {}; the columns are {}",
            FLAG_NAMES.join("/"),
            headers.join(", ")
        )));
    };
    // Per-row labels: runs of 1s per host, each ending where the next row starts.
    let mut open: HashMap<String, (i64, i64, bool)> = HashMap::new();
    let close = |out: &mut Vec<Interval>, host: &str, start: i64, end: i64| {
        out.push(Interval {
            host: host.to_string(),
            start,
            end,
            kind: "anomaly".into(),
        })
    };
    for record in reader.records() {
        let record = record.map_err(|e| file_err(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let h = host.and_then(|i| record.get(i)).unwrap_or("").to_string();
        let ts = time(line, record.get(t).unwrap_or(""))?;
        let flag = match record.get(l).unwrap_or("") {
            "1" | "1.0" | "true" => true,
            "0" | "0.0" | "false" | "" => false,
            other => return Err(line_err(line, format!("label {other:?} is not 0 or 1"))),
        };
        let entry = open.entry(h.clone()).or_insert((ts, ts, false));
        match (entry.2, flag) {
            (false, true) => *entry = (ts, ts, true),
            (true, false) => {
                let start = entry.0;
                close(&mut out, &h, start, ts);
                *entry = (ts, ts, false);
            }
            _ => entry.1 = ts,
        }
    }
    for (h, (start, last, on)) in open {
        if on {
            close(&mut out, &h, start, last + 1);
        }
    }
    out.sort_by(|a, b| (&a.host, a.start).cmp(&(&b.host, b.start)));
    Ok(out)
}

fn row_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        _ => Error::Line {
            path: path.to_path_buf(),
            line,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(id: u32, detail: &str) -> Label {
        Label {
            id,
            host: "db-1".into(),
            start: parse_timestamp("2026-01-02T03:00:00Z").unwrap(),
            end: parse_timestamp("2026-01-02T05:30:00Z").unwrap(),
            kind: "memory_leak".into(),
            metrics: vec![Metric::Ram, Metric::Cpu],
            cause: (id > 0).then_some(0),
            detail: detail.into(),
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.csv");
        let labels = vec![
            label(0, "process postgres"),
            label(1, "quoted, \"odd\" text"),
        ];
        write_labels(&path, &labels).unwrap();
        assert_eq!(read_labels(&path).unwrap(), labels);
    }

    #[test]
    fn minimal_files_and_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.csv");
        std::fs::write(
            &path,
            "host,start,end\nweb-1,2026-01-01 00:00:00,1767229200\n",
        )
        .unwrap();
        let l = read_labels(&path).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].host, "web-1");

        std::fs::write(&path, "host,start,end\nweb-1,2026-01-01,soon\n").unwrap();
        let err = read_labels(&path).unwrap_err().to_string();
        assert!(err.contains("l.csv:2: column start"), "{err}");

        std::fs::write(&path, "host,end\nweb-1,2026-01-01\n").unwrap();
        let err = read_labels(&path).unwrap_err().to_string();
        assert!(err.contains("\"start\""), "{err}");
    }

    #[test]
    fn per_row_labels_become_intervals() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        std::fs::write(
            &p,
            "timestamp,value,label\n2024-01-01 00:00:00,1,0\n2024-01-01 00:05:00,1,1\n2024-01-01 00:10:00,1,1\n2024-01-01 00:15:00,1,0\n",
        )
        .unwrap();
        let l = read_intervals(&p).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].end - l[0].start, 600);
        std::fs::write(&p, "timestamp,value\n").unwrap();
        assert!(
            read_intervals(&p)
                .unwrap_err()
                .to_string()
                .contains("start,end")
        );
    }

    #[test]
    fn intervals_need_only_start_and_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        // Another tool's file: no host, an instant, columns Vigil does not know.
        std::fs::write(
            &p,
            "start,end,severity\n2024-01-01 00:00:00,2024-01-01 00:10:00,high\n2024-01-01 01:00:00,2024-01-01 01:00:00\n",
        )
        .unwrap();
        let l = read_intervals(&p).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].host.as_str(), l[0].kind.as_str()), ("", "anomaly"));
        assert_eq!(l[0].end - l[0].start, 600);
        assert_eq!(l[1].start, l[1].end);
        std::fs::write(
            &p,
            "host,start,end\nh,2024-01-01 01:00:00,2024-01-01 00:00:00\n",
        )
        .unwrap();
        let err = read_intervals(&p).unwrap_err().to_string();
        assert!(err.contains(":2: end is before start"), "{err}");
    }
}
