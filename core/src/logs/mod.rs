//! Logs: raw lines → header fields and content → templates (Drain) → sessions.
//!
//! - [`read`]: reads a log file line by line; lines that are not UTF-8, empty or too long
//!   are counted, never fatal;
//! - [`format`]: splits a line's header (`<Date> <Time> <Level> <Component>: <Content>`);
//! - [`drain`]: the Drain template miner (He et al., ICWS 2017) as logparser implements
//!   it, incremental, able to match without learning, serialisable;
//! - [`sessions`]: groups parsed lines into sessions (by id, line windows or time windows)
//!   and reads pre-parsed sequence files;
//! - [`loghub`]: grouping accuracy on the loghub-2k benchmark, with logparser's settings.

pub mod drain;
pub mod format;
pub mod pipeline;
pub mod read;
pub mod sessions;
pub mod templates;

pub use drain::{Drain, DrainConfig, Template, TemplateId};
pub use format::LogFormat;
pub use read::{LineReport, LogReader, Skip};
pub use sessions::{Session, SessionRule, Sessionizer};

use crate::series::DataError;

/// Why a log could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file that cannot be read, or a line that breaks its schema (`file:line: …`).
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("invalid log format {format:?}: {message}")]
    Format { format: String, message: String },
    #[error("invalid mask {pattern:?}: {message}")]
    Mask { pattern: String, message: String },
    #[error("invalid session id pattern {pattern:?}: {message}")]
    SessionPattern { pattern: String, message: String },
    #[error("invalid Drain setting: {0}")]
    Config(String),
    #[error("{0}")]
    Session(String),
}

impl LogError {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> LogError {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
        .into()
    }

    pub fn line(path: &std::path::Path, line: u64, message: String) -> LogError {
        DataError::Line {
            path: path.to_path_buf(),
            line,
            message,
        }
        .into()
    }

    pub fn file(path: &std::path::Path, message: String) -> LogError {
        DataError::File {
            path: path.to_path_buf(),
            message,
        }
        .into()
    }
}

/// Python's `str.split()` whitespace: Unicode white space plus the ASCII separators
/// U+001C–U+001F, so tokens are the ones logparser's Drain sees.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}
