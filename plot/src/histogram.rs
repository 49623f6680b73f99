//! Histograms in a grid, each series drawn as a share of its own total.

use std::path::Path;

use plotters::prelude::*;

use crate::colour::palette;
use crate::font::register_font;
use crate::labels::draw_legend;
use crate::{PlotError, err};

/// One histogram panel: shared bin edges, one count vector per series.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub title: String,
    pub unit: String,
    /// `n + 1` increasing bin edges.
    pub edges: Vec<f64>,
    /// (label, counts per bin, colour).
    pub series: Vec<(String, Vec<u64>, usize)>,
}

impl Histogram {
    /// Each series' counts as shares of its own total (an empty series stays all zero).
    fn shares(&self) -> Vec<Vec<f64>> {
        self.series
            .iter()
            .map(|(_, counts, _)| {
                let total = counts.iter().sum::<u64>().max(1) as f64;
                counts.iter().map(|&c| c as f64 / total).collect()
            })
            .collect()
    }
}

/// The top of the share axis: a tenth above the highest bar.
fn axis_top(shares: &[Vec<f64>]) -> f64 {
    shares
        .iter()
        .flatten()
        .copied()
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.1
}

/// The step outline of one series: a horizontal segment across each bin at its share.
fn outline(edges: &[f64], share: &[f64]) -> Vec<(f64, f64)> {
    let mut pts = Vec::with_capacity(share.len() * 2 + 2);
    for (i, s) in share.iter().enumerate() {
        pts.push((edges[i], *s));
        pts.push((edges[i + 1], *s));
    }
    pts
}

/// Draws histograms in a grid of `columns`, each series as a share of its own total so
/// groups of different sizes compare; optional vertical lines (e.g. a threshold).
pub fn render_histograms(
    path: &Path,
    title: &str,
    hists: &[Histogram],
    columns: usize,
    lines: &[(f64, String)],
) -> Result<(), PlotError> {
    register_font();
    let temp = vigil_core::io::temp_sibling(path);
    let columns = columns.max(1);
    let rows = hists.len().div_ceil(columns).max(1);
    {
        let root = BitMapBackend::new(&temp, (520 * columns as u32, 60 + 340 * rows as u32))
            .into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(path, e))?;
        let root = root
            .titled(title, ("sans-serif", 22))
            .map_err(|e| err(path, e))?;
        let areas = root.split_evenly((rows, columns));
        for (area, h) in areas.iter().zip(hists) {
            let (Some(&x0), Some(&x1)) = (h.edges.first(), h.edges.last()) else {
                continue;
            };
            let shares = h.shares();
            let top = axis_top(&shares);
            let mut cc = ChartBuilder::on(area)
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(56)
                .caption(&h.title, ("sans-serif", 15))
                .build_cartesian_2d(x0..x1, 0.0..top)
                .map_err(|e| err(path, e))?;
            cc.configure_mesh()
                .x_desc(h.unit.as_str())
                .y_desc("share of samples")
                .label_style(("sans-serif", 12))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(|e| err(path, e))?;
            for ((label, _, c), share) in h.series.iter().zip(&shares) {
                let col = palette(*c);
                let pts = outline(&h.edges, share);
                let filled = h.series.len() == 1;
                if filled {
                    cc.draw_series(share.iter().enumerate().map(|(i, s)| {
                        Rectangle::new(
                            [(h.edges[i], 0.0), (h.edges[i + 1], *s)],
                            col.mix(0.55).filled(),
                        )
                    }))
                    .map_err(|e| err(path, e))?;
                }
                cc.draw_series(LineSeries::new(pts, col.stroke_width(2)))
                    .map_err(|e| err(path, e))?
                    .label(label.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], col.stroke_width(2))
                    });
            }
            for (x, label) in lines.iter().filter(|(x, _)| (x0..=x1).contains(x)) {
                cc.draw_series(std::iter::once(PathElement::new(
                    vec![(*x, 0.0), (*x, top)],
                    BLACK.stroke_width(2),
                )))
                .map_err(|e| err(path, e))?
                .label(label.as_str())
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y - 6), (x, y + 6)], BLACK.stroke_width(2))
                });
            }
            if h.series.len() > 1 || !lines.is_empty() {
                draw_legend(&mut cc, path)?;
            }
        }
        root.present().map_err(|e| err(path, e))?;
    }
    vigil_core::io::commit_temp(&temp, path).map_err(|e| err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(series: Vec<Vec<u64>>) -> Histogram {
        Histogram {
            title: "cpu".into(),
            unit: "%".into(),
            edges: vec![0.0, 10.0, 20.0, 30.0],
            series: series
                .into_iter()
                .enumerate()
                .map(|(i, c)| (format!("s{i}"), c, i))
                .collect(),
        }
    }

    #[test]
    fn series_of_different_sizes_compare_as_shares() {
        let h = hist(vec![vec![1, 2, 1], vec![10, 20, 10], vec![0, 0, 0]]);
        let s = h.shares();
        assert_eq!(s[0], vec![0.25, 0.5, 0.25]);
        assert_eq!(s[1], s[0], "ten times the samples, the same shape");
        assert_eq!(s[2], vec![0.0; 3], "an empty series is not divided by zero");
        assert!((axis_top(&s) - 0.55).abs() < 1e-12);
        assert!(
            axis_top(&[vec![0.0]]) > 0.0,
            "an empty chart still has a y range"
        );
    }

    #[test]
    fn the_outline_steps_across_every_bin() {
        let pts = outline(&[0.0, 10.0, 20.0], &[0.3, 0.7]);
        assert_eq!(pts, vec![(0.0, 0.3), (10.0, 0.3), (10.0, 0.7), (20.0, 0.7)]);
    }
}
