//! Vigil's trainer: learns normal behaviour from metric windows and log sequences.
//!
//! A compiling skeleton for now: its work is specified in issue 3.

/// What to tell a user who runs the trainer before it exists.
pub fn not_yet_implemented() -> anyhow::Error {
    anyhow::anyhow!("the trainer is not implemented yet (issue 3); only the generator runs today")
}
