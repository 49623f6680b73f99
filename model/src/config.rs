//! The training configuration: everything a model directory needs to be rebuilt, saved
//! beside the weights so the detector never restates a hyper-parameter.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Which network, with its own hyper-parameters (`kind` selects it in TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    /// Flattened windows through a dense bottleneck (the original project's model).
    DenseAutoencoder {
        #[serde(default = "dense_hidden")]
        hidden: usize,
        #[serde(default = "latent")]
        latent: usize,
    },
    /// An LSTM encodes the window into a latent vector; another LSTM rebuilds the window.
    LstmAutoencoder {
        #[serde(default = "lstm_hidden")]
        hidden: usize,
        #[serde(default = "latent")]
        latent: usize,
    },
    /// Stacked LSTMs read the window and predict the next `horizon` steps.
    LstmForecaster {
        #[serde(default = "lstm_hidden")]
        hidden: usize,
        #[serde(default = "one")]
        layers: usize,
        #[serde(default = "one")]
        horizon: usize,
    },
    /// The linear baseline: principal components of the flattened windows (fitted in
    /// closed form; the training loop's epochs do not apply), the fewest of at most
    /// `components` that explain `variance` of the windows' variance.
    Pca {
        #[serde(default = "latent")]
        components: usize,
        #[serde(default = "pca_variance")]
        variance: f64,
    },
}

fn pca_variance() -> f64 {
    0.95
}

fn dense_hidden() -> usize {
    64
}
fn lstm_hidden() -> usize {
    64
}
fn latent() -> usize {
    16
}
fn one() -> usize {
    1
}

impl ModelConfig {
    pub fn name(&self) -> &'static str {
        match self {
            ModelConfig::DenseAutoencoder { .. } => "dense_autoencoder",
            ModelConfig::LstmAutoencoder { .. } => "lstm_autoencoder",
            ModelConfig::LstmForecaster { .. } => "lstm_forecaster",
            ModelConfig::Pca { .. } => "pca",
        }
    }

    /// Steps needed after the window (the forecast horizon).
    pub fn horizon(&self) -> usize {
        match self {
            ModelConfig::LstmForecaster { horizon, .. } => *horizon,
            _ => 0,
        }
    }

    /// The default configuration of a kind.
    pub fn default_for(kind: ModelKind) -> ModelConfig {
        match kind {
            ModelKind::DenseAutoencoder => ModelConfig::DenseAutoencoder {
                hidden: dense_hidden(),
                latent: latent(),
            },
            ModelKind::LstmAutoencoder => ModelConfig::LstmAutoencoder {
                hidden: lstm_hidden(),
                latent: latent(),
            },
            ModelKind::LstmForecaster => ModelConfig::LstmForecaster {
                hidden: lstm_hidden(),
                layers: one(),
                horizon: one(),
            },
            ModelKind::Pca => ModelConfig::Pca {
                components: latent(),
                variance: pca_variance(),
            },
        }
    }
}

/// The three window networks, without their sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    DenseAutoencoder,
    LstmAutoencoder,
    LstmForecaster,
    Pca,
}

/// burn's CPU backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// burn-flex: the faster of the two on these models (see the README's benchmark).
    #[default]
    Flex,
    Ndarray,
}

impl Backend {
    pub fn device(self) -> burn::prelude::Device {
        match self {
            Backend::Flex => burn::prelude::Device::flex(),
            #[allow(deprecated)] // burn 0.22 deprecates the constructor, not the backend
            Backend::Ndarray => burn::prelude::Device::ndarray(),
        }
    }
}

/// How to train, as written in a TOML training config; flags override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingConfig {
    pub model: ModelConfig,
    /// Steps per window.
    pub window: usize,
    /// Steps between two training windows.
    pub stride: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// Share of each series (its end) kept for validation.
    pub validation_fraction: f64,
    pub seed: u64,
    pub backend: Backend,
    /// At most this many training windows per epoch (a random subset, re-drawn each epoch);
    /// 0 for all.
    pub max_windows_per_epoch: usize,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig {
            model: ModelConfig::DenseAutoencoder {
                hidden: 64,
                latent: 16,
            },
            window: 30,
            stride: 1,
            epochs: 30,
            batch_size: 64,
            learning_rate: 2e-3,
            patience: 5,
            validation_fraction: 0.2,
            seed: 42,
            backend: Backend::Flex,
            max_windows_per_epoch: 20_000,
        }
    }
}

/// `Err` naming the first key whose value is 0.
pub(crate) fn check_counts(counts: &[(&str, usize)]) -> Result<(), Error> {
    match counts.iter().find(|(_, v)| *v == 0) {
        Some((key, _)) => Err(Error::Config(format!(
            "{key}: expected at least 1, found 0"
        ))),
        None => Ok(()),
    }
}

/// `Err` unless the learning rate is a finite number above 0.
pub(crate) fn check_learning_rate(rate: f64) -> Result<(), Error> {
    if rate.is_finite() && rate > 0.0 {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "learning_rate: expected a number > 0, found {rate}"
        )))
    }
}

impl TrainingConfig {
    /// Checks the values once, naming the key at fault.
    pub fn check(&self) -> Result<(), Error> {
        check_counts(&[
            ("window", self.window),
            ("stride", self.stride),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
        ])?;
        check_learning_rate(self.learning_rate)?;
        if !(0.05..=0.5).contains(&self.validation_fraction) {
            return Err(Error::Config(format!(
                "validation_fraction: expected a share in [0.05, 0.5], found {}",
                self.validation_fraction
            )));
        }
        let sizes = match &self.model {
            ModelConfig::DenseAutoencoder { hidden, latent }
            | ModelConfig::LstmAutoencoder { hidden, latent } => {
                vec![("model.hidden", *hidden), ("model.latent", *latent)]
            }
            ModelConfig::LstmForecaster {
                hidden,
                layers,
                horizon,
            } => {
                vec![
                    ("model.hidden", *hidden),
                    ("model.layers", *layers),
                    ("model.horizon", *horizon),
                ]
            }
            ModelConfig::Pca {
                components,
                variance,
            } => {
                if !(*variance > 0.0 && *variance <= 1.0) {
                    return Err(Error::Config(format!(
                        "model.variance: expected a share of the variance in (0, 1], found {variance}"
                    )));
                }
                vec![("model.components", *components)]
            }
        };
        check_counts(&sizes)
    }
}
