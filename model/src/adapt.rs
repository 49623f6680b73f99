//! Online adaptation (`detector metrics --adapt`): the network keeps learning, one pass of
//! Adam over each batch of windows the detector judged normal, so a lasting change in
//! what normal looks like is learnt by the network itself and not only absorbed by the
//! likelihood's history. The only training this crate does; the training loop proper
//! (epochs, early stopping) is the trainer's, and takes the same [`step`] with the same
//! [`optimiser`].

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use crate::Error;
use crate::batch::Batch;
use crate::metrics::ModelDir;
use crate::networks::{Network, WindowModel};
use crate::rng::seeded;
use vigil_core::window::WindowSpec;

/// A trainable copy of a model directory's network and its optimiser state.
pub struct Adapter {
    /// `None` only while a step holds it.
    net: Option<Network>,
    optim: ModuleOptimizer,
    rate: f64,
    batch: usize,
    spec: WindowSpec,
    width: usize,
    inputs: Device,
    /// Windows learnt from and optimiser steps taken so far.
    pub windows: usize,
    pub steps: usize,
}

impl Adapter {
    /// Starts from `model`'s weights; `rate` is the learning rate of the online steps. The
    /// PCA baseline has no gradient step and is refused.
    pub fn new(model: &ModelDir, rate: f64) -> Result<Adapter, Error> {
        if matches!(model.network, Network::Pca(_)) {
            return Err(Error::Config(
                "--adapt: the PCA baseline is fitted in closed form and has no gradient step to adapt with; use a network model".into(),
            ));
        }
        crate::config::check_learning_rate(rate)?;
        let config = &model.config;
        let width = model.data.columns.len();
        let device = config.backend.device().autodiff();
        // A freshly built network on the autodiff device, given the trained weights: its
        // parameters are tracked. (The seed only shapes the initial weights, which the
        // record replaces.)
        let mut rng = seeded(config.seed, 1);
        let fresh = Network::new(&config.model, &mut rng, config.window, width, &device);
        let bytes = model.network.to_bytes().map_err(|e| bad_weights(&e))?;
        let net = fresh.load_bytes(bytes).map_err(|e| bad_weights(&e))?;
        Ok(Adapter {
            net: Some(net),
            optim: optimiser(),
            rate,
            batch: config.batch_size.max(1),
            spec: model.data.window,
            width,
            inputs: config.backend.device(),
            windows: 0,
            steps: 0,
        })
    }

    /// One pass over `values` (row-major windows of the model's span, scaled), in order, a
    /// batch at a time; returns the mean loss before each step.
    pub fn learn(&mut self, values: &[f32]) -> f64 {
        let per_window = self.spec.span() * self.width;
        let (mut sum, mut n) = (0f64, 0usize);
        for chunk in values.chunks(self.batch * per_window) {
            let windows = chunk.len() / per_window.max(1);
            if windows == 0 {
                continue;
            }
            let batch = Batch::from_values(
                chunk[..windows * per_window].to_vec(),
                &self.spec,
                self.width,
                &self.inputs,
            );
            let Some(net) = self.net.take() else {
                break;
            };
            let (optim, rate) = (&mut self.optim, self.rate);
            let (loss, net) = match net {
                Network::Dense(m) => wrap(step(m, &batch, optim, rate), Network::Dense),
                Network::LstmAe(m) => wrap(step(m, &batch, optim, rate), Network::LstmAe),
                Network::Forecaster(m) => wrap(step(m, &batch, optim, rate), Network::Forecaster),
                pca @ Network::Pca(_) => (f64::NAN, pca),
            };
            self.net = Some(net);
            sum += loss * windows as f64;
            n += windows;
            self.windows += windows;
            self.steps += 1;
        }
        if n == 0 { f64::NAN } else { sum / n as f64 }
    }

    /// The adapted network, without autodiff, for scoring.
    pub fn network(&self) -> Option<Network> {
        self.net.as_ref().map(Network::valid)
    }
}

/// The optimiser a window model trains with, in the trainer and online: Adam, gradients
/// clipped to norm 1.
pub fn optimiser() -> ModuleOptimizer {
    AdamConfig::new()
        .with_epsilon(1e-8)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init()
}

/// One optimiser step of `model` on `batch` (its mean squared error); returns the loss
/// before the step and the stepped model.
pub fn step<M: WindowModel>(
    model: M,
    batch: &Batch,
    optim: &mut ModuleOptimizer,
    rate: f64,
) -> (f64, M) {
    let loss = model.errors(batch).mean();
    let value = f64::from(loss.clone().into_scalar::<f32>());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (value, optim.step(rate, model, grads))
}

fn wrap<M>((loss, model): (f64, M), variant: fn(M) -> Network) -> (f64, Network) {
    (loss, variant(model))
}

fn bad_weights(e: &dyn std::fmt::Display) -> Error {
    Error::Config(format!(
        "--adapt: the network's weights cannot be copied for training: {e}"
    ))
}
