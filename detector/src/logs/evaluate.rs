//! Session-level evaluation against labels: the model beside the baselines (unseen
//! template or transition; unseen template alone), per kind, and the normal sessions a
//! file cut.

use std::collections::HashMap;

use serde::Serialize;

use super::Judged;

/// Session-level counts and scores for one detector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub tn: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Scores {
    /// Counts and scores from (truth, flagged) pairs.
    pub fn new(pairs: impl Iterator<Item = (bool, bool)>) -> Scores {
        let mut s = Scores::default();
        for (truth, flagged) in pairs {
            match (truth, flagged) {
                (true, true) => s.tp += 1,
                (false, true) => s.fp += 1,
                (true, false) => s.fn_ += 1,
                (false, false) => s.tn += 1,
            }
        }
        let p = crate::eval::Prf::new(s.tp, s.fp, s.fn_);
        (s.precision, s.recall, s.f1) = (p.precision, p.recall, p.f1);
        s
    }
}

/// The model beside the baselines on labelled sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionEvaluation {
    pub sessions: usize,
    pub anomalous: usize,
    /// Judged sessions without a label (counted as normal when the labels list only the
    /// anomalous ones).
    pub unlabelled: usize,
    /// Anomalous sessions the labels name but the input never formed (another session
    /// rule, lines cut away): counted as missed by every detector.
    pub labelled_not_judged: usize,
    pub model: Scores,
    /// The unseen template or transition rule.
    pub baseline: Scores,
    /// The unseen template rule alone (a new event type).
    pub new_event: Scores,
    /// Per kind of labelled anomaly.
    pub by_kind: Vec<KindFound>,
    /// Normal sessions the labels say a file cut (`anomalous` false, e.g. the generator's
    /// `cut_by_file_start`/`_end`), and how many each detector flagged anyway.
    pub cut: KindFound,
}

/// How many labelled sessions of one kind each detector flagged.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindFound {
    pub kind: String,
    pub sessions: u64,
    pub model: u64,
    pub baseline: u64,
    pub new_event: u64,
}

impl KindFound {
    fn count(&mut self, j: &Judged) {
        self.sessions += 1;
        self.model += u64::from(j.anomalous);
        self.baseline += u64::from(j.baseline_anomalous);
        self.new_event += u64::from(j.new_event);
    }
}

/// The kinds (`cut_by_file_start`, `cut_by_file_end`) of the normal sessions a file cut.
pub const CUT_KIND: &str = "cut_by_file";

/// What the evaluation does with a judged session its labels do not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlisted {
    /// It is normal: the labels list the anomalous sessions (the generator's
    /// `session_labels.csv`).
    Normal,
    /// It is left out: the labels should name every session (a sequence file's).
    LeftOut,
}

/// Labels: session → anomalous (and its kind); sessions the labels do not name are treated
/// as `unlisted` says.
pub fn evaluate(
    judged: &[Judged],
    labels: &HashMap<String, (bool, String)>,
    unlisted: Unlisted,
) -> SessionEvaluation {
    // (truth, model, baseline, new event)
    let mut rows: Vec<(bool, bool, bool, bool)> = Vec::new();
    let mut unlabelled = 0;
    let mut kinds: std::collections::BTreeMap<String, KindFound> = Default::default();
    let mut cut = KindFound {
        kind: "cut by the file (normal)".into(),
        ..KindFound::default()
    };
    let mut seen = std::collections::HashSet::new();
    for j in judged {
        seen.insert(j.session.as_str());
        let truth = match labels.get(&j.session) {
            Some((true, kind)) => {
                kinds.entry(kind.clone()).or_default().count(j);
                true
            }
            Some((false, kind)) => {
                if kind.starts_with(CUT_KIND) {
                    cut.count(j);
                }
                false
            }
            None if unlisted == Unlisted::Normal => {
                unlabelled += 1;
                false
            }
            None => {
                unlabelled += 1;
                continue;
            }
        };
        rows.push((truth, j.anomalous, j.baseline_anomalous, j.new_event));
    }
    let mut labelled_not_judged = 0;
    for (key, (anomalous, kind)) in labels {
        if *anomalous && !seen.contains(key.as_str()) {
            labelled_not_judged += 1;
            kinds.entry(kind.clone()).or_default().sessions += 1;
            rows.push((true, false, false, false));
        }
    }
    SessionEvaluation {
        sessions: rows.len(),
        anomalous: rows.iter().filter(|r| r.0).count(),
        unlabelled,
        labelled_not_judged,
        model: Scores::new(rows.iter().map(|r| (r.0, r.1))),
        baseline: Scores::new(rows.iter().map(|r| (r.0, r.2))),
        new_event: Scores::new(rows.iter().map(|r| (r.0, r.3))),
        by_kind: kinds
            .into_iter()
            .map(|(kind, k)| KindFound { kind, ..k })
            .collect(),
        cut,
    }
}

