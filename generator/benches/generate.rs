//! Generation speed on the benchmark scenario: 10 hosts × 180 days at 30 s (5.18 M rows).
//!
//! Run with `cargo bench -p vigil-generator --bench generate`. Each configuration runs
//! three times (writing to a temporary folder, files synced to disk as in real use) and the
//! median is reported. Charts are left out: they are measured apart by the CLI's summary.

use std::path::Path;
use std::time::Instant;

use vigil_generator::{Options, Scenario, ScenarioFile, Summary, generate};

fn run(scenario: &Scenario, out: &Path) -> (f64, Summary) {
    let options = Options {
        out: out.to_path_buf(),
        charts: None,
        progress: false,
    };
    let began = Instant::now();
    let summary = generate(scenario, &options).expect("generation succeeds");
    (began.elapsed().as_secs_f64(), summary)
}

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/scenarios/fleet-180d.toml");
    let file = ScenarioFile::read(&path).expect("benchmark scenario reads");
    let threads = rayon::current_num_threads();
    println!(
        "scenario {} on {threads} threads, median of 3 runs\n",
        path.display()
    );
    println!("| output | rows | seconds | rows/s | metrics MB/s | log lines/s |");
    println!("|---|---|---|---|---|---|");
    for logs in [false, true] {
        let mut f = file.clone();
        f.logs.enabled = logs;
        let scenario = Scenario::from_file(f, "bench").expect("benchmark scenario checks");
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut runs: Vec<(f64, Summary)> = (0..3).map(|_| run(&scenario, dir.path())).collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (secs, s) = &runs[1];
        println!(
            "| {} | {} | {secs:.2} | {:.0} | {:.1} | {} |",
            if logs {
                "metrics.csv + logs.log"
            } else {
                "metrics.csv"
            },
            s.metric_rows,
            s.metric_rows as f64 / secs,
            s.metric_bytes as f64 / 1e6 / secs,
            if logs {
                format!("{:.0}", s.log_lines as f64 / secs)
            } else {
                "–".into()
            }
        );
    }
}
