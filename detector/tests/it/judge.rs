//! The log model's verdict beside its network: a session whose event counts lie beyond
//! every training session's is abnormal whatever its order, and one whose counts a
//! training session had is judged on its order by transitions never seen, not by rank
//! or probability alone.

use std::collections::HashMap;

use vigil_detector::logs::{Input, Judged, judge};
use vigil_model::deeplog::DeepLogConfig;
use vigil_model::logmodel::LogModel;
use vigil_trainer::logmodel::train_log_model;

fn session(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn input(text: &str) -> Input {
    let events = session(text);
    Input {
        key: text.to_string(),
        lines: (1..=events.len() as u64).collect(),
        events: events.into_iter().map(Some).collect(),
        times: Vec::new(),
        unknown: HashMap::new(),
    }
}

/// B and C come in either order; one session has C twice, so training sessions lie at
/// most 0.2 apart by their counts ({A, B, C, C, D} against {A, B, C, D}: 4 of 5).
fn model() -> LogModel {
    let mut train = Vec::new();
    for _ in 0..50 {
        train.push(session("A B C D"));
        train.push(session("A C B D"));
    }
    train.push(session("A B C C D"));
    let config = DeepLogConfig {
        history: 2,
        embedding: 4,
        hidden: 8,
        layers: 1,
        epochs: 2,
        min_pairs_per_epoch: 0,
        // Every event falls under this floor: only the gate keeps a session normal.
        min_probability: 0.99,
        max_valid_flagged: 0.0,
        path_bursts: false,
        ..DeepLogConfig::default()
    };
    train_log_model(&train, &|_| None, &config, Default::default(), &mut ()).unwrap()
}

fn judged<'a>(j: &'a [Judged], key: &str) -> &'a Judged {
    j.iter().find(|j| j.session == key).unwrap()
}

#[test]
fn counts_judge_what_order_cannot_and_gate_what_probability_alone_would_flag() {
    let model = model();
    assert!(
        (model.counts.spread - 0.2).abs() < 1e-12,
        "{}",
        model.counts.spread
    );
    let inputs: Vec<Input> = ["A C B D", "A B C C D", "A B B C D", "A B B B B B C D"]
        .into_iter()
        .map(input)
        .collect();
    let j = judge(&model, &inputs, None, None);
    // Counts a training session had, every transition seen: the floor does not judge it.
    for key in ["A C B D", "A B C C D"] {
        assert!(!judged(&j, key).anomalous, "{:?}", judged(&j, key));
    }
    // Counts no training session had (within their spread): the network judges it.
    let near = judged(&j, "A B B C D");
    assert!(near.anomalous && near.reason.contains("below"), "{near:?}");

    // With the network silenced, the counts alone flag B five times, at the first B
    // past the nearest training session's one.
    let mut counts_only = model.clone();
    counts_only.config.min_probability = 0.0;
    counts_only.config.novel_transitions = false;
    let j = judge(&counts_only, &inputs, Some(100), None);
    let far = judged(&j, "A B B B B B C D");
    assert!(far.anomalous, "{far:?}");
    assert_eq!(far.first_anomalous_line, Some(3), "{far:?}");
    assert!(
        far.reason
            .contains("event counts are unlike any training session's: 4 more 'B'")
            && far
                .reason
                .contains("distance 0.500; training sessions lay at most 0.200 apart"),
        "{}",
        far.reason
    );
    assert!(!judged(&j, "A B B C D").anomalous, "within the spread");
    // Without the counts, nothing flags it.
    counts_only.config.count_vectors = false;
    let j = judge(&counts_only, &inputs, Some(100), None);
    assert!(!judged(&j, "A B B B B B C D").anomalous);
}
