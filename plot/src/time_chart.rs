//! Stacked time-series panels sharing one time axis: min/mean/max bands, coloured points,
//! horizontal lines, log axes, shaded spans and marker lines.

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use crate::buckets::Band;
use crate::colour::{category, palette};
use crate::font::register_font;
use crate::labels::{draw_legend, log_label, time_label};
use crate::{PlotError, err};

/// One stacked panel of a [`TimeChart`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Panel {
    pub title: String,
    pub unit: String,
    pub band: Band,
    /// Fixed y-range (percentages), or `None` to fit the data.
    pub y_range: Option<(f64, f64)>,
    pub color: usize,
    /// Points coloured by a [`palette`] index (e.g. a score coloured by its top metric),
    /// with the legend entry of each colour used.
    pub points: Vec<(i64, f64, usize)>,
    pub point_legend: Vec<(String, usize)>,
    /// Horizontal lines with a caption (e.g. a threshold).
    pub hlines: Vec<(f64, String)>,
    /// A logarithmic y axis (values ≤ 0 are not drawn).
    pub log_y: bool,
}

/// A shaded interval, e.g. an incident, with the label that goes into the legend;
/// `color` indexes [`category`].
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
    pub label: String,
    pub color: usize,
}

/// Stacked time-series panels sharing one time axis, with shaded spans and marker lines.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeChart {
    pub title: String,
    pub x_range: (i64, i64),
    pub panels: Vec<Panel>,
    pub spans: Vec<Span>,
    /// Vertical lines with a caption (e.g. the train/test boundary).
    pub markers: Vec<(i64, String)>,
}

/// A value in drawing coordinates: log10 on a log axis (where values ≤ 0 cannot be drawn),
/// itself otherwise; `None` for what cannot be drawn.
fn to_axis(log_y: bool, v: f64) -> Option<f64> {
    if log_y {
        (v > 0.0 && v.is_finite()).then(|| v.log10())
    } else {
        v.is_finite().then_some(v)
    }
}

/// The y-range of a panel in drawing coordinates (log10 of the value on a log axis): the
/// fixed range, or one that fits the band, the points and the horizontal lines.
fn fit(panel: &Panel, ty: &dyn Fn(f64) -> Option<f64>) -> Range<f64> {
    if let Some((a, b)) = panel.y_range
        && let (Some(a), Some(b)) = (ty(a), ty(b))
    {
        return a..b;
    }
    let b = &panel.band;
    let values =
        b.lo.iter()
            .chain(&b.hi)
            .copied()
            .chain(panel.points.iter().map(|p| p.1))
            .chain(panel.hlines.iter().map(|h| h.0))
            .filter_map(ty);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    lo - pad..hi + pad
}

