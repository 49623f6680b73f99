//! Training and inference speed of each network on each CPU backend.
//!
//! `cargo bench -p vigil-trainer --bench train` — the shapes match `bench/pytorch_models.py`
//! (batch 64, window 30, 3 features, hidden 64), so the two print comparable tables.
//! Each figure is the median of 3 timed repeats after one warm-up.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;

use vigil_core::series::Table;
use vigil_core::window::WindowSpec;
use vigil_model::config::Backend;
use vigil_model::networks::{DenseAutoencoder, LstmAutoencoder, LstmForecaster, WindowModel};
use vigil_model::rng::seeded;
use vigil_trainer::data::WindowData;

const BATCH: usize = 64;
const WINDOW: usize = 30;
const FEATURES: usize = 3;
const HIDDEN: usize = 64;
const TRAIN_BATCHES: usize = 20;
const INFER_BATCHES: usize = 40;

fn synthetic(horizon: usize) -> WindowData {
    let n = 20_000;
    let values: Vec<f32> = (0..n * FEATURES)
        .map(|i| ((i / FEATURES) as f32 * 0.05 + (i % FEATURES) as f32).sin())
        .collect();
    let columns = (0..FEATURES).map(|c| format!("m{c}")).collect();
    let table = Table::single(columns, 60, values);
    let spec = WindowSpec {
        length: WINDOW,
        stride: 1,
        horizon,
    };
    WindowData::new(table, spec, 0.2)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (training samples/s, inference windows/s)
fn measure<M: WindowModel>(
    make: impl Fn(&Device) -> M,
    backend: Backend,
    data: &WindowData,
) -> (f64, f64) {
    let inputs = backend.device();
    let ad = inputs.clone().autodiff();
    let windows: Vec<_> = data
        .train
        .iter()
        .copied()
        .take(BATCH * INFER_BATCHES)
        .collect();
    let batches: Vec<_> = windows
        .chunks(BATCH)
        .map(|c| data.batch(c, &inputs))
        .collect();

    let mut train_runs = Vec::new();
    for rep in 0..4 {
        let mut model = make(&ad);
        let mut optim = AdamConfig::new().init();
        let began = Instant::now();
        for batch in batches.iter().take(TRAIN_BATCHES) {
            let loss = model.errors(batch).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-3, model, grads);
        }
        if rep > 0 {
            train_runs.push((TRAIN_BATCHES * BATCH) as f64 / began.elapsed().as_secs_f64());
        }
    }
    let model = make(&inputs);
    let mut infer_runs = Vec::new();
    for rep in 0..4 {
        let began = Instant::now();
        for batch in &batches {
            let e = model.errors(batch).sum().into_scalar::<f32>();
            std::hint::black_box(e);
        }
        if rep > 0 {
            infer_runs.push((batches.len() * BATCH) as f64 / began.elapsed().as_secs_f64());
        }
    }
    (median(train_runs), median(infer_runs))
}

fn main() {
    let ae = synthetic(0);
    let fc = synthetic(1);
    println!(
        "batch {BATCH}, window {WINDOW}, {FEATURES} features, hidden {HIDDEN}; median of 3 after a warm-up\n"
    );
    println!("| model | backend | train samples/s | inference windows/s |");
    println!("|---|---|---|---|");
    for backend in [Backend::Flex, Backend::Ndarray] {
        let name = format!("{backend:?}").to_lowercase();
        let (t, i) = measure(
            |d| LstmForecaster::new(&mut seeded(1, 1), FEATURES, HIDDEN, 1, 1, d),
            backend,
            &fc,
        );
        println!("| lstm_forecaster | {name} | {t:.0} | {i:.0} |");
        let (t, i) = measure(
            |d| LstmAutoencoder::new(&mut seeded(1, 1), FEATURES, HIDDEN, 16, d),
            backend,
            &ae,
        );
        println!("| lstm_autoencoder | {name} | {t:.0} | {i:.0} |");
        let (t, i) = measure(
            |d| DenseAutoencoder::new(&mut seeded(1, 1), WINDOW, FEATURES, HIDDEN, 16, d),
            backend,
            &ae,
        );
        println!("| dense_autoencoder | {name} | {t:.0} | {i:.0} |");
    }
}
