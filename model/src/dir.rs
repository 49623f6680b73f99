//! The parts of a model directory every task shares: a manifest naming the format, its
//! version, the task and each file's size and SHA-256; writing under a temporary name and
//! renaming into place; reading back with every file checked against the manifest.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

pub const FORMAT: &str = "vigil-model";
/// Bumped whenever a file's meaning changes; older directories must be retrained.
pub const FORMAT_VERSION: u32 = 3;

/// What a model directory is for: the detector refuses a directory of the other task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Metric windows (`trainer metrics`, `detector metrics`).
    Metrics,
    /// Log sessions (`trainer logs`, `detector logs`).
    Logs,
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::Metrics => "metrics",
            Task::Logs => "logs",
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Fails early, before any training, if `dir` exists and may not be replaced.
pub fn check_writable(dir: &Path, force: bool) -> Result<(), Error> {
    if dir.exists() && !force {
        return Err(Error::Exists(dir.to_path_buf()));
    }
    Ok(())
}

/// Writes `files` (name, bytes) and their manifest into `dir` atomically: under a
/// temporary name, renamed into place. `extra` adds unchecked files for people (charts).
pub(crate) fn save_dir(
    dir: &Path,
    force: bool,
    task: Task,
    model_kind: &str,
    files: &[(&str, Vec<u8>)],
    extra: impl FnOnce(&Path),
) -> Result<(), Error> {
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
        task: task.name().into(),
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

/// checked against it.
pub(crate) struct DirReader {
    dir: PathBuf,
    manifest: Manifest,
}

/// What a model directory's manifest says, read without loading or checking its files
/// (a service's model list); a directory that is not a current model is refused as
/// [`DirReader::open`] refuses it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Description {
    pub task: Task,
    pub model_kind: String,
    pub vigil_version: String,
    pub format_version: u32,
    /// The listed files' total size.
    pub bytes: u64,
}

/// Reads `dir`'s manifest: its task, model kind and size.
pub fn describe(dir: &Path) -> Result<Description, Error> {
    let manifest = read_manifest(dir)?;
    let task = match manifest.task.as_str() {
        "metrics" => Task::Metrics,
        "logs" => Task::Logs,
        _ => {
            return Err(Error::BadManifest {
                dir: dir.to_path_buf(),
                message: format!("unknown task {:?}", manifest.task),
            });
        }
    };
    Ok(Description {
        task,
        bytes: manifest.files.iter().map(|f| f.bytes).sum(),
        model_kind: manifest.model_kind,
        vigil_version: manifest.vigil_version,
        format_version: manifest.format_version,
    })
}

/// The manifest, refused if missing, unreadable, of another format or version.
fn read_manifest(dir: &Path) -> Result<Manifest, Error> {
    let d = dir.to_path_buf();
    if !dir.is_dir() {
        return Err(Error::Missing(d));
    }
    let manifest_path = dir.join("manifest.json");
    let text = fs::read(&manifest_path).map_err(|_| Error::NotAModel(d.clone()))?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| Error::BadManifest {
        dir: d.clone(),
        message: e.to_string(),
    })?;
    if manifest.format != FORMAT {
        return Err(Error::BadManifest {
            dir: d,
            message: format!("format {:?} is not {FORMAT:?}", manifest.format),
        });
    }
    if manifest.format_version != FORMAT_VERSION {
        return Err(Error::WrongVersion {
            dir: d,
            found: manifest.format_version,
            vigil: manifest.vigil_version,
        });
    }
    Ok(manifest)
}

impl DirReader {
    pub(crate) fn open(dir: &Path, task: Task) -> Result<DirReader, Error> {
        let d = dir.to_path_buf();
        let manifest = read_manifest(dir)?;
        if manifest.task != task.name() {
            return Err(Error::WrongTask {
                dir: d,
                found: manifest.task,
                expected: task,
            });
        }
        Ok(DirReader { dir: d, manifest })
    }

    /// A listed file's bytes, refused if missing, truncated or altered.
    pub(crate) fn read(&self, file: &str) -> Result<Vec<u8>, Error> {
        let d = &self.dir;
        let entry = self
            .manifest
            .files
            .iter()
            .find(|f| f.name == file)
            .ok_or_else(|| Error::BadManifest {
                dir: d.clone(),
                message: format!("it does not list {file}"),
            })?;
        let bytes = fs::read(d.join(file)).map_err(|_| Error::MissingFile {
            dir: d.clone(),
            file: file.into(),
        })?;
        if (bytes.len() as u64) < entry.bytes {
            return Err(Error::Truncated {
                dir: d.clone(),
                file: file.into(),
                found: bytes.len() as u64,
                expected: entry.bytes,
            });
        }
        if bytes.len() as u64 != entry.bytes || sha256(&bytes) != entry.sha256 {
            return Err(Error::Corrupt {
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

    pub(crate) fn bad(&self, file: &str, message: impl std::fmt::Display) -> Error {
        Error::BadFile {
            dir: self.dir.clone(),
            file: file.into(),
            message: message.to_string(),
        }
    }

    /// A listed JSON file, parsed.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, file: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.read(file)?).map_err(|e| self.bad(file, e))
    }
}

pub(crate) fn json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(value).unwrap_or_default();
    v.push(b'\n');
    v
}
