//! Vigil's models: what training and inference both need, and no training loop (only
//! [`adapt`]'s online steps).
//!
//! - [`config`]: the training configuration saved beside the weights (network kind and
//!   sizes, window, seed, backend);
//! - [`nn`], [`cell`], [`networks`]: the layers (a fused LSTM cell with its own backward)
//!   and the window models behind [`networks::Network`] (three networks and the linear
//!   [`pca`] baseline);
//! - [`batch`], [`scoring`]: windows as tensors, and every window scoring its newest row;
//! - [`dir`], [`metrics`]: the self-checking model directory (manifest, checksums,
//!   format version, task) and the metrics model ([`metrics::ModelDir`]);
//! - [`adapt`]: the one training step here, for `detector metrics --adapt` (the network
//!   keeps learning on windows judged normal);
//! - [`deeplog`], [`logmodel`]: DeepLog's network, vocabulary and verdicts, and the log
//!   model directory ([`logmodel::LogModel`]).

pub mod adapt;
pub mod batch;
pub mod cell;
pub mod config;
pub mod deeplog;
pub mod dir;
mod error;
pub mod history;
pub mod logmodel;
pub mod metrics;
pub mod networks;
pub mod nn;
pub mod pca;
pub mod rng;
pub mod scoring;

pub use error::Error;
pub use metrics::ModelDir;
