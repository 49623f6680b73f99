//! Integration tests of the trainer: learning on generated data, model directories, and
//! the binary's errors.

mod cli;
mod learning;
mod model_dir;

use std::path::{Path, PathBuf};

use vigil_generator::{Options, Scenario, ScenarioFile, generate};

/// Generates a small, clean fleet (3 hosts, 4 days at 5 minutes) and returns its metrics CSV.
pub fn small_metrics(dir: &Path) -> PathBuf {
    let text = r#"
seed = 11
start = "2026-02-02T00:00:00Z"
duration = "4d"
interval = "5m"
[logs]
enabled = false
[[hosts]]
name = "web"
role = "web"
count = 2
depends_on = ["db-1"]
[[hosts]]
name = "db-1"
role = "db"
[[processes]]
kind = "monitoring"
[[processes]]
kind = "web_server"
[[processes]]
kind = "database_query"
[[processes]]
kind = "backup"
"#;
    let scenario =
        Scenario::from_file(ScenarioFile::parse(text, "small").unwrap(), "small").unwrap();
    let out = dir.join("gen");
    generate(
        &scenario,
        &Options {
            out: out.clone(),
            charts: None,
            progress: false,
        },
    )
    .unwrap();
    out.join("metrics.csv")
}

pub fn trainer() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("trainer").expect("the trainer binary is built")
}
