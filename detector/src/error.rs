//! The detector's one error type.

use std::path::PathBuf;

/// Why a detection, parse or evaluation run failed, naming the file, line or value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be read (the same errors, and messages, as the trainer's reader),
    /// labels, a log or its settings.
    #[error(transparent)]
    Core(#[from] vigil_core::Error),
    #[error(transparent)]
    Model(#[from] vigil_model::Error),
    #[error(transparent)]
    Chart(#[from] vigil_plot::PlotError),
    /// A flag's value out of its range (named in the flag's own units).
    #[error("{flag}: {message}")]
    Option { flag: &'static str, message: String },
    #[error("cannot calibrate the {which} threshold: {message}")]
    Calibration {
        which: &'static str,
        message: String,
    },
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error("cannot create {path}: {source}")]
    OutDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}
