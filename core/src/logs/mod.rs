//! Logs: raw lines → header fields and content → templates (Drain) → sessions.
//!
//! - [`read`]: reads a log file line by line; lines that are not UTF-8, empty or too long
//!   are counted, never fatal;
//! - [`format`]: splits a line's header (`<Date> <Time> <Level> <Component>: <Content>`),
//!   or reads a JSON-lines or logfmt record ([`structured`], with an optional jq filter);
//!   [`detect`] finds it on a file's first lines (`auto`);
//! - [`drain`]: the Drain template miner (He et al., ICWS 2017) as logparser implements
//!   it, incremental, able to match without learning, serialisable;
//! - [`miner`]: Vigil's miner, the default: built-in masks and loghub's template rules,
//!   Drain's tree merging piece by piece, clusters split where Drain merged constants,
//!   learnt from a whole file and then only matched;
//! - [`sessions`]: groups parsed lines into sessions (by id, line windows or time windows)
//!   and reads pre-parsed sequence files;
//! - [`templates`]: reads a pre-parsed log's templates file (`EventId,EventTemplate`);
//! - [`pipeline`]: [`pipeline::LogParsing`], format + miner + session rule, learning
//!   templates in training and only matching them in detection;
//! - [`counts`], [`timing`], [`paths`]: what simple detectors learn from normal sessions
//!   (event counts; the longest gap of each transition; how common each whole path is).

pub mod counts;
pub mod detect;
pub mod drain;
pub mod format;
pub mod miner;
pub mod paths;
pub mod pipeline;
pub mod read;
pub mod sessions;
pub mod structured;
pub mod templates;
pub mod timing;

pub use drain::{Drain, DrainConfig, Template, TemplateId};
pub use format::LogFormat;
pub use miner::{MinedTemplate, Miner, MinerConfig};
pub use read::{LineReport, LogReader, Skip};
pub use sessions::{Session, SessionRule, Sessionizer};

pub use crate::Error;

/// Python's `str.split()` whitespace: Unicode white space plus the ASCII separators
/// U+001C–U+001F, so tokens are the ones logparser's Drain sees.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}
