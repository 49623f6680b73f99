//! Integration tests of the generator: the real binary on small scenarios, and the
//! library's incident plan checked against the metrics it produces.

mod cli;
mod determinism;
mod fuzz;
mod incidents;
mod sequences;

use std::path::{Path, PathBuf};

pub fn small_scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/small.toml")
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn generator() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("generator").expect("the generator binary is built")
}
