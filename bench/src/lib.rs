//! Vigil on public labelled data nobody on the project wrote (`../shared/benchmarks/`):
//!
//! - [`nab`]: the Numenta Anomaly Benchmark — NAB's scorer (as `sweeper.py`), and a run
//!   that trains a model per file on its probationary period and scores it with the
//!   streaming detector, calibrated and NAB-optimised, beside the baseline;
//! - [`loghub`]: the template miner's grouping accuracy and speed on loghub-2k;
//! - [`hdfs`]: DeepLog on HDFS sessions beside the baseline and the published figures.
//!
//! This crate may train (it uses `vigil-trainer`); the detector never does.

mod error;
pub mod hdfs;
pub mod hdfs_deeplog;
pub mod loghub;
pub mod nab;

use std::path::Path;

use serde::Serialize;

pub use error::Error;

/// A text report, written atomically.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<(), Error> {
    vigil_core::io::write_atomic(path, text.as_bytes()).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Pretty JSON with a final newline, written atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    vigil_core::io::write_json(path, value).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}
