//! The networks learn normal behaviour: validation loss falls and beats a trivial baseline.

use vigil_core::series::ReadOptions;
use vigil_model::config::{ModelConfig, TrainingConfig};
use vigil_trainer::{MetricsJob, train_metrics};

use crate::small_metrics;

fn train(model: ModelConfig, window: usize) -> vigil_trainer::training::History {
    let (history, validation) = train_full(model, window);
    // The kept weights are the best epoch's: scored on the validation windows (all of them
    // are watched with fewer than 8,192), they give that epoch's loss again.
    let mean = history.best_valid;
    assert!(
        validation.points > 0
            && validation.model_errors.len() == validation.points * validation.column_means.len()
    );
    let min = history
        .epochs
        .iter()
        .map(|e| e.valid)
        .fold(f64::INFINITY, f64::min);
    assert!(
        (mean - min).abs() < 1e-3 * min,
        "kept weights score {mean}, the best epoch {min}"
    );
    assert_eq!(history.epochs[history.best_epoch - 1].valid, min);
    history
}

fn train_full(
    model: ModelConfig,
    window: usize,
) -> (
    vigil_trainer::training::History,
    vigil_model::metrics::Validation,
) {
    let dir = tempfile::tempdir().unwrap();
    let input = small_metrics(dir.path());
    let config = TrainingConfig {
        model,
        window,
        epochs: 12,
        batch_size: 32,
        learning_rate: 3e-3,
        patience: 12,
        ..TrainingConfig::default()
    };
    let job = MetricsJob {
        input: &input,
        model_dir: &dir.path().join("model"),
        read: ReadOptions::default(),
        config,
        force: false,
    };
    let model = train_metrics(&job, &mut ()).unwrap().model;
    (model.history, model.validation)
}

fn assert_learns(h: &vigil_trainer::training::History, margin: f64) {
    let first = h.epochs[0].valid;
    assert!(
        h.best_valid < first,
        "validation loss never fell: {:?}",
        h.epochs
    );
    assert!(
        h.best_valid < margin * h.baseline_window_mean,
        "best validation loss {:.4} does not beat the window-mean baseline {:.4} by a clear margin: {:?}",
        h.best_valid,
        h.baseline_window_mean,
        h.epochs
            .iter()
            .map(|e| (e.train, e.valid))
            .collect::<Vec<_>>()
    );
}

#[test]
fn lstm_forecaster_beats_the_window_mean() {
    let h = train(
        ModelConfig::default_for(vigil_model::config::ModelKind::LstmForecaster),
        12,
    );
    assert_learns(&h, 0.7);
    assert!(h.baseline_last_value.is_some());
}

#[test]
fn dense_autoencoder_beats_the_window_mean() {
    let h = train(
        ModelConfig::DenseAutoencoder {
            hidden: 32,
            latent: 8,
        },
        12,
    );
    assert_learns(&h, 0.7);
}

#[test]
fn lstm_autoencoder_beats_the_window_mean() {
    let h = train(
        ModelConfig::default_for(vigil_model::config::ModelKind::LstmAutoencoder),
        12,
    );
    assert_learns(&h, 0.85);
}