/// The evaluation as a small table.
pub fn render(e: &SessionEvaluation) -> String {
    let mut out = format!(
        "{} sessions, {} anomalous\n{:<36}{:>10}{:>20}{:>16}\n",
        e.sessions, e.anomalous, "", "deeplog", "unseen tmpl/trans", "unseen tmpl"
    );
    let row = |name: &str, cells: [String; 3]| {
        format!(
            "{name:<36}{:>10}{:>20}{:>16}\n",
            cells[0], cells[1], cells[2]
        )
    };
    let all = [&e.model, &e.baseline, &e.new_event];
    let each = |f: &dyn Fn(&Scores) -> String| [f(all[0]), f(all[1]), f(all[2])];
    out += &row("precision", each(&|s| format!("{:.3}", s.precision)));
    out += &row("recall", each(&|s| format!("{:.3}", s.recall)));
    out += &row("F1", each(&|s| format!("{:.3}", s.f1)));
    out += &row(
        "flagged (true / false)",
        each(&|s| format!("{}/{}", s.tp, s.fp)),
    );
    if e.labelled_not_judged > 0 {
        out += &format!(
            "{} labelled anomalous sessions were not in the input (counted as missed)\n",
            e.labelled_not_judged
        );
    }
    let found = |k: &KindFound| {
        let n = k.sessions;
        [
            format!("{}/{n}", k.model),
            format!("{}/{n}", k.baseline),
            format!("{}/{n}", k.new_event),
        ]
    };
    for k in &e.by_kind {
        out += &row(&format!("  found: {}", k.kind), found(k));
    }
    if e.cut.sessions > 0 {
        out += &row(&format!("  flagged: {}", e.cut.kind), found(&e.cut));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(session: &str, anomalous: bool, baseline: bool) -> Judged {
        Judged {
            session: session.into(),
            anomalous,
            score: 1,
            min_probability: 1.0,
            events: 3,
            first_anomalous_line: None,
            reason: String::new(),
            baseline_anomalous: baseline,
            new_event: baseline,
            cut: Default::default(),
        }
    }

    #[test]
    fn sessions_are_scored_and_labelled_but_missing_ones_count_as_missed() {
        let j = [
            judged("a", true, true),
            judged("b", true, false),
            judged("c", false, false),
            judged("d", false, true),
        ];
        let labels: HashMap<String, (bool, String)> = [
            ("a", "timeout"),
            ("c", "timeout"),
            ("zz", "refused"), // never formed into a session
        ]
        .into_iter()
        .map(|(k, kind)| (k.to_string(), (true, kind.to_string())))
        .collect();
        let e = evaluate(&j, &labels, Unlisted::Normal);
        assert_eq!((e.sessions, e.anomalous, e.unlabelled), (5, 3, 2));
        assert_eq!(e.labelled_not_judged, 1);
        let m = e.model;
        assert_eq!((m.tp, m.fp, m.fn_, m.tn), (1, 1, 2, 1));
        assert!((m.precision - 0.5).abs() < 1e-12 && (m.recall - 1.0 / 3.0).abs() < 1e-12);
        let b = e.baseline;
        assert_eq!((b.tp, b.fp, b.fn_, b.tn), (1, 1, 2, 1));
        assert_eq!(e.by_kind[0].kind, "refused");
        assert_eq!((e.by_kind[1].sessions, e.by_kind[1].model), (2, 1));
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"fn\":2"), "{json}");
        // Labels that cover every session leave the unlabelled ones out instead.
        let e = evaluate(&j, &labels, Unlisted::LeftOut);
        assert_eq!(e.sessions, 3);
        // Normal rows count as cut by the file only with a cut kind.
        let mut labels = labels;
        labels.insert("b".into(), (false, "cut_by_file_end".into()));
        labels.insert("d".into(), (false, "labelled".into()));
        let e = evaluate(&j, &labels, Unlisted::Normal);
        assert_eq!((e.cut.sessions, e.cut.model, e.cut.baseline), (1, 1, 0));
        assert_eq!(e.model.fp, 1, "b, normal but flagged");
    }
}
