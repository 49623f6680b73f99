//! What training did, saved beside the weights (`history.json`).

use serde::{Deserialize, Serialize};

/// One epoch's mean losses (scaled squared error).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochLoss {
    pub epoch: usize,
    pub train: f64,
    pub valid: f64,
    pub seconds: f64,
}

/// What training did, saved in the model directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub epochs: Vec<EpochLoss>,
    /// 1-based epoch whose weights were kept.
    pub best_epoch: usize,
    /// The kept weights' loss over every validation window (epoch losses use a sample of at
    /// most 8,192 of them).
    pub best_valid: f64,
    /// Validation loss of predicting each value by its window's mean.
    pub baseline_window_mean: f64,
    /// Validation loss of predicting the horizon by the window's last value (forecasters).
    pub baseline_last_value: Option<f64>,
    pub train_windows: usize,
    pub valid_windows: usize,
    pub stopped_early: bool,
}
