//! Why a model could not be used, checked or written.

use std::path::PathBuf;

use crate::dir::FORMAT_VERSION;

/// Every failure of the model crate, naming the directory, file or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value out of range (`key: expected …, found …`).
    #[error("training config: {0}")]
    Config(String),
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
        expected: crate::dir::Task,
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
