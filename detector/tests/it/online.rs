//! The online decision on a series the test writes itself: a lasting level shift is
//! absorbed by the likelihood (the raw score alarms for as long as it lasts), and a value
//! outside the range seen so far is an anomaly blamed on its column; the network learns a
//! new normal online.

use std::fmt::Write;
use std::path::Path;

use vigil_core::series::{ReadOptions, read_table_from};
use vigil_detector::detect::{Adapt, Detector, Options, Scoring, calibrate};
use vigil_detector::output::Collect;
use vigil_model::ModelDir;
use vigil_model::adapt::Adapter;
use vigil_model::batch::Batch;
use vigil_model::config::{ModelConfig, TrainingConfig};
use vigil_model::networks::Network;
use vigil_model::scoring::point_errors;
use vigil_trainer::train_table;

const STEP: i64 = 300;

/// Two columns: a daily wave with a deterministic jitter, and a steadier companion.
fn value(i: usize) -> (f64, f64) {
    let day = (i as f64 * STEP as f64 / 86_400.0) * std::f64::consts::TAU;
    let jitter = ((i * 7919) % 1000) as f64 / 1000.0 - 0.5;
    (
        50.0 + 20.0 * day.sin() + 2.0 * jitter,
        30.0 + 5.0 * day.cos() + jitter,
    )
}

fn csv(rows: impl Iterator<Item = (usize, f64, f64)>) -> String {
    let mut s = String::from("timestamp,a,b\n");
    for (i, a, b) in rows {
        writeln!(s, "{},{a:.3},{b:.3}", 1_700_000_000 + i as i64 * STEP).unwrap();
    }
    s
}

