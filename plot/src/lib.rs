//! Vigil's charts: PNG files drawn with plotters and the DejaVu Sans font embedded in this
//! crate, so nothing depends on the fonts a machine happens to have.
//!
//! Each chart is drawn to a hidden temporary file and renamed into place (see
//! [`vigil_core::io`]).
//!
//! Code map (every public item is re-exported here, so callers write `vigil_plot::X`):
//! `buckets` summarises streams of rows for the charts; `colour` holds the palettes; `font`
//! registers the embedded font; `labels` formats ticks and draws legends; `time_chart`,
//! `histogram` and `lines` are the three renderers.

mod buckets;
mod colour;
mod font;
mod histogram;
mod labels;
mod lines;
mod time_chart;

use std::path::Path;

pub use buckets::{Band, Buckets, months};
pub use colour::{category, palette};
pub use histogram::{Histogram, render_histograms};
pub use lines::{Scale, render_lines};
pub use time_chart::{Panel, Span, TimeChart, render_time_chart};

/// A chart that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw chart {path}: {message}")]
pub struct PlotError {
    pub path: String,
    pub message: String,
}

/// The error for the chart at `path`, from whatever plotters or the file system reported.
fn err(path: &Path, e: impl std::fmt::Display) -> PlotError {
    PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}
