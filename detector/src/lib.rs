//! Vigil's detector: scores new data against a trained model and explains what it finds.
//!
//! A compiling skeleton for now: its work is specified in issue 4.

/// What to tell a user who runs the detector before it exists.
pub fn not_yet_implemented() -> anyhow::Error {
    anyhow::anyhow!("the detector is not implemented yet (issue 4); only the generator runs today")
}
