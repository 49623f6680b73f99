//! A batch of metric windows as the networks read them.

use burn::prelude::*;

use vigil_core::window::WindowSpec;

/// Windows as raw values, turned into the tensors each network wants.
pub struct Batch {
    /// Row-major `[batch, window + horizon, width]`.
    values: Vec<f32>,
    batch: usize,
    window: usize,
    horizon: usize,
    width: usize,
    device: Device,
}

impl Batch {
    /// A batch of `batch` windows of `spec.span()` rows each, row-major `values`
    /// (`[batch, span, width]`), built outside a table (the detector's stream).
    pub fn from_values(
        values: Vec<f32>,
        spec: &WindowSpec,
        width: usize,
        device: &Device,
    ) -> Batch {
        let batch = values.len() / (spec.span() * width).max(1);
        Batch {
            values,
            batch,
            window: spec.length,
            horizon: spec.horizon,
            width,
            device: device.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.batch
    }

    pub fn is_empty(&self) -> bool {
        self.batch == 0
    }

    pub fn window_len(&self) -> usize {
        self.window
    }

    fn span(&self) -> usize {
        self.window + self.horizon
    }

    /// Steps `from..to` of every window, `[batch, to - from, width]`.
    fn steps(&self, from: usize, to: usize) -> Tensor<3> {
        let (span, w) = (self.span(), self.width);
        let mut v = Vec::with_capacity(self.batch * (to - from) * w);
        for b in 0..self.batch {
            v.extend_from_slice(&self.values[(b * span + from) * w..(b * span + to) * w]);
        }
        Tensor::from_data(TensorData::new(v, [self.batch, to - from, w]), &self.device)
    }

    /// The window without its horizon, `[batch, window, width]`.
    pub fn window(&self) -> Tensor<3> {
        self.steps(0, self.window)
    }

    /// The horizon after the window, `[batch, horizon, width]`.
    pub fn horizon(&self) -> Tensor<3> {
        self.steps(self.window, self.span())
    }

    /// The window flattened, `[batch, window · width]`.
    pub fn flat_window(&self) -> Tensor<2> {
        self.window()
            .reshape([self.batch, self.window * self.width])
    }

    /// The window's last step, `[batch, width]`.
    pub fn last_step(&self) -> Tensor<2> {
        self.step(self.window - 1)
    }

    fn step(&self, t: usize) -> Tensor<2> {
        let (span, w) = (self.span(), self.width);
        let mut v = Vec::with_capacity(self.batch * w);
        for b in 0..self.batch {
            v.extend_from_slice(&self.values[(b * span + t) * w..(b * span + t + 1) * w]);
        }
        Tensor::from_data(TensorData::new(v, [self.batch, w]), &self.device)
    }

    /// The window one step at a time: `window` tensors of `[batch, width]`.
    pub fn window_steps(&self) -> Vec<Tensor<2>> {
        (0..self.window).map(|t| self.step(t)).collect()
    }
}
