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

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::TrainingConfig;
use crate::model::Network;
use crate::training::History;
use vigil_core::baseline::HourProfile;
use vigil_core::scaler::Scaler;
use vigil_core::window::WindowSpec;

pub const FORMAT: &str = "vigil-model";
/// Bumped whenever a file's meaning changes; older directories must be retrained.
pub const FORMAT_VERSION: u32 = 2;

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

    fn read_bin(&mut self, bytes: &[u8]) -> Result<(), String> {
        let w = self.column_means.len();
        let want = self.points * w * 8;
        if bytes.len() != want || self.runs.iter().sum::<usize>() != self.points {
            return Err(format!(
                "{} bytes for {} points of {w} columns (expected {want})",
                bytes.len(),
                self.points
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FileEntry {
    name: String,
    bytes: u64,
    sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    vigil_version: String,
    task: String,
    model_kind: String,
    files: Vec<FileEntry>,
}

/// A model directory that cannot be used, saying why.
#[derive(Debug, thiserror::Error)]
pub enum ModelDirError {
    #[error("model directory {0} does not exist")]
    Missing(PathBuf),
    #[error("{0} is not a Vigil model directory: it has no manifest.json")]
    NotAModel(PathBuf),
    #[error("{dir}: manifest.json is damaged: {message}")]
    BadManifest { dir: PathBuf, message: String },
    #[error(
        "{dir} was written in model format {found} (Vigil {vigil}); this Vigil reads format {FORMAT_VERSION}: train the model again"
    )]
    WrongVersion {
        dir: PathBuf,
        found: u32,
        vigil: String,
    },
    #[error("{dir} holds a {found} model; this command needs a {expected} model")]
    WrongTask {
        dir: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{dir}: {file} is missing")]
    MissingFile { dir: PathBuf, file: String },
    #[error("{dir}: {file} is truncated: {found} of {expected} bytes")]
    Truncated {
        dir: PathBuf,
        file: String,
        found: u64,
        expected: u64,
    },
    #[error("{dir}: {file} is corrupt: its checksum does not match the manifest")]
    Corrupt { dir: PathBuf, file: String },
    #[error("{dir}: {file} cannot be read: {message}")]
    BadFile {
        dir: PathBuf,
        file: String,
        message: String,
    },
    #[error("{0} already exists; pass --force to replace it")]
    Exists(PathBuf),
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ModelDirError + '_ {
    move |source| ModelDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Fails early, before any training, if `dir` exists and may not be replaced.
pub fn check_writable(dir: &Path, force: bool) -> Result<(), ModelDirError> {
    if dir.exists() && !force {
        return Err(ModelDirError::Exists(dir.to_path_buf()));
    }
    Ok(())
}

/// Writes `files` (name, bytes) and their manifest into `dir` atomically: under a
/// temporary name, renamed into place. `extra` adds unchecked files for people (charts).
pub(crate) fn save_dir(
    dir: &Path,
    force: bool,
    task: &str,
    model_kind: &str,
    files: &[(&str, Vec<u8>)],
    extra: impl FnOnce(&Path),
) -> Result<(), ModelDirError> {
    check_writable(dir, force)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if temp.exists() {
        fs::remove_dir_all(&temp).map_err(io(&temp))?;
    }
    fs::create_dir_all(&temp).map_err(io(&temp))?;
    let mut entries = Vec::new();
    for (file, bytes) in files {
        let path = temp.join(file);
        fs::write(&path, bytes).map_err(io(&path))?;
        entries.push(FileEntry {
            name: file.to_string(),
            bytes: bytes.len() as u64,
            sha256: sha256(bytes),
        });
    }
    extra(&temp);
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        vigil_version: env!("CARGO_PKG_VERSION").into(),
        task: task.into(),
        model_kind: model_kind.into(),
        files: entries,
    };
    let path = temp.join("manifest.json");
    fs::write(&path, json(&manifest)).map_err(io(&path))?;

    if dir.exists() {
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        fs::rename(dir, &old).map_err(io(dir))?;
        fs::rename(&temp, dir).map_err(io(dir))?;
        fs::remove_dir_all(&old).map_err(io(&old))?;
    } else {
        fs::rename(&temp, dir).map_err(io(dir))?;
    }
    Ok(())
}

/// A model directory whose manifest was checked (format, version, task); reads files
/// checked against it.
pub(crate) struct DirReader {
    dir: PathBuf,
    manifest: Manifest,
}

impl DirReader {
    pub(crate) fn open(dir: &Path, task: &str) -> Result<DirReader, ModelDirError> {
        let d = dir.to_path_buf();
        if !dir.is_dir() {
            return Err(ModelDirError::Missing(d));
        }
        let manifest_path = dir.join("manifest.json");
        let text = fs::read(&manifest_path).map_err(|_| ModelDirError::NotAModel(d.clone()))?;
        let manifest: Manifest =
            serde_json::from_slice(&text).map_err(|e| ModelDirError::BadManifest {
                dir: d.clone(),
                message: e.to_string(),
            })?;
        if manifest.format != FORMAT {
            return Err(ModelDirError::BadManifest {
                dir: d,
                message: format!("format {:?} is not {FORMAT:?}", manifest.format),
            });
        }
        if manifest.format_version != FORMAT_VERSION {
            return Err(ModelDirError::WrongVersion {
                dir: d,
                found: manifest.format_version,
                vigil: manifest.vigil_version,
            });
        }
        if manifest.task != task {
            return Err(ModelDirError::WrongTask {
                dir: d,
                found: manifest.task,
                expected: task.into(),
            });
        }
        Ok(DirReader { dir: d, manifest })
    }

    /// A listed file's bytes, refused if missing, truncated or altered.
    pub(crate) fn read(&self, file: &str) -> Result<Vec<u8>, ModelDirError> {
        let d = &self.dir;
        let entry = self
            .manifest
            .files
            .iter()
            .find(|f| f.name == file)
            .ok_or_else(|| ModelDirError::BadManifest {
                dir: d.clone(),
                message: format!("it does not list {file}"),
            })?;
        let bytes = fs::read(d.join(file)).map_err(|_| ModelDirError::MissingFile {
            dir: d.clone(),
            file: file.into(),
        })?;
        if (bytes.len() as u64) < entry.bytes {
            return Err(ModelDirError::Truncated {
                dir: d.clone(),
                file: file.into(),
                found: bytes.len() as u64,
                expected: entry.bytes,
            });
        }
        if bytes.len() as u64 != entry.bytes || sha256(&bytes) != entry.sha256 {
            return Err(ModelDirError::Corrupt {
                dir: d.clone(),
                file: file.into(),
            });
        }
        Ok(bytes)
    }

    /// Whether the manifest lists `file` (optional files).
    pub(crate) fn lists(&self, file: &str) -> bool {
        self.manifest.files.iter().any(|f| f.name == file)
    }

    pub(crate) fn bad(&self, file: &str, message: impl std::fmt::Display) -> ModelDirError {
        ModelDirError::BadFile {
            dir: self.dir.clone(),
            file: file.into(),
            message: message.to_string(),
        }
    }

    /// A listed JSON file, parsed.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        file: &str,
    ) -> Result<T, ModelDirError> {
        serde_json::from_slice(&self.read(file)?).map_err(|e| self.bad(file, e))
    }
}

impl ModelDir {
    /// Writes the directory (and `loss_curves.png` through `draw`) atomically.
    pub fn save(
        &self,
        dir: &Path,
        force: bool,
        draw: impl FnOnce(&Path) -> Result<(), String>,
    ) -> Result<(), ModelDirError> {
        let weights = self
            .network
            .to_bytes()
            .map_err(|e| ModelDirError::BadFile {
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
            "metrics",
            self.config.model.name(),
            &files,
            |temp| {
                // The chart is for people; it is not part of the checked contents.
                if let Err(message) = draw(&temp.join("loss_curves.png")) {
                    eprintln!("trainer: warning: no loss chart: {message}");
                }
            },
        )
    }

    /// Loads and checks a model directory.
    pub fn load(dir: &Path) -> Result<ModelDir, ModelDirError> {
        let r = DirReader::open(dir, "metrics")?;
        let config: TrainingConfig =
            toml::from_str(&String::from_utf8_lossy(&r.read("config.toml")?))
                .map_err(|e| r.bad("config.toml", e))?;
        let data: DataSpec = r.json("data.json")?;
        let mut validation: Validation = r.json("validation.json")?;
        validation
            .read_bin(&r.read("validation.bin")?)
            .map_err(|m| r.bad("validation.bin", m))?;
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

/// Pretty JSON with a final newline; serialising our own plain structs cannot fail.
pub(crate) fn json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(value).unwrap_or_default();
    v.push(b'\n');
    v
}
