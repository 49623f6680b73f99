//! Training a log model: DeepLog over the sessions' template keys, with the observed
//! transitions beside it ([`vigil_model::logmodel::LogModel`]).

use crate::Error;
use crate::training::Progress;
use vigil_core::logs::counts::{CountProfile, MAX_DISTINCT};
use vigil_core::logs::paths::Rates;
use vigil_core::logs::timing::Timing;
use vigil_model::deeplog::DeepLogConfig;
use vigil_model::logmodel::{KeySessions, LogModel, Transitions, vocab_of};

/// What a log model keeps beside the network that only a raw log gives: how it was
/// parsed, and the sessions' timing and transition rates where lines had times. Empty
/// for a sequence file.
#[derive(Debug, Clone, Default)]
pub struct RawLogFacts {
    pub parsing: Option<serde_json::Value>,
    pub timing: Timing,
    pub rates: Rates,
}

/// Trains DeepLog on normal `sessions` and returns the model (not yet saved), with what
/// the raw log gave (`facts`).
pub fn train_log_model(
    sessions: &KeySessions,
    templates: &dyn Fn(&str) -> Option<String>,
    config: &DeepLogConfig,
    facts: RawLogFacts,
    progress: &mut dyn Progress,
) -> Result<LogModel, Error> {
    let RawLogFacts {
        parsing,
        timing,
        rates,
    } = facts;
    config.check()?;
    let vocab = vocab_of(sessions, templates);
    if vocab.is_empty() {
        return Err(Error::Sessions(
            "no events to learn from: every training session is empty".into(),
        ));
    }
    if vocab.len() >= usize::from(u16::MAX) {
        return Err(Error::Sessions(format!(
            "{} distinct templates: more than a log model takes ({}); check the parser's masks",
            vocab.len(),
            u16::MAX - 1
        )));
    }
    let index = vocab.index();
    let classes: Vec<Vec<u16>> = sessions
        .iter()
        .map(|s| s.iter().map(|k| index[k.as_str()]).collect())
        .collect();
    let transitions = Transitions::new(classes.iter().map(Vec::as_slice), vocab.len());
    let counts = if config.count_vectors {
        let wide: Vec<Vec<u32>> = classes
            .iter()
            .map(|s| s.iter().map(|&c| u32::from(c)).collect())
            .collect();
        // Past the limit (windows over a varied log) the search would cost more than the
        // network: no counts kept, as the trainer says.
        CountProfile::learn_within(wide.iter().map(Vec::as_slice), MAX_DISTINCT).unwrap_or_default()
    } else {
        CountProfile::default()
    };
    let (network, history) = crate::deeplog::train(&classes, vocab.len(), config, progress);
    Ok(LogModel {
        config: config.clone(),
        vocab,
        transitions,
        parsing,
        timing,
        rates,
        counts,
        history,
        network,
    })
}
