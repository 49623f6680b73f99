//! The pattern charts: `volume.png` (lines per time bucket of the most frequent patterns,
//! log scale) and `scatter.png` (every line in time by the rarity of its pattern,
//! coloured by pattern: the log-analysis scatter).

use std::path::{Path, PathBuf};

use vigil_plot::{Panel, Scale, TimeChart, render_lines, render_time_chart};

use super::clip;
use super::{Pattern, Point};
use crate::Error;

/// Patterns with a colour of their own; the rest are grey.
const COLOURED: usize = 6;
/// The palette's grey.
const GREY: usize = 6;
/// Points drawn at most: lines of the coloured (frequent) patterns are thinned evenly past
/// it; lines of the other patterns are always drawn.
const MAX_POINTS: usize = 200_000;

pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A round bucket width giving about 100 buckets over `span_ms`.
fn bucket_ms(span_ms: i64) -> i64 {
    const STEPS: [i64; 12] = [
        1_000,
        10_000,
        60_000,
        300_000,
        900_000,
        1_800_000,
        3_600_000,
        10_800_000,
        21_600_000,
        43_200_000,
        86_400_000,
        604_800_000,
    ];
    let want = (span_ms / 100).max(1);
    *STEPS
        .iter()
        .find(|&&s| s >= want)
        .unwrap_or(&STEPS[STEPS.len() - 1])
}

/// Draws both charts into `out` (where the lines carry times); returns their paths.
pub(crate) fn draw(
    out: &Path,
    patterns: &[Pattern],
    points: &[Point],
    has_baseline: bool,
) -> Result<Vec<PathBuf>, Error> {
    let times: Vec<i64> = points.iter().filter_map(|p| p.time_ms).collect();
    let (Some(&t0), Some(&t1)) = (times.iter().min(), times.iter().max()) else {
        return Ok(Vec::new());
    };
    let mut colour = std::collections::HashMap::new();
    for (i, p) in patterns.iter().take(COLOURED).enumerate() {
        colour.insert(p.id, i);
    }
    let mut drawn = Vec::new();

    // Volume: lines per bucket of each coloured pattern, both sides.
    let width = bucket_ms(t1 - t0);
    let buckets = ((t1 - t0) / width + 1) as usize;
    let mut counts = vec![vec![0u64; buckets]; COLOURED.min(patterns.len())];
    for p in points {
        if let (Some(t), Some(c)) = (p.time_ms, p.template.and_then(|id| colour.get(&id))) {
            counts[*c][((t - t0) / width) as usize] += 1;
        }
    }
    let hours = |b: usize| (b as i64 * width) as f64 / 3.6e6;
    let series: Vec<(String, Vec<(f64, f64)>)> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                clip(&patterns[i].template, 60),
                c.iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(b, n)| (hours(b), *n as f64))
                    .collect(),
            )
        })
        .collect();
    let path = out.join("volume.png");
    let split = has_baseline
        .then(|| {
            points
                .iter()
                .filter(|p| p.baseline)
                .filter_map(|p| p.time_ms)
                .max()
        })
        .flatten()
        .filter(|&t| t < t1)
        .map(|t| ((t - t0) as f64 / 3.6e6, "baseline ends".to_string()));
    render_lines(
        &path,
        &format!(
            "Lines per {} of the {} most frequent patterns",
            vigil_core::time::Duration::from_secs(width / 1000)
                .map_or_else(|| format!("{width} ms"), |d| d.to_string()),
            series.len()
        ),
        &format!("hours since {}", iso(t0)),
        "lines",
        &series,
        Scale::Log,
        split.clone(),
    )?;
    drawn.push(path);

    // Scatter: time × rarity of the line's pattern (−log10 of its share in the baseline,
    // or in the whole log), coloured by pattern.
    let mut share = std::collections::HashMap::new();
    let total: u64 = patterns
        .iter()
        .map(|p| {
            if has_baseline {
                p.baseline_count
            } else {
                p.count
            }
        })
        .sum();
    for p in patterns {
        let n = if has_baseline {
            p.baseline_count
        } else {
            p.count
        };
        share.insert(p.id, (n as f64).max(0.5) / total.max(1) as f64);
    }
    let frequent = points
        .iter()
        .filter(|p| p.time_ms.is_some() && p.template.is_some_and(|t| colour.contains_key(&t)))
        .count();
    let others = times.len() - frequent;
    let keep_every = frequent
        .div_ceil(MAX_POINTS.saturating_sub(others).max(1))
        .max(1);
    let mut seen = 0usize;
    let mut scatter = Vec::new();
    let unmatched = (0.5f64 / total.max(1) as f64).log10().abs();
    for p in points {
        let Some(t) = p.time_ms else { continue };
        let (y, c) = match p.template {
            Some(id) => {
                let y = -share.get(&id).copied().unwrap_or(1.0).log10();
                match colour.get(&id) {
                    Some(&c) => {
                        seen += 1;
                        if !seen.is_multiple_of(keep_every) {
                            continue;
                        }
                        (y, c)
                    }
                    None => (y, GREY),
                }
            }
            None => (unmatched, GREY),
        };
        scatter.push((t / 1000, y, c));
    }
    let mut legend: Vec<(String, usize)> = patterns
        .iter()
        .take(COLOURED)
        .enumerate()
        .map(|(i, p)| (clip(&p.template, 50), i))
        .collect();
    legend.push(("other patterns".into(), GREY));
    let n = scatter.len();
    let chart = TimeChart {
        title: format!(
            "Every line by the rarity of its pattern ({n} of {} lines drawn{})",
            times.len(),
            if keep_every > 1 {
                format!("; 1 in {keep_every} of the coloured patterns' lines")
            } else {
                String::new()
            }
        ),
        x_range: (t0 / 1000, t1 / 1000 + 1),
        panels: vec![Panel {
            title: if has_baseline {
                "rarity: −log10 of the pattern's share in the baseline".into()
            } else {
                "rarity: −log10 of the pattern's share".into()
            },
            unit: "rarity".into(),
            points: scatter,
            point_legend: legend,
            ..Panel::default()
        }],
        spans: Vec::new(),
        markers: split
            .map(|(h, label)| (t0 / 1000 + (h * 3600.0) as i64, label))
            .into_iter()
            .collect(),
    };
    let path = out.join("scatter.png");
    render_time_chart(&path, &chart, 1400, 520)?;
    drawn.push(path);
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_round_and_about_a_hundred() {
        assert_eq!(bucket_ms(86_400_000), 900_000);
        assert_eq!(bucket_ms(1000), 1_000);
        assert_eq!(bucket_ms(100 * 604_800_000), 604_800_000);
    }
}
