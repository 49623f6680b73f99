//! Structured log lines: JSON lines and logfmt, mapped onto the header fields the rest of
//! the log pipeline reads (`Timestamp`, `Host`, `Level`, `Component`, `Content`), and
//! optionally filtered or reshaped first by a jq program (jaq, a Rust jq).
//!
//! A format is `json` or `logfmt`, optionally with the paths of its fields:
//! `json:message=log.text,time=ts,host=node,level=severity,service=app`. Without them each
//! field takes the first of its usual names a line has (see [`DEFAULTS`]); a path is a key,
//! or keys joined by dots into nested objects (`log.message`), and a flat key written with
//! dots (`"log.message": …`) is found too. One-Log lines, `{"log": {...} | "text", "node":
//! "..."}`, read as they are: `log` is the message when it is a string, and the message is
//! looked for inside it when it is an object.

use std::borrow::Cow;
use std::fmt;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

use super::Error;

/// The fields a structured line is read into, in this order (the names text formats use).
pub const FIELDS: [&str; 5] = ["Timestamp", "Host", "Level", "Component", "Content"];
/// Where [`FIELDS`]' `Content` is.
pub const CONTENT_INDEX: usize = 4;

/// Each field's key in a format's paths, and the names looked for when it gives none.
pub const DEFAULTS: [(&str, &[&str]); 5] = [
    (
        "time",
        &[
            "timestamp",
            "@timestamp",
            "time",
            "ts",
            "t",
            "date",
            "datetime",
        ],
    ),
    (
        "host",
        &["host", "hostname", "node", "host.name", "instance"],
    ),
    (
        "level",
        &["level", "severity", "lvl", "loglevel", "log.level"],
    ),
    (
        "service",
        &[
            "service",
            "component",
            "app",
            "logger",
            "service.name",
            "source",
        ],
    ),
    (
        "message",
        &[
            "message",
            "msg",
            "log.message",
            "log.msg",
            "log",
            "text",
            "body",
            "event.original",
        ],
    ),
];

/// How a structured line is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// One JSON object per line.
    Json,
    /// `key=value key="quoted value"` pairs (logfmt, as Heroku and Go's slog write it).
    Logfmt,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Logfmt => "logfmt",
        }
    }
}

/// A structured format: the encoding, each field's candidate paths, an optional filter.
#[derive(Clone)]
pub struct Structured {
    pub encoding: Encoding,
    /// For each of [`FIELDS`], the paths tried in order (each a list of keys).
    paths: Vec<Vec<Vec<String>>>,
    filter: Option<Filter>,
}

/// What one line gives.
#[derive(Debug, PartialEq)]
pub enum Record {
    /// The values of [`FIELDS`] (empty where the line has none).
    Fields(Vec<String>),
    /// The filter let nothing through.
    Filtered,
    /// Not a record of this encoding: the reason, in words.
    Malformed(String),
}

impl Structured {
    /// `json`, `logfmt`, or either with `:key=path,…`; `None` when `spec` names neither.
    pub fn parse(spec: &str) -> Option<Result<Structured, Error>> {
        let (name, rest) = match spec.split_once(':') {
            Some((n, r)) => (n.trim(), Some(r)),
            None => (spec.trim(), None),
        };
        let encoding = match name {
            "json" => Encoding::Json,
            "logfmt" => Encoding::Logfmt,
            _ => return None,
        };
        let err = |message: String| Error::Format {
            format: spec.to_string(),
            message,
        };
        let mut paths: Vec<Vec<Vec<String>>> = DEFAULTS
            .iter()
            .map(|(_, names)| names.iter().map(|n| keys(n)).collect())
            .collect();
        for pair in rest.into_iter().flat_map(|r| r.split(',')) {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let Some((key, path)) = pair.split_once('=') else {
                return Some(Err(err(format!(
                    "expected key=path, found {pair:?} (keys: time, host, level, service, message)"
                ))));
            };
            let Some(i) = DEFAULTS.iter().position(|(k, _)| *k == key.trim()) else {
                return Some(Err(err(format!(
                    "unknown key {:?}: expected one of time, host, level, service, message",
                    key.trim()
                ))));
            };
            if path.trim().is_empty() {
                return Some(Err(err(format!("{key}= needs a path"))));
            }
            paths[i] = vec![keys(path.trim())];
        }
        Some(Ok(Structured {
            encoding,
            paths,
            filter: None,
        }))
    }

