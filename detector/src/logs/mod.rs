//! Logs in the detector: `detector parse` ([`parse`]), `detector patterns` ([`patterns`]: the
//! pattern table, its charts and its changes against a baseline), `detector diff`
//! ([`diff`]: two logs' k-tails machines compared, 2KDiff), `detector merge` ([`merge`]:
//! several logs into one JSON-lines firehose in time order) and log sessions judged by a DeepLog model, beside the "unseen template or unseen
//! transition" baseline; `sessions.csv` and a session-level evaluation.
//!
//! `sessions.csv`: `session,anomalous,score,min_probability,events,first_anomalous_line,
//! reason,baseline_anomalous,new_event,cut_by_file`. `score` is the worst rank of an
//! observed event (or of the session's end) among the model's predictions (1 = what the
//! model found most likely; a template never seen in training counts as one past the last
//! rank); `min_probability` the lowest probability the model gave one of them. A session
//! is anomalous on the verdict of [`judge`]: a template never seen, its event counts
//! beyond the training sessions' spread, a transition never seen that the network found
//! unlikely, a stall, a burst, or — where no training session had its counts — a score
//! past the calibrated g or a probability under the calibrated floor.

pub mod diff;
pub mod evaluate;
pub mod judge;
pub mod merge;
pub mod parse;
pub mod patterns;
mod run;
pub mod sessions_csv;
pub mod timeline;

pub use evaluate::{SessionEvaluation, evaluate, render};
pub use judge::{Input, Judged, judge, used_floor, used_novel, used_top_g};
pub use run::{LogsInput, LogsJob, LogsSummary, detect_logs};
pub use sessions_csv::{read_sessions, write_sessions};
