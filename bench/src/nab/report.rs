//! `nab.txt`: the run's scores as a table, per profile and category, with what was
//! skipped or handled on purpose and the published figures beside.

use super::*;

/// A normalised score, or `n/a` where there is nothing to normalise against (no anomaly
/// window: the perfect and the null detector score the same).
fn score(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "n/a".into()
    }
}

pub fn render(r: &NabReport, n: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "NAB scores on {n} files ({} model per file, trained on the probationary period only; {:.0} s)",
        r.model_kind, r.seconds
    );
    let _ = writeln!(
        s,
        "{:<20} {:>12} {:>12} {:>12} {:>12}",
        "profile", "Vigil", "Vigil (opt)", "baseline", "base (opt)"
    );
    for p in &r.profiles {
        let _ = writeln!(
            s,
            "{:<20} {:>12} {:>12} {:>12} {:>12}",
            p.profile,
            score(p.model_default),
            score(p.model_optimised),
            score(p.baseline_default),
            score(p.baseline_optimised)
        );
    }
    if !r.categories.is_empty() {
        let _ = writeln!(
            s,
            "per category, standard profile (opt: at the corpus-wide thresholds):"
        );
        for c in &r.categories {
            if let Some(p) = c.profiles.first() {
                let _ = writeln!(
                    s,
                    "  {:<24} {:>3} files {:>8} {:>8} {:>8} {:>8}",
                    c.category,
                    c.files,
                    score(p.model_default),
                    score(p.model_optimised),
                    score(p.baseline_default),
                    score(p.baseline_optimised)
                );
            }
        }
    }
    if !r.missing.is_empty() || !r.skipped.is_empty() {
        let _ = writeln!(
            s,
            "{} labelled files have no data file here (not run); {} could not be scored{}",
            r.missing.len(),
            r.skipped.len(),
            if r.skipped.is_empty() { "." } else { ":" }
        );
        for k in &r.skipped {
            let _ = writeln!(s, "  {}: {}", k.file, k.reason);
        }
    }
    let odd: Vec<String> = r
        .files
        .iter()
        .filter(|f| f.out_of_order > 0 || f.resampled_from.is_some())
        .map(|f| {
            let mut notes = Vec::new();
            if let Some(step) = f.resampled_from {
                notes.push(format!(
                    "rows {step} s apart, resampled onto the model's step"
                ));
            }
            if f.out_of_order > 0 {
                notes.push(format!(
                    "{} rows out of time order, unscored",
                    f.out_of_order
                ));
            }
            format!("  {}: {}", f.file, notes.join("; "))
        })
        .collect();
    if !odd.is_empty() {
        let _ = writeln!(s, "handled on purpose:\n{}", odd.join("\n"));
    }
    let _ = writeln!(
        s,
        "Vigil / baseline: the detector's defaults (Vigil: the model beside the per-hour profile; baseline: the profile alone; both through the same likelihood, range rule and alarm logic), no labels seen. (opt): NAB's protocol, one corpus-wide threshold chosen on the labels."
    );
    let _ = writeln!(
        s,
        "Published standard-profile scores (whole 58-file corpus):"
    );
    for (name, score) in PUBLISHED {
        let _ = writeln!(s, "  {name:<20} {score:>5.1}");
    }
    let _ = writeln!(
        s,
        "{:<40} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "file", "rows", "windows", "found", "alarms", "base f/a"
    );
    for f in &r.files {
        let _ = writeln!(
            s,
            "{:<40} {:>6} {:>8} {:>8} {:>8} {:>5}/{}",
            f.file,
            f.rows,
            f.windows,
            f.model_windows_found,
            f.model_alarms,
            f.baseline_windows_found,
            f.baseline_alarms
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_says_what_was_skipped_and_what_has_no_score() {
        let profile = ProfileResult {
            profile: "standard".into(),
            model_default: f64::NAN,
            model_optimised: 12.34,
            model_threshold: 1.0,
            baseline_default: -5.0,
            baseline_optimised: 0.0,
            baseline_threshold: 1.0,
        };
        let r = NabReport {
            files: Vec::new(),
            profiles: vec![profile],
            categories: Vec::new(),
            missing: vec!["realKnownCause/x.csv".into()],
            skipped: vec![Skipped {
                file: "realTraffic/y.csv".into(),
                reason: "timestamps go backwards at row 3".into(),
            }],
            model_kind: "dense_autoencoder".into(),
            window: 12,
            seconds: 1.0,
        };
        let text = render(&r, 0);
        assert!(text.contains("standard"), "{text}");
        assert!(text.contains(" n/a "), "a NaN score reads n/a: {text}");
        assert!(text.contains("12.3"), "{text}");
        assert!(
            text.contains(
                "1 labelled files have no data file here (not run); 1 could not be scored:"
            ),
            "{text}"
        );
        assert!(
            text.contains("realTraffic/y.csv: timestamps go backwards at row 3"),
            "{text}"
        );
    }
}
