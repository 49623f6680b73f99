//! Every labelled incident changes the metrics it names, and nothing outside its label.
//!
//! For random seeds, each incident of the plan is switched off in turn and the scenario
//! simulated again: inside the incident's interval its metrics must differ clearly from
//! the run without it; everywhere else, every value on every host must be identical.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use vigil_core::{METRICS, Metric};
use vigil_generator::incident::{Incident, IncidentKind, plan};
use vigil_generator::{Scenario, ScenarioFile, simulate};

/// A fleet where every incident kind is likely: two web hosts on a db, plus a cache.
fn scenario(seed: u64) -> Scenario {
    let kinds = vigil_generator::incident::INCIDENT_KINDS
        .iter()
        .filter(|k| **k != IncidentKind::CascadingFailure)
        .map(|k| {
            format!(
                "[[incidents]]\nkind = \"{}\"\nprobability = 0.12\n",
                k.name()
            )
        })
        .collect::<String>();
    let text = format!(
        r#"
seed = {seed}
start = "2026-01-05T00:00:00Z"
duration = "6d"
interval = "2m"
[[hosts]]
name = "web"
role = "web"
count = 2
depends_on = ["db-1"]
[[hosts]]
name = "db-1"
role = "db"
[[hosts]]
name = "cache-1"
role = "cache"
[[processes]]
kind = "monitoring"
[[processes]]
kind = "web_server"
[[processes]]
kind = "cache_server"
[[processes]]
kind = "database_query"
[[processes]]
kind = "backup"
[[processes]]
kind = "traffic_burst"
[[incidents]]
kind = "cascading_failure"
hosts = ["db-1"]
probability = 0.15
{kinds}"#
    );
    Scenario::from_file(ScenarioFile::parse(&text, "property").unwrap(), "property").unwrap()
}

/// Smallest mean absolute change over the interval that counts as a real effect.
fn min_effect(m: Metric) -> f64 {
    match m {
        Metric::Cpu | Metric::Ram => 0.5,
        Metric::Disk => 0.02,
        Metric::NetIn | Metric::NetOut => 0.2,
    }
}

fn check_incident(scenario: &Scenario, full: &[Vec<[f64; 5]>], all: &[Incident], inc: &Incident) {
    let without: Vec<Incident> = all.iter().filter(|i| i.id != inc.id).cloned().collect();
    let other = simulate(scenario, &without);
    for (h, (a, b)) in full.iter().zip(&other).enumerate() {
        for (step, (x, y)) in a.iter().zip(b).enumerate() {
            let inside = h == inc.host && (inc.start..inc.end).contains(&step);
            if !inside {
                assert_eq!(
                    x, y,
                    "incident {} ({:?}) changed host {h} at step {step}, outside its label",
                    inc.id, inc.kind
                );
            }
        }
    }
    let (a, b) = (&full[inc.host], &other[inc.host]);
    let len = (inc.end - inc.start) as f64;
    for &m in &inc.metrics {
        let i = m.index();
        let diffs: Vec<f64> = (inc.start..inc.end)
            .map(|s| (a[s][i] - b[s][i]).abs())
            .collect();
        let changed = diffs.iter().filter(|d| **d > 1e-9).count() as f64 / len;
        let mean = diffs.iter().sum::<f64>() / len;
        if inc.kind == IncidentKind::Flatline {
            // A frozen sensor repeats its last reading: the effect is lost variance, not a
            // shift, so check exactly that.
            let frozen = a[inc.start - 1][i];
            assert!(
                (inc.start..inc.end).all(|s| a[s][i] == frozen) && changed >= 0.9,
                "flatline {} does not freeze {m}: {:.0}% of steps changed",
                inc.id,
                changed * 100.0
            );
            continue;
        }
        assert!(
            changed >= 0.5 && mean >= min_effect(m),
            "incident {} ({:?}, steps {}..{}) barely touches {m}: {:.0}% of steps changed, mean |Δ| {mean:.3}",
            inc.id,
            inc.kind,
            inc.start,
            inc.end,
            changed * 100.0
        );
    }
    // And it is visible in at least one metric by a clear margin.
    let strongest = METRICS
        .iter()
        .map(|m| {
            (inc.start..inc.end)
                .map(|s| (a[s][m.index()] - b[s][m.index()]).abs())
                .sum::<f64>()
                / len
                / min_effect(*m)
        })
        .fold(0.0, f64::max);
    assert!(
        strongest >= 2.0,
        "incident {} ({:?}) is too weak: {strongest:.2}",
        inc.id,
        inc.kind
    );
}

proptest! {
    #![proptest_config(Config { cases: 6, rng_seed: RngSeed::Fixed(2026), ..Config::default() })]

    #[test]
    fn every_incident_changes_the_metrics_it_names(seed in 0u64..1_000_000) {
        let scenario = scenario(seed);
        let incidents = plan(&scenario);
        prop_assert!(incidents.len() >= 10, "too few incidents to test: {}", incidents.len());
        let full = simulate(&scenario, &incidents);
        for inc in &incidents {
            check_incident(&scenario, &full, &incidents, inc);
        }
    }
}

#[test]
fn every_kind_is_exercised_by_the_property_scenarios() {
    let mut seen = std::collections::HashSet::new();
    for seed in [0, 1, 2, 3] {
        seen.extend(plan(&scenario(seed)).iter().map(|i| i.kind));
    }
    for kind in vigil_generator::incident::INCIDENT_KINDS {
        assert!(seen.contains(&kind), "{kind:?} never planned");
    }
}

#[test]
fn cascades_reach_dependents_after_a_lag_and_link_to_their_cause() {
    let mut reached = 0;
    for seed in 0..10 {
        let incidents = plan(&scenario(seed));
        for child in incidents.iter().filter(|i| i.cause.is_some()) {
            let cause = incidents
                .iter()
                .find(|i| Some(i.id) == child.cause)
                .expect("the cause is labelled");
            assert_eq!(child.kind, IncidentKind::CascadingFailure);
            assert_eq!(cause.kind, IncidentKind::CascadingFailure);
            assert!(
                child.start > cause.start,
                "a dependent is hit after its cause"
            );
            assert_ne!(child.host, cause.host);
            reached += 1;
        }
    }
    assert!(
        reached >= 2,
        "cascades reached only {reached} dependents in 10 seeds"
    );
}

#[test]
fn incidents_never_overlap_on_a_host_and_stay_out_of_the_training_period() {
    let mut file = ScenarioFile::parse(&scenario(5).file.to_toml(), "t").unwrap();
    file.split = Some(vigil_generator::scenario::SplitSpec {
        train: "3d".parse().unwrap(),
    });
    let s = Scenario::from_file(file, "t").unwrap();
    let incidents = plan(&s);
    let train = s.train_steps.unwrap();
    assert!(!incidents.is_empty());
    for a in &incidents {
        assert!(
            a.start >= train,
            "incident {} starts in the training period",
            a.id
        );
        for b in &incidents {
            if a.id != b.id && a.host == b.host {
                assert!(
                    a.end <= b.start || b.end <= a.start,
                    "incidents {} and {} overlap",
                    a.id,
                    b.id
                );
            }
        }
    }
}
