//! The training loop: Adam, a time-ordered validation split, early stopping that keeps the
//! best epoch's weights.

use std::time::Instant;

use burn::prelude::*;

use crate::data::{WindowData, baselines};
use vigil_core::window::WindowRef;
use vigil_model::adapt::{optimiser, step};
use vigil_model::config::TrainingConfig;
pub use vigil_model::history::{EpochLoss, History};
use vigil_model::networks::{Network, WindowModel};
use vigil_model::pca::Pca;
use vigil_model::rng::seeded;

/// Windows scored at once when no gradient is needed.
const SCORE_BATCH: usize = 512;
/// Early stopping watches at most this many validation windows, evenly spread; the kept
/// model is scored on all of them at the end.
const MONITOR_WINDOWS: usize = 8192;

/// Reports progress; the CLI prints or draws a bar, tests stay quiet.
pub trait Progress {
    fn epoch(&mut self, total: usize, loss: &EpochLoss, best: bool);
}

impl Progress for () {
    fn epoch(&mut self, _: usize, _: &EpochLoss, _: bool) {}
}

/// Trains the configured network on `data`; returns the best epoch's network (plain, ready
/// to score) and the history.
pub fn train(
    config: &TrainingConfig,
    data: &WindowData,
    progress: &mut dyn Progress,
) -> (Network, History) {
    let device = config.backend.device().autodiff();
    let mut rng = seeded(config.seed, 1);
    let net = Network::new(
        &config.model,
        &mut rng,
        config.window,
        data.width(),
        &device,
    );
    let (net, epochs, best_epoch, stopped_early) = match net {
        Network::Dense(m) => fit(m, config, data, progress).map_model(Network::Dense),
        Network::LstmAe(m) => fit(m, config, data, progress).map_model(Network::LstmAe),
        Network::Forecaster(m) => fit(m, config, data, progress).map_model(Network::Forecaster),
        Network::Pca(m) => fit_pca(&m, config, data),
    };
    let (mean, last) = baselines(data, &data.valid);
    let best_valid = epochs
        .get(best_epoch.saturating_sub(1))
        .map_or(f64::NAN, |e| e.valid);
    let history = History {
        epochs,
        best_epoch,
        best_valid,
        baseline_window_mean: mean,
        baseline_last_value: last,
        train_windows: data.train.len(),
        valid_windows: data.valid.len(),
        stopped_early,
    };
    (net.valid(), history)
}

/// Early stopping that keeps the best epoch's model: the epochs seen so far, the best
/// validation loss and its model, and how long since it improved.
pub(crate) struct EarlyStop<M> {
    pub epochs: Vec<EpochLoss>,
    best: Option<(f64, M, usize)>,
    since_best: usize,
    patience: usize,
    total: usize,
    pub stopped_early: bool,
}

impl<M: Clone> EarlyStop<M> {
    pub(crate) fn new(patience: usize, total: usize) -> Self {
        EarlyStop {
            epochs: Vec::new(),
            best: None,
            since_best: 0,
            patience,
            total,
            stopped_early: false,
        }
    }

    /// Records an epoch (reported to `progress`); false when training should stop.
    pub(crate) fn record(
        &mut self,
        loss: EpochLoss,
        model: &M,
        progress: &mut dyn Progress,
    ) -> bool {
        // A non-finite loss (diverged) never counts as an improvement.
        let improved =
            loss.valid.is_finite() && self.best.as_ref().is_none_or(|(b, _, _)| loss.valid < *b);
        progress.epoch(self.total, &loss, improved);
        let (epoch, valid) = (loss.epoch, loss.valid);
        self.epochs.push(loss);
        if improved {
            self.best = Some((valid, model.clone(), epoch));
            self.since_best = 0;
            return true;
        }
        self.since_best += 1;
        if self.since_best >= self.patience {
            self.stopped_early = epoch < self.total;
            return false;
        }
        true
    }

    /// The best epoch's model and its 1-based epoch (`last`, epoch 0, if none ran).
    pub(crate) fn best(&mut self, last: M) -> (M, usize) {
        match self.best.take() {
            Some((_, m, e)) => (m, e),
            None => (last, 0),
        }
    }
}

struct Fitted<M> {
    model: M,
    epochs: Vec<EpochLoss>,
    best_epoch: usize,
    stopped_early: bool,
}

