//! Reads metric tables and prints what the reader made of them:
//! `cargo run --release -p vigil-core --example read_table -- FILE...`

use std::path::Path;

use vigil_core::series::{ReadOptions, read_table};

fn main() {
    for arg in std::env::args().skip(1) {
        match read_table(Path::new(&arg), &ReadOptions::default()) {
            Ok(t) => {
                let segments: usize = t.series.iter().map(|s| s.segments.len()).sum();
                println!(
                    "{arg}: {} columns {:?}, step {} s, {} series, {segments} segments, {} steps; {:?}",
                    t.width(),
                    t.columns,
                    t.step,
                    t.series.len(),
                    t.steps(),
                    t.report
                );
            }
            Err(e) => println!("{arg}: error: {e}"),
        }
    }
}
