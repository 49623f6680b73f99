use std::process::ExitCode;

use clap::Parser;

/// Vigil trainer (not implemented yet).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {}

fn main() -> ExitCode {
    let _args = Args::parse();
    eprintln!("trainer: {:#}", vigil_trainer::not_yet_implemented());
    ExitCode::from(2)
}
