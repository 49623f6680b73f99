//! The benchmarks' one error type.

use std::path::PathBuf;

/// Why a benchmark run failed: NAB's files or inputs NAB's scorer would reject, the
/// detector, the trainer, or an output that cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Detect(#[from] vigil_detector::Error),
    #[error(transparent)]
    Train(#[from] vigil_trainer::Error),
    #[error(transparent)]
    Core(#[from] vigil_core::Error),
    #[error("unknown {what} {name:?}")]
    Unknown { what: &'static str, name: String },
    #[error("cannot create {path}: {source}")]
    OutDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Csv { path: PathBuf, message: String },
    #[error(
        "{file}: bad timestamp {text:?} (expected YYYY-MM-DD HH:MM:SS[.ffffff], whole seconds)"
    )]
    Timestamp { file: String, text: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: {got} values given for a file of {expected} rows")]
    Length {
        file: String,
        expected: usize,
        got: usize,
    },
    #[error("{expected} files but {got} per-file vectors")]
    FileCount { expected: usize, got: usize },
    #[error("{file}: row {row}: anomaly score {value} is not finite")]
    BadScore {
        file: String,
        row: usize,
        value: f64,
    },
}
