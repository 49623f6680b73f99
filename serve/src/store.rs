//! The model store: a directory of model directories, the same ones the CLIs write (a
//! model trained by `trainer` and copied in is served as is). Names are plain file names;
//! hidden entries (`.runs/`, the model writer's temporaries) are the service's own.

use std::path::{Path, PathBuf};

use serde::Serialize;
use utoipa::ToSchema;
use vigil_model::dir::{Task, describe};

use crate::error::Error;

/// A model as the API lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelInfo {
    pub name: String,
    /// `metrics` or `logs`.
    pub task: String,
    /// The network (`dense_autoencoder`, `deeplog`, …).
    pub model_kind: String,
    pub vigil_version: String,
    pub format_version: u32,
    pub bytes: u64,
    /// When the directory was last written (RFC 3339).
    pub modified: Option<String>,
}

/// A directory in the store that is not a usable model (kept, listed apart).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unusable {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Whether `name` may name a model: 1 to 64 of `A-Z a-z 0-9 _ - .`, not starting with a dot.
pub fn check_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest {
            detail: format!(
                "invalid model name {name:?}: use 1 to 64 letters, digits, '_', '-' or '.', not starting with '.'"
            ),
            field: Some("name".into()),
            value: Some(name.into()),
        })
    }
}

impl Store {
    /// Opens (creating) the store directory.
    pub fn open(root: &Path) -> std::io::Result<Store> {
        // What a previous process left: its uploads and detections, and the temporaries
        // of a model it was writing when it stopped (never renamed into place).
        let runs = root.join(".runs");
        if runs.exists() {
            std::fs::remove_dir_all(&runs)?;
        }
        if let Ok(entries) = std::fs::read_dir(root) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && (name.contains(".tmp-") || name.contains(".old-")) {
                    std::fs::remove_dir_all(e.path())?;
                }
            }
        }
        std::fs::create_dir_all(&runs)?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the service keeps uploads and detection outputs.
    pub fn runs(&self) -> PathBuf {
        self.root.join(".runs")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The usable models, by name, and the directories that are not.
    pub fn list(&self) -> Result<(Vec<ModelInfo>, Vec<Unusable>), Error> {
        let mut models = Vec::new();
        let mut unusable = Vec::new();
        let entries = std::fs::read_dir(&self.root).map_err(Error::internal)?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            match self.get(&name) {
                Ok(m) => models.push(m),
                Err(e) => unusable.push(Unusable {
                    name,
                    reason: e.to_string(),
                }),
            }
        }
        models.sort_by(|a, b| a.name.cmp(&b.name));
        unusable.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((models, unusable))
    }

    /// One model's manifest; a missing name is `UnknownModel`, a directory that is not a
    /// current model a conflict naming why (damaged, other version).
    pub fn get(&self, name: &str) -> Result<ModelInfo, Error> {
        check_name(name)?;
        let dir = self.path(name);
        if !dir.is_dir() {
            return Err(Error::UnknownModel(name.into()));
        }
        let d = describe(&dir).map_err(|e| Error::Conflict(self.shown(&e.to_string())))?;
        let modified = std::fs::metadata(dir.join("manifest.json"))
            .and_then(|m| m.modified())
            .ok()
            .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
        Ok(ModelInfo {
            name: name.into(),
            task: d.task.name().into(),
            model_kind: d.model_kind,
            vigil_version: d.vigil_version,
            format_version: d.format_version,
            bytes: d.bytes,
            modified,
        })
    }

    /// The model's task, checked against what a request needs.
    pub fn task(&self, name: &str) -> Result<Task, Error> {
        let m = self.get(name)?;
        Ok(if m.task == "logs" {
            Task::Logs
        } else {
            Task::Metrics
        })
    }

    pub fn delete(&self, name: &str) -> Result<(), Error> {
        // A damaged directory (a conflict) may be deleted too; a missing one is unknown.
        match self.get(name) {
            Ok(_) | Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        // Renamed away first, so a concurrent reader sees the model whole or not at all.
        let dir = self.path(name);
        let gone = self
            .runs()
            .join(format!(".deleted-{name}-{}", std::process::id()));
        std::fs::rename(&dir, &gone).map_err(|e| match e.kind() {
            // Deleted meanwhile by another request.
            std::io::ErrorKind::NotFound => Error::UnknownModel(name.into()),
            _ => Error::internal(format!("cannot delete model {name:?}: {e}")),
        })?;
        std::fs::remove_dir_all(&gone)
            .map_err(|e| Error::internal(format!("cannot delete model {name:?}: {e}")))
    }

    /// A library message with the store's absolute paths shown relative to it.
    pub fn shown(&self, message: &str) -> String {
        let root = format!("{}/", self.root.display());
        message.replace(&root, "")
    }
}

/// Loaded metrics models, reused while their manifest is unchanged (a detect call would
/// otherwise read and check the whole directory, then build the network, every time).
pub struct ModelCache {
    inner: std::sync::Mutex<Vec<Cached>>,
    capacity: usize,
}

struct Cached {
    name: String,
    stamp: (std::time::SystemTime, u64),
    model: std::sync::Arc<vigil_model::ModelDir>,
}

impl ModelCache {
    pub fn new(capacity: usize) -> ModelCache {
        ModelCache {
            inner: std::sync::Mutex::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    /// The model in `dir`, from the cache when its manifest has the same time and size as
    /// when it was loaded; else loaded (and checked) again.
    pub fn get(
        &self,
        name: &str,
        dir: &Path,
    ) -> Result<std::sync::Arc<vigil_model::ModelDir>, vigil_model::Error> {
        let stamp = std::fs::metadata(dir.join("manifest.json"))
            .and_then(|m| Ok((m.modified()?, m.len())))
            .ok();
        {
            let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = inner
                .iter()
                .find(|c| c.name == name && Some(c.stamp) == stamp)
            {
                return Ok(c.model.clone());
            }
        }
        let model = std::sync::Arc::new(vigil_model::ModelDir::load(dir)?);
        if let Some(stamp) = stamp {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.retain(|c| c.name != name);
            if inner.len() >= self.capacity {
                inner.remove(0);
            }
            inner.push(Cached {
                name: name.into(),
                stamp,
                model: model.clone(),
            });
        }
        Ok(model)
    }
}
