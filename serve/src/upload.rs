//! Request bodies onto disk, streamed: a CSV or a raw log is copied as it arrives, NDJSON
//! rows are turned into CSV rows line by line, so a large upload never sits whole in
//! memory. Every byte counts against the body limit.

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use axum::extract::multipart::Multipart;
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use vigil_model::dir::Task;

use crate::error::Error;

/// How the bytes of an upload are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `text/csv`: a metrics table, as the CLIs read it.
    Csv,
    /// `application/x-ndjson`: one JSON object per line (metric rows), or one log line per
    /// line (a JSON string, or an object with `line`, `message`, `msg` or `log`).
    Ndjson,
    /// `application/json`: an array of metric rows (objects), read whole (within the limit).
    JsonRows,
    /// `text/plain`: a raw log.
    Text,
}

impl Encoding {
    /// The encoding a media type names for a task; `None` if the task cannot take it.
    pub fn of(media: &str, task: Task) -> Option<Encoding> {
        let media = media
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let e = match media.as_str() {
            "text/csv" => Encoding::Csv,
            "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => {
                Encoding::Ndjson
            }
            "application/json" => Encoding::JsonRows,
            "text/plain" => Encoding::Text,
            _ => return None,
        };
        let fits = match task {
            Task::Metrics => e != Encoding::Text,
            Task::Logs => matches!(e, Encoding::Text | Encoding::Ndjson),
        };
        fits.then_some(e)
    }

    /// By a file name's extension (multipart parts sent without a type).
    fn of_name(name: &str, task: Task) -> Option<Encoding> {
        let ext = name.rsplit('.').next()?.to_ascii_lowercase();
        let media = match ext.as_str() {
            "csv" => "text/csv",
            "ndjson" | "jsonl" => "application/x-ndjson",
            "json" => "application/json",
            "log" | "txt" => "text/plain",
            _ => return None,
        };
        Encoding::of(media, task)
    }

    pub fn expected(task: Task) -> &'static str {
        match task {
            Task::Metrics => {
                "metrics take text/csv, application/x-ndjson (one row object per line), application/json (an array of row objects) or multipart/form-data with a `data` part"
            }
            Task::Logs => {
                "logs take text/plain (a raw log), application/x-ndjson (one line per JSON line) or multipart/form-data with a `data` part"
            }
        }
    }
}

/// A saved upload.
#[derive(Debug, Clone)]
pub struct Saved {
    pub path: PathBuf,
    /// What errors call it (`body`, or the multipart part's file name).
    pub shown: String,
}

/// What a request carried besides the data.
#[derive(Debug, Default)]
pub struct Upload {
    pub data: Option<Saved>,
    pub labels: Option<Saved>,
    pub config: Option<Saved>,
}

/// What is read past the limit before a too-large upload is answered.
const DRAIN_LIMIT: usize = 64 << 20;

/// Counts bytes against the limit.
struct Budget {
    used: u64,
    limit: u64,
}

impl Budget {
    fn take(&mut self, n: usize) -> Result<(), Error> {
        self.used += n as u64;
        if self.used > self.limit {
            return Err(Error::TooLarge { limit: self.limit });
        }
        Ok(())
    }
}

/// A write error, naming the upload's file by its name only (never a server path).
fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        Error::Internal(format!(
            "cannot store the upload ({}): {e}",
            name.unwrap_or_default()
        ))
    }
}

/// The longest NDJSON line read.
const MAX_LINE: usize = 1 << 20;

