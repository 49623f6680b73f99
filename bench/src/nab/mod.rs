//! Numenta Anomaly Benchmark (NAB) scoring, as NAB itself computes it.
//!
//! Ported from numenta/NAB (commit ea702d7): `nab/sweeper.py` (`scaledSigmoid`,
//! `Sweeper._getProbationaryLength`, `Sweeper.calcSweepScore`,
//! `Sweeper.calcScoreByThreshold`, `Sweeper.scoreDataSet`), `nab/optimizer.py`
//! (`optimizeThreshold`), `nab/runner.py` (`Runner.normalize`), `nab/labeler.py`
//! (`CorpusLabel.getWindows`) and `config/profiles.json`.
//!
//! In short:
//! * the first `min(floor(0.15 n), 750)` rows of a file of `n` rows are probationary and
//!   never scored — but windows there still count as "the preceding window" for later
//!   false positives;
//! * a row at index `i` inside a window of rows `l..=r` scores
//!   `scaled_sigmoid(-(r - i + 1) / (r - l + 1)) * tp / scaled_sigmoid(-1)`, so a detection
//!   at the window's first row earns exactly `tp`; only the best (earliest) scored detection
//!   of a window counts, and a window with no scored detection costs `-fn`;
//! * a detection outside every window scores `-fp` when no window precedes it, else
//!   `scaled_sigmoid(|r_prev - i| / (width_prev - 1)) * fp`;
//! * a file's score is the sum of its windows' parts and its false positives; the corpus
//!   score sums the files; NAB reports `100 (raw - null) / (perfect - null)` where `null` is
//!   the never-alarming detector scored the same way and `perfect` is `tp × windows`.
//!
//! A row alarms when its anomaly score is at least the threshold (NAB's `scoreDataSet`).
//! Row counts (tp, fp, fn, tn) are NAB's: rows, not windows, excluding probationary rows.

mod corpus;
mod file;
mod profile;
mod read;
mod report;
mod results;
mod run;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::Error;

pub use corpus::*;
pub use file::*;
pub use profile::*;
pub use read::*;
pub use report::*;
pub use run::*;