/// Draws `chart` as a PNG of `width` × (`panel_height` per panel).
pub fn render_time_chart(
    path: &Path,
    chart: &TimeChart,
    width: u32,
    panel_height: u32,
) -> Result<(), PlotError> {
    register_font();
    let temp = vigil_core::io::temp_sibling(path);
    let height = 50 + panel_height * chart.panels.len().max(1) as u32;
    {
        let root = BitMapBackend::new(&temp, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(path, e))?;
        let root = root
            .titled(&chart.title, ("sans-serif", 22))
            .map_err(|e| err(path, e))?;
        let areas = root.split_evenly((chart.panels.len().max(1), 1));
        let (x0, x1) = chart.x_range;
        let span_secs = x1 - x0;
        let mut legend_done = false;
        for (area, panel) in areas.iter().zip(&chart.panels) {
            let log_y = panel.log_y;
            let ty = move |v: f64| to_axis(log_y, v);
            let y = fit(panel, &ty);
            let mut cc = ChartBuilder::on(area)
                .margin(6)
                .margin_right(16)
                .x_label_area_size(26)
                .y_label_area_size(64)
                .caption(&panel.title, ("sans-serif", 15))
                .build_cartesian_2d(x0..x1, y.clone())
                .map_err(|e| err(path, e))?;
            let plain = |v: &f64| format!("{v}");
            let y_fmt: &dyn Fn(&f64) -> String = if log_y { &|v| log_label(*v) } else { &plain };
            cc.configure_mesh()
                .x_labels(10)
                .y_labels(5)
                .x_label_formatter(&|t| time_label(*t, span_secs))
                .y_label_formatter(y_fmt)
                .y_desc(panel.unit.as_str())
                .label_style(("sans-serif", 12))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(|e| err(path, e))?;

            let visible = chart.spans.iter().filter(|s| s.end > x0 && s.start < x1);
            cc.draw_series(visible.map(|s| {
                Rectangle::new(
                    [(s.start.max(x0), y.start), (s.end.min(x1), y.end)],
                    category(s.color).mix(0.35).filled(),
                )
            }))
            .map_err(|e| err(path, e))?;
            for (t, _) in chart.markers.iter().filter(|(t, _)| (x0..=x1).contains(t)) {
                cc.draw_series(std::iter::once(PathElement::new(
                    vec![(*t, y.start), (*t, y.end)],
                    BLACK.stroke_width(2),
                )))
                .map_err(|e| err(path, e))?;
            }

            let b = &panel.band;
            let color = palette(panel.color);
            let pairs = |v: &[f64]| -> Vec<(i64, f64)> {
                b.t.iter()
                    .zip(v)
                    .filter_map(|(&t, &v)| Some((t, ty(v)?)))
                    .collect()
            };
            if !b.t.is_empty() {
                let mut poly = pairs(&b.hi);
                poly.extend(pairs(&b.lo).into_iter().rev());
                cc.draw_series(std::iter::once(Polygon::new(
                    poly,
                    color.mix(0.25).filled(),
                )))
                .map_err(|e| err(path, e))?;
                cc.draw_series(LineSeries::new(pairs(&b.mid), color.stroke_width(1)))
                    .map_err(|e| err(path, e))?;
            }
            cc.draw_series(panel.points.iter().filter_map(|&(t, v, c)| {
                let v = ty(v)?;
                (x0..=x1)
                    .contains(&t)
                    .then(|| Circle::new((t, v), 2, palette(c).filled()))
            }))
            .map_err(|e| err(path, e))?;
            for (label, c) in &panel.point_legend {
                let col = palette(*c);
                cc.draw_series(std::iter::empty::<Circle<(i64, f64), i32>>())
                    .map_err(|e| err(path, e))?
                    .label(label.as_str())
                    .legend(move |(x, y)| Circle::new((x + 6, y), 4, col.filled()));
            }
            for (v, label) in &panel.hlines {
                let Some(v) = ty(*v) else { continue };
                let style = ShapeStyle::from(&BLACK).stroke_width(1);
                cc.draw_series(DashedLineSeries::new(vec![(x0, v), (x1, v)], 6, 4, style))
                    .map_err(|e| err(path, e))?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
            }
            let mut legend = !panel.point_legend.is_empty() || !panel.hlines.is_empty();

            if !legend_done {
                legend_done = true;
                let mut seen: Vec<(&str, usize)> = Vec::new();
                for s in chart.spans.iter().filter(|s| s.end > x0 && s.start < x1) {
                    if !seen.iter().any(|(l, _)| *l == s.label) {
                        seen.push((&s.label, s.color));
                    }
                }
                for (t, caption) in chart.markers.iter().filter(|(t, _)| (x0..=x1).contains(t)) {
                    let _ = t;
                    cc.draw_series(std::iter::empty::<Circle<(i64, f64), i32>>())
                        .map_err(|e| err(path, e))?
                        .label(caption.as_str())
                        .legend(|(x, y)| {
                            PathElement::new(vec![(x, y - 6), (x, y + 6)], BLACK.stroke_width(2))
                        });
                }
                for (label, c) in &seen {
                    let col = category(*c);
                    cc.draw_series(std::iter::empty::<Circle<(i64, f64), i32>>())
                        .map_err(|e| err(path, e))?
                        .label(*label)
                        .legend(move |(x, y)| {
                            Rectangle::new([(x - 2, y - 5), (x + 14, y + 5)], col.mix(0.5).filled())
                        });
                }
                legend |= !seen.is_empty() || !chart.markers.is_empty();
            }
            if legend {
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

    fn close(r: Range<f64>, lo: f64, hi: f64) -> bool {
        (r.start - lo).abs() < 1e-9 && (r.end - hi).abs() < 1e-9
    }

    #[test]
    fn log_axes_drop_what_they_cannot_draw() {
        assert_eq!(to_axis(true, 100.0), Some(2.0));
        assert_eq!(to_axis(true, 0.0), None);
        assert_eq!(to_axis(true, -1.0), None);
        assert_eq!(to_axis(false, -1.0), Some(-1.0));
        assert_eq!(to_axis(false, f64::NAN), None);
        assert_eq!(to_axis(true, f64::INFINITY), None);
    }

    #[test]
    fn a_fixed_range_wins_and_a_free_one_fits_everything_drawn_with_a_margin() {
        let panel = Panel {
            band: Band {
                t: vec![0, 60],
                lo: vec![10.0, 12.0],
                mid: vec![15.0, 16.0],
                hi: vec![20.0, 18.0],
            },
            points: vec![(30, 25.0, 0)],
            hlines: vec![(5.0, "threshold".into())],
            ..Panel::default()
        };
        let linear = |v| to_axis(false, v);
        // From the threshold at 5 to the point at 25, padded by 5 % of the 20 between.
        assert!(
            close(fit(&panel, &linear), 4.0, 26.0),
            "{:?}",
            fit(&panel, &linear)
        );
        let fixed = Panel {
            y_range: Some((0.0, 100.0)),
            ..panel.clone()
        };
        assert_eq!(fit(&fixed, &linear), 0.0..100.0);
        let log = |v| to_axis(true, v);
        let r = fit(&panel, &log);
        let (lo, hi) = (5f64.log10(), 25f64.log10());
        let pad = (hi - lo) * 0.05;
        assert!(close(r.clone(), lo - pad, hi + pad), "{r:?}");
    }

    #[test]
    fn nothing_to_draw_gives_the_unit_range_and_one_value_a_small_one() {
        let linear = |v| to_axis(false, v);
        assert_eq!(fit(&Panel::default(), &linear), 0.0..1.0);
        let zeros = Panel {
            points: vec![(0, 0.0, 0)],
            log_y: true,
            ..Panel::default()
        };
        assert_eq!(
            fit(&zeros, &|v| to_axis(true, v)),
            0.0..1.0,
            "0 is not on a log axis"
        );
        let one = Panel {
            points: vec![(0, 3.0, 0)],
            ..Panel::default()
        };
        let r = fit(&one, &linear);
        assert!(
            r.start < 3.0 && 3.0 < r.end && r.end - r.start < 1e-5,
            "{r:?}"
        );
    }
}
