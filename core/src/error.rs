//! The core's one error type: every reader and parser in the data model fails with it,
//! naming the file, line, key or value at fault.

use std::path::PathBuf;

/// Why a file, a line, a setting or a value could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that breaks its schema as a whole (`file: …`).
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    /// A line that breaks its file's schema (`file:line: …`).
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: the header lacks the required column {column:?} (it needs host,start,end)")]
    MissingColumn { path: PathBuf, column: &'static str },
    /// A labels file in neither of the forms evaluation reads.
    #[error("cannot read {path}: {message}")]
    Form { path: PathBuf, message: String },
    #[error(
        "expected a positive duration like \"30s\", \"15m\", \"1h30m\" or \"180d\", found {}", shown(.0)
    )]
    BadDuration(String),
    #[error("expected a positive duration, found the negative {}", shown(.0))]
    NegativeDuration(String),
    #[error("expected a non-zero duration, found {}", shown(.0))]
    ZeroDuration(String),
    #[error(
        "expected a timestamp in RFC 3339 (2026-01-01T00:00:00Z), \"YYYY-MM-DD HH:MM:SS\" or unix seconds, found {}", shown(.0)
    )]
    BadTimestamp(String),
    /// A threshold method's parameter out of range.
    #[error("{0}")]
    Threshold(String),
    #[error("cannot calibrate on {0} errors; at least {1} are needed")]
    TooFew(usize, usize),
    #[error("invalid log format {format:?}: {message}")]
    Format { format: String, message: String },
    #[error("invalid filter {filter:?}: {message}")]
    Filter { filter: String, message: String },
    #[error("invalid mask {pattern:?}: {message}")]
    Mask { pattern: String, message: String },
    #[error("invalid session id pattern {pattern:?}: {message}")]
    SessionPattern { pattern: String, message: String },
    #[error("invalid Drain setting: {0}")]
    Drain(String),
    #[error("{0}")]
    Session(String),
}

impl Error {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn line(path: &std::path::Path, line: u64, message: String) -> Error {
        Error::Line {
            path: path.to_path_buf(),
            line,
            message,
        }
    }

    pub fn file(path: &std::path::Path, message: String) -> Error {
        Error::File {
            path: path.to_path_buf(),
            message,
        }
    }
}

/// Characters of a bad value an error message quotes; the rest is counted, not echoed.
pub const SHOWN_CHARS: usize = 100;

/// A value quoted in an error message: whole (as `{:?}`) up to [`SHOWN_CHARS`] characters,
/// else its beginning and its length.
pub fn shown(value: &str) -> String {
    let n = value.chars().count();
    if n <= SHOWN_CHARS {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(SHOWN_CHARS).collect();
    format!("{head:?}… ({n} characters)")
}

/// Text quoted bare (a column name, a list of them), cut after [`SHOWN_CHARS`] characters.
pub fn clip(text: &str) -> String {
    let n = text.chars().count();
    if n <= SHOWN_CHARS {
        return text.to_string();
    }
    let head: String = text.chars().take(SHOWN_CHARS).collect();
    format!("{head}… ({n} characters)")
}