impl<M> Fitted<M> {
    fn map_model(self, f: impl FnOnce(M) -> Network) -> (Network, Vec<EpochLoss>, usize, bool) {
        (
            f(self.model),
            self.epochs,
            self.best_epoch,
            self.stopped_early,
        )
    }
}

/// At most [`MONITOR_WINDOWS`] of `windows`, evenly spread.
fn monitored(windows: &[WindowRef]) -> Vec<WindowRef> {
    let every = windows.len().div_ceil(MONITOR_WINDOWS).max(1);
    windows.iter().copied().step_by(every).collect()
}

/// The linear baseline in closed form, on the same (seeded, capped) training windows an
/// epoch draws; its one "epoch" records the fit's losses so the history reads like a
/// network's.
fn fit_pca(
    model: &Pca,
    config: &TrainingConfig,
    data: &WindowData,
) -> (Network, Vec<EpochLoss>, usize, bool) {
    let began = Instant::now();
    let mut rng = seeded(config.seed, 101);
    let windows = data.epoch_windows(&mut rng, config.max_windows_per_epoch);
    let device = config.backend.device().autodiff();
    let (pca, _fit) = model.fit(windows.iter().map(|w| data.window(w)), &device);
    let plain = pca.valid();
    let inputs = config.backend.device();
    let train = mean_error(&plain, data, &monitored(&data.train), &inputs);
    let valid = mean_error(&plain, data, &monitored(&data.valid), &inputs);
    let loss = EpochLoss {
        epoch: 1,
        train,
        valid,
        seconds: began.elapsed().as_secs_f64(),
    };
    (Network::Pca(pca), vec![loss], 1, false)
}

fn fit<M: WindowModel>(
    mut model: M,
    config: &TrainingConfig,
    data: &WindowData,
    progress: &mut dyn Progress,
) -> Fitted<M> {
    let inputs = config.backend.device();
    let mut optim = optimiser();
    let mut stop = EarlyStop::new(config.patience, config.epochs);
    let monitor = monitored(&data.valid);
    for epoch in 1..=config.epochs {
        let began = Instant::now();
        let mut rng = seeded(config.seed, 100 + epoch as u64);
        let windows = data.epoch_windows(&mut rng, config.max_windows_per_epoch);
        let (mut sum, mut count) = (0f64, 0usize);
        for chunk in windows.chunks(config.batch_size) {
            let batch = data.batch(chunk, &inputs);
            let (loss, stepped) = step(model, &batch, &mut optim, config.learning_rate);
            model = stepped;
            sum += loss * chunk.len() as f64;
            count += chunk.len();
        }
        let plain = model.valid();
        let valid = mean_error(&plain, data, &monitor, &inputs);
        let loss = EpochLoss {
            epoch,
            train: sum / count.max(1) as f64,
            valid,
            seconds: began.elapsed().as_secs_f64(),
        };
        if !stop.record(loss, &model, progress) {
            break;
        }
    }
    let (model, best_epoch) = stop.best(model);
    Fitted {
        model,
        epochs: stop.epochs,
        best_epoch,
        stopped_early: stop.stopped_early,
    }
}

/// Mean squared error over `windows` (no gradients).
fn mean_error<M: WindowModel>(
    model: &M,
    data: &WindowData,
    windows: &[WindowRef],
    device: &Device,
) -> f64 {
    let (mut sum, mut n) = (0f64, 0usize);
    for chunk in windows.chunks(SCORE_BATCH) {
        let batch = data.batch(chunk, device);
        let errors = model.errors(&batch);
        let elements = errors.dims().iter().product::<usize>();
        sum += f64::from(errors.sum().into_scalar::<f32>());
        n += elements;
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// One window's score: its mean squared error, and each column's mean squared error.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowScore {
    pub total: f32,
    pub per_column: Vec<f32>,
}

/// Scores `windows` with a plain (non-autodiff) network.
pub fn score(
    net: &Network,
    data: &WindowData,
    windows: &[WindowRef],
    device: &Device,
) -> Vec<WindowScore> {
    let width = data.width();
    let mut out = Vec::with_capacity(windows.len());
    for chunk in windows.chunks(SCORE_BATCH) {
        let batch = data.batch(chunk, device);
        let errors = net.errors(&batch);
        let [b, _, w] = errors.dims();
        let per_column: Vec<f32> = errors
            .mean_dim(1)
            .reshape([b, w])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for row in per_column.chunks(width) {
            out.push(WindowScore {
                total: row.iter().sum::<f32>() / width as f32,
                per_column: row.to_vec(),
            });
        }
    }
    out
}
