//! Vigil's generator: a seeded simulation of a server fleet that writes metrics, logs and
//! ground-truth incident labels.
//!
//! The flow: a [`Scenario`] is checked once; [`incident::plan`] places every incident up
//! front; then [`generate()`] simulates each host a day at a time (hosts in parallel, each
//! with its own random streams) and writes rows in time order.
//!
//! Modules depend one way: [`kinds`] (roles, process and incident kinds), `error` and
//! [`rng`] depend on nothing here; [`schedule`] on `rng` and `error`; [`process`] on `kinds`
//! and `schedule`; [`scenario`] on those; the simulation ([`incident`], [`logs`],
//! [`charts`], [`host`], [`generate`](mod@generate)) on the scenario, never the reverse. Every fallible
//! function returns the one [`Error`].

pub mod charts;
mod error;
pub mod generate;
pub mod host;
pub mod incident;
pub mod kinds;
pub mod logs;
pub mod process;
pub mod rng;
pub mod scenario;
pub mod schedule;

pub use error::Error;
pub use generate::{Options, Summary, generate, simulate};
pub use scenario::{Overrides, Scenario, ScenarioFile};
