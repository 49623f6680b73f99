//! The pattern table: `patterns.csv` (every pattern) and `patterns.txt` (the console
//! table of the most frequent ones, and every change against the baseline).

use std::fmt::Write as _;
use std::path::Path;

use super::charts::iso;
use super::clip;
use super::{Change, Pattern, PatternsSummary};
use crate::Error;
use crate::logs::parse::write_csv;

/// `id,template,count,share,first_seen,last_seen,baseline_count,baseline_share,change,
/// p_value,values,examples`: values as `<*>1: a (12), b (3) [5 distinct]; <*>2: …`,
/// examples as `line: text` joined by ` | `.
pub fn write_patterns_csv(path: &Path, patterns: &[Pattern]) -> Result<(), Error> {
    write_csv(path, |w| {
        w.write_record([
            "id",
            "template",
            "count",
            "share",
            "first_seen",
            "last_seen",
            "baseline_count",
            "baseline_share",
            "change",
            "p_value",
            "values",
            "examples",
        ])?;
        for p in patterns {
            w.write_record([
                p.id.to_string(),
                p.template.clone(),
                p.count.to_string(),
                format!("{:.6}", p.share),
                p.first_ms.map(iso).unwrap_or_default(),
                p.last_ms.map(iso).unwrap_or_default(),
                p.baseline_count.to_string(),
                format!("{:.6}", p.baseline_share),
                change_name(p.change).to_string(),
                p.p_value.map_or(String::new(), |v| format!("{v:.3e}")),
                values_text(p),
                p.examples
                    .iter()
                    .map(|(n, t)| format!("{n}: {t}"))
                    .collect::<Vec<_>>()
                    .join(" | "),
            ])?;
        }
        Ok(())
    })
}

fn change_name(c: Change) -> &'static str {
    match c {
        Change::New => "new",
        Change::Vanished => "vanished",
        Change::Up => "up",
        Change::Down => "down",
        Change::Same => "",
    }
}

/// `<*>1: a (12), b (3) [5 distinct]; <*>2: …`.
pub fn values_text(p: &Pattern) -> String {
    p.values
        .iter()
        .enumerate()
        .map(|(i, (top, distinct))| {
            let listed: Vec<String> = top.iter().map(|(v, c)| format!("{v} ({c})")).collect();
            format!("<*>{}: {} [{distinct} distinct]", i + 1, listed.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The console table: the `top` most frequent patterns, then every change (new,
/// vanished, up, down) not among them.
pub fn render_table(s: &PatternsSummary, patterns: &[Pattern], top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} lines, {} patterns{}",
        s.lines,
        s.templates,
        match &s.baseline {
            None => String::new(),
            Some(b) => format!(
                "; baseline: {b}, {} lines ({} new, {} vanished, {} up, {} down; alpha {} with Bonferroni)",
                s.baseline_lines, s.new, s.vanished, s.up, s.down, s.alpha
            ),
        }
    );
    let with_baseline = s.baseline.is_some();
    let header = if with_baseline {
        format!(
            "{:>5} {:>9} {:>7} {:>7} {:<9} template",
            "id", "count", "share", "base", "change"
        )
    } else {
        format!("{:>5} {:>9} {:>7} template", "id", "count", "share")
    };
    let row = |p: &Pattern| {
        let t = clip(&p.template, 90);
        if with_baseline {
            format!(
                "{:>5} {:>9} {:>6.2}% {:>6.2}% {:<9} {t}",
                p.id,
                p.count,
                100.0 * p.share,
                100.0 * p.baseline_share,
                change_name(p.change)
            )
        } else {
            format!("{:>5} {:>9} {:>6.2}% {t}", p.id, p.count, 100.0 * p.share)
        }
    };
    let _ = writeln!(out, "\n{header}");
    for p in patterns.iter().take(top) {
        let _ = writeln!(out, "{}", row(p));
        let values = values_text(p);
        if !values.is_empty() {
            let _ = writeln!(out, "{:>15}{}", "", clip(&values, 110));
        }
    }
    if patterns.len() > top {
        let _ = writeln!(
            out,
            "{:>5} … {} more in patterns.csv",
            "",
            patterns.len() - top
        );
    }
    let changed: Vec<&Pattern> = patterns
        .iter()
        .skip(top)
        .filter(|p| p.change != Change::Same)
        .collect();
    if !changed.is_empty() {
        let _ = writeln!(
            out,
            "\nchanges against the baseline beyond the table:\n{header}"
        );
        for p in changed {
            let _ = writeln!(out, "{}", row(p));
        }
    }
    out
}
