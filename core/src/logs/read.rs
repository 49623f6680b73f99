//! Reading a log file line by line without trusting it.
//!
//! Real logs hold binary junk, blank lines and runaway lines (a dumped payload, a stack
//! trace joined onto one line). None of them stops a read: each is skipped and counted
//! by reason, and the first few are kept with their line numbers for the message.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::format::Line;
use super::{Error, LogFormat, is_space};
use crate::series::BadLines;

/// Lines longer than this (in bytes, without the line end) are skipped by default.
pub const DEFAULT_MAX_LINE_BYTES: usize = 10_000;

/// How many skipped lines a report keeps by number.
const EXAMPLES: usize = 5;

/// Why a line was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Nothing but white space.
    Empty,
    /// Not valid UTF-8.
    InvalidUtf8,
    /// Longer than the limit.
    TooLong,
    /// Does not match the log format's header.
    NoHeader,
    /// A structured line the filter let through nothing of.
    Filtered,
    /// Not a record of the structured format (with `--skip-bad-lines`; else an error).
    Malformed,
}

impl Skip {
    pub fn describe(self) -> &'static str {
        match self {
            Skip::Empty => "empty",
            Skip::InvalidUtf8 => "not UTF-8",
            Skip::TooLong => "too long",
            Skip::NoHeader => "header does not match the format",
            Skip::Filtered => "left out by the filter",
            Skip::Malformed => "malformed",
        }
    }
}

/// What a read met besides good lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineReport {
    /// Every line read, skipped or not.
    pub lines: u64,
    pub empty: u64,
    pub invalid_utf8: u64,
    pub too_long: u64,
    pub no_header: u64,
    /// Structured lines the filter left out.
    #[serde(default)]
    pub filtered: u64,
    /// Structured lines that were not records, skipped (`--skip-bad-lines`).
    #[serde(default)]
    pub malformed: u64,
    /// The first malformed line skipped: its number and what was wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_malformed: Option<(u64, String)>,
    /// The first few skipped lines: (line number, reason).
    pub first_skipped: Vec<(u64, Skip)>,
}

impl LineReport {
    /// Counts line `line` as skipped for `why`.
    pub fn skip(&mut self, line: u64, why: Skip) {
        *match why {
            Skip::Empty => &mut self.empty,
            Skip::InvalidUtf8 => &mut self.invalid_utf8,
            Skip::TooLong => &mut self.too_long,
            Skip::NoHeader => &mut self.no_header,
            Skip::Filtered => &mut self.filtered,
            Skip::Malformed => &mut self.malformed,
        } += 1;
        if self.first_skipped.len() < EXAMPLES {
            self.first_skipped.push((line, why));
        }
    }

    pub fn skipped(&self) -> u64 {
        self.empty
            + self.invalid_utf8
            + self.too_long
            + self.no_header
            + self.filtered
            + self.malformed
    }

    /// Handles a malformed structured line `n` as `policy` says: an error naming `path`,
    /// the line and what was wrong, or skipped and counted (the first reason kept).
    pub fn malformed(
        &mut self,
        path: &Path,
        n: u64,
        why: String,
        policy: BadLines,
    ) -> Result<(), Error> {
        match policy {
            BadLines::Fail => Err(Error::line(
                path,
                n,
                format!("{why} (--skip-bad-lines skips such lines and counts them)"),
            )),
            BadLines::Skip => {
                if self.first_malformed.is_none() {
                    self.first_malformed = Some((n, why));
                }
                self.skip(n, Skip::Malformed);
                Ok(())
            }
        }
    }

    /// Lines that were not skipped.
    pub fn kept(&self) -> u64 {
        self.lines - self.skipped()
    }

