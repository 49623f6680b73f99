//! Point scoring: every window scores one point, its newest row.
//!
//! An autoencoder's window ends at the point (its error at the last step); a forecaster's
//! window is the `length` rows before the point and predicts it (its error at the first
//! horizon step; later horizon steps, when the model has them, are not needed to score).
//! So a point is scored as soon as it arrives, from the rows up to it: detection is causal
//! and streams.

use crate::batch::Batch;
use crate::networks::Network;
use vigil_core::window::WindowSpec;

/// Rows of history a scoring window holds, the scored point included.
pub fn rows_needed(spec: &WindowSpec) -> usize {
    if spec.horizon == 0 {
        spec.length
    } else {
        spec.length + 1
    }
}

/// Each window's squared error on the point it scores, row-major `[windows × columns]`.
///
/// `batch` holds windows of `spec.span()` rows whose scored point is row
/// [`rows_needed`]` - 1`; rows after it (a multi-step forecaster's later horizon) may be
/// padding.
pub fn point_errors(net: &Network, batch: &Batch) -> Vec<f32> {
    if batch.is_empty() {
        return Vec::new();
    }
    let errors = net.errors(batch);
    let [b, steps, w] = errors.dims();
    let k = match net {
        Network::Forecaster(_) => 0,
        _ => steps - 1,
    };
    errors
        .slice([0..b, k..k + 1, 0..w])
        .reshape([b, w])
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default()
}
