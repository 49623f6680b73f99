//! The three networks and what they have in common: turning a batch of windows into
//! per-element squared errors.

use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::batch::Batch;
use crate::config::ModelConfig;
use crate::nn::{Dense, Lstm};
use crate::pca::Pca;
use crate::rng::Rng;

/// A network that scores windows: its errors are the training loss and the anomaly score.
pub trait WindowModel: Module + Sized {
    /// Squared errors `[batch, steps, columns]`: over the window for autoencoders, over the
    /// horizon for forecasters.
    fn errors(&self, batch: &Batch) -> Tensor<3>;
}

/// Flattened window → dense bottleneck → window.
#[derive(Module, Debug)]
pub struct DenseAutoencoder {
    encode1: Dense,
    encode2: Dense,
    decode1: Dense,
    decode2: Dense,
}

impl DenseAutoencoder {
    pub fn new(
        rng: &mut Rng,
        window: usize,
        width: usize,
        hidden: usize,
        latent: usize,
        device: &Device,
    ) -> Self {
        let flat = window * width;
        DenseAutoencoder {
            encode1: Dense::new(rng, flat, hidden, device),
            encode2: Dense::new(rng, hidden, latent, device),
            decode1: Dense::new(rng, latent, hidden, device),
            decode2: Dense::new(rng, hidden, flat, device),
        }
    }
}

impl WindowModel for DenseAutoencoder {
    fn errors(&self, batch: &Batch) -> Tensor<3> {
        let x = batch.flat_window();
        let z = relu(self.encode2.forward(relu(self.encode1.forward(x))));
        let y = self.decode2.forward(relu(self.decode1.forward(z)));
        let target = batch.window();
        (y.reshape(target.dims()) - target).square()
    }
}

/// LSTM encoder → latent vector → LSTM decoder (started from the latent, fed the latent and
/// the step's position) → window.
#[derive(Module, Debug)]
pub struct LstmAutoencoder {
    encoder: Lstm,
    to_latent: Dense,
    /// The decoder's initial hidden state, from the latent code.
    to_state: Dense,
    decoder: Lstm,
    head: Dense,
}

impl LstmAutoencoder {
    pub fn new(rng: &mut Rng, width: usize, hidden: usize, latent: usize, device: &Device) -> Self {
        LstmAutoencoder {
            encoder: Lstm::new(rng, width, hidden, device),
            to_latent: Dense::new(rng, hidden, latent, device),
            to_state: Dense::new(rng, latent, hidden, device),
            decoder: Lstm::new(rng, latent + 1, hidden, device),
            head: Dense::new(rng, hidden, width, device),
        }
    }
}

/// Applies `head` to every step's hidden state in one product: `[batch, steps, out]`.
fn per_step(head: &Dense, hs: Vec<Tensor<2>>) -> Tensor<3> {
    let steps = hs.len();
    let stacked: Tensor<3> = Tensor::stack(hs, 1);
    let [b, _, h] = stacked.dims();
    let y = head.forward(stacked.reshape([b * steps, h]));
    let out = y.dims()[1];
    y.reshape([b, steps, out])
}

impl WindowModel for LstmAutoencoder {
    fn errors(&self, batch: &Batch) -> Tensor<3> {
        let encoded = self.encoder.forward(&batch.window_steps());
        let Some(last) = encoded.last().cloned() else {
            return batch.window().zeros_like();
        };
        let z = self.to_latent.forward(last).tanh();
        // Each decoder step gets the latent code and its position in the window, so the
        // decoder need not invent the passing of time from identical inputs.
        let [b, _] = z.dims();
        let steps = batch.window_len();
        let inputs: Vec<Tensor<2>> = (0..steps)
            .map(|t| {
                let position = t as f32 / steps.max(2).saturating_sub(1) as f32;
                Tensor::cat(
                    vec![z.clone(), Tensor::full([b, 1], position, &z.device())],
                    1,
                )
            })
            .collect();
        let h0 = self.to_state.forward(z).tanh();
        let decoded = self.decoder.forward_from(&inputs, Some(h0));
        let y = per_step(&self.head, decoded);
        (y - batch.window()).square()
    }
}

