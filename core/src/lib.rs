//! Vigil's shared core: the data model every program agrees on.
//!
//! It holds what the generator writes and the trainer and detector read — the metric
//! columns, the labels schema, timestamps and durations — plus the atomic-output rule
//! ("a crash never leaves a half file"). It depends on neither burn, plotters nor clap.

pub mod baseline;
mod error;
pub mod fixed;
pub mod io;
pub mod label;
pub mod likelihood;
pub mod logs;
pub mod metric;
pub mod scaler;
pub mod score;
pub mod season;
pub mod series;
pub mod session_label;
pub mod threshold;
pub mod time;
pub mod window;

pub use error::Error;
pub use io::AtomicFile;
pub use label::Label;
pub use metric::{METRICS, Metric};
pub use time::Duration;