    /// With the jq program `code` applied to each line's object before its fields are read.
    pub fn with_filter(mut self, code: &str) -> Result<Structured, Error> {
        self.filter = Some(Filter::new(code)?);
        Ok(self)
    }

    /// The line's fields, or why it gives none.
    pub fn record(&self, line: &str) -> Record {
        let value = match self.encoding {
            Encoding::Json => match jaq_json::read::parse_single(line.trim().as_bytes()) {
                Ok(v) => v,
                Err(e) => return Record::Malformed(format!("not JSON ({e})")),
            },
            Encoding::Logfmt => match logfmt(line) {
                Ok(v) => v,
                Err(e) => return Record::Malformed(e),
            },
        };
        let value = match &self.filter {
            None => value,
            Some(f) => match f.run(value) {
                Ok(Some(v)) => v,
                Ok(None) => return Record::Filtered,
                Err(e) => return Record::Malformed(e),
            },
        };
        match &value {
            Val::Obj(_) => {}
            // A filter may reduce a line to its message.
            Val::TStr(_) if self.filter.is_some() => {
                let mut fields = vec![String::new(); FIELDS.len()];
                fields[CONTENT_INDEX] = text(&value);
                return Record::Fields(fields);
            }
            Val::Null if self.filter.is_some() => return Record::Filtered,
            other => {
                return Record::Malformed(format!("expected an object, found {}", kind(other)));
            }
        }
        let mut fields: Vec<String> = self
            .paths
            .iter()
            .map(|candidates| {
                candidates
                    .iter()
                    .find_map(|p| lookup(&value, p))
                    .map(|v| text(&v))
                    .unwrap_or_default()
            })
            .collect();
        if let Some(t) = epoch(&fields[0]) {
            fields[0] = t;
        }
        Record::Fields(fields)
    }
}

impl fmt::Debug for Structured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Structured")
            .field("encoding", &self.encoding)
            .field("paths", &self.paths)
            .field("filter", &self.filter.as_ref().map(|f| &f.code))
            .finish()
    }
}

/// A numeric time as RFC 3339: unix seconds (with a fraction, as zap and slog write them),
/// or milliseconds, microseconds or nanoseconds, told apart by size.
fn epoch(text: &str) -> Option<String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    let secs = match v {
        v if v >= 1e17 => v / 1e9,
        v if v >= 1e14 => v / 1e6,
        v if v >= 1e11 => v / 1e3,
        v => v,
    };
    let ms = (secs * 1000.0).round() as i64;
    let t = chrono::DateTime::from_timestamp_millis(ms)?;
    Some(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn keys(path: &str) -> Vec<String> {
    path.split('.').map(str::to_string).collect()
}

fn key(k: &str) -> Val {
    Val::utf8_str(k.to_string().into_bytes())
}

/// The value at `path`: the flat key `a.b` first, then nested keys; `null` counts as none.
/// A One-Log `log` object is not a message: the message is looked for inside it.
fn lookup(value: &Val, path: &[String]) -> Option<Val> {
    let Val::Obj(map) = value else { return None };
    if path.len() > 1
        && let Some(v) = map.get(&key(&path.join(".")))
    {
        return usable(v);
    }
    let mut current = map.get(&key(&path[0]))?.clone();
    for k in &path[1..] {
        let Val::Obj(inner) = &current else {
            return None;
        };
        current = inner.get(&key(k))?.clone();
    }
    usable(&current)
}

fn usable(v: &Val) -> Option<Val> {
    match v {
        Val::Null | Val::Obj(_) => None,
        v => Some(v.clone()),
    }
}

/// A value as field text: strings as they are, anything else as compact JSON.
fn text(v: &Val) -> String {
    match v {
        Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}

fn kind(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "a boolean",
        Val::Num(_) => "a number",
        Val::TStr(_) | Val::BStr(_) => "a string",
        Val::Arr(_) => "an array",
        Val::Obj(_) => "an object",
    }
}

/// A logfmt line as an object of strings: `key=value`, `key="a \"quoted\" value"`, and a
/// bare `key` (true, as logfmt means it).
pub fn logfmt(line: &str) -> Result<Val, String> {
    let mut map = jaq_json::Map::default();
    let mut chars = line.trim().char_indices().peekable();
    let s = line.trim();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            if c == '"' {
                return Err(format!("a quote inside key at byte {i}"));
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let name = &s[start..end];
        if name.is_empty() {
            return Err(format!("a value without a key at byte {start}"));
        }
        let value = match chars.peek() {
            Some(&(_, '=')) => {
                chars.next();
                match chars.peek() {
                    Some(&(_, '"')) => {
                        chars.next();
                        let mut v = String::new();
                        let mut closed = false;
                        while let Some((_, c)) = chars.next() {
                            match c {
                                '"' => {
                                    closed = true;
                                    break;
                                }
                                '\\' => match chars.next() {
                                    Some((_, 'n')) => v.push('\n'),
                                    Some((_, 't')) => v.push('\t'),
                                    Some((_, c)) => v.push(c),
                                    None => break,
                                },
                                c => v.push(c),
                            }
                        }
                        if !closed {
                            return Err(format!("the value of {name:?} is never closed"));
                        }
                        v
                    }
                    _ => {
                        let mut v = String::new();
                        while let Some(&(_, c)) = chars.peek() {
                            if c.is_whitespace() {
                                break;
                            }
                            v.push(c);
                            chars.next();
                        }
                        v
                    }
                }
            }
            _ => "true".to_string(),
        };
        map.insert(key(name), Val::utf8_str(value.into_bytes()));
    }
    if map.is_empty() {
        return Err("no key=value pairs".into());
    }
    Ok(Val::obj(map))
}

/// A compiled jq program.
#[derive(Clone)]
struct Filter {
    code: String,
    filter: std::sync::Arc<jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>>,
}

impl Filter {
    fn new(code: &str) -> Result<Filter, Error> {
        let err = |message: String| Error::Filter {
            filter: crate::error::clip(code),
            message,
        };
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errs| err(describe_load(&errs)))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let names: Vec<String> = errs
                    .into_iter()
                    .flat_map(|(_, es)| {
                        es.into_iter()
                            .map(|(name, undefined)| format!("{name} ({undefined:?})"))
                    })
                    .collect();
                err(format!("does not compile: {}", names.join(", ")))
            })?;
        Ok(Filter {
            code: code.to_string(),
            filter: std::sync::Arc::new(filter),
        })
    }

    /// The program's one output for `input`: `None` when it gives none (`select` said no),
    /// an error when it fails or gives several.
    fn run(&self, input: Val) -> Result<Option<Val>, String> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut out = self.filter.id.run((ctx, input)).map(unwrap_valr);
        let first = match out.next() {
            None => return Ok(None),
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(format!("the filter failed: {e}")),
        };
        if out.next().is_some() {
            return Err(
                "the filter gave several values for one line (wrap it in first(…) or [ … ])".into(),
            );
        }
        Ok(Some(first))
    }
}

