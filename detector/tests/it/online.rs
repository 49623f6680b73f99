//! The online decision on a series the test writes itself: a lasting level shift is
//! absorbed by the likelihood (the raw score alarms for as long as it lasts), and a value
//! outside the range seen so far is an anomaly blamed on its column.

use std::fmt::Write;
use std::path::Path;

use vigil_core::series::{ReadOptions, read_table_from};
use vigil_detector::detect::{Detector, Options, Scoring, calibrate};
use vigil_detector::output::Collect;
use vigil_model::ModelDir;
use vigil_model::config::TrainingConfig;
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

fn model() -> ModelDir {
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
    let config = TrainingConfig {
        window: 12,
        epochs: 15,
        ..TrainingConfig::default()
    };
    train_table(table, &config, &mut ()).unwrap()
}

fn detect(model: &ModelDir, options: &Options, input: &str) -> Collect {
    let calibration = calibrate(model, options).unwrap();
    let mut rows = Collect::default();
    Detector::new(model, options, &calibration)
        .run(input.as_bytes(), Path::new("test.csv"), &mut rows)
        .unwrap();
    rows
}

#[test]
fn a_level_shift_is_absorbed_and_a_new_extreme_is_caught() {
    let model = model();
    // Four days as in training, then a lasting shift of the companion column by six of
    // its spreads: it stays inside the range of the first column's values, so the range
    // rule is not what decides.
    let shifted = csv((4000..8000).map(|i| {
        let (a, b) = value(i);
        (i, a, if i >= 5000 { b + 6.0 } else { b })
    }));
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
