//! Same seed and scenario ⇒ the same bytes, in every file, charts included.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{generator, small_scenario};

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn run(out: &Path, extra: &[&str]) -> BTreeMap<String, Vec<u8>> {
    generator()
        .arg("--config")
        .arg(small_scenario())
        .arg("--out")
        .arg(out)
        .arg("--jsonl")
        .args(extra)
        .assert()
        .success();
    read_tree(out)
}

#[test]
fn same_seed_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = run(&dir.path().join("a"), &[]);
    let b = run(&dir.path().join("b"), &[]);
    assert!(
        a.len() >= 14,
        "expected data, labels and charts, got {:?}",
        a.keys()
    );
    assert!(a.keys().any(|k| k.ends_with(".png")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between two runs with the same seed"
        );
    }

    let c = run(&dir.path().join("c"), &["--seed", "8"]);
    for name in ["train/metrics.csv", "test/metrics.csv", "test/logs.log"] {
        assert_ne!(a[name], c[name], "{name} ignores the seed");
    }
}
