//! Vigil's generator: a seeded simulation of a server fleet that writes metrics, logs and
//! ground-truth incident labels.
//!
//! The flow: a [`Scenario`] is checked once; [`incident::plan`] places every incident up
//! front; then [`generate`] simulates each host a day at a time (hosts in parallel, each
//! with its own random streams) and writes rows in time order.

pub mod charts;
pub mod generate;
pub mod host;
pub mod incident;
pub mod logs;
pub mod process;
pub mod rng;
pub mod scenario;
pub mod schedule;

pub use generate::{GenerateError, Options, Summary, generate, simulate};
pub use scenario::{Overrides, Scenario, ScenarioError, ScenarioFile};
