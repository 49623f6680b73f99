//! The model directory: everything needed to score new data, self-checking.
//!
//! | file | content |
//! |---|---|
//! | `manifest.json` | format name and version, Vigil version, and each file's size and SHA-256 |
//! | `config.toml` | the full training configuration (network kind and sizes, window, seed…) |
//! | `data.json` | column names in order, time and group columns, step, scaler, window spec |
//! | `weights.bpk` | the network's weights (burn's burnpack format) |
//! | `validation.json` | how many validation points, their runs of consecutive points, each column's mean error (model and baseline) |
//! | `validation.bin` | each validation point's squared error per column, then its baseline squared z-score per column (little-endian f32): what the detector calibrates its thresholds on |
//! | `baseline.json` | the per-hour z-score baseline (means and deviations per group and hour) |
//! | `history.json` | losses per epoch, best epoch, baselines |
//! | `loss_curves.png` | the losses, drawn |
//!
//! A directory is written under a temporary name and renamed into place; loading refuses a
//! missing, foreign, truncated, corrupt or other-version directory and says which.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::config::TrainingConfig;
use crate::dir::{DirReader, Task, json, save_dir};
use crate::history::History;
use crate::networks::Network;
use vigil_core::baseline::HourProfile;
use vigil_core::scaler::Scaler;
use vigil_core::window::WindowSpec;

/// What the data looked like, so new data is read and scaled the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    pub columns: Vec<String>,
    pub time_column: String,
    pub group_column: Option<String>,
    /// Sampling step, seconds.
    pub step: i64,
    pub scaler: Scaler,
    pub window: WindowSpec,
}

/// The validation points the detector calibrates on, scored as the detector scores (see
/// [`crate::scoring`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub points: usize,
    /// Lengths of the runs of consecutive points, in order (they sum to `points`).
    pub runs: Vec<usize>,
    /// Each column's mean squared error over the points (the model's).
    pub column_means: Vec<f32>,
    /// Each column's mean squared z-score over the points (the baseline's).
    pub baseline_column_means: Vec<f32>,
    /// Row-major `[points × columns]` squared errors (in `validation.bin`).
    #[serde(skip)]
    pub model_errors: Vec<f32>,
    /// Row-major `[points × columns]` baseline squared z-scores (in `validation.bin`).
    #[serde(skip)]
    pub baseline_errors: Vec<f32>,
}

impl Validation {
    /// `validation.bin`: per point, the model's errors then the baseline's.
    fn to_bin(&self) -> Vec<u8> {
        let w = self.column_means.len().max(1);
        let mut out = Vec::with_capacity(self.points * w * 8);
        for (m, b) in self
            .model_errors
            .chunks_exact(w)
            .zip(self.baseline_errors.chunks_exact(w))
        {
            for v in m.iter().chain(b) {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    fn read_bin(&mut self, r: &DirReader, bytes: &[u8]) -> Result<(), Error> {
        let w = self.column_means.len();
        let want = self.points * w * 8;
        if bytes.len() != want || self.runs.iter().sum::<usize>() != self.points {
            return Err(r.bad(
                "validation.bin",
                format!(
                    "{} bytes for {} points of {w} columns (expected {want})",
                    bytes.len(),
                    self.points
                ),
            ));
        }
        self.model_errors = Vec::with_capacity(self.points * w);
        self.baseline_errors = Vec::with_capacity(self.points * w);
        for point in bytes.chunks_exact((w * 8).max(1)) {
            let floats = point
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            for (i, v) in floats.enumerate() {
                if i < w {
                    self.model_errors.push(v);
                } else {
                    self.baseline_errors.push(v);
                }
            }
        }
        Ok(())
    }
}

/// A trained model, as saved and loaded.
#[derive(Debug, Clone)]
pub struct ModelDir {
    pub config: TrainingConfig,
    pub data: DataSpec,
    pub validation: Validation,
    pub baseline: HourProfile,
    pub history: History,
    pub network: Network,
}

impl ModelDir {
    /// Writes the directory (and `loss_curves.png` through `draw`) atomically.
    pub fn save<E: std::fmt::Display>(
        &self,
        dir: &Path,
        force: bool,
        draw: impl FnOnce(&Path) -> Result<(), E>,
    ) -> Result<(), Error> {
        let weights = self.network.to_bytes().map_err(|e| Error::BadFile {
            dir: dir.to_path_buf(),
            file: "weights.bpk".into(),
            message: e.to_string(),
        })?;
        let files: Vec<(&str, Vec<u8>)> = vec![
            (
                "config.toml",
                toml::to_string_pretty(&self.config)
                    .unwrap_or_default()
                    .into_bytes(),
            ),
            ("data.json", json(&self.data)),
            ("weights.bpk", weights),
            ("validation.json", json(&self.validation)),
            ("validation.bin", self.validation.to_bin()),
            ("baseline.json", json(&self.baseline)),
            ("history.json", json(&self.history)),
        ];
        save_dir(
            dir,
            force,
            Task::Metrics,
            self.config.model.name(),
            &files,
            |temp| {
                // The chart is for people; it is not part of the checked contents.
                if let Err(message) = draw(&temp.join("loss_curves.png")) {
                    eprintln!("warning: no loss chart in {}: {message}", dir.display());
                }
            },
        )
    }

    /// Loads and checks a model directory.
    pub fn load(dir: &Path) -> Result<ModelDir, Error> {
        let r = DirReader::open(dir, Task::Metrics)?;
        let config: TrainingConfig =
            toml::from_str(&String::from_utf8_lossy(&r.read("config.toml")?))
                .map_err(|e| r.bad("config.toml", e))?;
        let data: DataSpec = r.json("data.json")?;
        let mut validation: Validation = r.json("validation.json")?;
        validation.read_bin(&r, &r.read("validation.bin")?)?;
        let baseline: HourProfile = r.json("baseline.json")?;
        let history: History = r.json("history.json")?;
        let weights = r.read("weights.bpk")?;
        let device = config.backend.device();
        let mut rng = crate::rng::seeded(config.seed, 1);
        let network = Network::new(
            &config.model,
            &mut rng,
            data.window.length,
            data.columns.len(),
            &device,
        )
        .load_bytes(weights)
        .map_err(|e| r.bad("weights.bpk", e))?;
        Ok(ModelDir {
            config,
            data,
            validation,
            baseline,
            history,
            network,
        })
    }
}
