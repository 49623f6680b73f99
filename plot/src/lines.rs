//! Plain line charts over a numeric x axis, such as training losses by epoch.

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use crate::colour::palette;
use crate::font::register_font;
use crate::labels::draw_legend;
use crate::{PlotError, err};

/// The axes' ranges: every drawable point (finite, and above 0 on a log axis) with a
/// margin, never empty; `None` when there is no such point.
fn bounds(series: &[(String, Vec<(f64, f64)>)], log_y: bool) -> Option<(Range<f64>, Range<f64>)> {
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in points.filter(|(x, y)| x.is_finite() && y.is_finite() && (!log_y || *y > 0.0)) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        return None;
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 * 1.1 + 1e-9;
    }
    let (ylo, yhi) = if log_y {
        (y0 / 1.3, y1 * 1.3)
    } else {
        (y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0))
    };
    Some((x0..x1, ylo..yhi))
}

/// How an axis maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Logarithmic: values ≤ 0 are left out.
    Log,
}

/// A plain line chart: one line per series over a shared numeric x axis, the y axis on
/// `y_scale` (losses: [`Scale::Log`]), with an optional vertical marker (e.g. the best
/// epoch).
pub fn render_lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    y_scale: Scale,
    marker: Option<(f64, String)>,
) -> Result<(), PlotError> {
    let log_y = y_scale == Scale::Log;
    register_font();
    let temp = vigil_core::io::temp_sibling(path);
    let Some((x, y)) = bounds(series, log_y) else {
        return Err(err(path, "no finite points to draw"));
    };
    let (x0, x1, ylo, yhi) = (x.start, x.end, y.start, y.end);
    {
        let root = BitMapBackend::new(&temp, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(path, e))?;
        macro_rules! draw {
            ($cc:expr) => {{
                let mut cc = $cc;
                cc.configure_mesh()
                    .x_desc(x_label)
                    .y_desc(y_label)
                    .label_style(("sans-serif", 13))
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()
                    .map_err(|e| err(path, e))?;
                for (i, (label, pts)) in series.iter().enumerate() {
                    let col = palette(i);
                    cc.draw_series(LineSeries::new(
                        pts.iter().copied().filter(|(_, y)| !log_y || *y > 0.0),
                        col.stroke_width(2),
                    ))
                    .map_err(|e| err(path, e))?
                    .label(label.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], col.stroke_width(2))
                    });
                }
                if let Some((x, label)) = &marker {
                    cc.draw_series(std::iter::once(PathElement::new(
                        vec![(*x, ylo), (*x, yhi)],
                        BLACK.stroke_width(1),
                    )))
                    .map_err(|e| err(path, e))?
                    .label(label.as_str())
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y - 6), (x, y + 6)], BLACK.stroke_width(1))
                    });
                }
                draw_legend(&mut cc, path)?;
            }};
        }
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(70);
        if log_y {
            draw!(
                builder
                    .build_cartesian_2d(x0..x1, (ylo..yhi).log_scale())
                    .map_err(|e| err(path, e))?
            );
        } else {
            draw!(
                builder
                    .build_cartesian_2d(x0..x1, ylo..yhi)
                    .map_err(|e| err(path, e))?
            );
        }
        root.present().map_err(|e| err(path, e))?;
    }
    vigil_core::io::commit_temp(&temp, path).map_err(|e| err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(f64, f64)]) -> Vec<(String, Vec<(f64, f64)>)> {
        vec![("loss".to_string(), points.to_vec())]
    }

    #[test]
    fn bounds_cover_the_drawable_points_with_a_margin() {
        let s = series(&[(1.0, 2.0), (5.0, 12.0), (f64::NAN, 99.0), (3.0, -8.0)]);
        let (x, y) = bounds(&s, false).unwrap();
        assert_eq!(x, 1.0..5.0, "the NaN point is left out");
        assert_eq!(
            y,
            -9.0..13.0,
            "5 % of the 20 between -8 and 12 on each side"
        );
        let (x, y) = bounds(&s, true).unwrap();
        assert_eq!(x, 1.0..5.0);
        assert_eq!(
            y,
            2.0 / 1.3..12.0 * 1.3,
            "the negative loss is not on a log axis"
        );
    }

    #[test]
    fn a_single_point_still_spans_the_axes_and_no_point_is_refused() {
        let (x, y) = bounds(&series(&[(2.0, 0.5)]), true).unwrap();
        assert_eq!(x, 2.0..3.0);
        assert!(y.start < 0.5 && 0.5 < y.end, "{y:?}");
        assert!(bounds(&series(&[(1.0, 0.0), (2.0, -1.0)]), true).is_none());
        assert!(bounds(&[], false).is_none());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss.png");
        let e = render_lines(
            &path,
            "t",
            "x",
            "y",
            &series(&[(1.0, f64::NAN)]),
            Scale::Linear,
            None,
        );
        let message = e.unwrap_err().to_string();
        assert!(message.contains("no finite points to draw"), "{message}");
        assert!(!path.exists());
    }
}
