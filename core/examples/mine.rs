//! Template mining speed, in one process: each content-only file (one line per record,
//! as `bench/scripts/parsers.py` cuts them) is read into memory, then learnt by a miner
//! of its own with the defaults, as `detector parse --format '<Content>'` learns it;
//! only the learning is timed (it gives the templates and each line's template), as
//! the Python miners beside it are timed.
//!
//!     cargo run --release -p vigil-core --example mine -- [--json] FILE...
//!
//! Prints a line per file and the total, or with `--json` one JSON object per file.

use std::time::Instant;

use vigil_core::logs::{Miner, MinerConfig};

fn main() {
    let mut json = false;
    let (mut lines, mut seconds) = (0usize, 0f64);
    for arg in std::env::args().skip(1) {
        if arg == "--json" {
            json = true;
            continue;
        }
        let text = match std::fs::read_to_string(&arg) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("mine: {arg}: {e}");
                std::process::exit(1);
            }
        };
        let rows: Vec<&str> = text.lines().collect();
        let started = Instant::now();
        let mut miner = Miner::new(MinerConfig::default()).expect("the default miner");
        let ids = miner
            .learn(|feed| {
                rows.iter().for_each(|l| feed(l));
                Ok::<(), vigil_core::Error>(())
            })
            .expect("learning in memory cannot fail");
        let took = started.elapsed().as_secs_f64();
        let matched = ids.iter().filter(|t| t.is_some()).count();
        if json {
            println!(
                "{{\"file\": {:?}, \"lines\": {}, \"matched\": {matched}, \"templates\": {}, \"seconds\": {took}}}",
                arg,
                rows.len(),
                miner.templates().len()
            );
        } else {
            println!(
                "{arg}: {} lines, {} templates, {took:.4} s ({:.0} lines/s)",
                rows.len(),
                miner.templates().len(),
                rows.len() as f64 / took
            );
        }
        lines += rows.len();
        seconds += took;
    }
    if !json {
        println!(
            "all: {lines} lines in {seconds:.3} s ({:.0} lines/s)",
            lines as f64 / seconds
        );
    }
}