fn describe_load<E: fmt::Debug>(errs: &E) -> String {
    let text = format!("{errs:?}");
    format!("does not parse: {}", crate::error::clip(&text))
}

/// Whether `line` looks like a JSON object (for format detection).
pub fn looks_like_json(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('{')
        && t.ends_with('}')
        && matches!(jaq_json::read::parse_single(t.as_bytes()), Ok(Val::Obj(_)))
}

/// Whether `line` looks like logfmt: only `key=value` pairs (and bare keys), at least two
/// pairs, one of them a time, level or message key (for format detection).
pub fn looks_like_logfmt(line: &str) -> bool {
    let Ok(Val::Obj(map)) = logfmt(line) else {
        return false;
    };
    let pairs = line.matches('=').count();
    let known = ["time", "ts", "timestamp", "level", "lvl", "msg", "message"];
    pairs >= 2
        && known.iter().any(|k| map.contains_key(&key(k)))
        && map
            .values()
            .all(|v| !matches!(v, Val::TStr(b) if b.as_ref() == b"true".as_slice()))
}

/// Borrowed field texts of a record, for code written against text formats.
pub fn as_strs(fields: &[String]) -> Vec<Cow<'_, str>> {
    fields.iter().map(|f| Cow::Borrowed(f.as_str())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &Structured, line: &str) -> Vec<String> {
        match s.record(line) {
            Record::Fields(f) => f,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn json_lines_find_their_fields_by_the_usual_names() {
        let s = Structured::parse("json").unwrap().unwrap();
        assert_eq!(
            fields(
                &s,
                r#"{"timestamp":"2026-01-26T00:05:41.180Z","host":"web-1","level":"INFO","component":"nginx","session":"req-1","message":"req-1 accepted"}"#
            ),
            [
                "2026-01-26T00:05:41.180Z",
                "web-1",
                "INFO",
                "nginx",
                "req-1 accepted"
            ]
        );
        // One-Log: a nested log object, or the log as text; numbers as text; fields missing.
        assert_eq!(
            fields(
                &s,
                r#"{"log": {"message": "disk full", "level": "ERROR"}, "node": "db-2", "ts": 1700000000}"#
            ),
            ["2023-11-14T22:13:20.000Z", "db-2", "ERROR", "", "disk full"]
        );
        assert_eq!(
            fields(&s, r#"{"log": "plain text", "node": "n1"}"#),
            ["", "n1", "", "", "plain text"]
        );
        assert_eq!(
            fields(
                &s,
                r#"{"@timestamp": "t", "log.level": "warn", "msg": "m"}"#
            ),
            ["t", "", "warn", "", "m"]
        );
        // Numeric times: seconds with a fraction, milliseconds, nanoseconds.
        for ts in ["1700000000.25", "1700000000250", "\"1700000000250000000\""] {
            assert_eq!(
                fields(&s, &format!(r#"{{"ts": {ts}, "msg": "m"}}"#))[0],
                "2023-11-14T22:13:20.250Z"
            );
        }
    }

    #[test]
    fn paths_given_replace_the_defaults_and_bad_ones_are_named() {
        let s = Structured::parse("json:message=payload.text, host=src")
            .unwrap()
            .unwrap();
        assert_eq!(
            fields(
                &s,
                r#"{"payload": {"text": "hi"}, "src": "a", "message": "not this"}"#
            ),
            ["", "a", "", "", "hi"]
        );
        for (spec, needle) in [
            ("json:mesage=x", "unknown key \"mesage\""),
            ("json:message", "expected key=path"),
            ("logfmt:time=", "needs a path"),
        ] {
            let e = Structured::parse(spec).unwrap().unwrap_err().to_string();
            assert!(e.contains(needle), "{spec}: {e}");
        }
        assert!(Structured::parse("<Content>").is_none());
    }

    #[test]
    fn malformed_lines_say_why() {
        let s = Structured::parse("json").unwrap().unwrap();
        assert!(
            matches!(s.record(r#"{"a": 1"#), Record::Malformed(m) if m.starts_with("not JSON"))
        );
        assert!(matches!(s.record("[1, 2]"), Record::Malformed(m) if m.contains("an array")));
        let l = Structured::parse("logfmt").unwrap().unwrap();
        assert!(
            matches!(l.record(r#"msg="open"#), Record::Malformed(m) if m.contains("never closed"))
        );
    }

    #[test]
    fn logfmt_reads_quotes_escapes_and_bare_keys() {
        let l = Structured::parse("logfmt").unwrap().unwrap();
        assert_eq!(
            fields(
                &l,
                r#"time=2026-01-01T00:00:00Z level=info msg="user \"ann\" logged in" host=web-1 debug"#
            ),
            [
                "2026-01-01T00:00:00Z",
                "web-1",
                "info",
                "",
                "user \"ann\" logged in"
            ]
        );
        assert!(looks_like_logfmt("time=1 level=info msg=hello"));
        assert!(!looks_like_logfmt("2026-01-01 INFO user=ann logged in"));
        assert!(looks_like_json(r#" {"a": 1} "#));
        assert!(!looks_like_json("{not json}"));
    }

    #[test]
    fn a_jq_filter_selects_and_reshapes() {
        let s = Structured::parse("json")
            .unwrap()
            .unwrap()
            .with_filter(r#"select(.level == "ERROR" and .service == "payment")"#)
            .unwrap();
        assert_eq!(
            s.record(r#"{"level":"INFO","service":"payment","message":"ok"}"#),
            Record::Filtered
        );
        assert_eq!(
            fields(
                &s,
                r#"{"level":"ERROR","service":"payment","message":"declined"}"#
            )[4],
            "declined"
        );
        // A projection: the message built from two fields.
        let p = Structured::parse("json")
            .unwrap()
            .unwrap()
            .with_filter(r#"{message: "\(.op) took \(.ms) ms", host: .node}"#)
            .unwrap();
        assert_eq!(
            fields(&p, r#"{"op":"GET","ms":12,"node":"n1"}"#),
            ["", "n1", "", "", "GET took 12 ms"]
        );
        let several = Structured::parse("json")
            .unwrap()
            .unwrap()
            .with_filter(".[]")
            .unwrap();
        assert!(
            matches!(several.record(r#"{"a":"x","b":"y"}"#), Record::Malformed(m) if m.contains("several"))
        );
        for bad in ["select(", "nosuchfunction(1)"] {
            let e = Structured::parse("json")
                .unwrap()
                .unwrap()
                .with_filter(bad)
                .unwrap_err();
            assert!(e.to_string().contains("filter"), "{bad}: {e}");
        }
    }
}
