//! Vigil's charts: PNG files drawn with plotters and the DejaVu Sans font embedded in this
//! crate, so nothing depends on the fonts a machine happens to have.
//!
//! Each chart is drawn to a hidden temporary file and renamed into place (see
//! [`vigil_core::io`]).

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use chrono::{DateTime, Datelike, TimeZone, Utc};
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

/// Calendar months (UTC) covering `[start, end)`: `(from, to, "YYYY-MM")`, the first and
/// last clipped to the range.
pub fn months(start: i64, end: i64) -> Vec<(i64, i64, String)> {
    let mut out = Vec::new();
    let Some(mut d) = DateTime::from_timestamp(start, 0) else {
        return out;
    };
    while d.timestamp() < end {
        let first = Utc
            .with_ymd_and_hms(d.year(), d.month(), 1, 0, 0, 0)
            .single();
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        let Some(next) = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single() else {
            break;
        };
        let from = first.map_or(start, |f| f.timestamp()).max(start);
        out.push((
            from,
            next.timestamp().min(end),
            d.format("%Y-%m").to_string(),
        ));
        d = next;
    }
    out
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

/// Summarises a stream of rows (`columns` values at a time) into fixed-width time buckets
/// — lowest, mean and highest per column — so charts cost no second pass over the data.
/// Memory grows with the time covered divided by the bucket width, not with the rows.
#[derive(Debug, Clone)]
pub struct Buckets {
    origin: i64,
    width: i64,
    columns: usize,
    lo: Vec<f32>,
    hi: Vec<f32>,
    sum: Vec<f64>,
    n: Vec<u32>,
}

impl Buckets {
    /// Buckets of `width` seconds starting at `origin`; times before `origin` are ignored.
    pub fn new(origin: i64, width: i64, columns: usize) -> Buckets {
        Buckets {
            origin,
            width: width.max(1),
            columns,
            lo: Vec::new(),
            hi: Vec::new(),
            sum: Vec::new(),
            n: Vec::new(),
        }
    }

    pub fn width(&self) -> i64 {
        self.width
    }

    pub fn origin(&self) -> i64 {
        self.origin
    }

    /// Doubles the bucket width, merging buckets pairwise (to bound memory over long inputs).
    pub fn merge_pairs(&mut self) {
        let buckets = self.n.len().div_ceil(2);
        let c = self.columns;
        for j in 0..buckets {
            let (a, b) = (2 * j, (2 * j + 1).min(self.n.len() - 1));
            self.n[j] = self.n[a] + if b != a { self.n[b] } else { 0 };
            for k in 0..c {
                let (x, y) = (a * c + k, b * c + k);
                self.lo[j * c + k] = self.lo[x].min(self.lo[y]);
                self.hi[j * c + k] = self.hi[x].max(self.hi[y]);
                self.sum[j * c + k] = self.sum[x] + if b != a { self.sum[y] } else { 0.0 };
            }
        }
        self.n.truncate(buckets);
        self.lo.truncate(buckets * c);
        self.hi.truncate(buckets * c);
        self.sum.truncate(buckets * c);
        self.width *= 2;
    }

    /// Adds one row; non-finite values are left out of their column.
    pub fn add(&mut self, t: i64, values: impl IntoIterator<Item = f64>) {
        if t < self.origin {
            return;
        }
        let i = ((t - self.origin) / self.width) as usize;
        if i >= self.n.len() {
            self.n.resize(i + 1, 0);
            self.lo.resize((i + 1) * self.columns, f32::INFINITY);
            self.hi.resize((i + 1) * self.columns, f32::NEG_INFINITY);
            self.sum.resize((i + 1) * self.columns, 0.0);
        }
        self.n[i] += 1;
        for (c, x) in values.into_iter().take(self.columns).enumerate() {
            if x.is_finite() {
                let k = i * self.columns + c;
                self.lo[k] = self.lo[k].min(x as f32);
                self.hi[k] = self.hi[k].max(x as f32);
                self.sum[k] += x;
            }
        }
    }

    /// Time of the last non-empty bucket's end, if any row was added.
    pub fn end(&self) -> Option<i64> {
        let last = self.n.iter().rposition(|&n| n > 0)?;
        Some(self.origin + (last as i64 + 1) * self.width)
    }

    /// Column `c` over `[from, to)`: the buckets that hold at least one finite value.
    pub fn band(&self, c: usize, from: i64, to: i64) -> Band {
        let mut band = Band::default();
        for (i, &n) in self.n.iter().enumerate() {
            let t = self.origin + i as i64 * self.width;
            let k = i * self.columns + c;
            if n == 0 || t < from || t >= to || !self.lo[k].is_finite() {
                continue;
            }
            band.t.push(t);
            band.lo.push(f64::from(self.lo[k]));
            band.hi.push(f64::from(self.hi[k]));
            band.mid.push(self.sum[k] / f64::from(n));
        }
        band
    }
}

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

/// A tick label for a log10 coordinate: the value itself with a few significant digits.
fn log_label(v: f64) -> String {
    let x = 10f64.powf(v);
    if !(0.01..1000.0).contains(&x) {
        format!("{x:.0e}")
    } else if x >= 10.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
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
            let ty = move |v: f64| -> Option<f64> {
                if log_y {
                    (v > 0.0 && v.is_finite()).then(|| v.log10())
                } else {
                    v.is_finite().then_some(v)
                }
            };
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
    fn months_split_at_calendar_boundaries() {
        let start = 1_767_225_600 + 10 * 86_400; // 2026-01-11
        let end = start + 40 * 86_400; // 2026-02-20
        let m = months(start, end);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, start);
        assert_eq!(m[0].2, "2026-01");
        assert_eq!(m[1].0, 1_769_904_000); // 2026-02-01
        assert_eq!(m[1].1, end);
    }

    #[test]
    fn buckets_keep_low_mean_high_per_column() {
        let mut b = Buckets::new(1000, 60, 2);
        for (t, x) in [(1000, 1.0), (1030, 3.0), (1130, 5.0), (900, 99.0)] {
            b.add(t, [x, f64::NAN]);
        }
        let band = b.band(0, 0, i64::MAX);
        assert_eq!(band.t, vec![1000, 1120]);
        assert_eq!(band.lo, vec![1.0, 5.0]);
        assert_eq!(band.mid, vec![2.0, 5.0]);
        assert_eq!(band.hi, vec![3.0, 5.0]);
        assert_eq!(b.end(), Some(1180));
        assert!(
            b.band(1, 0, i64::MAX).t.is_empty(),
            "NaN column has no points"
        );
        assert_eq!(b.band(0, 1060, 2000).t, vec![1120]);
        b.add(1200, [7.0, 0.0]);
        b.merge_pairs();
        let band = b.band(0, 0, i64::MAX);
        assert_eq!(b.width(), 120);
        assert_eq!(band.t, vec![1000, 1120]);
        assert_eq!(band.mid, vec![2.0, 6.0]);
        assert_eq!((band.lo[1], band.hi[1]), (5.0, 7.0));
        assert_eq!(
            b.band(1, 0, i64::MAX).t,
            vec![1120],
            "the 0.0 survives the merge"
        );
    }

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
            panels: vec![
                Panel {
                    title: "cpu".into(),
                    unit: "%".into(),
                    band,
                    y_range: Some((0.0, 100.0)),
                    ..Panel::default()
                },
                Panel {
                    title: "score".into(),
                    points: t
                        .iter()
                        .enumerate()
                        .map(|(i, &t)| (t, 0.01 * (1.0 + i as f64), i % 3))
                        .collect(),
                    point_legend: vec![("cpu".into(), 0), ("ram".into(), 1), ("disk".into(), 2)],
                    hlines: vec![(1.0, "threshold".into())],
                    log_y: true,
                    ..Panel::default()
                },
            ],
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