    /// `"3 skipped (2 not UTF-8, 1 empty; first at app.log:17, not UTF-8)"`, or
    /// `"none skipped"`.
    pub fn describe(&self, path: &Path) -> String {
        if self.skipped() == 0 {
            return "none skipped".into();
        }
        let mut parts = Vec::new();
        for (n, why) in [
            (self.invalid_utf8, Skip::InvalidUtf8),
            (self.empty, Skip::Empty),
            (self.too_long, Skip::TooLong),
            (self.no_header, Skip::NoHeader),
            (self.filtered, Skip::Filtered),
            (self.malformed, Skip::Malformed),
        ] {
            if n > 0 {
                parts.push(format!("{n} {}", why.describe()));
            }
        }
        let mut s = format!("{} skipped ({}", self.skipped(), parts.join(", "));
        if let Some((line, why)) = self.first_skipped.first() {
            let _ = write!(
                s,
                "; first at {}:{line}, {}",
                path.display(),
                why.describe()
            );
        }
        if let Some((line, why)) = &self.first_malformed {
            let _ = write!(s, "; first malformed at {}:{line}: {why}", path.display());
        }
        s.push(')');
        s
    }
}

/// Reads a log line by line, skipping and counting the lines no parser should see.
pub struct LogReader<R> {
    input: R,
    path: PathBuf,
    max_line_bytes: usize,
    buf: Vec<u8>,
    line: u64,
    pub report: LineReport,
}

impl LogReader<BufReader<File>> {
    pub fn open(path: &Path, max_line_bytes: usize) -> Result<Self, Error> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(LogReader::new(
            BufReader::with_capacity(1 << 16, file),
            path,
            max_line_bytes,
        ))
    }
}

