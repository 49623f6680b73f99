use super::*;

const MINIMAL: &str = r#"
seed = 1
start = "2026-01-01T00:00:00Z"
duration = "2d"
interval = "5m"

[[hosts]]
name = "web"
role = "web"
count = 2
depends_on = ["db-1"]

[[hosts]]
name = "db-1"
role = "db"
"#;

fn check(text: &str) -> Result<Scenario, Error> {
    let file = ScenarioFile::parse(text, "test.toml")?;
    Scenario::from_file(file, "test.toml")
}

fn error(text: &str) -> String {
    match check(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_embedded_default_is_valid_and_uses_every_kind() {
    let s = Scenario::from_file(ScenarioFile::embedded_default(), "default").unwrap();
    assert!(s.hosts.len() >= 5, "a fleet, not one host");
    let roles: std::collections::HashSet<_> = s.hosts.iter().map(|h| h.role).collect();
    assert!(roles.len() >= 4);
    for kind in crate::kinds::PROCESS_KINDS {
        assert!(
            s.processes
                .iter()
                .any(|p| p.kind == kind && !p.hosts.is_empty()),
            "default scenario lacks {kind:?}"
        );
    }
    for kind in crate::kinds::INCIDENT_KINDS {
        assert!(
            s.incidents.iter().any(|i| i.kind == kind),
            "no {kind:?} rule"
        );
    }
    assert!(s.train_steps.is_some());
}

#[test]
fn a_minimal_file_resolves_groups_and_dependencies() {
    let s = check(MINIMAL).unwrap();
    let names: Vec<_> = s.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web-1", "web-2", "db-1"]);
    assert_eq!(s.hosts[0].depends_on, [2]);
    assert_eq!(s.timeline.steps, 576);
    assert!(s.processes.is_empty() && s.incidents.is_empty());
}

#[test]
fn an_unknown_key_is_named() {
    let e = error(&format!("{MINIMAL}\n[noise]\nlevle = 2.0\n"));
    assert!(
        e.contains("test.toml") && e.contains("unknown field `levle`"),
        "{e}"
    );
    let e = error(&MINIMAL.replace("count = 2", "count = 2\ncolour = \"red\""));
    assert!(e.contains("unknown field `colour`"), "{e}");
}

#[test]
fn a_negative_duration_is_refused() {
    let e = error(&MINIMAL.replace("\"2d\"", "\"-2d\""));
    assert!(e.contains("negative") && e.contains("-2d"), "{e}");
    let e = error(&MINIMAL.replace("\"5m\"", "\"5 parsecs\""));
    assert!(e.contains("expected a positive duration"), "{e}");
}

#[test]
fn a_probability_outside_0_1_is_refused_with_its_key() {
    let e = error(&format!(
        "{MINIMAL}\n[[incidents]]\nkind = \"spike\"\nprobability = 1.5\n"
    ));
    assert!(
        e.contains("incidents[0].probability: expected a probability in [0, 1], found 1.5"),
        "{e}"
    );
    let e = error(&format!("{MINIMAL}\n[[incidents]]\nkind = \"spike\"\n"));
    assert!(
        e.contains("incidents[0].probability") && e.contains("neither"),
        "{e}"
    );
}

#[test]
fn an_unknown_process_or_incident_kind_is_refused() {
    let e = error(&format!(
        "{MINIMAL}\n[[processes]]\nkind = \"crypto_miner\"\n"
    ));
    assert!(
        e.contains("unknown variant `crypto_miner`") && e.contains("backup"),
        "{e}"
    );
    let e = error(&format!(
        "{MINIMAL}\n[[incidents]]\nkind = \"meteor\"\nprobability = 0.1\n"
    ));
    assert!(e.contains("unknown variant `meteor`"), "{e}");
}

#[test]
fn references_and_ranges_are_checked() {
    let e = error(&MINIMAL.replace("depends_on = [\"db-1\"]", "depends_on = [\"db-9\"]"));
    assert!(
        e.contains("hosts[0].depends_on[0]") && e.contains("db-9"),
        "{e}"
    );

    let e = error(&format!(
        "{MINIMAL}\n[[processes]]\nkind = \"backup\"\nhosts = [\"nas\"]\n"
    ));
    assert!(e.contains("processes[0].hosts[0]"), "{e}");

    let e = error(&format!("{MINIMAL}\n[split]\ntrain = \"3d\"\n"));
    assert!(e.contains("split.train"), "{e}");

    let e = error(&format!(
        "{MINIMAL}\n[[incidents]]\nkind = \"memory_leak\"\nprobability = 0.1\nmetrics = [\"cpu\"]\n"
    ));
    assert!(e.contains("incidents[0].metrics"), "{e}");

    let e = error(&format!(
        "{MINIMAL}\n[split]\ntrain = \"1d\"\n[[incidents]]\nkind = \"spike\"\nat = [\"2026-01-01T06:00:00Z\"]\n"
    ));
    assert!(
        e.contains("incidents[0].at[0]") && e.contains("training period"),
        "{e}"
    );

    let e = error(&MINIMAL.replace("role = \"db\"", "role = \"db\"\nram = 140.0"));
    assert!(e.contains("hosts[1].ram") && e.contains("[0, 100]"), "{e}");

    let e = error(&format!(
        "{MINIMAL}\n[[processes]]\nkind = \"disk_cleanup\"\nschedule = {{ kind = \"monthly\", day = 31, at = \"05:00\" }}\n"
    ));
    assert!(e.contains("processes[0].schedule.day"), "{e}");
}

#[test]
fn overrides_replace_the_file_values() {
    let mut file = ScenarioFile::parse(MINIMAL, "t").unwrap();
    file.apply(&Overrides {
        seed: Some(9),
        duration: Some("3d".parse().unwrap()),
        train: Some("1d".parse().unwrap()),
        ..Overrides::default()
    });
    let s = Scenario::from_file(file.clone(), "t").unwrap();
    assert_eq!(
        (s.seed, s.timeline.steps, s.train_steps),
        (9, 864, Some(288))
    );
    // The effective file round-trips through TOML.
    assert_eq!(ScenarioFile::parse(&file.to_toml(), "echo").unwrap(), file);
}

#[test]
fn errors_carry_the_line_or_the_key_at_fault() {
    let text = format!("{MINIMAL}\n[noise]\nlevle = 2.0\n");
    match check(&text) {
        Err(Error::Syntax {
            source_name,
            line: Some(line),
            ..
        }) => {
            assert_eq!(source_name, "test.toml");
            assert_eq!(
                text.lines().nth(line - 1),
                Some("levle = 2.0"),
                "line {line}"
            );
        }
        other => panic!("expected a syntax error with a line, got {other:?}"),
    }
    match check(&MINIMAL.replace("count = 2", "count = 0")) {
        Err(Error::Invalid { key, message, .. }) => {
            assert_eq!(key, "hosts[0].count");
            assert_eq!(message, "expected at least 1, found 0");
        }
        other => panic!("expected an invalid value, got {other:?}"),
    }
    let missing = std::path::Path::new("/nonexistent/vigil/scenario.toml");
    match ScenarioFile::read(missing) {
        Err(e @ Error::ReadScenario { .. }) => assert_eq!(
            e.to_string(),
            "cannot read scenario /nonexistent/vigil/scenario.toml"
        ),
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn line_of_counts_from_one() {
    assert_eq!(line_of("a\nb\nc", 0), 1);
    assert_eq!(line_of("a\nb\nc", 2), 2);
    assert_eq!(line_of("a\nb\nc", 99), 3, "past the end: the last line");
}

/// Issue 18: `generator --seed 7 --duration 60d --split 45d:` (the README's) failed on the
/// embedded default's pinned incident; a period set on the command line drops the pins it
/// leaves out or puts in training, with a note, and a file's own period still refuses them.
#[test]
fn readme_short_run_drops_pinned_incidents_with_a_note() {
    let mut file = ScenarioFile::embedded_default();
    let overrides = Overrides {
        duration: Some("60d".parse().unwrap()),
        train: Some("45d".parse().unwrap()),
        ..Overrides::default()
    };
    file.apply(&overrides);
    assert!(Scenario::from_file(file.clone(), "default").is_err());
    let s = Scenario::from_file_with(file, "default", &overrides).unwrap();
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(
        s.notes[0].contains("dropped: in the incident-free training part"),
        "{:?}",
        s.notes
    );
    assert!(s.incidents.iter().all(|r| r.at.is_empty()));

    // A period shorter than the pin: dropped as outside it.
    let mut file = ScenarioFile::embedded_default();
    let overrides = Overrides {
        duration: Some("10d".parse().unwrap()),
        train: Some("5d".parse().unwrap()),
        ..Overrides::default()
    };
    file.apply(&overrides);
    let s = Scenario::from_file_with(file, "default", &overrides).unwrap();
    assert!(s.notes[0].contains("dropped: outside"), "{:?}", s.notes);

    // Overrides that leave the period alone change nothing.
    let s = Scenario::from_file_with(
        ScenarioFile::embedded_default(),
        "default",
        &Overrides::default(),
    )
    .unwrap();
    assert!(s.notes.is_empty());
    assert!(s.incidents.iter().any(|r| !r.at.is_empty()));
}