/// Stacked LSTMs over the window; the last hidden state predicts the next `horizon` steps.
#[derive(Module, Debug)]
pub struct LstmForecaster {
    layers: Vec<Lstm>,
    head: Dense,
    horizon: usize,
}

impl LstmForecaster {
    pub fn new(
        rng: &mut Rng,
        width: usize,
        hidden: usize,
        layers: usize,
        horizon: usize,
        device: &Device,
    ) -> Self {
        LstmForecaster {
            layers: (0..layers)
                .map(|l| Lstm::new(rng, if l == 0 { width } else { hidden }, hidden, device))
                .collect(),
            head: Dense::new(rng, hidden, width * horizon, device),
            horizon,
        }
    }
}

impl WindowModel for LstmForecaster {
    fn errors(&self, batch: &Batch) -> Tensor<3> {
        let mut steps = batch.window_steps();
        for layer in &self.layers {
            steps = layer.forward(&steps);
        }
        let target = batch.horizon();
        let Some(last) = steps.last().cloned() else {
            return target.zeros_like();
        };
        // The forecast is a change from the window's last value: easier to learn, and a
        // flat or drifting series does not look anomalous just for its level.
        let anchor = batch.last_step().unsqueeze_dim::<3>(1);
        let y = self.head.forward(last).reshape(target.dims()) + anchor;
        (y - target).square()
    }
}

/// One of the three networks or the linear baseline, as chosen by the training config.
#[derive(Debug, Clone)]
pub enum Network {
    Dense(DenseAutoencoder),
    LstmAe(LstmAutoencoder),
    Forecaster(LstmForecaster),
    Pca(Pca),
}

impl Network {
    /// A freshly initialised network for windows of `window` steps of `width` columns.
    pub fn new(
        config: &ModelConfig,
        rng: &mut Rng,
        window: usize,
        width: usize,
        device: &Device,
    ) -> Network {
        match *config {
            ModelConfig::DenseAutoencoder { hidden, latent } => Network::Dense(
                DenseAutoencoder::new(rng, window, width, hidden, latent, device),
            ),
            ModelConfig::LstmAutoencoder { hidden, latent } => {
                Network::LstmAe(LstmAutoencoder::new(rng, width, hidden, latent, device))
            }
            ModelConfig::LstmForecaster {
                hidden,
                layers,
                horizon,
            } => Network::Forecaster(LstmForecaster::new(
                rng, width, hidden, layers, horizon, device,
            )),
            ModelConfig::Pca {
                components,
                variance,
            } => Network::Pca(Pca::new(window * width, components, variance, device)),
        }
    }

    pub fn errors(&self, batch: &Batch) -> Tensor<3> {
        match self {
            Network::Dense(m) => m.errors(batch),
            Network::LstmAe(m) => m.errors(batch),
            Network::Forecaster(m) => m.errors(batch),
            Network::Pca(m) => m.errors(batch),
        }
    }

    /// The same network without autodiff, for scoring.
    pub fn valid(&self) -> Network {
        match self {
            Network::Dense(m) => Network::Dense(m.valid()),
            Network::LstmAe(m) => Network::LstmAe(m.valid()),
            Network::Forecaster(m) => Network::Forecaster(m.valid()),
            Network::Pca(m) => Network::Pca(m.valid()),
        }
    }

    /// The weights in burn's burnpack format.
    pub fn to_bytes(&self) -> Result<Vec<u8>, burn::store::RecordError> {
        let record = match self.clone() {
            Network::Dense(m) => m.into_record(),
            Network::LstmAe(m) => m.into_record(),
            Network::Forecaster(m) => m.into_record(),
            Network::Pca(m) => m.into_record(),
        };
        Ok(record.into_bytes()?.to_vec())
    }

    /// Loads weights saved by [`Network::to_bytes`] into this (freshly built) network.
    pub fn load_bytes(self, bytes: Vec<u8>) -> Result<Network, burn::store::RecordError> {
        let record =
            burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))?;
        Ok(match self {
            Network::Dense(m) => Network::Dense(m.try_load_record(record)?),
            Network::LstmAe(m) => Network::LstmAe(m.try_load_record(record)?),
            Network::Forecaster(m) => Network::Forecaster(m.try_load_record(record)?),
            Network::Pca(m) => Network::Pca(m.try_load_record(record)?),
        })
    }
}
