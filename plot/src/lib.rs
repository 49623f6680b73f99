//! Vigil's charts: PNG files drawn with plotters and the DejaVu Sans font embedded in this
//! crate, so nothing depends on the fonts a machine happens to have.
//!
//! Each chart is drawn to a hidden temporary file and renamed into place (see
//! [`vigil_core::io`]).

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use chrono::DateTime;
use plotters::prelude::*;
use plotters::style::FontStyle;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// A chart that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw chart {path}: {message}")]
pub struct PlotError {
    pub path: String,
    pub message: String,
}

fn err(path: &Path, e: impl std::fmt::Display) -> PlotError {
    PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in; a failure here would be a build defect, caught by tests.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A colour from a fixed, colour-blind friendly palette (Okabe–Ito), cycling.
pub fn palette(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(120, 120, 120),
        RGBColor(240, 228, 66),
    ];
    P[i % P.len()]
}

/// A colour for categories such as incident kinds: ten distinct hues (Tableau 10).
pub fn category(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(78, 121, 167),
        RGBColor(242, 142, 43),
        RGBColor(225, 87, 89),
        RGBColor(118, 183, 178),
        RGBColor(89, 161, 79),
        RGBColor(237, 201, 72),
        RGBColor(176, 122, 161),
        RGBColor(255, 157, 167),
        RGBColor(156, 117, 95),
        RGBColor(186, 176, 172),
    ];
    P[i % P.len()]
}

/// A summarised series: per time bucket, the lowest, mean and highest value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Band {
    /// Bucket start, unix seconds.
    pub t: Vec<i64>,
    pub lo: Vec<f64>,
    pub mid: Vec<f64>,
    pub hi: Vec<f64>,
}

/// One stacked panel of a [`TimeChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub unit: String,
    pub band: Band,
    /// Fixed y-range (percentages), or `None` to fit the data.
    pub y_range: Option<(f64, f64)>,
    pub color: usize,
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

fn time_label(t: i64, span_secs: i64) -> String {
    let Some(d) = DateTime::from_timestamp(t, 0) else {
        return t.to_string();
    };
    if span_secs > 3 * 86_400 {
        d.format("%b %d").to_string()
    } else {
        d.format("%d %H:%M").to_string()
    }
}

fn fit(band: &Band, fixed: Option<(f64, f64)>) -> Range<f64> {
    if let Some((a, b)) = fixed {
        return a..b;
    }
    let lo = band
        .lo
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = band
        .hi
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad).min(0.0f64.max(lo - pad))..hi + pad
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
            let y = fit(&panel.band, panel.y_range);
            let mut cc = ChartBuilder::on(area)
                .margin(6)
                .margin_right(16)
                .x_label_area_size(26)
                .y_label_area_size(64)
                .caption(&panel.title, ("sans-serif", 15))
                .build_cartesian_2d(x0..x1, y.clone())
                .map_err(|e| err(path, e))?;
            cc.configure_mesh()
                .x_labels(10)
                .y_labels(5)
                .x_label_formatter(&|t| time_label(*t, span_secs))
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
            if !b.t.is_empty() {
                let mut poly: Vec<(i64, f64)> =
                    b.t.iter().copied().zip(b.hi.iter().copied()).collect();
                poly.extend(b.t.iter().copied().zip(b.lo.iter().copied()).rev());
                cc.draw_series(std::iter::once(Polygon::new(
                    poly,
                    color.mix(0.25).filled(),
                )))
                .map_err(|e| err(path, e))?;
                cc.draw_series(LineSeries::new(
                    b.t.iter().copied().zip(b.mid.iter().copied()),
                    color.stroke_width(1),
                ))
                .map_err(|e| err(path, e))?;
            }

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
                if !seen.is_empty() || !chart.markers.is_empty() {
                    draw_legend(&mut cc, path)?;
                }
            }
        }
        root.present().map_err(|e| err(path, e))?;
    }
    vigil_core::io::commit_temp(&temp, path).map_err(|e| err(path, e))
}

/// The legend of a panel's labelled series, in the upper right corner.
fn draw_legend<'a, CT: CoordTranslate>(
    cc: &mut ChartContext<'a, BitMapBackend<'a>, CT>,
    path: &Path,
) -> Result<(), PlotError> {
    cc.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(|e| err(path, e))
}

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
            let shares: Vec<Vec<f64>> = h
                .series
                .iter()
                .map(|(_, counts, _)| {
                    let total = counts.iter().sum::<u64>().max(1) as f64;
                    counts.iter().map(|&c| c as f64 / total).collect()
                })
                .collect();
            let top = shares
                .iter()
                .flatten()
                .copied()
                .fold(0.0, f64::max)
                .max(1e-9)
                * 1.1;
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
                let mut pts = Vec::with_capacity(share.len() * 2 + 2);
                for (i, s) in share.iter().enumerate() {
                    pts.push((h.edges[i], *s));
                    pts.push((h.edges[i + 1], *s));
                }
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

/// A plain line chart: one line per series over a shared numeric x axis, optionally on a
/// logarithmic y axis (losses), with an optional vertical marker (e.g. the best epoch).
pub fn render_lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_y: bool,
    marker: Option<(f64, String)>,
) -> Result<(), PlotError> {
    register_font();
    let temp = vigil_core::io::temp_sibling(path);
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
        return Err(err(path, "no finite points to draw"));
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 * 1.1 + 1e-9;
    }
    {
        let root = BitMapBackend::new(&temp, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(path, e))?;
        let (ylo, yhi) = if log_y {
            (y0 / 1.3, y1 * 1.3)
        } else {
            (y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0))
        };
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

    #[test]
    fn draws_a_time_chart_and_histograms_without_system_fonts() {
        let dir = tempfile::tempdir().unwrap();
        let t: Vec<i64> = (0..200).map(|i| 1_767_225_600 + i * 3600).collect();
        let mid: Vec<f64> = (0..200)
            .map(|i| 50.0 + 20.0 * (i as f64 / 10.0).sin())
            .collect();
        let band = Band {
            lo: mid.iter().map(|v| v - 5.0).collect(),
            hi: mid.iter().map(|v| v + 5.0).collect(),
            t: t.clone(),
            mid,
        };
        let chart = TimeChart {
            title: "web-1 — 2026-01".into(),
            x_range: (t[0], t[199]),
            panels: vec![Panel {
                title: "cpu".into(),
                unit: "%".into(),
                band,
                y_range: Some((0.0, 100.0)),
                color: 0,
            }],
            spans: vec![Span {
                start: t[50],
                end: t[60],
                label: "spike".into(),
                color: 1,
            }],
            markers: vec![(t[100], "train | test".into())],
        };
        let path = dir.path().join("chart.png");
        render_time_chart(&path, &chart, 1000, 220).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(bytes.len() > 5_000, "suspiciously small: {}", bytes.len());

        let h = Histogram {
            title: "cpu".into(),
            unit: "%".into(),
            edges: (0..=10).map(|i| i as f64 * 10.0).collect(),
            series: vec![
                ("web".into(), vec![1, 5, 9, 4, 2, 1, 0, 0, 0, 0], 0),
                ("db".into(), vec![0, 1, 2, 8, 9, 3, 1, 0, 0, 0], 1),
            ],
        };
        let path = dir.path().join("hist.png");
        render_histograms(
            &path,
            "distributions",
            &[h],
            2,
            &[(42.0, "threshold".into())],
        )
        .unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[1..4], b"PNG");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "temporary files left behind"
        );
    }
}