/// Writes a stream of chunks into `path` with `encoding`.
async fn save_stream<S, E>(
    mut stream: S,
    encoding: Encoding,
    path: &Path,
    shown: &str,
    budget: &mut Budget,
) -> Result<Saved, Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let file = std::fs::File::create(path).map_err(io(path))?;
    let mut out = std::io::BufWriter::new(file);
    let mut rows = match encoding {
        Encoding::Ndjson | Encoding::JsonRows => Some(RowWriter::default()),
        _ => None,
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut line = 0u64;
    let mut whole = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            let text = e.to_string();
            if text.contains("length limit") {
                Error::TooLarge {
                    limit: budget.limit,
                }
            } else {
                Error::BadRequest {
                    detail: format!("reading the body of {shown}: {text}"),
                    field: None,
                    value: None,
                }
            }
        })?;
        if let Err(e) = budget.take(chunk.len()) {
            // Read (and drop) what the client is still sending, up to a bound, so it
            // gets the 413 instead of a connection reset mid-upload.
            drain_stream(&mut stream).await;
            return Err(e);
        }
        match encoding {
            Encoding::Csv | Encoding::Text => out.write_all(&chunk).map_err(io(path))?,
            Encoding::JsonRows => whole.extend_from_slice(&chunk),
            Encoding::Ndjson => {
                // Only the new bytes are searched for line ends.
                let mut scan = pending.len();
                pending.extend_from_slice(&chunk);
                let mut start = 0;
                while let Some(n) = pending[scan..].iter().position(|&b| b == b'\n') {
                    line += 1;
                    let end = scan + n;
                    ndjson_line(
                        &pending[start..end],
                        line,
                        shown,
                        rows.as_mut(),
                        &mut out,
                        path,
                    )?;
                    start = end + 1;
                    scan = start;
                }
                pending.drain(..start);
                if pending.len() > MAX_LINE {
                    return Err(Error::BadData {
                        detail: format!(
                            "{shown}:{}: a line longer than {MAX_LINE} bytes",
                            line + 1
                        ),
                        line: Some(line + 1),
                    });
                }
            }
        }
    }
    match encoding {
        Encoding::Ndjson if !pending.is_empty() => {
            line += 1;
            ndjson_line(&pending, line, shown, rows.as_mut(), &mut out, path)?;
        }
        Encoding::JsonRows => {
            let value: Value = serde_json::from_slice(&whole).map_err(|e| Error::BadData {
                detail: format!("{shown}: not JSON: {e}"),
                line: Some(e.line() as u64),
            })?;
            let Value::Array(items) = value else {
                return Err(Error::BadData {
                    detail: format!("{shown}: expected a JSON array of row objects"),
                    line: None,
                });
            };
            let w = rows.as_mut().expect("rows for JSON");
            for (i, item) in items.into_iter().enumerate() {
                w.row(item, i as u64 + 1, shown, "item", &mut out)?;
            }
        }
        _ => {}
    }
    out.flush().map_err(io(path))?;
    Ok(Saved {
        path: path.to_path_buf(),
        shown: shown.to_string(),
    })
}

fn ndjson_line(
    text: &[u8],
    line: u64,
    shown: &str,
    rows: Option<&mut RowWriter>,
    out: &mut impl Write,
    path: &Path,
) -> Result<(), Error> {
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(text).map_err(|e| Error::BadData {
        detail: format!("{shown}:{line}: not JSON: {e}"),
        line: Some(line),
    })?;
    match rows {
        Some(w) => w.row(value, line, shown, "line", out),
        None => {
            let text = match &value {
                Value::String(s) => Some(s.as_str()),
                Value::Object(m) => ["line", "message", "msg", "log"]
                    .iter()
                    .find_map(|k| m.get(*k).and_then(Value::as_str)),
                _ => None,
            }
            .ok_or_else(|| Error::BadData {
                detail: format!(
                    "{shown}:{line}: expected a JSON string or an object with a `line`, `message`, `msg` or `log` string"
                ),
                line: Some(line),
            })?;
            out.write_all(text.trim_end_matches(['\n', '\r']).as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .map_err(io(path))
        }
    }
}

/// Metric rows (JSON objects) as CSV: the first row's keys are the header.
#[derive(Default)]
struct RowWriter {
    header: Vec<String>,
    record: Vec<String>,
}

impl RowWriter {
    fn row(
        &mut self,
        value: Value,
        line: u64,
        shown: &str,
        unit: &str,
        out: &mut impl Write,
    ) -> Result<(), Error> {
        let Value::Object(map) = value else {
            return Err(Error::BadData {
                detail: format!("{shown}: {unit} {line}: expected an object of column values"),
                line: Some(line),
            });
        };
        if self.header.is_empty() {
            self.header = map.keys().cloned().collect();
            write_csv(out, &self.header)?;
        }
        self.record.clear();
        self.record.resize(self.header.len(), String::new());
        for (key, v) in map {
            let Some(i) = self.header.iter().position(|h| *h == key) else {
                return Err(Error::BadData {
                    detail: format!(
                        "{shown}: {unit} {line}: column {key:?} is not in the first row's columns {:?}",
                        self.header
                    ),
                    line: Some(line),
                });
            };
            self.record[i] = match v {
                Value::Null => String::new(),
                Value::String(s) => s,
                Value::Bool(b) => u8::from(b).to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(Error::BadData {
                        detail: format!(
                            "{shown}: {unit} {line}: column {key:?} holds {other}, not a number or a string"
                        ),
                        line: Some(line),
                    });
                }
            };
        }
        write_csv(out, &self.record)
    }
}

