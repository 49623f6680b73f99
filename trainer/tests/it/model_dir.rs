//! Model directories: a save → load round trip gives identical outputs, and damaged or
//! foreign directories are refused with a message that says what is wrong.

use std::fs;
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use vigil_core::series::{ReadOptions, read_table};
use vigil_model::ModelDir;
use vigil_model::config::{ModelConfig, ModelKind, TrainingConfig};
use vigil_trainer::data::WindowData;
use vigil_trainer::training::score;
use vigil_trainer::{MetricsJob, train_metrics};

use crate::small_metrics;

/// Trains a model of `kind` for two epochs on the small fleet; returns the input, the model
/// directory and the trained model as it was in memory.
fn quick_train(dir: &Path, kind: ModelKind) -> (PathBuf, PathBuf, ModelDir) {
    let input = small_metrics(dir);
    let model_dir = dir.join(format!("model-{kind:?}"));
    let config = TrainingConfig {
        model: ModelConfig::default_for(kind),
        window: 8,
        epochs: 2,
        ..TrainingConfig::default()
    };
    let job = MetricsJob {
        input: &input,
        model_dir: &model_dir,
        read: ReadOptions::default(),
        config,
        force: false,
    };
    let trained = train_metrics(&job, &mut ()).unwrap().model;
    (input, model_dir, trained)
}

/// A metrics model directory's files the manifest checks (`loss_curves.png` is for people).
const CHECKED_FILES: [&str; 8] = [
    "manifest.json",
    "config.toml",
    "data.json",
    "weights.bpk",
    "validation.json",
    "validation.bin",
    "baseline.json",
    "history.json",
];

fn quick_model(dir: &Path, kind: ModelKind) -> PathBuf {
    quick_train(dir, kind).1
}

#[test]
fn save_then_load_scores_identically() {
    for kind in [
        ModelKind::LstmForecaster,
        ModelKind::DenseAutoencoder,
        ModelKind::LstmAutoencoder,
        ModelKind::Pca,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (input, model_dir, trained) = quick_train(dir.path(), kind);
        let loaded = ModelDir::load(&model_dir).unwrap();
        assert_eq!(loaded.config, trained.config);
        assert_eq!(loaded.data, trained.data);
        assert_eq!(loaded.validation, trained.validation);

        let table = read_table(&input, &ReadOptions::default()).unwrap();
        let data = WindowData::with_scaler(table, loaded.data.window, loaded.data.scaler.clone());
        let device = Device::flex();
        let a = score(&trained.network, &data, &data.valid, &device);
        let b = score(&loaded.network, &data, &data.valid, &device);
        assert!(!a.is_empty());
        assert_eq!(a, b, "{kind:?}: the loaded model scores differently");
        for f in CHECKED_FILES.iter().chain(&["loss_curves.png"]) {
            assert!(model_dir.join(f).is_file(), "{kind:?}: {f} missing");
        }
    }
}

fn error(dir: &Path) -> String {
    ModelDir::load(dir).map(|_| ()).unwrap_err().to_string()
}

#[test]
fn damaged_directories_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = quick_model(dir.path(), ModelKind::LstmForecaster);
    let copy = |name: &str| {
        let to = dir.path().join(name);
        fs::create_dir_all(&to).unwrap();
        for e in fs::read_dir(&model_dir).unwrap() {
            let e = e.unwrap();
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
        to
    };

    assert!(error(&dir.path().join("nope")).contains("does not exist"));

    let d = copy("no-manifest");
    fs::remove_file(d.join("manifest.json")).unwrap();
    assert!(
        error(&d).contains("not a Vigil model directory"),
        "{}",
        error(&d)
    );

    let d = copy("truncated");
    let w = fs::read(d.join("weights.bpk")).unwrap();
    fs::write(d.join("weights.bpk"), &w[..w.len() / 2]).unwrap();
    let e = error(&d);
    assert!(
        e.contains("weights.bpk is truncated") && e.contains(&format!("of {} bytes", w.len())),
        "{e}"
    );

    let d = copy("corrupt");
    let mut w = fs::read(d.join("weights.bpk")).unwrap();
    let mid = w.len() / 2;
    w[mid] ^= 0x55;
    fs::write(d.join("weights.bpk"), &w).unwrap();
    assert!(
        error(&d).contains("weights.bpk is corrupt"),
        "{}",
        error(&d)
    );

    let d = copy("missing-file");
    fs::remove_file(d.join("data.json")).unwrap();
    assert!(error(&d).contains("data.json is missing"), "{}", error(&d));

    let d = copy("old-version");
    let m = fs::read_to_string(d.join("manifest.json")).unwrap();
    fs::write(
        d.join("manifest.json"),
        m.replace("\"format_version\": 3", "\"format_version\": 0"),
    )
    .unwrap();
    let e = error(&d);
    assert!(
        e.contains("format 0") && e.contains("train the model again"),
        "{e}"
    );

    let d = copy("garbled-manifest");
    fs::write(d.join("manifest.json"), "{ not json").unwrap();
    assert!(
        error(&d).contains("manifest.json is damaged"),
        "{}",
        error(&d)
    );
}

