//! The generator library's one error type.

use std::path::PathBuf;

/// What can go wrong: a scenario that cannot be read or used, or an output that cannot be
/// written. Each variant names the file, key or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario file could not be read.
    #[error("cannot read scenario {path}")]
    ReadScenario {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The scenario is not TOML, or not in the scenario format (an unknown key, a wrong
    /// type); `line` is where the parser stopped, when it says.
    #[error("scenario {source_name}: {message}")]
    Syntax {
        source_name: String,
        line: Option<usize>,
        message: String,
    },
    /// A scenario value out of range, or naming something that does not exist.
    #[error("scenario {source_name}: {key}: {message}")]
    Invalid {
        source_name: String,
        key: String,
        message: String,
    },
    /// A time of day that is not `HH:MM`.
    #[error("expected a time of day like \"02:30\", found {value:?}")]
    TimeOfDay { value: String },
    /// An output file or folder could not be written.
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Labels(#[from] vigil_core::Error),
    #[error(transparent)]
    Plot(#[from] vigil_plot::PlotError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::NotFound, "gone")
    }

    #[test]
    fn messages_name_what_went_wrong() {
        let read = Error::ReadScenario {
            path: "my.toml".into(),
            source: io(),
        };
        assert_eq!(read.to_string(), "cannot read scenario my.toml");
        assert_eq!(
            std::error::Error::source(&read).map(|s| s.to_string()),
            Some("gone".to_string()),
            "the cause is kept for {{:#}}"
        );
        let invalid = Error::Invalid {
            source_name: "my.toml".into(),
            key: "incidents[2].probability".into(),
            message: "expected a probability in [0, 1], found 1.5".into(),
        };
        assert_eq!(
            invalid.to_string(),
            "scenario my.toml: incidents[2].probability: expected a probability in [0, 1], found 1.5"
        );
        let syntax = Error::Syntax {
            source_name: "(embedded default)".into(),
            line: Some(3),
            message: "unknown field `levle`".into(),
        };
        assert_eq!(
            syntax.to_string(),
            "scenario (embedded default): unknown field `levle`"
        );
        let time = Error::TimeOfDay {
            value: "25:00".into(),
        };
        assert_eq!(
            time.to_string(),
            "expected a time of day like \"02:30\", found \"25:00\""
        );
        let write = Error::Write {
            path: "out/metrics.csv".into(),
            source: io(),
        };
        assert_eq!(write.to_string(), "cannot write out/metrics.csv");
    }
}
