use std::process::ExitCode;

use clap::Parser;

/// Vigil detector (not implemented yet).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {}

fn main() -> ExitCode {
    let _args = Args::parse();
    eprintln!("detector: {:#}", vigil_detector::not_yet_implemented());
    ExitCode::from(2)
}