#[test]
fn the_same_seed_gives_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let a = quick_model(dir.path(), ModelKind::LstmAutoencoder);
    let b_dir = tempfile::tempdir().unwrap();
    let b = quick_model(b_dir.path(), ModelKind::LstmAutoencoder);
    // weights.bpk also carries burn's random parameter ids, so compare what the weights do:
    // every validation window's score, and every epoch's losses.
    for f in [
        "validation.json",
        "validation.bin",
        "baseline.json",
        "data.json",
        "config.toml",
    ] {
        let same = fs::read(a.join(f)).unwrap() == fs::read(b.join(f)).unwrap();
        assert!(same, "{f} differs between two runs with the same seed");
    }
    let losses = |d: &Path| {
        let h: serde_json::Value =
            serde_json::from_slice(&fs::read(d.join("history.json")).unwrap()).unwrap();
        h["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["train"].clone(), e["valid"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&a), losses(&b));
}

/// Issue 18: the model-directory loader under fuzzing. Each checked file of a saved model
/// truncated, a byte changed, or replaced by random bytes: the load is refused with an
/// error naming the directory, never a panic; a changed manifest either is refused or,
/// when the change kept its meaning (white space), loads the same model.
#[test]
fn damaged_model_directories_are_refused_never_panic() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let dir = tempfile::tempdir().unwrap();
    let (_, model_dir, trained) = quick_train(dir.path(), ModelKind::Pca);
    let files = CHECKED_FILES;
    let strategy = (
        0..files.len(),
        0u8..3,
        any::<usize>(),
        1u8..=255,
        proptest::collection::vec(any::<u8>(), 0..256),
    );
    let mut runner = TestRunner::new(Config::with_cases(96));
    let n = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(f, how, at, xor, random)| {
            let k = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let copy = dir.path().join(format!("case-{k}"));
            fs::create_dir_all(&copy).unwrap();
            for e in fs::read_dir(&model_dir).unwrap() {
                let e = e.unwrap();
                fs::copy(e.path(), copy.join(e.file_name())).unwrap();
            }
            let path = copy.join(files[f]);
            let mut bytes = fs::read(&path).unwrap();
            match how {
                0 => bytes.truncate(at % bytes.len().max(1)),
                1 => {
                    let k = at % bytes.len().max(1);
                    bytes[k] ^= xor;
                }
                _ => bytes = random,
            }
            fs::write(&path, &bytes).unwrap();
            match ModelDir::load(&copy) {
                Ok(loaded) => {
                    prop_assert_eq!(files[f], "manifest.json", "a damaged {} loaded", files[f]);
                    prop_assert_eq!(&loaded.config, &trained.config);
                    prop_assert_eq!(&loaded.data, &trained.data);
                }
                Err(e) => {
                    let m = e.to_string();
                    prop_assert!(m.contains(&copy.display().to_string()), "{m}");
                    prop_assert!(m.len() <= 600, "{} characters: {m}", m.len());
                }
            }
            fs::remove_dir_all(&copy).unwrap();
            Ok(())
        })
        .unwrap();
}