impl<R: BufRead> LogReader<R> {
    /// A reader over `input`; `path` names it in errors.
    pub fn new(input: R, path: &Path, max_line_bytes: usize) -> Self {
        LogReader {
            input,
            path: path.to_path_buf(),
            max_line_bytes,
            buf: Vec::with_capacity(256),
            line: 0,
            report: LineReport::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next line worth parsing, with its 1-based line number in the file, without its
    /// line end; `None` at the end of the input.
    pub fn next_line(&mut self) -> Result<Option<(u64, &str)>, Error> {
        loop {
            self.buf.clear();
            // Keep at most the limit plus a `\r\n`; a longer line's rest is skipped unread.
            let limit = self.max_line_bytes as u64 + 2;
            let n = (&mut self.input)
                .take(limit)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Error::io(&self.path, e))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.report.lines += 1;
            let mut too_long = false;
            if self.buf.last() != Some(&b'\n') && n as u64 == limit {
                self.input
                    .skip_until(b'\n')
                    .map_err(|e| Error::io(&self.path, e))?;
                too_long = true;
            }
            if self.buf.last() == Some(&b'\n') {
                self.buf.pop();
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            let why = if too_long || self.buf.len() > self.max_line_bytes {
                Some(Skip::TooLong)
            } else {
                match std::str::from_utf8(&self.buf) {
                    Err(_) => Some(Skip::InvalidUtf8),
                    Ok(s) if s.trim_matches(is_space).is_empty() => Some(Skip::Empty),
                    Ok(_) => None,
                }
            };
            match why {
                Some(why) => self.report.skip(self.line, why),
                None => break,
            }
        }
        // Checked just above; a second check is cheaper than unsafe code (and the borrow
        // checker refuses to return the first from inside the loop).
        match std::str::from_utf8(&self.buf) {
            Ok(text) => Ok(Some((self.line, text))),
            Err(_) => Err(Error::line(&self.path, self.line, "not UTF-8".into())),
        }
    }
}

impl<R: BufRead> LogReader<R> {
    /// Calls `f` with each kept line's number and field values in `format`'s order; lines
    /// that do not fit the format are skipped and counted as [`Skip::NoHeader`], lines a
    /// filter leaves out as [`Skip::Filtered`], malformed structured lines as `policy` says.
    pub fn for_each_record(
        &mut self,
        format: &LogFormat,
        policy: BadLines,
        mut f: impl FnMut(u64, &[&str]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let structured = format.is_structured();
        while let Some((n, line)) = self.next_line()? {
            if !structured {
                // A header format's fields borrow the line: no copies.
                match format.split(line) {
                    Some(fields) => f(n, &fields)?,
                    None => self.report.skip(n, Skip::NoHeader),
                }
                continue;
            }
            match format.line(line) {
                Line::Fields(fields) => {
                    let fields: Vec<&str> = fields.iter().map(|c| c.as_ref()).collect();
                    f(n, &fields)?
                }
                Line::Unfit => self.report.skip(n, Skip::NoHeader),
                Line::Filtered => self.report.skip(n, Skip::Filtered),
                Line::Malformed(why) => {
                    let path = self.path.clone();
                    self.report.malformed(&path, n, why, policy)?
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], max: usize) -> (Vec<(u64, String)>, LineReport) {
        let mut r = LogReader::new(bytes, Path::new("t.log"), max);
        let mut out = Vec::new();
        while let Some((n, text)) = r.next_line().unwrap() {
            out.push((n, text.to_string()));
        }
        (out, r.report)
    }

    #[test]
    fn bad_lines_are_counted_not_fatal() {
        let input = b"one\r\n\n  \t\nbad \xff\xfe\ntwo\n0123456789abc\nthree";
        let (lines, report) = read_all(input, 10);
        assert_eq!(
            lines,
            vec![
                (1, "one".to_string()),
                (5, "two".to_string()),
                (7, "three".to_string())
            ]
        );
        assert_eq!(report.lines, 7);
        assert_eq!(report.empty, 2);
        assert_eq!(report.invalid_utf8, 1);
        assert_eq!(report.too_long, 1);
        assert_eq!(report.kept(), 3);
        assert_eq!(
            report.first_skipped,
            vec![
                (2, Skip::Empty),
                (3, Skip::Empty),
                (4, Skip::InvalidUtf8),
                (6, Skip::TooLong)
            ]
        );
        let text = report.describe(Path::new("t.log"));
        assert!(
            text.starts_with("4 skipped (1 not UTF-8, 2 empty, 1 too long"),
            "{text}"
        );
        assert!(text.contains("first at t.log:2, empty"), "{text}");
    }

    #[test]
    fn a_runaway_line_is_skipped_without_being_kept() {
        let mut input = vec![b'x'; 1_000_000];
        input.extend_from_slice(b"\nafter\n");
        let mut r = LogReader::new(&input[..], Path::new("t.log"), 100);
        assert_eq!(r.next_line().unwrap(), Some((2, "after")));
        assert!(r.buf.capacity() < 1000, "the long line was buffered");
        assert_eq!(r.next_line().unwrap(), None);
        assert_eq!(r.report.too_long, 1);
    }

    #[test]
    fn records_skip_lines_without_a_header() {
        let format = LogFormat::new("<Level>: <Content>").unwrap();
        let mut r = LogReader::new(
            &b"INFO: up\nnothing\n\nWARN: slow disk\n"[..],
            Path::new("t.log"),
            100,
        );
        let mut seen = Vec::new();
        r.for_each_record(&format, BadLines::Fail, |n, fields| {
            seen.push((n, fields.join("|")));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                (1, "INFO|up".to_string()),
                (4, "WARN|slow disk".to_string())
            ]
        );
        assert_eq!((r.report.no_header, r.report.empty), (1, 1));
        assert_eq!(
            r.report.first_skipped,
            [(2, Skip::NoHeader), (3, Skip::Empty)]
        );
    }

    #[test]
    fn the_limit_counts_bytes_without_the_line_end() {
        let (lines, report) = read_all(b"0123456789\r\n01234567890\n", 10);
        assert_eq!(lines, vec![(1, "0123456789".to_string())]);
        assert_eq!(report.too_long, 1);
    }
}