/// A model of `config` trained on the first 4,000 rows.
fn trained(config: &TrainingConfig) -> ModelDir {
    let train = csv((0..4000).map(|i| {
        let (a, b) = value(i);
        (i, a, b)
    }));
    let table = read_table_from(
        train.as_bytes(),
        Path::new("train.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    train_table(table, config, &mut ()).unwrap()
}

fn model() -> ModelDir {
    trained(&TrainingConfig {
        window: 12,
        epochs: 15,
        ..TrainingConfig::default()
    })
}

fn detect(model: &ModelDir, options: &Options, input: &str) -> Collect {
    let calibration = calibrate(model, options).unwrap();
    let mut rows = Collect::default();
    Detector::new(model, options, &calibration)
        .unwrap()
        .run(input.as_bytes(), Path::new("test.csv"), &mut rows)
        .unwrap();
    rows
}

/// Four days as in training, then a lasting shift of the companion column by six of its
/// spreads: it stays inside the range of the first column's values, so the range rule is
/// not what decides.
fn shifted_input() -> String {
    csv((4000..8000).map(|i| {
        let (a, b) = value(i);
        (i, a, if i >= 5000 { b + 6.0 } else { b })
    }))
}

#[test]
fn a_level_shift_is_absorbed_and_a_new_extreme_is_caught() {
    let model = model();
    let shifted = shifted_input();
    let likelihood = Options::default();
    let raw = Options {
        scoring: Scoring::Raw,
        threshold: vigil_core::threshold::Method::Pot {
            q: 1e-3,
            initial: 0.98,
        },
        range: None,
        ..Options::default()
    };
    let online = detect(&model, &likelihood, &shifted);
    let fixed = detect(&model, &raw, &shifted);
    let flagged = |c: &Collect| c.rows.iter().filter(|(_, r)| r.anomaly).count();
    let after = |c: &Collect| c.rows.iter().skip(2000).filter(|(_, r)| r.anomaly).count();
    assert!(
        after(&fixed) > 1000,
        "the calibrated raw threshold alarms for as long as the shift lasts: {}",
        after(&fixed)
    );
    assert!(
        after(&online) < 50,
        "the likelihood absorbs the shift: {} rows flagged long after it",
        after(&online)
    );
    assert!(
        online
            .rows
            .iter()
            .all(|(_, r)| (0.0..=1.0).contains(&r.score)),
        "likelihood scores lie in [0, 1]"
    );
    assert!(flagged(&online) < flagged(&fixed));

    // A value far above anything seen, for a few rows: an anomaly, blamed on its column.
    let spike = csv((4000..6000).map(|i| {
        let (a, b) = value(i);
        (i, if (5000..5004).contains(&i) { 200.0 } else { a }, b)
    }));
    let caught = detect(&model, &likelihood, &spike);
    let hit = caught
        .anomalies
        .iter()
        .find(|a| a.start <= 1_700_000_000 + 5003 * STEP && a.end > 1_700_000_000 + 5000 * STEP)
        .unwrap_or_else(|| panic!("the spike is not an anomaly: {:?}", caught.anomalies));
    assert_eq!(
        hit.top_metrics.first().map(String::as_str),
        Some("a"),
        "{hit:?}"
    );
    let row = &caught.rows[1000].1;
    assert_eq!(row.score, 1.0, "outside the range scores 1: {row:?}");
    assert!(row.shares[0] > 0.99, "{row:?}");
}

#[test]
fn an_alarm_ends_soon_after_the_errors_are_back_to_usual() {
    let model = model();
    // Three hours (36 rows) of the companion column eight of its ranges' worth too high,
    // then normal again; the range rule off, so the likelihoods decide alone.
    let incident = 5000..5036;
    let input = csv((4000..6000).map(|i| {
        let (a, b) = value(i);
        (i, a, if incident.contains(&i) { b + 8.0 } else { b })
    }));
    let run = |gate: f32| {
        let mut o = Options {
            range: None,
            ..Options::default()
        };
        if let Scoring::Likelihood { gate: g, .. } = &mut o.scoring {
            *g = gate;
        }
        let c = detect(&model, &o, &input);
        let flagged = |from: usize, to: usize| {
            c.rows
                .iter()
                .skip(from - 4000)
                .take(to - from)
                .filter(|(_, r)| r.anomaly)
                .count()
        };
        (flagged(5000, 5036), flagged(5036, 6000))
    };
    let (gated, always) = (run(3.0), run(0.0));
    assert!(
        gated.0 > 25 && always.0 > 25,
        "both find it: {gated:?} {always:?}"
    );
    assert!(
        gated.1 <= 25 && always.1 > gated.1 + 10,
        "rows flagged after it ended: gated {}, coarse scale always counted {}",
        gated.1,
        always.1
    );
}

/// The defaults, the network adapting every `every` windows judged normal, all learnt from.
fn adapting(every: usize) -> Options {
    Options {
        adapt: Some(Adapt {
            every,
            rate: 1e-3,
            sample: 1,
        }),
        ..Options::default()
    }
}

/// The shifted series' windows (the companion column six of its spreads higher), scaled
/// as the detector scales them, and the network's mean error over their newest rows.
fn shifted_windows(model: &ModelDir) -> Vec<f32> {
    let mut rows: Vec<f32> = (5000..5600)
        .flat_map(|i| {
            let (a, b) = value(i);
            [a as f32, (b + 6.0) as f32]
        })
        .collect();
    model.data.scaler.transform(&mut rows);
    let (span, w) = (model.data.window.span(), model.data.columns.len());
    (0..rows.len() / w - span)
        .flat_map(|s| rows[s * w..(s + span) * w].to_vec())
        .collect()
}

fn mean_error(net: &Network, model: &ModelDir, values: &[f32]) -> f32 {
    let device = model.config.backend.device();
    let batch = Batch::from_values(
        values.to_vec(),
        &model.data.window,
        model.data.columns.len(),
        &device,
    );
    let e = point_errors(net, &batch);
    e.iter().sum::<f32>() / e.len() as f32
}

#[test]
fn the_network_learns_a_new_normal_and_the_trained_weights_stay() {
    let model = model();
    let windows = shifted_windows(&model);
    let before = mean_error(&model.network, &model, &windows);
    let mut adapter = Adapter::new(&model, 1e-3).unwrap();
    assert!(adapter.network().is_some());
    for _ in 0..5 {
        adapter.learn(&windows);
    }
    let after = mean_error(&adapter.network().unwrap(), &model, &windows);
    assert!(
        after < 0.5 * before,
        "five passes over the new level lower its error: {before} → {after}"
    );
    assert!(
        adapter.steps > 0
            && adapter.windows == 5 * (windows.len() / (model.data.window.span() * 2))
    );
    // The model directory's own network is not touched.
    assert_eq!(mean_error(&model.network, &model, &windows), before);
}

#[test]
fn the_detector_adapts_on_rows_judged_normal_the_same_way_every_run() {
    let model = model();
    let input = shifted_input();
    let run = |options: &Options| {
        let calibration = calibrate(&model, options).unwrap();
        let mut rows = Collect::default();
        let mut d = Detector::new(&model, options, &calibration).unwrap();
        d.run(input.as_bytes(), Path::new("test.csv"), &mut rows)
            .unwrap();
        let scores: Vec<f32> = rows.rows.iter().map(|(_, r)| r.score).collect();
        (d.report.clone(), scores)
    };
    let adapting = adapting(256);
    let (report, scores) = run(&adapting);
    let (fixed, fixed_scores) = run(&Options::default());
    assert!(report.adapt_updates >= 10, "{report:?}");
    assert!(
        report.adapted_windows >= 256 * report.adapt_updates
            && report.adapted_windows <= report.scored - report.anomalous_rows,
        "only windows judged normal are learnt from: {report:?}"
    );
    assert_eq!((fixed.adapt_updates, fixed.adapted_windows), (0, 0));
    assert_ne!(
        scores, fixed_scores,
        "the adapted network scores differently"
    );
    assert_eq!(
        run(&adapting).1,
        scores,
        "the same updates at the same rows"
    );
}

#[test]
fn a_pca_model_is_scored_as_trained() {
    let pca = trained(&TrainingConfig {
        window: 12,
        model: ModelConfig::Pca {
            components: 8,
            variance: 0.95,
        },
        ..TrainingConfig::default()
    });
    let err = Adapter::new(&pca, 1e-3).err().unwrap().to_string();
    assert!(
        err.contains("PCA") && err.contains("no gradient step"),
        "{err}"
    );
    // Adapting options leave a PCA model as it is.
    let options = adapting(64);
    let calibration = calibrate(&pca, &options).unwrap();
    let mut d = Detector::new(&pca, &options, &calibration).unwrap();
    let input = csv((4000..4400).map(|i| {
        let (a, b) = value(i);
        (i, a, b)
    }));
    d.run(
        input.as_bytes(),
        Path::new("test.csv"),
        &mut Collect::default(),
    )
    .unwrap();
    assert_eq!(d.report.adapt_updates, 0);
}