fn write_csv(out: &mut impl Write, fields: &[String]) -> Result<(), Error> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(fields).map_err(Error::internal)?;
    let bytes = w.into_inner().map_err(Error::internal)?;
    out.write_all(&bytes).map_err(Error::internal)
}

/// Reads and drops up to [`DRAIN_LIMIT`] bytes of a body that will be refused, so the
/// client reads the answer rather than a reset connection.
pub async fn drain(body: Body) {
    drain_stream(&mut body.into_data_stream()).await;
}

async fn drain_stream<S, E>(stream: &mut S)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut drained = 0usize;
    while drained < DRAIN_LIMIT {
        match stream.next().await {
            Some(Ok(c)) => drained += c.len(),
            _ => break,
        }
    }
}

/// Saves a plain (non-multipart) body as the request's data.
pub async fn save_body(
    body: Body,
    media: &str,
    task: Task,
    dir: &Path,
    limit: u64,
) -> Result<Upload, Error> {
    let encoding = Encoding::of(media, task).ok_or_else(|| Error::UnsupportedType {
        found: media.to_string(),
        expected: Encoding::expected(task).into(),
    })?;
    let mut budget = Budget { used: 0, limit };
    let path = dir.join(data_file(task));
    let stream = body.into_data_stream();
    let saved = save_stream(stream, encoding, &path, "body", &mut budget).await?;
    Ok(Upload {
        data: Some(saved),
        ..Upload::default()
    })
}

/// The upload's file in its run folder (NDJSON and JSON rows are stored converted).
pub fn data_file(task: Task) -> &'static str {
    match task {
        Task::Metrics => "data.csv",
        Task::Logs => "data.log",
    }
}

/// Saves a multipart form: `data` (required), `labels` and `config` (optional).
pub async fn save_multipart(
    mut form: Multipart,
    task: Task,
    dir: &Path,
    limit: u64,
) -> Result<Upload, Error> {
    let mut budget = Budget { used: 0, limit };
    let mut upload = Upload::default();
    loop {
        let field = form.next_field().await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge { limit }
            } else {
                Error::bad(
                    format!("malformed multipart body: {}", e.body_text()),
                    "body",
                )
            }
        })?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or("").to_string();
        let shown = field
            .file_name()
            .map(str::to_string)
            .unwrap_or_else(|| name.clone());
        let media = field.content_type().map(str::to_string);
        let stream = field.map(|r| r.map_err(|e| e.body_text()));
        let stream = Box::pin(stream);
        match name.as_str() {
            "data" => {
                let encoding = match media.as_deref() {
                    Some(m) if m != "application/octet-stream" => Encoding::of(m, task),
                    _ => Encoding::of_name(&shown, task).or(Some(match task {
                        Task::Metrics => Encoding::Csv,
                        Task::Logs => Encoding::Text,
                    })),
                }
                .ok_or_else(|| Error::UnsupportedType {
                    found: media.clone().unwrap_or_default(),
                    expected: Encoding::expected(task).into(),
                })?;
                let path = dir.join(data_file(task));
                upload.data =
                    Some(save_stream(stream, encoding, &path, &shown, &mut budget).await?);
            }
            "labels" => {
                let path = dir.join("labels.csv");
                upload.labels =
                    Some(save_stream(stream, Encoding::Csv, &path, &shown, &mut budget).await?);
            }
            "config" => {
                let path = dir.join("config.toml");
                upload.config =
                    Some(save_stream(stream, Encoding::Text, &path, &shown, &mut budget).await?);
            }
            other => {
                return Err(Error::bad(
                    format!("unknown form field {other:?}: the form takes data, labels and config"),
                    other,
                ));
            }
        }
    }
    if upload.data.is_none() {
        return Err(Error::bad("the form has no `data` part", "data"));
    }
    Ok(upload)
}
